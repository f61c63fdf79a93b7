/**
 * Prometheus metrics: the one prom-client registry served at `/metrics` (Prometheus text format
 * 0.0.4), composed of the metrics each layer declares beside the code it observes:
 * dns/metrics.ts (queries, limits, forwarding, upstreams), dns/transfer-metrics.ts (zone
 * transfers), pipeline/metrics.ts (loads, the zone,
 * the worker), mesos/metrics.ts (the event stream, failover, leader changes) and
 * http/metrics.ts (refusals). Only the build info and the config reloads, which belong to
 * serve/serve.ts, are declared here. Callers see one object (`Metrics`) and its hooks.
 *
 * Three ways in, chosen by cost:
 * - `onQuery` runs for every DNS query, so it only bumps plain numbers (no prom-client call, no
 *   allocation); the counters and the latency histogram are turned into samples at scrape time.
 * - Events that are rare or already slow (state loads, config reloads, forwarding and upstream
 *   exchanges) go straight to prom-client metrics.
 * - Values that already live elsewhere (zone serial, data age, leader changes, cache size,
 *   upstream health) are read through `MetricsSources` when Prometheus scrapes.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type {
  ForwardObserver,
  NotifyEvent,
  QueryEvent,
  TcpRefusal,
  TransferEvent,
} from './dns/index.js';
import { DnsMetrics, ForwardMetrics } from './dns/metrics.js';
import type { DnsMetricsSources, ForwardMetricsSources } from './dns/metrics.js';
import { TransferMetrics } from './dns/transfer-metrics.js';
import type { TransferMetricsSources } from './dns/transfer-metrics.js';
import type { HttpRefusal } from './http/index.js';
import { HttpMetrics } from './http/metrics.js';
import { registerMesosMetrics } from './mesos/metrics.js';
import type { MesosMetricsSources } from './mesos/metrics.js';
import type { LoadEvent } from './pipeline/loader.js';
import type { UpdateFallbackReason } from './pipeline/messages.js';
import type { ZoneUpdateFacts } from './pipeline/pipeline.js';
import { PipelineMetrics } from './pipeline/metrics.js';
import type { PipelineMetricsSources } from './pipeline/metrics.js';

/**
 * What the metrics read when scraped; every provider is optional. Each layer's metrics module
 * documents the providers it reads.
 */
export interface MetricsSources
  extends
    DnsMetricsSources,
    ForwardMetricsSources,
    TransferMetricsSources,
    PipelineMetricsSources,
    MesosMetricsSources {}

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
  readonly #dns: DnsMetrics;
  readonly #pipeline: PipelineMetrics;
  readonly #reloads: Counter<'result'>;
  readonly #forward: ForwardMetrics;
  readonly #http: HttpMetrics;
  readonly #transfers: TransferMetrics;

  constructor(options: MetricsOptions) {
    const registry = this.registry;
    const sources = options.sources ?? {};
    const clock = options.clock ?? systemClock;
    // The event-loop delay, sampled every 10 ms (prom-client's default; the delay itself is
    // measured in nanoseconds). Sampling every millisecond cost an idle server 3.9 % of a core
    // against 1.6 % (a thousand timer wake-ups a second).
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
    }

    new Gauge({
      name: 'mesodns_build_info',
      help: 'Always 1; the version of the running mesodns as a label.',
      labelNames: ['version'],
      registers: [registry],
    }).set({ version: options.version }, 1);
    // A scrape lists the families in this order of registration.
    this.#dns = new DnsMetrics(registry, sources);
    this.#pipeline = new PipelineMetrics(registry, sources, clock);
    registerMesosMetrics(registry, sources, clock);
    this.#reloads = new Counter({
      name: 'mesodns_config_reloads_total',
      help: 'Configuration reloads (SIGHUP) by result: applied or rejected.',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['applied', 'rejected']) this.#reloads.inc({ result }, 0);
    this.#forward = new ForwardMetrics(registry, sources);
    this.#http = new HttpMetrics(registry);
    this.#transfers = new TransferMetrics(registry, sources);
  }

  /** Counts one DNS query (the DNS server's `onQuery` hook). Cheap: no allocation. */
  onQuery(event: QueryEvent): void {
    this.#dns.onQuery(event);
  }

  /** Records the outcome of one state load (the loader's `onLoad` hook). */
  onLoad(event: LoadEvent): void {
    this.#pipeline.onLoad(event);
  }

  /**
   * Records the propagation latency of the streamed task updates a newly served zone includes
   * (their Mesos status timestamps, ms since the epoch), as of `nowMs`.
   */
  onZoneServed(statusTimesMs: readonly number[], nowMs: number): void {
    this.#pipeline.onZoneServed(statusTimesMs, nowMs);
  }

  /** Records one incremental zone update (stream mode) that took `buildMs` in the worker. */
  onZoneUpdate(buildMs: number, update: ZoneUpdateFacts): void {
    this.#pipeline.onZoneUpdate(buildMs, update);
  }

  /** Counts a batch of task changes applied by a full build instead of an incremental update. */
  onUpdateFallback(reason: UpdateFallbackReason): void {
    this.#pipeline.onUpdateFallback(reason);
  }

  /** An authoritative UDP response truncated or dropped by rate limiting. */
  onRateLimited(action: 'slip' | 'drop'): void {
    this.#dns.onRateLimited(action);
  }

  /** A DNS TCP connection closed by a limit (see `TcpRefusal`). */
  onTcpRefused(reason: TcpRefusal): void {
    this.#dns.onTcpRefused(reason);
  }

  /** One zone transfer request and how it ended. */
  onTransfer(event: TransferEvent): void {
    this.#transfers.onTransfer(event);
  }

  /** One NOTIFY exchange with a secondary and how it ended. */
  onNotify(event: NotifyEvent): void {
    this.#transfers.onNotify(event);
  }

  /** An HTTP client turned away (see `HttpRefusal`). */
  onHttpRefused(reason: HttpRefusal): void {
    this.#http.onRefused(reason);
  }

  /** Records a configuration reload: applied, or rejected (the running config was kept). */
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

  /**
   * Renders the metrics in the Prometheus text format: every family, or only those `names` lists
   * (`/metrics?name[]=...`; names that are no family are left out). mesodns's own families each
   * compute their samples alone, so asking for them runs only their own collection (a whole
   * scrape costs milliseconds: prom-client reads /proc and sums the event-loop histogram). A
   * `process_*` or `nodejs_*` family is computed by prom-client together with others of its
   * group, so asking for one runs the whole scrape and keeps the families asked for.
   */
  async scrape(names: readonly string[] = []): Promise<Scrape> {
    const contentType = this.registry.contentType;
    if (names.length === 0) return { contentType, body: await this.registry.metrics() };
    const wanted = [...new Set(names)].filter(
      (n) => this.registry.getSingleMetric(n) !== undefined,
    );
    if (wanted.every((n) => n.startsWith(OWN_PREFIX))) {
      const parts = await Promise.all(wanted.map((n) => this.registry.getSingleMetricAsString(n)));
      return { contentType, body: parts.map((p) => `${p}\n`).join('') };
    }
    return { contentType, body: familiesOf(await this.registry.metrics(), new Set(wanted)) };
  }
}

/** The prefix of the families mesodns defines (the others are prom-client's). */
const OWN_PREFIX = 'mesodns_';

/** The families `wanted` of a rendered scrape, each with its HELP and TYPE lines. */
function familiesOf(text: string, wanted: ReadonlySet<string>): string {
  const families = text.split(/\n(?=# HELP )/);
  return families
    .filter((f) => wanted.has(/^# HELP (\S+)/.exec(f)?.[1] ?? ''))
    .map((f) => (f.endsWith('\n') ? f : `${f}\n`))
    .join('');
}
