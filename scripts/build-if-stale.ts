// `npm start`: builds dist/ only when a build input changed since the last successful build, so
// that a second start serves at once. The stamp holds the time the last good build started: an
// input edited while the build ran is newer than it and triggers the next build. Directories count
// with their own mtime, so a file added, removed or renamed triggers a build too.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-stamp';
const INPUTS = [
  'src',
  'tsconfig.json',
  'package.json',
  'config/mesodns.schema.json',
  'scripts/build.ts',
];

/** The newest mtime (ms) under `path`, 0 when it does not exist. */
function newest(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  let time = st.mtimeMs;
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) time = Math.max(time, newest(join(path, name)));
  }
  return time;
}

const stamp = statSync(STAMP, { throwIfNoEntry: false })?.mtimeMs;
if (stamp !== undefined && INPUTS.every((input) => newest(input) < stamp)) process.exit(0);

const started = new Date();
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const build = spawnSync(npm, ['run', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
writeFileSync(STAMP, `built from the sources as of ${started.toISOString()}\n`);
utimesSync(STAMP, started, started);
