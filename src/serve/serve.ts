/**
 * `mesodns serve`: the composition root. Loads the config, builds the pipeline (state source ->
 * loader -> store -> DNS/HTTP), binds the listeners and handles reload and stop signals. What it
 * wires lives beside it: listeners.ts (binding and moving listeners), reload.ts (the reload
 * transaction), forwarding.ts (the DNS settings of a config), observe.ts (health, logs).
 */
import { resolve } from 'node:path';
import { systemClock } from '../clock.js';
import type { Config, HostPort } from '../config/index.js';
import { describeConfigError, loadConfigWithWarnings } from '../config/index.js';
import type { DnsSettings, QueryEvent } from '../dns/index.js';
import {
  DnsServer,
  Notifier,
  TransferOffload,
  ZoneTransfers,
  journalLimits,
  laterSerial,
  oversizedDatagrams,
  peerSerials,
} from '../dns/index.js';
import { ConfigError, formatConfigProblem } from '../errors.js';
import { HttpApi } from '../http/index.js';
import type { Logger } from '../log.js';
import { createLogger } from '../log.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { sourceKey } from '../pipeline/sources.js';
import { Metrics } from '../metrics.js';
import { ZoneStore } from '../store.js';
import { errorText } from '../cli/failure.js';
import { listenerAddresses, resolveListen, resolveListenAt } from '../cli/listen.js';
import { VERSION } from '../cli/version.js';
import { DnsSettingsMaker } from './forwarding.js';
import { Listeners, startListener } from './listeners.js';
import type { Rebound } from './listeners.js';
import { healthDetails, logQuery, refusalLogger } from './observe.js';
import { Reloader } from './reload.js';
import { transferSettings } from './transfers.js';
import type { TransferSetup } from './transfers.js';

/** How long the secondaries are given at start to say which serial they hold. */
const PEER_SERIAL_TIMEOUT_MS = 2000;

/** How long a graceful stop may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

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
  // The differences IXFR answers from (none while nobody may transfer: journalLimits).
  store.journal?.setLimits(journalLimits(config.transfer));
  const firstListen = await resolveListenAt('dns.listen', config.dns.listen);
  let nsIps = listenerAddresses(firstListen);
  const logRefusal = refusalLogger(logger, 'HTTP clients turned away (mesodns_http_refused_total)');
  const logTcpRefusal = refusalLogger(
    logger,
    'DNS TCP connections closed by a limit (mesodns_dns_tcp_refused_total)',
  );
  const metrics: Metrics = new Metrics({
    version: VERSION,
    sources: {
      dataAgeMs: () => pipeline.dataAgeMs(),
      zoneSerial: () => store.current?.zone.serial,
      zoneCounts: () => store.current?.zone,
      zoneJournal: () => store.journal,
      leaderChanges: () => pipeline.leaderChanges(),
      cache: () => settingsMaker.cache,
      upstreamHealth: () => settings.forwarder?.health(),
      forwardInFlight: () => settings.forwarder?.inFlight,
      stream: () => pipeline.streamStats(),
      udpOversized: oversizedDatagrams,
      carry: () => {
        const { carriedAgents, carriedTasks, carryingSince } = pipeline.stats;
        return { agents: carriedAgents, tasks: carriedTasks, since: carryingSince };
      },
      health: () => ({
        excludedTasks: pipeline.stats.healthExcludedTasks,
        failOpenApps: pipeline.stats.healthFailOpenApps,
      }),
      workerRestarts: () => pipeline.workerStatus().restarts,
      workerHeap: () => pipeline.workerHeap(),
      zookeeper: () => pipeline.zookeeper(),
      transfersRunning: () => transfers.running,
      notifyPending: () => notifier.pending,
      transferWorkerUp: () => (offload.available ? 1 : 0),
      transferWorkerRestarts: () => offload.restarts,
    },
  });
  // Zone transfers to secondaries (transfer.*): nobody may transfer until transfer.allow says;
  // the transfer.notify secondaries are told of every new serial.
  const transferSetup = transferSettings(config, configFile);
  // The transfer messages are made in a worker thread, which follows the store's changes; it
  // starts once transfer.allow names someone (here or at a reload).
  const offload = new TransferOffload({
    logger,
    source: { zone: () => store.zone(), journal: () => store.journal },
  });
  store.onChange = (change) => {
    if (change.type === 'install') offload.installed(change.zone, change.diff);
    else offload.applied(change.changeset);
  };
  if (config.transfer.allow.length > 0) offload.start();
  const transfers = new ZoneTransfers(transferSetup.transfers, {
    logger,
    now: () => systemClock.now(),
    onTransfer: (event) => {
      metrics.onTransfer(event);
    },
    journal: (serial) => store.journal?.since(serial),
    offload,
  });
  const notifier = new Notifier(transferSetup.notify, logger, (event) => {
    metrics.onNotify(event);
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
      if (facts.update !== undefined) metrics.onZoneUpdate(facts.buildMs, facts.update);
      const zone = store.zone();
      if (facts.changed && zone !== undefined) notifier.serialChanged(zone);
    },
    onUpdateFallback: (reason) => {
      metrics.onUpdateFallback(reason);
    },
  });
  const settingsMaker: DnsSettingsMaker = new DnsSettingsMaker(logger, (stats) =>
    metrics.forwardObserver(stats),
  );
  let settings: DnsSettings = await settingsMaker.make(config, firstListen);
  const onQuery = (event: QueryEvent): void => {
    metrics.onQuery(event);
    if (config.log.queries) logQuery(logger, event);
  };
  const newDns = (address: HostPort, batchedUdp: boolean): DnsServer =>
    new DnsServer({
      listen: address,
      settings,
      zone: () => store.zone(),
      logger,
      onQuery,
      batchedUdp,
      transfers,
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
      dnsListening: () => listeners.dns.listening,
      healthDetails: () => healthDetails(config, pipeline),
      configFacts: () => ({
        file: resolve(configFile),
        resolvers: settings.forwarder?.upstreamsFor('.') ?? [],
      }),
      metrics: (names) => metrics.scrape(names),
      maxConnections: () => config.http.maxConnections,
      onRefused: (reason) => {
        metrics.onHttpRefused(reason);
        logRefusal(reason);
      },
    });
  try {
    await pipeline.prepare(config);
  } catch (err) {
    await pipeline.close();
    throw err;
  }
  const listeners = new Listeners<DnsServer, HttpApi>(
    { newDns, newHttp, resolve: resolveListen, logger },
    config,
    firstListen,
    config.http.enabled ? await resolveListenAt('http.listen', config.http.listen) : undefined,
  );
  await startListener(() => listeners.dns.start(), 'dns.listen', listeners.listen);
  const { http, httpListen } = listeners;
  if (http !== undefined && httpListen !== undefined) {
    await startListener(() => http.start(), 'http.listen', httpListen);
  }
  const addresses = (): { dns: string; http: string } => {
    const { listen, dns, http: api, httpListen: at } = listeners;
    return {
      dns: `${listen.host}:${String(dns.port)}`,
      http: at === undefined ? 'off' : `${at.host}:${String(api?.port ?? 0)}`,
    };
  };
  const udp = listeners.dns.udpEngine;
  if (config.dns.batchedUdp && udp.reason !== undefined) {
    logger.warn("batched UDP unavailable, serving UDP with Node's dgram", { reason: udp.reason });
  }
  logger.info('mesodns started', {
    version: VERSION,
    dns: addresses().dns,
    udp: udp.engine,
    http: addresses().http,
    domain: config.domain,
  });
  // The zone's serial goes beyond the one the secondaries hold: a restarted mesodns starts from
  // the clock, which its changesets may have run ahead of, and a secondary keeps a copy whose
  // serial is later than the primary's (RFC 1982).
  const held = await peerSerials(
    config.transfer.notify,
    `${config.domain}.`,
    PEER_SERIAL_TIMEOUT_MS,
  );
  const floor = held.reduce<number | undefined>(
    (a, s) => (a === undefined ? s : laterSerial(a, s)),
    undefined,
  );
  if (floor !== undefined)
    logger.info('secondaries hold serial', { serial: floor, secondaries: held.length });
  pipeline.start(floor);

  // A SIGHUP re-reads the config file and applies it whole or not at all (reload.ts).
  let nextTransfers: TransferSetup | undefined;
  const reloader = new Reloader<Config, boolean, Rebound<DnsServer, HttpApi>>(
    {
      current: () => config,
      read: () => {
        const parsed = loadConfigWithWarnings(configFile);
        for (const w of parsed.warnings) {
          logger.warn('configuration warning', { problem: formatConfigProblem(configFile, w) });
        }
        // Key files are read here, so that one that cannot be read rejects the reload.
        nextTransfers = transferSettings(parsed.config, configFile);
        return parsed.config;
      },
      prepare: async (previous, next) => {
        if (sourceKey(previous) === sourceKey(next)) return false;
        await pipeline.prepare(next);
        return true;
      },
      rebind: (previous, next) => listeners.rebind(previous, next),
      discard: (isSourceChanged) => {
        if (isSourceChanged) pipeline.discard();
      },
      commit: async (previous, next, isSourceChanged, rebound) => {
        // Queries in flight keep the settings they started with.
        if (JSON.stringify(previous.log) !== JSON.stringify(next.log)) {
          baseLogger = createLogger(next.log);
        }
        if (rebound.dns !== undefined) nsIps = listenerAddresses(rebound.dns.listen);
        const oldForwarder = settings.forwarder;
        config = next;
        if (nextTransfers !== undefined) {
          transfers.update(nextTransfers.transfers);
          store.journal?.setLimits(journalLimits(next.transfer));
          offload.setLimits(journalLimits(next.transfer));
          if (next.transfer.allow.length > 0) offload.start();
          notifier.update(nextTransfers.notify);
        }
        settings = await settingsMaker.make(next, rebound.dns?.listen ?? listeners.listen);
        // The listener kept or replaced gets the settings, and so does a new one.
        const kept = listeners.dns;
        kept.update(settings);
        const closed = listeners.adopt(rebound);
        if (listeners.dns !== kept) listeners.dns.update(settings);
        // Let queries in flight on the old forwarder finish before closing it.
        setTimeout(() => oldForwarder?.close(), previous.forward.timeoutMs + 100).unref();
        // The new source replaces the old one, or the running source loads again at once.
        await pipeline.commit(next, nsIps, isSourceChanged);
        await closed;
      },
    },
    (outcome) => {
      if (outcome.result === 'applied') {
        metrics.onConfigReload(true);
        logger.info('configuration reloaded', { file: configFile, ...addresses() });
      } else if (outcome.result === 'failed') {
        logger.error('configuration reload failed', { error: errorText(outcome.error) });
      } else if (outcome.stage === 'config') {
        metrics.onConfigReload(false);
        const err = outcome.error;
        logger.error('configuration rejected; keeping the running one', {
          file: configFile,
          problems: err instanceof ConfigError ? describeConfigError(err) : errorText(err),
        });
      } else {
        metrics.onConfigReload(false);
        logger.error('configuration rejected: cannot bind its listeners; keeping the running one', {
          file: configFile,
          error: errorText(outcome.error),
        });
      }
    },
  );

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
        await offload.close();
        notifier.close();
        await listeners.close();
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
      reloader.request();
    });
  });
}
