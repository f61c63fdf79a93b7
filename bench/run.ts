/**
 * `npm run bench`: mesodns against knot on the same synthetic Mesos cluster (bench/README.md).
 *
 * For each cluster size (env `BENCH_SIZES`, default `10000` tasks):
 *  1. generate the state (`bench/cluster.ts`) and export it with `dist/main.js records`;
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
 */
import { existsSync, rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../test/helpers/ports.js';
import { syntheticState, writeState, type MasterState, type StateTask } from './cluster.js';
import { benchStream } from './stream.js';
import { streamMarkdown, streamSummary, type StreamResult } from './stream-report.js';
import { streamSettings, type StreamSettings } from './stream-settings.js';
import {
  HOST,
  KEEP,
  KNOTD,
  LATENCY_QPS,
  LATENCY_SECONDS,
  LOAD_ARGS,
  MAIN_JS,
  ONLY,
  OUT_DIR,
  RELOAD_PERIOD_MS,
  RELOAD_SECONDS,
  ROUNDS,
  SECONDS,
  SEED,
  SETTLE_AFTER_RELOADS_MS,
  SIZES,
  type Server,
  WARMUP_SECONDS,
  busyPct,
  cpuTicks,
  fmt,
  machineInfo,
  median,
  procStatus,
  round,
  runCommand,
  spawnServer,
  stopAll,
  stopChild,
} from './common.js';
import {
  type PerfRun,
  type PreparedSize,
  type QueryMix,
  type Sanity,
  ask,
  buildQueries,
  collectNames,
  compareServers,
  dnsperf,
  mesodnsConfig,
  num,
  perfLine,
  startKnot,
  startMesodns,
  waitUntil,
  zoneHeader,
} from './dns-load.js';

/** The scratch directory of the current run, removed at the end (kept with BENCH_KEEP=1). */
let tempRoot: string | undefined;

// ---------------------------------------------------------------------------------------------
// Forwarded names with a warm cache (issue 4).

/**
 * A second mesodns whose domain is not `mesos.`: it forwards every name of the query file to
 * knot, and caches the answers (room for all of them).
 */
function forwardingConfig(stateFile: string, port: number, upstreamPort: number): string {
  return [
    'domain: forwarded.invalid',
    'mesos:',
    `  stateFile: ${JSON.stringify(stateFile)}`,
    'dns:',
    `  listen: ${HOST}:${port}`,
    'http:',
    '  enabled: false',
    'forward:',
    `  resolvers: ["${HOST}:${upstreamPort}"]`,
    '  timeout: 2s',
    '  maxConcurrent: 10000',
    '  cache: { maxEntries: 1000000, maxBytes: 1073741824 }',
    'log:',
    '  level: warn',
    '',
  ].join('\n');
}

interface ForwardedRound {
  readonly round: number;
  readonly order: string;
  readonly knot: PerfRun;
  readonly forwarded: PerfRun;
  readonly ratio: number;
}

interface ForwardedResult {
  /** One pass through the query file: every answer goes from knot into the cache. */
  readonly fill: PerfRun;
  /** Cached forwarded answers compared with knot's own. */
  readonly sanity: Sanity;
  readonly rounds: ForwardedRound[];
  readonly medians: {
    knotQps: number;
    forwardedQps: number;
    ratio: number;
    ratioOfRounds: number;
    knotCpuUsPerQuery: number;
    forwardedCpuUsPerQuery: number;
  };
}

/** knot against a mesodns that answers the same names from its forwarding cache, back to back. */
async function benchForwarded(
  dir: string,
  statePath: string,
  lines: readonly string[],
  queryFile: string,
  knot: Server,
  probeName: string,
  log: (s: string) => void,
): Promise<ForwardedResult> {
  const port = await freePort();
  const configPath = join(dir, 'mesodns-forward.yaml');
  await writeFile(configPath, forwardingConfig(statePath, port, knot.port));
  const fwd = spawnServer('forwarded', port, process.execPath, [
    MAIN_JS,
    'serve',
    '--config',
    configPath,
  ]);
  try {
    await waitUntil('first forwarded answer', fwd, 120_000, async () => {
      return (await ask(port, probeName, 'A'))?.rcode === 0;
    });
    const timeFile = join(dir, 'time-forward.out');
    const fill = await dnsperf(fwd, queryFile, 120, ['-n', '1'], timeFile);
    log(`forward fill ${perfLine(fill)}`);
    const sanity = await compareServers(lines, knot.port, port);
    log(`forward sanity: ${sanity.agree}/${sanity.sampled} cached answers alike knot's`);
    for (const m of sanity.mismatches) log(`  mismatch: ${m}`);
    const rounds: ForwardedRound[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 === 1 ? [knot, fwd] : [fwd, knot];
      const runs = new Map<string, PerfRun>();
      for (const server of order) {
        const run = await dnsperf(server, queryFile, SECONDS, [], timeFile);
        runs.set(server.name, run);
        log(`forward round ${r} ${perfLine(run)}`);
      }
      const k = runs.get('knot');
      const f = runs.get('forwarded');
      if (k === undefined || f === undefined) throw new Error('missing run');
      rounds.push({
        round: r,
        order: order.map((x) => x.name).join(' then '),
        knot: k,
        forwarded: f,
        ratio: f.qps / k.qps,
      });
      log(`forward round ${r} ratio forwarded/knot ${fmt(f.qps / k.qps, 2)}`);
    }
    const knotQps = median(rounds.map((x) => x.knot.qps));
    const forwardedQps = median(rounds.map((x) => x.forwarded.qps));
    return {
      fill,
      sanity,
      rounds,
      medians: {
        knotQps: round(knotQps),
        forwardedQps: round(forwardedQps),
        ratio: round(forwardedQps / knotQps, 3),
        ratioOfRounds: round(median(rounds.map((x) => x.ratio)), 3),
        knotCpuUsPerQuery: round(median(rounds.map((x) => x.knot.cpuUsPerQuery)), 2),
        forwardedCpuUsPerQuery: round(median(rounds.map((x) => x.forwarded.cpuUsPerQuery)), 2),
      },
    };
  } finally {
    await stopChild(fwd.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Load figures from mesodns's debug log, and latency while the state reloads.

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
interface LoadFigures {
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

async function loadFigures(server: Server): Promise<LoadFigures> {
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
interface ReloadResult {
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
async function benchReload(
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

// ---------------------------------------------------------------------------------------------
// One cluster size.

interface RoundResult {
  readonly round: number;
  readonly order: string;
  readonly knot: PerfRun;
  readonly mesodns: PerfRun;
  readonly ratio: number;
}

interface SizeResult {
  readonly tasks: number;
  readonly agents: number;
  readonly stateBytes: number;
  readonly generateMs: number;
  readonly exportMs: number;
  readonly zone: { lines: number; counts: Record<string, number>; names: Record<string, number> };
  readonly queryMix: QueryMix;
  readonly mesodns: {
    listenMs: number;
    firstAnswerMs: number;
    rssAtFirstAnswerMB: number;
    rssAfterLoadMB: number;
    rssPeakMB: number;
    rssAfterBenchMB: number;
  };
  readonly knot: { loadMs: number; rssMB: number };
  readonly sanity: Sanity;
  readonly warmup: PerfRun[];
  readonly rounds: RoundResult[];
  readonly medians: {
    knotQps: number;
    mesodnsQps: number;
    ratio: number;
    ratioOfRounds: number;
    knotCpuUsPerQuery: number;
    mesodnsCpuUsPerQuery: number;
  };
  readonly latency: { knot: PerfRun; mesodns: PerfRun };
  /** The first load of mesodns, from its log. */
  readonly load: LoadFigures;
  /** Paced latency while the state reloads (undefined with BENCH_RELOAD_SECONDS=0). */
  readonly reload: ReloadResult | undefined;
  /** Forwarded names answered from a warm cache, against knot (issue 4). */
  readonly forwarded: ForwardedResult;
}

/** Generates the state of one size, exports its zone with `mesodns records`, writes the queries. */
async function prepareSize(tasks: number, root: string): Promise<PreparedSize> {
  const dir = join(root, `t${tasks}`);
  await mkdir(dir, { recursive: true });
  const log = (s: string): void => {
    console.log(`[${tasks}] ${s}`);
  };

  const t = performance.now();
  const doc = syntheticState({ tasks, seed: SEED });
  const statePath = join(dir, 'state.json');
  const stateBytes = await writeState(statePath, doc);
  const generateMs = performance.now() - t;
  const agents = doc.slaves.length;
  log(`state: ${agents} agents, ${fmt(stateBytes / 2 ** 20, 1)} MB JSON in ${fmt(generateMs)} ms`);

  const mesodnsPort = await freePort();
  const configPath = join(dir, 'mesodns.yaml');
  await writeFile(configPath, mesodnsConfig(statePath, mesodnsPort));
  const recordsPath = join(dir, 'records.txt');
  const exported = await runCommand(
    process.execPath,
    [MAIN_JS, 'records', '--state', statePath, '--config', configPath],
    recordsPath,
  );
  if (exported.code !== 0) throw new Error(`mesodns records failed:\n${exported.stderr}`);
  const exportMs = exported.ms;
  const recordsText = await readFile(recordsPath, 'utf8');
  const names = collectNames(recordsText);
  log(
    `zone: ${names.lines} records (${Object.entries(names.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}), exported in ${fmt(exportMs)} ms`,
  );
  if (names.a.length === 0 || names.srv.length === 0) throw new Error('zone has no A or SRV names');

  const { lines, mix } = buildQueries(names, SEED + tasks);
  const queryFile = join(dir, 'queries.txt');
  await writeFile(queryFile, lines.join('\n') + '\n');
  return {
    tasks,
    dir,
    doc,
    statePath,
    stateBytes,
    agents,
    generateMs,
    mesodnsPort,
    configPath,
    recordsText,
    exportMs,
    names,
    lines,
    mix,
    queryFile,
    log,
  };
}

async function benchSize(p: PreparedSize): Promise<SizeResult> {
  const { tasks, dir, doc, statePath, stateBytes, agents, generateMs, mesodnsPort } = p;
  const { configPath, recordsText, exportMs, names, lines, mix, queryFile, log } = p;

  // mesodns first, alone on the machine, for a clean startup time.
  const start = await startMesodns(configPath, mesodnsPort, names.a[0] ?? 'leader.mesos.');
  const meso = start.server;
  log(
    `mesodns: listening after ${fmt(start.listenMs)} ms, first answer after ` +
      `${fmt(start.firstAnswerMs)} ms, RSS ${fmt(start.rssAtFirstAnswerMB)} MB`,
  );
  const load = await loadFigures(meso);
  log(
    `mesodns load: state read and parsed in ${fmt(load.parseMs)} ms, zone built in ` +
      `${fmt(load.buildMs)} ms; heap: main ${fmt(load.mainHeapUsedMB)} MB, pipeline worker ` +
      `${fmt(load.workerHeapUsedMB)} MB used (${fmt(load.workerHeapTotalMB)} MB total)`,
  );
  await delay(2000);
  const rssAfterLoadMB = procStatus(meso.pid, 'VmRSS') ?? Number.NaN;

  await writeFile(join(dir, 'mesos.zone'), (await zoneHeader(mesodnsPort)) + recordsText);
  const knotStart = await startKnot(dir);
  const knot = knotStart.server;
  const knotRss = procStatus(knot.pid, 'VmRSS') ?? Number.NaN;
  log(`knot: zone loaded in ${fmt(knotStart.loadMs)} ms, RSS ${fmt(knotRss)} MB`);

  const sanity = await compareServers(lines, knot.port, meso.port);
  log(
    `sanity: ${sanity.agree}/${sanity.sampled} sampled queries answered alike ` +
      `(${sanity.truncatedBoth} truncated by both, ${sanity.tcOnlyOne} with TC from one server only)`,
  );
  for (const m of sanity.mismatches) log(`  mismatch: ${m}`);
  for (const m of sanity.tcExamples) log(`  TC from one only: ${m}`);

  const timeFile = join(dir, 'time.out');
  const warmup: PerfRun[] = [];
  for (const server of [knot, meso]) {
    const run = await dnsperf(server, queryFile, WARMUP_SECONDS, [], timeFile);
    warmup.push(run);
    log(`warm-up  ${perfLine(run)}`);
  }

  const rounds: RoundResult[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const order = r % 2 === 1 ? [knot, meso] : [meso, knot];
    const runs = new Map<string, PerfRun>();
    for (const server of order) {
      const run = await dnsperf(server, queryFile, SECONDS, [], timeFile);
      runs.set(server.name, run);
      log(`round ${r} ${perfLine(run)}`);
    }
    const k = runs.get('knot');
    const m = runs.get('mesodns');
    if (k === undefined || m === undefined) throw new Error('missing run');
    rounds.push({
      round: r,
      order: order.map((s) => s.name).join(' then '),
      knot: k,
      mesodns: m,
      ratio: m.qps / k.qps,
    });
    log(`round ${r} ratio mesodns/knot ${fmt(m.qps / k.qps, 2)}`);
  }

  const pacedArgs = ['-Q', String(LATENCY_QPS), '-v'];
  const latencyKnot = await dnsperf(knot, queryFile, LATENCY_SECONDS, pacedArgs, timeFile);
  log(`paced    ${perfLine(latencyKnot)}`);
  const latencyMeso = await dnsperf(meso, queryFile, LATENCY_SECONDS, pacedArgs, timeFile);
  log(`paced    ${perfLine(latencyMeso)}`);
  let reload: ReloadResult | undefined;
  if (RELOAD_SECONDS > 0) {
    reload = await benchReload(meso, dir, statePath, doc, queryFile, timeFile, log);
    log(
      `reload   ${perfLine(reload.run)}; ${reload.published} zones published from ` +
        `${reload.writes} writes (build ${reload.buildMs.map((x) => fmt(x)).join(', ')} ms)`,
    );
  }

  // A reload may still be loading when the paced run ends (one takes about 5 s at 100k tasks):
  // the resident size after the runs is read once it has finished and given its memory back.
  if (reload !== undefined) await delay(SETTLE_AFTER_RELOADS_MS);
  const rssAfterBenchMB = procStatus(meso.pid, 'VmRSS') ?? Number.NaN;
  const rssPeakMB = procStatus(meso.pid, 'VmHWM') ?? Number.NaN;
  await stopChild(meso.child);
  const forwarded = await benchForwarded(
    dir,
    statePath,
    lines,
    queryFile,
    knot,
    names.a[0] ?? 'leader.mesos.',
    log,
  );
  await stopChild(knot.child);

  const knotQps = median(rounds.map((x) => x.knot.qps));
  const mesodnsQps = median(rounds.map((x) => x.mesodns.qps));
  return {
    tasks,
    agents,
    stateBytes,
    generateMs: round(generateMs),
    exportMs: round(exportMs),
    zone: {
      lines: names.lines,
      counts: names.counts,
      names: { A: names.a.length, AAAA: names.aaaa.length, SRV: names.srv.length },
    },
    queryMix: mix,
    mesodns: {
      listenMs: round(start.listenMs),
      firstAnswerMs: round(start.firstAnswerMs),
      rssAtFirstAnswerMB: round(start.rssAtFirstAnswerMB),
      rssAfterLoadMB: round(rssAfterLoadMB),
      rssPeakMB: round(rssPeakMB),
      rssAfterBenchMB: round(rssAfterBenchMB),
    },
    knot: { loadMs: round(knotStart.loadMs), rssMB: round(knotRss) },
    sanity,
    warmup,
    rounds,
    medians: {
      knotQps: round(knotQps),
      mesodnsQps: round(mesodnsQps),
      ratio: round(mesodnsQps / knotQps, 3),
      ratioOfRounds: round(median(rounds.map((x) => x.ratio)), 3),
      knotCpuUsPerQuery: round(median(rounds.map((x) => x.knot.cpuUsPerQuery)), 2),
      mesodnsCpuUsPerQuery: round(median(rounds.map((x) => x.mesodns.cpuUsPerQuery)), 2),
    },
    latency: { knot: latencyKnot, mesodns: latencyMeso },
    load,
    reload,
    forwarded,
  };
}

// ---------------------------------------------------------------------------------------------
// Report.

function markdown(
  date: string,
  machine: Record<string, string | number>,
  results: readonly SizeResult[],
): string {
  const out: string[] = [
    `# mesodns benchmark, ${date}`,
    '',
    `Machine: ${String(machine['nproc'])} CPUs (${String(machine['cpuModel'])}), ` +
      `${String(machine['memTotalMB'])} MB RAM, Linux ${String(machine['kernel'])}, ` +
      `Node ${String(machine['node'])}, ${String(machine['knot'])}, ${String(machine['dnsperf'])}; ` +
      `load average at start ${String(machine['loadAvg1AtStart'])}; CPU busy in the second ` +
      `before the start ${String(machine['busyPctBeforeStart'])} %, ` +
      `steal during the run ${String(machine['stealPctDuringRun'])} %` +
      (Number(machine['busyPctBeforeStart']) > 10
        ? ' (other work was running: expect noisy figures, compare within a round).'
        : '.'),
    '',
    `dnsperf \`${LOAD_ARGS.join(' ')} -l ${SECONDS}\`, ${ROUNDS} rounds alternating which server ` +
      `goes first, after a ${WARMUP_SECONDS} s warm-up of each; paced latency run ` +
      `\`-Q ${LATENCY_QPS} -v -l ${LATENCY_SECONDS}\`. Query mix: 55 % A, 25 % SRV, 10 % AAAA, ` +
      '10 % nonexistent; 100k lines, names drawn uniformly from the distinct owners of the ' +
      'exported zone. knot 3.2 with 2 UDP workers serves the same records (exported with ' +
      '`mesodns records`) with the same SOA.',
    '',
  ];
  for (const r of results) {
    out.push(
      `## ${r.tasks} tasks`,
      '',
      `${r.agents} agents, state ${fmt(r.stateBytes / 2 ** 20, 1)} MB; zone ${r.zone.lines} records ` +
        `(${Object.entries(r.zone.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(
            ', ',
          )}); distinct names A ${r.zone.names['A'] ?? 0}, SRV ${r.zone.names['SRV'] ?? 0}, ` +
        `AAAA ${r.zone.names['AAAA'] ?? 0}. Sanity: ${r.sanity.agree}/${r.sanity.sampled} sampled ` +
        `queries answered alike by both servers (same RCODE and answers; ${r.sanity.tcOnlyOne} of ` +
        'them with TC set by only one server).',
      '',
      '| round | order | knot QPS | mesodns QPS | ratio | knot µs CPU/q | mesodns µs CPU/q | mesodns avg latency |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...r.rounds.map(
        (x) =>
          `| ${x.round} | ${x.order} | ${fmt(x.knot.qps)} | ${fmt(x.mesodns.qps)} | ${fmt(x.ratio, 2)} | ` +
          `${fmt(x.knot.cpuUsPerQuery, 1)} | ${fmt(x.mesodns.cpuUsPerQuery, 1)} | ${fmt(x.mesodns.avgLatencyMs, 2)} ms |`,
      ),
      `| **median** | | **${fmt(r.medians.knotQps)}** | **${fmt(r.medians.mesodnsQps)}** | ` +
        `**${fmt(r.medians.ratio, 2)}** | ${fmt(r.medians.knotCpuUsPerQuery, 1)} | ` +
        `${fmt(r.medians.mesodnsCpuUsPerQuery, 1)} | |`,
      '',
      `Ratio mesodns/knot: ${fmt(r.medians.ratio, 2)} from the median QPS, ` +
        `${fmt(r.medians.ratioOfRounds, 2)} as the median of the per-round ratios. ` +
        `CPU per query ratio: ${fmt(r.medians.mesodnsCpuUsPerQuery / r.medians.knotCpuUsPerQuery, 1)}x.`,
      '',
      ...r.rounds
        .slice(0, 1)
        .flatMap((x) => [
          `Response codes (round 1): knot ${x.knot.rcodes}; mesodns ${x.mesodns.rcodes}. ` +
            `Average response size: knot ${fmt(x.knot.responseBytes)} B, mesodns ` +
            `${fmt(x.mesodns.responseBytes)} B.`,
          '',
        ]),
      `Paced at ${LATENCY_QPS} qps: knot p50 ${fmt(r.latency.knot.p50Ms ?? Number.NaN, 3)} ms / ` +
        `p99 ${fmt(r.latency.knot.p99Ms ?? Number.NaN, 3)} ms; mesodns p50 ` +
        `${fmt(r.latency.mesodns.p50Ms ?? Number.NaN, 3)} ms / p99 ` +
        `${fmt(r.latency.mesodns.p99Ms ?? Number.NaN, 3)} ms ` +
        `(server CPU knot ${fmt(r.latency.knot.serverCpuPct)} %, mesodns ${fmt(r.latency.mesodns.serverCpuPct)} %).`,
      '',
      ...reloadLines(r),
      `### Forwarded names, warm cache`,
      '',
      'A second mesodns with another domain forwards the same query file to knot; one pass ' +
        `through the file fills its cache (${fmt(r.forwarded.fill.qps)} qps while filling), then ` +
        `it answers from the cache. Sanity: ${r.forwarded.sanity.agree}/${r.forwarded.sanity.sampled} ` +
        "sampled cached answers alike knot's.",
      '',
      '| round | order | knot QPS | forwarded QPS | ratio | knot µs CPU/q | forwarded µs CPU/q |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...r.forwarded.rounds.map(
        (x) =>
          `| ${x.round} | ${x.order} | ${fmt(x.knot.qps)} | ${fmt(x.forwarded.qps)} | ` +
          `${fmt(x.ratio, 2)} | ${fmt(x.knot.cpuUsPerQuery, 1)} | ${fmt(x.forwarded.cpuUsPerQuery, 1)} |`,
      ),
      `| **median** | | **${fmt(r.forwarded.medians.knotQps)}** | ` +
        `**${fmt(r.forwarded.medians.forwardedQps)}** | **${fmt(r.forwarded.medians.ratio, 2)}** | ` +
        `${fmt(r.forwarded.medians.knotCpuUsPerQuery, 1)} | ` +
        `${fmt(r.forwarded.medians.forwardedCpuUsPerQuery, 1)} |`,
      '',
      `Ratio forwarded/knot: ${fmt(r.forwarded.medians.ratio, 2)} from the median QPS, ` +
        `${fmt(r.forwarded.medians.ratioOfRounds, 2)} as the median of the per-round ratios ` +
        '(issue 4 asks for at least 0.5).',
      '',
      `mesodns first load (from its log): state read, parsed and validated in ` +
        `${fmt(r.load.parseMs)} ms, then records and zone built in ${fmt(r.load.buildMs)} ms ` +
        `(issue #6: at most 1500 ms); heap after the load: main thread ${fmt(r.load.mainHeapUsedMB)} MB, ` +
        `pipeline worker ${fmt(r.load.workerHeapUsedMB)} MB used of ${fmt(r.load.workerHeapTotalMB)} MB.`,
      '',
      `mesodns startup: listening after ${fmt(r.mesodns.listenMs)} ms, first answer after ` +
        `${fmt(r.mesodns.firstAnswerMs)} ms; RSS ${fmt(r.mesodns.rssAtFirstAnswerMB)} MB at first ` +
        `answer, ${fmt(r.mesodns.rssAfterLoadMB)} MB 2 s later, ${fmt(r.mesodns.rssAfterBenchMB)} MB ` +
        `after the runs (${r.reload === undefined ? '' : '8 s after the reloads; '}peak ${fmt(r.mesodns.rssPeakMB)} MB). knot: zone loaded in ` +
        `${fmt(r.knot.loadMs)} ms, RSS ${fmt(r.knot.rssMB)} MB. State generated in ${fmt(r.generateMs)} ms, ` +
        `exported by \`mesodns records\` in ${fmt(r.exportMs)} ms.`,
      '',
    );
  }
  return out.join('\n');
}

/** The markdown paragraph of the reload run. */
function reloadLines(r: SizeResult): string[] {
  const x = r.reload;
  if (x === undefined) return [];
  const list = (values: readonly number[]): string =>
    values.length === 0 ? 'none' : values.map((v) => fmt(v)).join(', ');
  return [
    `Paced at ${LATENCY_QPS} qps for ${x.seconds} s while the state file is replaced every ` +
      `${RELOAD_PERIOD_MS / 1000} s (the original and a version with 1 % of the tasks killed, ` +
      `alternately): mesodns p50 ${fmt(x.run.p50Ms ?? Number.NaN, 3)} ms / p99 ` +
      `${fmt(x.run.p99Ms ?? Number.NaN, 3)} ms / p99.9 ${fmt(x.run.p999Ms ?? Number.NaN, 3)} ms, ` +
      `${fmt(x.run.lost)} lost (issue #6: p99 at most 5 ms). ${x.published} zones published ` +
      `from ${x.writes} writes; parse ${list(x.parseMs)} ms; build ${list(x.buildMs)} ms; ` +
      `server CPU ${fmt(x.run.serverCpuPct)} %; peak RSS ${fmt(x.rssPeakMB)} MB.`,
    '',
  ];
}

// ---------------------------------------------------------------------------------------------
// Main.

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

async function writeReport(
  date: string,
  machine: Record<string, string | number>,
  results: readonly SizeResult[],
  streams: readonly StreamResult[],
  stream: StreamSettings,
): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  const report = {
    date,
    machine,
    settings: {
      sizes: SIZES,
      rounds: ROUNDS,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      latencySeconds: LATENCY_SECONDS,
      latencyQps: LATENCY_QPS,
      dnsperfArgs: LOAD_ARGS.join(' '),
      seed: SEED,
      only: ONLY === '' ? undefined : ONLY,
      stream,
    },
    results,
    stream: streams,
  };
  const md = [markdown(date, machine, results), ...streamMarkdown(streams)].join('\n');
  await writeFile(join(OUT_DIR, `bench-${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(OUT_DIR, `bench-${stamp}.md`), md);
  await writeFile(join(OUT_DIR, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(OUT_DIR, 'latest.md'), md);

  console.log('');
  for (const r of results) {
    console.log(
      `${r.tasks} tasks: knot ${fmt(r.medians.knotQps)} qps, mesodns ${fmt(r.medians.mesodnsQps)} qps ` +
        `(median of ${ROUNDS}), ratio ${fmt(r.medians.ratio, 2)} (median of round ratios ` +
        `${fmt(r.medians.ratioOfRounds, 2)}), CPU/query ${fmt(r.medians.knotCpuUsPerQuery, 1)} vs ` +
        `${fmt(r.medians.mesodnsCpuUsPerQuery, 1)} µs; paced p50/p99 knot ` +
        `${fmt(r.latency.knot.p50Ms ?? Number.NaN, 3)}/${fmt(r.latency.knot.p99Ms ?? Number.NaN, 3)} ms, ` +
        `mesodns ${fmt(r.latency.mesodns.p50Ms ?? Number.NaN, 3)}/` +
        `${fmt(r.latency.mesodns.p99Ms ?? Number.NaN, 3)} ms; first answer ` +
        `${fmt(r.mesodns.firstAnswerMs)} ms, RSS ${fmt(r.mesodns.rssAfterLoadMB)} MB; ` +
        `load: parse ${fmt(r.load.parseMs)} ms, build ${fmt(r.load.buildMs)} ms` +
        (r.reload === undefined
          ? ''
          : `; while reloading every ${RELOAD_PERIOD_MS / 1000} s: p99 ` +
            `${fmt(r.reload.run.p99Ms ?? Number.NaN, 3)} ms (${r.reload.published} reloads)`),
    );
    console.log(
      `${r.tasks} tasks, forwarded names from a warm cache: knot ` +
        `${fmt(r.forwarded.medians.knotQps)} qps, forwarded ${fmt(r.forwarded.medians.forwardedQps)} ` +
        `qps, ratio ${fmt(r.forwarded.medians.ratio, 2)} (median of round ratios ` +
        `${fmt(r.forwarded.medians.ratioOfRounds, 2)})`,
    );
  }
  for (const r of streams) console.log(streamSummary(r));
  console.log(`results: ${join(OUT_DIR, `bench-${stamp}.md`)} (and .json)`);
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
