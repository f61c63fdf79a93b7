/**
 * Incremental decoder of RecordIO, the framing of the Mesos v1 event stream
 * (docs/mesos-api.md 3.3, Mesos `docs/recordio.md`): each record is `<decimal byte
 * length>\n<bytes>`, records follow each other without a separator, and chunk boundaries fall
 * anywhere, inside the length header included.
 *
 * Two ways to get records. `push` hands out whole records: one that spans chunks is copied into
 * one buffer of its announced length as its chunks arrive (one copy, not a quadratic series, and
 * no chunk kept once copied). `parts` hands out the records up to `wholeUpTo` bytes whole too,
 * but a longer one as it arrives, in pieces (views of the chunks, never copied) between a
 * `begin` and an `end`: a 178 MB SUBSCRIBED snapshot is read by its consumer (v1-state-reader.ts)
 * piece by piece, and never exists whole (issue #20).
 */
import { StateParseError } from '../errors.js';
import { DEFAULT_MAX_STATE_BYTES } from './client.js';

/** A length header longer than this many digits is refused before its newline arrives. */
const MAX_HEADER_DIGITS = 20;

const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Options of `RecordIoDecoder`. */
export interface RecordIoOptions {
  /** Largest record accepted, in bytes; default `DEFAULT_MAX_STATE_BYTES` (256 MiB). */
  readonly maxRecordBytes?: number;
  /** `parts`: records up to this many bytes come whole, longer ones in pieces; default 1 MiB. */
  readonly wholeUpTo?: number;
}

/** Default `wholeUpTo`: events are a few kilobytes, a SUBSCRIBED snapshot megabytes. */
export const WHOLE_RECORD_BYTES = 2 ** 20;

/**
 * What `parts` hands out, in stream order: a whole record, or the beginning (with its announced
 * length), a piece and the end of a record handed out as it arrives.
 */
export type RecordPart =
  | { readonly kind: 'record'; readonly bytes: Buffer }
  | { readonly kind: 'begin'; readonly length: number }
  | { readonly kind: 'piece'; readonly bytes: Buffer }
  | { readonly kind: 'end' };

const END: RecordPart = { kind: 'end' };

/** Shows a byte in an error message: printable ASCII as itself, anything else in hex. */
function showByte(byte: number): string {
  return byte > 0x20 && byte < 0x7f
    ? `"${String.fromCharCode(byte)}"`
    : `0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Splits a RecordIO byte stream into records. `push` each chunk as it arrives; it returns the
 * records that chunk completed, in order. A malformed length header (a byte that is not a
 * digit, an empty length, more than 20 digits, a length over `maxRecordBytes`) throws a
 * `StateParseError` naming the problem, and every later `push` throws too: after an error the
 * framing is lost and the caller must reconnect.
 *
 * Returned records may share memory with the pushed chunks (a record inside one chunk is a view
 * of it), so chunks must not be modified after they are pushed; Node streams never do.
 */
export class RecordIoDecoder {
  readonly #maxRecordBytes: number;
  readonly #wholeUpTo: number;
  /** Whether the current record is handed out in pieces (`parts`). */
  #isSliced = false;
  /** Length header digits read so far (the header may be split across chunks). */
  #header = '';
  /** Body length of the current record; -1 while its header is being read. */
  #need = -1;
  /** The current record's body when it spans chunks (its announced length), filled so far. */
  #body: Buffer | undefined;
  #have = 0;
  #error: StateParseError | undefined;

  constructor(options: RecordIoOptions = {}) {
    const max = options.maxRecordBytes ?? DEFAULT_MAX_STATE_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxRecordBytes must be a non-negative integer, got ${String(max)}`);
    }
    this.#maxRecordBytes = max;
    const whole = options.wholeUpTo ?? WHOLE_RECORD_BYTES;
    if (!Number.isSafeInteger(whole) || whole < 0) {
      throw new RangeError(`wholeUpTo must be a non-negative integer, got ${String(whole)}`);
    }
    this.#wholeUpTo = whole;
  }

  /** Bytes held for the record in progress (header digits and body bytes so far). */
  get pending(): number {
    return this.#header.length + (this.#isSliced ? 0 : this.#have);
  }

  /** Decodes one chunk; returns every record it completed (possibly none, possibly several). */
  push(chunk: Uint8Array): Buffer[] {
    const records: Buffer[] = [];
    this.#decode(chunk, false, (part) => {
      if (part.kind === 'record') records.push(part.bytes);
    });
    return records;
  }

  /**
   * Decodes one chunk into the parts of records it holds, in order: whole records up to
   * `wholeUpTo` bytes, and for a longer one its `begin` (once its header is read), its pieces and
   * its `end`. Don't mix with `push` on one decoder.
   */
  parts(chunk: Uint8Array): RecordPart[] {
    const parts: RecordPart[] = [];
    this.#decode(chunk, true, (part) => parts.push(part));
    return parts;
  }

  #decode(chunk: Uint8Array, canSlice: boolean, out: (part: RecordPart) => void): void {
    if (this.#error !== undefined) {
      throw new StateParseError(`RecordIO stream unusable after an error: ${this.#error.message}`, {
        cause: this.#error,
      });
    }
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    while (pos < bytes.length) {
      if (this.#need < 0) {
        pos = this.#readHeader(bytes, pos);
        if (this.#need === 0) {
          out({ kind: 'record', bytes: Buffer.alloc(0) });
          this.#need = -1;
        } else if (this.#need > 0 && canSlice && this.#need > this.#wholeUpTo) {
          this.#isSliced = true;
          out({ kind: 'begin', length: this.#need });
        }
        continue;
      }
      const take = Math.min(this.#need - this.#have, bytes.length - pos);
      const piece = bytes.subarray(pos, pos + take);
      pos += take;
      if (this.#isSliced) {
        out({ kind: 'piece', bytes: piece });
        this.#have += take;
        if (this.#have < this.#need) continue;
        out(END);
        this.#isSliced = false;
        this.#have = 0;
      } else if (this.#have === 0 && take === this.#need) {
        out({ kind: 'record', bytes: piece });
      } else {
        // Not from Node's shared pool: the record may be large and outlive the chunk.
        this.#body ??= Buffer.allocUnsafeSlow(this.#need);
        piece.copy(this.#body, this.#have);
        this.#have += take;
        if (this.#have < this.#need) continue;
        out({ kind: 'record', bytes: this.#body });
        this.#body = undefined;
        this.#have = 0;
      }
      this.#need = -1;
    }
  }

  /** Reads header digits from `pos`; on the newline, starts the body. Returns the next position. */
  #readHeader(bytes: Buffer, pos: number): number {
    const newline = bytes.indexOf(NEWLINE, pos);
    const end = newline < 0 ? bytes.length : newline;
    for (let i = pos; i < end; i++) {
      const byte = bytes[i] ?? 0;
      if (byte < DIGIT_0 || byte > DIGIT_9) {
        this.#fail(`bad RecordIO length header: byte ${showByte(byte)} is not a digit`);
      }
    }
    this.#header += bytes.toString('latin1', pos, end);
    if (this.#header.length > MAX_HEADER_DIGITS) {
      this.#fail(`bad RecordIO length header: longer than ${String(MAX_HEADER_DIGITS)} digits`);
    }
    // Checked before the newline too, so that an endless run of digits fails early.
    const length = Number(this.#header);
    if (length > this.#maxRecordBytes) {
      this.#fail(
        `RecordIO record of ${newline < 0 ? 'at least ' : ''}${this.#header} bytes exceeds the limit of ${String(this.#maxRecordBytes)} bytes`,
      );
    }
    if (newline < 0) return end;
    if (this.#header === '') this.#fail('bad RecordIO length header: empty');
    this.#header = '';
    this.#need = length;
    return newline + 1;
  }

  #fail(message: string): never {
    this.#error = new StateParseError(message);
    this.#header = '';
    this.#body = undefined;
    this.#have = 0;
    this.#isSliced = false;
    throw this.#error;
  }
}
