/**
 * The first load of a synthetic state from a state file: mesodns is started on it and timed to
 * its first zone (`mesodns_zone_build_duration_seconds` counts one), with the read and build times
 * from `/metrics`, the process's peak RSS (VmHWM), its RSS 4 s later and its CPU time (all
 * threads). The state is written in pieces, so that a document longer than V8's longest string
 * (about 1 GB: 1M tasks) can be made. Usage (1M tasks need a large heap for the generator):
 *   node --max-old-space-size=12000 --import tsx bench/first-load.ts [tasks=100000] [main.js=dist/main.js]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticState } from '../support/cluster.js';
import { freePort } from '../support/ports.js';
import { histogram, scrape } from './metrics.js';
import { measuredConfig } from './common.js';

const tasks = Number(process.argv[2] ?? 100_000);
const mainJs = process.argv[3] ?? 'dist/main.js';

/** Writes `doc` as compact JSON, each framework's tasks a thousand at a time. */
async function writeInPieces(path: string, doc: object): Promise<void> {
  const file = await open(path, 'w');
  try {
    let separator = '{';
    for (const [key, value] of Object.entries(doc)) {
      await file.write(`${separator}${JSON.stringify(key)}:`);
      separator = ',';
      if (key !== 'frameworks' || !Array.isArray(value)) {
        await file.write(JSON.stringify(value));
        continue;
      }
      const frameworks: readonly unknown[] = value;
      await file.write('[');
      for (const [i, framework] of frameworks.entries()) {
        const { tasks: list, ...own } = framework as { tasks: readonly unknown[] };
        await file.write(`${i > 0 ? ',' : ''}${JSON.stringify(own).slice(0, -1)},"tasks":[`);
        for (let j = 0; j < list.length; j += 1000) {
          const piece = list.slice(j, j + 1000).map((t) => JSON.stringify(t));
          await file.write(`${j > 0 ? ',' : ''}${piece.join(',')}`);
        }
        await file.write(']}');
      }
      await file.write(']');
    }
    await file.write('}');
  } finally {
    await file.close();
  }
}

async function statusMB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

const dir = await mkdtemp(join(tmpdir(), 'first-load-'));
const stateFile = join(dir, 'state.json');
await writeInPieces(stateFile, syntheticState({ tasks }));
const config = join(dir, 'mesodns.yaml');
const httpPort = await freePort();
await writeFile(config, measuredConfig([`stateFile: ${stateFile}`], httpPort));
const started = Date.now();
const proc = spawn(process.execPath, [mainJs, 'serve', '--config', config], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
proc.stderr.resume();
proc.stdout.resume();
const pid = proc.pid ?? 0;
let line = `${mainJs} tasks=${String(tasks)}: exited before its first zone`;
while (proc.exitCode === null) {
  const metrics = await scrape(httpPort).catch(() => undefined);
  const build =
    metrics === undefined ? undefined : histogram(metrics, 'mesodns_zone_build_duration_seconds');
  if (metrics !== undefined && build !== undefined && build.count >= 1) {
    const fetch = histogram(metrics, 'mesodns_state_fetch_duration_seconds');
    await new Promise((r) => setTimeout(r, 4000));
    const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
    line =
      `${mainJs} tasks=${String(tasks)}: first zone ${((Date.now() - started - 4000) / 1000).toFixed(1)} s ` +
      `after the start (read ${fetch.sum.toFixed(1)} s, build ${build.sum.toFixed(1)} s); ` +
      `peak RSS ${String(await statusMB(pid, 'VmHWM'))} MB, ` +
      `${String(await statusMB(pid, 'VmRSS'))} MB 4 s later; CPU ${cpu.toFixed(1)} s`;
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
proc.kill('SIGTERM');
await rm(dir, { recursive: true, force: true });
console.log(line);
