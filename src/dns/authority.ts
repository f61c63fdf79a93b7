/**
 * Authoritative answers from the compiled zone (RFC 1034 4.3.2, RFC 2308 negative answers with
 * the SOA in authority, RFC 8020 empty non-terminals, RFC 8482 ANY). Synchronous.
 */
import type { Query } from './wire.js';
import { CLASS, HEADER_SIZE, RCODE, TYPE, hasLabelBoundaryAt } from './wire.js';
import type { Sections, Transport } from './response.js';
import { buildResponse, errorResponse } from './response.js';
import type { RRSet, Zone, ZoneNode } from './zone.js';

/** Outcome counters an answer reports (for metrics). */
export type AnswerKind = 'answer' | 'nodata' | 'nxdomain' | 'refused' | 'servfail';

/** Result of the authority step. */
export interface AuthorityResult {
  readonly response: Buffer;
  readonly rcode: number;
  readonly kind: AnswerKind;
}

function single(rr: Buffer): RRSet {
  return { data: rr, offsets: [0, rr.length] };
}

const NONE: readonly RRSet[] = [];

/** Answers a query for a name inside the zone. `zone` undefined (no state loaded yet) gives SERVFAIL. */
export function answerAuthoritative(
  msg: Buffer,
  query: Query,
  zone: Zone | undefined,
  recursionAvailable: boolean,
  transport: Transport,
): AuthorityResult {
  const refuse = (rcode: number, kind: AnswerKind): AuthorityResult => ({
    response: errorResponse(msg, rcode, query.questionEnd, query.edns, recursionAvailable),
    rcode,
    kind,
  });
  if (zone === undefined) return refuse(RCODE.SERVFAIL, 'servfail');
  if (
    (query.qclass !== CLASS.IN && query.qclass !== CLASS.ANY) ||
    query.qtype === TYPE.AXFR ||
    query.qtype === TYPE.IXFR
  ) {
    return refuse(RCODE.REFUSED, 'refused');
  }
  const node = zone.nodes.get(query.key);
  const answers =
    node === undefined ? NONE : select(node, query.qtype, query.key === zone.apexKey, zone);
  let kind: AnswerKind;
  let sections: Sections;
  if (answers.length === 0) {
    // NXDOMAIN or NODATA: the SOA goes in authority (RFC 2308 2.1, 2.2), its owner a pointer to
    // the apex as a suffix of the QNAME.
    kind = node === undefined ? 'nxdomain' : 'nodata';
    sections = {
      rcode: node === undefined ? RCODE.NXDOMAIN : RCODE.NOERROR,
      answers: NONE,
      authority: [zone.soaNegative],
      soaPointer: query.qnameEnd - zone.apexWireLength,
      additional: undefined,
    };
  } else {
    const withAdditional = query.qtype === TYPE.SRV || query.qtype === TYPE.ANY;
    kind = 'answer';
    sections = {
      rcode: RCODE.NOERROR,
      answers,
      authority: [],
      soaPointer: 0,
      additional: withAdditional ? node?.srvAdditional : undefined,
    };
  }
  const flags = { authoritative: true, recursionAvailable };
  return {
    response: buildResponse(msg, query, sections, flags, transport),
    rcode: sections.rcode,
    kind,
  };
}

function select(node: ZoneNode, qtype: number, isApex: boolean, zone: Zone): readonly RRSet[] {
  switch (qtype) {
    case TYPE.A:
      return node.a === undefined ? NONE : [node.a];
    case TYPE.AAAA:
      return node.aaaa === undefined ? NONE : [node.aaaa];
    case TYPE.SRV:
      return node.srv === undefined ? NONE : [node.srv];
    case TYPE.SOA:
      return isApex ? [single(zone.soaAnswer)] : NONE;
    case TYPE.NS:
      return isApex ? [single(zone.nsAnswer)] : NONE;
    case TYPE.ANY: {
      const all: RRSet[] = [];
      if (isApex) all.push(single(zone.soaAnswer), single(zone.nsAnswer));
      for (const set of [node.a, node.aaaa, node.srv]) if (set !== undefined) all.push(set);
      return all;
    }
    default:
      return NONE;
  }
}

/** True when the QNAME of `query` (in `msg`) is the zone apex or below it. */
export function isInZone(msg: Buffer, query: Query, zone: { readonly apexKey: string }): boolean {
  const key = query.key;
  const apex = zone.apexKey;
  if (key.length < apex.length || !key.endsWith(apex)) return false;
  if (key.length === apex.length) return true;
  // The suffix match must fall on a label boundary.
  return hasLabelBoundaryAt(msg, HEADER_SIZE, HEADER_SIZE + key.length - apex.length);
}
