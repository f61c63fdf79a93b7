/**
 * `mesodns serve`: the composition root. Loads the config, builds the pipeline (state source ->
 * loader -> store -> DNS/HTTP), binds the listeners and handles reload and stop signals.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { monotonicClock, systemClock } from '../clock.js';
import type { Config, HostPort } from '../config/index.js';
import { describeConfigError, loadConfigWithWarnings } from '../config/index.js';
import type { DnsSettings, QueryEvent } from '../dns/index.js';
import {
  AnswerCache,
  DnsServer,
  ForwardStats,
  Forwarder,
  excludeSelf,
  formatHostPort,
  keyToName,
  oversizedDatagrams,
  parseResolvConf,
  RCODE_NAME,
  ResponseRateLimiter,
  TYPE,
} from '../dns/index.js';
import { ConfigError, formatConfigProblem } from '../errors.js';
import { HttpApi } from '../http/index.js';
import type { HealthDetails } from '../http/index.js';
import type { Logger } from '../log.js';
import { createLogger } from '../log.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { sourceKey } from '../pipeline/sources.js';
import { Metrics } from '../metrics.js';
import { bindProblem, bindProtocol, errnoCode, portHolder } from '../os-errors.js';
import { ZoneStore } from '../store.js';
import { CliFailure, errorText } from './failure.js';
import { listenerAddresses, resolveListen, resolveListenAt } from './listen.js';
import { VERSION } from './version.js';

/** How long the owner of a busy port is looked for in /proc before giving up on naming it. */
const PORT_HOLDER_TIMEOUT_MS = 1000;

/**
 * Starts a listener at start-up; a bind error (address in use, a privileged port, an address
 * not on this host) becomes one line naming the address, its config key and what to do.
 */
async function startListener(
  start: () => Promise<void>,
  key: 'dns.listen' | 'http.listen',
  address: HostPort,
): Promise<void> {
  try {
    await start();
  } catch (err) {
    const protocol = key === 'http.listen' ? 'TCP' : bindProtocol(err);
    let holder: string | undefined;
    if (errnoCode(err) === 'EADDRINUSE') {
      const timeout = new Promise<undefined>((r) => {
        setTimeout(() => {
          r(undefined);
        }, PORT_HOLDER_TIMEOUT_MS).unref();
      });
      holder = await Promise.race([
        portHolder(address.port, protocol).catch(() => undefined),
        timeout,
      ]);
    }
    const line = bindProblem(
      err,
      { key, host: address.host, port: address.port, protocol },
      holder,
    );
    if (line === undefined) throw err;
    throw new CliFailure(`mesodns: ${line}`, { cause: err });
  }
}

async function upstreams(config: Config, listen: HostPort): Promise<readonly HostPort[]> {
  if (config.forward.resolvers.length > 0) return config.forward.resolvers;
  let text = '';
  try {
    text = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    return [];
  }
  return excludeSelf(
    parseResolvConf(text),
    listen,
    listenerAddresses({ host: '0.0.0.0', port: 0 }),
  );
}

/**
 * Warns about configured upstreams that are this server itself: every query sent there comes
 * back and is answered SERVFAIL by the loop guard, and the next upstream is tried.
 */
function warnSelfUpstreams(config: Config, listen: HostPort, logger: Logger): void {
  const locals = listenerAddresses({ host: '0.0.0.0', port: 0 });
  const lists = [config.forward.resolvers, ...Object.values(config.forward.zones)];
  for (const list of lists) {
    const kept = excludeSelf(list, listen, locals);
    for (const upstream of list) {
      if (!kept.includes(upstream)) {
        logger.warn('an upstream resolver is this server itself (forwarding loop)', {
          upstream: formatHostPort(upstream),
        });
      }
    }
  }
}

function isoTime(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** What `/health` reports about the state source and the pipeline worker. */
function healthDetails(config: Config, pipeline: Pipeline): HealthDetails {
  const source = pipeline.sourceStats();
  const stream = pipeline.streamStats();
  const worker = pipeline.workerStatus();
  const isFile = config.mesos.stateFile !== '';
  const isStream = !isFile && config.mesos.mode === 'stream';
  return {
    source: {
      mode: isFile
        ? 'file'
        : !isStream
          ? 'poll'
          : stream?.fellBack === true
            ? 'poll-fallback'
            : 'stream',
      leader: source?.leader ?? null,
      leaderUrl: source?.leaderUrl ?? null,
      leaderChanges: pipeline.leaderChanges(),
      lastFetchAt: isoTime(source?.lastSuccessAt),
      consecutiveFailures: source?.consecutiveFailures ?? 0,
      ...(isStream ? { streamConnected: stream?.connected === true } : {}),
    },
    worker: {
      running: worker.running,
      restarts: worker.restarts,
      lastExit:
        worker.lastExit === undefined
          ? null
          : {
              at: new Date(worker.lastExit.at).toISOString(),
              code: worker.lastExit.code,
              reason: worker.lastExit.reason,
            },
      nextRestartAt: isoTime(worker.nextRestartAt),
    },
  };
}

/** HTTP refusals are logged at most this often, with their counts since the last line. */
const REFUSAL_LOG_MS = 60_000;

/**
 * Logs clients turned away by a limit (a flood would otherwise write a line per connection): the
 * first at once, then at most one line per `REFUSAL_LOG_MS` with the counts by reason.
 */
function refusalLogger(logger: Logger, message: string): (reason: string) => void {
  let last = -Infinity;
  const counts = new Map<string, number>();
  return (reason) => {
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    const now = monotonicClock.now();
    if (now - last < REFUSAL_LOG_MS) return;
    last = now;
    logger.warn(message, Object.fromEntries(counts));
    counts.clear();
  };
}

/** How long a graceful stop may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([name, n]) => [n, name]));

function sameAddress(a: HostPort, b: HostPort): boolean {
  return a.host === b.host && a.port === b.port;
}

function isAddressInUse(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'EADDRINUSE';
}

/** Logs one DNS query (`log.queries`). */
function logQuery(logger: Logger, event: QueryEvent): void {
  logger.info('query', {
    client: event.client ?? '-',
    transport: event.transport,
    qname: event.query === undefined ? '-' : keyToName(event.query.key),
    qtype: TYPE_NAMES.get(event.qtype) ?? `TYPE${String(event.qtype)}`,
    rcode: RCODE_NAME[event.rcode] ?? `RCODE${String(event.rcode)}`,
    path: event.path,
    ms: Math.round(event.durationMs * 1000) / 1000,
  });
}

/** Listeners a reload bound anew (undefined: unchanged); `isOldClosed` when it had to go first. */
interface Rebound {
  dns: { server: DnsServer; listen: HostPort; isOldClosed: boolean } | undefined;
  http:
    { server: HttpApi | undefined; listen: HostPort | undefined; isOldClosed: boolean } | undefined;
}

/** Runs the server on `configFile` until a signal stops it; the exit code. */
export async function serve(configFile: string): Promise<number> {
  const initial = loadConfigWithWarnings(configFile);
  let config = initial.config;
  // Every component logs through this indirection, so that a reload can change log.level/format.
  let baseLogger = createLogger(config.log);
  const logger: Logger = {
    error: (message, fields) => {
      baseLogger.error(message, fields);
    },
    warn: (message, fields) => {
      baseLogger.warn(message, fields);
    },
    info: (message, fields) => {
      baseLogger.info(message, fields);
    },
    debug: (message, fields) => {
      baseLogger.debug(message, fields);
    },
  };
  for (const w of initial.warnings) {
    logger.warn('configuration warning', { problem: formatConfigProblem(configFile, w) });
  }
  const store = new ZoneStore();
  let listen = await resolveListenAt('dns.listen', config.dns.listen);
  let nsIps = listenerAddresses(listen);
  const logRefusal = refusalLogger(logger, 'HTTP clients turned away (mesodns_http_refused_total)');
  const logTcpRefusal = refusalLogger(
    logger,
    'DNS TCP connections closed by a limit (mesodns_dns_tcp_refused_total)',
  );
  const metrics = new Metrics({
    version: VERSION,
    sources: {
      dataAgeMs: () => pipeline.dataAgeMs(),
      zoneSerial: () => store.current?.zone.serial,
      zoneCounts: () => store.current?.zone,
      leaderChanges: () => pipeline.leaderChanges(),
      cache: () => answerCache?.cache,
      upstreamHealth: () => settings.forwarder?.health(),
      forwardInFlight: () => settings.forwarder?.inFlight,
      stream: () => pipeline.streamStats(),
      udpOversized: oversizedDatagrams,
      carry: () => {
        const { carriedAgents, carriedTasks, carryingSince } = pipeline.stats;
        return { agents: carriedAgents, tasks: carriedTasks, since: carryingSince };
      },
      workerRestarts: () => pipeline.workerStatus().restarts,
    },
  });
  // The state source, the loader and the zone compiler run in a worker thread (pipeline/): parsing
  // and compiling a large state never blocks a DNS answer. Zones arrive in the store.
  const pipeline = new Pipeline({
    configFile,
    config,
    nsIps,
    version: VERSION,
    store,
    logger,
    onLoad: (event) => {
      metrics.onLoad(event);
    },
    onPublish: (facts) => {
      metrics.onZoneServed(facts.statusTimesMs, systemClock.now());
    },
  });
  // Forwarding counters and the answer cache outlive reloads (the cache while its settings stay).
  const forwardStats = new ForwardStats();
  let answerCache: { readonly key: string; readonly cache: AnswerCache } | undefined;
  const cacheFor = (c: Config): AnswerCache | undefined => {
    const { enabled, ...options } = c.forward.cache;
    if (!enabled) {
      answerCache = undefined;
      return undefined;
    }
    const key = JSON.stringify(options);
    if (answerCache?.key !== key) {
      answerCache = { key, cache: new AnswerCache({ ...options, clock: monotonicClock }) };
    }
    return answerCache.cache;
  };
  const makeSettings = async (c: Config): Promise<DnsSettings> => {
    let forwarder: Forwarder | undefined;
    if (c.forward.enabled) {
      const ups = await upstreams(c, listen);
      if (ups.length === 0) logger.warn('forwarding enabled but no upstream resolvers found');
      warnSelfUpstreams(c, listen, logger);
      const f = c.forward;
      forwarder = new Forwarder({
        resolvers: ups,
        zones: f.zones,
        timeoutMs: f.timeoutMs,
        policy: f.policy,
        maxConcurrent: f.maxConcurrent,
        maxConcurrentPerClient: f.maxConcurrentPerClient,
        allowFrom: f.allowFrom,
        tcpFallback: f.tcpFallback,
        maxFails: f.maxFails,
        healthCheckMs: f.healthCheckMs,
        recursionAvailable: c.dns.recursionAvailable,
        cache: cacheFor(c),
        observer: metrics.forwardObserver(forwardStats),
        logger,
      });
    }
    return {
      domain: c.domain,
      recursionAvailable: c.dns.recursionAvailable,
      forwarder,
      tcp: c.dns.tcp,
      rrl: c.dns.rrl.enabled ? new ResponseRateLimiter(c.dns.rrl) : undefined,
    };
  };
  let settings = await makeSettings(config);
  const onQuery = (event: QueryEvent): void => {
    metrics.onQuery(event);
    if (config.log.queries) logQuery(logger, event);
  };
  const newDns = (address: HostPort, batchedUdp = config.dns.batchedUdp): DnsServer =>
    new DnsServer({
      listen: address,
      settings,
      zone: () => store.zone(),
      logger,
      onQuery,
      batchedUdp,
      onTcpRefused: (reason) => {
        metrics.onTcpRefused(reason);
        logTcpRefusal(reason);
      },
      onRateLimited: (action) => {
        metrics.onRateLimited(action);
      },
    });
  const newHttp = (address: HostPort): HttpApi =>
    new HttpApi({
      listen: address,
      store,
      config: () => config,
      version: VERSION,
      logger,
      lastError: () => pipeline.stats.lastError,
      // A state file is the truth until it changes: its data does not age.
      dataAgeMs: () => (config.mesos.stateFile !== '' ? undefined : pipeline.dataAgeMs()),
      dnsListening: () => dns.listening,
      healthDetails: () => healthDetails(config, pipeline),
      configFacts: () => ({
        file: resolve(configFile),
        resolvers: settings.forwarder?.upstreamsFor('.') ?? [],
      }),
      metrics: () => metrics.scrape(),
      maxConnections: () => config.http.maxConnections,
      onRefused: (reason) => {
        metrics.onHttpRefused(reason);
        logRefusal(reason);
      },
    });
  let dns = newDns(listen);
  try {
    await pipeline.prepare(config);
  } catch (err) {
    await pipeline.close();
    throw err;
  }
  let httpListen = config.http.enabled
    ? await resolveListenAt('http.listen', config.http.listen)
    : undefined;
  let http = httpListen === undefined ? undefined : newHttp(httpListen);
  await startListener(() => dns.start(), 'dns.listen', listen);
  if (http !== undefined && httpListen !== undefined) {
    const server = http;
    await startListener(() => server.start(), 'http.listen', httpListen);
  }
  const udp = dns.udpEngine;
  if (config.dns.batchedUdp && udp.reason !== undefined) {
    logger.warn("batched UDP unavailable, serving UDP with Node's dgram", { reason: udp.reason });
  }
  logger.info('mesodns started', {
    version: VERSION,
    dns: `${listen.host}:${String(dns.port)}`,
    udp: udp.engine,
    http: httpListen === undefined ? 'off' : `${httpListen.host}:${String(http?.port ?? 0)}`,
    domain: config.domain,
  });
  pipeline.start();

  /**
   * Re-reads the config file and applies it, or rejects it whole: everything that can fail
   * (parsing, the new state source, binding changed listeners) happens before anything running
   * is touched. A changed listener is bound before the old one closes, so no query is dropped.
   */
  const reloadOnce = async (): Promise<void> => {
    let next: Config;
    let isSourceChanged = false;
    try {
      const parsed = loadConfigWithWarnings(configFile);
      next = parsed.config;
      for (const w of parsed.warnings) {
        logger.warn('configuration warning', { problem: formatConfigProblem(configFile, w) });
      }
      if (sourceKey(config) !== sourceKey(next)) {
        await pipeline.prepare(next);
        isSourceChanged = true;
      }
    } catch (err) {
      metrics.onConfigReload(false);
      logger.error('configuration rejected; keeping the running one', {
        file: configFile,
        problems: err instanceof ConfigError ? describeConfigError(err) : errorText(err),
      });
      return;
    }
    const previous = config;
    let rebound: Rebound;
    try {
      rebound = await rebindListeners(previous, next);
    } catch (err) {
      metrics.onConfigReload(false);
      if (isSourceChanged) pipeline.discard();
      logger.error('configuration rejected: cannot bind its listeners; keeping the running one', {
        file: configFile,
        error: errorText(err),
      });
      return;
    }
    // Commit. Queries in flight keep the settings they started with.
    if (JSON.stringify(previous.log) !== JSON.stringify(next.log)) {
      baseLogger = createLogger(next.log);
    }
    if (rebound.dns !== undefined) {
      listen = rebound.dns.listen;
      nsIps = listenerAddresses(listen);
    }
    const oldForwarder = settings.forwarder;
    config = next;
    settings = await makeSettings(next);
    dns.update(settings);
    const closing: Promise<void>[] = [];
    if (rebound.dns !== undefined) {
      const old = dns;
      dns = rebound.dns.server;
      dns.update(settings);
      if (!rebound.dns.isOldClosed) closing.push(old.close());
    }
    if (rebound.http !== undefined) {
      const old = http;
      http = rebound.http.server;
      httpListen = rebound.http.listen;
      if (!rebound.http.isOldClosed) closing.push(old?.close() ?? Promise.resolve());
    }
    // Let queries in flight on the old forwarder finish before closing it.
    setTimeout(() => oldForwarder?.close(), previous.forward.timeoutMs + 100).unref();
    // The new source replaces the old one, or the running source loads again at once.
    await pipeline.commit(next, nsIps, isSourceChanged);
    await Promise.all(closing);
    metrics.onConfigReload(true);
    logger.info('configuration reloaded', {
      file: configFile,
      dns: `${listen.host}:${String(dns.port)}`,
      http: httpListen === undefined ? 'off' : `${httpListen.host}:${String(http?.port ?? 0)}`,
    });
  };

  /**
   * Starts the listeners whose address changed, before the old ones close. When the new address
   * conflicts with the old one (same port, e.g. 127.0.0.1:53 -> 0.0.0.0:53), the old listener
   * is closed first and restored if the new one still cannot bind.
   */
  const rebindListeners = async (previous: Config, next: Config): Promise<Rebound> => {
    const out: Rebound = { dns: undefined, http: undefined };
    // A listener that failed half-way (UDP bound, TCP not) must not keep what it bound.
    const startOrClose = async (server: DnsServer | HttpApi): Promise<void> => {
      try {
        await server.start();
      } catch (err) {
        await server.close();
        throw err;
      }
    };
    const undoDns = async (): Promise<void> => {
      if (out.dns === undefined) return;
      await out.dns.server.close();
      if (out.dns.isOldClosed) {
        dns = newDns(listen, previous.dns.batchedUdp);
        await dns.start();
      }
    };
    if (
      !sameAddress(previous.dns.listen, next.dns.listen) ||
      previous.dns.batchedUdp !== next.dns.batchedUdp
    ) {
      const address = await resolveListen(next.dns.listen);
      const server = newDns(address, next.dns.batchedUdp);
      try {
        await startOrClose(server);
        out.dns = { server, listen: address, isOldClosed: false };
      } catch (err) {
        if (!isAddressInUse(err) || address.port !== listen.port) throw err;
        logger.warn(
          'the new DNS listener needs the port of the old one: closing the old listener first',
          {
            from: `${listen.host}:${String(listen.port)}`,
            to: `${address.host}:${String(address.port)}`,
          },
        );
        await dns.close();
        const retry = newDns(address, next.dns.batchedUdp);
        try {
          await startOrClose(retry);
        } catch (again) {
          dns = newDns(listen, previous.dns.batchedUdp);
          await dns.start();
          throw again;
        }
        out.dns = { server: retry, listen: address, isOldClosed: true };
      }
    }
    const wasOn = previous.http.enabled;
    const isOn = next.http.enabled;
    if (wasOn !== isOn || (isOn && !sameAddress(previous.http.listen, next.http.listen))) {
      if (!isOn) {
        out.http = { server: undefined, listen: undefined, isOldClosed: false };
      } else {
        const address = await resolveListen(next.http.listen);
        const server = newHttp(address);
        try {
          await server.start();
          out.http = { server, listen: address, isOldClosed: false };
        } catch (err) {
          if (!isAddressInUse(err) || http === undefined || address.port !== httpListen?.port) {
            await undoDns();
            throw err;
          }
          await http.close();
          const retry = newHttp(address);
          try {
            await retry.start();
          } catch (again) {
            http = newHttp(httpListen);
            await http.start();
            await undoDns();
            throw again;
          }
          out.http = { server: retry, listen: address, isOldClosed: true };
        }
      }
    }
    return out;
  };

  // SIGHUPs are applied one at a time; one arriving during a reload triggers one more.
  const reloads = { isRunning: false, isPending: false };
  const takePending = (): boolean => {
    const isPending = reloads.isPending;
    reloads.isPending = false;
    return isPending;
  };
  const reload = (): void => {
    reloads.isPending = true;
    if (reloads.isRunning) return;
    reloads.isRunning = true;
    void (async () => {
      while (takePending()) {
        try {
          await reloadOnce();
        } catch (err) {
          logger.error('configuration reload failed', { error: errorText(err) });
        }
      }
      reloads.isRunning = false;
    })();
  };

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn('second signal: exiting without waiting', { signal });
        resolveExit(1);
        return;
      }
      stopping = true;
      logger.info('stopping: no new queries, finishing those in flight', { signal });
      const shutdown = (async () => {
        await pipeline.close();
        await Promise.all([dns.close(), http?.close()]);
        settings.forwarder?.close();
      })();
      const deadline = new Promise<void>((r) => setTimeout(r, SHUTDOWN_DEADLINE_MS).unref());
      void Promise.race([shutdown, deadline]).then(() => {
        logger.info('stopped', { signal });
        resolveExit(0);
      });
    };
    process.on('SIGTERM', () => {
      stop('SIGTERM');
    });
    process.on('SIGINT', () => {
      stop('SIGINT');
    });
    process.on('SIGHUP', () => {
      reload();
    });
  });
}
