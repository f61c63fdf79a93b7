/**
 * The failover rule (the sanity guard, `mesos.failover`): whether a new state is published or
 * held back while the last good zone is served. A state in which most agents, frameworks or
 * tasks are malformed (a master bug, a proxy that mangles the body, a schema change) would turn
 * healthy services into NXDOMAIN: it is held back when it also keeps fewer than `minRetained` (a
 * share) of the tasks the served zone has, until a sound state comes or `maxHold` passed. A
 * cluster that really shrinks has sound entries and is published at once, however much it
 * lost. Leader changes do not need a hold: the sources carry the agents a new leader lacks
 * (mesos/carry-over.ts).
 *
 * `sanityVerdict` is the rule (pure); `sanityGuard` applies it to a loaded state, keeps the
 * hold's counters and logs a hold once when it starts and once when it ends.
 */
import type { Config } from '../config/index.js';
import { formatDuration } from '../duration.js';
import type { Logger } from '../log.js';
import type { LoadInfo, ParsedState } from '../mesos/index.js';
import type { RecordSet } from '../records/index.js';

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

/** The sanity guard's rule (pure; see the module comment). */
export function sanityVerdict(input: SanityInput): SanityVerdict {
  const { servedTasks, tasks, minRetained, maxHoldMs, heldForMs } = input;
  if (servedTasks === undefined || servedTasks === 0 || minRetained <= 0) return 'publish';
  if (tasks >= minRetained * servedTasks) return 'publish';
  const { agents, frameworks, taskEntries } = input;
  if (![agents, frameworks, taskEntries].some(isMostlyMalformed)) return 'publish';
  if (heldForMs !== undefined && heldForMs >= maxHoldMs) return 'publish-after-hold';
  return 'hold';
}

/** The hold's counters (part of the loader's stats, `LoaderStats`). */
export interface HoldStats {
  /** States held back, in all. */
  heldLoads: number;
  /** Since when the current hold lasts (ms since the epoch), undefined when none. */
  holdingSince: number | undefined;
}

/** One state for `sanityGuard`. */
export interface GuardInput {
  readonly parsed: ParsedState;
  /** The records generated from it. */
  readonly records: RecordSet;
  readonly info: LoadInfo;
  /** Running tasks with records in the zone served (undefined before the first load). */
  readonly servedTasks: number | undefined;
  readonly failover: Config['mesos']['failover'];
  /** Now, ms since the epoch. */
  readonly now: number;
}

/**
 * Applies `sanityVerdict` to a state: returns whether to publish it. A hold is counted in
 * `hold` and logged once when it starts (error) and once when it ends.
 */
export function sanityGuard(input: GuardInput, hold: HoldStats, logger: Logger): boolean {
  const { parsed, records, info, servedTasks, now } = input;
  const { minRetained, maxHoldMs } = input.failover;
  const since = hold.holdingSince;
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
  const sanity: SanityInput = {
    servedTasks,
    tasks,
    agents: { parsed: state.agents.length, skipped: report.skippedAgents },
    frameworks: { parsed: state.frameworks.length, skipped: report.skippedFrameworks },
    // Tasks whose names cannot be made (empty labels) are as broken as unreadable ones.
    taskEntries: { parsed: taskEntries + report.skippedTasks - broken, skipped: broken },
    minRetained,
    maxHoldMs,
    heldForMs: since === undefined ? undefined : now - since,
  };
  const verdict = sanityVerdict(sanity);
  const fields = {
    origin: info.origin,
    tasks,
    servedTasks,
    skippedAgents: report.skippedAgents,
    skippedFrameworks: report.skippedFrameworks,
    skippedTasks: sanity.taskEntries.skipped,
    minRetained,
    maxHold: formatDuration(maxHoldMs),
    ...(report.problems[0] === undefined ? {} : { firstProblem: report.problems[0] }),
  };
  if (verdict === 'hold') {
    hold.heldLoads++;
    if (since === undefined) {
      hold.holdingSince = now;
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
    hold.holdingSince = undefined;
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
