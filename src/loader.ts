/**
 * The load pipeline: a validated state goes through host resolution (edge I/O), the pure record
 * generator and the zone compiler into the store. A failed load keeps the last good zone, and so
 * does a suspicious one: after a master failover the new leader's state can miss most tasks
 * until the agents re-register, and such a state is held back (`mesos.failover`, see
 * `failoverVerdict`). Failures are logged once per change of error, not once per poll.
 */
import type { Clock } from './clock.js';
import type { Config } from './config/index.js';
import { formatDuration } from './config/index.js';
import type { MesosDnsError } from './errors.js';
import type { Logger } from './log.js';
import type { HostLookup, LoadInfo, ParsedState, State, StateListener } from './mesos/index.js';
import { hostnamesOf, resolveHosts } from './mesos/index.js';
import type { GeneratorOptions, RecordSet } from './records/index.js';
import { generateRecords } from './records/index.js';
import type { ZoneStore } from './store.js';

/** Counters of the pipeline, for metrics and `/ready`. */
export interface LoaderStats {
  loads: number;
  failures: number;
  lastError: string | undefined;
  lastLoadMs: number;
  lastSkippedTasks: number;
  /**
   * When the state behind the zone served was published (ms since the epoch); its data age is
   * now - this. A rebuild after a config reload keeps it: the data is as old as before.
   */
  lastPublishAt: number | undefined;
  /** States held back by the failover rule (`mesos.failover`), in all. */
  heldLoads: number;
  /** Since when the current hold lasts (ms since the epoch), undefined when none. */
  holdingSince: number | undefined;
}

/** What happened to one state load, for metrics (`LoaderOptions.onLoad`). */
export interface LoadEvent {
  /** `published`, `held` (by the failover rule, the served zone kept) or `failed`. */
  readonly result: 'published' | 'held' | 'failed';
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

/** Inputs of the failover rule for one state. */
export interface FailoverInput {
  /** Running tasks with records in the zone served now (undefined before the first load). */
  readonly servedTasks: number | undefined;
  /** Running tasks with records in the new state. */
  readonly tasks: number;
  /** Whether the leading master changed since the zone served was loaded. */
  readonly isLeaderChange: boolean;
  /** `mesos.failover.minRetained`. */
  readonly minRetained: number;
  /** `mesos.failover.maxHoldMs`. */
  readonly maxHoldMs: number;
  /** How long states have been held back so far, undefined when none is. */
  readonly heldForMs: number | undefined;
}

/** What to do with a state: publish it, or keep serving the previous zone. */
export type FailoverVerdict =
  | 'publish'
  /** Held back: it lost too many tasks right after a leader change. */
  | 'hold'
  /** Published although it still lacks tasks: it was held for `maxHold` already. */
  | 'publish-after-hold';

/**
 * The failover safety rule (pure). A newly elected Mesos master knows only the agents that
 * re-registered with it, so its first states can miss most tasks; publishing them would make
 * NXDOMAIN out of healthy services. A state is held back when the leader changed since the zone
 * served was loaded and it keeps fewer than `minRetained` (a share) of that zone's running tasks;
 * it is published once it recovers, or anyway after `maxHoldMs` (the tasks may really be gone).
 * Without a leader change every state is published: losing tasks is then real.
 */
export function failoverVerdict(input: FailoverInput): FailoverVerdict {
  const { servedTasks, tasks, isLeaderChange, minRetained, maxHoldMs, heldForMs } = input;
  if (servedTasks === undefined || servedTasks === 0 || minRetained <= 0) return 'publish';
  if (!isLeaderChange || tasks >= minRetained * servedTasks) return 'publish';
  if (heldForMs !== undefined && heldForMs >= maxHoldMs) return 'publish-after-hold';
  return 'hold';
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
  /** Called once per state load (not for rebuilds), for metrics. */
  readonly onLoad?: (event: LoadEvent) => void;
  /**
   * Whether to keep the last state for `rebuild()` (default true). The pipeline worker turns it
   * off: a 100k-task state holds about 160 MB of heap, and after a config change its source
   * loads again at once anyway.
   */
  readonly retainState?: boolean;
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
  };
}

/** Turns states into published zones. Implements the sources' listener. */
export class Loader implements StateListener {
  readonly #options: LoaderOptions;
  readonly stats: LoaderStats = emptyLoaderStats();
  #lastState: ParsedState | undefined;
  #lastHostIps: ReadonlyMap<string, readonly string[]> = new Map();
  /** Master hosts of the last published state (from ZooKeeper), undefined: the config's. */
  #lastMasters: readonly string[] | undefined;
  /** Leader identity of the last published state. */
  #leaderKey: string | undefined;
  /** Running tasks with records in the zone served. */
  #servedTasks: number | undefined;

  constructor(options: LoaderOptions) {
    this.#options = options;
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
    if (!this.#passesFailoverRule(records, info)) {
      this.#options.onLoad?.({ result: 'held', fetchMs: info.fetchMs, bytes: info.bytes });
      return;
    }
    if (this.#options.retainState !== false) this.#lastState = parsed;
    this.#lastHostIps = hostIps;
    this.#lastMasters = info.masters;
    this.#leaderKey = info.leaderKey;
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

  /** Rebuilds the zone from the last state with the current config (after a config reload). */
  rebuild(): void {
    const parsed = this.#lastState;
    if (parsed === undefined) return;
    const masters = this.#lastMasters ?? masterHosts(this.#options.config());
    const options = this.#generatorOptions(this.#lastHostIps, masters);
    const records = generateRecords(parsed.state, options);
    const served = this.#options.onBase?.(parsed.state, records, options) ?? records;
    this.#publish(parsed, served, undefined, this.#options.clock.now());
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
      nsName: config.dns.soa.mname,
      nsIps: nsIps(),
      masters,
      hostIps,
    };
  }

  /** Applies `failoverVerdict`; logs a hold once when it starts and once when it ends. */
  #passesFailoverRule(records: RecordSet, info: LoadInfo): boolean {
    const { config: getConfig, logger, clock } = this.#options;
    const { minRetained, maxHoldMs } = getConfig().mesos.failover;
    const now = clock.now();
    const since = this.stats.holdingSince;
    const tasks = records.stats.tasks;
    const verdict = failoverVerdict({
      servedTasks: this.#servedTasks,
      tasks,
      isLeaderChange:
        info.leaderKey !== undefined &&
        this.#leaderKey !== undefined &&
        info.leaderKey !== this.#leaderKey,
      minRetained,
      maxHoldMs,
      heldForMs: since === undefined ? undefined : now - since,
    });
    const fields = {
      leader: info.leader,
      tasks,
      servedTasks: this.#servedTasks,
      minRetained,
      maxHold: formatDuration(maxHoldMs),
    };
    if (verdict === 'hold') {
      this.stats.heldLoads++;
      if (since === undefined) {
        this.stats.holdingSince = now;
        logger.warn(
          'new Mesos leader sent a state that lost most tasks; keeping the served zone until agents re-register (mesos.failover)',
          fields,
        );
      } else {
        logger.debug('still holding back the new leader state', fields);
      }
      return false;
    }
    if (since !== undefined) {
      this.stats.holdingSince = undefined;
      if (verdict === 'publish-after-hold') {
        logger.warn(
          'publishing the new leader state after mesos.failover.maxHold although tasks are still missing',
          { ...fields, heldMs: now - since },
        );
      } else {
        logger.info('the new leader state recovered; publishing it', {
          ...fields,
          heldMs: now - since,
        });
      }
    }
    return true;
  }

  #publish(
    parsed: ParsedState,
    records: RecordSet,
    info: LoadInfo | undefined,
    started: number,
  ): void {
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
      logger.info('state loads again', { origin: info?.origin });
    this.stats.loads++;
    this.stats.lastError = undefined;
    this.stats.lastLoadMs = tookMs;
    this.stats.lastSkippedTasks = skipped;
    if (info !== undefined) this.stats.lastPublishAt = snapshot.loadedAt;
    this.#servedTasks = records.stats.tasks;
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
    if (info !== undefined) {
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
    }
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
