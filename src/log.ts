import winston from 'winston';

/** Log levels, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The logger every I/O class receives through its constructor. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

/**
 * What a text log line must not carry raw: C0 and C1 controls and DEL (a newline forges a line,
 * ESC drives the terminal), the Unicode line separators and the bidirectional overrides. Field
 * values come from remote input (a master's error body, a query name).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character written as a `\uXXXX` escape. */
export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line of the text format: time, level, message, then `key=value` fields, escaped. */
export function textLogLine(info: Readonly<Record<string, unknown>>): string {
  const { level, message, timestamp, ...rest } = info;
  const fields = Object.entries(rest)
    .map(([k, v]) => {
      // JSON.stringify gives undefined for undefined and functions, whatever its type says.
      const json = typeof v === 'string' ? v : (JSON.stringify(v) as string | undefined);
      return `${k}=${escapeLogText(json ?? String(v))}`;
    })
    .join(' ');
  const head = `${String(timestamp)} ${String(level).toUpperCase().padEnd(5)}`;
  return `${head} ${escapeLogText(String(message))}${fields === '' ? '' : ' ' + fields}`;
}

/** Creates the process logger (winston) writing to stderr, as text or JSON lines. */
export function createLogger(options: { level: LogLevel; format: 'text' | 'json' }): Logger {
  const text = winston.format.printf((info) => textLogLine(info));
  const logger = winston.createLogger({
    level: options.level,
    format: winston.format.combine(
      winston.format.timestamp(),
      options.format === 'json' ? winston.format.json() : text,
    ),
    transports: [
      // winston's Console is declared as an interface-typed constructor, which this rule cannot
      // match to TransportStream; it is a TransportStream at runtime.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
  });
  const log =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      logger.log(level, message, fields ?? {});
    };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
