/**
 * Incremental zone transfer (RFC 1995): the differences from a secondary's serial to the current
 * one. A short chain is condensed into one (RFC 1995 5): the RRs the zone lost since that serial
 * and the RRs it gained, each once, however many changes came between (an RR added and removed
 * again in between is in neither). A long chain (`CONDENSE_MAX_RRS`) goes as it is, difference
 * after difference, read lazily. The messages are
 *
 *   SOA (current), then per difference: SOA (from), the RRs removed, SOA (to), the RRs added;
 *   and SOA (current) at the end
 *
 * in messages of up to 16 KiB, like AXFR's (transfer-writer.ts).
 */
import type { RecordData } from '../records/index.js';
import { KIND_A, KIND_AAAA, KIND_SRV } from '../records/index.js';
import { soaRdataOf } from './axfr.js';
import type { ZoneDiff } from './changeset.js';
import { diffRRs } from './journal.js';
import { TRANSFER_MESSAGE_SIZE, TransferWriter } from './transfer-writer.js';
import type { TransferQuestion } from './transfer-writer.js';
import { TYPE } from './wire.js';
import type { Zone, ZonePart } from './zone.js';
import { nameStart, zonePart } from './zone.js';

/** One RR of a difference's record data. */
interface RR {
  readonly part: ZonePart;
  readonly id: number;
  readonly kind: number;
  readonly index: number;
}

/** Every RR of `part`, name by name. */
function* rrsOf(part: ZonePart): Generator<RR> {
  const records = part.records;
  for (let id = 0; id < records.nameEnd.length; id++) {
    for (const kind of [KIND_A, KIND_AAAA, KIND_SRV] as const) {
      const k = records.kinds[kind];
      const slot = (k.slot[id] ?? 0) - 1;
      if (slot < 0) continue;
      const end = k.start[slot + 1] ?? 0;
      for (let index = k.start[slot] ?? 0; index < end; index++) yield { part, id, kind, index };
    }
  }
}

/** The text of a name of `records`. */
function nameText(records: RecordData, id: number): string {
  const start = nameStart(records, id);
  return Buffer.from(records.names.subarray(start, records.nameEnd[id] ?? start)).toString(
    'latin1',
  );
}

/** What identifies an RR: its owner, kind and RDATA. */
function keyOf({ part, id, kind, index }: RR): string {
  const records = part.records;
  const k = records.kinds[kind];
  const value = k?.values[index] ?? 0;
  let data: string;
  if (kind === KIND_A) data = String(value >>> 0);
  else if (kind === KIND_AAAA)
    data = Buffer.from(records.v6.subarray(value * 16, value * 16 + 16)).toString('hex');
  else data = `${String(k?.ports[index] ?? 0)} ${nameText(records, value)}`;
  return `${nameText(records, id)}\u0000${String(kind)}\u0000${data}`;
}

/**
 * Chains of differences with more RRs than this are sent as they are, one difference after
 * another (RFC 1995 4 allows both), instead of condensed: condensing keys every RR in memory on
 * the thread that answers DNS before the first message can go, while the plain sequence is
 * written message by message.
 */
export const CONDENSE_MAX_RRS = 20_000;

/**
 * The net change of `diffs` (in serial order): the RRs removed and added, each once (see the
 * module comment).
 */
export function condense(
  diffs: readonly ZoneDiff[],
  zone: Zone,
): { readonly removed: readonly RR[]; readonly added: readonly RR[] } {
  const removed = new Map<string, RR>();
  const added = new Map<string, RR>();
  for (const diff of diffs) {
    for (const rr of rrsOf(zonePart(diff.removed, zone))) {
      const key = keyOf(rr);
      if (!added.delete(key)) removed.set(key, rr);
    }
    for (const rr of rrsOf(zonePart(diff.added, zone))) {
      const key = keyOf(rr);
      if (!removed.delete(key)) added.set(key, rr);
    }
  }
  return { removed: [...removed.values()], added: [...added.values()] };
}

/** The SOA RDATA of `zone` with another serial. */
function soaWithSerial(zone: Zone, serial: number): Buffer {
  const rdata = Buffer.from(soaRdataOf(zone));
  rdata.writeUInt32BE(serial >>> 0, rdata.length - 20);
  return rdata;
}

/** One step of the answer: the RRs removed from serial `from`, and those added up to `to`. */
interface Section {
  readonly from: number;
  readonly to: number;
  readonly removed: Iterable<RR>;
  readonly added: Iterable<RR>;
}

/** The sections of the answer: one condensed difference, or each difference as it is. */
function sections(zone: Zone, diffs: readonly ZoneDiff[], condenseMaxRRs: number): Section[] {
  let total = 0;
  for (const d of diffs) total += diffRRs(d);
  if (diffs.length > 1 && total <= condenseMaxRRs) {
    const { removed, added } = condense(diffs, zone);
    return [{ from: diffs[0]?.serialFrom ?? zone.serial, to: zone.serial, removed, added }];
  }
  return diffs.map((d) => ({
    from: d.serialFrom,
    to: d.serialTo,
    removed: rrsOf(zonePart(d.removed, zone)),
    added: rrsOf(zonePart(d.added, zone)),
  }));
}

/**
 * The IXFR messages taking a secondary at `diffs[0].serialFrom` to `zone` (whose serial the last
 * difference ends at), for the request `q`: SOA (current), then for each section SOA (from),
 * the RRs removed, SOA (to), the RRs added; SOA (current) at the end.
 */
export function* ixfrMessages(
  zone: Zone,
  diffs: readonly ZoneDiff[],
  q: TransferQuestion,
  maxSize = TRANSFER_MESSAGE_SIZE,
  condenseMaxRRs = CONDENSE_MAX_RRS,
): Generator<Buffer> {
  const w = new TransferWriter(q, zone.records.zone, maxSize);
  const current = soaRdataOf(zone);
  const soa = (rdata: Buffer): Buffer | undefined => w.apexRR(TYPE.SOA, zone.ttl, rdata);
  let full = soa(current);
  if (full !== undefined) yield full;
  for (const section of sections(zone, diffs, condenseMaxRRs)) {
    full = soa(soaWithSerial(zone, section.from));
    if (full !== undefined) yield full;
    for (const rr of section.removed) {
      full = w.record(rr.part, rr.id, rr.kind, rr.index);
      if (full !== undefined) yield full;
    }
    full = soa(section.to === zone.serial ? current : soaWithSerial(zone, section.to));
    if (full !== undefined) yield full;
    for (const rr of section.added) {
      full = w.record(rr.part, rr.id, rr.kind, rr.index);
      if (full !== undefined) yield full;
    }
  }
  full = soa(current);
  if (full !== undefined) yield full;
  yield w.finish();
}
