/** The `dns` section: the listener, TCP limits, response rate limiting and the SOA. */
import { DEFAULT_CONFIG, defaultSoaNames } from '../defaults.js';
import type { Config } from '../types.js';
import { SOA_NAME_RE, domainProblem, normalizeSoaName, parseCidr } from '../values.js';
import type { Fields } from './fields.js';

/** Upper bound of the SOA timers in seconds, as in the schema (unsigned 32-bit values). */
const MAX_UINT32 = 4_294_967_295;

/** Reads `dns`; absent SOA names are derived from `domain` (`ns1.<domain>.`). */
export function buildDns(f: Fields, domain: string): Config['dns'] {
  const D = DEFAULT_CONFIG;
  const { r, get, bool, int, duration, seconds, items, listen } = f;

  const defaultNames = defaultSoaNames(domain);
  const soaName = (field: 'mname' | 'rname'): string => {
    const path = ['dns', 'soa', field];
    const v = get(path);
    if (typeof v !== 'string') return defaultNames[field];
    const name = normalizeSoaName(v, field === 'rname');
    const bad = domainProblem(name.slice(0, -1), SOA_NAME_RE);
    if (bad !== undefined) r.error(path, bad);
    return name;
  };
  const soa = {
    mname: soaName('mname'),
    rname: soaName('rname'),
    refresh: seconds(['dns', 'soa', 'refresh'], D.dns.soa.refresh, MAX_UINT32),
    retry: seconds(['dns', 'soa', 'retry'], D.dns.soa.retry, MAX_UINT32),
    expire: seconds(['dns', 'soa', 'expire'], D.dns.soa.expire, MAX_UINT32),
    minimum: seconds(['dns', 'soa', 'minimum'], D.dns.soa.minimum, MAX_UINT32),
  };

  return {
    listen: listen(['dns', 'listen'], D.dns.listen),
    recursionAvailable: bool(['dns', 'recursionAvailable'], D.dns.recursionAvailable),
    batchedUdp: bool(['dns', 'batchedUdp'], D.dns.batchedUdp),
    tcp: {
      maxConnections: int(['dns', 'tcp', 'maxConnections'], D.dns.tcp.maxConnections),
      maxConnectionsPerClient: int(
        ['dns', 'tcp', 'maxConnectionsPerClient'],
        D.dns.tcp.maxConnectionsPerClient,
      ),
      idleTimeoutMs: duration(['dns', 'tcp', 'idleTimeout'], D.dns.tcp.idleTimeoutMs),
      ioTimeoutMs: duration(['dns', 'tcp', 'ioTimeout'], D.dns.tcp.ioTimeoutMs),
    },
    rrl: {
      enabled: bool(['dns', 'rrl', 'enabled'], D.dns.rrl.enabled),
      responsesPerSecond: int(['dns', 'rrl', 'responsesPerSecond'], D.dns.rrl.responsesPerSecond),
      slip: int(['dns', 'rrl', 'slip'], D.dns.rrl.slip),
      ipv4Prefix: int(['dns', 'rrl', 'ipv4Prefix'], D.dns.rrl.ipv4Prefix),
      ipv6Prefix: int(['dns', 'rrl', 'ipv6Prefix'], D.dns.rrl.ipv6Prefix),
      exempt:
        get(['dns', 'rrl', 'exempt']) === undefined
          ? D.dns.rrl.exempt
          : items(['dns', 'rrl', 'exempt'], parseCidr, (c) => c.toLowerCase()),
    },
    soa,
  };
}
