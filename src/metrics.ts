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
import { FastHistogram, readCounter, readGauge, readLabelledCounter } from './prom.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type {
  ExchangeEvent,
  ForwardObserver,
  QueryEvent,
  TcpRefusal,
  RejectReason,
  Transport,
} from './dns/index.js';
import { RCODE_NAME } from './dns/index.js';
import type { HttpRefusal } from './http/index.js';
import type { LoadEvent } from './pipeline/loader.js';
import type { CarryFacts, StreamStats } from './mesos/index.js';

/** Latency buckets of DNS answers, seconds: 50 µs (a cached authoritative answer) to 5 s. */
const DNS_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5,
];

/** Buckets of state fetches and zone builds, seconds. */
const LOAD_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Query types with their own label value; any other type counts as `OTHER` (bounded labels). */
const QTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NONE',
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  257: 'CAA',
};

const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

/** What the metrics read when scraped; every provider is optional. */
export interface MetricsSources {
  /** Age of the data served, ms; undefined before the first load. */
  readonly dataAgeMs?: () => number | undefined;
  /** The SOA serial served; undefined before the first load. */
  readonly zoneSerial?: () => number | undefined;
  /**
   * Names and records of the zone served now (streamed changesets included); without it, the
   * zone gauges count the last full build's load event.
   */
  readonly zoneCounts?: () => { readonly names: number; readonly rrs: number } | undefined;
  /** How often the leading Mesos master changed since the start. */
  readonly leaderChanges?: () => number;
  /** The forwarding answer cache, when there is one. */
  readonly cache?: () => { readonly size: number; readonly bytes: number } | undefined;
  /** Health of every upstream (`ip:port` -> healthy), when forwarding is on. */
  readonly upstreamHealth?: () => ReadonlyMap<string, boolean> | undefined;
  /** Forwarded queries waiting for upstreams now. */
  readonly forwardInFlight?: () => number | undefined;
  /** The master event stream's counters (`mesos.mode: stream`). */
  readonly stream?: () => StreamStats | undefined;
  /** UDP datagrams dropped by the batched socket for being longer than a slot. */
  readonly udpOversized?: () => number;
  /** Agents and tasks carried over a leader change now (mesos/carry-over.ts). */
  readonly carry?: () => CarryFacts | undefined;
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
  readonly #paths = new Map<string, number>();
  readonly #pathNames: string[] = [];
  /** Query counts keyed by `encodeKey(path, transport, rcode, qtype)`. */
  readonly #queries = new Map<number, number>();
  readonly #duration: FastHistogram;
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
  readonly #cacheLookups = { hit: 0, miss: 0, stale: 0 };
  readonly #forwarded: Counter;
  readonly #forwardFailures: Counter;
  readonly #rejected: Counter<'reason'>;
  readonly #httpRefused: Counter<'reason'>;
  readonly #tcpRefused: Counter<'reason'>;
  readonly #rateLimited: Counter<'action'>;
  readonly #exchanges: Counter<'upstream' | 'transport' | 'outcome'>;
  readonly #exchangeSeconds: Histogram<'upstream'>;
  readonly #markedDown: Counter<'upstream'>;
  readonly #healthEvents = new Map<string, boolean>();

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

    // DNS queries (fed by onQuery, exported at scrape time).
    const queries = new Counter({
      name: 'mesodns_dns_queries_total',
      help: 'DNS queries answered, by transport, query type, response code and path (authoritative, forwarded, cached, refused, malformed).',
      labelNames: ['transport', 'qtype', 'rcode', 'path'],
      registers,
      collect: () => {
        queries.reset();
        for (const [key, count] of this.#queries) queries.inc(this.#labelsOf(key), count);
      },
    });
    this.#duration = new FastHistogram({
      name: 'mesodns_dns_query_duration_seconds',
      help: 'Time from receiving a DNS query to having its answer, by path.',
      buckets: DNS_BUCKETS,
      registry: this.registry,
    });

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
    const carry = (): CarryFacts => sources.carry?.() ?? { agents: 0, tasks: 0, since: undefined };
    readGauge(
      this.registry,
      'mesodns_failover_carried_agents',
      'Agents a new Mesos leader has not registered yet whose tasks are served from the last state (mesos.failover.maxHold).',
      () => carry().agents,
    );
    readGauge(
      this.registry,
      'mesodns_failover_carried_tasks',
      'Running tasks served from the last state because their agent has not re-registered with the new leader.',
      () => carry().tasks,
    );
    readGauge(
      this.registry,
      'mesodns_failover_carry_seconds',
      'How long the oldest carried agent has been waiting to re-register (0 when none is carried).',
      () => {
        const since = carry().since;
        return since === undefined ? 0 : Math.max(0, clock.now() - since) / 1000;
      },
    );
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
    const streamStats = (): StreamStats | undefined => sources.stream?.();
    const streamCounter = (name: string, help: string, value: (s: StreamStats) => number): void => {
      readCounter(this.registry, name, help, () => {
        const s = streamStats();
        return s === undefined ? 0 : value(s);
      });
    };
    streamCounter(
      'mesodns_stream_subscriptions_total',
      'Stream mode: subscriptions to the master event stream that delivered a snapshot.',
      (s) => s.subscriptions,
    );
    streamCounter(
      'mesodns_stream_bad_events_total',
      'Stream mode: events that could not be parsed and were skipped.',
      (s) => s.badEvents,
    );
    streamCounter(
      'mesodns_stream_watchdog_timeouts_total',
      'Stream mode: streams ended because no whole record (event, heartbeat) arrived for the configured number of heartbeat intervals, or the snapshot did not progress.',
      (s) => s.watchdogTimeouts,
    );
    streamCounter(
      'mesodns_stream_resyncs_total',
      'Stream mode: periodic comparisons of the streamed view with GET_STATE.',
      (s) => s.resyncs,
    );
    streamCounter(
      'mesodns_stream_resyncs_with_drift_total',
      'Stream mode: comparisons that found drift (each one subscribes again).',
      (s) => s.resyncsWithDrift,
    );
    readLabelledCounter(
      this.registry,
      {
        name: 'mesodns_stream_drift_total',
        help: 'Stream mode: differences found by the resync comparisons, by kind (task, agent, framework).',
        label: 'kind',
      },
      () => {
        const s = streamStats();
        return [
          ['task', s?.driftedTasks ?? 0],
          ['agent', s?.driftedAgents ?? 0],
          ['framework', s?.driftedFrameworks ?? 0],
        ];
      },
    );
    readLabelledCounter(
      this.registry,
      {
        name: 'mesodns_stream_ends_total',
        help: 'Stream mode: streams that ended, by reason: watchdog (no whole record for missedHeartbeats heartbeat intervals, or a stalled snapshot), bad_data (bad framing, an event before SUBSCRIBED), closed (by the master), error (transport), leader_change, reload, drift.',
        label: 'reason',
      },
      () => Object.entries(streamStats()?.ends ?? {}),
    );
    readLabelledCounter(
      this.registry,
      {
        name: 'mesodns_stream_events_total',
        help: 'Stream mode: events received from the master, by type (heartbeats included).',
        label: 'type',
      },
      () => Object.entries(streamStats()?.events ?? {}),
    );
    readGauge(
      this.registry,
      'mesodns_stream_connected',
      'Stream mode: 1 while subscribed to the master event stream, 0 otherwise (also after falling back to polling).',
      () => (streamStats()?.connected === true ? 1 : 0),
    );
    readCounter(
      this.registry,
      'mesodns_dns_udp_oversized_total',
      'UDP datagrams longer than 4096 bytes, dropped unanswered by the batched UDP socket.',
      () => sources.udpOversized?.() ?? 0,
    );
    readCounter(
      this.registry,
      'mesodns_leader_changes_total',
      'Changes of the leading Mesos master seen since the start.',
      () => sources.leaderChanges?.() ?? 0,
    );
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

    // Forwarding, cache and upstreams.
    // Counted per query in plain numbers (like onQuery), exported at scrape time.
    readLabelledCounter(
      this.registry,
      {
        name: 'mesodns_forward_cache_lookups_total',
        help: 'Lookups in the forwarding cache: hit (fresh answer), miss (sent upstream), stale (expired answer served because every upstream failed).',
        label: 'result',
      },
      () => Object.entries(this.#cacheLookups),
    );
    const cacheEntries = new Gauge({
      name: 'mesodns_forward_cache_entries',
      help: 'Answers held in the forwarding cache.',
      registers,
      collect: () => {
        cacheEntries.set(sources.cache?.()?.size ?? 0);
      },
    });
    const cacheBytes = new Gauge({
      name: 'mesodns_forward_cache_bytes',
      help: 'Bytes held in the forwarding cache.',
      registers,
      collect: () => {
        cacheBytes.set(sources.cache?.()?.bytes ?? 0);
      },
    });
    this.#forwarded = new Counter({
      name: 'mesodns_forward_queries_total',
      help: 'Queries sent to upstream resolvers (once per client query, whatever the attempts).',
      registers,
    });
    this.#forwardFailures = new Counter({
      name: 'mesodns_forward_failures_total',
      help: 'Forwarded queries answered SERVFAIL because every upstream failed.',
      registers,
    });
    this.#rejected = new Counter({
      name: 'mesodns_forward_rejected_total',
      help: 'Queries for other names answered without forwarding: acl (client outside forward.allowFrom), concurrency (forward.maxConcurrent reached), client (forward.maxConcurrentPerClient reached for that client), loop (the query came back to this server).',
      labelNames: ['reason'],
      registers,
    });
    this.#httpRefused = new Counter({
      name: 'mesodns_http_refused_total',
      help: 'HTTP clients turned away: connections (http.maxConnections were open), busy (as many large responses as allowed were being sent; 503), timeout (idle for 30 s, or a large response not read within 5 min).',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['connections', 'busy', 'timeout']) this.#httpRefused.inc({ reason }, 0);
    this.#tcpRefused = new Counter({
      name: 'mesodns_dns_tcp_refused_total',
      help: 'DNS TCP connections closed by a limit: connections (dns.tcp.maxConnections were open), client (that client had dns.tcp.maxConnectionsPerClient open), idle (no whole query for dns.tcp.idleTimeout), partial (a query begun but not whole within dns.tcp.ioTimeout).',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['connections', 'client', 'idle', 'partial']) {
      this.#tcpRefused.inc({ reason }, 0);
    }
    this.#rateLimited = new Counter({
      name: 'mesodns_dns_rate_limited_total',
      help: 'Authoritative UDP responses held back by response rate limiting (dns.rrl): slipped (sent truncated, TC=1) or dropped.',
      labelNames: ['action'],
      registers,
    });
    for (const action of ['slip', 'drop']) this.#rateLimited.inc({ action }, 0);
    const inFlight = new Gauge({
      name: 'mesodns_forward_in_flight',
      help: 'Forwarded queries waiting for upstreams.',
      registers,
      collect: () => {
        inFlight.set(sources.forwardInFlight?.() ?? 0);
      },
    });
    this.#exchanges = new Counter({
      name: 'mesodns_upstream_exchanges_total',
      help: 'Exchanges with upstream resolvers by upstream, transport and outcome (ok, timeout, error, loop).',
      labelNames: ['upstream', 'transport', 'outcome'],
      registers,
    });
    this.#exchangeSeconds = new Histogram({
      name: 'mesodns_upstream_response_seconds',
      help: 'Response time of upstream resolvers (answered exchanges).',
      labelNames: ['upstream'],
      buckets: DNS_BUCKETS.slice(2),
      registers,
    });
    const healthy = new Gauge({
      name: 'mesodns_upstream_healthy',
      help: '1 while an upstream resolver is considered up, 0 while it is marked down.',
      labelNames: ['upstream'],
      registers,
      collect: () => {
        healthy.reset();
        // The forwarder's own view when given (none: forwarding is off), else the events seen.
        const current =
          sources.upstreamHealth === undefined
            ? this.#healthEvents
            : (sources.upstreamHealth() ?? new Map<string, boolean>());
        for (const [upstream, isUp] of current) healthy.set({ upstream }, isUp ? 1 : 0);
      },
    });
    this.#markedDown = new Counter({
      name: 'mesodns_upstream_marked_down_total',
      help: 'Times an upstream resolver was marked down after consecutive failures.',
      labelNames: ['upstream'],
      registers,
    });
  }

  /** Counts one DNS query (the DNS server's `onQuery` hook). Cheap: no allocation. */
  onQuery(event: QueryEvent): void {
    let path = this.#paths.get(event.path);
    if (path === undefined) {
      path = this.#pathNames.length;
      this.#pathNames.push(event.path);
      this.#paths.set(event.path, path);
    }
    const qtype = QTYPE_NAMES[event.qtype] === undefined ? 65535 : event.qtype;
    const rcode = event.rcode & 0xfff;
    const key = ((path * 2 + (event.transport === 'tcp' ? 1 : 0)) * 4096 + rcode) * 65536 + qtype;
    this.#queries.set(key, (this.#queries.get(key) ?? 0) + 1);
    this.#duration.record(event.path, event.durationMs / 1000);
  }

  #labelsOf(key: number): Record<'transport' | 'qtype' | 'rcode' | 'path', string> {
    const qtype = key % 65536;
    const rest = Math.floor(key / 65536);
    const rcode = rest % 4096;
    const pathAndTransport = Math.floor(rest / 4096);
    return {
      transport: TRANSPORTS[pathAndTransport % 2] ?? 'udp',
      qtype: QTYPE_NAMES[qtype] ?? 'OTHER',
      rcode: RCODE_NAME[rcode] ?? `RCODE${String(rcode)}`,
      path: this.#pathNames[Math.floor(pathAndTransport / 2)] ?? 'unknown',
    };
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
    this.#rateLimited.inc({ action });
  }

  /** A DNS TCP connection closed by a limit (see `TcpRefusal`). */
  onTcpRefused(reason: TcpRefusal): void {
    this.#tcpRefused.inc({ reason });
  }

  /** An HTTP client turned away (see `HttpRefusal`). */
  onHttpRefused(reason: HttpRefusal): void {
    this.#httpRefused.inc({ reason });
  }

  onConfigReload(isApplied: boolean): void {
    this.#reloads.inc({ result: isApplied ? 'applied' : 'rejected' });
  }

  /**
   * A forwarding observer that records into these metrics and then passes every event on to
   * `next` (e.g. the forwarder's plain `ForwardStats`), so both see everything.
   */
  forwardObserver(next?: ForwardObserver): ForwardObserver {
    return {
      cache: (result: 'hit' | 'miss' | 'stale') => {
        this.#cacheLookups[result]++;
        next?.cache(result);
      },
      forwarded: () => {
        this.#forwarded.inc();
        next?.forwarded();
      },
      failed: () => {
        this.#forwardFailures.inc();
        next?.failed();
      },
      rejected: (reason: RejectReason) => {
        this.#rejected.inc({ reason });
        next?.rejected(reason);
      },
      exchange: (event: ExchangeEvent) => {
        this.#exchanges.inc({
          upstream: event.upstream,
          transport: event.transport,
          outcome: event.outcome,
        });
        if (event.outcome === 'ok') {
          this.#exchangeSeconds.observe({ upstream: event.upstream }, event.durationMs / 1000);
        }
        next?.exchange(event);
      },
      // Upstreams report transitions only; a forwarder made by a reload starts them healthy.
      health: (upstream: string, isHealthy: boolean) => {
        if (!isHealthy) this.#markedDown.inc({ upstream });
        this.#healthEvents.set(upstream, isHealthy);
        next?.health(upstream, isHealthy);
      },
    };
  }

  /** Renders every metric in the Prometheus text format. */
  async scrape(): Promise<Scrape> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
