/**
 * A zone as AXFR messages (RFC 5936): the SOA, every RR of the zone, the SOA again, in messages
 * of at most 16 KiB (`TRANSFER_MESSAGE_SIZE`), each with the question. The zone is immutable, so
 * the transfer is a consistent snapshot of one serial however long the client takes to read it.
 *
 * Messages are produced one at a time (a generator), so that the caller can send each, wait for
 * the socket, and let queries run between two messages. Names come from the base record data
 * except those a changeset replaced, which come from the changeset's contents.
 */
import { KIND_A, KIND_AAAA, KIND_SRV, hashBytes } from '../records/index.js';
import type { RecordData } from '../records/index.js';
import { changedEntries, changedWithHash } from './changed-names.js';
import type { ChangedNames } from './changed-names.js';
import { TransferWriter, TRANSFER_MESSAGE_SIZE } from './transfer-writer.js';
import type { TransferQuestion } from './transfer-writer.js';
import type { Zone, ZonePart } from './zone.js';
import { nameStart, sameNameText } from './zone.js';
import { TYPE } from './wire.js';

/** The SOA's and the NS's RDATA in a zone's pre-encoded answers (after owner and header). */
export const soaRdataOf = (zone: Zone): Buffer => zone.soaAnswer.subarray(12);
const nsRdataOf = (zone: Zone): Buffer => zone.nsAnswer.subarray(12);

/**
 * The AXFR messages of `zone` for the request `q` (see the module comment). The first message
 * starts with the SOA and the last ends with it; every message is complete but for a TSIG.
 */
export function* axfrMessages(
  zone: Zone,
  q: TransferQuestion,
  maxSize = TRANSFER_MESSAGE_SIZE,
): Generator<Buffer> {
  const w = new TransferWriter(q, zone.records.zone, maxSize);
  // The SOA, then the NS of the apex (its target's address is an A record of the data); the
  // first RR never fills a message.
  w.apexRR(TYPE.SOA, zone.ttl, soaRdataOf(zone));
  let full = w.apexRR(TYPE.NS, zone.ttl, nsRdataOf(zone));
  if (full !== undefined) yield full;
  // The base's names that no changeset replaced, then the changed names from the changeset that
  // last replaced each. A loop, not a generator of (part, id) pairs: a 100k-task zone has about
  // 600k names, and a pair and a generator step each cost more than the name's RRs.
  const records = zone.records;
  const count = records.nameEnd.length;
  const changes = zone.changes;
  for (let id = 0; id < count; id++) {
    if (changes !== undefined && isReplaced(records, changes, id)) continue;
    for (const kind of KINDS) {
      for (let i = valuesStart(zone, id, kind), end = valuesEnd(zone, id, kind); i < end; i++) {
        full = w.record(zone, id, kind, i);
        if (full !== undefined) yield full;
      }
    }
  }
  for (const { part, id } of changedEntries(changes)) {
    for (const kind of KINDS) {
      for (let i = valuesStart(part, id, kind), end = valuesEnd(part, id, kind); i < end; i++) {
        full = w.record(part, id, kind, i);
        if (full !== undefined) yield full;
      }
    }
  }
  full = w.apexRR(TYPE.SOA, zone.ttl, soaRdataOf(zone));
  if (full !== undefined) yield full;
  yield w.finish();
}

/** The RR types of a name, in the order a transfer writes them. */
const KINDS = [KIND_A, KIND_AAAA, KIND_SRV] as const;

/** The index of the first value of `kind` that name `id` of `part` owns. */
function valuesStart(part: ZonePart, id: number, kind: number): number {
  const k = part.records.kinds[kind];
  const slot = (k?.slot[id] ?? 0) - 1;
  return slot < 0 ? 0 : (k?.start[slot] ?? 0);
}

/** After the last value of `kind` that name `id` of `part` owns (0 when it owns none). */
function valuesEnd(part: ZonePart, id: number, kind: number): number {
  const k = part.records.kinds[kind];
  const slot = (k?.slot[id] ?? 0) - 1;
  return slot < 0 ? 0 : (k?.start[slot + 1] ?? 0);
}

/** Whether a changeset replaced base name `id` (its records come from the changeset). */
function isReplaced(records: RecordData, changes: ChangedNames<ZonePart>, id: number): boolean {
  const start = nameStart(records, id);
  const length = (records.nameEnd[id] ?? start) - start;
  const entries = changedWithHash(changes, hashBytes(records.names, start, length));
  return (
    entries !== undefined && entries.some((e) => sameNameText(e.part.records, e.id, records, id))
  );
}
