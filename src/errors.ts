/** Stable error codes: tests and operators match on these, never on messages. */
export type ErrorCode =
  | 'ERR_CONFIG_INVALID'
  | 'ERR_CONFIG_READ'
  | 'ERR_STATE_FETCH'
  | 'ERR_NO_LEADER'
  | 'ERR_STATE_PARSE'
  | 'ERR_UPSTREAM'
  | 'ERR_DECODE';

/** Base error of mesodns: a literal `code` and an optional `cause`. */
export class MesosDnsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One configuration problem: where it is and what is wrong. */
export interface ConfigProblem {
  /** Key path such as `mesos.refresh` (empty for the document itself). */
  readonly path: string;
  /** 1-based line, 0 when unknown. */
  readonly line: number;
  /** 1-based column, 0 when unknown. */
  readonly column: number;
  readonly message: string;
}

/** Formats a problem as `file:line:column: key: message`. */
export function formatConfigProblem(file: string, p: ConfigProblem): string {
  const where = p.line > 0 ? `${file}:${p.line}:${p.column}` : file;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** The configuration is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends MesosDnsError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(
      problems.length > 0 ? 'ERR_CONFIG_INVALID' : 'ERR_CONFIG_READ',
      problems.length > 0
        ? `invalid configuration:\n${problems.map((p) => '  ' + formatConfigProblem(file, p)).join('\n')}`
        : `cannot read configuration ${file}`,
      options,
    );
    this.file = file;
    this.problems = problems;
  }
}

/** A state document could not be fetched from a master (or read from a file). */
export class StateFetchError extends MesosDnsError {
  readonly source: string;

  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super('ERR_STATE_FETCH', `${source}: ${message}`, options);
    this.source = source;
  }
}

/** No master reports a leader. */
export class NoLeaderError extends MesosDnsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NO_LEADER', message, options);
  }
}

/** A state document is not usable at all (not JSON, not an object). Single bad tasks are skipped, not thrown. */
export class StateParseError extends MesosDnsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STATE_PARSE', message, options);
  }
}

/** Every upstream resolver failed for a forwarded query. */
export class UpstreamError extends MesosDnsError {
  readonly upstreams: readonly string[];
  readonly transport: 'udp' | 'tcp';

  constructor(
    upstreams: readonly string[],
    transport: 'udp' | 'tcp',
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_UPSTREAM', message, options);
    this.upstreams = upstreams;
    this.transport = transport;
  }
}

/** A DNS message could not be decoded. */
export class DecodeError extends MesosDnsError {
  constructor(message: string) {
    super('ERR_DECODE', message);
  }
}
