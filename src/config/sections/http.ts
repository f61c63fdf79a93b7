/** The `http` section: the API listener, its limits and the data age `/ready` accepts. */
import { DEFAULT_CONFIG } from '../defaults.js';
import type { Config } from '../types.js';
import type { Fields } from './fields.js';

/** Reads `http`; `mesos` (already read) tells whether `readyMaxAge` fits its poll period. */
export function buildHttp(f: Fields, mesos: Config['mesos']): Config['http'] {
  const D = DEFAULT_CONFIG;
  const { r, bool, int, duration, listen } = f;

  // A ready limit below the poll period would fail /ready between two good polls. 0 (the
  // default) turns the age check off.
  const readyMaxAgeMs = duration(['http', 'readyMaxAge'], D.http.readyMaxAgeMs, {
    allowZero: true,
  });
  if (readyMaxAgeMs > 0 && mesos.stateFile === '' && readyMaxAgeMs < mesos.refreshMs) {
    r.warn(
      ['http', 'readyMaxAge'],
      `is shorter than ${r.display(['mesos', 'refresh'])}: /ready would fail between two polls`,
    );
  }

  return {
    enabled: bool(['http', 'enabled'], D.http.enabled),
    listen: listen(['http', 'listen'], D.http.listen),
    readyMaxAgeMs,
    maxConnections: int(['http', 'maxConnections'], D.http.maxConnections),
  };
}
