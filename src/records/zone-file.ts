import type { RecordSet, RecordType } from './types.js';

/** Characters that must be escaped in a master-file name (RFC 1035 5.1). */
const SPECIAL = /["();\\@$]/g;

function escapeName(name: string): string {
  return name.replace(SPECIAL, (c) => `\\${c}`);
}

interface Line {
  readonly name: string;
  readonly type: RecordType;
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
 * `_web._tcp.marathon.mesos. 60 IN SRV 0 1 31000 web-a1b2c-1.marathon.slave.mesos.`.
 * Lines are sorted by name, then type, then value (SRV: target, then port numerically), so that
 * the output of two states can be diffed.
 */
export function toZoneFile(records: RecordSet, opts: { ttl: number; srvWeight: number }): string[] {
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
  lines.sort(compare);
  return lines.map((l) => `${escapeName(l.name)} ${opts.ttl} IN ${l.type} ${l.rdata}`);
}
