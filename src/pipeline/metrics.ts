/**
 * The state pipeline's Prometheus metrics, which src/metrics.ts registers: state loads and what
 * they cost, the zone served and its journal, the incremental updates of stream mode and the
 * propagation of streamed task updates, and the worker (restarts, heap). Loads, served zones,
 * updates and their fallbacks arrive as events from the worker (`onLoad`, `onZoneServed`,
 * `onZoneUpdate`, `onUpdateFallback`: at most one per batch of events); the zone's counts and
 * serial, the journal's size, the data age and the worker's restarts and heap are read when
 * Prometheus scrapes.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { readCounter, readGauge } from '../prom.js';
import type { LoadEvent } from './loader.js';
import type { UpdateFallbackReason, WorkerHeap } from './messages.js';
import type { ZoneUpdateFacts } from './pipeline.js';

/** Buckets of state fetches and zone builds, seconds. */
const LOAD_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Buckets of incremental zone updates, seconds: most take a millisecond or a few. */
const UPDATE_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

const FALLBACK_REASONS: readonly UpdateFallbackReason[] = [
  'shared_name',
  'changed_names',
  'failed',
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
   * Names and records of the zone served now (streamed changesets included), and the names
   * changesets replaced since its last full build; without it, the zone gauges count the last
   * full build's load event.
   */
  readonly zoneCounts?: () =>
    { readonly names: number; readonly rrs: number; readonly changedNames: number } | undefined;
  /** Unexpected exits of the pipeline worker thread, each followed by a restart. */
  readonly workerRestarts?: () => number;
  /** The worker's heap after its last load's garbage was collected; undefined before. */
  readonly workerHeap?: () => WorkerHeap | undefined;
  /** The zone's journal of differences (the store's): differences and RRs held. */
  readonly zoneJournal?: () => { readonly entries: number; readonly rrs: number } | undefined;
  /** The health rule's counters of the zone served (`records.health`; zeros when ignored). */
  readonly health?: () => { readonly excludedTasks: number; readonly failOpenApps: number };
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
  readonly #updateSeconds: Histogram;
  readonly #updateNames: Counter;
  readonly #updateTaskChanges: Counter;
  readonly #updateFallbacks: Counter<'reason'>;

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
      'mesodns_zone_health_excluded_tasks',
      "records.health: exclude-unhealthy: running tasks left out of their app's shared names (A/AAAA, SRV, .slave) because their latest running status says healthy: false; their own {task}-{hash}-{agent} names still answer.",
      () => sources.health?.().excludedTasks ?? 0,
    );
    readGauge(
      registry,
      'mesodns_zone_health_fail_open_apps',
      'records.health: exclude-unhealthy: apps served with all their instances because every one is unhealthy (records.healthFailOpen; logged when it starts and ends).',
      () => sources.health?.().failOpenApps ?? 0,
    );
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
    this.#updateSeconds = new Histogram({
      name: 'mesodns_zone_update_duration_seconds',
      help: 'Stream mode: time to apply one batch of task changes to the zone incrementally, in the pipeline worker (from the batch to its changeset). The count is the number of incremental updates.',
      buckets: [...UPDATE_BUCKETS],
      registers,
    });
    this.#updateNames = new Counter({
      name: 'mesodns_zone_update_names_total',
      help: 'Stream mode: names replaced (added, changed or removed) by incremental zone updates.',
      registers,
    });
    this.#updateTaskChanges = new Counter({
      name: 'mesodns_zone_update_task_changes_total',
      help: 'Stream mode: task changes applied by incremental zone updates.',
      registers,
    });
    this.#updateFallbacks = new Counter({
      name: 'mesodns_zone_update_fallbacks_total',
      help: 'Stream mode: batches of task changes applied by a full build instead of an incremental update, by reason: shared_name (a changed name is shared in a way the update cannot follow), changed_names (the names replaced since the last full build passed their bound), failed (the update threw; logged).',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of FALLBACK_REASONS) this.#updateFallbacks.inc({ reason }, 0);
    readGauge(
      registry,
      'mesodns_zone_changed_names',
      'Stream mode: names answered from changesets, replaced since the last full build (every lookup checks them first; a full build is due once they pass their bound).',
      () => sources.zoneCounts?.()?.changedNames ?? 0,
    );
    readCounter(
      registry,
      'mesodns_pipeline_worker_restarts_total',
      'Unexpected exits of the pipeline worker thread (state loads and zone builds), each followed by a restart after a backoff; out of memory on a large state is the usual cause. The last zone is served meanwhile.',
      () => sources.workerRestarts?.() ?? 0,
    );
    readGauge(
      registry,
      'mesodns_pipeline_worker_heap_size_used_bytes',
      "V8 heap used by the pipeline worker thread after the last load's garbage was collected (0 before the first load).",
      () => sources.workerHeap?.()?.usedBytes ?? 0,
    );
    readGauge(
      registry,
      'mesodns_pipeline_worker_heap_size_total_bytes',
      "V8 heap size of the pipeline worker thread after the last load's garbage was collected (0 before the first load).",
      () => sources.workerHeap?.()?.totalBytes ?? 0,
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

  /** Records one incremental zone update (stream mode) that took `buildMs` in the worker. */
  onZoneUpdate(buildMs: number, update: ZoneUpdateFacts): void {
    this.#updateSeconds.observe(buildMs / 1000);
    this.#updateNames.inc(update.names);
    this.#updateTaskChanges.inc(update.taskChanges);
  }

  /** Counts a batch of task changes applied by a full build instead of an incremental update. */
  onUpdateFallback(reason: UpdateFallbackReason): void {
    this.#updateFallbacks.inc({ reason });
  }
}
