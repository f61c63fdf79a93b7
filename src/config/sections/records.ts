/**
 * The `records` section: TTL, where task addresses come from, label rules, SRV weight, the
 * address views.
 * The `records` section: TTL, where task addresses come from, label rules, SRV weight, the health
 * rule.
 */
import { DEFAULT_CONFIG } from '../defaults.js';
import type { Config, HealthMode, IpSource } from '../types.js';
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
  };
}
