/**
 * Incremental zone transfer (RFC 1995): the differences from a secondary's serial to the current
 * one, condensed into one (RFC 1995 5): the RRs the zone lost since that serial and the RRs it
 * gained, each once, however many changes came between (an RR added and removed again in between
 * is in neither). The messages are
 *
 *   SOA (current), SOA (the secondary's serial), the RRs removed, SOA (current), the RRs added,
 *   SOA (current)
 *
 * in messages of up to 16 KiB, like AXFR's (transfer-writer.ts).
 */
import type { RecordData } from '../records/index.js';
import { KIND_A, KIND_AAAA, KIND_SRV } from '../records/index.js';
import { soaRdataOf } from './axfr.js';
import type { ZoneDiff } from './changeset.js';
import { TRANSFER_MESSAGE_SIZE, TransferWriter } from './transfer-writer.js';
import type { TransferQuestion } from './transfer-writer.js';
import { TYPE } from './wire.js';
import type { Zone, ZonePart } from './zone.js';
import { nameStart } from './zone.js';

/** One RR of a difference's record data. */
interface RR {
  readonly part: ZonePart;
  readonly id: number;
  readonly kind: number;
  readonly index: number;
}

/** The part the writer reads a difference's records from. */
function partOf(records: RecordData, zone: Zone): ZonePart {
  const { names } = records;
  return {
    records,
    nameBytes: Buffer.from(names.buffer, names.byteOffset, names.byteLength),
    ttl: zone.ttl,
    srvWeight: zone.srvWeight,
  };
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
 * The net change of `diffs` (in serial order): the RRs removed and added, each once (see the
 * module comment). One difference is its own condensed form.
 */
export function condense(
  diffs: readonly ZoneDiff[],
  zone: Zone,
): { readonly removed: readonly RR[]; readonly added: readonly RR[] } {
  if (diffs.length === 1 && diffs[0] !== undefined) {
    return {
      removed: [...rrsOf(partOf(diffs[0].removed, zone))],
      added: [...rrsOf(partOf(diffs[0].added, zone))],
    };
  }
  const removed = new Map<string, RR>();
  const added = new Map<string, RR>();
  for (const diff of diffs) {
    for (const rr of rrsOf(partOf(diff.removed, zone))) {
      const key = keyOf(rr);
      if (!added.delete(key)) removed.set(key, rr);
    }
    for (const rr of rrsOf(partOf(diff.added, zone))) {
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

/**
 * The IXFR messages taking a secondary at `diffs[0].serialFrom` to `zone` (whose serial the last
 * difference ends at), for the request `q`.
 */
export function* ixfrMessages(
  zone: Zone,
  diffs: readonly ZoneDiff[],
  q: TransferQuestion,
  maxSize = TRANSFER_MESSAGE_SIZE,
): Generator<Buffer> {
  const from = diffs[0]?.serialFrom ?? zone.serial;
  const { removed, added } = condense(diffs, zone);
  const w = new TransferWriter(q, zone.records.zone, maxSize);
  const current = soaRdataOf(zone);
  // Each step may finish a message, which goes out before the next step's RR.
  const steps: (() => Buffer | undefined)[] = [
    () => w.apexRR(TYPE.SOA, zone.ttl, current),
    () => w.apexRR(TYPE.SOA, zone.ttl, soaWithSerial(zone, from)),
  ];
  for (const step of steps) {
    const full = step();
    if (full !== undefined) yield full;
  }
  for (const rr of removed) {
    const full = w.record(rr.part, rr.id, rr.kind, rr.index);
    if (full !== undefined) yield full;
  }
  let full = w.apexRR(TYPE.SOA, zone.ttl, current);
  if (full !== undefined) yield full;
  for (const rr of added) {
    full = w.record(rr.part, rr.id, rr.kind, rr.index);
    if (full !== undefined) yield full;
  }
  full = w.apexRR(TYPE.SOA, zone.ttl, current);
  if (full !== undefined) yield full;
  yield w.finish();
}
