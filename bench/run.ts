/**
 * `npm run bench`: mesodns against knot on the same synthetic Mesos cluster (bench/README.md).
 *
 * For each cluster size (env `BENCH_SIZES`, default `10000` tasks):
 *  1. generate the state (`support/cluster.ts`) and export it with `dist/main.js records`;
 *  2. build a 100k-line dnsperf query file: 55 % A, 25 % SRV, 10 % AAAA, 10 % nonexistent names;
 *  3. start mesodns on the state file (time to first answer, RSS), then knotd on the exported zone
 *     with mesodns' own SOA and NS, and check that both answer a sample of queries alike;
 *  4. dnsperf `-c 10 -T 1 -q 100 -l 10` against both servers back to back, alternating which goes
 *     first, `BENCH_ROUNDS` rounds (default 3) after a short warm-up; then a paced latency run
 *     (`-Q 20000 -v -l 5`) against both for p50/p99;
 *  5. the stream section (bench/stream.ts): mesodns following a fake master's event stream,
 *     with and without task churn (`BENCH_STREAM_SECONDS`, 0 skips it; `BENCH_ONLY=stream` runs
 *     only this section).
 *
 * Results go to bench/out/ as JSON and markdown. Only 127.0.0.1 is contacted. Every process
 * started here is stopped by pid at the end, on error and on SIGINT/SIGTERM.
 *
 * This module is the driver: the machine figures, the sizes, the scratch directory and the
 * signals. One size is size.ts (with reload.ts and forwarded.ts), the stream section stream.ts,
 * the files and summary lines report.ts.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  KEEP,
  KNOTD,
  MAIN_JS,
  ONLY,
  ROUNDS,
  SECONDS,
  SIZES,
  busyPct,
  cpuTicks,
  machineInfo,
  runCommand,
  stopAll,
} from './common.js';
import { writeReport } from './report.js';
import { benchSize, prepareSize, type SizeResult } from './size.js';
import { benchStream } from './stream.js';
import type { StreamResult } from './stream-report.js';
import { streamSettings } from './stream-settings.js';

/** The scratch directory of the current run, removed at the end (kept with BENCH_KEEP=1). */
let tempRoot: string | undefined;

async function main(): Promise<void> {
  for (const tool of ['/usr/bin/time', '/usr/bin/dnsperf', '/usr/bin/timeout']) {
    if (!existsSync(tool))
      throw new Error(`${tool} is missing (Debian: apt-get install time dnsperf coreutils)`);
  }
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  const date = new Date().toISOString();
  const machine = machineInfo();
  const ticks0 = cpuTicks();
  await delay(1000);
  const ticksStart = cpuTicks();
  machine['busyPctBeforeStart'] = busyPct(ticks0, ticksStart).busy;
  const knotVersion = await runCommand(KNOTD, ['--version']);
  machine['knot'] = knotVersion.stdout.trim().replace(/^knotd \(Knot DNS\), version/, 'knot');
  const perfVersion = await runCommand('/usr/bin/dnsperf', ['-h']);
  machine['dnsperf'] =
    `dnsperf ${/Version ([\d.]+)/.exec(perfVersion.stdout + perfVersion.stderr)?.[1] ?? '?'}`;
  console.log(
    `mesodns bench ${date}: sizes ${SIZES.join(', ')}, ${ROUNDS} rounds of ${SECONDS} s; ` +
      `${String(machine['nproc'])} CPUs ${String(machine['cpuModel'])}, Node ${process.version}, ` +
      `load ${String(machine['loadAvg1AtStart'])}, CPU busy before start ` +
      `${String(machine['busyPctBeforeStart'])} %`,
  );
  const stream = streamSettings();
  const root = await mkdtemp(join(tmpdir(), 'mesodns-bench-'));
  tempRoot = root;
  const results: SizeResult[] = [];
  const streams: StreamResult[] = [];
  let failure: Error | undefined;
  try {
    for (const tasks of SIZES) {
      const prepared = await prepareSize(tasks, root);
      if (ONLY !== 'stream') results.push(await benchSize(prepared));
      if (stream.seconds > 0) streams.push(await benchStream(prepared, stream));
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error('benchmark failed', { cause: error });
  } finally {
    await stopAll();
    if (KEEP) console.log(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
    tempRoot = undefined;
  }
  machine['stealPctDuringRun'] = busyPct(ticksStart, cpuTicks()).steal;
  // Sizes that completed are reported even when a later one failed.
  if (results.length > 0 || streams.length > 0) {
    await writeReport(date, machine, results, streams, stream);
  }
  if (failure !== undefined) throw failure;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    void stopAll().finally(() => {
      if (tempRoot !== undefined && !KEEP) rmSync(tempRoot, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  await stopAll();
  process.exitCode = 1;
});
