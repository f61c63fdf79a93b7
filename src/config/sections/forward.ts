/** The `forward` section: upstreams, per-zone upstreams, policy, limits, access and the cache. */
import { isRecord } from '../../is-record.js';
import { DEFAULT_CONFIG } from '../defaults.js';
import type { Path } from '../report.js';
import type { Config, ForwardPolicy, HostPort } from '../types.js';
import { domainProblem, normalizeDomain, parseCidr, parseUpstream } from '../values.js';
import { hostPortKey, includes } from './fields.js';
import type { Fields } from './fields.js';

/** Upper bounds of the cache lifetimes in seconds, as in the schema. */
const MAX_CACHE_TTL = 604_800;
const MAX_SERVFAIL_TTL = 300;
const FORWARD_POLICIES: readonly ForwardPolicy[] = ['sequential', 'random', 'round_robin'];

/**
 * Reads `forward`. Zones are checked against `domain` and each other as Mesos-DNS checks its
 * ZoneResolvers.
 */
export function buildForward(f: Fields, domain: string): Config['forward'] {
  const D = DEFAULT_CONFIG;
  const { r, get, bool, int, duration, seconds, items } = f;

  const resolvers = items(['forward', 'resolvers'], parseUpstream, hostPortKey);
  const zones: Record<string, readonly HostPort[]> = {};
  const zonePaths = new Map<string, Path>();
  const rawZones = get(['forward', 'zones']);
  for (const name of isRecord(rawZones) ? Object.keys(rawZones) : []) {
    const path = ['forward', 'zones', name];
    if (r.isFlagged(path)) continue;
    const zone = normalizeDomain(name);
    const bad = domainProblem(zone);
    if (bad !== undefined) {
      r.error(path, bad, 'key');
      continue;
    }
    const same = zonePaths.get(zone);
    if (same !== undefined) {
      r.error(path, `duplicate of ${r.display(same)}`, 'key');
      continue;
    }
    zonePaths.set(zone, path);
    zones[zone] = items(path, parseUpstream, hostPortKey);
  }
  // Mesos-DNS rules (docs/mesos-dns-rules.md 4.2): no zone is the domain, and no name among the
  // zones and the domain is inside another, so that the answer never depends on match order.
  for (const [zone, path] of zonePaths) {
    if (zone === domain) {
      r.error(path, `is the Mesos domain '${domain}', which is answered, never forwarded`, 'key');
    } else if (zone.endsWith(`.${domain}`)) {
      r.error(
        path,
        `is inside the Mesos domain '${domain}', which is answered, never forwarded`,
        'key',
      );
    } else if (domain.endsWith(`.${zone}`)) {
      r.error(path, `contains the Mesos domain '${domain}' (zones must not overlap it)`, 'key');
    } else {
      for (const other of zonePaths.keys()) {
        if (zone.endsWith(`.${other}`)) {
          r.error(path, `is inside zone '${other}' (zones must not overlap)`, 'key');
          break;
        }
      }
    }
  }

  // policy, limits, access control, health and cache
  const policy = get(['forward', 'policy']);
  const cacheInt = (key: keyof Config['forward']['cache']): number => {
    const fallback = D.forward.cache[key];
    return int(['forward', 'cache', key], typeof fallback === 'number' ? fallback : 0);
  };
  const cacheSeconds = (key: keyof Config['forward']['cache'], maxSeconds: number): number => {
    const fallback = D.forward.cache[key];
    return seconds(
      ['forward', 'cache', key],
      typeof fallback === 'number' ? fallback : 0,
      maxSeconds,
    );
  };
  const forwardExtras = {
    policy: includes(FORWARD_POLICIES, policy) ? policy : D.forward.policy,
    maxConcurrent: int(['forward', 'maxConcurrent'], D.forward.maxConcurrent),
    maxConcurrentPerClient: int(
      ['forward', 'maxConcurrentPerClient'],
      D.forward.maxConcurrentPerClient,
    ),
    allowFrom:
      get(['forward', 'allowFrom']) === undefined
        ? D.forward.allowFrom
        : items(['forward', 'allowFrom'], parseCidr, (c) => c.toLowerCase()),
    tcpFallback: bool(['forward', 'tcpFallback'], D.forward.tcpFallback),
    maxFails: int(['forward', 'maxFails'], D.forward.maxFails),
    healthCheckMs: duration(['forward', 'healthCheck'], D.forward.healthCheckMs),
    cache: {
      enabled: bool(['forward', 'cache', 'enabled'], D.forward.cache.enabled),
      maxEntries: cacheInt('maxEntries'),
      maxBytes: cacheInt('maxBytes'),
      maxTtl: cacheSeconds('maxTtl', MAX_CACHE_TTL),
      negativeMaxTtl: cacheSeconds('negativeMaxTtl', MAX_CACHE_TTL),
      servfailTtl: cacheSeconds('servfailTtl', MAX_SERVFAIL_TTL),
      serveStale: bool(['forward', 'cache', 'serveStale'], D.forward.cache.serveStale),
      staleTtl: cacheSeconds('staleTtl', MAX_CACHE_TTL),
    },
  };

  return {
    enabled: bool(['forward', 'enabled'], D.forward.enabled),
    resolvers,
    zones,
    timeoutMs: duration(['forward', 'timeout'], D.forward.timeoutMs),
    ...forwardExtras,
  };
}
