/** The `log` section: level, format and query logging. */
import type { LogLevel } from '../../log.js';
import { DEFAULT_CONFIG } from '../defaults.js';
import type { Config } from '../types.js';
import { includes } from './fields.js';
import type { Fields } from './fields.js';

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const LOG_FORMATS: readonly Config['log']['format'][] = ['text', 'json'];

/** Reads `log`; a level or format the schema rejected falls back to the default. */
export function buildLog(f: Fields): Config['log'] {
  const D = DEFAULT_CONFIG;
  const { get, bool } = f;
  const level = get(['log', 'level']);
  const format = get(['log', 'format']);
  return {
    level: includes(LOG_LEVELS, level) ? level : D.log.level,
    format: includes(LOG_FORMATS, format) ? format : D.log.format,
    queries: bool(['log', 'queries'], D.log.queries),
  };
}
