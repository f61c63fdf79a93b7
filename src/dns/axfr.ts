/**
 * A zone as AXFR messages (RFC 5936): the SOA, every RR of the zone, the SOA again, packed into
 * messages of at most `maxSize` bytes (16 KiB: see `AXFR_MESSAGE_SIZE`), each with the question. The zone is immutable, so the
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

/**
 * Largest message AXFR writes by default. A compression pointer reaches the first 16 KiB of a
 * message only, so larger messages would write the names past that in full; the header and a
 * TSIG cost little next to 16 KiB.
 */
export const AXFR_MESSAGE_SIZE = 16_384;

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

/** Largest offset a compression pointer can hold (14 bits). */
const MAX_POINTER = 0x3fff;
/** Labels a name has at most (255 bytes). */
const MAX_LABELS = 128;

/**
 * Owner names in one message, compressed against the owner written before (RFC 1035 4.1.4):
 * the labels a name shares at the end with the previous owner become a pointer to where that
 * suffix was written, so that the RRs of one name, and the names of one application, cost a few
 * bytes each. The first owner of a message is written in full. Zone order keeps related names
 * together, so looking back one name finds most of what a full compression table would.
 */
class NameWriter {
  /** The previous owner: its text, label starts in it, and where each suffix is in the message. */
  #prevText: Uint8Array = new Uint8Array(0);
  #prevStart = 0;
  #prevEnd = 0;
  #prevLabels = 0;
  readonly #prevLabelAt = new Int32Array(MAX_LABELS);
  readonly #prevPointer = new Int32Array(MAX_LABELS);
  readonly #labelAt = new Int32Array(MAX_LABELS);
  readonly #pointer = new Int32Array(MAX_LABELS);
  readonly #apexText: Uint8Array;

  constructor(apexText: Uint8Array) {
    this.#apexText = apexText;
  }

  /** A new message starts: nothing to point at. */
  reset(): void {
    this.#prevLabels = 0;
  }

  /** Bytes the owner of name `id` takes at most (the name in full). */
  static ownerSize(records: RecordData, id: number): number {
    const start = nameStart(records, id);
    return (records.nameEnd[id] ?? start) - start + 1;
  }

  /** Writes the owner of name `id` at `off`; returns the end. */
  writeOwner(out: Uint8Array, off: number, records: RecordData, id: number): number {
    const start = nameStart(records, id);
    return this.#write(out, off, records.names, start, records.nameEnd[id] ?? start);
  }

  /** Writes the apex at `off`; returns the end. */
  writeApex(out: Uint8Array, off: number): number {
    return this.#write(out, off, this.#apexText, 0, this.#apexText.length);
  }

  /** Writes the text-form name `text[start..end)` (`a.b.mesos.`), compressed; returns the end. */
  #write(out: Uint8Array, off: number, text: Uint8Array, start: number, end: number): number {
    // Label starts of this name.
    const labelAt = this.#labelAt;
    let labels = 0;
    let from = start;
    for (let i = start; i < end; i++) {
      if (text[i] === 0x2e) {
        labelAt[labels++] = from - start;
        from = i + 1;
      }
    }
    // How many labels at the end it shares with the previous owner.
    let shared = 0;
    const prevText = this.#prevText;
    const prevStart = this.#prevStart;
    const prevEnd = this.#prevEnd;
    while (shared < labels && shared < this.#prevLabels) {
      const a = start + (labelAt[labels - 1 - shared] ?? 0);
      const aEnd = labels - shared < labels ? start + (labelAt[labels - shared] ?? 0) : end;
      const b = prevStart + (this.#prevLabelAt[this.#prevLabels - 1 - shared] ?? 0);
      const bEnd =
        this.#prevLabels - shared < this.#prevLabels
          ? prevStart + (this.#prevLabelAt[this.#prevLabels - shared] ?? 0)
          : prevEnd;
      if (aEnd - a !== bEnd - b) break;
      let same = true;
      for (let i = 0; i < aEnd - a && same; i++) same = text[a + i] === prevText[b + i];
      if (!same) break;
      shared++;
    }
    // The longest shared suffix that a pointer can reach.
    let reuse = shared;
    while (reuse > 0 && (this.#prevPointer[this.#prevLabels - reuse] ?? -1) < 0) reuse--;
    const pointer = this.#pointer;
    let o = off;
    for (let j = 0; j < labels - reuse; j++) {
      pointer[j] = o <= MAX_POINTER ? o : -1;
      const a = start + (labelAt[j] ?? 0);
      const aEnd = j + 1 < labels ? start + (labelAt[j + 1] ?? 0) - 1 : end - 1;
      out[o++] = aEnd - a;
      for (let i = a; i < aEnd; i++) out[o++] = text[i] ?? 0;
    }
    if (reuse > 0) {
      const target = this.#prevPointer[this.#prevLabels - reuse] ?? 0;
      setU16(out, o, 0xc000 | target);
      o += 2;
      for (let j = 0; j < reuse; j++) {
        pointer[labels - reuse + j] = this.#prevPointer[this.#prevLabels - reuse + j] ?? -1;
      }
    } else {
      out[o++] = 0;
    }
    // This name is the previous owner of the next.
    this.#prevText = text;
    this.#prevStart = start;
    this.#prevEnd = end;
    this.#prevLabels = labels;
    this.#prevLabelAt.set(labelAt.subarray(0, labels));
    this.#prevPointer.set(pointer.subarray(0, labels));
    return o;
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
  const names = new NameWriter(apexText);
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
    const ownerSize = NameWriter.ownerSize(records, id);
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
