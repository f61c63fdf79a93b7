/**
 * The poller's memory of the state it served, for the carry-over of a later leader change
 * (carry-over.ts), packed (issue #20): its agents and frameworks as they are, and the running
 * tasks of each agent as deflated JSON. At 100k tasks that is about 9 MB instead of about
 * 100 MB of task objects kept between polls (and during the next one); it is unpacked only
 * when the leader changes, the only time the carry-over reads it.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Agent, Framework, Pid, State, Task } from './types.js';
import { trimStatuses } from './compact.js';

const TASK_RUNNING = 'TASK_RUNNING';

/** What `carryableView` keeps of a served state, packed; `unpack` gives it back. */
export class PackedView {
  readonly #leader: Pid | undefined;
  readonly #agents: readonly Agent[];
  /** The frameworks, without their tasks. */
  readonly #frameworks: readonly Framework[];
  /** The running tasks of each agent, as deflated JSON (agents without any are absent). */
  readonly #tasks: ReadonlyMap<string, Buffer>;

  private constructor(
    leader: Pid | undefined,
    agents: readonly Agent[],
    frameworks: readonly Framework[],
    tasks: ReadonlyMap<string, Buffer>,
  ) {
    this.#leader = leader;
    this.#agents = agents;
    this.#frameworks = frameworks;
    this.#tasks = tasks;
  }

  /**
   * Packs what a later leader change may need of `state` (`carryableView`): its agents, its
   * frameworks, and their running tasks, each with its latest running status only (tasks of
   * agents the state does not list are never carried, and are left out).
   */
  static of(state: State): PackedView {
    const agents = new Set(state.agents.map((a) => a.id));
    const byAgent = new Map<string, Task[]>();
    for (const fw of state.frameworks) {
      for (const task of fw.tasks) {
        if (task.state !== TASK_RUNNING || !agents.has(task.agentId)) continue;
        let list = byAgent.get(task.agentId);
        if (list === undefined) {
          list = [];
          byAgent.set(task.agentId, list);
        }
        list.push(task);
      }
    }
    const packed = new Map<string, Buffer>();
    for (const [agentId, tasks] of byAgent) {
      const json = JSON.stringify(tasks.map(latestOnly));
      packed.set(agentId, deflateRawSync(json, { level: 1 }));
    }
    const frameworks = state.frameworks.map((fw) => ({ ...fw, tasks: [] }));
    return new PackedView(state.leader, state.agents, frameworks, packed);
  }

  /** The state packed: each framework's running tasks, agent by agent, as `carryableView` has them. */
  unpack(): State {
    const tasksOf = new Map<string, Task[]>();
    for (const fw of this.#frameworks) tasksOf.set(fw.id, []);
    const orphans: Task[] = [];
    for (const agent of this.#agents) {
      const packed = this.#tasks.get(agent.id);
      if (packed === undefined) continue;
      const list: unknown = JSON.parse(inflateRawSync(packed).toString('utf8'));
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        const task = revive(item);
        (tasksOf.get(task.frameworkId) ?? orphans).push(task);
      }
    }
    const frameworks = this.#frameworks.map((fw) => ({ ...fw, tasks: tasksOf.get(fw.id) ?? [] }));
    // Tasks of a framework the state did not list: one framework holding them, nameless.
    if (orphans.length > 0) {
      frameworks.push({ id: '', name: '', pid: undefined, hostname: '', tasks: orphans });
    }
    return { leader: this.#leader, agents: this.#agents, frameworks };
  }
}

/** `task` with the latest running status only (`carryableView`). */
function latestOnly(task: Task): Task {
  const statuses = trimStatuses(task.statuses);
  return statuses === task.statuses ? task : { ...task, statuses };
}

/**
 * A task back from its JSON (which `PackedView.of` wrote from a valid `Task`): the fields that
 * JSON leaves out when undefined are put back, so that it is the task that was packed.
 */
function revive(v: unknown): Task {
  // Not remote data: the JSON of a Task, written by `PackedView.of` in this process.
  const o = v as Task;
  return {
    id: o.id,
    name: o.name,
    frameworkId: o.frameworkId,
    agentId: o.agentId,
    state: o.state,
    statuses: o.statuses.map((s) => ({ ...s, healthy: s.healthy })),
    ports: o.ports,
    discovery: o.discovery ?? undefined,
    container: o.container ?? undefined,
  };
}
