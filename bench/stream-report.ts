/**
 * The results of the stream section (bench/stream.ts) and their rendering: one console line
 * per size and the markdown section of the report (run.ts writes both files). The result types
 * live here, not in stream.ts, because stream.ts prints the summary line: the report must not
 * import the section back.
 */
import { fmt } from './common.js';
import type { PerfRun } from './dns-load.js';
import type { HistogramDelta } from './metrics.js';
import type { GeneratorCounts } from './stream-events.js';
import type { LatencySummary } from './stream-probe.js';

/** One dnsperf run of the section, with the CPU split and what the generator sent. */
export interface StreamRun {
  readonly perf: PerfRun;
  /** mesodns main thread (DNS serving, update installs), % of one core. */
  readonly mainThreadCpuPct: number;
  /** mesodns main thread CPU per completed query, µs (steadier than QPS under contention). */
  readonly mainUsPerQuery: number;
  /** mesodns other threads (pipeline worker: events and incremental builds; GC, libuv). */
  readonly otherThreadsCpuPct: number;
  /** This process: fake master, event generator, probes. */
  readonly benchCpuPct: number;
  /**
   * Event-loop delay of this process (p99, max): how late the generator and the probes could
   * run. Large values (GC of the fake master's state) make both the events and the probes late.
   */
  readonly benchLoopDelayP99Ms: number;
  readonly benchLoopDelayMaxMs: number;
  /** Events run only. */
  readonly generator?: GeneratorCounts;
  /**
   * Incremental updates and full builds during the run (and until its probes finished), from
   * `/metrics`.
   */
  readonly zoneUpdates: number;
  readonly fullBuilds: number;
  /**
   * Names changesets replaced since the last full build when the run started: every query looks
   * there first, so a static run after an events run is not quite the pristine zone.
   */
  readonly changedNamesAtStart: number;
}

/** One round: a static run and an events run, back to back. */
export interface StreamRound {
  readonly round: number;
  readonly order: string;
  readonly static: StreamRun;
  readonly events: StreamRun;
  readonly ratio: number;
}

/** Everything the stream section measured for one size. */
export interface StreamResult {
  readonly tasks: number;
  readonly eventsPerSecond: number;
  readonly seconds: number;
  readonly loadAvgAtStart: readonly number[];
  readonly loadAvgAtEnd: readonly number[];
  /** CPU busy (% of the machine) in the second before the section started. */
  readonly busyPctBefore: number;
  /** Steal time (% of the machine) during the section. */
  readonly stealPct: number;
  readonly startup: {
    /** From spawn to the first NOERROR answer (SUBSCRIBED snapshot built and served). */
    readonly firstAnswerMs: number;
    readonly rssAtFirstAnswerMB: number;
    /** The first load (`/metrics`): SUBSCRIBED read and parsed, zone built. */
    readonly fetchMs: number;
    readonly buildMs: number;
  };
  /** Computed task names of original tasks that answered before the runs (of `NAME_CHECKS`, stream.ts). */
  readonly nameCheck: { readonly checked: number; readonly answered: number };
  readonly warmup: PerfRun;
  /** The events warm-up right after the snapshot (not part of the rounds' figures). */
  readonly warmupEvents: {
    readonly run: StreamRun;
    /**
     * Its incremental updates (`mesodns_zone_update_duration_seconds`), the first after the
     * snapshot, which also build the incremental engine's indexes.
     */
    readonly updates: HistogramDelta;
    readonly launch: LatencySummary;
    readonly kill: LatencySummary;
    readonly histogram: HistogramDelta;
  };
  readonly rounds: StreamRound[];
  readonly medians: {
    readonly staticQps: number;
    readonly eventsQps: number;
    readonly ratio: number;
    readonly ratioOfRounds: number;
    readonly staticCpuUsPerQuery: number;
    readonly eventsCpuUsPerQuery: number;
    readonly staticMainUsPerQuery: number;
    readonly eventsMainUsPerQuery: number;
  };
  readonly propagation: {
    readonly launch: LatencySummary;
    readonly kill: LatencySummary;
    /** mesodns' own `mesodns_stream_propagation_seconds`, over the rounds. */
    readonly histogram: HistogramDelta;
  };
  readonly events: {
    readonly launches: number;
    readonly kills: number;
    readonly sent: number;
    /** Events mesodns counted (`mesodns_stream_events_total`, heartbeats left out). */
    readonly received: number;
  };
  /** The zone over the rounds, from `/metrics`. */
  readonly updates: {
    /** The incremental updates: their count and times in the worker. */
    readonly durations: HistogramDelta;
    /** Names replaced and task changes applied, on average per update. */
    readonly namesPerUpdate: number;
    readonly taskChangesPerUpdate: number;
    /** Names served from changesets at the end (`mesodns_zone_changed_names`). */
    readonly changedNamesAtEnd: number;
    /** Full builds: their count and build times. */
    readonly fullBuilds: HistogramDelta;
    /** Batches applied by a full build instead of an update, by reason. */
    readonly fallbacks: Readonly<Record<string, number>>;
    readonly subscriptions: number;
    /** Warnings and errors from the log (first few). */
    readonly notes: readonly string[];
  };
  readonly rssAfterMB: number;
  readonly rssPeakMB: number;
}

/** One console line with the section's main figures. */
export function streamSummary(r: StreamResult): string {
  const p = r.propagation;
  return (
    `${String(r.tasks)} tasks, stream mode at ${String(r.eventsPerSecond)} events/s: static ` +
    `${fmt(r.medians.staticQps)} qps, with events ${fmt(r.medians.eventsQps)} qps, ratio ` +
    `${fmt(r.medians.ratio, 2)} (median of round ratios ${fmt(r.medians.ratioOfRounds, 2)}; ` +
    `target >= 0.9); propagation p50/p99/max: launch ${fmt(p.launch.p50Ms)}/` +
    `${fmt(p.launch.p99Ms)}/${fmt(p.launch.maxMs)} ms, kill ${fmt(p.kill.p50Ms)}/` +
    `${fmt(p.kill.p99Ms)}/${fmt(p.kill.maxMs)} ms, metric p99 ~${fmt(p.histogram.p99Ms)} ms ` +
    `(target < 1000); ${String(r.updates.durations.count)} zone updates, ` +
    `${String(r.updates.fullBuilds.count)} ` +
    `full builds; RSS ${fmt(r.rssAfterMB)} MB; load ${r.loadAvgAtStart.join(' ')} -> ` +
    r.loadAvgAtEnd.join(' ')
  );
}

/** The markdown section of the stream results (empty when the section did not run). */
export function streamMarkdown(results: readonly StreamResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const p = r.propagation;
    const h = p.histogram;
    const u = r.updates;
    const w = r.warmupEvents;
    const latency = (name: string, s: LatencySummary): string =>
      `| ${name} | ${String(s.probes)} | ${fmt(s.p50Ms)} | ${fmt(s.p99Ms)} | ${fmt(s.maxMs)} | ` +
      `${fmt(s.within1sPct, 1)} % | ${String(s.timedOut)} |`;
    const times = (h: HistogramDelta): string =>
      `mean ${fmt(h.meanMs, 2)} ms, p50 ~${fmt(h.p50Ms, 2)}, p99 ~${fmt(h.p99Ms, 2)}, ` +
      `max <= ${fmt(h.maxBoundMs, 1)}`;
    const fallbacks = Object.entries(u.fallbacks)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${String(n)}`);
    const main = (run: StreamRun): string =>
      `${fmt(run.mainThreadCpuPct)} % (${fmt(run.mainUsPerQuery, 1)})`;
    const loopDelay = (run: StreamRun): string =>
      `${fmt(run.benchLoopDelayP99Ms)} / ${fmt(run.benchLoopDelayMaxMs)} ms`;
    out.push(
      `## Stream mode, ${String(r.tasks)} tasks`,
      '',
      'mesodns in stream mode subscribed to an in-process fake master serving the same cluster ' +
        `(first answer after ${fmt(r.startup.firstAnswerMs)} ms; snapshot read and parsed in ` +
        `${fmt(r.startup.fetchMs)} ms, zone built in ${fmt(r.startup.buildMs)} ms). Each round ` +
        `runs dnsperf \`-c 10 -T 1 -q 100 -l ${String(r.seconds)}\` without events (static) and ` +
        'while tasks of existing apps are launched (TASK_ADDED + TASK_UPDATED) and killed ' +
        `(TASK_UPDATED) at ${String(r.eventsPerSecond)} events/s (events), order alternating. ` +
        `Load average ${r.loadAvgAtStart.join(' ')} at the start, ${r.loadAvgAtEnd.join(' ')} ` +
        `at the end; CPU busy ${fmt(r.busyPctBefore)} % in the second before; steal ` +
        `${fmt(r.stealPct)} %.`,
      '',
      '| round | order | static QPS | events QPS | ratio | µs CPU/q static / events | ' +
        'main thread CPU (µs/q) static / events | other threads static / events | ' +
        'bench CPU, loop delay p99 / max (events) | events sent | zone updates | ' +
        'changed names in the static run |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...r.rounds.map(
        (x) =>
          `| ${String(x.round)} | ${x.order} | ${fmt(x.static.perf.qps)} | ` +
          `${fmt(x.events.perf.qps)} | ${fmt(x.ratio, 2)} | ` +
          `${fmt(x.static.perf.cpuUsPerQuery, 1)} / ${fmt(x.events.perf.cpuUsPerQuery, 1)} | ` +
          `${main(x.static)} / ${main(x.events)} | ` +
          `${fmt(x.static.otherThreadsCpuPct)} % / ${fmt(x.events.otherThreadsCpuPct)} % | ` +
          `${fmt(x.events.benchCpuPct)} %, ${loopDelay(x.events)} | ` +
          `${String(x.events.generator?.events ?? 0)} | ${String(x.events.zoneUpdates)} | ` +
          `${String(x.static.changedNamesAtStart)} |`,
      ),
      `| **median** | | **${fmt(r.medians.staticQps)}** | **${fmt(r.medians.eventsQps)}** | ` +
        `**${fmt(r.medians.ratio, 2)}** | ${fmt(r.medians.staticCpuUsPerQuery, 1)} / ` +
        `${fmt(r.medians.eventsCpuUsPerQuery, 1)} | (${fmt(r.medians.staticMainUsPerQuery, 1)}) / ` +
        `(${fmt(r.medians.eventsMainUsPerQuery, 1)}) | | | | | |`,
      '',
      `Ratio events/static: ${fmt(r.medians.ratio, 2)} from the median QPS, ` +
        `${fmt(r.medians.ratioOfRounds, 2)} as the median of the per-round ratios (issue #8: at ` +
        `least 0.9). CPU is in % of one core. mesodns' main thread serves DNS and installs the ` +
        'updates (its CPU per query is the cost of serving, whatever else runs); its other ' +
        'threads are mostly the pipeline worker (events, incremental builds) and GC helpers. ' +
        '"bench CPU" is this process (fake master, generator, probes): during the events runs it ' +
        'competes with mesodns and dnsperf for the same cores, and its event-loop delay says how ' +
        'late events and probes could be. A static run after an events run serves a zone with ' +
        'names changesets replaced, which every query looks up first.',
      '',
      'Propagation measured from outside (a probe asks for the task name every 10 ms from the ' +
        'launch or kill until the new address, or NXDOMAIN, is served; every 5th launch and ' +
        'kill; a probe that timed out counts as slower than any answer):',
      '',
      '| change | probes | p50 ms | p99 ms | max ms | within 1 s | timed out (10 s) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      latency('launch', p.launch),
      latency('kill', p.kill),
      '',
      `mesodns' own \`mesodns_stream_propagation_seconds\` over the rounds: ${String(h.count)} ` +
        `observations, mean ${fmt(h.meanMs)} ms, p50 ~${fmt(h.p50Ms)} ms, p99 ~${fmt(h.p99Ms)} ms ` +
        `(bucket estimates), ${fmt(h.within1sPct, 1)} % within 1 s. Issue #8: p99 under 1 s.`,
      '',
      `Events warm-up (${fmt(w.run.generator?.seconds ?? Number.NaN)} s of events right after ` +
        'the snapshot, before the rounds, not in the figures above): ' +
        `${String(w.run.generator?.events ?? 0)} events, ${String(w.run.zoneUpdates)} zone ` +
        `updates (${times(w.updates)} ms in the worker); propagation p50/p99/max: launch ` +
        `${fmt(w.launch.p50Ms)}/` +
        `${fmt(w.launch.p99Ms)}/${fmt(w.launch.maxMs)} ms, kill ${fmt(w.kill.p50Ms)}/` +
        `${fmt(w.kill.p99Ms)}/${fmt(w.kill.maxMs)} ms (${String(w.launch.timedOut + w.kill.timedOut)} ` +
        `timed out); metric p99 ~${fmt(w.histogram.p99Ms)} ms.`,
      '',
      `Events: ${String(r.events.sent)} sent in the rounds (${String(r.events.launches)} ` +
        `launches, ${String(r.events.kills)} kills), ${String(r.events.received)} counted by ` +
        `mesodns. ${String(u.durations.count)} incremental zone updates (in the worker: ` +
        `${times(u.durations)} ms; on average ${fmt(u.namesPerUpdate, 1)} names and ` +
        `${fmt(u.taskChangesPerUpdate, 1)} task changes per update; ` +
        `${String(u.changedNamesAtEnd)} names replaced by changesets at the end), ` +
        `${String(u.fullBuilds.count)} full builds during the rounds` +
        (u.fullBuilds.count === 0 ? '' : ` (mean ${fmt(u.fullBuilds.meanMs)} ms)`) +
        (fallbacks.length === 0 ? '' : `, after updates fell back: ${fallbacks.join(', ')}`) +
        `, ${String(u.subscriptions)} subscription(s). RSS of mesodns ` +
        `${fmt(r.startup.rssAtFirstAnswerMB)} MB at the first answer, ${fmt(r.rssAfterMB)} MB ` +
        `after the runs (peak ${fmt(r.rssPeakMB)} MB).`,
      '',
      ...(u.notes.length === 0
        ? []
        : [
            'Log warnings and errors during the rounds:',
            '',
            ...u.notes.map((n) => `    ${n}`),
            '',
          ]),
    );
  }
  return out;
}
