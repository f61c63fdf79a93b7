/**
 * Redaction: a copy of a `Config` without its secrets, for what others may see (the HTTP API's
 * `/config` and `/v1/config`).
 */
import type { Config } from './types.js';

/** Replacement of secrets in `redactConfig`. */
export const REDACTED = '******';

/**
 * Returns a plain, unfrozen copy of `config` with secrets replaced by `******`: the Basic auth
 * secret and a password in the ZooKeeper URL. For `/v1/config` and logs.
 */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  const { auth } = copy.mesos;
  return {
    ...copy,
    mesos: {
      ...copy.mesos,
      zk: copy.mesos.zk.replace(/^(zk:\/\/[^:@/]*:)[^@/]*@/, `$1${REDACTED}@`),
      auth: { ...auth, secret: auth.secret === '' ? '' : REDACTED },
    },
  };
}
