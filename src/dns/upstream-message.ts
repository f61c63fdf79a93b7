/**
 * Reading and reshaping upstream replies without decoding them (RFC 1035 4.1): where each RR
 * starts and ends, where its TTL is, the negative-caching TTL from the SOA (RFC 2308 5), the OPT
 * (RFC 6891), and truncation of a whole reply to a size limit. Pure: no sockets, no clock.
 */
import type { Query } from './wire.js';
import { HEADER_SIZE, RCODE, TYPE, skipName, u16 } from './wire.js';

/** EDNS option code of Client Subnet (RFC 7871): answers may depend on the client's network. */
const OPTION_ECS = 8;

/** The structure of a reply: every offset a cache or a truncation needs. */
export interface ReplyLayout {
  /** RCODE including the EDNS extended bits (RFC 6891 6.1.3). */
  readonly rcode: number;
  readonly isTruncated: boolean;
  /** Offset just past the question (header + QNAME + QTYPE/QCLASS). */
  readonly questionEnd: number;
  /** ANCOUNT, NSCOUNT and ARCOUNT as found. */
  readonly counts: readonly [number, number, number];
  /** End offset of every RR, in order (answer, authority, additional). */
  readonly rrEnds: Uint32Array;
  /** Offset of the TTL field of every RR except the OPT, in order. */
  readonly ttlOffsets: Uint32Array;
  /** The smallest TTL of those RRs (undefined when there are none). */
  readonly minTtl: number | undefined;
  /** min(SOA TTL, SOA MINIMUM) of the first SOA in the authority section (RFC 2308 5). */
  readonly negativeTtl: number | undefined;
  /** Start and end of the OPT RR, when the reply has one. */
  readonly opt: { readonly start: number; readonly end: number } | undefined;
}

/**
 * Walks a reply and returns its layout, or undefined when it is not a well-formed response with at
 * most one question whose sections end exactly at the end of the message, or when it has an OPT
 * that is not the last RR (such a reply is relayed as it is, never cached or cut).
 */
export function layoutOf(msg: Buffer): ReplyLayout | undefined {
  if (msg.length < HEADER_SIZE || ((msg[2] ?? 0) & 0x80) === 0) return undefined;
  const qdcount = msg.readUInt16BE(4);
  const counts: [number, number, number] = [
    msg.readUInt16BE(6),
    msg.readUInt16BE(8),
    msg.readUInt16BE(10),
  ];
  if (qdcount > 1) return undefined;
  let off = HEADER_SIZE;
  if (qdcount === 1) {
    off = skipName(msg, off);
    if (off < 0 || off + 4 > msg.length) return undefined;
    off += 4;
  }
  const questionEnd = off;
  const total = counts[0] + counts[1] + counts[2];
  const rrEnds = new Uint32Array(total);
  const ttlOffsets = new Uint32Array(total);
  let ttlCount = 0;
  let minTtl: number | undefined;
  let negativeTtl: number | undefined;
  let opt: { start: number; end: number } | undefined;
  let extendedRcode = 0;
  for (let i = 0; i < total; i++) {
    const start = off;
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) return undefined;
    const type = msg.readUInt16BE(off);
    const rdStart = off + 10;
    const end = rdStart + msg.readUInt16BE(off + 8);
    if (end > msg.length) return undefined;
    if (type === TYPE.OPT) {
      // One OPT, last in the additional section (so that cutting it off keeps every offset).
      if (i !== total - 1 || i < counts[0] + counts[1]) return undefined;
      opt = { start, end };
      extendedRcode = msg[off + 4] ?? 0;
    } else {
      const ttl = msg.readUInt32BE(off + 4) & 0x7fffffff; // RFC 2181 8: the top bit is zero
      ttlOffsets[ttlCount++] = off + 4;
      if (minTtl === undefined || ttl < minTtl) minTtl = ttl;
      const inAuthority = i >= counts[0] && i < counts[0] + counts[1];
      if (inAuthority && type === TYPE.SOA && negativeTtl === undefined) {
        // MINIMUM is the last 4 bytes of the SOA rdata.
        if (end - rdStart < 22) return undefined;
        negativeTtl = Math.min(ttl, msg.readUInt32BE(end - 4) & 0x7fffffff);
      }
    }
    rrEnds[i] = end;
    off = end;
  }
  if (off !== msg.length) return undefined;
  return {
    rcode: (extendedRcode << 4) | ((msg[3] ?? 0) & 0x0f),
    isTruncated: ((msg[2] ?? 0) & 0x02) !== 0,
    questionEnd,
    counts,
    rrEnds,
    ttlOffsets: ttlOffsets.subarray(0, ttlCount),
    minTtl,
    negativeTtl,
    opt,
  };
}

/**
 * True when an answer to this query may be shared with other clients: the additional section
 * holds nothing but an OPT (no TSIG or SIG(0): those answers are signed for one client), and the
 * OPT carries no Client Subnet option (RFC 7871: answers may differ per network).
 */
export function isShareableQuery(msg: Buffer, query: Query): boolean {
  const arcount = u16(msg, 10);
  if (arcount === 0) return true;
  let off = query.questionEnd;
  for (let i = 0; i < arcount; i++) {
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) return false;
    if (u16(msg, off) !== TYPE.OPT) return false;
    const end = off + 10 + u16(msg, off + 8);
    for (let o = off + 10; o + 4 <= end; o += 4 + u16(msg, o + 2)) {
      if (u16(msg, o) === OPTION_ECS) return false;
    }
    off = end;
  }
  return true;
}

/** True for NXDOMAIN, and for NOERROR without answers (NODATA, or a referral). */
export function isNegative(layout: ReplyLayout): boolean {
  return (
    layout.rcode === RCODE.NXDOMAIN || (layout.rcode === RCODE.NOERROR && layout.counts[0] === 0)
  );
}

/**
 * How many leading RRs fit in `budget` bytes (the message prefix up to their end), given the
 * RR end offsets; 0 when not even the first fits.
 */
export function rrsFitting(rrEnds: Uint32Array, count: number, budget: number): number {
  let kept = 0;
  while (kept < count && (rrEnds[kept] ?? Infinity) <= budget) kept++;
  return kept;
}

/**
 * Cuts a reply to at most `limit` bytes: keeps the header, the question and the leading whole
 * RRs that fit (answers first, as they appear), re-appends the OPT and fixes the counts; TC is
 * set when an answer or authority RR was left out, not for additional records alone (RFC 2181
 * 9). Compression pointers only point backwards, so a prefix stays valid. Returns the reply
 * itself when it fits.
 */
export function truncateReply(msg: Buffer, layout: ReplyLayout, limit: number): Buffer {
  if (msg.length <= limit) return msg;
  const optLength = layout.opt === undefined ? 0 : layout.opt.end - layout.opt.start;
  const rrCount = layout.counts[0] + layout.counts[1] + layout.counts[2] - (optLength > 0 ? 1 : 0);
  const kept = rrsFitting(layout.rrEnds, rrCount, limit - optLength);
  const cut = kept === 0 ? layout.questionEnd : (layout.rrEnds[kept - 1] ?? layout.questionEnd);
  const out = Buffer.allocUnsafe(cut + optLength);
  msg.copy(out, 0, 0, cut);
  if (layout.opt !== undefined) msg.copy(out, cut, layout.opt.start, layout.opt.end);
  const an = Math.min(kept, layout.counts[0]);
  const ns = Math.min(kept - an, layout.counts[1]);
  out.writeUInt16BE(an, 6);
  out.writeUInt16BE(ns, 8);
  out.writeUInt16BE(kept - an - ns + (optLength > 0 ? 1 : 0), 10);
  // RFC 2181 9: TC only when required data (answer or authority) was left out.
  if (kept < layout.counts[0] + layout.counts[1]) out[2] = (out[2] ?? 0) | 0x02;
  return out;
}
