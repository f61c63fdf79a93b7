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

/** Creates the process logger (winston) writing to stderr, as text or JSON lines. */
export function createLogger(options: { level: LogLevel; format: 'text' | 'json' }): Logger {
  const text = winston.format.printf((info) => {
    const { level, message, timestamp, ...rest } = info;
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${String(timestamp)} ${level.toUpperCase().padEnd(5)} ${String(message)}${fields === '' ? '' : ' ' + fields}`;
  });
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
