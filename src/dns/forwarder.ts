/**
 * Forwarding of names outside the zone (the forward step of the server's chain). The client's
 * packet is relayed as is (EDNS options, DO/CD, unknown types) with a fresh ID, over the client's
 * transport, to the upstreams of the longest matching `forward.zones` entry or else
 * `forward.resolvers`, in the order of `forward.policy`, healthy ones first, all within one
 * `forward.timeout` deadline. A truncated UDP reply is fetched again over TCP (`tcpFallback`).
 * Answers go into the cache; when every upstream fails, a stale answer (serve-stale) or SERVFAIL
 * is returned. Client access (`allowFrom`), loops and `maxConcurrent` are checked by the server
 * through `allows`, `isLoop` and `admits` before `forward`.
 */
import type { HostPort } from '../config/index.js';
import type { Logger } from '../log.js';
import { Acl, PerClient, clientKey } from './acl.js';
import { AnswerCache } from './cache.js';
import type { PolicyName, Policy } from './policy.js';
import { createPolicy } from './policy.js';
import type { Transport } from './response.js';
import { errorResponse, sizeLimit } from './response.js';
import type { ReplyLayout } from './upstream-message.js';
import { layoutOf, truncateReply } from './upstream-message.js';
import type { ForwardObserver } from './upstream-stats.js';
import { ForwardStats } from './upstream-stats.js';
import { Upstream, UpstreamClient, formatHostPort } from './upstream.js';
import type { Query } from './wire.js';
import { HEADER_SIZE, RCODE, keyToName } from './wire.js';

export { formatHostPort } from './upstream.js';

/** Longest wait of a health probe. */
const MAX_PROBE_TIMEOUT_MS = 2_000;

/** Options of the forwarder (the `forward.*` settings; defaults live in config/defaults.ts). */
export interface ForwarderOptions {
  readonly resolvers: readonly HostPort[];
  /** Zone (lower case, no trailing dot) -> upstreams. */
  readonly zones: Readonly<Record<string, readonly HostPort[]>>;
  /** Deadline of one forwarded query, all attempts included. */
  readonly timeoutMs: number;
  readonly policy: PolicyName;
  /** Forwarded queries in flight at most; more get REFUSED. */
  readonly maxConcurrent: number;
  /** Forwarded queries in flight at most for one client (`clientKey`); default: no limit. */
  readonly maxConcurrentPerClient?: number;
  /** CIDRs of the clients that may use forwarding. */
  readonly allowFrom: readonly string[];
  /** Retry a truncated UDP reply over TCP (else pass it through with TC). */
  readonly tcpFallback: boolean;
  /** Consecutive failures that mark an upstream down (0: never). */
  readonly maxFails: number;
  /** Probe period of an upstream marked down. */
  readonly healthCheckMs: number;
  /** The RA bit of the SERVFAIL and REFUSED answers this step builds. */
  readonly recursionAvailable: boolean;
  /** The answer cache, if enabled (it may outlive the forwarder across reloads). */
  readonly cache?: AnswerCache | undefined;
  /** Metrics hooks; a private `ForwardStats` when absent. */
  readonly observer?: ForwardObserver | undefined;
  readonly logger: Logger;
  /** Random source of the `random` policy (tests). */
  readonly random?: () => number;
}

interface Group {
  readonly upstreams: readonly Upstream[];
  readonly policy: Policy;
}

/** A reply and its layout (undefined when it could not be walked: relayed, never cached). */
interface Relayed {
  readonly reply: Buffer;
  readonly layout: ReplyLayout | undefined;
}

/** Relays queries to upstream resolvers. `close()` releases its sockets and timers. */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #client: UpstreamClient;
  readonly #acl: Acl;
  readonly #observer: ForwardObserver;
  readonly #default: Group;
  /** Longest zone first, so the first suffix match is the most specific. */
  readonly #zones: readonly (readonly [string, Group])[];
  readonly #all: readonly Upstream[];
  #inFlight = 0;
  /** Queries in flight by client (`clientKey`). */
  readonly #perClient = new PerClient();
  #hasWarnedLoop = false;

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#client = new UpstreamClient();
    this.#acl = new Acl(options.allowFrom);
    this.#observer = options.observer ?? new ForwardStats();
    // One Upstream per address, so that its health is shared by every list naming it.
    const byName = new Map<string, Upstream>();
    const group = (list: readonly HostPort[]): Group => ({
      upstreams: list.map((address) => {
        const name = formatHostPort(address);
        let upstream = byName.get(name);
        if (upstream === undefined) {
          upstream = new Upstream({
            address,
            client: this.#client,
            maxFails: options.maxFails,
            healthCheckMs: options.healthCheckMs,
            probeTimeoutMs: Math.min(options.timeoutMs, MAX_PROBE_TIMEOUT_MS),
            observer: this.#observer,
            logger: options.logger,
          });
          byName.set(name, upstream);
        }
        return upstream;
      }),
      policy: createPolicy(options.policy, options.random),
    });
    this.#default = group(options.resolvers);
    this.#zones = Object.entries(options.zones)
      .map(([zone, ups]) => [zone.toLowerCase().replace(/\.$/, ''), group(ups)] as const)
      .sort((a, b) => b[0].length - a[0].length);
    this.#all = [...byName.values()];
  }

  /** The upstreams for a lower-case dotted FQDN, in configuration order. */
  upstreamsFor(name: string): readonly HostPort[] {
    return this.#groupFor(name).upstreams.map((u) => u.address);
  }

  /** Health of every upstream, by `ip:port`. */
  health(): ReadonlyMap<string, boolean> {
    return new Map(this.#all.map((u) => [u.name, u.isHealthy]));
  }

  /** Forwarded queries waiting for upstreams right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #groupFor(name: string): Group {
    const bare = name.replace(/\.$/, '');
    for (const [zone, group] of this.#zones) {
      if (bare === zone || bare.endsWith('.' + zone)) return group;
    }
    return this.#default;
  }

  /**
   * True when `client` (an IP literal; undefined for in-process callers) may use forwarding
   * (`forward.allowFrom`). Counts a rejection otherwise.
   */
  allows(client: string | undefined): boolean {
    if (client === undefined || this.#acl.allows(client)) return true;
    this.#observer.rejected('acl');
    return false;
  }

  /** A fresh cached answer to `query`, ready to send, or undefined (a miss). Synchronous. */
  cached(msg: Buffer, query: Query, transport: Transport): Buffer | undefined {
    const cache = this.#options.cache;
    if (cache === undefined) return undefined;
    const key = AnswerCache.keyOf(msg, query);
    if (key === undefined) return undefined;
    const hit = cache.get(key, msg, query, transport);
    this.#observer.cache(hit === undefined ? 'miss' : 'hit');
    return hit;
  }

  /**
   * True when `msg` is one of this forwarder's own queries that came back to our listener (we
   * are, directly or through a relay that keeps IDs, our own upstream). It must not be
   * forwarded again; the exchange it belongs to fails and the next upstream is tried.
   */
  isLoop(msg: Buffer, query: Query): boolean {
    if (!this.#client.isOwnQuery(msg, query.questionEnd)) return false;
    this.#observer.rejected('loop');
    if (!this.#hasWarnedLoop) {
      this.#hasWarnedLoop = true;
      this.#options.logger.warn(
        'forwarding loop: a query this server forwarded came back to it; check forward.resolvers',
        { qname: keyToName(query.key) },
      );
    }
    return true;
  }

  /**
   * True when one more query of `client` may be forwarded now: fewer than `maxConcurrent` in
   * flight, and fewer than `maxConcurrentPerClient` of this client's, so that one client
   * flooding names whose upstream never answers cannot take every slot.
   */
  admits(client = ''): boolean {
    if (this.#inFlight >= this.#options.maxConcurrent) {
      this.#observer.rejected('concurrency');
      return false;
    }
    const perClient = this.#options.maxConcurrentPerClient ?? Infinity;
    if (perClient !== Infinity && this.#perClient.held(clientKey(client)) >= perClient) {
      this.#observer.rejected('client');
      return false;
    }
    return true;
  }

  /**
   * Forwards `msg` (a parsed query) and resolves with the response for the client: the
   * upstream's reply with the client's ID, question spelling and AA cleared (over UDP cut to
   * the client's size, at most 1232 bytes, when larger: after a TCP fallback, or from an upstream
   * that honoured a larger EDNS size), a stale cached answer, or SERVFAIL. Never rejects.
   */
  async forward(msg: Buffer, query: Query, transport: Transport, client = ''): Promise<Buffer> {
    const key = clientKey(client);
    this.#inFlight++;
    this.#perClient.take(key, Infinity);
    this.#observer.forwarded();
    try {
      return await this.#resolve(msg, query, transport);
    } finally {
      this.#inFlight--;
      this.#perClient.give(key);
    }
  }

  async #resolve(msg: Buffer, query: Query, transport: Transport): Promise<Buffer> {
    const cache = this.#options.cache;
    const key = cache === undefined ? undefined : AnswerCache.keyOf(msg, query);
    const stale = (): Buffer | undefined => {
      if (cache === undefined || key === undefined) return undefined;
      const answer = cache.getStale(key, msg, query, transport);
      if (answer !== undefined) this.#observer.cache('stale');
      return answer;
    };
    const group = this.#groupFor(keyToName(query.key));
    const order = group.policy.order(group.upstreams);
    // Every upstream is down: a stale answer now beats waiting for the deadline (RFC 8767 5).
    if (order[0]?.isHealthy === false) {
      const answer = stale();
      if (answer !== undefined) return answer;
    }
    const relayed = await this.#tryUpstreams(msg, query, transport, order);
    if (relayed !== undefined) {
      const { reply, layout } = relayed;
      if (layout?.rcode === RCODE.SERVFAIL) {
        const answer = stale();
        if (answer !== undefined) return answer;
      }
      if (cache !== undefined && key !== undefined && layout !== undefined) {
        cache.put(key, reply, layout);
      }
      const limit = sizeLimit(transport, query.edns);
      if (transport === 'udp' && layout !== undefined && reply.length > limit) {
        return truncateReply(reply, layout, limit);
      }
      return reply;
    }
    const answer = stale();
    if (answer !== undefined) return answer;
    this.#observer.failed();
    this.#options.logger.debug('every upstream failed', {
      qname: keyToName(query.key),
      upstreams: group.upstreams.map((u) => u.name),
      transport,
    });
    const servfail = errorResponse(
      msg,
      RCODE.SERVFAIL,
      query.questionEnd,
      query.edns,
      this.#options.recursionAvailable,
    );
    if (cache !== undefined && key !== undefined) cache.put(key, servfail);
    return servfail;
  }

  /** Tries the upstreams in order within the deadline; the first reply wins. */
  async #tryUpstreams(
    msg: Buffer,
    query: Query,
    transport: Transport,
    order: readonly Upstream[],
  ): Promise<Relayed | undefined> {
    const deadline = performance.now() + this.#options.timeoutMs;
    let healthyLeft = 0;
    for (const u of order) if (u.isHealthy) healthyLeft++;
    for (let i = 0; i < order.length; i++) {
      const upstream = order[i];
      if (upstream === undefined || upstream.isLooping) continue;
      const remaining = deadline - performance.now();
      if (remaining <= 1) break;
      // Healthy upstreams share the deadline; those marked down get what is left after them.
      const sharing = upstream.isHealthy ? healthyLeft : order.length - i;
      if (upstream.isHealthy) healthyLeft--;
      const budget = Math.max(1, Math.floor(remaining / Math.max(1, sharing)));
      let reply = await upstream.exchange(msg, query.questionEnd, transport, budget);
      if (reply === undefined) continue;
      let layout = layoutOf(reply);
      if (transport === 'udp' && ((reply[2] ?? 0) & 0x02) !== 0 && this.#options.tcpFallback) {
        const left = Math.max(1, Math.floor(deadline - performance.now()));
        // A TCP failure here says nothing about the upstream's UDP service: not a health failure.
        const full = await upstream.exchange(msg, query.questionEnd, 'tcp', left, false);
        const fullLayout = full === undefined ? undefined : layoutOf(full);
        if (full !== undefined && fullLayout !== undefined) {
          reply = full;
          layout = fullLayout;
        }
      }
      reply.writeUInt16BE(query.id, 0);
      reply[2] = (reply[2] ?? 0) & ~0x04; // AA cleared: we are not the authority.
      // The question as the client spelled it (the upstream's matched case-insensitively).
      if (reply.readUInt16BE(4) === 1) msg.copy(reply, HEADER_SIZE, HEADER_SIZE, query.qnameEnd);
      return { reply, layout };
    }
    return undefined;
  }

  /** Stops every exchange in flight, the health probes, and closes the sockets. */
  close(): void {
    for (const u of this.#all) u.close();
    this.#client.close();
  }
}
