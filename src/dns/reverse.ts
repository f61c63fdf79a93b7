/**
 * Reverse lookups (`records.reverse`): PTR answers from the zone's PTR records (records/reverse.ts
 * makes them), found like every other name (`lookupAt`: the base or the changeset that last
 * replaced the name), so they follow every full build and every streamed changeset.
 *
 * - Inside a configured reverse zone mesodns is authoritative: PTR, SOA and NS at the apex, ANY;
 *   an unknown address is NXDOMAIN and an empty non-terminal (a name above known addresses)
 *   NODATA, both with the reverse zone's SOA (RFC 2308; serial: the zone's).
 * - Outside them a PTR it has is answered; any other query is left to the forwarder.
 *
 * Synchronous, like the forward zone's answers; nothing of it runs when reverse lookups are off.
 */
import type { SoaConfig } from '../config/index.js';
import type { AuthorityResult } from './authority.js';
import { answerFlags, isInZone, isRefusedQuery, negativeAnswer, refuse } from './authority.js';
import type { Transport } from './response.js';
import { WANT_PTR, zoneResponse } from './response.js';
import type { Query } from './wire.js';
import {
  CLASS,
  HEADER_SIZE,
  RCODE,
  TYPE,
  encodeName,
  hasLabelBoundaryAt,
  lowerByte,
  nameKey,
} from './wire.js';
import type { Zone } from './zone.js';
import { EMPTY_NODE, classifyName, hasRecords, lookupAt, rrWithRdata, soaRdata } from './zone.js';

/** The reverse zones the server answers for (built once per settings change). */
export interface ReverseZones {
  /** Each zone's apex (`nameKey` form: `10.in-addr.arpa`). */
  readonly apexes: readonly { readonly apexKey: string }[];
}

/** `ReverseZones` of the apexes (`10.in-addr.arpa.`; records/reverse.ts, `reverseApexes`). */
export function reverseZones(apexes: readonly string[]): ReverseZones {
  return { apexes: apexes.map((apex) => ({ apexKey: nameKey(apex) })) };
}

/**
 * The reverse zones a zone was built with (`RecordData.reverseZones`), made once per build. A
 * reload that turns reverse lookups on or adds a zone changes the settings at once, but the
 * zone served has those PTRs only after its rebuild: until then the names are forwarded as
 * before, not answered NXDOMAIN from a zone without them.
 */
const builtApexes = new WeakMap<Zone['records'], ReadonlySet<string>>();

function apexesOf(zone: Zone): ReadonlySet<string> {
  let keys = builtApexes.get(zone.records);
  if (keys === undefined) {
    keys = new Set(zone.records.reverseZones.map((apex) => nameKey(apex)));
    builtApexes.set(zone.records, keys);
  }
  return keys;
}

/** The SOA and NS RRs of one reverse zone for one zone version (serial). */
interface ApexRecords {
  readonly soaAnswer: Buffer;
  /** As `Zone.soaNegative`: its owner a pointer placeholder to the apex inside the QNAME. */
  readonly soaNegative: Buffer;
  readonly nsAnswer: Buffer;
  readonly apexWireLength: number;
}

/** Per zone version, the records of each reverse apex asked for (made on first use). */
const apexRecords = new WeakMap<Zone, Map<string, ApexRecords>>();

function recordsOf(zone: Zone, apexKey: string): ApexRecords {
  let byApex = apexRecords.get(zone);
  if (byApex === undefined) {
    byApex = new Map();
    apexRecords.set(zone, byApex);
  }
  let records = byApex.get(apexKey);
  if (records === undefined) {
    records = apexRecordsFor(zone.soa, zone.ttl, zone.serial, apexKey);
    byApex.set(apexKey, records);
  }
  return records;
}

const QNAME_POINTER = Buffer.from([0xc0, 0x0c]);

function apexRecordsFor(soa: SoaConfig, ttl: number, serial: number, apexKey: string): ApexRecords {
  const rdata = soaRdata(soa, serial);
  return {
    soaAnswer: rrWithRdata(QNAME_POINTER, TYPE.SOA, ttl, rdata),
    soaNegative: rrWithRdata(QNAME_POINTER, TYPE.SOA, Math.min(ttl, soa.minimum), rdata),
    nsAnswer: rrWithRdata(QNAME_POINTER, TYPE.NS, ttl, encodeName(soa.mname)),
    apexWireLength: apexKey.length + 1,
  };
}

/** Whether the QNAME is under `in-addr.arpa` or `ip6.arpa` (cheap: the last labels). */
function isReverseName(msg: Buffer, query: Query): boolean {
  const end = query.qnameEnd - 1;
  const arpa = end - 5;
  if (arpa < HEADER_SIZE || msg[arpa] !== 4) return false;
  for (let i = 0; i < 4; i++) {
    if (lowerByte(msg[arpa + 1 + i] ?? 0) !== 'arpa'.charCodeAt(i)) return false;
  }
  return hasLabelBoundaryAt(msg, HEADER_SIZE, arpa);
}

/**
 * Answers a query under `in-addr.arpa`/`ip6.arpa` from the zone's PTR records, or returns
 * undefined when it is for the forwarder (see the module comment). `zone` undefined (no state
 * loaded yet) gives SERVFAIL inside a reverse zone.
 */
export function answerReverse(
  msg: Buffer,
  query: Query,
  zone: Zone | undefined,
  reverse: ReverseZones,
  recursionAvailable: boolean,
  transport: Transport,
): AuthorityResult | undefined {
  if (!isReverseName(msg, query)) return undefined;
  // A configured zone the build served has too; before the first load, the configured one.
  let apex: { readonly apexKey: string } | undefined;
  for (const candidate of reverse.apexes) {
    if (!isInZone(msg, query, candidate)) continue;
    if (zone === undefined || apexesOf(zone).has(candidate.apexKey)) apex = candidate;
    break;
  }
  const qtype = query.qtype;
  if (apex === undefined) {
    // Outside the reverse zones: only what mesodns knows, the rest is forwarded.
    if (zone === undefined || query.qclass !== CLASS.IN || qtype !== TYPE.PTR) return undefined;
    const { part, id } = lookupAt(zone, msg, HEADER_SIZE, query.qnameEnd - 1, query.nameHash);
    if (id < 0 || !hasRecords(part.records, id, WANT_PTR)) return undefined;
    const flags = answerFlags(recursionAvailable);
    return answer(zoneResponse(msg, query, part, id, WANT_PTR, undefined, false, flags, transport));
  }
  if (zone === undefined) return refuse(msg, query, RCODE.SERVFAIL, 'servfail', recursionAvailable);
  if (isRefusedQuery(query))
    return refuse(msg, query, RCODE.REFUSED, 'refused', recursionAvailable);
  const flags = answerFlags(recursionAvailable);
  const { part, id } = lookupAt(zone, msg, HEADER_SIZE, query.qnameEnd - 1, query.nameHash);
  const isApex = query.qnameEnd - 1 - HEADER_SIZE === apex.apexKey.length;
  const records = recordsOf(zone, apex.apexKey);
  const ptrs = id >= 0 && hasRecords(part.records, id, WANT_PTR);
  let want = 0;
  let extra: readonly Buffer[] | undefined;
  switch (qtype) {
    case TYPE.PTR:
      want = WANT_PTR;
      break;
    case TYPE.SOA:
      if (isApex) extra = [records.soaAnswer];
      break;
    case TYPE.NS:
      if (isApex) extra = [records.nsAnswer];
      break;
    case TYPE.ANY:
      // A reverse name holds PTRs only, the apex its SOA and NS too (one RRset over UDP, RFC 8482).
      want = WANT_PTR;
      if (isApex && transport === 'tcp') extra = [records.soaAnswer, records.nsAnswer];
      else if (isApex && !ptrs) extra = [records.soaAnswer];
      break;
    default:
      break;
  }
  const hasPtr = (want & WANT_PTR) !== 0 && ptrs;
  if (extra === undefined && !hasPtr) {
    // The apex exists whatever the records (the builder marks it an empty non-terminal).
    const node = classifyName(part, id);
    const exists = isApex || node >= 0 || node === EMPTY_NODE;
    return negativeAnswer(msg, query, records, exists, flags, transport);
  }
  return answer(
    zoneResponse(msg, query, part, hasPtr ? id : -1, want, extra, false, flags, transport),
  );
}

function answer(response: Buffer): AuthorityResult {
  return { response, rcode: RCODE.NOERROR, kind: 'answer' };
}
