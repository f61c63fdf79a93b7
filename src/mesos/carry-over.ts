/**
 * Per-agent carry-over after a change of Mesos leader. `CarryOver` is pure (no I/O, no clock, no
 * logging: the caller passes the time); `logCarry` turns its results into log lines.
 *
 * A newly elected master, or a master that restarted in place, knows only the agents that have
 * (re-)registered with it: the others are listed in `recovered_slaves` (v0) / `recovered_agents`
 * (v1), or not at all, and their tasks are missing from its state although they still run. They
 * come back over seconds to minutes (`--agent_reregister_timeout`, 10 minutes by default).
 *
 * The master's view of an agent is the truth once that agent has registered with it. Until then
 * the agent and the running tasks the last served state had on it are carried: added to every
 * state the source delivers, so that their names keep answering. A carried agent is dropped
 * - when it (re-)registers: its tasks are then exactly what the master lists (`reregistered`);
 * - when the master removes it: it leaves `recovered_slaves` without registering, or the stream
 *   reports `AGENT_REMOVED` (marked unreachable or gone) (`removed`);
 * - after `maxHoldMs` (`mesos.failover.maxHold`) without either (`expired`).
 * Without a leader change nothing starts to be carried: an agent that the same leader stops
 * listing was removed, and its tasks go.
 */
import type { Logger } from '../log.js';
import { formatDuration } from '../duration.js';
import type { Agent, Framework, State, Task } from './types.js';

const TASK_RUNNING = 'TASK_RUNNING';

/** Why an agent is carried: listed as recovered by the new master, or not mentioned at all. */
export type CarryReason = 'recovered' | 'unmentioned';

/** Why a carried agent stopped being carried. */
export type CarryEnd = 'reregistered' | 'removed' | 'expired';

const CARRY_ENDS: readonly CarryEnd[] = ['reregistered', 'removed', 'expired'];

/** What the carry-over holds now, for metrics and logs. */
export interface CarryFacts {
  /** Agents carried. */
  readonly agents: number;
  /** Running tasks carried. */
  readonly tasks: number;
  /** When the oldest carried agent started to be carried (ms, the caller's clock). */
  readonly since: number | undefined;
}

/** The outcome of one state. */
export interface CarryResult {
  /** The state to serve: the master's, plus every carried agent and its running tasks. */
  readonly state: State;
  /** Agents this state started to carry (after a leader change). */
  readonly started: { readonly agents: number; readonly tasks: number };
  /** Carried agents this state dropped, by why. */
  readonly ended: Readonly<Record<CarryEnd, number>>;
  /** Carried agents dropped since the carrying began, by why (for the log line at its end). */
  readonly episode: Readonly<Record<CarryEnd, number>>;
  /** Up to 5 ids of the agents dropped after `maxHoldMs`, for the log. */
  readonly expiredIds: readonly string[];
  readonly facts: CarryFacts;
}

interface Carried {
  readonly agent: Agent;
  readonly tasks: readonly Task[];
  readonly since: number;
  reason: CarryReason;
}

/** The running tasks of `state`, by agent id. */
function runningTasksByAgent(state: State): Map<string, Task[]> {
  const byAgent = new Map<string, Task[]>();
  for (const fw of state.frameworks) {
    for (const task of fw.tasks) {
      if (task.state !== TASK_RUNNING) continue;
      let list = byAgent.get(task.agentId);
      if (list === undefined) {
        list = [];
        byAgent.set(task.agentId, list);
      }
      list.push(task);
    }
  }
  return byAgent;
}

/** Carries agents across leader changes (see the module comment). */
export class CarryOver {
  readonly #carried = new Map<string, Carried>();
  /** The frameworks of carried tasks, as the last state before the leader change had them. */
  readonly #frameworks = new Map<string, Framework>();
  /** Carried agents dropped since the carrying began, by why. */
  #episode: Record<CarryEnd, number> = { reregistered: 0, removed: 0, expired: 0 };

  /** What is carried now. */
  facts(): CarryFacts {
    let tasks = 0;
    let since: number | undefined;
    for (const c of this.#carried.values()) {
      tasks += c.tasks.length;
      if (since === undefined || c.since < since) since = c.since;
    }
    return { agents: this.#carried.size, tasks, since };
  }

  /** Whether agent `id` is carried now. */
  isCarried(id: string): boolean {
    return this.#carried.has(id);
  }

  /** When the next carried agent expires (ms, the caller's clock), undefined when none is. */
  nextExpiry(maxHoldMs: number): number | undefined {
    const since = this.facts().since;
    return since === undefined ? undefined : since + maxHoldMs;
  }

  /**
   * Applies the rules to `next`, a state from the master. `previous` is the state served before
   * it (what this returned last time, or the stream's view before a new snapshot); it is only
   * read when `isLeaderChange`.
   */
  apply(
    next: State,
    previous: State | undefined,
    isLeaderChange: boolean,
    nowMs: number,
    maxHoldMs: number,
  ): CarryResult {
    const registered = new Set(next.agents.map((a) => a.id));
    const recovered = new Set(next.recoveredAgentIds ?? []);
    const removed = new Set(next.removedAgentIds ?? []);
    const started = { agents: 0, tasks: 0 };
    if (isLeaderChange && previous !== undefined) {
      const tasksByAgent = runningTasksByAgent(previous);
      for (const agent of previous.agents) {
        if (registered.has(agent.id) || removed.has(agent.id) || this.#carried.has(agent.id)) {
          continue;
        }
        const tasks = tasksByAgent.get(agent.id) ?? [];
        this.#carried.set(agent.id, { agent, tasks, since: nowMs, reason: 'unmentioned' });
        started.agents++;
        started.tasks += tasks.length;
      }
      for (const fw of previous.frameworks) {
        if (!this.#frameworks.has(fw.id)) this.#frameworks.set(fw.id, { ...fw, tasks: [] });
      }
    }
    const ended: Record<CarryEnd, number> = { reregistered: 0, removed: 0, expired: 0 };
    const expiredIds: string[] = [];
    for (const [id, c] of this.#carried) {
      let end: CarryEnd | undefined;
      if (registered.has(id)) end = 'reregistered';
      else if (removed.has(id)) end = 'removed';
      else if (recovered.has(id)) c.reason = 'recovered';
      // Listed as recovered before, and now neither recovered nor registered: the same master
      // removed it (unreachable or gone). A new leader that does not mention it is no news.
      else if (c.reason === 'recovered' && !isLeaderChange) end = 'removed';
      else if (isLeaderChange) c.reason = 'unmentioned';
      if (end === undefined && nowMs - c.since >= maxHoldMs) end = 'expired';
      if (end === undefined) continue;
      ended[end]++;
      if (end === 'expired' && expiredIds.length < 5) expiredIds.push(id);
      this.#carried.delete(id);
    }
    if (this.#carried.size === 0) this.#frameworks.clear();
    for (const end of CARRY_ENDS) this.#episode[end] += ended[end];
    const facts = this.facts();
    const episode = { ...this.#episode };
    if (facts.agents === 0) this.#episode = { reregistered: 0, removed: 0, expired: 0 };
    return { state: this.withCarried(next), started, ended, episode, expiredIds, facts };
  }

  /** `next` plus the carried agents and their tasks (tasks the master lists are not repeated). */
  withCarried(next: State): State {
    if (this.#carried.size === 0) return next;
    const carriedByFramework = new Map<string, Task[]>();
    for (const c of this.#carried.values()) {
      for (const task of c.tasks) {
        let list = carriedByFramework.get(task.frameworkId);
        if (list === undefined) {
          list = [];
          carriedByFramework.set(task.frameworkId, list);
        }
        list.push(task);
      }
    }
    const frameworks: Framework[] = next.frameworks.map((fw) => {
      const carried = carriedByFramework.get(fw.id);
      if (carried === undefined) return fw;
      carriedByFramework.delete(fw.id);
      const listed = new Set(fw.tasks.map((t) => t.id));
      return { ...fw, tasks: [...fw.tasks, ...carried.filter((t) => !listed.has(t.id))] };
    });
    // Frameworks the new master does not know yet (their schedulers re-register too).
    for (const [id, tasks] of carriedByFramework) {
      const fw = this.#frameworks.get(id);
      if (fw !== undefined) frameworks.push({ ...fw, tasks });
    }
    const agents = [...next.agents, ...[...this.#carried.values()].map((c) => c.agent)];
    return { ...next, agents, frameworks };
  }
}

/**
 * Logs what one state did to the carry-over: a warning when agents start to be carried and when
 * some expire, one line when the last carried agent is resolved, debug lines in between.
 */
export function logCarry(logger: Logger, result: CarryResult, maxHoldMs: number): void {
  const { started, ended, episode, expiredIds, facts } = result;
  if (started.agents > 0) {
    logger.warn(
      'the Mesos leader does not list every agent yet; serving the tasks they ran until they re-register (mesos.failover.maxHold)',
      {
        agents: started.agents,
        tasks: started.tasks,
        carriedAgents: facts.agents,
        maxHold: formatDuration(maxHoldMs),
      },
    );
  }
  if (ended.expired > 0) {
    logger.warn(
      'agents did not re-register within mesos.failover.maxHold; their carried tasks are dropped',
      { agents: ended.expired, examples: expiredIds.join(','), maxHold: formatDuration(maxHoldMs) },
    );
  }
  const resolved = ended.reregistered + ended.removed + ended.expired;
  if (resolved === 0) return;
  if (facts.agents === 0) {
    logger.info('every carried agent is resolved; serving the master state as it is', {
      reregistered: episode.reregistered,
      removed: episode.removed,
      expired: episode.expired,
    });
  } else {
    logger.debug('carried agents resolved', { ...ended, carriedAgents: facts.agents });
  }
}
