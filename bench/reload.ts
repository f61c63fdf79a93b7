/**
 * The paced latency run while mesodns' state file is replaced, step 7 of `npm run bench`
 * (bench/README.md); the loads it causes are counted and timed from `/metrics` (metrics.ts).
 */
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { writeState, type MasterState, type StateTask } from '../support/cluster.js';
import {
  LATENCY_QPS,
  RELOAD_PERIOD_MS,
  RELOAD_SECONDS,
  type Server,
  procStatus,
} from './common.js';
import { type PerfRun, dnsperf } from './dns-load.js';
import { histogram, histogramDelta, scrape, type HistogramDelta } from './metrics.js';

/** Latency while the state is rewritten every `RELOAD_PERIOD_MS`. */
export interface ReloadResult {
  readonly run: PerfRun;
  readonly seconds: number;
  /** State files written (alternately the original and one with 1 % of the tasks killed). */
  readonly writes: number;
  /** Zones published during the run (`mesodns_zone_build_duration_seconds`). */
  readonly published: number;
  /** Their build and parse times (`mesodns_state_fetch_duration_seconds`). */
  readonly build: HistogramDelta;
  readonly parse: HistogramDelta;
  readonly rssPeakMB: number;
}

/**
 * Kills 1 % of the running tasks (every 100th), so that the alternate state differs from the
 * original by a realistic amount of churn. Mutates `doc`; returns the tasks it killed.
 */
function churn(doc: MasterState): StateTask[] {
  let i = 0;
  const killed: StateTask[] = [];
  for (const fw of doc.frameworks) {
    for (const task of fw.tasks) {
      if (task.state !== 'TASK_RUNNING') continue;
      if (i++ % 100 === 0) {
        task.state = 'TASK_KILLED';
        killed.push(task);
      }
    }
  }
  return killed;
}

/**
 * The paced latency run (`-Q LATENCY_QPS -v`) against mesodns while its state file is replaced
 * (write and rename) every `RELOAD_PERIOD_MS`, alternating two versions: every reload parses
 * and compiles a new zone. The original state is back in place at the end.
 */
export async function benchReload(
  server: Server,
  httpPort: number,
  dir: string,
  statePath: string,
  doc: MasterState,
  queryFile: string,
  timeFile: string,
  log: (s: string) => void,
): Promise<ReloadResult> {
  const original = join(dir, 'state-a.json');
  const changed = join(dir, 'state-b.json');
  await copyFile(statePath, original);
  const killed = churn(doc);
  await writeState(changed, doc);
  // The document is the original again (the stream section serves it).
  for (const task of killed) task.state = 'TASK_RUNNING';
  log(
    `reload: alternate state with ${killed.length} tasks killed; rewriting every ` +
      `${RELOAD_PERIOD_MS} ms`,
  );
  const before = await scrape(httpPort);
  const tmp = join(dir, 'state.tmp');
  let writes = 0;
  let writing = Promise.resolve();
  const write = (): void => {
    const from = writes % 2 === 0 ? changed : original;
    writes++;
    writing = writing.then(async () => {
      await copyFile(from, tmp);
      await rename(tmp, statePath);
    });
  };
  write();
  const timer = setInterval(write, RELOAD_PERIOD_MS);
  let run: PerfRun;
  try {
    run = await dnsperf(
      server,
      queryFile,
      RELOAD_SECONDS,
      ['-Q', String(LATENCY_QPS), '-v'],
      timeFile,
    );
  } finally {
    clearInterval(timer);
    await writing;
  }
  const after = await scrape(httpPort);
  const delta = (s: string): HistogramDelta =>
    histogramDelta(histogram(before, s), histogram(after, s));
  const build = delta('mesodns_zone_build_duration_seconds');
  const result: ReloadResult = {
    run,
    seconds: RELOAD_SECONDS,
    writes,
    published: build.count,
    build,
    parse: delta('mesodns_state_fetch_duration_seconds'),
    rssPeakMB: procStatus(server.pid, 'VmHWM') ?? Number.NaN,
  };
  // Put the original state back (the forwarding run reads it too) and let it load.
  if (writes % 2 === 1) {
    await copyFile(original, tmp);
    await rename(tmp, statePath);
    await delay(1500);
  }
  return result;
}
