/**
 * Narrowing of untrusted Mesos JSON, shared by the `/master/state` parser (`parse.ts`) and the
 * v1 operator API parser (`v1.ts`): typed field readers that throw `FieldError` for a field of
 * the wrong shape, and the `Report` that turns such an error into one skipped, counted entry.
 * Internal to the mesos module (not exported by its index).
 */
import type { ParseReport } from './types.js';

/** At most this many problem descriptions are kept in a report (the counters are exact). */
export const MAX_PROBLEMS = 20;

/** The highest TCP/UDP port. */
export const MAX_PORT = 65535;

/** A JSON object (already known not to be null or an array). */
export type JsonObject = Readonly<Record<string, unknown>>;

/** Thrown by the readers for a field of the wrong shape; caught per entry, never escapes a parser. */
export class FieldError extends Error {}

/** Whether `v` is a JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Describes a value for a message: its type, or a string quoted and cut at 40 characters. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `"${v.length > 40 ? v.slice(0, 40) + '...' : v}"` : typeof v;
}

/** Whether `v` is an integer port number (0-65535). */
export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_PORT;
}

/** Reads an optional string: absent or null gives undefined, any other non-string throws. */
export function optString(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new FieldError(`${key}: expected a string, got ${describe(v)}`);
  return v;
}

/** Reads a required string (the empty string is accepted). */
export function reqString(obj: JsonObject, key: string): string {
  const v = optString(obj, key);
  if (v === undefined) throw new FieldError(`${key}: missing`);
  return v;
}

/** Reads an optional finite number. */
export function optNumber(obj: JsonObject, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new FieldError(`${key}: expected a number, got ${describe(v)}`);
  }
  return v;
}

/** Reads an optional boolean. */
export function optBoolean(obj: JsonObject, key: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean')
    throw new FieldError(`${key}: expected a boolean, got ${describe(v)}`);
  return v;
}

/** Reads an optional object. */
export function optObject(obj: JsonObject, key: string): JsonObject | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new FieldError(`${key}: expected an object, got ${describe(v)}`);
  return v;
}

/** Reads a required object. */
export function reqObject(obj: JsonObject, key: string): JsonObject {
  const v = optObject(obj, key);
  if (v === undefined) throw new FieldError(`${key}: missing`);
  return v;
}

/** Reads an optional array (its elements stay unknown). */
export function optArray(obj: JsonObject, key: string): readonly unknown[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new FieldError(`${key}: expected an array, got ${describe(v)}`);
  const list: readonly unknown[] = v;
  return list;
}

/** Narrows a list element to an object; `where` names it in the error. */
export function element(v: unknown, where: string): JsonObject {
  if (!isObject(v)) throw new FieldError(`${where}: expected an object, got ${describe(v)}`);
  return v;
}

/** Runs `read` on a nested message, prefixing its field errors with `key.` (`agent_info.id: ...`). */
export function nested<T>(key: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof FieldError) throw new FieldError(`${key}.${err.message}`);
    throw err;
  }
}

/** Which counter of the report a skipped entry goes to. */
export type EntryKind = 'agents' | 'frameworks' | 'tasks';

/** Collects problems (capped at MAX_PROBLEMS) and skip counters while parsing. */
export class Report {
  readonly #skipped: Record<EntryKind, number> = { agents: 0, frameworks: 0, tasks: 0 };
  readonly #problems: string[] = [];

  /** Notes a problem that skipped nothing (or was counted elsewhere). */
  add(where: string, message: string): void {
    if (this.#problems.length < MAX_PROBLEMS) this.#problems.push(`${where}: ${message}`);
  }

  /** Records the failure at `where`; rethrows anything that is not a shape problem. */
  fail(where: string, err: unknown): void {
    if (!(err instanceof FieldError)) throw err;
    this.add(where, err.message);
  }

  /**
   * Parses every element of `list` with `parse` (which gets the element and its path
   * `<where>[i]`); a malformed element is skipped, counted under `kind` and described.
   */
  entries<T>(
    list: readonly unknown[],
    where: string,
    kind: EntryKind,
    parse: (v: unknown, path: string) => T,
  ): T[] {
    const out: T[] = [];
    list.forEach((v, i) => {
      const entry = this.entry(v, `${where}[${i}]`, kind, parse);
      if (entry !== undefined) out.push(entry);
    });
    return out;
  }

  /**
   * Parses one element `v` (at `path`) with `parse`; undefined when it is malformed (skipped,
   * counted under `kind` and described).
   */
  entry<T>(
    v: unknown,
    path: string,
    kind: EntryKind,
    parse: (v: unknown, path: string) => T,
  ): T | undefined {
    try {
      return parse(v, path);
    } catch (err) {
      this.#skipped[kind]++;
      this.fail(path, err);
      return undefined;
    }
  }

  /** Adds the counters and problems of `other` (after this report's own problems). */
  absorb(other: Report): void {
    const { skippedAgents, skippedFrameworks, skippedTasks, problems } = other.result();
    this.#skipped.agents += skippedAgents;
    this.#skipped.frameworks += skippedFrameworks;
    this.#skipped.tasks += skippedTasks;
    for (const problem of problems) {
      if (this.#problems.length < MAX_PROBLEMS) this.#problems.push(problem);
    }
  }

  /**
   * Parses the entries of the optional list `obj[key]` like `entries`, their paths being
   * `<section>.<key>[i]` (`<key>[i]` at the top level). A list of the wrong type is reported at
   * `section` (or `key`) and read as empty: one bad list never fails the document.
   */
  listEntries<T>(
    obj: JsonObject | undefined,
    section: string | undefined,
    key: string,
    kind: EntryKind,
    parse: (v: unknown, path: string) => T,
  ): T[] {
    if (obj === undefined) return [];
    let list: readonly unknown[];
    try {
      list = optArray(obj, key) ?? [];
    } catch (err) {
      this.fail(section ?? key, err);
      return [];
    }
    return this.entries(list, section === undefined ? key : `${section}.${key}`, kind, parse);
  }

  /** Reads the optional object `obj[key]` like `list`: a wrong type is reported and ignored. */
  section(obj: JsonObject, key: string, where: string): JsonObject | undefined {
    try {
      return optObject(obj, key);
    } catch (err) {
      this.fail(where, err);
      return undefined;
    }
  }

  /** The report as parsers return it. */
  result(): ParseReport {
    return {
      skippedAgents: this.#skipped.agents,
      skippedFrameworks: this.#skipped.frameworks,
      skippedTasks: this.#skipped.tasks,
      problems: [...this.#problems],
    };
  }
}
