/**
 * The load pipeline: a validated state goes through host resolution (edge I/O), the pure record
 * generator and the zone compiler into the store. A failed load keeps the last good zone, and so
 * does a suspicious one: a state in which most entries are malformed and that would drop most
 * tasks is held back (`mesos.failover`, see `sanityVerdict`). Leader changes do not need a hold:
 * the sources carry the agents a new leader lacks (mesos/carry-over.ts). Failures are logged once
 * per change of error, not once per poll.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { formatDuration } from '../duration.js';
import type { MesosDnsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HostLookup, LoadInfo, ParsedState, State, StateListener } from '../mesos/index.js';
import { hostnamesOf, resolveHosts } from '../mesos/index.js';
import type { GeneratorOptions, RecordSet } from '../records/index.js';
import { generateRecords } from '../records/index.js';
import type { ZoneStore } from '../store.js';

/** Counters of the pipeline, for metrics and `/ready`. */
export interface LoaderStats {
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
  /** States held back by the sanity guard (`sanityVerdict`), in all. */
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
  /** Why a state was held: `malformed` (the sanity guard, `sanityVerdict`). */
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

/** Entries of one kind in a state: those kept and those skipped as malformed. */
export interface EntryCounts {
  readonly parsed: number;
  readonly skipped: number;
}

/** Inputs of the sanity guard for one state. */
export interface SanityInput {
  /** Running tasks with records in the zone served now (undefined before the first load). */
  readonly servedTasks: number | undefined;
  /** Running tasks with records in the new state. */
  readonly tasks: number;
  /** The new state's agents, frameworks and tasks, kept and skipped. */
  readonly agents: EntryCounts;
  readonly frameworks: EntryCounts;
  readonly taskEntries: EntryCounts;
  /** `mesos.failover.minRetained`. */
  readonly minRetained: number;
  /** `mesos.failover.maxHoldMs`. */
  readonly maxHoldMs: number;
  /** How long states have been held back so far, undefined when none is. */
  readonly heldForMs: number | undefined;
}

/** What to do with a state: publish it, or keep serving the previous zone. */
export type SanityVerdict =
  | 'publish'
  /** Held back: most of its entries of some kind are malformed and it lost most tasks. */
  | 'hold'
  /** Published although it still looks broken: states were held for `maxHold` already. */
  | 'publish-after-hold';

/** Whether most entries of a kind were skipped as malformed. */
function isMostlyMalformed(c: EntryCounts): boolean {
  return c.skipped > 0 && c.skipped >= c.parsed;
}

/**
 * The sanity guard (pure). A state in which most agents, frameworks or tasks are malformed (a
 * master bug, a proxy that mangles the body, a schema change) would turn healthy services into
 * NXDOMAIN: it is held back when it also keeps fewer than `minRetained` (a share) of the tasks the
 * served zone has, until a sound state comes or `maxHoldMs` passed. A cluster that really shrinks
 * has sound entries and is published at once, however much it lost. (Leader changes are the
 * carry-over's business, mesos/carry-over.ts: agents the new leader lacks keep their tasks.)
 */
export function sanityVerdict(input: SanityInput): SanityVerdict {
  const { servedTasks, tasks, minRetained, maxHoldMs, heldForMs } = input;
  if (servedTasks === undefined || servedTasks === 0 || minRetained <= 0) return 'publish';
  if (tasks >= minRetained * servedTasks) return 'publish';
  const { agents, frameworks, taskEntries } = input;
  if (![agents, frameworks, taskEntries].some(isMostlyMalformed)) return 'publish';
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
  /** Called once per state load, for metrics. */
  readonly onLoad?: (event: LoadEvent) => void;
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
  };
}

/** Turns states into published zones. Implements the sources' listener. */
export class Loader implements StateListener {
  readonly #options: LoaderOptions;
  readonly stats: LoaderStats = emptyLoaderStats();
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
      nsName: config.dns.soa.mname,
      nsIps: nsIps(),
      masters,
      hostIps,
    };
  }

  /** Applies `sanityVerdict`; logs a hold once when it starts and once when it ends. */
  #passesSanityGuard(parsed: ParsedState, records: RecordSet, info: LoadInfo): boolean {
    const { config: getConfig, logger, clock } = this.#options;
    const { minRetained, maxHoldMs } = getConfig().mesos.failover;
    const now = clock.now();
    const since = this.stats.holdingSince;
    const tasks = records.stats.tasks;
    const { state, report } = parsed;
    const taskEntries = state.frameworks.reduce((n, fw) => n + fw.tasks.length, 0);
    // A running task on an agent the state does not know is as broken as an unreadable one
    // (Mesos lists no task of an unknown agent): it would silently lose its names.
    const agentIds = new Set(state.agents.map((a) => a.id));
    let orphans = 0;
    for (const fw of state.frameworks) {
      for (const task of fw.tasks) {
        if (task.state === 'TASK_RUNNING' && !agentIds.has(task.agentId)) orphans++;
      }
    }
    const broken = report.skippedTasks + records.stats.skippedTasks + orphans;
    const input: SanityInput = {
      servedTasks: this.#servedTasks,
      tasks,
      agents: { parsed: state.agents.length, skipped: report.skippedAgents },
      frameworks: { parsed: state.frameworks.length, skipped: report.skippedFrameworks },
      // Tasks whose names cannot be made (empty labels) are as broken as unreadable ones.
      taskEntries: { parsed: taskEntries + report.skippedTasks - broken, skipped: broken },
      minRetained,
      maxHoldMs,
      heldForMs: since === undefined ? undefined : now - since,
    };
    const verdict = sanityVerdict(input);
    const fields = {
      origin: info.origin,
      tasks,
      servedTasks: this.#servedTasks,
      skippedAgents: report.skippedAgents,
      skippedFrameworks: report.skippedFrameworks,
      skippedTasks: input.taskEntries.skipped,
      minRetained,
      maxHold: formatDuration(maxHoldMs),
      ...(report.problems[0] === undefined ? {} : { firstProblem: report.problems[0] }),
    };
    if (verdict === 'hold') {
      this.stats.heldLoads++;
      if (since === undefined) {
        this.stats.holdingSince = now;
        logger.error(
          'state held back: most of its entries are malformed and it would drop most served tasks; serving the last good zone (mesos.failover)',
          fields,
        );
      } else {
        logger.debug('still holding back a malformed state', fields);
      }
      return false;
    }
    if (since !== undefined) {
      this.stats.holdingSince = undefined;
      if (verdict === 'publish-after-hold') {
        logger.warn('publishing a malformed state after mesos.failover.maxHold', {
          ...fields,
          heldMs: now - since,
        });
      } else {
        logger.info('the state is sound again; publishing it', { ...fields, heldMs: now - since });
      }
    }
    return true;
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
