import { intToIpv4 } from '../net/ip.js';
import { KIND_A, KIND_AAAA } from './layout.js';
import { CompactRecordSet } from './views.js';
import type { RecordSet, RecordType } from './types.js';

/** Characters that must be escaped in a master-file name (RFC 1035 5.1). */
const SPECIAL = /["();\\@$]/g;

function escapeName(name: string): string {
  return name.replace(SPECIAL, (c) => `\\${c}`);
}

interface Line {
  readonly name: string;
  readonly type: RecordType | 'PTR';
  /** Sort keys after name and type: the address, or SRV target then port. */
  readonly key: string;
  readonly port: number;
  readonly rdata: string;
}

function compare(x: Line, y: Line): number {
  if (x.name !== y.name) return x.name < y.name ? -1 : 1;
  if (x.type !== y.type) return x.type < y.type ? -1 : 1;
  if (x.key !== y.key) return x.key < y.key ? -1 : 1;
  return x.port - y.port;
}

/**
 * Renders a record set as master-file lines (RFC 1035 5.1), one record per line, e.g.
 * `web.marathon.mesos. 60 IN A 10.0.0.5` and
 * `_web._tcp.marathon.mesos. 60 IN SRV 0 1 31000 web-a1b2c-1.marathon.slave.mesos.`; with
 * reverse lookups on, the PTR records too (`5.0.0.10.in-addr.arpa. 60 IN PTR web-a1b2c-1.marathon.mesos.`).
 * Lines are sorted by name, then type, then value (SRV: target, then port numerically), so that
 * the output of two states can be diffed.
 */
export function toZoneFile(records: RecordSet, opts: { ttl: number; srvWeight: number }): string[] {
  if (records instanceof CompactRecordSet) return compactZoneFile(records, opts);
  const lines: Line[] = [];
  const addresses = (type: 'A' | 'AAAA', map: ReadonlyMap<string, readonly string[]>): void => {
    for (const [name, values] of map) {
      for (const v of values) lines.push({ name, type, key: v, port: 0, rdata: v });
    }
  };
  addresses('A', records.a);
  addresses('AAAA', records.aaaa);
  for (const [name, values] of records.srv) {
    for (const v of values) {
      lines.push({
        name,
        type: 'SRV',
        key: v.target,
        port: v.port,
        rdata: `0 ${opts.srvWeight} ${v.port} ${escapeName(v.target)}`,
      });
    }
  }
  for (const [name, targets] of records.ptr ?? []) {
    for (const t of targets)
      lines.push({ name, type: 'PTR', key: t, port: 0, rdata: escapeName(t) });
  }
  lines.sort(compare);
  return lines.map((l) => `${escapeName(l.name)} ${opts.ttl} IN ${l.type} ${l.rdata}`);
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `toZoneFile` for the generator's compact set, in the same order: the owner names are sorted
 * once, then each name's values (a few) per type, instead of sorting a million line objects.
 */
function compactZoneFile(rs: CompactRecordSet, opts: { ttl: number; srvWeight: number }): string[] {
  const { kinds } = rs.data;
  const [a, aaaa, srv, ptr] = kinds;
  const owners: { id: number; name: string }[] = [];
  for (let id = 0; id < rs.nameCount; id++) {
    const slots = (a.slot[id] ?? 0) + (aaaa.slot[id] ?? 0) + (srv.slot[id] ?? 0);
    if (slots + (ptr.slot[id] ?? 0) > 0) {
      owners.push({ id, name: rs.name(id) });
    }
  }
  owners.sort((x, y) => byText(x.name, y.name));
  const lines: string[] = [];
  for (const { id, name } of owners) {
    const prefix = `${escapeName(name)} ${String(opts.ttl)} IN `;
    for (const kind of [KIND_A, KIND_AAAA] as const) {
      const k = kinds[kind];
      const slot = (k.slot[id] ?? 0) - 1;
      if (slot < 0) continue;
      const values: string[] = [];
      const end = k.start[slot + 1] ?? 0;
      for (let i = k.start[slot] ?? 0; i < end; i++) {
        const v = k.values[i] ?? 0;
        values.push(kind === KIND_A ? intToIpv4(v) : rs.v6Text(v));
      }
      values.sort(byText);
      const type = kind === KIND_A ? 'A ' : 'AAAA ';
      for (const v of values) lines.push(prefix + type + v);
    }
    const ptrSlot = (ptr.slot[id] ?? 0) - 1;
    if (ptrSlot >= 0) {
      const names: string[] = [];
      const end = ptr.start[ptrSlot + 1] ?? 0;
      for (let i = ptr.start[ptrSlot] ?? 0; i < end; i++) names.push(rs.name(ptr.values[i] ?? 0));
      for (const n of names.sort(byText)) lines.push(`${prefix}PTR ${escapeName(n)}`);
    }
    const slot = (srv.slot[id] ?? 0) - 1;
    if (slot < 0) continue;
    const targets: { target: string; port: number }[] = [];
    const end = srv.start[slot + 1] ?? 0;
    for (let i = srv.start[slot] ?? 0; i < end; i++) {
      targets.push({ target: rs.name(srv.values[i] ?? 0), port: srv.ports[i] ?? 0 });
    }
    targets.sort((x, y) => byText(x.target, y.target) || x.port - y.port);
    for (const t of targets) {
      lines.push(
        `${prefix}SRV 0 ${String(opts.srvWeight)} ${String(t.port)} ${escapeName(t.target)}`,
      );
    }
  }
  return lines;
}
