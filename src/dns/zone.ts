/**
 * The compiled zone: what the authoritative server answers from, prepared once when a state
 * loads. A query then costs a hash of the QNAME, one probe of a typed-array index and writing a
 * few bytes (a rule of this code base: the authoritative path is synchronous and allocation-light).
 *
 * The zone is an index over the compact record data of the records module (`RecordData`): the
 * owner names are its interned names, found through its hash index, and the answers are written
 * straight from its typed arrays. A, AAAA and SRV RRs have a fixed layout (owner pointer 0xC00C,
 * type, class, TTL, rdlength, then the address or priority/weight/port/target), so writing them
 * costs no more than copying pre-encoded bytes, and a zone costs no memory beyond the record
 * data instead of again as much in encoded RRs. Because every part is a
 * typed array or a string, the zone can be built in a worker thread and transferred.
 *
 * Empty non-terminals (RFC 8020: names that only have descendants, the apex when it has no
 * records of its own) are names of the record data too, marked in `emptyNonTerminal`.
 */
import { createHash } from 'node:crypto';
import type { RecordData, RecordSet } from '../records/index.js';
import { KIND_A, KIND_AAAA, KIND_PTR, KIND_SRV, toRecordData } from '../records/index.js';
import type { SoaConfig } from '../config/index.js';
import { CLASS, TYPE, encodeName, hashName, lowerByte, nameKey } from './wire.js';
import type { ChangedNames } from './changed-names.js';
import { changedWithHash } from './changed-names.js';

/** Options of `compileZone`. */
export interface ZoneOptions {
  readonly ttl: number;
  readonly srvWeight: number;
  readonly soa: SoaConfig;
  readonly serial: number;
}

/** What a zone adds to its record data, independent of the serial (posted between threads). */
export interface ZoneImage {
  /** Lookup key of the apex (see `nameKey`). */
  readonly apexKey: string;
  /** Digest of the records and the settings that shape the answers. */
  readonly fingerprint: string;
  /** Number of names (owners with records and empty non-terminals), and of RRs. */
  readonly names: number;
  readonly rrs: number;
}

/** What answers are written from: record data and the settings that shape its RRs. */
export interface ZonePart {
  /** The records answered from. */
  readonly records: RecordData;
  /** `records.names` as a Buffer. */
  readonly nameBytes: Buffer;
  readonly ttl: number;
  readonly srvWeight: number;
}

/** `records` as a part of `zone` (a changeset's contents, a difference): its settings. */
export function zonePart(records: RecordData, zone: Pick<ZonePart, 'ttl' | 'srvWeight'>): ZonePart {
  const { names } = records;
  return {
    records,
    nameBytes: Buffer.from(names.buffer, names.byteOffset, names.byteLength),
    ttl: zone.ttl,
    srvWeight: zone.srvWeight,
  };
}

/**
 * An immutable zone: the records of its last full build (the base) and the names the
 * changesets applied since then replaced (dns/changeset.ts). `lookupAt` answers for both.
 */
export interface Zone extends ZonePart {
  /** Lookup key of the apex (see `nameKey`). */
  readonly apexKey: string;
  /** Wire length of the apex name including the root label. */
  readonly apexWireLength: number;
  readonly soa: SoaConfig;
  /** SOA RR owned by the QNAME (answer to `SOA` at the apex). */
  readonly soaAnswer: Buffer;
  /**
   * SOA RR for the authority section of negative answers, TTL = min(ttl, minimum) (RFC 2308 3).
   * Its first two bytes are a placeholder for a compression pointer to the apex inside the QNAME.
   */
  readonly soaNegative: Buffer;
  /** NS RR owned by the QNAME (answer to `NS` at the apex). */
  readonly nsAnswer: Buffer;
  readonly serial: number;
  /** Digest of the base's records and of the settings (see `compileZoneImage`). */
  readonly fingerprint: string;
  /** Names that exist (owners with records and empty non-terminals), and RRs, now. */
  readonly names: number;
  readonly rrs: number;
  /** The names replaced since the base, with the changeset contents that hold each one. */
  readonly changes: ChangedNames<ZonePart>;
  /** How many names `changes` holds. */
  readonly changedNames: number;
}

/** `findNode` result for a name that exists without records (an empty non-terminal). */
export const EMPTY_NODE = -2;
/** `findNode` result for a name that does not exist. */
export const NO_NODE = -1;

/** Writes the fixed RR header after the owner: type, class IN, ttl, rdlength; returns the end. */
export function writeRRHeader(
  out: Uint8Array,
  off: number,
  type: number,
  ttl: number,
  rdlength: number,
): number {
  out[off] = type >>> 8;
  out[off + 1] = type & 255;
  out[off + 2] = 0;
  out[off + 3] = CLASS.IN;
  out[off + 4] = (ttl >>> 24) & 255;
  out[off + 5] = (ttl >>> 16) & 255;
  out[off + 6] = (ttl >>> 8) & 255;
  out[off + 7] = ttl & 255;
  out[off + 8] = rdlength >>> 8;
  out[off + 9] = rdlength & 255;
  return off + 10;
}

const QNAME_POINTER = Buffer.from([0xc0, 0x0c]);

/** The rdata of the SOA RR of `soa` with `serial`. */
export function soaRdata(soa: SoaConfig, serial: number): Buffer {
  const m = encodeName(soa.mname);
  const r = encodeName(soa.rname);
  const out = Buffer.allocUnsafe(m.length + r.length + 20);
  m.copy(out, 0);
  r.copy(out, m.length);
  let off = m.length + r.length;
  for (const v of [serial, soa.refresh, soa.retry, soa.expire, soa.minimum]) {
    out.writeUInt32BE(v >>> 0, off);
    off += 4;
  }
  return out;
}

/** An RR: owner (wire form or pointer), type, class IN, TTL and rdata. */
export function rrWithRdata(owner: Buffer, type: number, ttl: number, rdata: Buffer): Buffer {
  const out = Buffer.allocUnsafe(owner.length + 10 + rdata.length);
  owner.copy(out, 0);
  const off = writeRRHeader(out, owner.length, type, ttl, rdata.length);
  rdata.copy(out, off);
  return out;
}

/** Start of name `id` in `RecordData.names`. */
export function nameStart(records: RecordData, id: number): number {
  return id === 0 ? 0 : (records.nameEnd[id - 1] ?? 0);
}

/**
 * Whether name `id` owns records of a kind in `want`: bit `1 << kind` per record kind (the
 * response writer's `WANT_A`, `WANT_AAAA`, `WANT_SRV`, `WANT_PTR`); all kinds by default.
 */
export function hasRecords(records: RecordData, id: number, want = 15): boolean {
  const kinds = records.kinds;
  return (
    ((want & (1 << KIND_A)) !== 0 && (kinds[KIND_A].slot[id] ?? 0) > 0) ||
    ((want & (1 << KIND_AAAA)) !== 0 && (kinds[KIND_AAAA].slot[id] ?? 0) > 0) ||
    ((want & (1 << KIND_SRV)) !== 0 && (kinds[KIND_SRV].slot[id] ?? 0) > 0) ||
    ((want & (1 << KIND_PTR)) !== 0 && (kinds[KIND_PTR].slot[id] ?? 0) > 0)
  );
}

/**
 * Compiles a record set into a zone. Pure; a few passes over typed arrays (a `CompactRecordSet`
 * from the generator is used as is; any other `RecordSet` is converted first).
 */
export function compileZone(records: RecordSet, options: ZoneOptions): Zone {
  const data = toRecordData(records);
  return zoneFromImage(data, compileZoneImage(data, options), options);
}

/**
 * Computes what a zone adds to its record data (its fingerprint and counts). Runs where the
 * records were generated (a worker thread); `zoneFromImage` is then cheap.
 */
export function compileZoneImage(
  records: RecordData,
  options: Omit<ZoneOptions, 'serial'>,
): ZoneImage {
  const { ttl, srvWeight, soa } = options;
  let names = 0;
  for (let id = 0; id < records.nameEnd.length; id++) {
    if (records.emptyNonTerminal[id] === 1 || hasRecords(records, id)) names++;
  }
  const digest = createHash('sha256');
  for (const part of [records.names, records.nameEnd, records.v6]) digest.update(part);
  for (const k of records.kinds) {
    for (const part of [k.keys, k.start, k.values, k.ports]) digest.update(part);
  }
  digest.update(soaRdata(soa, 0)).update(`${String(ttl)}/${String(srvWeight)}`);
  let rrs = 0;
  for (const k of records.kinds) rrs += k.values.length;
  return { apexKey: nameKey(records.zone), fingerprint: digest.digest('hex'), names, rrs };
}

/** A zone from its record data, its image, and the settings that shape the answers. */
export function zoneFromImage(records: RecordData, image: ZoneImage, options: ZoneOptions): Zone {
  const { ttl, srvWeight, soa, serial } = options;
  const rdata = soaRdata(soa, serial);
  const { names } = records;
  return {
    apexKey: image.apexKey,
    apexWireLength: image.apexKey.length + 1,
    records,
    nameBytes: Buffer.from(names.buffer, names.byteOffset, names.byteLength),
    ttl,
    srvWeight,
    soaAnswer: rrWithRdata(QNAME_POINTER, TYPE.SOA, ttl, rdata),
    soaNegative: rrWithRdata(QNAME_POINTER, TYPE.SOA, Math.min(ttl, soa.minimum), rdata),
    nsAnswer: rrWithRdata(QNAME_POINTER, TYPE.NS, ttl, encodeName(soa.mname)),
    serial,
    fingerprint: image.fingerprint,
    names: image.names,
    rrs: image.rrs,
    soa,
    changes: undefined,
    changedNames: 0,
  };
}

/** Returns the same zone with a new serial (SOA re-encoded), sharing everything else. */
export function withSerial(zone: Zone, soa: SoaConfig, ttl: number, serial: number): Zone {
  const rdata = soaRdata(soa, serial);
  return {
    ...zone,
    serial,
    soaAnswer: rrWithRdata(QNAME_POINTER, TYPE.SOA, ttl, rdata),
    soaNegative: rrWithRdata(QNAME_POINTER, TYPE.SOA, Math.min(ttl, soa.minimum), rdata),
  };
}

/** Where `lookupAt` found a name: the part that holds it and its id there (-1: nowhere). */
export interface Found {
  readonly part: ZonePart;
  readonly id: number;
}

/** `lookupAt`'s result, one object reused by every call (read it before the next lookup). */
const found: { part: ZonePart; id: number } = { part: undefined as unknown as ZonePart, id: -1 };

/**
 * Finds the wire-format name `bytes[start..end)` (its labels, any case, as in a query's question;
 * `end` is the offset of its root label) whose `hashName` is `hash`: in the changeset contents
 * that last replaced it, else in the base. The id is the name's whether or not it owns records
 * (`classifyName` tells); -1 when the part does not have it. Allocation-free.
 */
export function lookupAt(
  zone: Zone,
  bytes: Uint8Array,
  start: number,
  end: number,
  hash: number,
): Found {
  const changed = changedWithHash(zone.changes, hash);
  if (changed !== undefined) {
    for (const entry of changed) {
      const { records } = entry.part;
      if (nameMatchesAt(records.nameEnd, entry.part.nameBytes, entry.id, bytes, start, end)) {
        found.part = entry.part;
        found.id = entry.id;
        return found;
      }
    }
  }
  found.part = zone;
  found.id = findNameAt(zone, bytes, start, end, hash);
  return found;
}

/**
 * Looks up a name given by its lookup key (see `nameKey`): the part that holds it and the id of
 * its owner name there, `EMPTY_NODE` for an empty non-terminal, or `NO_NODE`. Queries use
 * `lookupAt` on the packet instead.
 */
export function lookup(
  zone: Zone,
  key: string,
): { readonly part: ZonePart; readonly node: number } {
  const wire = Buffer.from(key + '\0', 'latin1');
  const { part, id } = lookupAt(zone, wire, 0, key.length, hashName(wire, 0));
  return { part, node: classifyName(part, id) };
}

/** `lookup`'s node alone. */
export function findNode(zone: Zone, key: string): number {
  return lookup(zone, key).node;
}

/** As `findNode`, for the wire-format name `bytes[start..end)` (see `lookupAt`). */
export function findNodeAt(
  zone: Zone,
  bytes: Uint8Array,
  start: number,
  end: number,
  hash: number,
): number {
  const { part, id } = lookupAt(zone, bytes, start, end, hash);
  return classifyName(part, id);
}

/**
 * What `findNode` says of name id `id` of the zone's records (-1: not a name): the id when it
 * owns records, else `EMPTY_NODE` or `NO_NODE` (a name that is only an SRV target).
 */
export function classifyName(zone: ZonePart, id: number): number {
  if (id < 0) return NO_NODE;
  if (hasRecords(zone.records, id)) return id;
  return zone.records.emptyNonTerminal[id] === 1 ? EMPTY_NODE : NO_NODE;
}

/**
 * The id of the wire-format name `bytes[start..end)` (as `lookupAt`) among the zone's record
 * names (whether or not it owns records), or -1. Allocation-free: the name is compared with the
 * zone's text form (`ab.c.` for `\x02ab\x01c\x00`) byte by byte.
 */
export function findNameAt(
  zone: ZonePart,
  bytes: Uint8Array,
  start: number,
  end: number,
  hash: number,
): number {
  const { nameTable, nameEnd } = zone.records;
  const names = zone.nameBytes;
  const mask = (nameTable.length >>> 1) - 1;
  for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
    const entry = nameTable[slot * 2] ?? 0;
    if (entry === 0) return -1;
    if (nameTable[slot * 2 + 1] !== hash) continue;
    if (nameMatchesAt(nameEnd, names, entry - 1, bytes, start, end)) return entry - 1;
  }
}

/**
 * Whether name `id` (text form in `names`, ends in `nameEnd`) is the wire-format name
 * `bytes[start..end)`, compared byte by byte: the text form (`ab.c.` for `\x02ab\x01c\x00`) is as
 * long as the labels, a dot in place of each next length byte.
 */
function nameMatchesAt(
  nameEnd: Int32Array,
  names: Uint8Array,
  id: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): boolean {
  const length = end - start;
  const from = id === 0 ? 0 : (nameEnd[id - 1] ?? 0);
  if ((nameEnd[id] ?? 0) - from !== length) return false;
  // Each label's bytes, then a dot in the text where the wire has the next length byte. A label
  // holding a dot byte never matches (the zone's names have none).
  let p = 0;
  while (p < length) {
    const n = bytes[start + p] ?? 0;
    let j = 1;
    for (; j <= n; j++) {
      const c = lowerByte(bytes[start + p + j] ?? 0);
      if (c === 0x2e || names[from + p + j - 1] !== c) return false;
    }
    if (names[from + p + n] !== 0x2e) return false;
    p += n + 1;
  }
  return true;
}

/** Whether name `x` of `a` and name `y` of `b` are the same text (names of two record sets). */
export function sameNameText(a: RecordData, x: number, b: RecordData, y: number): boolean {
  const as = nameStart(a, x);
  const bs = nameStart(b, y);
  const length = (a.nameEnd[x] ?? as) - as;
  if ((b.nameEnd[y] ?? bs) - bs !== length) return false;
  for (let i = 0; i < length; i++) if (a.names[as + i] !== b.names[bs + i]) return false;
  return true;
}

/** Re-exported record kinds, for the response writer. */
export { KIND_A, KIND_AAAA, KIND_PTR, KIND_SRV };
