import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { REPO_ROOT } from '../../support/paths.js';
import { trimMallocArenas } from '../../src/pipeline/trim.js';

const TRIM_JS = join(REPO_ROOT, 'dist', 'build', 'trim.js');

test('the addon is built on Linux and trimming returns whether memory was released', (t) => {
  if (process.platform !== 'linux') {
    t.is(trimMallocArenas(), undefined);
    return;
  }
  t.not(trimMallocArenas(), undefined, 'build/Release/mem_trim.node is loaded');
});

/**
 * In a fresh process (RSS is per process; other test files share this one): 200 MB of 64 KB
 * arrays (C heap, under the mmap threshold) are freed while a small array allocated after them
 * keeps the arena from shrinking at its top, as a load's long-lived results do. The freed memory
 * stays resident until the arenas are trimmed.
 */
const SCRIPT = `
const { trimMallocArenas } = await import(process.argv[1]);
const mb = () => Math.round(process.memoryUsage.rss() / 2 ** 20);
let chunks = [];
for (let i = 0; i < 3200; i++) chunks.push(new Uint8Array(65536).fill(1));
const pin = new Uint8Array(4096).fill(1);
chunks = undefined;
for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); }
const before = mb();
const released = trimMallocArenas();
const after = mb();
console.log(JSON.stringify({ before, after, released, pin: pin.length }));
`;

test('after a load-sized churn of the C heap, trimming gives the free memory back', async (t) => {
  if (process.platform !== 'linux' || !existsSync(TRIM_JS)) {
    t.pass('Linux and dist/ only');
    return;
  }
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--expose-gc',
    '--input-type=module',
    '-e',
    SCRIPT,
    TRIM_JS,
  ]);
  const r = JSON.parse(stdout) as { before: number; after: number; released: boolean };
  t.log(`RSS ${String(r.before)} MB -> ${String(r.after)} MB`);
  t.true(r.released);
  t.true(r.before - r.after >= 100, `released ${String(r.before - r.after)} MB of ~200`);
});
