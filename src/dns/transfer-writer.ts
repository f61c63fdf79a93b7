/**
 * Writing zone transfer messages (AXFR, IXFR): a header and the question, then RRs until the
 * next one would not fit, then the next message. Owner names are compressed against the owner
 * written before (`NameWriter`); SRV targets go in full (RFC 2782). The RRs come from record data
 * (a zone's base, a changeset's contents, a difference's removed or added records) or are the
 * apex's SOA and NS.
 */
import type { RecordData } from '../records/index.js';
import { KIND_A, KIND_AAAA } from '../records/index.js';
import { nameStart, writeRRHeader } from './zone.js';
import type { ZonePart } from './zone.js';
import { writeABody, writeAaaaBody, writeWireName } from './response.js';
import { HEADER_SIZE, TYPE, setU16 } from './wire.js';

/** What every message of a transfer starts with. */
export interface TransferQuestion {
  readonly id: number;
  /** The question as the client sent it: QNAME, QTYPE, QCLASS. */
  readonly question: Uint8Array;
}

/**
 * Largest message written by default. A compression pointer reaches the first 16 KiB of a
 * message only, so larger messages would write the names past that in full; the header and a
 * TSIG cost little next to 16 KiB.
 */
export const TRANSFER_MESSAGE_SIZE = 16_384;

/** Type, class, TTL and RDLENGTH. */
const RR_FIXED = 10;

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
  // Two pairs of arrays that change places after each name: this name's become the previous.
  #prevLabelAt = new Int32Array(MAX_LABELS);
  #prevPointer = new Int32Array(MAX_LABELS);
  #labelAt = new Int32Array(MAX_LABELS);
  #pointer = new Int32Array(MAX_LABELS);
  readonly #apexText: Uint8Array;

  constructor(apexText: Uint8Array) {
    this.#apexText = apexText;
  }

  /** A new message starts: nothing to point at. */
  reset(): void {
    this.#prevLabels = 0;
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
    // The owner of the RR before (most RRs share their owner with the one before): a pointer to
    // it, as the comparison below would find, without comparing.
    if (
      start === this.#prevStart &&
      end === this.#prevEnd &&
      text === this.#prevText &&
      this.#prevLabels > 0
    ) {
      const whole = this.#prevPointer[0] ?? -1;
      if (whole >= 0) {
        setU16(out, off, 0xc000 | whole);
        return off + 2;
      }
    }
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
    this.#labelAt = this.#prevLabelAt;
    this.#prevLabelAt = labelAt;
    this.#pointer = this.#prevPointer;
    this.#prevPointer = pointer;
    return o;
  }
}

/** Bytes name `id` takes on the wire in full (labels and root). */
function nameWireLength(records: RecordData, id: number): number {
  const start = nameStart(records, id);
  return (records.nameEnd[id] ?? start) - start + 1;
}

/** The RDATA size of one value. */
function rdataSize(records: RecordData, kind: number, value: number): number {
  if (kind === KIND_A) return 4;
  if (kind === KIND_AAAA) return 16;
  return 6 + nameWireLength(records, value);
}

/** Writes the RR after its owner: header and RDATA of value `index` of `kind`. */
function writeRR(out: Buffer, off: number, part: ZonePart, kind: number, index: number): number {
  const records = part.records;
  const k = records.kinds[kind];
  const value = k?.values[index] ?? 0;
  if (kind === KIND_A) return writeABody(out, off, part.ttl, value);
  if (kind === KIND_AAAA) return writeAaaaBody(out, off, part.ttl, records.v6, value);
  const start = nameStart(records, value);
  const end = records.nameEnd[value] ?? start;
  off = writeRRHeader(out, off, TYPE.SRV, part.ttl, 6 + nameWireLength(records, value));
  setU16(out, off, 0); // priority
  setU16(out, off + 2, part.srvWeight);
  setU16(out, off + 4, k?.ports[index] ?? 0);
  return writeWireName(out, off + 6, records.names, start, end);
}

/** Writes messages of one transfer (see the module comment). */
export class TransferWriter {
  readonly #q: TransferQuestion;
  readonly #maxSize: number;
  readonly #names: NameWriter;
  readonly #apexSize: number;
  #out: Buffer;
  #off = 0;
  #count = 0;

  /** `apex` in text form (`mesos.`). */
  constructor(q: TransferQuestion, apex: string, maxSize = TRANSFER_MESSAGE_SIZE) {
    this.#q = q;
    this.#maxSize = maxSize;
    const apexText = Buffer.from(apex, 'latin1');
    this.#names = new NameWriter(apexText);
    this.#apexSize = apexText.length + 1;
    this.#out = this.#begin();
  }

  #begin(): Buffer {
    // Not zeroed: every byte up to the end of the message is written.
    const out = Buffer.allocUnsafe(this.#maxSize);
    setU16(out, 0, this.#q.id);
    out[2] = 0x84; // QR, AA, opcode QUERY
    out[3] = 0;
    setU16(out, 4, 1);
    setU16(out, 8, 0);
    setU16(out, 10, 0);
    out.set(this.#q.question, HEADER_SIZE);
    this.#off = HEADER_SIZE + this.#q.question.length;
    this.#count = 0;
    this.#names.reset();
    return out;
  }

  /** The message so far, complete (but for a TSIG); the writer goes on in a new one. */
  finish(): Buffer {
    setU16(this.#out, 6, this.#count);
    const done = this.#out.subarray(0, this.#off);
    this.#out = this.#begin();
    return done;
  }

  /** Room for `size` more bytes: the message that had to be finished for it, if any. */
  #room(size: number): Buffer | undefined {
    return this.#off + size > this.#maxSize && this.#count > 0 ? this.finish() : undefined;
  }

  /** An RR owned by the apex with `rdata` (the SOA, the NS); the message finished for it. */
  apexRR(type: number, ttl: number, rdata: Uint8Array): Buffer | undefined {
    const full = this.#room(this.#apexSize + RR_FIXED + rdata.length);
    const out = this.#out;
    let off = this.#names.writeApex(out, this.#off);
    off = writeRRHeader(out, off, type, ttl, rdata.length);
    out.set(rdata, off);
    this.#off = off + rdata.length;
    this.#count++;
    return full;
  }

  /** Value `index` of `kind` owned by name `id` of `part`; the message finished for it. */
  record(part: ZonePart, id: number, kind: number, index: number): Buffer | undefined {
    const records = part.records;
    const value = records.kinds[kind]?.values[index] ?? 0;
    const size = nameWireLength(records, id) + RR_FIXED + rdataSize(records, kind, value);
    const full = this.#room(size);
    const out = this.#out;
    const off = this.#names.writeOwner(out, this.#off, records, id);
    this.#off = writeRR(out, off, part, kind, index);
    this.#count++;
    return full;
  }
}
