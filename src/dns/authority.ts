/**
 * Authoritative answers from the compiled zone (RFC 1034 4.3.2, RFC 2308 negative answers with
 * the SOA in authority, RFC 8020 empty non-terminals, RFC 8482 ANY). Synchronous.
 */
import type { Query } from './wire.js';
import { CLASS, HEADER_SIZE, RCODE, TYPE, hasLabelBoundaryAt, lowerByte } from './wire.js';
import type { ResponseFlags, Transport } from './response.js';
import {
  WANT_A,
  WANT_AAAA,
  WANT_SRV,
  errorResponse,
  negativeResponse,
  zoneResponse,
} from './response.js';
import type { Zone } from './zone.js';
import { NO_NODE, classifyName, hasRecords, lookupAt } from './zone.js';
import type { RecordData } from '../records/index.js';

/** Outcome counters an answer reports (for metrics). */
export type AnswerKind = 'answer' | 'nodata' | 'nxdomain' | 'refused' | 'servfail';

/** Result of the authority step. */
export interface AuthorityResult {
  readonly response: Buffer;
  readonly rcode: number;
  readonly kind: AnswerKind;
}

const FLAGS_RA: ResponseFlags = { authoritative: true, recursionAvailable: true };
const FLAGS_NO_RA: ResponseFlags = { authoritative: true, recursionAvailable: false };

/** The flags of an authoritative answer (AA, and RA when the server forwards). */
export function answerFlags(recursionAvailable: boolean): ResponseFlags {
  return recursionAvailable ? FLAGS_RA : FLAGS_NO_RA;
}

/**
 * Whether an authoritative zone refuses `query` whatever the name: a class other than IN and
 * ANY, or a zone transfer (served by transfer.ts over TCP, never here).
 */
export function isRefusedQuery(query: Query): boolean {
  const qtype = query.qtype;
  return (
    (query.qclass !== CLASS.IN && query.qclass !== CLASS.ANY) ||
    qtype === TYPE.AXFR ||
    qtype === TYPE.IXFR
  );
}

/**
 * A negative answer with the SOA of `soa` in authority (RFC 2308): NODATA when the name
 * `exists`, else NXDOMAIN.
 */
export function negativeAnswer(
  msg: Buffer,
  query: Query,
  soa: Pick<Zone, 'soaNegative' | 'apexWireLength'>,
  exists: boolean,
  flags: ResponseFlags,
  transport: Transport,
): AuthorityResult {
  const rcode = exists ? RCODE.NOERROR : RCODE.NXDOMAIN;
  return {
    response: negativeResponse(msg, query, soa, rcode, flags, transport),
    rcode,
    kind: exists ? 'nodata' : 'nxdomain',
  };
}

/**
 * Answers a query for a name inside the zone. `zone` undefined (no state loaded yet) gives
 * SERVFAIL. `maxAddresses` above 0 caps the A and the AAAA records of an answer (a random choice
 * each time, `records.maxAddresses`).
 */
export function answerAuthoritative(
  msg: Buffer,
  query: Query,
  zone: Zone | undefined,
  recursionAvailable: boolean,
  transport: Transport,
  maxAddresses = 0,
): AuthorityResult {
  if (zone === undefined) return refuse(msg, query, RCODE.SERVFAIL, 'servfail', recursionAvailable);
  if (isRefusedQuery(query))
    return refuse(msg, query, RCODE.REFUSED, 'refused', recursionAvailable);
  const qtype = query.qtype;
  const flags = answerFlags(recursionAvailable);
  // The name is found in the base or in the changeset contents that last replaced it (`lookupAt`),
  // without classifying it: an answer reads only the wanted kind's records, and only a name
  // without them needs telling apart. Negative answers carry the zone's SOA (its serial).
  const found = lookupAt(zone, msg, HEADER_SIZE, query.qnameEnd - 1, query.nameHash);
  const from = found.part;
  const node = found.id;
  // The name is in the zone (the caller checked): as long as the apex, it is the apex.
  const isApex = query.qnameEnd - 1 - HEADER_SIZE === zone.apexKey.length;
  let want = 0;
  let extra: readonly Buffer[] | undefined;
  switch (qtype) {
    case TYPE.A:
      want = WANT_A;
      break;
    case TYPE.AAAA:
      want = WANT_AAAA;
      break;
    case TYPE.SRV:
      want = WANT_SRV;
      break;
    case TYPE.SOA:
      if (isApex) extra = [zone.soaAnswer];
      break;
    case TYPE.NS:
      if (isApex) extra = [zone.nsAnswer];
      break;
    case TYPE.ANY:
      if (transport === 'tcp') {
        want = WANT_A | WANT_AAAA | WANT_SRV;
        if (isApex) extra = [zone.soaAnswer, zone.nsAnswer];
      } else {
        // RFC 8482 over UDP: one RRset, the first the name has of A, AAAA, SRV (the SOA at the
        // apex), without additional records. ANY for every record of a name over spoofable UDP
        // was a 30-fold amplifier (`slave.mesos ANY`); TCP still gets them all.
        want = minimalAny(from.records, node);
        if (want === 0 && isApex) extra = [zone.soaAnswer];
      }
      break;
    default:
      break;
  }
  if (extra === undefined && (node < 0 || !hasRecords(from.records, node, want))) {
    // NODATA when the name exists (with records of other types, or as an empty non-terminal).
    const exists = classifyName(from, node) !== NO_NODE;
    return negativeAnswer(msg, query, zone, exists, flags, transport);
  }
  const withAdditional = qtype === TYPE.SRV || (qtype === TYPE.ANY && transport === 'tcp');
  return {
    response: zoneResponse(
      msg,
      query,
      from,
      node,
      want,
      extra,
      withAdditional,
      flags,
      transport,
      maxAddresses,
    ),
    rcode: RCODE.NOERROR,
    kind: 'answer',
  };
}

/** A header-only answer with `rcode` (REFUSED, SERVFAIL), echoing the question. */
export function refuse(
  msg: Buffer,
  query: Query,
  rcode: number,
  kind: AnswerKind,
  recursionAvailable: boolean,
): AuthorityResult {
  return {
    response: errorResponse(msg, rcode, query.questionEnd, query.edns, recursionAvailable),
    rcode,
    kind,
  };
}

/** True when the QNAME of `query` (in `msg`) is the zone apex or below it. */
export function isInZone(msg: Buffer, query: Query, zone: { readonly apexKey: string }): boolean {
  const apex = zone.apexKey;
  const length = query.qnameEnd - 1 - HEADER_SIZE;
  if (length < apex.length) return false;
  // Compared on the packet (ASCII case-insensitively; length bytes are below 64, never letters).
  const from = query.qnameEnd - 1 - apex.length;
  for (let i = 0; i < apex.length; i++) {
    if (lowerByte(msg[from + i] ?? 0) !== apex.charCodeAt(i)) return false;
  }
  // The suffix match must fall on a label boundary.
  return length === apex.length || hasLabelBoundaryAt(msg, HEADER_SIZE, from);
}

/** The one kind an ANY query over UDP is answered with (RFC 8482 4.1): 0 when the name has none. */
function minimalAny(records: RecordData, node: number): number {
  if (node < 0) return 0;
  for (const want of [WANT_A, WANT_AAAA, WANT_SRV]) {
    if (hasRecords(records, node, want)) return want;
  }
  return 0;
}
