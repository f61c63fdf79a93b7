/**
 * One cluster size of `npm run bench`, steps 1 to 8 (bench/README.md): the state, the zone
 * export and the query file (`prepareSize`, which the stream section uses too), then mesodns
 * and knot, the sanity check, the throughput rounds, the paced latency runs, the reload run
 * and the forwarded names (`benchSize`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../support/ports.js';
import { syntheticState, writeState } from '../support/cluster.js';
import {
  LATENCY_QPS,
  LATENCY_SECONDS,
  MAIN_JS,
  RELOAD_SECONDS,
  ROUNDS,
  SECONDS,
  SEED,
  SETTLE_AFTER_RELOADS_MS,
  WARMUP_SECONDS,
  fmt,
  median,
  procStatus,
  round,
  runCommand,
  stopChild,
} from './common.js';
import {
  type PerfRun,
  type PreparedSize,
  type QueryMix,
  type Sanity,
  buildQueries,
  collectNames,
  compareServers,
  dnsperf,
  mesodnsConfig,
  perfLine,
  startKnot,
  startMesodns,
  zoneHeader,
} from './dns-load.js';
import { benchForwarded, type ForwardedResult } from './forwarded.js';
import { loadFigures, type LoadFigures } from './metrics.js';
import { benchReload, type ReloadResult } from './reload.js';

/** One throughput round: knot and mesodns back to back. */
export interface RoundResult {
  readonly round: number;
  readonly order: string;
  readonly knot: PerfRun;
  readonly mesodns: PerfRun;
  readonly ratio: number;
}

/** Everything measured for one size (the JSON report holds it as is). */
export interface SizeResult {
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
  /** The first load of mesodns, from its `/metrics`. */
  readonly load: LoadFigures;
  /** Paced latency while the state reloads (undefined with BENCH_RELOAD_SECONDS=0). */
  readonly reload: ReloadResult | undefined;
  /** Forwarded names answered from a warm cache, against knot (issue 4). */
  readonly forwarded: ForwardedResult;
}

/** Generates the state of one size, exports its zone with `mesodns records`, writes the queries. */
export async function prepareSize(tasks: number, root: string): Promise<PreparedSize> {
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
  const mesodnsHttpPort = await freePort();
  const configPath = join(dir, 'mesodns.yaml');
  await writeFile(configPath, mesodnsConfig(statePath, mesodnsPort, mesodnsHttpPort));
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
    mesodnsHttpPort,
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

/** Steps 4 to 8 for one prepared size; stops the servers it started. */
export async function benchSize(p: PreparedSize): Promise<SizeResult> {
  const { tasks, dir, doc, statePath, stateBytes, agents, generateMs, mesodnsPort } = p;
  const { mesodnsHttpPort } = p;
  const { configPath, recordsText, exportMs, names, lines, mix, queryFile, log } = p;

  // mesodns first, alone on the machine, for a clean startup time.
  const start = await startMesodns(configPath, mesodnsPort, names.a[0] ?? 'leader.mesos.');
  const meso = start.server;
  log(
    `mesodns: listening after ${fmt(start.listenMs)} ms, first answer after ` +
      `${fmt(start.firstAnswerMs)} ms, RSS ${fmt(start.rssAtFirstAnswerMB)} MB`,
  );
  const load = await loadFigures(mesodnsHttpPort);
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
    reload = await benchReload(
      meso,
      mesodnsHttpPort,
      dir,
      statePath,
      doc,
      queryFile,
      timeFile,
      log,
    );
    log(
      `reload   ${perfLine(reload.run)}; ${reload.published} zones published from ` +
        `${reload.writes} writes (build mean ${fmt(reload.build.meanMs)} ms, max <= ` +
        `${fmt(reload.build.maxBoundMs)} ms)`,
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
