/**
 * Where a JSON syntax error is. V8's `JSON.parse` names an offset for some errors only
 * (`Unexpected token '#', "# yaml"... is not valid JSON` has none), so the text is scanned
 * again to find the first offending character. Used once a parse has failed: speed is no concern.
 */

/** 1-based line and column of a JSON syntax error, and V8's message without its position. */
export interface JsonSyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4})/y;

/** Thrown by the scanner at the first offending character. */
class Stop extends Error {
  readonly offset: number;

  constructor(offset: number) {
    super(`JSON syntax error at offset ${String(offset)}`);
    this.offset = offset;
  }
}

/** Offset of the first character that makes `text` invalid JSON (its length when it ends early), or -1. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const stop = (): never => {
    throw new Stop(i);
  };
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const expect = (c: string): void => {
    skipSpace();
    if (text.charAt(i) !== c) stop();
    i++;
  };
  const token = (re: RegExp): boolean => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) return false;
    i += m[0].length;
    return true;
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) stop();
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop();
      if (c === 0x5c) {
        if (!token(ESCAPE)) stop();
      } else {
        i++;
      }
    }
  };
  const value = (): void => {
    skipSpace();
    const c = text.charAt(i);
    if (c === '"') {
      string();
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      skipSpace();
      if (text.charAt(i) === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          skipSpace();
          if (text.charAt(i) !== '"') stop();
          string();
          expect(':');
        }
        value();
        skipSpace();
        const next = text.charAt(i);
        if (next === close) {
          i++;
          return;
        }
        if (next !== ',') stop();
        i++;
      }
    } else if (!token(NUMBER) && !token(LITERAL)) {
      stop();
    }
  };
  try {
    value();
    skipSpace();
    if (i < text.length) stop();
    return -1;
  } catch (error) {
    if (error instanceof Stop) return error.offset;
    throw error;
  }
}

/**
 * V8's message for a failed `JSON.parse`, on one line: without the position (the caller gives
 * line:column), without the copy of the text, without raw control characters.
 */
export function jsonErrorMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  return (
    raw
      .replace(/, ".*is not valid JSON$/s, '')
      .replace(/ (in JSON )?at position \d+.*$/s, '')
      // eslint-disable-next-line no-control-regex -- control characters are what is replaced
      .replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1))
  );
}

/** Where `JSON.parse(text)` failed with `error`, and its message without V8's position. */
export function jsonSyntaxProblem(text: string, error: unknown): JsonSyntaxProblem {
  const raw = error instanceof Error ? error.message : String(error);
  const scanned = jsonErrorOffset(text);
  const v8 = /at position (\d+)/.exec(raw)?.[1];
  const offset = scanned >= 0 ? scanned : v8 === undefined ? -1 : Number(v8);
  const message = jsonErrorMessage(error);
  if (offset < 0) return { line: 0, column: 0, message };
  const before = text.slice(0, Math.min(offset, text.length)).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1, message };
}
