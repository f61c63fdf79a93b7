/**
 * The error reporter: every reader of a configuration file reports its problems here, by key
 * path, and gets them back sorted by position and without repeats. A problem is never thrown
 * while reading, so that one run lists all of them.
 */
import type { ConfigProblem } from '../errors.js';
import { isRecord } from '../is-record.js';
import type { Config } from './types.js';

/** One step of a key path: a mapping key or a list index. */
export type Segment = string | number;
/** A key path such as `['forward', 'resolvers', 1]`. */
export type Path = readonly Segment[];

/** A 1-based line and column; 0 and 0 when unknown. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** The position of something absent, or not found in the file: the whole file. */
export const NOWHERE: Position = { line: 0, column: 0 };

/** The value at `path` in parsed data, or undefined when some step is missing. */
export function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const seg of path) {
    if (typeof seg === 'number') {
      if (!Array.isArray(node)) return undefined;
      node = node[seg];
    } else {
      if (!isRecord(node) || !Object.hasOwn(node, seg)) return undefined;
      node = node[seg];
    }
  }
  return node;
}

/** A key path as problems show it: `forward.resolvers[1]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** The message of a thrown value, for a problem. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Maps key paths of the YAML layout to what the operator sees: a display path and a position. */
export interface Source {
  display(path: Path): string;
  position(path: Path, at: 'key' | 'value'): Position;
}

/** Every error and warning of one file, flagged paths included (so nothing is reported twice). */
export class Findings {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];
  readonly flagged = new Set<string>();
}

/** Reports problems of one `Source` into shared `Findings`. */
export class Reporter {
  readonly #findings: Findings;
  readonly #source: Source;

  constructor(findings: Findings, source: Source) {
    this.#findings = findings;
    this.#source = source;
  }

  display(path: Path): string {
    return this.#source.display(path);
  }

  /** True when the path or one of its parents already has an error: its value is unusable. */
  isFlagged(path: Path): boolean {
    for (let i = 1; i <= path.length; i++) {
      const shown = this.#source.display(path.slice(0, i));
      if (shown !== '' && this.#findings.flagged.has(shown)) return true;
    }
    return false;
  }

  /** Records an error; `at: 'file'` is for something absent (line and column 0). */
  error(path: Path, message: string, at: 'key' | 'value' | 'file' = 'value'): void {
    if (this.isFlagged(path)) return;
    const shown = this.#source.display(path);
    const where = at === 'file' ? NOWHERE : this.#source.position(path, at);
    this.#findings.errors.push({ path: shown, ...where, message });
    if (shown !== '') this.#findings.flagged.add(shown);
  }

  warn(path: Path, message: string, at: 'key' | 'value' = 'value'): void {
    const shown = this.#source.display(path);
    this.#findings.warnings.push({ path: shown, ...this.#source.position(path, at), message });
  }
}

/** Orders problems by line, then column (a stable sort keeps the order of reports at a tie). */
export function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.line - b.line || a.column - b.column;
}

function unique(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Outcome of reading a file: a config when there is no error. Never throws for bad content. */
export interface Analysis {
  readonly config: Config | undefined;
  readonly errors: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
}

/** The `Analysis` of `findings`: problems sorted and unique, `config` only without errors. */
export function analysis(findings: Findings, config: Config | undefined): Analysis {
  const errors = unique(findings.errors).sort(byPosition);
  const warnings = unique(findings.warnings).sort(byPosition);
  return { config: errors.length === 0 ? config : undefined, errors, warnings };
}
