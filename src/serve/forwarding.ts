/**
 * The DNS settings a config gives: the forwarder (its upstreams from the config or
 * /etc/resolv.conf, this server itself left out), the RRL limiter, the TCP limits. Forwarding
 * counters and the answer cache outlive reloads; the cache is kept while its settings stay.
 */
import { readFile } from 'node:fs/promises';
import { monotonicClock } from '../clock.js';
import type { Config, HostPort } from '../config/index.js';
import type { DnsSettings, ForwardObserver } from '../dns/index.js';
import {
  AnswerCache,
  ForwardStats,
  Forwarder,
  ResponseRateLimiter,
  excludeSelf,
  formatHostPort,
  parseResolvConf,
  reverseZones,
} from '../dns/index.js';
import type { Logger } from '../log.js';
import { reverseApexes } from '../net/reverse.js';
import { listenerAddresses } from '../cli/listen.js';

/** The upstreams of `forward.resolvers`, or of /etc/resolv.conf without this server. */
async function upstreams(config: Config, listen: HostPort): Promise<readonly HostPort[]> {
  if (config.forward.resolvers.length > 0) return config.forward.resolvers;
  let text = '';
  try {
    text = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    return [];
  }
  return excludeSelf(
    parseResolvConf(text),
    listen,
    listenerAddresses({ host: '0.0.0.0', port: 0 }),
  );
}

/**
 * Warns about configured upstreams that are this server itself: every query sent there comes
 * back and is answered SERVFAIL by the loop guard, and the next upstream is tried.
 */
function warnSelfUpstreams(config: Config, listen: HostPort, logger: Logger): void {
  const locals = listenerAddresses({ host: '0.0.0.0', port: 0 });
  const lists = [config.forward.resolvers, ...Object.values(config.forward.zones)];
  for (const list of lists) {
    const kept = excludeSelf(list, listen, locals);
    for (const upstream of list) {
      if (!kept.includes(upstream)) {
        logger.warn('an upstream resolver is this server itself (forwarding loop)', {
          upstream: formatHostPort(upstream),
        });
      }
    }
  }
}

/** Makes the DNS settings of each config (see the module comment). */
export class DnsSettingsMaker {
  readonly #logger: Logger;
  readonly #observer: (stats: ForwardStats) => ForwardObserver;
  readonly stats = new ForwardStats();
  #cache: { readonly key: string; readonly cache: AnswerCache } | undefined;

  /** `observer` wraps the forwarding counters (the metrics' `forwardObserver`). */
  constructor(logger: Logger, observer: (stats: ForwardStats) => ForwardObserver) {
    this.#logger = logger;
    this.#observer = observer;
  }

  /** The answer cache in use, if any. */
  get cache(): AnswerCache | undefined {
    return this.#cache?.cache;
  }

  #cacheFor(c: Config): AnswerCache | undefined {
    const { enabled, ...options } = c.forward.cache;
    if (!enabled) {
      this.#cache = undefined;
      return undefined;
    }
    const key = JSON.stringify(options);
    if (this.#cache?.key !== key) {
      this.#cache = { key, cache: new AnswerCache({ ...options, clock: monotonicClock }) };
    }
    return this.#cache.cache;
  }

  /** The settings of `c` for a DNS listener bound to `listen`. */
  async make(c: Config, listen: HostPort): Promise<DnsSettings> {
    let forwarder: Forwarder | undefined;
    if (c.forward.enabled) {
      const ups = await upstreams(c, listen);
      if (ups.length === 0) this.#logger.warn('forwarding enabled but no upstream resolvers found');
      warnSelfUpstreams(c, listen, this.#logger);
      const f = c.forward;
      forwarder = new Forwarder({
        resolvers: ups,
        zones: f.zones,
        timeoutMs: f.timeoutMs,
        policy: f.policy,
        maxConcurrent: f.maxConcurrent,
        maxConcurrentPerClient: f.maxConcurrentPerClient,
        allowFrom: f.allowFrom,
        tcpFallback: f.tcpFallback,
        maxFails: f.maxFails,
        healthCheckMs: f.healthCheckMs,
        recursionAvailable: c.dns.recursionAvailable,
        cache: this.#cacheFor(c),
        observer: this.#observer(this.stats),
        logger: this.#logger,
      });
    }
    return {
      domain: c.domain,
      recursionAvailable: c.dns.recursionAvailable,
      forwarder,
      tcp: c.dns.tcp,
      rrl: c.dns.rrl.enabled ? new ResponseRateLimiter(c.dns.rrl) : undefined,
      maxAddresses: c.records.maxAddresses,
      reverse: c.records.reverse.enabled
        ? reverseZones(reverseApexes(c.records.reverse.zones))
        : undefined,
    };
  }
}
