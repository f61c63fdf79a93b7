/**
 * mesodns' state loads, in steps 4 and 7 of `npm run bench` (bench/README.md): the first load's
 * figures from its debug log, and the paced latency run while the state file is replaced. Both
 * read the same log lines (`pipeline worker: load done`, `zone published`).
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
import { type PerfRun, dnsperf, num } from './dns-load.js';

/** A numeric `field=value` of the last log line containing `message`, or NaN. */
function logField(logs: string, message: string, field: string): number {
  const lines = logs.split('\n').filter((l) => l.includes(message));
  const line = lines[lines.length - 1] ?? '';
  return num(line, new RegExp(`\\b${field}=(\\d+(?:\\.\\d+)?)`));
}

/** Every numeric `field=value` of the log lines containing `message`, in order. */
function logFields(logs: string, message: string, field: string): number[] {
  return logs
    .split('\n')
    .filter((l) => l.includes(message))
    .map((l) => num(l, new RegExp(`\\b${field}=(\\d+(?:\\.\\d+)?)`)))
    .filter((x) => Number.isFinite(x));
}

/** How a state load went, from the pipeline's log lines. */
export interface LoadFigures {
  /** Read, JSON parse and validation of the state in the pipeline worker. */
  readonly parseMs: number;
  /** From the parsed state to the compiled zone (host lookups, records, zone). */
  readonly buildMs: number;
  /** Main thread heap after the zone was installed. */
  readonly mainHeapUsedMB: number;
  /** Pipeline worker heap after the load's garbage was collected. */
  readonly workerHeapUsedMB: number;
  readonly workerHeapTotalMB: number;
}

/** Waits for the first load to finish (at most 15 s) and reads its figures from the log. */
export async function loadFigures(server: Server): Promise<LoadFigures> {
  const deadline = Date.now() + 15_000;
  while (!server.logs().includes('pipeline worker: load done') && Date.now() < deadline) {
    await delay(50);
  }
  const logs = server.logs();
  return {
    parseMs: logField(logs, 'pipeline worker: load done', 'fetchMs'),
    buildMs: logField(logs, 'zone published', 'buildMs'),
    mainHeapUsedMB: logField(logs, 'zone installed', 'mainHeapUsedMB'),
    workerHeapUsedMB: logField(logs, 'pipeline worker: load done', 'workerHeapUsedMB'),
    workerHeapTotalMB: logField(logs, 'pipeline worker: load done', 'workerHeapTotalMB'),
  };
}

/** Latency while the state is rewritten every `RELOAD_PERIOD_MS`. */
export interface ReloadResult {
  readonly run: PerfRun;
  readonly seconds: number;
  /** State files written (alternately the original and one with 1 % of the tasks killed). */
  readonly writes: number;
  /** Zones published during the run, and their build and parse times. */
  readonly published: number;
  readonly buildMs: number[];
  readonly parseMs: number[];
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
  // Log lines start with their ISO timestamp: the run's lines are those from now on.
  const since = new Date().toISOString();
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
  const logs = server
    .logs()
    .split('\n')
    .filter((l) => l.slice(0, since.length) >= since)
    .join('\n');
  const result: ReloadResult = {
    run,
    seconds: RELOAD_SECONDS,
    writes,
    published: logFields(logs, 'zone published', 'buildMs').length,
    buildMs: logFields(logs, 'zone published', 'buildMs'),
    parseMs: logFields(logs, 'pipeline worker: load done', 'fetchMs'),
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
