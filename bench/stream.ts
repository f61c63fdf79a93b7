/**
 * The stream section of `npm run bench` (issue #8): mesodns in stream mode under task churn.
 *
 * For one cluster size (bench/README.md, "Stream mode"):
 *  1. an in-process `FakeMaster` (support/fake-master.ts, 127.0.0.1 only) serves the
 *     synthetic cluster of that size (the document run.ts generated, support/cluster.ts) over the
 *     v1 operator API; mesodns (`dist/main.js`, `mesos.mode: stream`, `/metrics` on, info log,
 *     no forwarding) subscribes to it and is timed to its first answer; 50 task names computed
 *     here must answer before anything is measured;
 *  2. warm-ups: dnsperf without events, then with events (the first updates after a snapshot
 *     build the incremental engine's indexes: reported on their own);
 *  3. `BENCH_ROUNDS` rounds, each a dnsperf run (`-c 10 -T 1 -q 100`, `BENCH_STREAM_SECONDS`)
 *     with no events (static) and one while the event generator runs (events), back to back,
 *     alternating which goes first. The generator launches tasks (TASK_ADDED + TASK_UPDATED: 2
 *     events) and kills tasks (TASK_UPDATED: 1 event), alternately, at
 *     `BENCH_STREAM_EVENTS_PER_SECOND`, on the apps of the synthetic cluster, so the task count
 *     stays constant and every update touches an existing app (see `EventGenerator` for why it
 *     sends the fake master's events itself);
 *  4. propagation, from outside: every 5th launch and every 5th kill is followed by a UDP probe
 *     that asks for the task's own name (`<task>-<hash>-<agent>.<framework>.mesos.`) every 10 ms
 *     until it answers with the new address (launch) or NXDOMAIN (kill); and from inside: the
 *     `mesodns_stream_propagation_seconds` histogram of `/metrics`, before and after the rounds;
 *  5. from `/metrics`, scraped before and after each run: the incremental updates
 *     (`mesodns_zone_update_duration_seconds`, names and task changes per update, names served
 *     from changesets) and full builds (`mesodns_zone_build_duration_seconds`, and why updates
 *     fell back to them); the RSS of mesodns after the run; per run, the CPU time of mesodns'
 *     main thread and of its other threads, and the CPU time and event-loop delay of this
 *     process (fake master, generator, probes). The log is copied to `mesodns-stream.log` in
 *     the scratch directory, and its warnings and errors reported.
 *
 * The parts are in stream-*.ts (settings, task names, probes, generator, metrics and log,
 * results and report); the helpers shared with the other sections come from common.ts,
 * dns-load.ts and metrics.ts. run.ts calls `benchStream` per size.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeMaster } from '../support/fake-master.js';
import { freePort } from '../support/ports.js';
import {
  HOST,
  ROUNDS,
  WARMUP_SECONDS,
  busyPct,
  cpuTicks,
  fmt,
  median,
  procStatus,
  round,
  stopChild,
  threadCpu,
  type Server,
} from './common.js';
import { dnsperf, perfLine, startMesodns, type PerfRun, type PreparedSize } from './dns-load.js';
import { histogramDelta, loadFigures } from './metrics.js';
import { EventGenerator, type GeneratorCounts } from './stream-events.js';
import { LogCopy, readStreamMetrics, type StreamMetrics } from './stream-metrics.js';
import { Prober, answers, summarize } from './stream-probe.js';
import {
  streamSummary,
  type StreamResult,
  type StreamRound,
  type StreamRun,
} from './stream-report.js';
import type { StreamSettings } from './stream-settings.js';

/** The first answer of a stream-mode mesodns at 100k tasks takes tens of seconds on 2 cores. */
const START_TIMEOUT_MS = 600_000;
/** Original tasks whose computed names are checked before the runs. */
const NAME_CHECKS = 50;
/** Pause after the last probe of an events run before the next run starts. */
const SETTLE_MS = 500;

function streamConfig(masterUrl: string, dnsPort: number, httpPort: number): string {
  return [
    'domain: mesos',
    'mesos:',
    `  masters: [${JSON.stringify(masterUrl)}]`,
    '  mode: stream',
    // The same TTLs as the other sections' mesodns (they cost nothing to serve).
    'records:',
    '  ttl: 3600',
    'dns:',
    `  listen: ${HOST}:${String(dnsPort)}`,
    '  soa: { minimum: 3600 }',
    'http:',
    '  enabled: true',
    `  listen: ${HOST}:${String(httpPort)}`,
    'forward:',
    '  enabled: false',
    '',
  ].join('\n');
}

/**
 * Runs the stream section for one size (see the module comment): starts a fake master and a
 * stream-mode mesodns, runs the rounds, and stops both.
 */
export async function benchStream(
  prep: PreparedSize,
  settings: StreamSettings,
): Promise<StreamResult> {
  const { tasks, dir, queryFile, log } = prep;
  const ticks0 = cpuTicks();
  await delay(1000);
  const ticksStart = cpuTicks();
  const loadAvgAtStart = loadavg().map((x) => round(x, 2));
  log(
    `stream: load average ${loadAvgAtStart.join(' ')}, CPU busy ` +
      `${fmt(busyPct(ticks0, ticksStart).busy)} % before the section`,
  );
  // The size's document, as generated (the other sections leave it so); the generator's
  // launches and kills change it: this section is its last user.
  const doc = prep.doc;
  const master = new FakeMaster(doc);
  await master.start();
  let server: Server | undefined;
  let prober: Prober | undefined;
  try {
    const dnsPort = await freePort();
    const httpPort = await freePort();
    const configPath = join(dir, 'mesodns-stream.yaml');
    await writeFile(configPath, streamConfig(master.url, dnsPort, httpPort));
    const logCopy = new LogCopy();
    const start = await startMesodns(
      configPath,
      dnsPort,
      prep.names.a[0] ?? 'leader.mesos.',
      START_TIMEOUT_MS,
    );
    server = start.server;
    logCopy.attach(server, join(dir, 'mesodns-stream.log'));
    const firstLoad = await loadFigures(httpPort);
    log(
      `stream: mesodns first answer after ${fmt(start.firstAnswerMs)} ms (snapshot of ${tasks} ` +
        `tasks over SUBSCRIBE; read and parsed in ${fmt(firstLoad.parseMs)} ms, zone built in ` +
        `${fmt(firstLoad.buildMs)} ms), RSS ` +
        `${fmt(start.rssAtFirstAnswerMB)} MB`,
    );

    prober = new Prober(dnsPort, settings);
    const generator = new EventGenerator(master, doc, prober, settings);
    const checks = generator.sample(NAME_CHECKS);
    let answered = 0;
    for (const task of checks) if (await answers(dnsPort, task.fqdn)) answered++;
    log(
      `stream: ${answered}/${checks.length} computed task names of the cluster answer; bench ` +
        `heap ${fmt(process.memoryUsage().heapUsed / 2 ** 20)} MB`,
    );
    if (answered < checks.length) {
      throw new Error(
        `stream bench: computed task names do not match mesodns' (e.g. ${checks[0]?.fqdn ?? ''})`,
      );
    }

    const timeFile = join(dir, 'time-stream.out');
    const warmup = await dnsperf(server, queryFile, WARMUP_SECONDS, [], timeFile);
    log(`stream warm-up ${perfLine(warmup)}`);

    const measure = async (withEvents: boolean, seconds: number): Promise<StreamRun> => {
      const target = server;
      const probes = prober;
      if (target === undefined || probes === undefined) throw new Error('stream bench: no server');
      const metrics0 = await readStreamMetrics(httpPort);
      const threads0 = threadCpu(target.pid);
      const bench0 = process.cpuUsage();
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const t0 = performance.now();
      if (withEvents) generator.start();
      let perf: PerfRun;
      let counts: GeneratorCounts | undefined;
      try {
        perf = await dnsperf(target, queryFile, seconds, [], timeFile);
      } finally {
        if (withEvents) counts = generator.stop();
      }
      const wall = (performance.now() - t0) / 1000;
      const threads1 = threadCpu(target.pid);
      const bench = process.cpuUsage(bench0);
      loop.disable();
      // Let the last batch apply and every probe finish before the next run.
      await probes.idle();
      await delay(SETTLE_MS);
      const metrics1 = await readStreamMetrics(httpPort);
      const mainSeconds = threads1.main - threads0.main;
      return {
        perf,
        mainThreadCpuPct: round((mainSeconds / wall) * 100),
        mainUsPerQuery: round((mainSeconds / perf.completed) * 1e6, 2),
        otherThreadsCpuPct: round(((threads1.other - threads0.other) / wall) * 100),
        benchCpuPct: round(((bench.user + bench.system) / 1e6 / wall) * 100),
        benchLoopDelayP99Ms: round(loop.percentile(99) / 1e6),
        benchLoopDelayMaxMs: round(loop.max / 1e6),
        ...(counts === undefined ? {} : { generator: counts }),
        zoneUpdates: metrics1.updates.count - metrics0.updates.count,
        fullBuilds: metrics1.builds.count - metrics0.builds.count,
        changedNamesAtStart: metrics0.changedNames,
      };
    };
    const line = (name: string, run: StreamRun): string =>
      `${perfLine({ ...run.perf, server: name })}; mesodns main ${fmt(run.mainThreadCpuPct)} % ` +
      `(${fmt(run.mainUsPerQuery, 1)} µs/q) ` +
      `other ${fmt(run.otherThreadsCpuPct)} %, bench ${fmt(run.benchCpuPct)} % (loop delay p99 ` +
      `${fmt(run.benchLoopDelayP99Ms)} ms, max ${fmt(run.benchLoopDelayMaxMs)} ms)` +
      (run.generator === undefined
        ? ''
        : `; ${String(run.generator.events)} events (${String(run.generator.launches)} launches, ` +
          `${String(run.generator.kills)} kills), ${String(run.zoneUpdates)} zone updates, ` +
          `${String(run.fullBuilds)} full builds`);

    // The first updates after a snapshot are not like the others (the incremental engine builds
    // its indexes on first use): an events warm-up takes them, reported on its own.
    const metrics0 = await readStreamMetrics(httpPort);
    const warmupEvents = await measure(true, WARMUP_SECONDS);
    log(`stream warm-up ${line('events', warmupEvents)}`);
    const before = await readStreamMetrics(httpPort);
    const warmupResults = [...prober.results];

    const probesAtStart = prober.results.length;
    const notesAtStart = logCopy.notes.length;
    const rounds: StreamRound[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 === 1 ? ['static', 'events'] : ['events', 'static'];
      const runs = new Map<string, StreamRun>();
      for (const kind of order) {
        const run = await measure(kind === 'events', settings.seconds);
        runs.set(kind, run);
        log(`stream round ${r} ${line(kind, run)}`);
      }
      const s = runs.get('static');
      const e = runs.get('events');
      if (s === undefined || e === undefined) throw new Error('missing run');
      rounds.push({
        round: r,
        order: order.join(' then '),
        static: s,
        events: e,
        ratio: e.perf.qps / s.perf.qps,
      });
      log(`stream round ${r} ratio events/static ${fmt(e.perf.qps / s.perf.qps, 2)}`);
    }
    const after = await readStreamMetrics(httpPort);
    const results = prober.close().slice(probesAtStart);
    prober = undefined;
    const rssAfterMB = procStatus(server.pid, 'VmRSS') ?? Number.NaN;
    const rssPeakMB = procStatus(server.pid, 'VmHWM') ?? Number.NaN;

    const updates = histogramDelta(before.updates, after.updates);
    const sum = (x: Readonly<Record<string, number>>): number =>
      Object.entries(x)
        .filter(([type]) => type !== 'HEARTBEAT')
        .reduce((n, [, v]) => n + v, 0);
    /** What a counter with a label counted over the rounds, by label value. */
    const delta = (
      x: (m: StreamMetrics) => Readonly<Record<string, number>>,
    ): Record<string, number> =>
      Object.fromEntries(Object.entries(x(after)).map(([k, v]) => [k, v - (x(before)[k] ?? 0)]));
    /** What a counter counted over the rounds, per incremental update. */
    const perUpdate = (x: (m: StreamMetrics) => number): number =>
      round((x(after) - x(before)) / updates.count, 1);
    const gens = rounds.flatMap((x) =>
      x.events.generator === undefined ? [] : [x.events.generator],
    );
    const staticQps = median(rounds.map((x) => x.static.perf.qps));
    const eventsQps = median(rounds.map((x) => x.events.perf.qps));
    const result: StreamResult = {
      tasks,
      eventsPerSecond: settings.eventsPerSecond,
      seconds: settings.seconds,
      loadAvgAtStart,
      loadAvgAtEnd: loadavg().map((x) => round(x, 2)),
      busyPctBefore: busyPct(ticks0, ticksStart).busy,
      stealPct: busyPct(ticksStart, cpuTicks()).steal,
      startup: {
        firstAnswerMs: round(start.firstAnswerMs),
        rssAtFirstAnswerMB: round(start.rssAtFirstAnswerMB),
        fetchMs: firstLoad.parseMs,
        buildMs: firstLoad.buildMs,
      },
      nameCheck: { checked: checks.length, answered },
      warmup,
      warmupEvents: {
        run: warmupEvents,
        updates: histogramDelta(metrics0.updates, before.updates),
        launch: summarize(warmupResults, 'launch'),
        kill: summarize(warmupResults, 'kill'),
        histogram: histogramDelta(metrics0.propagation, before.propagation),
      },
      rounds,
      medians: {
        staticQps: round(staticQps),
        eventsQps: round(eventsQps),
        ratio: round(eventsQps / staticQps, 3),
        ratioOfRounds: round(median(rounds.map((x) => x.ratio)), 3),
        staticCpuUsPerQuery: round(median(rounds.map((x) => x.static.perf.cpuUsPerQuery)), 2),
        staticMainUsPerQuery: round(median(rounds.map((x) => x.static.mainUsPerQuery)), 2),
        eventsMainUsPerQuery: round(median(rounds.map((x) => x.events.mainUsPerQuery)), 2),
        eventsCpuUsPerQuery: round(median(rounds.map((x) => x.events.perf.cpuUsPerQuery)), 2),
      },
      propagation: {
        launch: summarize(results, 'launch'),
        kill: summarize(results, 'kill'),
        histogram: histogramDelta(before.propagation, after.propagation),
      },
      events: {
        launches: gens.reduce((n, g) => n + g.launches, 0),
        kills: gens.reduce((n, g) => n + g.kills, 0),
        sent: gens.reduce((n, g) => n + g.events, 0),
        received: sum(after.events) - sum(before.events),
      },
      updates: {
        durations: updates,
        namesPerUpdate: perUpdate((m) => m.updateNames),
        taskChangesPerUpdate: perUpdate((m) => m.updateTaskChanges),
        changedNamesAtEnd: after.changedNames,
        fullBuilds: histogramDelta(before.builds, after.builds),
        fallbacks: delta((m) => m.fallbacks),
        subscriptions: after.subscriptions,
        notes: logCopy.notes.slice(notesAtStart, notesAtStart + 10),
      },
      rssAfterMB: round(rssAfterMB),
      rssPeakMB: round(rssPeakMB),
    };
    log(streamSummary(result));
    return result;
  } finally {
    prober?.close();
    if (server !== undefined) await stopChild(server.child);
    await master.close();
  }
}
