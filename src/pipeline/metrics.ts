/**
 * The state pipeline's Prometheus metrics, which src/metrics.ts registers: state loads and what
 * they cost, the zone served and its journal, the propagation of streamed task updates and the
 * worker's restarts.
 * Loads and served zones arrive as events from the worker (`onLoad`, `onZoneServed`, both rare);
 * the zone's counts and serial, the journal's size, the data age and the restarts are read when
 * Prometheus scrapes.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { readCounter, readGauge } from '../prom.js';
import type { LoadEvent } from './loader.js';

/** Buckets of state fetches and zone builds, seconds. */
const LOAD_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Propagation latency buckets (seconds): the target is under one second. */
const PROPAGATION_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60,
];

/** What the pipeline metrics read when scraped (part of src/metrics.ts `MetricsSources`). */
export interface PipelineMetricsSources {
  /** Age of the data served, ms; undefined before the first load. */
  readonly dataAgeMs?: () => number | undefined;
  /** The SOA serial served; undefined before the first load. */
  readonly zoneSerial?: () => number | undefined;
  /**
   * Names and records of the zone served now (streamed changesets included); without it, the
   * zone gauges count the last full build's load event.
   */
  readonly zoneCounts?: () => { readonly names: number; readonly rrs: number } | undefined;
  /** Unexpected exits of the pipeline worker thread, each followed by a restart. */
  readonly workerRestarts?: () => number;
  /** The zone's journal of differences (the store's): differences and RRs held. */
  readonly zoneJournal?: () => { readonly entries: number; readonly rrs: number } | undefined;
}

/** Loads, the zone and the worker, registered in the given registry. */
export class PipelineMetrics {
  readonly #loads: Counter<'result'>;
  readonly #held: Counter<'reason'>;
  readonly #fetchSeconds: Histogram;
  readonly #buildSeconds: Histogram;
  readonly #stateBytes: Gauge;
  readonly #tasks: Gauge;
  readonly #skippedTasks: Gauge;
  readonly #records: Gauge;
  readonly #names: Gauge;
  readonly #propagationSeconds: Histogram;

  /** `clock` measures the data age before the first load, from this call on. */
  constructor(registry: Registry, sources: PipelineMetricsSources, clock: Clock) {
    const registers = [registry];
    this.#loads = new Counter({
      name: 'mesodns_state_loads_total',
      help: 'State loads by result: published, held (kept back by the sanity guard, see mesodns_state_held_total), failed.',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['published', 'held', 'failed']) this.#loads.inc({ result }, 0);
    this.#held = new Counter({
      name: 'mesodns_state_held_total',
      help: 'States kept back while the last good zone is served, by reason: malformed (most entries of a kind unreadable and most served tasks lost).',
      labelNames: ['reason'],
      registers,
    });
    this.#held.inc({ reason: 'malformed' }, 0);
    this.#fetchSeconds = new Histogram({
      name: 'mesodns_state_fetch_duration_seconds',
      help: 'Time to fetch and parse one state document (redirects included).',
      buckets: [...LOAD_BUCKETS],
      registers,
    });
    this.#buildSeconds = new Histogram({
      name: 'mesodns_zone_build_duration_seconds',
      help: 'Time to turn a state into the served zone (host lookups, records, compilation).',
      buckets: [...LOAD_BUCKETS],
      registers,
    });
    this.#stateBytes = new Gauge({
      name: 'mesodns_state_size_bytes',
      help: 'Size of the last state document loaded.',
      registers,
    });
    this.#tasks = new Gauge({
      name: 'mesodns_zone_tasks',
      help: 'Running tasks with records in the zone served.',
      registers,
    });
    this.#skippedTasks = new Gauge({
      name: 'mesodns_zone_skipped_tasks',
      help: 'Tasks of the last state left out because of bad data.',
      registers,
    });
    // Set by full builds' load events, and at scrape time from the zone served when the
    // source is given: streamed changesets change the zone without a load event.
    const records: Gauge = new Gauge({
      name: 'mesodns_zone_records',
      help: 'Records (name and value) in the zone served.',
      registers,
      collect: () => {
        const counts = sources.zoneCounts?.();
        if (counts !== undefined) records.set(counts.rrs);
      },
    });
    this.#records = records;
    const names: Gauge = new Gauge({
      name: 'mesodns_zone_names',
      help: 'Distinct names in the zone served.',
      registers,
      collect: () => {
        const counts = sources.zoneCounts?.();
        if (counts !== undefined) names.set(counts.names);
      },
    });
    this.#names = names;
    readGauge(
      registry,
      'mesodns_zone_serial',
      'SOA serial of the zone served (0 before the first load).',
      () => sources.zoneSerial?.() ?? 0,
    );
    readGauge(
      registry,
      'mesodns_zone_journal_entries',
      'Differences of the last zone changes held in the journal (streamed changesets and full rebuilds), the oldest evicted past its bounds.',
      () => sources.zoneJournal?.()?.entries ?? 0,
    );
    readGauge(
      registry,
      'mesodns_zone_journal_rrs',
      'Records (RRs removed and added) in all the differences the journal holds.',
      () => sources.zoneJournal?.()?.rrs ?? 0,
    );
    const startedAt = clock.now();
    readGauge(
      registry,
      'mesodns_state_age_seconds',
      'Age of the data served: time since the state it was built from was loaded; before the first load, time since the start (so that an alert on age also fires when no state ever loads).',
      () => (sources.dataAgeMs?.() ?? clock.now() - startedAt) / 1000,
    );
    this.#propagationSeconds = new Histogram({
      name: 'mesodns_stream_propagation_seconds',
      help: 'Stream mode: time from a task status update (its Mesos timestamp) to the first zone served that includes it.',
      buckets: [...PROPAGATION_BUCKETS],
      registers,
    });
    readCounter(
      registry,
      'mesodns_pipeline_worker_restarts_total',
      'Unexpected exits of the pipeline worker thread (state loads and zone builds), each followed by a restart after a backoff; out of memory on a large state is the usual cause. The last zone is served meanwhile.',
      () => sources.workerRestarts?.() ?? 0,
    );
  }

  /** Records the outcome of one state load (the loader's `onLoad` hook). */
  onLoad(event: LoadEvent): void {
    this.#loads.inc({ result: event.result });
    if (event.result === 'held') this.#held.inc({ reason: event.reason ?? 'malformed' });
    if (event.fetchMs !== undefined) this.#fetchSeconds.observe(event.fetchMs / 1000);
    if (event.bytes !== undefined) this.#stateBytes.set(event.bytes);
    if (event.result !== 'published') return;
    if (event.buildMs !== undefined) this.#buildSeconds.observe(event.buildMs / 1000);
    if (event.tasks !== undefined) this.#tasks.set(event.tasks);
    if (event.skippedTasks !== undefined) this.#skippedTasks.set(event.skippedTasks);
    if (event.records !== undefined) this.#records.set(event.records);
    if (event.names !== undefined) this.#names.set(event.names);
  }

  /**
   * Records the propagation latency of the streamed task updates a newly served zone includes
   * (their Mesos status timestamps, ms since the epoch), as of `nowMs`.
   */
  onZoneServed(statusTimesMs: readonly number[], nowMs: number): void {
    for (const t of statusTimesMs) this.#propagationSeconds.observe(Math.max(0, nowMs - t) / 1000);
  }
}
