/**
 * ava's `test` with every title prefixed by a label, for test files that run together in one
 * ava worker (scripts/test-groups.ts): a grouped file imports this module as
 * `titled-test.js?journal` instead of `ava`, and its tests keep the titles they have when the
 * file runs alone (`dns › journal › ...`, ava giving the group file's `dns`). The label is the
 * module's query string: each grouped file gets a module instance of its own. Grouped files use
 * `test(title, fn)` only (no hooks, `serial`, `skip` or macros: those files run alone).
 */
import test from 'ava';
import type { TestFn } from 'ava';

const label = decodeURIComponent(new URL(import.meta.url).search.slice(1));
const run = test as unknown as (title: string, ...rest: unknown[]) => void;

const titled = (title: string, ...rest: unknown[]): void => {
  run(label === '' ? title : `${label} › ${title}`, ...rest);
};

export default titled as unknown as TestFn;
