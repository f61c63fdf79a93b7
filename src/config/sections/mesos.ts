/** The `mesos` section: the master source, polling and streaming, failover, auth and TLS. */
import { DEFAULT_CONFIG } from '../defaults.js';
import type { Path } from '../report.js';
import type { Config, MesosMode } from '../types.js';
import { checkZk, parseMaster } from '../values.js';
import { includes } from './fields.js';
import type { Fields } from './fields.js';

/** Longest `mesos.stream.batch`: a longer batch would defeat the one-second freshness goal. */
const MAX_STREAM_BATCH_MS = 1_000;
const MESOS_MODES: readonly MesosMode[] = ['stream', 'poll'];

/**
 * Reads `mesos`. With `checkSource`, exactly one of `masters`, `zk` and `stateFile` must be set
 * (the Mesos-DNS importer makes its own check: its keys are other ones).
 */
export function buildMesos(f: Fields, checkSource: boolean): Config['mesos'] {
  const D = DEFAULT_CONFIG;
  const { r, get, str, bool, int, duration, items } = f;

  // exactly one source
  const schemeValue = get(['mesos', 'scheme']);
  const scheme: 'http' | 'https' = schemeValue === 'https' ? 'https' : D.mesos.scheme;
  const masters = items(
    ['mesos', 'masters'],
    (m) => parseMaster(m, scheme),
    (m) => m,
  );
  const zk = str(['mesos', 'zk'], '');
  if (zk !== '') {
    const bad = checkZk(zk);
    if (bad !== undefined) r.error(['mesos', 'zk'], bad);
  }
  const stateFile = str(['mesos', 'stateFile'], '');
  if (checkSource) {
    const sources: Path[] = [
      ['mesos', 'masters'],
      ['mesos', 'zk'],
      ['mesos', 'stateFile'],
    ];
    const names = sources.map((p) => r.display(p));
    const choices = `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;
    const used = sources.filter((p) => {
      const v = f.raw(p);
      return (typeof v === 'string' && v !== '') || (Array.isArray(v) && v.length > 0);
    });
    if (used.length === 0) {
      r.error(['mesos'], `one of ${choices} must be set`, 'key');
    } else if (used.length > 1) {
      r.error(
        ['mesos'],
        `only one of ${choices} may be set (found ${used.map((p) => r.display(p)).join(' and ')})`,
        'key',
      );
    }
  }

  const refreshMs = duration(['mesos', 'refresh'], D.mesos.refreshMs);
  const timeoutMs = duration(['mesos', 'timeout'], D.mesos.timeoutMs);
  const minRetained = get(['mesos', 'failover', 'minRetained']);
  const failover = {
    minRetained:
      typeof minRetained === 'number' && minRetained >= 0 && minRetained <= 1
        ? minRetained
        : D.mesos.failover.minRetained,
    maxHoldMs: duration(['mesos', 'failover', 'maxHold'], D.mesos.failover.maxHoldMs),
  };
  const mode = get(['mesos', 'mode']);
  const stream = {
    resyncMs: duration(['mesos', 'stream', 'resync'], D.mesos.stream.resyncMs, { allowZero: true }),
    batchMs: duration(['mesos', 'stream', 'batch'], D.mesos.stream.batchMs, {
      maxMs: MAX_STREAM_BATCH_MS,
    }),
    missedHeartbeats: int(['mesos', 'stream', 'missedHeartbeats'], D.mesos.stream.missedHeartbeats),
  };

  const principal = str(['mesos', 'auth', 'principal'], '');
  const secret = str(['mesos', 'auth', 'secret'], '');
  const secretFile = str(['mesos', 'auth', 'secretFile'], '');
  if (secret !== '' && secretFile !== '') {
    r.error(
      ['mesos', 'auth', 'secretFile'],
      `set either ${r.display(['mesos', 'auth', 'secret'])} or ${r.display(['mesos', 'auth', 'secretFile'])}, not both`,
      'key',
    );
  }
  if ((secret !== '' || secretFile !== '') && principal === '') {
    r.error(
      ['mesos', 'auth', secret !== '' ? 'secret' : 'secretFile'],
      `needs ${r.display(['mesos', 'auth', 'principal'])} (the Basic auth user name)`,
      'key',
    );
  }
  if (principal !== '' && secret === '' && secretFile === '') {
    r.warn(['mesos', 'auth', 'principal'], 'no secret is set: an empty password is sent', 'key');
  }

  const ca = str(['mesos', 'tls', 'ca'], '');
  const cert = str(['mesos', 'tls', 'cert'], '');
  const key = str(['mesos', 'tls', 'key'], '');
  if ((cert === '') !== (key === '')) {
    const [given, missing] = cert === '' ? ['key', 'cert'] : ['cert', 'key'];
    r.error(
      ['mesos', 'tls', given],
      `needs ${r.display(['mesos', 'tls', missing])} too (a client certificate needs its key)`,
      'key',
    );
  }
  const insecure = bool(['mesos', 'tls', 'insecure'], false);

  return {
    masters,
    zk,
    stateFile,
    mode: includes(MESOS_MODES, mode) ? mode : D.mesos.mode,
    refreshMs,
    timeoutMs,
    scheme,
    failover,
    stream,
    auth: { principal, secret, secretFile },
    tls: { ca, cert, key, insecure },
  };
}
