/**
 * Stream-mode memory at a given cluster size (issue #20): a fake master serves a synthetic
 * state over the v1 API, mesodns subscribes (`mode: stream`), and the stream is cut `ROUNDS - 1`
 * times so that mesodns subscribes again and reads a whole SUBSCRIBED snapshot each time. The
 * RSS of the mesodns process is sampled every 20 ms: the peak of each subscription (the highest
 * sample from the cut until the subscription's zone settled) is printed with the RSS 4 s after
 * it, the process's VmHWM and the CPU time per re-subscription (utime + stime, all threads).
 * Usage:
 *   npm run build && node --import tsx bench/stream-memory.ts [tasks=100000] [main.js=dist/main.js]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { syntheticState } from '../support/cluster.js';
import { FakeMaster } from '../support/fake-master.js';
import { freePort } from '../support/ports.js';
import { histogram, scrape, value } from './metrics.js';
import { RssPeaks, cpuSeconds, measuredConfig, wholeMB } from './common.js';

const tasks = Number(process.argv[2] ?? 100_000);
const mainJs = process.argv[3] ?? 'dist/main.js';
const ROUNDS = Number(process.env.STREAM_MEMORY_ROUNDS ?? 4);
/** `mesos.stream.resync` (a duration such as `2s`), or the default (10m) when unset. */
const RESYNC = process.env.STREAM_MEMORY_RESYNC;
const SETTLE_MS = 4000;

const master = new FakeMaster(syntheticState({ tasks }), {
  heartbeatSeconds: 1,
  cacheTaskJson: true,
});
await master.start();
const dir = await mkdtemp(join(tmpdir(), 'stream-memory-'));
const config = join(dir, 'mesodns.yaml');
const httpPort = await freePort();
await writeFile(
  config,
  measuredConfig(
    [
      `masters: ["${master.url}"]`,
      'mode: stream',
      'refresh: 5m',
      // A resync soon after each subscription falls in its sampling window: its GET_STATE is
      // as large as the snapshot.
      ...(RESYNC === undefined ? [] : ['stream:', `  resync: ${RESYNC}`]),
    ],
    httpPort,
  ),
);
const proc = spawn(process.execPath, [mainJs, 'serve', '--config', config], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stderr = '';
proc.stderr.on('data', (d: Buffer) => {
  stderr = (stderr + d.toString()).slice(-2000);
});
proc.stdout.resume();
const pid = proc.pid ?? 0;

/**
 * Subscriptions whose snapshot was read (0 while mesodns is not listening yet). The first one
 * counts once its zone is built; a re-subscription to the same master may change no record
 * (and build nothing), so the settling time after it covers its delivery.
 */
async function subscribed(): Promise<number> {
  const metrics = await scrape(httpPort).catch(() => undefined);
  if (metrics === undefined) return 0;
  const subscriptions = value(metrics, 'mesodns_stream_subscriptions_total');
  const builds = histogram(metrics, 'mesodns_zone_build_duration_seconds').count;
  return builds === 0 ? 0 : subscriptions;
}

const rss = new RssPeaks(pid);
const peaks: number[] = [];
const after: number[] = [];
let cpuBefore = 0;
try {
  for (let n = 1; n <= ROUNDS; n++) {
    if (n > 1) master.dropStreams();
    while ((await subscribed()) < n) {
      if (proc.exitCode !== null) throw new Error(`mesodns exited: ${stderr}`);
      await delay(100);
    }
    await delay(SETTLE_MS);
    peaks.push(rss.take());
    after.push(wholeMB(pid, 'VmRSS'));
    if (n === 1) cpuBefore = cpuSeconds(pid);
  }
} finally {
  rss.stop();
}
const cpu = (cpuSeconds(pid) - cpuBefore) / (ROUNDS - 1);
const hwm = wholeMB(pid, 'VmHWM');
proc.kill('SIGTERM');
await master.close();
await rm(dir, { recursive: true, force: true });
console.log(`${mainJs} tasks=${String(tasks)} stream mode, ${String(ROUNDS)} subscriptions`);
console.log(`peak RSS of each subscription (MB): ${peaks.join(' ')}; VmHWM ${String(hwm)} MB`);
console.log(`RSS ${String(SETTLE_MS / 1000)} s after each (MB): ${after.join(' ')}`);
console.log(`CPU per re-subscription (s, all threads, mesodns only): ${cpu.toFixed(2)}`);
