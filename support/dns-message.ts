/**
 * A typed view of decoded DNS messages for tests. dns-packet decodes (an independent parser,
 * not ours), but its published types omit the header flags and rcode; this narrows its output.
 */
import dnsPacket from 'dns-packet';

/** One decoded resource record. */
export interface Rec {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  /** A/AAAA/NS: a string; SRV: {priority, weight, port, target}; SOA: {mname, rname, serial, ...}. */
  readonly data: unknown;
}

/** A decoded message. */
export interface Message {
  readonly id: number;
  readonly rcode: string;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly qr: boolean;
  readonly questions: readonly { readonly name: string; readonly type: string }[];
  readonly answers: readonly Rec[];
  readonly authorities: readonly Rec[];
  /** Additional records without the OPT. */
  readonly additionals: readonly Rec[];
  /** UDP size of the OPT record, undefined when there is none. */
  readonly optSize: number | undefined;
}

function field(o: object, k: string): unknown {
  return (o as Record<string, unknown>)[k];
}

function records(list: unknown): Rec[] {
  if (!Array.isArray(list)) return [];
  return list.map((r: unknown) => {
    const o = typeof r === 'object' && r !== null ? r : {};
    return {
      name: String(field(o, 'name')),
      type: String(field(o, 'type')),
      ttl: Number(field(o, 'ttl') ?? 0),
      data: field(o, 'data'),
    };
  });
}

/** Decodes a DNS message with dns-packet. */
export function decodeMessage(buf: Buffer): Message {
  const p: object = dnsPacket.decode(buf);
  const all = records(field(p, 'additionals'));
  const rawAdditionals = field(p, 'additionals');
  let optSize: number | undefined;
  if (Array.isArray(rawAdditionals)) {
    for (const r of rawAdditionals as unknown[]) {
      if (typeof r === 'object' && r !== null && field(r, 'type') === 'OPT')
        optSize = Number(field(r, 'udpPayloadSize'));
    }
  }
  return {
    id: Number(field(p, 'id')),
    rcode: String(field(p, 'rcode')),
    aa: field(p, 'flag_aa') === true,
    tc: field(p, 'flag_tc') === true,
    rd: field(p, 'flag_rd') === true,
    ra: field(p, 'flag_ra') === true,
    qr: field(p, 'flag_qr') === true,
    questions: records(field(p, 'questions')).map((q) => ({ name: q.name, type: q.type })),
    answers: records(field(p, 'answers')),
    authorities: records(field(p, 'authorities')),
    additionals: all.filter((r) => r.type !== 'OPT'),
    optSize,
  };
}

/** Encodes a one-question query; `edns` adds an OPT with that UDP size. */
export function encodeQuery(
  name: string,
  type: string,
  opts: { id?: number; edns?: number; rd?: boolean } = {},
): Buffer {
  const packet = {
    type: 'query' as const,
    id: opts.id ?? 4242,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' as const }],
    additionals:
      opts.edns === undefined
        ? []
        : [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0 }],
  };
  return dnsPacket.encode(packet as dnsPacket.Packet);
}

/** SRV data narrowed. */
export function srvData(r: Rec): {
  priority: number;
  weight: number;
  port: number;
  target: string;
} {
  const d = typeof r.data === 'object' && r.data !== null ? r.data : {};
  return {
    priority: Number(field(d, 'priority')),
    weight: Number(field(d, 'weight')),
    port: Number(field(d, 'port')),
    target: String(field(d, 'target')),
  };
}

/** SOA data narrowed. */
export function soaData(r: Rec): { mname: string; rname: string; serial: number; minimum: number } {
  const d = typeof r.data === 'object' && r.data !== null ? r.data : {};
  return {
    mname: String(field(d, 'mname')),
    rname: String(field(d, 'rname')),
    serial: Number(field(d, 'serial')),
    minimum: Number(field(d, 'minimum')),
  };
}

/**
 * The answer a secondary holding `serial` gives the SOA query `query`: the question as asked, one
 * SOA RR (owner a pointer to the question, root mname and rname) with that serial.
 */
export function soaAnswer(query: Buffer, serial: number): Buffer {
  let end = 12;
  while ((query[end] ?? 0) !== 0) end += (query[end] ?? 0) + 1;
  const question = query.subarray(12, end + 5);
  const rr = Buffer.alloc(2 + 10 + 22);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(6, 2); // SOA
  rr.writeUInt16BE(1, 4);
  rr.writeUInt32BE(60, 6);
  rr.writeUInt16BE(22, 10);
  rr.writeUInt32BE(serial, 14); // after the root mname and rname
  const header = Buffer.from(query.subarray(0, 12));
  header[2] = 0x84;
  header[3] = 0;
  header.writeUInt16BE(1, 6);
  header.writeUInt16BE(0, 10);
  return Buffer.concat([header, question, rr]);
}
