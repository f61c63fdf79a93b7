/**
 * The load pipeline: a validated state goes through host resolution (edge I/O), the pure record
 * generator and the zone compiler into the store. A failed load keeps the last good zone.
 * Failures are logged once per change of error, not once per poll.
 */
import type { Clock } from './clock.js';
import type { Config } from './config/index.js';
import type { MesosDnsError } from './errors.js';
import type { Logger } from './log.js';
import type { HostLookup, LoadInfo, ParsedState, StateListener } from './mesos/index.js';
import { hostnamesOf, resolveHosts } from './mesos/index.js';
import { generateRecords } from './records/index.js';
import type { ZoneStore } from './store.js';

/** Counters of the pipeline, for metrics and `/ready`. */
export interface LoaderStats {
  loads: number;
  failures: number;
  lastError: string | undefined;
  lastLoadMs: number;
  lastSkippedTasks: number;
}

/** Options of `Loader`. */
export interface LoaderOptions {
  readonly config: () => Config;
  readonly store: ZoneStore;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lookup: HostLookup;
  /** Addresses of record N1 (the DNS listener's addresses). */
  readonly nsIps: () => readonly string[];
  /** Called after every successful publish. */
  readonly onPublish?: () => void;
}

/** Masters' hosts from the configured URLs (for M2/M3). */
export function masterHosts(config: Config): string[] {
  const hosts: string[] = [];
  for (const m of config.mesos.masters) {
    try {
      hosts.push(new URL(m).hostname.replace(/^\[|\]$/g, ''));
    } catch {
      // Validated by the config loader; ignore anything odd.
    }
  }
  return hosts;
}

/** Turns states into published zones. Implements the sources' listener. */
export class Loader implements StateListener {
  readonly #options: LoaderOptions;
  readonly stats: LoaderStats = {
    loads: 0,
    failures: 0,
    lastError: undefined,
    lastLoadMs: 0,
    lastSkippedTasks: 0,
  };
  #lastState: ParsedState | undefined;
  #lastHostIps: ReadonlyMap<string, readonly string[]> = new Map();

  constructor(options: LoaderOptions) {
    this.#options = options;
  }

  async onState(parsed: ParsedState, info: LoadInfo): Promise<void> {
    const { config: getConfig, clock, lookup } = this.#options;
    const config = getConfig();
    const started = clock.now();
    const masters = masterHosts(config);
    const hostIps = await resolveHosts(
      hostnamesOf(parsed.state, masters),
      lookup,
      Math.min(2000, config.mesos.timeoutMs),
    );
    this.#lastState = parsed;
    this.#lastHostIps = hostIps;
    this.#publish(parsed, hostIps, info, started);
  }

  /** Rebuilds the zone from the last state with the current config (after a config reload). */
  rebuild(): void {
    const parsed = this.#lastState;
    if (parsed === undefined) return;
    this.#publish(parsed, this.#lastHostIps, undefined, this.#options.clock.now());
  }

  #publish(
    parsed: ParsedState,
    hostIps: ReadonlyMap<string, readonly string[]>,
    info: LoadInfo | undefined,
    started: number,
  ): void {
    const { config: getConfig, store, logger, clock, nsIps } = this.#options;
    const config = getConfig();
    const records = generateRecords(parsed.state, {
      domain: config.domain,
      ipSources: config.records.ipSources,
      enforceRFC952: config.records.enforceRFC952,
      nsName: config.dns.soa.mname,
      nsIps: nsIps(),
      masters: masterHosts(config),
      hostIps,
    });
    const snapshot = store.publish(
      records,
      { ttl: config.records.ttl, srvWeight: config.records.srvWeight, soa: config.dns.soa },
      clock.now(),
    );
    const tookMs = clock.now() - started;
    const skipped = parsed.report.skippedTasks + records.stats.skippedTasks;
    if (this.stats.lastError !== undefined)
      logger.info('state loads again', { origin: info?.origin });
    this.stats.loads++;
    this.stats.lastError = undefined;
    this.stats.lastLoadMs = tookMs;
    this.stats.lastSkippedTasks = skipped;
    const fields = {
      origin: info?.origin ?? 'rebuild',
      tasks: records.stats.tasks,
      records: records.stats.records,
      names: snapshot.zone.names,
      serial: snapshot.zone.serial,
      skippedTasks: skipped,
      buildMs: Math.round(tookMs),
    };
    if (snapshot.changed) logger.info('zone published', fields);
    else logger.debug('zone unchanged', fields);
    for (const p of parsed.report.problems) logger.debug('skipped state entry', { problem: p });
    this.#options.onPublish?.();
  }

  onFailure(error: MesosDnsError): void {
    this.stats.failures++;
    const message = `${error.code}: ${error.message}`;
    if (message !== this.stats.lastError) {
      this.#options.logger.warn('state load failed; serving the last good zone', {
        code: error.code,
        error: error.message,
        hasZone: this.#options.store.current !== undefined,
      });
    }
    this.stats.lastError = message;
  }
}
