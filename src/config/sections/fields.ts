/**
 * Typed reads of the keys of a document in the YAML layout, shared by the section builders. A
 * read returns the fallback (the default) when the key is absent, of another type (the schema
 * reported that) or below a path that already has an error; checks the schema cannot express
 * (duration ranges, address syntax, duplicates after parsing) are reported here.
 */
import { formatDuration, parseDuration } from '../../duration.js';
import { errorMessage, valueAt } from '../report.js';
import type { Path, Reporter } from '../report.js';
import type { HostPort } from '../types.js';
import { joinHostPort, parseListen } from '../values.js';
import type { Parsed } from '../values.js';

/** Longest accepted duration: timers beyond a day are a typo, not a setting. */
const MAX_DURATION_MS = 86_400_000;

/** Options of `Fields.duration`. */
export interface DurationOptions {
  /** Accept 0 (`0`, `0s`): the key turns something off. */
  readonly allowZero?: boolean;
  /** Longest accepted value (a day by default). */
  readonly maxMs?: number;
}

/**
 * The reads of one document. Properties rather than methods, so that a section builder can take
 * the ones it uses apart (`const { get, str } = f`).
 */
export interface Fields {
  /** Where the builders report problems. */
  readonly r: Reporter;
  /** The value at `path` as written, errors or not (the master-source check counts keys). */
  readonly raw: (path: Path) => unknown;
  /** The value at `path`, or undefined when it or a parent already has an error. */
  readonly get: (path: Path) => unknown;
  readonly str: (path: Path, fallback: string) => string;
  readonly bool: (path: Path, fallback: boolean) => boolean;
  readonly int: (path: Path, fallback: number) => number;
  /** The list at `path`, or an empty one. */
  readonly list: (path: Path) => readonly unknown[];
  /** A duration greater than 0 (or 0 itself with `allowZero`) and at most `maxMs`, in ms. */
  readonly duration: (path: Path, fallback: number, options?: DurationOptions) => number;
  /**
   * Seconds (DNS TTLs, SOA timers, cache lifetimes): a bare integer, as DNS counts them, or a
   * duration in whole seconds (`1h`). The schema checks the range of integers; this the range of
   * durations.
   */
  readonly seconds: (path: Path, fallback: number, maxSeconds: number) => number;
  /** Parses every string item of a list, reporting bad items and duplicates after parsing. */
  readonly items: <T>(path: Path, parse: (s: string) => Parsed<T>, key: (v: T) => string) => T[];
  /** A listen address (`host:port`), or the fallback after reporting why it is not one. */
  readonly listen: (path: Path, fallback: HostPort) => HostPort;
}

/** True when `value` is one of `values` (an enum the schema checked; a default otherwise). */
export function includes<T extends string>(values: readonly T[], value: unknown): value is T {
  return values.some((v) => v === value);
}

/** The identity of an address among others (duplicates): `host:port`. */
export function hostPortKey(hp: HostPort): string {
  return joinHostPort(hp.host, hp.port);
}

/** The reads of `doc` (already checked by the schema), reporting into `r`. */
export function fields(doc: unknown, r: Reporter): Fields {
  const get = (path: Path): unknown => (r.isFlagged(path) ? undefined : valueAt(doc, path));
  const str = (path: Path, fallback: string): string => {
    const v = get(path);
    return typeof v === 'string' ? v : fallback;
  };
  const bool = (path: Path, fallback: boolean): boolean => {
    const v = get(path);
    return typeof v === 'boolean' ? v : fallback;
  };
  const int = (path: Path, fallback: number): number => {
    const v = get(path);
    return typeof v === 'number' && Number.isInteger(v) ? v : fallback;
  };
  const list = (path: Path): readonly unknown[] => {
    const v = get(path);
    return Array.isArray(v) ? v : [];
  };
  /** The duration string at `path` in ms, or undefined after reporting why it is not one. */
  const parsedDuration = (path: Path, text: string): number | undefined => {
    try {
      return parseDuration(text);
    } catch (error) {
      r.error(path, errorMessage(error));
      return undefined;
    }
  };
  const duration = (
    path: Path,
    fallback: number,
    { allowZero = false, maxMs = MAX_DURATION_MS }: DurationOptions = {},
  ): number => {
    const v = get(path);
    if (allowZero && v === 0) return 0; // a bare 0 is unambiguous (the schema allows it)
    if (typeof v !== 'string') return fallback;
    const ms = parsedDuration(path, v);
    if (ms === undefined) return fallback;
    if (ms === 0 && !allowZero) r.error(path, 'must be greater than 0');
    else if (ms > maxMs) r.error(path, `must be at most ${formatDuration(maxMs)}`);
    return ms;
  };
  const seconds = (path: Path, fallback: number, maxSeconds: number): number => {
    const v = get(path);
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v !== 'string') return fallback;
    const ms = parsedDuration(path, v);
    if (ms === undefined) return fallback;
    if (ms % 1000 !== 0) {
      r.error(path, `must be whole seconds ('${v}' is not)`);
      return fallback;
    }
    if (ms / 1000 > maxSeconds) {
      r.error(path, `must be at most ${formatDuration(maxSeconds * 1000)} (${maxSeconds} seconds)`);
      return fallback;
    }
    return ms / 1000;
  };
  const items = <T>(path: Path, parse: (s: string) => Parsed<T>, key: (v: T) => string): T[] => {
    const out: T[] = [];
    const seen = new Map<string, number>();
    list(path).forEach((item, index) => {
      const at = [...path, index];
      if (typeof item !== 'string' || r.isFlagged(at)) return;
      const parsed = parse(item);
      if ('problem' in parsed) {
        r.error(at, parsed.problem);
        return;
      }
      const id = key(parsed.value);
      const first = seen.get(id);
      if (first !== undefined) {
        r.error(at, `duplicate of ${r.display([...path, first])}`);
        return;
      }
      seen.set(id, index);
      out.push(parsed.value);
    });
    return out;
  };
  const listen = (path: Path, fallback: HostPort): HostPort => {
    const v = get(path);
    if (typeof v !== 'string') return fallback;
    const parsed = parseListen(v);
    if ('problem' in parsed) {
      r.error(path, parsed.problem);
      return fallback;
    }
    return parsed.value;
  };
  const raw = (path: Path): unknown => valueAt(doc, path);
  return { r, raw, get, str, bool, int, list, duration, seconds, items, listen };
}
