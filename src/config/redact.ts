/**
 * Redaction: a copy of a `Config` without its secrets, for what others may see (the HTTP API's
 * `/config` and `/v1/config`).
 */
import type { Config } from './types.js';

/** Replacement of secrets in `redactConfig`. */
export const REDACTED = '******';

/**
 * Returns a plain, unfrozen copy of `config` with secrets replaced by `******`: the Basic auth
 * secret, TSIG secrets and a password in the ZooKeeper URL. For `/v1/config` and logs.
 */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  const { auth } = copy.mesos;
  const keys = copy.transfer.tsig.keys.map((k) => ({
    ...k,
    secret: k.secret === '' ? '' : REDACTED,
  }));
  return {
    ...copy,
    transfer: { ...copy.transfer, tsig: { keys } },
    mesos: {
      ...copy.mesos,
      zk: copy.mesos.zk.replace(/^(zk:\/\/[^:@/]*:)[^@/]*@/, `$1${REDACTED}@`),
      auth: { ...auth, secret: auth.secret === '' ? '' : REDACTED },
    },
  };
}
