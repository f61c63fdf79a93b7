/**
 * Assembles response messages from pre-encoded pieces, with EDNS0 and truncation
 * (RFC 1035 4.1.1, RFC 6891, RFC 2181 9: drop additional first, then answers, and set TC).
 */
import type { Edns, Query } from './wire.js';
import { CLASSIC_UDP_SIZE, HEADER_SIZE, MAX_TCP_SIZE, OPT_SIZE, writeOpt } from './wire.js';
import type { RRSet } from './zone.js';

/** Transport the query arrived on. */
export type Transport = 'udp' | 'tcp';

/** Flags a response sets beyond what it copies from the query. */
export interface ResponseFlags {
  readonly authoritative: boolean;
  readonly recursionAvailable: boolean;
}

/** Largest UDP payload mesodns sends (the DNS flag day 2020 value). */
export const MAX_UDP_SIZE = 1232;

/** The size limit for a response: TCP 64 KiB; UDP the client's EDNS size capped at 1232, at least 512. */
export function sizeLimit(transport: Transport, edns: Edns | undefined): number {
  if (transport === 'tcp') return MAX_TCP_SIZE;
  if (edns === undefined) return CLASSIC_UDP_SIZE;
  return Math.max(CLASSIC_UDP_SIZE, Math.min(edns.udpSize, MAX_UDP_SIZE));
}

let scratch = new Int32Array(64);

/** Fills `scratch[0..n)` with a uniform random permutation (Fisher-Yates). */
function shuffled(n: number): Int32Array {
  if (scratch.length < n) scratch = new Int32Array(n * 2);
  for (let i = 0; i < n; i++) scratch[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = scratch[i] ?? 0;
    scratch[i] = scratch[j] ?? 0;
    scratch[j] = t;
  }
  return scratch;
}

/** Pieces of a response, all relative to the query's question. */
export interface Sections {
  readonly rcode: number;
  /** Answer RR sets; their RRs are shuffled together per query. */
  readonly answers: readonly RRSet[];
  /** Whole RRs for the authority section. `soaPointer` patches the first two bytes of `authority[0]`. */
  readonly authority: readonly Buffer[];
  readonly soaPointer: number;
  readonly additional: RRSet | undefined;
}

function count(set: RRSet): number {
  return set.offsets.length - 1;
}

/**
 * Builds the response to `query`: header, the question as sent, then the sections, truncated to
 * the transport's limit.
 */
export function buildResponse(
  msg: Buffer,
  query: Query,
  sections: Sections,
  flags: ResponseFlags,
  transport: Transport,
): Buffer {
  const limit = sizeLimit(transport, query.edns);
  const questionLength = query.questionEnd - HEADER_SIZE;
  const optSize = query.edns === undefined ? 0 : OPT_SIZE;
  let answerCount = 0;
  let answerBytes = 0;
  for (const set of sections.answers) {
    answerCount += count(set);
    answerBytes += set.data.length;
  }
  let authorityBytes = 0;
  for (const rr of sections.authority) authorityBytes += rr.length;
  const additional = sections.additional;
  const additionalBytes = additional === undefined ? 0 : additional.data.length;
  const base = HEADER_SIZE + questionLength + optSize;
  let size = base + answerBytes + authorityBytes;
  let truncated = false;
  let includeAuthority = true;

  // Flatten the answer RRs into (set, index) order, shuffled.
  const order = shuffled(answerCount);
  let keptAnswers = answerCount;
  if (size > limit) {
    // The answer itself does not fit: drop authority, then answers from the end of the shuffled
    // order, and set TC so that the client retries over TCP.
    truncated = true;
    includeAuthority = false;
    size -= authorityBytes;
    while (size > limit && keptAnswers > 0) {
      keptAnswers--;
      size -= rrLength(sections.answers, order[keptAnswers] ?? 0);
    }
  }
  // Additional records are extra information: as many whole ones as fit, and never TC for the
  // rest (RFC 2181 9). None at all once the answer was truncated.
  let additionalCount = 0;
  let additionalEnd = 0;
  if (additional !== undefined && !truncated) {
    if (size + additionalBytes <= limit) {
      additionalCount = count(additional);
      additionalEnd = additionalBytes;
    } else {
      while (
        additionalCount < count(additional) &&
        size + (additional.offsets[additionalCount + 1] ?? Infinity) <= limit
      ) {
        additionalCount++;
      }
      additionalEnd = additional.offsets[additionalCount] ?? 0;
    }
    size += additionalEnd;
  }

  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(query.id, 0);
  // QR=1, opcode copied (always 0 here), AA, TC, RD copied.
  out[2] = 0x80 | (query.flags1 & 0x79) | (flags.authoritative ? 0x04 : 0) | (truncated ? 0x02 : 0);
  // RA, CD copied (RFC 6840 5.9), rcode low 4 bits.
  out[3] = (flags.recursionAvailable ? 0x80 : 0) | (query.flags2 & 0x10) | (sections.rcode & 0x0f);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(keptAnswers, 6);
  out.writeUInt16BE(includeAuthority ? sections.authority.length : 0, 8);
  out.writeUInt16BE(additionalCount + (optSize > 0 ? 1 : 0), 10);
  msg.copy(out, HEADER_SIZE, HEADER_SIZE, query.questionEnd);
  let off = HEADER_SIZE + questionLength;
  for (let i = 0; i < keptAnswers; i++) off = copyRR(sections.answers, order[i] ?? 0, out, off);
  if (includeAuthority) {
    for (let i = 0; i < sections.authority.length; i++) {
      const rr = sections.authority[i];
      if (rr === undefined) continue;
      rr.copy(out, off);
      if (i === 0 && sections.soaPointer > 0) out.writeUInt16BE(0xc000 | sections.soaPointer, off);
      off += rr.length;
    }
  }
  if (additional !== undefined && additionalEnd > 0) {
    additional.data.copy(out, off, 0, additionalEnd);
    off += additionalEnd;
  }

  if (query.edns !== undefined)
    writeOpt(out, off, MAX_UDP_SIZE, sections.rcode, query.edns.dnssecOk);
  return out;
}

function locate(sets: readonly RRSet[], index: number): [RRSet | undefined, number] {
  let i = index;
  for (const set of sets) {
    const n = count(set);
    if (i < n) return [set, i];
    i -= n;
  }
  return [undefined, 0];
}

function rrLength(sets: readonly RRSet[], index: number): number {
  const [set, i] = locate(sets, index);
  if (set === undefined) return 0;
  return (set.offsets[i + 1] ?? 0) - (set.offsets[i] ?? 0);
}

function copyRR(sets: readonly RRSet[], index: number, out: Buffer, off: number): number {
  const [set, i] = locate(sets, index);
  if (set === undefined) return off;
  const start = set.offsets[i] ?? 0;
  const end = set.offsets[i + 1] ?? 0;
  set.data.copy(out, off, start, end);
  return off + end - start;
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
  msg.copy(out, 0, 0, 2);
  out[2] = 0x80 | ((msg[2] ?? 0) & 0x79);
  out[3] = (recursionAvailable ? 0x80 : 0) | ((msg[3] ?? 0) & 0x10) | (rcode & 0x0f);
  out.writeUInt16BE(hasQuestion ? 1 : 0, 4);
  out.writeUInt16BE(edns === undefined ? 0 : 1, 10);
  if (hasQuestion) msg.copy(out, HEADER_SIZE, HEADER_SIZE, questionEnd);
  if (edns !== undefined)
    writeOpt(out, HEADER_SIZE + questionLength, MAX_UDP_SIZE, rcode, edns.dnssecOk);
  return out;
}
