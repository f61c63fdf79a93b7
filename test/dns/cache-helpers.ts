/**
 * Builders shared by the cache and forwarder unit tests: queries parsed as the server parses
 * them, and upstream replies encoded with dns-packet (an independent encoder).
 */
import dnsPacket from 'dns-packet';
import type { Answer, Packet } from 'dns-packet';
import { isProblem, parseQuery } from '../../src/dns/index.js';
import type { Query } from '../../src/dns/index.js';

/** A manual clock for the cache. */
export class FakeClock {
  nowMs = 1_700_000_000_000;

  now(): number {
    return this.nowMs;
  }

  advance(seconds: number): void {
    this.nowMs += seconds * 1000;
  }
}

/** Options of `query`. */
export interface QueryOpts {
  readonly id?: number;
  readonly rd?: boolean;
  readonly cd?: boolean;
  /** Add an OPT with this UDP size. */
  readonly edns?: number;
  readonly do?: boolean;
  /** EDNS options, e.g. `[{ code: 8, data }]` for Client Subnet, `[{ code: 10, data }]` a cookie. */
  readonly options?: readonly { code: number; data: Buffer }[];
  readonly qclass?: 'IN' | 'CH';
}

/** A query message and its parse, as the server sees it. */
export interface TestQuery {
  readonly msg: Buffer;
  readonly query: Query;
}

/** Encodes and parses a one-question query. */
export function query(name: string, type: Answer['type'], opts: QueryOpts = {}): TestQuery {
  const hasOpt = opts.edns !== undefined || opts.do === true || opts.options !== undefined;
  const packet: Packet = {
    type: 'query',
    id: opts.id ?? 4242,
    flags:
      (opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED) |
      (opts.cd === true ? dnsPacket.CHECKING_DISABLED : 0),
    questions: [{ name, type, class: opts.qclass ?? 'IN' }],
    additionals: hasOpt
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: opts.edns ?? 1232,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: opts.do === true ? dnsPacket.DNSSEC_OK : 0,
            flag_do: opts.do === true,
            options: [],
          },
        ]
      : [],
  };
  const msg = withOptions(dnsPacket.encode(packet), opts.options ?? []);
  const parsed = parseQuery(msg);
  if (isProblem(parsed)) throw new Error(`test query did not parse: ${parsed.reason}`);
  return { msg, query: parsed };
}

/** Options of `reply`. */
export interface ReplyOpts {
  readonly rcode?: number;
  readonly tc?: boolean;
  readonly aa?: boolean;
  readonly answers?: readonly Answer[];
  readonly authorities?: readonly Answer[];
  readonly additionals?: readonly Answer[];
  /** Add an OPT (with a cookie option, as an upstream echoing one would). */
  readonly opt?: boolean;
}

/** Encodes an upstream reply to `q` (same ID and question). */
export function reply(q: TestQuery, opts: ReplyOpts = {}): Buffer {
  const question = dnsPacket.decode(q.msg).questions ?? [];
  const packet: Packet = {
    type: 'response',
    id: q.query.id,
    flags:
      dnsPacket.RECURSION_DESIRED |
      dnsPacket.RECURSION_AVAILABLE |
      (opts.aa === true ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
      (opts.tc === true ? dnsPacket.TRUNCATED_RESPONSE : 0) |
      ((opts.rcode ?? 0) & 0x0f),
    questions: question,
    answers: [...(opts.answers ?? [])],
    authorities: [...(opts.authorities ?? [])],
    additionals: [
      ...(opts.additionals ?? []),
      ...(opts.opt === true
        ? [
            {
              type: 'OPT' as const,
              name: '.',
              udpPayloadSize: 4096,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ]
        : []),
    ],
  };
  const encoded = dnsPacket.encode(packet);
  return opts.opt === true
    ? withOptions(encoded, [{ code: 10, data: Buffer.alloc(24, 7) }])
    : encoded;
}

/** Appends EDNS options to a message whose last RR is an OPT without options. */
function withOptions(msg: Buffer, options: readonly { code: number; data: Buffer }[]): Buffer {
  if (options.length === 0) return msg;
  const parts = options.map((o) => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(o.code, 0);
    head.writeUInt16BE(o.data.length, 2);
    return Buffer.concat([head, o.data]);
  });
  const out = Buffer.concat([msg, ...parts]);
  const rdlength = parts.reduce((n, p) => n + p.length, 0);
  out.writeUInt16BE(rdlength, msg.length - 2);
  return out;
}

/** An A record. */
export function a(name: string, address: string, ttl: number): Answer {
  return { type: 'A', name, ttl, class: 'IN', data: address };
}

/** An SOA record of `zone` with TTL `ttl` and MINIMUM `minimum`. */
export function soa(zone: string, ttl: number, minimum: number): Answer {
  return {
    type: 'SOA',
    name: zone,
    ttl,
    class: 'IN',
    data: {
      mname: `ns1.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum,
    },
  };
}
