/**
 * The `records` section: TTL, where task addresses come from, label rules, SRV weight, answer
 * shaping, the address views, the health rule, reverse lookups.
 */
import { parsePrefix } from '../../net/ip.js';
import { reverseZoneOf } from '../../net/reverse.js';
import { DEFAULT_CONFIG } from '../defaults.js';
import type { Config, HealthMode, IpSource } from '../types.js';
import type { Parsed } from '../values.js';
import { includes } from './fields.js';
import type { Fields } from './fields.js';

/** Upper bound of `records.ttl` in seconds, as in the schema (a TTL is a signed 32-bit value). */
const MAX_TTL = 2_147_483_647;

/** Every IP source (`records.ipSources`, Mesos-DNS `IPSources`). */
export const IP_SOURCES: readonly IpSource[] = ['netinfo', 'mesos', 'docker', 'host'];

/** Every `records.health` mode. */
export const HEALTH_MODES: readonly HealthMode[] = ['ignore', 'exclude-unhealthy'];

/** Reads `records`; unknown IP sources (the schema reported them) are dropped. */
export function buildRecords(f: Fields): Config['records'] {
  const D = DEFAULT_CONFIG;
  const { bool, get, int, list, seconds } = f;
  const health = get(['records', 'health']);
  const ipSourceList = list(['records', 'ipSources']).filter((s) => includes(IP_SOURCES, s));
  return {
    ttl: seconds(['records', 'ttl'], D.records.ttl, MAX_TTL),
    ipSources: ipSourceList.length > 0 ? ipSourceList : D.records.ipSources,
    enforceRFC952: bool(['records', 'enforceRFC952'], D.records.enforceRFC952),
    srvWeight: int(['records', 'srvWeight'], D.records.srvWeight),
    maxAddresses: int(['records', 'maxAddresses'], D.records.maxAddresses),
    addressViews: bool(['records', 'addressViews'], D.records.addressViews),
    health: includes(HEALTH_MODES, health) ? health : D.records.health,
    healthFailOpen: bool(['records', 'healthFailOpen'], D.records.healthFailOpen),
    reverse: buildReverse(f),
  };
}

/** A reverse zone's CIDR: on an octet (IPv4) or nibble (IPv6) boundary, no host bits. */
function parseReverseZone(text: string): Parsed<{ cidr: string; apex: string }> {
  const prefix = parsePrefix(text);
  if ('problem' in prefix) return prefix;
  const zone = reverseZoneOf(prefix);
  return 'problem' in zone ? zone : { value: { cidr: text, apex: zone.apex } };
}

/** Reads `records.reverse`: the zones are distinct and none lies inside another. */
function buildReverse(f: Fields): Config['records']['reverse'] {
  const D = DEFAULT_CONFIG.records.reverse;
  const path = ['records', 'reverse', 'zones'];
  const zones = f.items(path, parseReverseZone, (z) => z.apex);
  const kept: string[] = [];
  zones.forEach((zone, i) => {
    const outer = zones.find((z, j) => j !== i && zone.apex.endsWith(`.${z.apex}`));
    if (outer === undefined) {
      kept.push(zone.cidr);
      return;
    }
    const index = f.list(path).indexOf(zone.cidr);
    f.r.error([...path, index], `lies inside ${outer.cidr}: list the enclosing zone only`);
  });
  return { enabled: f.bool(['records', 'reverse', 'enabled'], D.enabled), zones: kept };
}
