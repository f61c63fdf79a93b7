/**
 * The DNS layer's Prometheus metrics: queries and their latency, TCP and UDP limits, response
 * rate limiting (`DnsMetrics`), and forwarding, its cache and the upstreams (`ForwardMetrics`).
 * src/metrics.ts composes them into the one registry served at `/metrics`.
 *
 * `onQuery` runs for every DNS query, so it only bumps plain numbers (no prom-client call, no
 * allocation); the counters and the latency histogram are turned into samples at scrape time.
 * Forwarding events are rare or already slow (an upstream exchange), so most go straight to
 * prom-client; cache lookups are per query and are counted like `onQuery`.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { FastHistogram, readCounter, readGauge, readLabelledCounter } from '../prom.js';
import type { Transport } from './response.js';
import type { QueryEvent, TcpRefusal } from './server.js';
import type { ExchangeEvent, ForwardObserver, RejectReason } from './upstream-stats.js';
import { RCODE_NAME } from './wire.js';

/** Latency buckets of DNS answers, seconds: 50 µs (a cached authoritative answer) to 5 s. */
const DNS_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5,
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

/** What the DNS metrics read when scraped (part of src/metrics.ts `MetricsSources`). */
export interface DnsMetricsSources {
  /** UDP datagrams dropped by the batched socket for being longer than a slot. */
  readonly udpOversized?: () => number;
}

/** What the forwarding metrics read when scraped (part of src/metrics.ts `MetricsSources`). */
export interface ForwardMetricsSources {
  /** The forwarding answer cache, when there is one. */
  readonly cache?: () => { readonly size: number; readonly bytes: number } | undefined;
  /** Health of every upstream (`ip:port` -> healthy), when forwarding is on. */
  readonly upstreamHealth?: () => ReadonlyMap<string, boolean> | undefined;
  /** Forwarded queries waiting for upstreams now. */
  readonly forwardInFlight?: () => number | undefined;
}

/** Queries, their latency and the server's limits, registered in the given registry. */
export class DnsMetrics {
  readonly #paths = new Map<string, number>();
  readonly #pathNames: string[] = [];
  /** Query counts keyed by `encodeKey(path, transport, rcode, qtype)`. */
  readonly #queries = new Map<number, number>();
  readonly #duration: FastHistogram;
  readonly #tcpRefused: Counter<'reason'>;
  readonly #rateLimited: Counter<'action'>;

  constructor(registry: Registry, sources: DnsMetricsSources) {
    const registers = [registry];
    // Fed by onQuery, exported at scrape time.
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
      registry,
    });
    readCounter(
      registry,
      'mesodns_dns_udp_oversized_total',
      'UDP datagrams longer than 4096 bytes, dropped unanswered by the batched UDP socket.',
      () => sources.udpOversized?.() ?? 0,
    );
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

  /** An authoritative UDP response truncated or dropped by rate limiting. */
  onRateLimited(action: 'slip' | 'drop'): void {
    this.#rateLimited.inc({ action });
  }

  /** A DNS TCP connection closed by a limit (see `TcpRefusal`). */
  onTcpRefused(reason: TcpRefusal): void {
    this.#tcpRefused.inc({ reason });
  }
}

/** Forwarding, the answer cache and the upstreams, registered in the given registry. */
export class ForwardMetrics {
  readonly #cacheLookups = { hit: 0, miss: 0, stale: 0 };
  readonly #forwarded: Counter;
  readonly #forwardFailures: Counter;
  readonly #rejected: Counter<'reason'>;
  readonly #exchanges: Counter<'upstream' | 'transport' | 'outcome'>;
  readonly #exchangeSeconds: Histogram<'upstream'>;
  readonly #markedDown: Counter<'upstream'>;
  readonly #healthEvents = new Map<string, boolean>();

  constructor(registry: Registry, sources: ForwardMetricsSources) {
    const registers = [registry];
    // Counted per query in plain numbers (like onQuery), exported at scrape time.
    readLabelledCounter(
      registry,
      {
        name: 'mesodns_forward_cache_lookups_total',
        help: 'Lookups in the forwarding cache: hit (fresh answer), miss (sent upstream), stale (expired answer served because every upstream failed).',
        label: 'result',
      },
      () => Object.entries(this.#cacheLookups),
    );
    readGauge(
      registry,
      'mesodns_forward_cache_entries',
      'Answers held in the forwarding cache.',
      () => sources.cache?.()?.size ?? 0,
    );
    readGauge(
      registry,
      'mesodns_forward_cache_bytes',
      'Bytes held in the forwarding cache.',
      () => sources.cache?.()?.bytes ?? 0,
    );
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
    readGauge(
      registry,
      'mesodns_forward_in_flight',
      'Forwarded queries waiting for upstreams.',
      () => sources.forwardInFlight?.() ?? 0,
    );
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

  /**
   * A forwarding observer that records into these metrics and then passes every event on to
   * `next` (e.g. the forwarder's plain `ForwardStats`), so both see everything.
   */
  observer(next?: ForwardObserver): ForwardObserver {
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
}
