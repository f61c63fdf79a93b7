/**
 * A zone as AXFR messages (RFC 5936): the SOA, every RR of the zone, the SOA again, packed into
 * messages of at most `maxSize` bytes, each with the question. The zone is immutable, so the
 * transfer is a consistent snapshot of one serial however long the client takes to read it.
 *
 * Messages are produced one at a time (a generator), so that the caller can send each, wait for
 * the socket, and let queries run between two messages. Owner names are compressed against the
 * apex (written once, in full, as the owner of the first SOA); SRV targets are not compressed
 * (RFC 2782). Names come from the base record data except those a changeset replaced, which come
 * from the changeset's contents.
 */
import type { RecordData } from '../records/index.js';
import { KIND_A, KIND_AAAA, KIND_SRV, hashBytes } from '../records/index.js';
import { changedEntries, changedWithHash } from './changed-names.js';
import type { Zone, ZonePart } from './zone.js';
import { nameStart, writeRRHeader } from './zone.js';
import { HEADER_SIZE, TYPE, setU16 } from './wire.js';

/** What every AXFR message starts with. */
export interface AxfrQuestion {
  readonly id: number;
  /** The question as the client sent it: QNAME, QTYPE, QCLASS. */
  readonly question: Uint8Array;
}

/** Largest message AXFR writes by default: room for a TSIG under the 64 KiB TCP frame. */
export const AXFR_MESSAGE_SIZE = 65_535 - 512;

/** Bytes one RR of `part`'s name `id` needs at most, beyond its owner. */
const RR_FIXED = 10;

/** A name's wire form in `records.names` text (`a.b.mesos.`), without the apex labels. */
function writeLabels(
  out: Uint8Array,
  off: number,
  text: Uint8Array,
  start: number,
  end: number,
): number {
  let label = off;
  let o = off + 1;
  for (let i = start; i < end; i++) {
    const c = text[i] ?? 0;
    if (c === 0x2e) {
      out[label] = o - label - 1;
      label = o;
      o++;
    } else {
      out[o++] = c;
    }
  }
  return label; // where the next label (or the pointer) goes
}

/** Writes a full uncompressed wire name from text `a.b.` (root label included). */
function writeFullName(
  out: Uint8Array,
  off: number,
  text: Uint8Array,
  start: number,
  end: number,
): number {
  const o = writeLabels(out, off, text, start, end);
  out[o] = 0;
  return o + 1;
}

/**
 * Owner names in one message: the first one written ends with the apex in full, every later one
 * with a pointer to it.
 */
class NameWriter {
  readonly #apexWire: Uint8Array;
  /** Offset of the apex in the current message, -1 before it was written. */
  #apexAt = -1;

  constructor(apexWire: Uint8Array) {
    this.#apexWire = apexWire;
  }

  /** A new message starts. */
  reset(): void {
    this.#apexAt = -1;
  }

  /** Bytes the owner of name `id` takes at most (labels before the apex, then the apex). */
  ownerSize(records: RecordData, id: number): number {
    const start = nameStart(records, id);
    const end = records.nameEnd[id] ?? start;
    return end - start - (this.#apexWire.length - 1) + this.#apexWire.length;
  }

  /** Writes the owner of name `id` at `off`; returns the end. */
  writeOwner(out: Uint8Array, off: number, records: RecordData, id: number): number {
    const start = nameStart(records, id);
    const end = (records.nameEnd[id] ?? start) - (this.#apexWire.length - 1);
    return this.writeApex(
      out,
      end > start ? writeLabels(out, off, records.names, start, end) : off,
    );
  }

  /** Writes the apex (in full, or a pointer to where it was) at `off`; returns the end. */
  writeApex(out: Uint8Array, off: number): number {
    if (this.#apexAt >= 0) {
      setU16(out, off, 0xc000 | this.#apexAt);
      return off + 2;
    }
    this.#apexAt = off;
    out.set(this.#apexWire, off);
    return off + this.#apexWire.length;
  }
}

/**
 * The AXFR messages of `zone` for the request `q` (see the module comment). The first message
 * starts with the SOA and the last ends with it; every message is complete but for a TSIG.
 */
export function* axfrMessages(
  zone: Zone,
  q: AxfrQuestion,
  maxSize = AXFR_MESSAGE_SIZE,
): Generator<Buffer> {
  const apexText = Buffer.from(zone.records.zone, 'latin1');
  const apexWire = Buffer.alloc(apexText.length + 1);
  writeFullName(apexWire, 0, apexText, 0, apexText.length);
  const questionEnd = HEADER_SIZE + q.question.length;
  const names = new NameWriter(apexWire);
  const soaRdata = zone.soaAnswer.subarray(2 + RR_FIXED);

  let out = Buffer.alloc(maxSize);
  let off = 0;
  let count = 0;
  const begin = (): void => {
    out = Buffer.alloc(maxSize);
    setU16(out, 0, q.id);
    out[2] = 0x84; // QR, AA, opcode QUERY
    out[3] = 0;
    setU16(out, 4, 1);
    out.set(q.question, HEADER_SIZE);
    off = questionEnd;
    count = 0;
    names.reset();
  };
  const finish = (): Buffer => {
    setU16(out, 6, count);
    return out.subarray(0, off);
  };
  const writeSoa = (): void => {
    off = names.writeApex(out, off);
    off = writeRRHeader(out, off, TYPE.SOA, zone.ttl, soaRdata.length);
    out.set(soaRdata, off);
    off += soaRdata.length;
    count++;
  };

  begin();
  writeSoa();
  // The NS of the apex (its target's address is an A record of the data).
  off = names.writeApex(out, off);
  const nsRdata = zone.nsAnswer.subarray(2 + RR_FIXED);
  off = writeRRHeader(out, off, TYPE.NS, zone.ttl, nsRdata.length);
  out.set(nsRdata, off);
  off += nsRdata.length;
  count++;

  for (const [part, id] of zoneNames(zone)) {
    const records = part.records;
    const ownerSize = names.ownerSize(records, id);
    for (const kind of [KIND_A, KIND_AAAA, KIND_SRV] as const) {
      const k = records.kinds[kind];
      const slot = (k.slot[id] ?? 0) - 1;
      if (slot < 0) continue;
      const end = k.start[slot + 1] ?? 0;
      for (let i = k.start[slot] ?? 0; i < end; i++) {
        const rdlength = rdataSize(records, kind, k.values[i] ?? 0);
        if (off + ownerSize + RR_FIXED + rdlength > maxSize) {
          yield finish();
          begin();
        }
        off = names.writeOwner(out, off, records, id);
        off = writeRR(out, off, part, kind, i);
        count++;
      }
    }
  }
  if (off + apexWire.length + RR_FIXED + soaRdata.length > maxSize) {
    // The closing SOA in a message of its own.
    yield finish();
    begin();
  }
  writeSoa();
  yield finish();
}

/** The RDATA size of one value. */
function rdataSize(records: RecordData, kind: number, value: number): number {
  if (kind === KIND_A) return 4;
  if (kind === KIND_AAAA) return 16;
  const start = nameStart(records, value);
  return 6 + (records.nameEnd[value] ?? start) - start + 1;
}

/** Writes the RR after its owner: header and RDATA of value `index` of `kind`. */
function writeRR(
  out: Uint8Array,
  off: number,
  part: ZonePart,
  kind: number,
  index: number,
): number {
  const records = part.records;
  const k = records.kinds[kind];
  const value = k?.values[index] ?? 0;
  if (kind === KIND_A) {
    off = writeRRHeader(out, off, TYPE.A, part.ttl, 4);
    out[off] = value >>> 24;
    out[off + 1] = (value >>> 16) & 255;
    out[off + 2] = (value >>> 8) & 255;
    out[off + 3] = value & 255;
    return off + 4;
  }
  if (kind === KIND_AAAA) {
    off = writeRRHeader(out, off, TYPE.AAAA, part.ttl, 16);
    out.set(records.v6.subarray(value * 16, value * 16 + 16), off);
    return off + 16;
  }
  const start = nameStart(records, value);
  const end = records.nameEnd[value] ?? start;
  off = writeRRHeader(out, off, TYPE.SRV, part.ttl, 6 + end - start + 1);
  setU16(out, off, 0); // priority
  setU16(out, off + 2, part.srvWeight);
  setU16(out, off + 4, k?.ports[index] ?? 0);
  return writeFullName(out, off + 6, records.names, start, end);
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
        entries.some((e) => sameText(e.part.records, e.id, records, id))
      ) {
        continue;
      }
    }
    yield [zone, id];
  }
  for (const { part, id } of changedEntries(changes)) yield [part, id];
}

function sameText(a: RecordData, x: number, b: RecordData, y: number): boolean {
  const as = nameStart(a, x);
  const bs = nameStart(b, y);
  const length = (a.nameEnd[x] ?? as) - as;
  if ((b.nameEnd[y] ?? bs) - bs !== length) return false;
  for (let i = 0; i < length; i++) if (a.names[as + i] !== b.names[bs + i]) return false;
  return true;
}
