/** A logger for tests that keeps every line it is given (src/log.ts `silentLogger` drops them). */
import type { Logger } from '../src/log.js';

/** A logger whose lines are kept in `logs`, each as `level message {fields as JSON}`. */
export function recordingLogger(): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  const logger: Logger = {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
  };
  return { logger, logs };
}
