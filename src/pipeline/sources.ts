/**
 * The state source a configuration selects: a state file, or the masters (static list or
 * ZooKeeper) through the HTTP client, followed through the v1 event stream (`mesos.mode:
 * stream`, falling back to polling for masters without the v1 API) or polled (`poll`). Built
 * inside the pipeline worker (worker.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { systemClock } from '../clock.js';
import type { Config } from '../config/index.js';
import { MesosDnsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StateListener, StateSource } from '../mesos/index.js';
import {
  MasterPoller,
  MasterStream,
  StateClient,
  StateFileSource,
  StaticMasters,
  ZkLeaderDetector,
  readTlsFiles,
} from '../mesos/index.js';

/** Longest wait between two subscription attempts (dcos-net uses the same cap). */
const MAX_STREAM_BACKOFF_MS = 30_000;

/**
 * Builds the state source of `config` (files it names are relative to `configFile`), delivering
 * to `listener`. Throws `ERR_CONFIG_READ` when a file it needs (secret, TLS) cannot be read.
 */
export function makeSource(
  config: Config,
  configFile: string,
  listener: StateListener,
  logger: Logger,
  version: string,
): StateSource {
  const m = config.mesos;
  if (m.stateFile !== '') {
    return new StateFileSource({
      path: resolve(dirname(configFile), m.stateFile),
      checkMs: Math.min(m.refreshMs, 1000),
      listener,
      clock: systemClock,
    });
  }
  // Files named in the config are relative to it, like the state file.
  const file = (path: string): string => (path === '' ? '' : resolve(dirname(configFile), path));
  let secret = m.auth.secret;
  if (m.auth.secretFile !== '') {
    try {
      secret = readFileSync(file(m.auth.secretFile), 'utf8').trim();
    } catch (err) {
      throw new MesosDnsError(
        'ERR_CONFIG_READ',
        `mesos.auth.secretFile: cannot read ${m.auth.secretFile}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
  // The credentials go only to masters a detector vouches for: configured, or listed in
  // ZooKeeper, over the configured scheme; never to a redirect's target or a state's `leader`.
  // At most two detectors: the stream's, and the poller's it may fall back to.
  const detectors: (ZkLeaderDetector | StaticMasters)[] = [];
  const client = new StateClient({
    timeoutMs: m.timeoutMs,
    clock: systemClock,
    auth: {
      principal: m.auth.principal,
      secret,
      sendTo: (url) => detectors.some((d) => d.vouchesFor(url.origin)),
    },
    tls: readTlsFiles({
      ...m.tls,
      ca: file(m.tls.ca),
      cert: file(m.tls.cert),
      key: file(m.tls.key),
    }),
    userAgent: `mesodns/${version}`,
  });
  const detector = (): ZkLeaderDetector | StaticMasters => {
    const made =
      m.zk !== ''
        ? new ZkLeaderDetector({
            url: m.zk,
            scheme: m.scheme,
            logger,
            onConnection: (zk, connected) => {
              listener.onZooKeeper?.(zk, connected);
            },
          })
        : new StaticMasters(m.masters);
    detectors.push(made);
    return made;
  };
  const poller = (): MasterPoller =>
    new MasterPoller({
      detector: detector(),
      client,
      refreshMs: m.refreshMs,
      maxHoldMs: m.failover.maxHoldMs,
      listener,
      logger,
      clock: systemClock,
    });
  if (m.mode === 'poll') return poller();
  return new MasterStream({
    detector: detector(),
    client,
    listener,
    logger,
    clock: systemClock,
    batchMs: m.stream.batchMs,
    missedHeartbeats: m.stream.missedHeartbeats,
    resyncMs: m.stream.resyncMs,
    maxHoldMs: m.failover.maxHoldMs,
    maxBackoffMs: Math.min(m.refreshMs, MAX_STREAM_BACKOFF_MS),
    fallback: poller,
    healthInRecords: config.records.health === 'exclude-unhealthy',
  });
}

/**
 * Whether two configs need different state sources: anything under `mesos` changed, or
 * `records.health` (the stream's resync compares health when it is part of the records).
 */
export function sourceKey(config: Config): string {
  return JSON.stringify({ mesos: config.mesos, health: config.records.health });
}
