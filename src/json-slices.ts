/**
 * A streaming JSON reader that never holds a large document whole (issue #20): the bytes are
 * read as they arrive, the outer structure that a `SliceVisitor` asks to descend into (the
 * top-level object, its lists, a framework) is parsed here, and every other value is cut out of
 * the bytes as one slice and handed to `JSON.parse`: a task of `/master/state` is a slice of about
 * a kilobyte, parsed and validated on its own, then dropped. Neither the document's text nor its
 * object graph ever exists.
 *
 * Finding where a slice ends takes one pass over its bytes that follows strings, escapes and the
 * depth of brackets (in C when the native scanner is built, native/json_scan.c via json-scan.ts:
 * the same loop, twice as fast over a re-subscription's snapshot; this file's loop is the
 * reference and the fallback); `JSON.parse` then checks the slice's syntax. Skipped values are parsed too
 * (and dropped at once), so that a document `JSON.parse` refuses is refused here, at the same
 * place: errors (`JsonSliceError`) carry V8's message without its position and the line and
 * column (1-based, in UTF-16 units as an editor counts) of the first offending character.
 *
 * Between two `push`es the reader keeps the unfinished slice (views of the chunks it spans).
 */
import { isAscii } from 'node:buffer';
import { SCAN_STATE_LENGTH, nativeScan } from './json-scan.js';
import type { NativeScan } from './json-scan.js';
import { jsonErrorMessage, jsonErrorOffset } from './json-syntax.js';

/** What a visitor's value is, from its first byte. */
export type ValueKind = 'object' | 'array' | 'scalar';

/** `SliceVisitor.enter`: hand the value, parsed, to `value`. */
export const COLLECT = 1;
/** `SliceVisitor.enter`: parse the value (its syntax) and drop it. */
export const SKIP = 2;

/** What to do with one value of a container the reader descends into. */
export interface SliceVisitor {
  /**
   * The value of member `key` (objects) or element `key` (arrays; the root's value has key
   * `''`), whose kind is known: a visitor descends into it (an object or an array; for a scalar
   * it means COLLECT), COLLECT hands it parsed to `value`, SKIP drops it.
   */
  enter(key: string | number, kind: ValueKind): SliceVisitor | typeof COLLECT | typeof SKIP;
  /** A collected value. */
  value(key: string | number, value: unknown): void;
  /**
   * A collected value's bytes, before they are parsed (a view valid during the call only): true
   * takes the value as read (it is neither parsed nor handed to `value`). Only for values that
   * ended; the caller answers true only for bytes it knows to be valid JSON (it read them before).
   */
  raw?(key: string | number, bytes: Buffer): boolean;
  /** The container this visitor descended into is complete. */
  close?(): void;
}

/** A visitor that drops everything, descending into arrays so that their elements are parsed one at a time. */
export const SKIP_ALL: SliceVisitor = {
  enter: (_key, kind) => (kind === 'array' ? SKIP_ALL : SKIP),
  value: () => undefined,
};

/** The document is not JSON: where, and V8's message for it without its position. */
export class JsonSliceError extends Error {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 units. */
  readonly column: number;

  constructor(message: string, line: number, column: number) {
    super(message);
    this.name = 'JsonSliceError';
    this.line = line;
    this.column = column;
  }
}

// Where a container (or the document) is in its grammar.
const OBJ_KEY_OR_END = 0; // after `{`
const OBJ_KEY = 1; // after `,`
const OBJ_COLON = 2; // after a key
const OBJ_VALUE = 3; // after `:`
const OBJ_COMMA_OR_END = 4; // after a value
const ARR_VALUE_OR_END = 5; // after `[`
const ARR_VALUE = 6; // after `,`
const ARR_COMMA_OR_END = 7; // after a value
const DOC_VALUE = 8; // before the document's value
const DOC_END = 9; // after it

/** A container being descended into (the document is the bottom frame). */
interface Frame {
  readonly visitor: SliceVisitor;
  state: number;
  /** The next element's index (arrays) or the current member's name (objects). */
  index: number;
  key: string;
}

// What a capture is for, and what it spans.
const FOR_KEY = 0;
const FOR_VALUE = 1;
const FOR_SKIP = 2;
const SPAN_STRING = 0;
const SPAN_CONTAINER = 1;
const SPAN_BARE = 2;

/** A value (or a key) being cut out of the bytes. */
interface Capture {
  purpose: number;
  span: number;
  key: string | number;
  /** Open brackets (containers), inside a string, after a backslash. */
  depth: number;
  inString: boolean;
  escaped: boolean;
  /** The bytes of earlier chunks (views), when the slice spans chunks. */
  parts: Buffer[];
  /** Start in the current chunk (-1 once it lies in an earlier one). */
  start: number;
  line: number;
  /** Where its line starts (absolute) and the units from there to the chunk it starts in. */
  lineStart: number;
  unitsBefore: number;
  /** Column of the first byte, once it lies in an earlier chunk. */
  column: number;
}

const QUOTE = 0x22;
const BOM: readonly number[] = [0xef, 0xbb, 0xbf];
const BACKSLASH = 0x5c;

/** UTF-16 units of the UTF-8 bytes `buf[from, to)` (continuation bytes count nothing). */
function units(buf: Buffer, from: number, to: number): number {
  if (to <= from) return 0;
  if (isAscii(buf.subarray(from, to))) return to - from;
  let n = 0;
  for (let i = from; i < to; i++) {
    const b = buf[i] ?? 0;
    if ((b & 0xc0) !== 0x80) n += b >= 0xf0 ? 2 : 1;
  }
  return n;
}

/** A byte that can start a JSON value. */
function startsValue(c: number): boolean {
  return (
    c === QUOTE ||
    c === 0x7b ||
    c === 0x5b ||
    c === 0x2d ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x74 ||
    c === 0x66 ||
    c === 0x6e
  );
}

/** A byte that ends a bare value (number, literal). */
function endsBare(c: number): boolean {
  return (
    c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
  );
}

/** Reads one JSON document from its bytes, pushed in chunks of any size; see the module comment. */
export class JsonSlicer {
  readonly #stack: Frame[];
  #capture: Capture | undefined;
  /** Absolute offset of the current chunk. */
  #chunkStart = 0;
  #line = 1;
  /** Absolute offset of the current line's first byte. */
  #lineStart = 0;
  /** UTF-16 units from the current line's start to the current chunk's. */
  #unitsBefore = 0;
  #chunk: Buffer = Buffer.alloc(0);
  /** The open brackets of the container being captured (one capture at a time). */
  #brackets = new Uint8Array(64);
  /** Bytes of a leading byte order mark seen so far (3: none can come any more). */
  #bom = 0;
  /** The native scanner (json-scan.ts) and its state, when it is used. */
  readonly #native: NativeScan | undefined;
  readonly #nativeState = new Int32Array(SCAN_STATE_LENGTH);

  /**
   * `root` visits the document's value. A leading UTF-8 byte order mark is skipped (as in a file)
   * unless `bom` is false: then it is refused where `JSON.parse` refuses U+FEFF. The slices'
   * bytes are scanned by the native scanner when it is built, unless `native` is false (the
   * tests compare both).
   */
  constructor(
    root: SliceVisitor,
    options: { readonly bom?: boolean; readonly native?: boolean } = {},
  ) {
    this.#stack = [{ visitor: root, state: DOC_VALUE, index: 0, key: '' }];
    if (options.bom === false) this.#bom = 3;
    this.#native = options.native === false ? undefined : nativeScan();
  }

  /** Reads the next bytes of the document; throws `JsonSliceError` where it stops being JSON. */
  push(bytes: Uint8Array): void {
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#chunk = buf;
    let i = 0;
    const n = buf.length;
    while (this.#bom < 3 && i < n) {
      // EF BB BF, possibly split across chunks; its line starts after it.
      if (buf[i] !== BOM[this.#bom] || this.#chunkStart + i !== this.#bom) {
        this.#bom = 3;
        break;
      }
      this.#bom++;
      i++;
      if (this.#bom === 3) this.#lineStart = 3;
    }
    while (i < n) {
      if (this.#capture !== undefined) {
        i = this.#scan(buf, i, this.#capture);
        if (i < 0) break;
        continue;
      }
      i = this.#structure(buf, i);
    }
    this.#endChunk(buf);
  }

  /** The document is complete: throws `JsonSliceError` when it ended early. */
  end(): void {
    const capture = this.#capture;
    // A bare value ends with the document; a capture cut short is parsed for its first error.
    if (capture !== undefined) this.#finish(capture, Buffer.alloc(0), 0, false);
    const top = this.#stack.at(-1);
    if (this.#capture !== undefined || top === undefined || top.state !== DOC_END) {
      throw this.#error('Unexpected end of JSON input', 0);
    }
  }

  /** One step of the outer structure at `buf[i]`; the next position. */
  #structure(buf: Buffer, i: number): number {
    const c = buf[i] ?? 0;
    if (c === 0x20 || c === 0x09 || c === 0x0d) return i + 1;
    if (c === 0x0a) {
      this.#line++;
      this.#lineStart = this.#chunkStart + i + 1;
      return i + 1;
    }
    const stack = this.#stack;
    const frame = stack[stack.length - 1];
    if (frame === undefined) throw this.#error(`Unexpected non-whitespace character`, i);
    switch (frame.state) {
      case OBJ_KEY_OR_END:
      case OBJ_KEY:
        if (c === QUOTE) {
          this.#begin(FOR_KEY, SPAN_STRING, frame.key, i);
          return i + 1;
        }
        if (c === 0x7d && frame.state === OBJ_KEY_OR_END) return this.#close(i);
        throw this.#error(
          frame.state === OBJ_KEY
            ? 'Expected double-quoted property name'
            : "Expected property name or '}'",
          i,
        );
      case OBJ_COLON:
        if (c !== 0x3a) throw this.#error("Expected ':' after property name", i);
        frame.state = OBJ_VALUE;
        return i + 1;
      case OBJ_COMMA_OR_END:
        if (c === 0x2c) {
          frame.state = OBJ_KEY;
          return i + 1;
        }
        if (c === 0x7d) return this.#close(i);
        throw this.#error("Expected ',' or '}' after property value", i);
      case ARR_COMMA_OR_END:
        if (c === 0x2c) {
          frame.index++;
          frame.state = ARR_VALUE;
          return i + 1;
        }
        if (c === 0x5d) return this.#close(i);
        throw this.#error("Expected ',' or ']' after array element", i);
      case ARR_VALUE_OR_END:
        if (c === 0x5d) return this.#close(i);
        return this.#value(frame, frame.index, c, i);
      case ARR_VALUE:
        return this.#value(frame, frame.index, c, i);
      case OBJ_VALUE:
        return this.#value(frame, frame.key, c, i);
      case DOC_VALUE:
        return this.#value(frame, '', c, i);
      default:
        throw this.#error('Unexpected non-whitespace character after JSON', i);
    }
  }

  /** A value of `frame` starts at `buf[i]`: descend into it or cut it out. */
  #value(frame: Frame, key: string | number, c: number, i: number): number {
    if (!startsValue(c)) {
      throw this.#error(`Unexpected token '${String.fromCharCode(c)}'`, i);
    }
    const kind: ValueKind = c === 0x7b ? 'object' : c === 0x5b ? 'array' : 'scalar';
    const action = frame.visitor.enter(key, kind);
    frame.state = afterValue(frame.state);
    if (typeof action === 'object' && kind !== 'scalar') {
      const state = kind === 'object' ? OBJ_KEY_OR_END : ARR_VALUE_OR_END;
      this.#stack.push({ visitor: action, state, index: 0, key: '' });
      return i + 1;
    }
    const purpose = action === SKIP ? FOR_SKIP : FOR_VALUE;
    const span = kind !== 'scalar' ? SPAN_CONTAINER : c === QUOTE ? SPAN_STRING : SPAN_BARE;
    const capture = this.#begin(purpose, span, key, i);
    if (span === SPAN_CONTAINER) {
      capture.depth = 1;
      this.#brackets[0] = c;
    }
    return span === SPAN_BARE ? i : i + 1;
  }

  #growBrackets(): Uint8Array<ArrayBuffer> {
    const grown = new Uint8Array(this.#brackets.length * 2);
    grown.set(this.#brackets);
    this.#brackets = grown;
    return grown;
  }

  #begin(purpose: number, span: number, key: string | number, i: number): Capture {
    const capture: Capture = {
      purpose,
      span,
      key,
      depth: 0,
      inString: span === SPAN_STRING,
      escaped: false,
      parts: [],
      start: i,
      line: this.#line,
      lineStart: this.#lineStart,
      unitsBefore: this.#unitsBefore,
      column: 0,
    };
    this.#capture = capture;
    return capture;
  }

  #close(i: number): number {
    const frame = this.#stack.pop();
    frame?.visitor.close?.();
    return i + 1;
  }

  /**
   * Follows the capture from `buf[i]` to its end; the position after it, or -1 when the chunk
   * ended first.
   */
  #scan(buf: Buffer, i: number, capture: Capture): number {
    const native = this.#native;
    if (native !== undefined && capture.span !== SPAN_BARE)
      return this.#scanNative(native, buf, i, capture);
    const n = buf.length;
    let inString = capture.inString;
    let escaped = capture.escaped;
    let depth = capture.depth;
    let brackets = this.#brackets;
    let end = -1;
    if (capture.span === SPAN_BARE) {
      for (; i < n; i++) {
        if (endsBare(buf[i] ?? 0)) {
          end = i;
          break;
        }
      }
    } else {
      for (; i < n; i++) {
        const c = buf[i] ?? 0;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) {
            inString = false;
            if (depth === 0) {
              end = i + 1;
              break;
            }
          }
        } else if (c === QUOTE) inString = true;
        else if (c === 0x7b || c === 0x5b) {
          if (depth >= brackets.length) brackets = this.#growBrackets();
          brackets[depth++] = c;
        } else if (c === 0x7d || c === 0x5d) {
          // `}` is `{` + 2, `]` is `[` + 2. A bracket that closes another kind ends the slice
          // there, where JSON.parse reports it.
          if (--depth === 0 || brackets[depth] !== c - 2) {
            end = i + 1;
            break;
          }
        } else if (c === 0x0a) {
          this.#line++;
          this.#lineStart = this.#chunkStart + i + 1;
        }
      }
    }
    if (end < 0) {
      capture.inString = inString;
      capture.escaped = escaped;
      capture.depth = depth;
      return -1;
    }
    this.#finish(capture, buf, end);
    return end;
  }

  /** `#scan` by the native scanner (the same loop, in C: native/json_scan.c). */
  #scanNative(native: NativeScan, buf: Buffer, i: number, capture: Capture): number {
    const state = this.#nativeState;
    state[0] = capture.inString ? 1 : 0;
    state[1] = capture.escaped ? 1 : 0;
    state[2] = capture.depth;
    let end = native(buf, i, state, this.#brackets);
    while (end === -2) {
      // The brackets are full at an opening one: grow them and go on from it.
      const at = state[5] ?? 0;
      this.#countLines(state);
      this.#growBrackets();
      end = native(buf, at, state, this.#brackets);
    }
    this.#countLines(state);
    if (end < 0) {
      capture.inString = state[0] === 1;
      capture.escaped = state[1] === 1;
      capture.depth = state[2];
      return -1;
    }
    this.#finish(capture, buf, end);
    return end;
  }

  /** The newlines a native scan saw outside strings (`state[3]`, the last at `state[4]`). */
  #countLines(state: Int32Array): void {
    const lines = state[3] ?? 0;
    if (lines === 0) return;
    this.#line += lines;
    this.#lineStart = this.#chunkStart + (state[4] ?? 0) + 1;
  }

  /**
   * The capture ends at `buf[end]`: its text goes where it is for (`ended`: false when the
   * document ended first, and the capture is only parsed for its error).
   */
  #finish(capture: Capture, buf: Buffer, end: number, ended = true): void {
    this.#capture = undefined;
    const frame = this.#stack[this.#stack.length - 1];
    // A visitor that reads bytes may take the value without its text (`SliceVisitor.raw`).
    const reader = ended && capture.purpose === FOR_VALUE ? frame?.visitor : undefined;
    let text: string;
    if (capture.parts.length === 0) {
      if (reader?.raw?.(capture.key, buf.subarray(capture.start, end)) === true) return;
      text = buf.toString('utf8', capture.start, end);
    } else {
      capture.parts.push(buf.subarray(0, end));
      const bytes = Buffer.concat(capture.parts);
      if (reader?.raw?.(capture.key, bytes) === true) return;
      text = bytes.toString('utf8');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw this.#sliceError(capture, text, error);
    }
    if (frame === undefined) return;
    if (capture.purpose === FOR_KEY) {
      frame.key = typeof value === 'string' ? value : '';
      frame.state = OBJ_COLON;
    } else if (capture.purpose === FOR_VALUE) {
      frame.visitor.value(capture.key, value);
    }
  }

  /** The chunk is read: the capture keeps its part, the column count moves on. */
  #endChunk(buf: Buffer): void {
    const capture = this.#capture;
    if (capture !== undefined) {
      if (capture.start >= 0) {
        capture.column = this.#captureColumn(capture, buf);
        capture.parts.push(buf.subarray(capture.start));
        capture.start = -1;
      } else {
        capture.parts.push(buf);
      }
    }
    const lineStart = this.#lineStart - this.#chunkStart;
    this.#unitsBefore =
      lineStart >= 0
        ? units(buf, lineStart, buf.length)
        : this.#unitsBefore + units(buf, 0, buf.length);
    this.#chunkStart += buf.length;
    this.#chunk = Buffer.alloc(0);
  }

  /** 1-based column of `buf[i]` in the current chunk. */
  #columnAt(buf: Buffer, i: number): number {
    return this.#column(buf, this.#lineStart, this.#unitsBefore, i);
  }

  /** 1-based column of a capture's first byte, while it lies in the current chunk. */
  #captureColumn(capture: Capture, buf: Buffer): number {
    return this.#column(buf, capture.lineStart, capture.unitsBefore, capture.start);
  }

  /** 1-based column of `buf[i]` in the current chunk, its line starting at `lineStart`. */
  #column(buf: Buffer, lineStart: number, unitsBefore: number, i: number): number {
    const from = lineStart - this.#chunkStart;
    return (from >= 0 ? units(buf, from, i) : unitsBefore + units(buf, 0, i)) + 1;
  }

  #error(message: string, i: number): JsonSliceError {
    return new JsonSliceError(message, this.#line, this.#columnAt(this.#chunk, i));
  }

  /** Where `JSON.parse` of a capture's text failed, in the document. */
  #sliceError(capture: Capture, text: string, error: unknown): JsonSliceError {
    const column = capture.start >= 0 ? this.#captureColumn(capture, this.#chunk) : capture.column;
    const scanned = jsonErrorOffset(text);
    const offset = scanned >= 0 ? scanned : 0;
    const before = text.slice(0, offset);
    const newline = before.lastIndexOf('\n');
    let lines = 0;
    for (let at = before.indexOf('\n'); at >= 0; at = before.indexOf('\n', at + 1)) lines++;
    const message = jsonErrorMessage(error);
    return new JsonSliceError(
      message,
      capture.line + lines,
      newline >= 0 ? offset - newline : column + offset,
    );
  }
}

/** The state of a container once one of its values is read. */
function afterValue(state: number): number {
  if (state === OBJ_VALUE) return OBJ_COMMA_OR_END;
  if (state === DOC_VALUE) return DOC_END;
  return ARR_COMMA_OR_END;
}
