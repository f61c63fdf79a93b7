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
import { changedEntries, changedWithHash } from './changed-names.js';
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
  for (const [part, id] of zoneNames(zone)) {
    const k = part.records.kinds;
    for (const kind of [KIND_A, KIND_AAAA, KIND_SRV] as const) {
      const slot = (k[kind].slot[id] ?? 0) - 1;
      if (slot < 0) continue;
      const end = k[kind].start[slot + 1] ?? 0;
      for (let i = k[kind].start[slot] ?? 0; i < end; i++) {
        full = w.record(part, id, kind, i);
        if (full !== undefined) yield full;
      }
    }
  }
  full = w.apexRR(TYPE.SOA, zone.ttl, soaRdataOf(zone));
  if (full !== undefined) yield full;
  yield w.finish();
}

/**
 * Every name of the zone that owns records, as (part, id): the base's names that no changeset
 * replaced, then the changed names from the changeset that last replaced each.
 */
function* zoneNames(zone: Zone): Generator<[ZonePart, number]> {
  const records = zone.records;
  const changes = zone.changes;
  const count = records.nameEnd.length;
  for (let id = 0; id < count; id++) {
    if (changes !== undefined) {
      const start = nameStart(records, id);
      const length = (records.nameEnd[id] ?? start) - start;
      const entries = changedWithHash(changes, hashBytes(records.names, start, length));
      if (
        entries !== undefined &&
        entries.some((e) => sameNameText(e.part.records, e.id, records, id))
      ) {
        continue;
      }
    }
    yield [zone, id];
  }
  for (const { part, id } of changedEntries(changes)) yield [part, id];
}
