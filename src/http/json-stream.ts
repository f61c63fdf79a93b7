/**
 * JSON text rendered in pieces, byte for byte what `JSON.stringify(value, null, 2)` gives, for
 * bodies too large to build in one piece: a large cluster's `/v1/enumerate` is hundreds of
 * megabytes of text, and building it at once held the thread that answers DNS for seconds and
 * took that much memory per request (docs/performance.md). The large arrays and objects of such a body are `LazyArray`s and `LazyObject`s over
 * iterables, read one item at a time; everything below them is rendered by `JSON.stringify`.
 */
import { isRecord } from '../is-record.js';

/** An array whose items are read one at a time while it is rendered. */
export class LazyArray {
  constructor(readonly items: Iterable<unknown>) {}
}

/** An object whose `[key, value]` entries are read one at a time while it is rendered. */
export class LazyObject {
  constructor(readonly entries: Iterable<readonly [string, unknown]>) {}
}

const INDENT = '  ';

/** `JSON.stringify(value, null, 2)` of a plain value, indented to sit at `indent`. */
function plain(value: unknown, indent: string): string {
  const text = JSON.stringify(value, null, 2) as string | undefined;
  // Newlines occur only between tokens: JSON escapes them inside strings.
  return text === undefined ? 'null' : indent === '' ? text : text.replaceAll('\n', `\n${indent}`);
}

/** Whether `JSON.stringify` leaves an object member with this value out. */
function isSkipped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * The pieces of the JSON text of `value` at nesting `indent` (its first line is not indented:
 * the caller wrote what precedes it). Plain objects and arrays that hold lazy parts are walked;
 * anything else is one piece.
 */
export function* jsonPieces(value: unknown, indent = ''): Generator<string> {
  if (value instanceof LazyArray) {
    yield* members(value.items, indent, '[', ']', (item) => [undefined, item]);
  } else if (value instanceof LazyObject) {
    yield* members(value.entries, indent, '{', '}', (entry) => entry);
  } else if (Array.isArray(value) && value.some(isLazy)) {
    yield* members(value, indent, '[', ']', (item) => [undefined, item]);
  } else if (isRecord(value) && Object.values(value).some(isLazy)) {
    yield* members(Object.entries(value), indent, '{', '}', (entry) => entry);
  } else {
    yield plain(value, indent);
  }
}

function isLazy(value: unknown): boolean {
  return (
    value instanceof LazyArray ||
    value instanceof LazyObject ||
    (Array.isArray(value) && value.some(isLazy)) ||
    (isRecord(value) && Object.values(value).some(isLazy))
  );
}

/**
 * The members of an array (`key` undefined) or an object, one piece per member after the
 * opening bracket: `[]`/`{}` when there is none, as `JSON.stringify` writes them.
 */
function* members<T>(
  source: Iterable<T>,
  indent: string,
  open: string,
  close: string,
  split: (member: T) => readonly [string | undefined, unknown],
): Generator<string> {
  const inner = indent + INDENT;
  let count = 0;
  for (const member of source) {
    const [key, value] = split(member);
    if (key !== undefined && isSkipped(value)) continue;
    const head = key === undefined ? '' : `${JSON.stringify(key)}: `;
    yield `${count === 0 ? open : ','}\n${inner}${head}`;
    // Array items that JSON cannot represent are `null`, as JSON.stringify writes them.
    yield* jsonPieces(key === undefined && isSkipped(value) ? null : value, inner);
    count++;
  }
  yield count === 0 ? `${open}${close}` : `\n${indent}${close}`;
}

/**
 * The JSON text of `value` (see `jsonPieces`) in chunks of about `size` characters, and a final
 * newline, as the API ends every JSON body.
 */
export function* jsonChunks(value: unknown, size = 64 * 1024): Generator<string> {
  let chunk = '';
  for (const piece of jsonPieces(value)) {
    chunk += piece;
    if (chunk.length >= size) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}\n`;
}
