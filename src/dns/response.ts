/**
 * Assembles response messages from the pre-encoded RRs of a compiled zone, with EDNS0 and
 * truncation (RFC 1035 4.1.1, RFC 6891, RFC 2181 9: drop additional first, then answers, and set
 * TC). The hot path allocates only the response buffer: the shuffle order and the additional
 * targets live in module-level scratch arrays.
 */
import type { Edns, Query } from './wire.js';
import {
  CLASSIC_UDP_SIZE,
  HEADER_SIZE,
  MAX_TCP_SIZE,
  OPT_SIZE,
  TYPE,
  copyBytes,
  setU16,
  writeOpt,
} from './wire.js';
import type { Zone, ZonePart } from './zone.js';
import { KIND_A, KIND_AAAA, KIND_PTR, KIND_SRV, nameStart, writeRRHeader } from './zone.js';

/** Transport the query arrived on. */
export type Transport = 'udp' | 'tcp';

/** Flags a response sets beyond what it copies from the query. */
export interface ResponseFlags {
  readonly authoritative: boolean;
  readonly recursionAvailable: boolean;
}

/** Largest UDP payload mesodns sends (the DNS flag day 2020 value). */
export const MAX_UDP_SIZE = 1232;

/**
 * Largest message that still gets additional records, counted as a client that re-encodes it
 * writes it: 16 KiB, so that every name lies within reach of a compression pointer (14 bits,
 * RFC 1035 4.1.4). c-ares 1.28 to 1.34.6 (Node 20 bundles 1.34.6) re-encodes each answer for
 * its legacy callbacks (`dns.resolveSrv`): it writes SRV targets uncompressed and does not take
 * them as compression targets, so the first additional record of each target gets its owner in
 * full; it records names past 0x3FFF as compression targets anyway, and the next record of that
 * target then points to a 14-bit truncated offset: the lookup fails with EBADNAME. Budgeting each
 * target's name once in full keeps that re-encoding within 16 KiB; mesodns' own message, with
 * every additional owner a 2-byte pointer, is smaller still.
 */
const MAX_ADDITIONAL_END = 0x4000;

/** Offset of an SRV target inside its RR: owner pointer, fixed header, priority, weight, port. */
const SRV_TARGET_OFFSET = 2 + 10 + 6;
/** Size of an A RR with a compressed owner, and of an AAAA RR. */
const A_SIZE = 2 + 10 + 4;
const AAAA_SIZE = 2 + 10 + 16;

/** Which record kinds an answer takes from the owner (`zoneResponse`); bit `1 << kind` (`hasRecords`). */
export const WANT_A = 1 << KIND_A;
/** See `WANT_A`. */
export const WANT_AAAA = 1 << KIND_AAAA;
/** See `WANT_A`. */
export const WANT_SRV = 1 << KIND_SRV;
/** See `WANT_A` (reverse zones, dns/reverse.ts). */
export const WANT_PTR = 1 << KIND_PTR;

/** The size limit for a response: TCP 64 KiB; UDP the client's EDNS size capped at 1232, at least 512. */
export function sizeLimit(transport: Transport, edns: Edns | undefined): number {
  if (transport === 'tcp') return MAX_TCP_SIZE;
  if (edns === undefined) return CLASSIC_UDP_SIZE;
  return Math.max(CLASSIC_UDP_SIZE, Math.min(edns.udpSize, MAX_UDP_SIZE));
}

let order = new Int32Array(64);

/** Fills `order[0..n)` with a uniform random permutation (Fisher-Yates). */
function shuffle(n: number): Int32Array {
  if (order.length < n) order = new Int32Array(n * 2);
  const o = order;
  for (let i = 0; i < n; i++) o[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = o[i] ?? 0;
    o[i] = o[j] ?? 0;
    o[j] = t;
  }
  return o;
}

// The answer being assembled: value ranges of the owner's A, AAAA and SRV records in the record
// data, then whole extra RRs. Module state rather than closures keeps the hot path allocation-free.
let aFrom = 0;
let aCount = 0;
let aaaaFrom = 0;
let aaaaCount = 0;
let srvFrom = 0;
let srvCount = 0;
let ptrFrom = 0;
let ptrCount = 0;
let extras: readonly Buffer[] | undefined;

/** Per-zone scratch for the additional section: which targets a response already has. */
let seenFor: ZonePart['records'] | undefined;
let seen = new Int32Array(0);
let targetPos = new Int32Array(0);
let epoch = 0;
let targets = new Int32Array(64);

/**
 * Prepares the scratch for `z`. The arrays are kept across zones (a new zone of the same size
 * costs nothing); marks left by another zone are older than any epoch used from now on.
 */
function resetSeen(z: ZonePart): void {
  const names = z.records.nameEnd.length;
  seenFor = z.records;
  if (seen.length < names || epoch >= 0x7ffffff0) {
    seen = new Int32Array(Math.max(names, seen.length));
    targetPos = new Int32Array(seen.length);
    epoch = 0;
  }
}

/** Length of the SRV target name `id` on the wire (labels and root). */
function targetWireLength(z: ZonePart, id: number): number {
  return (z.records.nameEnd[id] ?? 0) - nameStart(z.records, id) + 1;
}

/** Length of answer `k` of the answer being assembled. */
function answerLength(z: ZonePart, k: number): number {
  if (k < aCount) return A_SIZE;
  let i = k - aCount;
  if (i < aaaaCount) return AAAA_SIZE;
  i -= aaaaCount;
  if (i < srvCount) {
    return (
      SRV_TARGET_OFFSET + targetWireLength(z, z.records.kinds[KIND_SRV].values[srvFrom + i] ?? 0)
    );
  }
  i -= srvCount;
  if (i < ptrCount) {
    return 2 + 10 + targetWireLength(z, z.records.kinds[KIND_PTR].values[ptrFrom + i] ?? 0);
  }
  return extras?.[i - ptrCount]?.length ?? 0;
}

/** Writes the dotted name `names[start..end)` in wire format (labels, root) at `out[off]`. */
export function writeWireName(
  out: Uint8Array,
  off: number,
  names: Uint8Array,
  start: number,
  end: number,
) {
  let lengthAt = off;
  let o = off + 1;
  let length = 0;
  for (let i = start; i < end; i++) {
    const c = names[i] ?? 0;
    if (c === 0x2e) {
      out[lengthAt] = length;
      lengthAt = o++;
      length = 0;
    } else {
      out[o++] = c;
      length++;
    }
  }
  out[lengthAt] = 0;
  return o;
}

/** Writes a compression pointer to `target` at `out[off]`; returns the end. */
function writePointer(out: Buffer, off: number, target: number): number {
  out[off] = 0xc0 | (target >>> 8);
  out[off + 1] = target & 255;
  return off + 2;
}

/** Writes an A RR after its owner (type through rdata) at `out[off]`; returns the end. */
export function writeABody(out: Buffer, off: number, ttl: number, value: number): number {
  writeRRHeader(out, off, TYPE.A, ttl, 4);
  out[off + 10] = (value >>> 24) & 255;
  out[off + 11] = (value >>> 16) & 255;
  out[off + 12] = (value >>> 8) & 255;
  out[off + 13] = value & 255;
  return off + 14;
}

/** Writes an AAAA RR after its owner (type through rdata) at `out[off]`; returns the end. */
export function writeAaaaBody(
  out: Buffer,
  off: number,
  ttl: number,
  v6: Uint8Array,
  index: number,
) {
  writeRRHeader(out, off, TYPE.AAAA, ttl, 16);
  const from = index * 16;
  for (let i = 0; i < 16; i++) out[off + 10 + i] = v6[from + i] ?? 0;
  return off + 26;
}

/** Writes answer `k` of the answer being assembled at `out[off]`; returns the end. */
function writeAnswer(z: ZonePart, out: Buffer, off: number, k: number): number {
  const records = z.records;
  if (k < aCount) {
    return writeABody(
      out,
      writePointer(out, off, 12),
      z.ttl,
      records.kinds[KIND_A].values[aFrom + k] ?? 0,
    );
  }
  let i = k - aCount;
  if (i < aaaaCount) {
    const value = records.kinds[KIND_AAAA].values[aaaaFrom + i] ?? 0;
    return writeAaaaBody(out, writePointer(out, off, 12), z.ttl, records.v6, value);
  }
  i -= aaaaCount;
  if (i < srvCount) {
    const srv = records.kinds[KIND_SRV];
    const target = srv.values[srvFrom + i] ?? 0;
    const port = srv.ports[srvFrom + i] ?? 0;
    const start = nameStart(records, target);
    const end = records.nameEnd[target] ?? 0;
    out[off] = 0xc0;
    out[off + 1] = 12;
    writeRRHeader(out, off + 2, TYPE.SRV, z.ttl, 6 + end - start + 1);
    out[off + 12] = 0; // priority
    out[off + 13] = 0;
    out[off + 14] = z.srvWeight >>> 8;
    out[off + 15] = z.srvWeight & 255;
    out[off + 16] = port >>> 8;
    out[off + 17] = port & 255;
    return writeWireName(out, off + SRV_TARGET_OFFSET, z.nameBytes, start, end);
  }
  i -= srvCount;
  if (i < ptrCount) {
    const target = records.kinds[KIND_PTR].values[ptrFrom + i] ?? 0;
    const start = nameStart(records, target);
    const end = records.nameEnd[target] ?? 0;
    out[off] = 0xc0;
    out[off + 1] = 12;
    writeRRHeader(out, off + 2, TYPE.PTR, z.ttl, end - start + 1);
    return writeWireName(out, off + 12, z.nameBytes, start, end);
  }
  const rr = extras?.[i - ptrCount];
  return rr === undefined ? off : copyBytes(rr, 0, rr.length, out, off);
}

/** The value range of name `id`'s records of one kind: sets `rangeFrom` and returns the count. */
let rangeFrom = 0;
function range(z: ZonePart, kind: number, id: number): number {
  const k =
    z.records.kinds[
      kind === KIND_A
        ? KIND_A
        : kind === KIND_AAAA
          ? KIND_AAAA
          : kind === KIND_SRV
            ? KIND_SRV
            : KIND_PTR
    ];
  const slot = (k.slot[id] ?? 0) - 1;
  if (slot < 0) return 0;
  rangeFrom = k.start[slot] ?? 0;
  return (k.start[slot + 1] ?? 0) - rangeFrom;
}

/** Writes the header of a response: ID, flags, counts (QDCOUNT 1). */
function writeHeader(
  out: Buffer,
  query: Query,
  flags: ResponseFlags,
  rcode: number,
  truncated: boolean,
  an: number,
  ns: number,
  ar: number,
): void {
  out[0] = query.id >>> 8;
  out[1] = query.id & 255;
  // QR=1, opcode copied (always 0 here), AA, TC, RD copied.
  out[2] = 0x80 | (query.flags1 & 0x79) | (flags.authoritative ? 0x04 : 0) | (truncated ? 0x02 : 0);
  // RA, CD copied (RFC 6840 5.9), rcode low 4 bits.
  out[3] = (flags.recursionAvailable ? 0x80 : 0) | (query.flags2 & 0x10) | (rcode & 0x0f);
  out[4] = 0;
  out[5] = 1;
  out[6] = an >>> 8;
  out[7] = an & 255;
  out[8] = ns >>> 8;
  out[9] = ns & 255;
  out[10] = ar >>> 8;
  out[11] = ar & 255;
}

/**
 * Keeps the first `max` A and the first `max` AAAA answers of the shuffled order `o[0..n)` (a
 * uniform random choice of each family, as the order is a uniform permutation) and every other
 * answer, in order; returns the new count (`records.maxAddresses`).
 */
function capAddresses(o: Int32Array, n: number, max: number): number {
  let kept = 0;
  let a = 0;
  let aaaa = 0;
  for (let j = 0; j < n; j++) {
    const k = o[j] ?? 0;
    if (k < aCount) {
      if (a++ >= max) continue;
    } else if (k < aCount + aaaaCount) {
      if (aaaa++ >= max) continue;
    }
    o[kept++] = k;
  }
  return kept;
}

/**
 * Builds a positive answer: the records of name `id` of the kinds in `want` (`WANT_A` ...), plus
 * whole RRs in `extra` (the apex SOA and NS), shuffled together. With `withAdditional`, the A and
 * AAAA records of the SRV targets follow in the additional section, their owners pointing at the
 * target names in the answers, as many as fit in the size limit and in 16 KiB as a client
 * re-encodes them (`MAX_ADDITIONAL_END`); never TC for those (RFC 2181 9). When the answers do
 * not fit, the last ones of the shuffled order are dropped, TC is set, and no additional records
 * are sent. With `maxAddresses` above 0, at most that many A and that many AAAA records, a fresh
 * random choice each time (`capAddresses`). Allocates only the response.
 */
export function zoneResponse(
  msg: Buffer,
  query: Query,
  z: ZonePart,
  id: number,
  want: number,
  extra: readonly Buffer[] | undefined,
  withAdditional: boolean,
  flags: ResponseFlags,
  transport: Transport,
  maxAddresses = 0,
): Buffer {
  aCount = id >= 0 && (want & WANT_A) !== 0 ? range(z, KIND_A, id) : 0;
  aFrom = rangeFrom;
  aaaaCount = id >= 0 && (want & WANT_AAAA) !== 0 ? range(z, KIND_AAAA, id) : 0;
  aaaaFrom = rangeFrom;
  srvCount = id >= 0 && (want & WANT_SRV) !== 0 ? range(z, KIND_SRV, id) : 0;
  srvFrom = rangeFrom;
  ptrCount = id >= 0 && (want & WANT_PTR) !== 0 ? range(z, KIND_PTR, id) : 0;
  ptrFrom = rangeFrom;
  extras = extra;
  const limit = sizeLimit(transport, query.edns);
  const questionEnd = query.questionEnd;
  const optSize = query.edns === undefined ? 0 : OPT_SIZE;
  let n = aCount + aaaaCount + srvCount + ptrCount + (extra === undefined ? 0 : extra.length);
  const o = shuffle(n);
  if (maxAddresses > 0 && (aCount > maxAddresses || aaaaCount > maxAddresses)) {
    n = capAddresses(o, n, maxAddresses);
  }

  let size = questionEnd + optSize;
  // The answers in the order (all of them, or those `capAddresses` kept).
  for (let j = 0; j < n; j++) size += answerLength(z, o[j] ?? 0);
  let kept = n;
  let truncated = false;
  if (size > limit) {
    // The answer itself does not fit: drop answers from the end of the shuffled order, and set TC
    // so that the client retries over TCP.
    truncated = true;
    while (size > limit && kept > 0) {
      kept--;
      size -= answerLength(z, o[kept] ?? 0);
    }
  }

  // Additional records: lay the answers out to find where each distinct SRV target lands.
  let targetCount = 0;
  let additionalCount = 0;
  const records = z.records;
  const srvValues = records.kinds[KIND_SRV].values;
  if (withAdditional && srvCount > 0 && !truncated) {
    if (seenFor !== records || epoch >= 0x7ffffff0) resetSeen(z);
    epoch++;
    let pos = questionEnd;
    for (let j = 0; j < kept; j++) {
      const k = o[j] ?? 0;
      const i = k - aCount - aaaaCount;
      if (i >= 0 && i < srvCount) {
        const t = srvValues[srvFrom + i] ?? 0;
        if (seen[t] !== epoch) {
          seen[t] = epoch;
          targetPos[t] = pos + SRV_TARGET_OFFSET;
          if (targets.length <= targetCount) {
            const grown = new Int32Array(targets.length * 2);
            grown.set(targets);
            targets = grown;
          }
          targets[targetCount++] = t;
        }
      }
      pos += answerLength(z, k);
    }
    // As many whole additional RRs as fit, in order: within the size limit, and within 16 KiB
    // with each target's name counted once in full (`MAX_ADDITIONAL_END`).
    let reencoded = size;
    fill: for (let i = 0; i < targetCount; i++) {
      const t = targets[i] ?? 0;
      let owner = targetWireLength(z, t) - 2;
      const addresses = range(z, KIND_A, t);
      for (let r = 0; r < addresses; r++) {
        if (size + A_SIZE > limit || reencoded + A_SIZE + owner > MAX_ADDITIONAL_END) break fill;
        size += A_SIZE;
        reencoded += A_SIZE + owner;
        owner = 0;
        additionalCount++;
      }
      const v6 = range(z, KIND_AAAA, t);
      for (let r = 0; r < v6; r++) {
        if (size + AAAA_SIZE > limit || reencoded + AAAA_SIZE + owner > MAX_ADDITIONAL_END) {
          break fill;
        }
        size += AAAA_SIZE;
        reencoded += AAAA_SIZE + owner;
        owner = 0;
        additionalCount++;
      }
    }
  }

  const out = Buffer.allocUnsafe(size);
  writeHeader(out, query, flags, 0, truncated, kept, 0, additionalCount + (optSize > 0 ? 1 : 0));
  copyBytes(msg, HEADER_SIZE, questionEnd, out, HEADER_SIZE);
  let off = questionEnd;
  for (let j = 0; j < kept; j++) off = writeAnswer(z, out, off, o[j] ?? 0);
  let left = additionalCount;
  for (let i = 0; i < targetCount && left > 0; i++) {
    const t = targets[i] ?? 0;
    const pos = targetPos[t] ?? 0;
    for (let kind = KIND_A; kind <= KIND_AAAA && left > 0; kind++) {
      const count = range(z, kind, t);
      const from = rangeFrom;
      const values = records.kinds[kind === KIND_A ? KIND_A : KIND_AAAA].values;
      for (let r = 0; r < count && left > 0; r++, left--) {
        const value = values[from + r] ?? 0;
        // The owner: a pointer to the target name in its SRV answer (within 16 KiB, see above).
        off = writePointer(out, off, pos);
        off =
          kind === KIND_A
            ? writeABody(out, off, z.ttl, value)
            : writeAaaaBody(out, off, z.ttl, records.v6, value);
      }
    }
  }
  extras = undefined;
  if (optSize > 0 && query.edns !== undefined) {
    writeOpt(out, off, MAX_UDP_SIZE, 0, query.edns.dnssecOk);
  }
  return out;
}

/**
 * Builds a negative answer (NXDOMAIN or NODATA): no answers, the SOA in the authority section
 * (RFC 2308 2.1, 2.2) with its owner a pointer to the apex as a suffix of the QNAME.
 */
export function negativeResponse(
  msg: Buffer,
  query: Query,
  zone: Pick<Zone, 'soaNegative' | 'apexWireLength'>,
  rcode: number,
  flags: ResponseFlags,
  transport: Transport,
): Buffer {
  const questionEnd = query.questionEnd;
  const optSize = query.edns === undefined ? 0 : OPT_SIZE;
  const soa = zone.soaNegative;
  let size = questionEnd + soa.length + optSize;
  const fits = size <= sizeLimit(transport, query.edns);
  if (!fits) size -= soa.length;
  const out = Buffer.allocUnsafe(size);
  writeHeader(out, query, flags, rcode, !fits, 0, fits ? 1 : 0, optSize > 0 ? 1 : 0);
  copyBytes(msg, HEADER_SIZE, questionEnd, out, HEADER_SIZE);
  let off = questionEnd;
  if (fits) {
    copyBytes(soa, 0, soa.length, out, off);
    const pointer = query.qnameEnd - zone.apexWireLength;
    out[off] = 0xc0 | (pointer >>> 8);
    out[off + 1] = pointer & 255;
    off += soa.length;
  }
  if (optSize > 0 && query.edns !== undefined) {
    writeOpt(out, off, MAX_UDP_SIZE, rcode, query.edns.dnssecOk);
  }
  return out;
}

/**
 * Builds a header-only error response (FORMERR, NOTIMP, SERVFAIL, REFUSED, BADVERS) echoing the
 * question when it could be read, with an OPT when the query had one.
 */
export function errorResponse(
  msg: Buffer,
  rcode: number,
  questionEnd: number,
  edns: Edns | undefined,
  recursionAvailable: boolean,
): Buffer {
  const hasQuestion = questionEnd > HEADER_SIZE;
  const questionLength = hasQuestion ? questionEnd - HEADER_SIZE : 0;
  const out = Buffer.alloc(HEADER_SIZE + questionLength + (edns === undefined ? 0 : OPT_SIZE));
  out[0] = msg[0] ?? 0;
  out[1] = msg[1] ?? 0;
  out[2] = 0x80 | ((msg[2] ?? 0) & 0x79);
  out[3] = (recursionAvailable ? 0x80 : 0) | ((msg[3] ?? 0) & 0x10) | (rcode & 0x0f);
  setU16(out, 4, hasQuestion ? 1 : 0);
  setU16(out, 10, edns === undefined ? 0 : 1);
  if (hasQuestion) copyBytes(msg, HEADER_SIZE, questionEnd, out, HEADER_SIZE);
  if (edns !== undefined)
    writeOpt(out, HEADER_SIZE + questionLength, MAX_UDP_SIZE, rcode, edns.dnssecOk);
  return out;
}
