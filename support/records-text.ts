/**
 * Builds record sets from zone-file-like text so DNS tests read like DNS:
 *   web.marathon.mesos.  A     10.0.0.1
 *   _web._tcp.marathon.mesos. SRV 31000 web.marathon.mesos.
 */
import type { SoaConfig } from '../src/config/index.js';
import { answerAuthoritative, compileZone, isProblem, parseQuery } from '../src/dns/index.js';
import type { Transport, Zone } from '../src/dns/index.js';
import type { RecordSet, SrvTarget } from '../src/records/index.js';
import { encodeQuery } from './dns-message.js';

/** Parses `name TYPE value` lines (A, AAAA, `SRV port target`) into a RecordSet for `zone`. */
export function recordsFromText(text: string, zone = 'mesos.'): RecordSet {
  const a = new Map<string, string[]>();
  const aaaa = new Map<string, string[]>();
  const srv = new Map<string, SrvTarget[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T): void => {
    const list = m.get(k) ?? [];
    list.push(v);
    m.set(k, list);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    const [name = '', type = '', ...rest] = line.split(/\s+/);
    const owner = name.toLowerCase();
    if (type === 'A') push(a, owner, rest[0] ?? '');
    else if (type === 'AAAA') push(aaaa, owner, rest[0] ?? '');
    else if (type === 'SRV')
      push(srv, owner, { port: Number(rest[0]), target: (rest[1] ?? '').toLowerCase() });
    else throw new Error(`unsupported line: ${line}`);
  }
  return {
    zone,
    a,
    aaaa,
    srv,
    enumeration: [],
    stats: { frameworks: 0, agents: 0, tasks: 0, skippedTasks: 0, skippedNames: 0, records: 0 },
  };
}

/** The SOA the DNS unit tests use (`minimum` varies per test). */
export function testSoa(minimum = 60): SoaConfig {
  return {
    mname: 'ns1.mesos.',
    rname: 'root.ns1.mesos.',
    refresh: 60,
    retry: 600,
    expire: 86400,
    minimum,
  };
}

/** Compiles zone-file-like text (see `recordsFromText`) with TTL 60 and SRV weight 1. */
export function zoneFromText(text: string, opts: { minimum?: number; serial?: number } = {}): Zone {
  return compileZone(recordsFromText(text), {
    ttl: 60,
    srvWeight: 1,
    soa: testSoa(opts.minimum),
    serial: opts.serial ?? 1,
  });
}

/** Asks the authority step of `zone` one question and returns the raw response. */
export function askZone(
  zone: Zone,
  name: string,
  type: string,
  opts: { edns?: number; transport?: Transport; id?: number; maxAddresses?: number } = {},
): Buffer {
  const query = encodeQuery(name, type, opts);
  const parsed = parseQuery(query);
  if (isProblem(parsed)) throw new Error(parsed.reason);
  const transport = opts.transport ?? 'udp';
  return answerAuthoritative(query, parsed, zone, true, transport, opts.maxAddresses).response;
}
