/**
 * Poll-mode memory at a given cluster size: a fake master serves a synthetic state, mesodns
 * polls it every `REFRESH` and the RSS of the mesodns process is read after each of `LOADS`
 * loads has settled (VmRSS from /proc). The RSS is also sampled every 20 ms throughout: the
 * peak of each load (the highest sample since the previous load settled) and the process's
 * VmHWM are printed, with the CPU time of the process (utime + stime, all threads). Usage:
 *   node --import tsx bench/poll-memory.ts [tasks=100000] [main.js=dist/main.js]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticState } from '../support/cluster.js';
import { FakeMaster } from '../support/fake-master.js';
import { freePort } from '../support/ports.js';
import { histogram, scrape } from './metrics.js';
import { RssPeaks, cpuSeconds, measuredConfig, wholeMB } from './common.js';

const tasks = Number(process.argv[2] ?? 100_000);
const mainJs = process.argv[3] ?? 'dist/main.js';
const LOADS = 6;

const master = new FakeMaster(syntheticState({ tasks }));
await master.start();
const dir = await mkdtemp(join(tmpdir(), 'poll-memory-'));
const config = join(dir, 'mesodns.yaml');
const httpPort = await freePort();
await writeFile(
  config,
  measuredConfig([`masters: ["${master.url}"]`, 'mode: poll', 'refresh: 5s'], httpPort),
);
const proc = spawn(process.execPath, [mainJs, 'serve', '--config', config], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
proc.stderr.resume();
proc.stdout.resume();
/** Loads published so far (0 while mesodns is not listening yet). */
const loads = async (): Promise<number> =>
  histogram(await scrape(httpPort), 'mesodns_zone_build_duration_seconds').count;
const pid = proc.pid ?? 0;
const rss = new RssPeaks(pid);
const samples: number[] = [];
const peaks: number[] = [];
let cpuBefore = 0;
for (let n = 1; n <= LOADS; n++) {
  while ((await loads().catch(() => 0)) < n) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 2500));
  samples.push(wholeMB(pid, 'VmRSS'));
  peaks.push(rss.take());
  if (n === 1) cpuBefore = cpuSeconds(pid);
}
rss.stop();
const cpuPerLoad = (cpuSeconds(pid) - cpuBefore) / (LOADS - 1);
const hwm = wholeMB(pid, 'VmHWM');
proc.kill('SIGTERM');
await master.close();
await rm(dir, { recursive: true, force: true });
console.log(`${mainJs} tasks=${String(tasks)} RSS after each load (MB): ${samples.join(' ')}`);
console.log(`peak RSS of each load (MB): ${peaks.join(' ')}; VmHWM ${String(hwm)} MB`);
console.log(`CPU per load after the first (s, all threads): ${cpuPerLoad.toFixed(2)}`);
