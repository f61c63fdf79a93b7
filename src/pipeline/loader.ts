/**
 * The load pipeline: a validated state goes through host resolution (edge I/O), the pure record
 * generator and the zone compiler into the store. A failed load keeps the last good zone, and so
 * does a suspicious one: a state in which most entries are malformed and that would drop most
 * tasks is held back (`mesos.failover`, the failover rule of failover.ts). Leader changes do not
 * need a hold: the sources carry the agents a new leader lacks (mesos/carry-over.ts). Failures
 * are logged once per change of error, not once per poll.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { MesosDnsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HostLookup, LoadInfo, ParsedState, State, StateListener } from '../mesos/index.js';
import { hostnamesOf, resolveHosts } from '../mesos/index.js';
import type { GeneratorOptions, HealthStats, RecordSet, ReverseOptions } from '../records/index.js';
import { reverseApexes } from '../net/reverse.js';
import { generateRecords } from '../records/index.js';
import { sanityGuard } from './failover.js';
import { HealthReport } from './health.js';
import type { HealthCounters } from './health.js';
import type { ZonePublisher } from './publisher.js';

/** Counters of the pipeline, for metrics and `/ready`. */
export interface LoaderStats extends HealthCounters {
  loads: number;
  failures: number;
  lastError: string | undefined;
  lastLoadMs: number;
  lastSkippedTasks: number;
  /**
   * When the state behind the zone served was published (ms since the epoch); its data age is
   * now - this.
   */
  lastPublishAt: number | undefined;
  /** States held back by the sanity guard (failover.ts), in all. */
  heldLoads: number;
  /** Since when the current hold lasts (ms since the epoch), undefined when none. */
  holdingSince: number | undefined;
  /** Agents and tasks the source carries over a leader change into the state served. */
  carriedAgents: number;
  carriedTasks: number;
  /** Since when the oldest carried agent is carried (ms since the epoch), undefined when none. */
  carryingSince: number | undefined;
}

/** What happened to one state load, for metrics (`LoaderOptions.onLoad`). */
export interface LoadEvent {
  /** `published`, `held` (by the sanity guard, the served zone kept) or `failed`. */
  readonly result: 'published' | 'held' | 'failed';
  /** Why a state was held: `malformed` (the sanity guard, failover.ts). */
  readonly reason?: 'malformed';
  /** Fetch (and parse) time of the state, from its source. */
  readonly fetchMs?: number;
  /** Size of the state document. */
  readonly bytes?: number;
  /** Time from receiving the state to serving its zone (lookups, records, compilation). */
  readonly buildMs?: number;
  readonly tasks?: number;
  readonly skippedTasks?: number;
  readonly records?: number;
  readonly names?: number;
}

/** Options of `Loader`. */
export interface LoaderOptions {
  readonly config: () => Config;
  /** Where zones are published (the worker's). */
  readonly store: ZonePublisher;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lookup: HostLookup;
  /** Addresses of record N1 (the DNS listener's addresses). */
  readonly nsIps: () => readonly string[];
  /** Called after every successful publish. */
  readonly onPublish?: () => void;
  /**
   * Called with every state about to be published, the records generated from it and the
   * generator options used (before the store compiles them): the base of incremental updates.
   * It may return an equal record set to publish instead (e.g. a copy in shared memory).
   */
  readonly onBase?: (
    state: State,
    records: RecordSet,
    options: GeneratorOptions,
  ) => RecordSet | undefined;
  /** Called once per state load, for metrics. */
  readonly onLoad?: (event: LoadEvent) => void;
}

/** The generator's `reverse` option from `records.reverse` (undefined when off). */
export function reverseOptions(config: Config): ReverseOptions | undefined {
  const { enabled, zones } = config.records.reverse;
  return enabled ? { zones: reverseApexes(zones) } : undefined;
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

/** Counters of a loader that has not loaded anything yet. */
export function emptyLoaderStats(): LoaderStats {
  return {
    loads: 0,
    failures: 0,
    lastError: undefined,
    lastLoadMs: 0,
    lastSkippedTasks: 0,
    lastPublishAt: undefined,
    heldLoads: 0,
    holdingSince: undefined,
    carriedAgents: 0,
    carriedTasks: 0,
    carryingSince: undefined,
    healthExcludedTasks: 0,
    healthFailOpenApps: 0,
  };
}

/** Turns states into published zones. Implements the sources' listener. */
export class Loader implements StateListener {
  readonly #options: LoaderOptions;
  readonly stats: LoaderStats = emptyLoaderStats();
  /** Running tasks with records in the zone served. */
  #servedTasks: number | undefined;
  readonly #health: HealthReport;

  constructor(options: LoaderOptions) {
    this.#options = options;
    this.#health = new HealthReport(options.logger, this.stats);
  }

  /**
   * The health rule's counters of the zone served changed without a full build (stream mode: the
   * incremental updater's after a batch).
   */
  noteHealth(health: HealthStats | undefined): void {
    this.#health.update(health);
  }

  async onState(parsed: ParsedState, info: LoadInfo): Promise<void> {
    const { config: getConfig, clock, lookup } = this.#options;
    const config = getConfig();
    const started = clock.now();
    const masters = info.masters ?? masterHosts(config);
    const hostIps = await resolveHosts(
      hostnamesOf(parsed.state, masters),
      lookup,
      Math.min(2000, config.mesos.timeoutMs),
    );
    const options = this.#generatorOptions(hostIps, masters);
    const records = generateRecords(parsed.state, options);
    if (!this.#passesSanityGuard(parsed, records, info)) {
      this.#options.onLoad?.({
        result: 'held',
        reason: 'malformed',
        fetchMs: info.fetchMs,
        bytes: info.bytes,
      });
      return;
    }
    this.stats.carriedAgents = info.carry?.agents ?? 0;
    this.stats.carriedTasks = info.carry?.tasks ?? 0;
    this.stats.carryingSince = info.carry?.since;
    const served = this.#options.onBase?.(parsed.state, records, options) ?? records;
    this.#publish(parsed, served, info, started);
  }

  /**
   * Marks the served data as current without a new state (stream mode: the master's heartbeat
   * while nothing changed, or an incremental update), for the data age and `/ready`.
   */
  noteFresh(): void {
    if (this.stats.lastPublishAt !== undefined)
      this.stats.lastPublishAt = this.#options.clock.now();
  }

  /** Age of the data served (ms), undefined before the first load. */
  dataAgeMs(): number | undefined {
    const at = this.stats.lastPublishAt;
    return at === undefined ? undefined : this.#options.clock.now() - at;
  }

  #generatorOptions(
    hostIps: ReadonlyMap<string, readonly string[]>,
    masters: readonly string[],
  ): GeneratorOptions {
    const { config: getConfig, nsIps } = this.#options;
    const config = getConfig();
    return {
      domain: config.domain,
      ipSources: config.records.ipSources,
      enforceRFC952: config.records.enforceRFC952,
      addressViews: config.records.addressViews,
      health: { mode: config.records.health, failOpen: config.records.healthFailOpen },
      nsName: config.dns.soa.mname,
      nsIps: nsIps(),
      masters,
      hostIps,
      reverse: reverseOptions(config),
    };
  }

  /** The failover rule (failover.ts): whether to publish the state or hold it back. */
  #passesSanityGuard(parsed: ParsedState, records: RecordSet, info: LoadInfo): boolean {
    const { config, logger, clock } = this.#options;
    return sanityGuard(
      {
        parsed,
        records,
        info,
        servedTasks: this.#servedTasks,
        failover: config().mesos.failover,
        now: clock.now(),
      },
      this.stats,
      logger,
    );
  }

  #publish(parsed: ParsedState, records: RecordSet, info: LoadInfo, started: number): void {
    const { config: getConfig, store, logger, clock } = this.#options;
    const config = getConfig();
    const snapshot = store.publish(
      records,
      { ttl: config.records.ttl, srvWeight: config.records.srvWeight, soa: config.dns.soa },
      clock.now(),
    );
    const tookMs = clock.now() - started;
    const skipped = parsed.report.skippedTasks + records.stats.skippedTasks;
    if (this.stats.lastError !== undefined)
      logger.info('state loads again', { origin: info.origin });
    this.stats.loads++;
    this.stats.lastError = undefined;
    this.stats.lastLoadMs = tookMs;
    this.stats.lastSkippedTasks = skipped;
    this.stats.lastPublishAt = snapshot.loadedAt;
    this.#servedTasks = records.stats.tasks;
    this.#health.update(records.stats.health);
    const fields = {
      origin: info.origin,
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
    this.#options.onLoad?.({
      result: 'published',
      fetchMs: info.fetchMs,
      bytes: info.bytes,
      buildMs: tookMs,
      tasks: records.stats.tasks,
      skippedTasks: skipped,
      records: records.stats.records,
      names: snapshot.zone.names,
    });
    this.#options.onPublish?.();
  }

  onFailure(error: MesosDnsError): void {
    this.stats.failures++;
    this.#options.onLoad?.({ result: 'failed' });
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
