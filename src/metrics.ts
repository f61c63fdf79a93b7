/**
 * Prometheus metrics: every metric mesodns exports is declared in this file, in one prom-client
 * registry served at `/metrics` (Prometheus text format 0.0.4).
 *
 * Three ways in, chosen by cost:
 * - `onQuery` runs for every DNS query, so it only bumps plain numbers (no prom-client call, no
 *   allocation); the counters and the latency histogram are turned into samples at scrape time.
 * - Events that are rare or already slow (state loads, config reloads, forwarding and upstream
 *   exchanges) go straight to prom-client metrics.
 * - Values that already live elsewhere (zone serial, data age, leader changes, cache size,
 *   upstream health) are read through `MetricsSources` when Prometheus scrapes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { readCounter, readGauge } from './prom.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { ForwardObserver, QueryEvent, TcpRefusal } from './dns/index.js';
import { DnsMetrics, ForwardMetrics } from './dns/metrics.js';
import type { DnsMetricsSources, ForwardMetricsSources } from './dns/metrics.js';
import type { HttpRefusal } from './http/index.js';
import { HttpMetrics } from './http/metrics.js';
import type { LoadEvent } from './pipeline/loader.js';
import { registerMesosMetrics } from './mesos/metrics.js';
import type { MesosMetricsSources } from './mesos/metrics.js';

/** Buckets of state fetches and zone builds, seconds. */
const LOAD_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** What the metrics read when scraped; every provider is optional. */
export interface MetricsSources
  extends DnsMetricsSources, ForwardMetricsSources, MesosMetricsSources {
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
}

/** Propagation latency buckets (seconds): the target is under one second. */
const PROPAGATION_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60,
];

/** Options of `Metrics`. */
export interface MetricsOptions {
  readonly version: string;
  readonly sources?: MetricsSources;
  /** Also export prom-client's process and Node.js metrics (`process_*`, `nodejs_*`). Default true. */
  readonly processMetrics?: boolean;
  /** Time source for the data age before the first load (default: the system clock). */
  readonly clock?: Clock;
}

/** A rendered scrape: body and its content type. */
export interface Scrape {
  readonly contentType: string;
  readonly body: string;
}

/** The process's metrics. One instance; it outlives config reloads. */
export class Metrics {
  /** The prom-client registry (exposed for tests and embedding). */
  readonly registry = new Registry();
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
  readonly #reloads: Counter<'result'>;
  readonly #http: HttpMetrics;
  readonly #dns: DnsMetrics;
  readonly #forward: ForwardMetrics;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    const sources = options.sources ?? {};
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    new Gauge({
      name: 'mesodns_build_info',
      help: 'Always 1; the version of the running mesodns as a label.',
      labelNames: ['version'],
      registers,
    }).set({ version: options.version }, 1);

    this.#dns = new DnsMetrics(this.registry, sources);

    // State loads and the zone.
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
      this.registry,
      'mesodns_zone_serial',
      'SOA serial of the zone served (0 before the first load).',
      () => sources.zoneSerial?.() ?? 0,
    );
    const clock = options.clock ?? systemClock;
    const startedAt = clock.now();
    readGauge(
      this.registry,
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
    registerMesosMetrics(this.registry, sources, clock);
    readCounter(
      this.registry,
      'mesodns_pipeline_worker_restarts_total',
      'Unexpected exits of the pipeline worker thread (state loads and zone builds), each followed by a restart after a backoff; out of memory on a large state is the usual cause. The last zone is served meanwhile.',
      () => sources.workerRestarts?.() ?? 0,
    );
    this.#reloads = new Counter({
      name: 'mesodns_config_reloads_total',
      help: 'Configuration reloads (SIGHUP) by result: applied or rejected.',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['applied', 'rejected']) this.#reloads.inc({ result }, 0);

    this.#http = new HttpMetrics(this.registry);
    this.#forward = new ForwardMetrics(this.registry, sources);
  }

  /** Counts one DNS query (the DNS server's `onQuery` hook). Cheap: no allocation. */
  onQuery(event: QueryEvent): void {
    this.#dns.onQuery(event);
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

  /** Records a configuration reload: applied, or rejected (the running config was kept). */
  /** An authoritative UDP response truncated or dropped by rate limiting. */
  onRateLimited(action: 'slip' | 'drop'): void {
    this.#dns.onRateLimited(action);
  }

  /** A DNS TCP connection closed by a limit (see `TcpRefusal`). */
  onTcpRefused(reason: TcpRefusal): void {
    this.#dns.onTcpRefused(reason);
  }

  /** An HTTP client turned away (see `HttpRefusal`). */
  onHttpRefused(reason: HttpRefusal): void {
    this.#http.onRefused(reason);
  }

  onConfigReload(isApplied: boolean): void {
    this.#reloads.inc({ result: isApplied ? 'applied' : 'rejected' });
  }

  /**
   * A forwarding observer that records into these metrics and then passes every event on to
   * `next` (e.g. the forwarder's plain `ForwardStats`), so both see everything.
   */
  forwardObserver(next?: ForwardObserver): ForwardObserver {
    return this.#forward.observer(next);
  }

  /** Renders every metric in the Prometheus text format. */
  async scrape(): Promise<Scrape> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
