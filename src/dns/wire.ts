/**
 * DNS wire-format primitives (RFC 1035 section 4): constants, name encoding and a bounded
 * parser for queries. Pure: no sockets, no clock.
 */
import { FNV_OFFSET, FNV_PRIME } from '../records/index.js';

/** Resource record types mesodns knows by number. */
export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

/** The TSIG RR type (RFC 8945); dns/tsig.ts reads and writes it. */
export const TYPE_TSIG = 250;

/** Classes. */
export const CLASS = { IN: 1, ANY: 255 } as const;

/** Response codes (RFC 1035 4.1.1, RFC 6891 for BADVERS). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

/** Names of the rcodes, for logs and metrics. */
export const RCODE_NAME: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  16: 'BADVERS',
};

/** Size of the DNS header. */
export const HEADER_SIZE = 12;

/** Largest UDP payload without EDNS0 (RFC 1035 4.2.1). */
export const CLASSIC_UDP_SIZE = 512;

/** Largest TCP message (RFC 1035 4.2.2 length prefix). */
export const MAX_TCP_SIZE = 65535;

/** Maximum wire length of a name (RFC 1035 2.3.4). */
export const MAX_NAME_WIRE = 255;

/** Maximum length of a label (RFC 1035 2.3.4). */
export const MAX_LABEL = 63;

/**
 * Splits a dotted FQDN into labels. Returns undefined when a label is empty (other than the
 * root) or longer than 63 bytes, or the name exceeds 255 bytes on the wire.
 */
export function nameLabels(name: string): string[] | undefined {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return [];
  const labels = trimmed.split('.');
  let wire = 1;
  for (const label of labels) {
    const len = Buffer.byteLength(label, 'latin1');
    if (len === 0 || len > MAX_LABEL) return undefined;
    wire += len + 1;
  }
  return wire > MAX_NAME_WIRE ? undefined : labels;
}

/**
 * Encodes labels followed by a terminator: the root label (0), or a 2-byte compression pointer
 * to `pointer` (RFC 1035 4.1.4).
 */
export function encodeLabels(labels: readonly string[], pointer?: number): Buffer {
  let size = pointer === undefined ? 1 : 2;
  for (const l of labels) size += l.length + 1;
  const out = Buffer.alloc(size);
  let off = 0;
  for (const l of labels) {
    out[off++] = l.length;
    off += out.write(l, off, 'latin1');
  }
  if (pointer === undefined) out[off] = 0;
  else out.writeUInt16BE(0xc000 | pointer, off);
  return out;
}

/** Encodes a dotted name as uncompressed wire format (labels + root). Throws on an invalid name. */
export function encodeName(name: string): Buffer {
  const labels = nameLabels(name);
  if (labels === undefined) throw new RangeError(`invalid DNS name: ${JSON.stringify(name)}`);
  return encodeLabels(labels);
}

/**
 * The lookup key of a name: its wire bytes without the root label, as a latin1 string,
 * lower-cased. Queries compute the same key straight from the packet (`parseQuery`).
 */
export function nameKey(name: string): string {
  const wire = encodeName(name);
  return asciiLower(wire, 0, wire.length - 1);
}

/**
 * `bytes[start..end)` as a latin1 string with ASCII A-Z lowered (RFC 4343: DNS compares names
 * ASCII-case-insensitively; other bytes are left alone).
 */
function asciiLower(bytes: Buffer, start: number, end: number): string {
  let i = start;
  while (i < end && lowerByte(bytes[i] ?? 0) === bytes[i]) i++;
  if (i === end) return bytes.toString('latin1', start, end);
  const copy = Buffer.from(bytes.subarray(start, end));
  for (let j = i - start; j < copy.length; j++) copy[j] = lowerByte(copy[j] ?? 0);
  return copy.toString('latin1');
}

/** ASCII lower case of one byte. */
export function lowerByte(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Seed and multiplier of the second name hash (`Query.nameHash2`). */
const HASH2_SEED = 0x2f0b3c17;
const HASH2_PRIME = 0x5bd1e995;

/** `hashName`'s second result (`Query.nameHash2`). */
const secondHash = new Int32Array(1);

/**
 * Hashes the wire-format name at `bytes[start..]` (labels up to the root label; the caller has
 * bounded them) in its lower-case text form (`label.label.`): FNV-1a, as the zone's name index,
 * returned; and a second independent hash, left in `secondHash`.
 */
export function hashName(bytes: Uint8Array, start: number): number {
  let hash = FNV_OFFSET;
  let hash2 = HASH2_SEED;
  let off = start;
  for (let n = bytes[off] ?? 0; n !== 0; n = bytes[off] ?? 0) {
    const end = off + n;
    for (let i = off + 1; i <= end; i++) {
      const c = lowerByte(bytes[i] ?? 0);
      hash = Math.imul(hash ^ c, FNV_PRIME);
      hash2 = Math.imul(hash2 ^ c, HASH2_PRIME);
    }
    hash = Math.imul(hash ^ 0x2e, FNV_PRIME);
    hash2 = Math.imul(hash2 ^ 0x2e, HASH2_PRIME);
    off = end + 1;
  }
  secondHash[0] = hash2 ^ (hash2 >>> 15);
  return hash;
}

/** Renders a wire key (see `nameKey`) back as a dotted FQDN with trailing dot. */
export function keyToName(key: string): string {
  if (key === '') return '.';
  let out = '';
  let off = 0;
  while (off < key.length) {
    const len = key.charCodeAt(off);
    out += key.slice(off + 1, off + 1 + len) + '.';
    off += len + 1;
  }
  return out;
}

/** EDNS0 data of a query (RFC 6891 6.1). */
export interface Edns {
  /** Requestor's UDP payload size. */
  readonly udpSize: number;
  readonly version: number;
  /** DNSSEC OK bit, copied to the response (RFC 3225). */
  readonly dnssecOk: boolean;
}

/** A parsed query: everything the server needs, with offsets into the original packet. */
export interface Query {
  readonly id: number;
  /** Second header byte (QR, opcode, AA, TC, RD). */
  readonly flags1: number;
  /** Third header byte (RA, Z, AD, CD, rcode). */
  readonly flags2: number;
  readonly opcode: number;
  /** Offset just past the question name's root label. */
  readonly qnameEnd: number;
  /** Offset just past QTYPE/QCLASS. */
  readonly questionEnd: number;
  readonly qtype: number;
  readonly qclass: number;
  /** Lower-case lookup key of QNAME (see `nameKey`); built on first use. */
  readonly key: string;
  /**
   * FNV-1a of QNAME's lower-case text form (`label.label.`, no escapes): what the zone's name
   * index is keyed by (`findNode`). Hashed while parsing, so the common paths never build `key`.
   */
  readonly nameHash: number;
  /** A second, independent 32-bit hash of the same text (the forwarding cache keys on both). */
  readonly nameHash2: number;
  readonly edns: Edns | undefined;
  /** The query carries a TSIG (RFC 8945): its answer must be signed, or say why not. */
  readonly signed: boolean;
}

/** What `parseQuery` returns: a `Query` whose `key` is built from the packet when first read. */
class ParsedQuery implements Query {
  #key: string | undefined;

  constructor(
    private readonly msg: Buffer,
    readonly id: number,
    readonly flags1: number,
    readonly flags2: number,
    readonly opcode: number,
    readonly qnameEnd: number,
    readonly questionEnd: number,
    readonly qtype: number,
    readonly qclass: number,
    readonly nameHash: number,
    readonly nameHash2: number,
    readonly edns: Edns | undefined,
    readonly signed: boolean,
  ) {}

  get key(): string {
    this.#key ??= asciiLower(this.msg, HEADER_SIZE, this.qnameEnd - 1);
    return this.#key;
  }
}

/** Why a packet is not a usable query, and what to answer. */
export interface QueryProblem {
  /** `drop`: send nothing (too short, or a response). Otherwise the rcode to answer with. */
  readonly action: 'drop' | number;
  /** Offset just past the question when it could be read (to echo it), else 0. */
  readonly questionEnd: number;
  readonly edns: Edns | undefined;
  readonly reason: string;
}

/** Skips a possibly compressed name in an RR; returns the offset after it, or -1 if malformed. */
export function skipName(msg: Buffer, off: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= msg.length) return -1;
    const len = msg[off] ?? 0;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    off += len + 1;
  }
  return -1;
}

/**
 * Parses a query packet with every read bounded. Returns a `Query`, or a `QueryProblem` saying
 * whether to drop the packet (shorter than a header, or QR=1: responses are never answered)
 * or which rcode to answer (FORMERR, NOTIMP, BADVERS).
 */
export function parseQuery(msg: Buffer): Query | QueryProblem {
  if (msg.length < HEADER_SIZE)
    return { action: 'drop', questionEnd: 0, edns: undefined, reason: 'short' };
  const flags1 = msg[2] ?? 0;
  if ((flags1 & 0x80) !== 0)
    return { action: 'drop', questionEnd: 0, edns: undefined, reason: 'response' };
  const opcode = (flags1 >> 3) & 0x0f;
  const qdcount = u16(msg, 4);
  const ancount = u16(msg, 6);
  const nscount = u16(msg, 8);
  const arcount = u16(msg, 10);
  if (opcode !== 0) {
    return { action: RCODE.NOTIMP, questionEnd: 0, edns: undefined, reason: `opcode ${opcode}` };
  }
  if (qdcount !== 1) {
    return { action: RCODE.FORMERR, questionEnd: 0, edns: undefined, reason: `qdcount ${qdcount}` };
  }
  // QNAME: uncompressed labels only (nothing precedes it to point at).
  let off = HEADER_SIZE;
  for (;;) {
    if (off >= msg.length || off - HEADER_SIZE >= MAX_NAME_WIRE) {
      return { action: RCODE.FORMERR, questionEnd: 0, edns: undefined, reason: 'bad qname' };
    }
    const len = msg[off] ?? 0;
    if (len === 0) break;
    if (len > MAX_LABEL) {
      return { action: RCODE.FORMERR, questionEnd: 0, edns: undefined, reason: 'bad label' };
    }
    off += len + 1;
  }
  const qnameEnd = off + 1;
  if (qnameEnd - HEADER_SIZE > MAX_NAME_WIRE || qnameEnd + 4 > msg.length) {
    return { action: RCODE.FORMERR, questionEnd: 0, edns: undefined, reason: 'short question' };
  }
  const qtype = u16(msg, qnameEnd);
  const qclass = u16(msg, qnameEnd + 2);
  const questionEnd = qnameEnd + 4;
  if (ancount !== 0 || nscount !== 0) {
    return { action: RCODE.FORMERR, questionEnd, edns: undefined, reason: 'records in query' };
  }
  let edns: Edns | undefined;
  let signed = false;
  off = questionEnd;
  for (let i = 0; i < arcount; i++) {
    const nameStart = off;
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) {
      return { action: RCODE.FORMERR, questionEnd, edns, reason: 'bad additional' };
    }
    const type = u16(msg, off);
    const rdlen = u16(msg, off + 8);
    if (off + 10 + rdlen > msg.length) {
      return { action: RCODE.FORMERR, questionEnd, edns, reason: 'bad rdlength' };
    }
    if (type === TYPE.OPT) {
      if (edns !== undefined || msg[nameStart] !== 0) {
        return { action: RCODE.FORMERR, questionEnd, edns, reason: 'bad OPT' };
      }
      edns = {
        udpSize: u16(msg, off + 2),
        version: msg[off + 5] ?? 0,
        dnssecOk: ((msg[off + 6] ?? 0) & 0x80) !== 0,
      };
    } else if (type === TYPE_TSIG) {
      signed = true;
    }
    off += 10 + rdlen;
  }
  if (edns !== undefined && edns.version > 0) {
    return { action: RCODE.BADVERS, questionEnd, edns, reason: `EDNS version ${edns.version}` };
  }
  return new ParsedQuery(
    msg,
    u16(msg, 0),
    flags1,
    msg[3] ?? 0,
    opcode,
    qnameEnd,
    questionEnd,
    qtype,
    qclass,
    hashName(msg, HEADER_SIZE),
    secondHash[0] ?? 0,
    edns,
    signed,
  );
}

/**
 * A message with one question (class IN) and no RRs: ID `id`, the second header byte `flags1`
 * (opcode, AA, RD), the wire-format name `name`, type `type`. For the queries and NOTIFYs mesodns
 * sends itself.
 */
export function questionMessage(
  id: number,
  flags1: number,
  name: Uint8Array,
  type: number,
): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + name.length + 4);
  setU16(out, 0, id);
  out[2] = flags1;
  setU16(out, 4, 1);
  out.set(name, HEADER_SIZE);
  setU16(out, HEADER_SIZE + name.length, type);
  setU16(out, HEADER_SIZE + name.length + 2, CLASS.IN);
  return out;
}

/**
 * Where the question name of `msg` ends (the offset after its root label), read as a query's
 * must be: uncompressed labels of at most 63 bytes, inside the message; -1 otherwise. Not for
 * the answer path, whose parser does this while it hashes the name.
 */
export function plainQnameEnd(msg: Uint8Array): number {
  let off = HEADER_SIZE;
  for (let len = msg[off] ?? 0; len !== 0; len = msg[off] ?? 0) {
    if (len > MAX_LABEL) return -1;
    off += len + 1;
    if (off >= msg.length) return -1;
  }
  return off + 1;
}

/** Type guard: did `parseQuery` return a problem? */
export function isProblem(q: Query | QueryProblem): q is QueryProblem {
  return 'action' in q;
}

/**
 * True when the name in `msg` starting at `start` has a label boundary at `boundary`, i.e. the
 * bytes from `boundary` form a whole suffix of the name (used for zone membership).
 */
export function hasLabelBoundaryAt(msg: Buffer, start: number, boundary: number): boolean {
  let off = start;
  while (off < boundary) {
    const len = msg[off] ?? 0;
    if (len === 0) return false;
    off += len + 1;
  }
  return off === boundary;
}

/**
 * Big-endian 16-bit read and write for the per-query paths: inlined plain byte access, several
 * times cheaper than `Buffer.readUInt16BE`'s checked call. Out-of-range reads give 0 (callers
 * check lengths first).
 */
export function u16(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) << 8) | (b[off + 1] ?? 0);
}

/** See `u16`. */
export function setU16(b: Uint8Array, off: number, value: number): void {
  b[off] = (value >>> 8) & 255;
  b[off + 1] = value & 255;
}

/**
 * Copies `src[from..to)` to `dst` at `at`; returns the end. For the few dozen bytes of a question
 * or a cached answer a plain loop beats `Buffer.copy`, which allocates a view per call.
 */
export function copyBytes(
  src: Uint8Array,
  from: number,
  to: number,
  dst: Uint8Array,
  at: number,
): number {
  let o = at;
  for (let i = from; i < to; i++) dst[o++] = src[i] ?? 0;
  return o;
}

/** Size of an OPT RR with no options. */
export const OPT_SIZE = 11;

/** Writes an OPT RR (root owner, our UDP size, extended rcode high bits, DO copied) at `off`. */
export function writeOpt(
  out: Buffer,
  off: number,
  udpSize: number,
  rcode: number,
  dnssecOk: boolean,
): number {
  out[off] = 0;
  setU16(out, off + 1, TYPE.OPT);
  setU16(out, off + 3, udpSize);
  out[off + 5] = (rcode >> 4) & 0xff;
  out[off + 6] = 0;
  out[off + 7] = dnssecOk ? 0x80 : 0;
  out[off + 8] = 0;
  setU16(out, off + 9, 0);
  return off + OPT_SIZE;
}
