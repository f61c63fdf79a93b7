/** Lint and formatting are part of the suite: the layer rules in eslint.config.js are architecture. */
import { execFile } from 'node:child_process';
import test from 'ava';

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({
        code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1,
        out: stdout + stderr,
      });
    });
  });
}

test('eslint reports no problem', async (t) => {
  const r = await run(process.execPath, ['node_modules/eslint/bin/eslint.js', '.']);
  t.is(r.code, 0, r.out);
});

test('prettier finds every file formatted', async (t) => {
  const r = await run(process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--check', '.']);
  t.is(r.code, 0, r.out);
});
