/**
 * A state document read from a file (`mesodns records`): the JSON of `GET /master/state`, or a
 * v1 operator API `GET_STATE` answer. Anything else is refused with what was expected, so that a
 * config file or `{}` passed by mistake is not taken for an empty cluster.
 */
import { StateParseError } from '../errors.js';
import { JsonSliceError, JsonSlicer } from '../json-slices.js';
import type { SliceVisitor } from '../json-slices.js';
import { jsonSyntaxProblem } from '../json-syntax.js';
import { parseState } from './parse.js';
import { StreamModel } from './stream-model.js';
import type { ParsedState } from './types.js';
import { parseV1State } from './v1.js';
import { isRecord } from '../is-record.js';

/** What a state document is, for messages. */
export const EXPECTED_STATE =
  "expected the JSON of GET /master/state (an object with 'slaves' and 'frameworks') " +
  "or of a v1 GET_STATE answer (an object with 'get_state')";

/** A state document that is not JSON: where the syntax error is, 1-based (0: unknown). */
export class StateSyntaxError extends StateParseError {
  readonly line: number;
  readonly column: number;

  constructor(message: string, line: number, column: number, options?: { cause?: unknown }) {
    super(message, options);
    this.line = line;
    this.column = column;
  }
}

/**
 * A slicer's syntax error (json-slices.ts) as a state's: a `StateSyntaxError` with its place in
 * the message. Anything else is returned as it is.
 */
function syntaxError(err: unknown): unknown {
  if (!(err instanceof JsonSliceError)) return err;
  const where = `line ${String(err.line)} column ${String(err.column)}`;
  return new StateSyntaxError(`invalid JSON at ${where}: ${err.message}`, err.line, err.column, {
    cause: err,
  });
}

/**
 * A `JsonSlicer` for a state document or a v1 record (the state readers): its syntax errors are
 * `StateSyntaxError`s with their place.
 */
export class StateSlicer {
  readonly #slicer: JsonSlicer;

  constructor(root: SliceVisitor, options: { readonly bom?: boolean } = {}) {
    this.#slicer = new JsonSlicer(root, options);
  }

  /** Reads the next bytes; throws `StateSyntaxError` where the document stops being JSON. */
  push(bytes: Uint8Array): void {
    try {
      this.#slicer.push(bytes);
    } catch (err) {
      throw syntaxError(err);
    }
  }

  /** The document is complete; throws `StateSyntaxError` when it ended early. */
  end(): void {
    try {
      this.#slicer.end();
    } catch (err) {
      throw syntaxError(err);
    }
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (isRecord(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, 3).map((k) => `'${k}'`);
    return `an object with ${shown.join(', ')}${keys.length > 3 ? ', ...' : ''}`;
  }
  return `a ${typeof v}`;
}

/** Parses JSON text; a syntax error is a `StateSyntaxError` with its line and column. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const { line, column, message } = jsonSyntaxProblem(text, error);
    throw new StateSyntaxError(`invalid JSON: ${message}`, line, column, { cause: error });
  }
}

/**
 * Validates a state document: a v0 `/master/state` (an object with a `slaves` or `frameworks`
 * list) or a v1 `GET_STATE` answer (`{"type": "GET_STATE", "get_state": {...}}`, the master's
 * leader unknown). Throws a `StateParseError` saying what was expected for anything else.
 */
export function parseStateDocument(doc: unknown): ParsedState {
  if (isRecord(doc) && (Array.isArray(doc['slaves']) || Array.isArray(doc['frameworks']))) {
    return parseState(doc);
  }
  if (isRecord(doc) && isRecord(doc['get_state']) && (doc['type'] ?? 'GET_STATE') === 'GET_STATE') {
    const { state, report } = parseV1State(doc['get_state']);
    const model = new StreamModel();
    model.reset(state);
    return { state: model.toState(undefined), report };
  }
  throw new StateParseError(`not a Mesos state: got ${kindOf(doc)}; ${EXPECTED_STATE}`);
}
