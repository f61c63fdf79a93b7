/**
 * A `SliceVisitor` that rebuilds the document it reads (src/json-slices.ts), for the tests that
 * compare what the slicer reads with `JSON.parse`, or two scanners with each other.
 */
import { COLLECT } from '../src/json-slices.js';
import type { SliceVisitor } from '../src/json-slices.js';

/** Where a rebuilt value goes. */
export type Container = Record<string, unknown> | unknown[];

/** A visitor that rebuilds everything into `into`, descending into containers down to `depth`. */
export function rebuild(into: Container, depth: number): SliceVisitor {
  return {
    enter: (key, kind) => {
      if (kind === 'scalar' || depth === 0) return COLLECT;
      const child: Container = kind === 'array' ? [] : {};
      set(into, key, child);
      return rebuild(child, depth - 1);
    },
    value: (key, value) => {
      set(into, key, value);
    },
  };
}

function set(into: Container, key: string | number, value: unknown): void {
  if (Array.isArray(into)) into.push(value);
  else into[String(key)] = value;
}
