/**
 * Metrics hooks of forwarding: a `ForwardObserver` receives every event (for Prometheus
 * histograms and counters); `ForwardStats` is the default observer, plain counters that survive
 * config reloads when the same instance is passed to each new forwarder.
 */
import type { Transport } from './response.js';

/** How one exchange with an upstream ended. */
export type ExchangeOutcome = 'ok' | 'timeout' | 'error' | 'loop';

/** One query sent to one upstream (a TCP fallback is a second exchange). */
export interface ExchangeEvent {
  /** `ip:port` / `[v6]:port`. */
  readonly upstream: string;
  readonly transport: Transport;
  readonly outcome: ExchangeOutcome;
  /** RCODE of the reply (`ok` only). */
  readonly rcode: number | undefined;
  readonly durationMs: number;
}

/** Why a forwardable query was answered without forwarding. */
export type RejectReason = 'acl' | 'concurrency' | 'client' | 'loop';

/** Receives forwarding events; every method must be cheap and must not throw. */
export interface ForwardObserver {
  /** A cache lookup: fresh hit, miss (the query goes upstream), or stale answer served. */
  cache(result: 'hit' | 'miss' | 'stale'): void;
  /** A query was sent upstream (once per client query, whatever the number of attempts). */
  forwarded(): void;
  /** Every upstream failed and nothing stale was available: the client got SERVFAIL. */
  failed(): void;
  rejected(reason: RejectReason): void;
  exchange(event: ExchangeEvent): void;
  /** An upstream was marked down (`false`) or came back (`true`). */
  health(upstream: string, isHealthy: boolean): void;
}

/** Counters of one upstream. */
export interface UpstreamCounters {
  queries: number;
  /** Timeouts, network errors and loops. */
  errors: number;
  /** Sum and count of the latency of answered exchanges, in milliseconds. */
  latencyMsTotal: number;
  answered: number;
  isHealthy: boolean;
  /** Times it was marked down. */
  markedDown: number;
}

/** Plain counters of forwarding (the default observer). */
export class ForwardStats implements ForwardObserver {
  cacheHits = 0;
  cacheMisses = 0;
  staleServed = 0;
  forwardedQueries = 0;
  failedQueries = 0;
  readonly rejectedQueries: Record<RejectReason, number> = {
    acl: 0,
    concurrency: 0,
    client: 0,
    loop: 0,
  };
  /** Per upstream, keyed by `ip:port`. */
  readonly upstreams = new Map<string, UpstreamCounters>();

  /** The counters of one upstream (created on first use). */
  upstream(address: string): UpstreamCounters {
    let counters = this.upstreams.get(address);
    if (counters === undefined) {
      counters = {
        queries: 0,
        errors: 0,
        latencyMsTotal: 0,
        answered: 0,
        isHealthy: true,
        markedDown: 0,
      };
      this.upstreams.set(address, counters);
    }
    return counters;
  }

  cache(result: 'hit' | 'miss' | 'stale'): void {
    if (result === 'hit') this.cacheHits++;
    else if (result === 'miss') this.cacheMisses++;
    else this.staleServed++;
  }

  forwarded(): void {
    this.forwardedQueries++;
  }

  failed(): void {
    this.failedQueries++;
  }

  rejected(reason: RejectReason): void {
    this.rejectedQueries[reason]++;
  }

  exchange(event: ExchangeEvent): void {
    const counters = this.upstream(event.upstream);
    counters.queries++;
    if (event.outcome === 'ok') {
      counters.answered++;
      counters.latencyMsTotal += event.durationMs;
    } else {
      counters.errors++;
    }
  }

  health(upstream: string, isHealthy: boolean): void {
    const counters = this.upstream(upstream);
    if (counters.isHealthy && !isHealthy) counters.markedDown++;
    counters.isHealthy = isHealthy;
  }
}
