/**
 * The cluster as the v1 event stream describes it: the SUBSCRIBED snapshot, then every event
 * applied in order (docs/mesos-api.md 3.4). Pure data, no I/O: the stream source feeds it
 * and turns it into a `State` for the loader whenever a batch of events changed it.
 *
 * Rules:
 * - `TASK_ADDED` stores the task (usually `TASK_STAGING` without addresses; also sent again when
 *   an agent re-registers after a failover, which replaces the stored task).
 * - `TASK_UPDATED` takes the event's `state` (the agent's latest, possibly newer than the status
 *   the scheduler acknowledged) and appends the status, which carries the addresses. Only the
 *   status the generator uses is kept: the latest `TASK_RUNNING` one.
 * - A task in a terminal state is dropped: it never runs again. `TASK_UNREACHABLE` is not
 *   terminal (the agent may come back), it is kept but not running.
 * - Tasks may name an agent or framework not seen yet (events race): they are kept and appear
 *   in the state once their agent and framework are known, as the generator only names tasks of
 *   known agents and frameworks.
 * - `FRAMEWORK_REMOVED` drops the framework and its tasks; `AGENT_REMOVED` drops the agent (its
 *   tasks stop being named; Mesos reports them lost or gone separately).
 * - The snapshot's `recovered_agents` (not re-registered after a failover) are kept until they
 *   register (`AGENT_ADDED`) or are removed; removed agents are remembered until the next
 *   snapshot. Both go to the state for the carry-over (carry-over.ts).
 *
 * The model also knows, by the digest of its slice, each task that a snapshot's slice made and
 * no event changed since (task-digests.ts, `knownTask`): the next snapshot's reader takes those
 * slices as the held tasks, unparsed, and `resetWithChanges` takes a held task given back as
 * unchanged without comparing its facts.
 */
import type { FrameworkInfo, MesosEvent, V1Snapshot } from './v1.js';
import type { Agent, Pid, State, Task } from './types.js';
import { TaskCompactor, trimStatuses } from './compact.js';
import type { KnownTasks } from './task-digests.js';
import { TaskDigests } from './task-digests.js';

const TASK_RUNNING = 'TASK_RUNNING';
/** The most values of each kind the model's compactor shares (see `#compactor`). */
const EVENT_SHARED = 4096;

/** States after which a task never runs again (mesos.proto `TaskState`). */
const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

/** Whether a task in `state` never runs again (terminal, `TASK_LOST` included). */
export function isTerminalState(state: string): boolean {
  return TERMINAL_STATES.has(state);
}

/** What applying one event did. */
export interface Applied {
  /** Whether the records may have changed (anything but a heartbeat or an unknown event). */
  readonly changed: boolean;
  /**
   * A non-terminal `TASK_UPDATED` for a task the model does not hold: the stream missed its
   * `TASK_ADDED` (the caller logs it; the periodic resync repairs such drift).
   */
  readonly unknownTask?: boolean;
  /** The status timestamp (ms since the epoch) of a `TASK_UPDATED`, for propagation latency. */
  readonly statusAtMs?: number;
}

/** A difference between the streamed view and a fresh `GET_STATE` (see `compareWith`). */
export interface Drift {
  /** Running tasks only one side knows, or known to both with other agents or addresses. */
  readonly tasks: number;
  readonly agents: number;
  readonly frameworks: number;
  /** Up to 5 examples, for the log. */
  readonly examples: readonly string[];
}

/**
 * What identifies a running task's records: agent, state, the latest statuses' addresses, the
 * port mappings (which pick the addresses and ports of the address views), and with
 * `withHealth` (`records.health: exclude-unhealthy`, where health changes records) its health.
 */
function taskFacts(task: Task, withHealth: boolean): string {
  // The status the records come from (`trimStatuses`): statuses are not always in time order.
  const latest = trimStatuses(task.statuses);
  const addresses = latest.flatMap((s) => s.networkInfos.flatMap((n) => n.ipAddresses));
  const mappings = (task.container?.portMappings ?? []).map(
    (m) => `${String(m.hostPort)}:${String(m.containerPort)}/${m.protocol}`,
  );
  const mapped = mappings.length > 0 ? `|ports ${mappings.join(',')}` : '';
  const facts = `${task.agentId}|${task.state}|${addresses.join(',')}${mapped}`;
  return withHealth ? `${facts}|healthy=${String(latest[0]?.healthy)}` : facts;
}

/** What a new snapshot changed in the model (`StreamModel.resetWithChanges`). */
export interface SnapshotChanges {
  /**
   * Whether only tasks differ: the agents, frameworks, recovered and removed agents are equal,
   * and no running task names an agent the snapshot lacks (such a state is for the failover
   * rule, which sees whole states only).
   */
  readonly onlyTasks: boolean;
  /**
   * The tasks whose records may differ (other facts, added or gone), by the model's key, with
   * their framework and the task as it was (undefined: new).
   */
  readonly touched: ReadonlyMap<
    string,
    { readonly frameworkId: string; readonly before: Task | undefined }
  >;
}

/** The entries of a map of records as sorted JSON texts (agents, frameworks: a few thousand). */
function fingerprint(map: ReadonlyMap<string, unknown>): string {
  return [...map.values()]
    .map((v) => JSON.stringify(v))
    .sort()
    .join('\n');
}

/** Options of `StreamModel`. */
export interface StreamModelOptions {
  /** Health is part of a task's records (`records.health: exclude-unhealthy`): and of drift. */
  readonly withHealth?: boolean;
}

/** The streamed cluster (see the module comment). */
export class StreamModel implements KnownTasks {
  readonly #agents = new Map<string, Agent>();
  readonly #frameworks = new Map<string, FrameworkInfo>();
  /** Tasks by framework id, then task id (insertion order is the naming order). */
  #tasks = new Map<string, Map<string, Task>>();
  /** The digests of the snapshot slices that made tasks held unchanged since (task-digests.ts). */
  readonly #digests = new TaskDigests();
  /** Last time the stream changed each task (ms, caller's clock), for the resync comparison. */
  readonly #touched = new Map<string, number>();
  #taskCount = 0;
  /**
   * Compacts the tasks events bring (a snapshot's come compacted by its reader); new with every
   * snapshot, and sharing little (its maps live as long as the model).
   */
  #compactor = new TaskCompactor(EVENT_SHARED);
  /** Agents listed as recovered by the snapshot that have not registered since. */
  readonly #recovered = new Set<string>();
  /** Agents removed since the snapshot. */
  readonly #removed = new Set<string>();
  readonly #withHealth: boolean;

  constructor(options: StreamModelOptions = {}) {
    this.#withHealth = options.withHealth === true;
  }

  /**
   * Replaces everything with a snapshot (`SUBSCRIBED` or `GET_STATE`). A task of the snapshot
   * that is the very object held under its key (a slice known by its digest) stays that object,
   * which `resetWithChanges` takes as unchanged; `taskDigests` rebuild the digest index.
   */
  reset(snapshot: V1Snapshot): void {
    this.#recovered.clear();
    this.#removed.clear();
    for (const id of snapshot.recoveredAgentIds) this.#recovered.add(id);
    this.#agents.clear();
    this.#frameworks.clear();
    const held = this.#tasks;
    this.#tasks = new Map();
    this.#digests.clear();
    this.#touched.clear();
    this.#taskCount = 0;
    this.#compactor = new TaskCompactor(EVENT_SHARED);
    for (const agent of snapshot.agents) this.#agents.set(agent.id, agent);
    for (const fw of snapshot.frameworks) this.#frameworks.set(fw.id, fw);
    const digests = snapshot.taskDigests;
    snapshot.tasks.forEach((task, i) => {
      // Task ids are unique per framework in Mesos; a document that repeats one (Mesos-DNS's own
      // fake.json does) keeps every copy, as the poller would. Events reach the first one.
      let key = task.id;
      if (this.#tasks.get(task.frameworkId)?.has(key) === true) {
        let n = 2;
        while (this.#tasks.get(task.frameworkId)?.has(`${task.id}\u0000${String(n)}`) === true) n++;
        key = `${task.id}\u0000${String(n)}`;
      }
      const isHeld = held.get(task.frameworkId)?.get(key) === task;
      const stored = this.#putTask(isHeld ? task : this.#fromSnapshot(task), key);
      const digest = digests?.[i];
      if (digest !== undefined) this.#digests.add(digest, stored);
    });
  }

  /**
   * The task a snapshot slice with this digest makes (task-digests.ts): the held task that such
   * a slice made, while no event changed it (it is still the object held under its key).
   */
  knownTask(digest: string): Task | undefined {
    const task = this.#digests.get(digest);
    if (task === undefined || this.#tasks.get(task.frameworkId)?.get(task.id) !== task) {
      return undefined;
    }
    return task;
  }

  /** Digests known (`knownTask`), for the tests. */
  get knownDigests(): number {
    return this.#digests.size;
  }

  /**
   * `reset`, and what the snapshot changed: a re-subscription to the same master is then
   * delivered as the tasks that differ (an incremental update) instead of a rebuild of the whole
   * zone. Costs a comparison of the facts (`taskFacts`) of every task but those the snapshot
   * gives as the very objects held (slices known by their digest: the same bytes as before).
   */
  resetWithChanges(snapshot: V1Snapshot): SnapshotChanges {
    const tasksBefore = this.#tasks;
    const agentsBefore = fingerprint(this.#agents);
    const frameworksBefore = fingerprint(this.#frameworks);
    const ids = (set: ReadonlySet<string>): string => [...set].sort().join(',');
    const recoveredBefore = ids(this.#recovered);
    const removedBefore = ids(this.#removed);
    this.reset(snapshot);
    const onlyTasks =
      !this.#hasOrphans() &&
      fingerprint(this.#agents) === agentsBefore &&
      fingerprint(this.#frameworks) === frameworksBefore &&
      ids(this.#recovered) === recoveredBefore &&
      ids(this.#removed) === removedBefore;
    const touched = new Map<string, { frameworkId: string; before: Task | undefined }>();
    if (!onlyTasks) return { onlyTasks, touched };
    const facts = (task: Task): string => taskFacts(task, this.#withHealth);
    for (const [frameworkId, now] of this.#tasks) {
      const before = tasksBefore.get(frameworkId);
      for (const [key, task] of now) {
        const was = before?.get(key);
        if (was === undefined || (was !== task && facts(was) !== facts(task))) {
          touched.set(key, { frameworkId, before: was });
        }
      }
    }
    for (const [frameworkId, before] of tasksBefore) {
      const now = this.#tasks.get(frameworkId);
      for (const [key, was] of before) {
        if (now?.has(key) !== true) touched.set(key, { frameworkId, before: was });
      }
    }
    return { onlyTasks, touched };
  }

  /** Whether a running task names an agent the model does not hold. */
  #hasOrphans(): boolean {
    for (const byId of this.#tasks.values()) {
      for (const task of byId.values()) {
        if (task.state === TASK_RUNNING && !this.#agents.has(task.agentId)) return true;
      }
    }
    return false;
  }

  /** The task `taskId` of framework `frameworkId` as held now. */
  task(frameworkId: string, taskId: string): Task | undefined {
    return this.#tasks.get(frameworkId)?.get(taskId);
  }

  /** Tasks held (any state, terminal ones excluded). */
  get tasks(): number {
    return this.#taskCount;
  }

  /** Applies one event; `nowMs` stamps the tasks it touches. */
  apply(event: MesosEvent, nowMs: number): Applied {
    switch (event.type) {
      case 'TASK_ADDED': {
        const task = event.task;
        this.#touched.set(task.id, nowMs);
        if (TERMINAL_STATES.has(task.state)) this.#dropTask(task.frameworkId, task.id);
        else this.#putTask(this.#compactor.task(task));
        return { changed: true };
      }
      case 'TASK_UPDATED':
        return this.#update(event, nowMs);
      case 'AGENT_ADDED':
        this.#agents.set(event.agent.id, event.agent);
        this.#recovered.delete(event.agent.id);
        this.#removed.delete(event.agent.id);
        return { changed: true };
      case 'AGENT_REMOVED':
        // Also news for an agent this model does not hold: it may be carried (carry-over.ts).
        this.#agents.delete(event.agentId);
        this.#recovered.delete(event.agentId);
        this.#removed.add(event.agentId);
        return { changed: true };
      case 'FRAMEWORK_ADDED':
      case 'FRAMEWORK_UPDATED':
        this.#frameworks.set(event.framework.id, event.framework);
        return { changed: true };
      case 'FRAMEWORK_REMOVED': {
        const tasks = this.#tasks.get(event.frameworkId);
        if (tasks !== undefined) {
          this.#taskCount -= tasks.size;
          this.#tasks.delete(event.frameworkId);
          for (const task of tasks.values()) this.#digests.forget(task);
        }
        return { changed: this.#frameworks.delete(event.frameworkId) || tasks !== undefined };
      }
      case 'SUBSCRIBED':
        this.reset(event.snapshot);
        return { changed: true };
      case 'HEARTBEAT':
      case 'UNKNOWN':
        return { changed: false };
    }
  }

  #update(event: Extract<MesosEvent, { type: 'TASK_UPDATED' }>, nowMs: number): Applied {
    const tasks = this.#tasks.get(event.frameworkId);
    const task = tasks?.get(event.taskId);
    const statusAtMs =
      event.status === undefined ? undefined : Math.round(event.status.timestamp * 1000);
    const timing = statusAtMs === undefined ? {} : { statusAtMs };
    if (tasks === undefined || task === undefined) {
      // Never seen (or already terminal): nothing to name; a terminal update is no news.
      return { changed: false, unknownTask: !TERMINAL_STATES.has(event.state), ...timing };
    }
    this.#touched.set(task.id, nowMs);
    if (TERMINAL_STATES.has(event.state)) {
      this.#dropTask(event.frameworkId, event.taskId);
      return { changed: true, ...timing };
    }
    // The compactor keeps the status the records read (`trimStatuses`).
    const statuses = event.status === undefined ? task.statuses : [...task.statuses, event.status];
    this.#digests.forget(task);
    tasks.set(task.id, this.#compactor.task({ ...task, state: event.state, statuses }));
    return { changed: true, ...timing };
  }

  /** Stores `task` (as given) under `key`; returns it. */
  #putTask(task: Task, key = task.id): Task {
    let tasks = this.#tasks.get(task.frameworkId);
    if (tasks === undefined) {
      tasks = new Map();
      this.#tasks.set(task.frameworkId, tasks);
    }
    const was = tasks.get(key);
    if (was === undefined) this.#taskCount++;
    else this.#digests.forget(was);
    tasks.set(key, task);
    return task;
  }

  /**
   * A snapshot's task as the model keeps it: compacted by the snapshot's reader already (a
   * large snapshot's) or small, so only its ids are shared with the events' tasks and its
   * statuses trimmed.
   */
  #fromSnapshot(task: Task): Task {
    return {
      ...task,
      frameworkId: this.#compactor.string(task.frameworkId),
      agentId: this.#compactor.string(task.agentId),
      statuses: trimStatuses(task.statuses),
    };
  }

  #dropTask(frameworkId: string, taskId: string): void {
    const tasks = this.#tasks.get(frameworkId);
    const task = tasks?.get(taskId);
    if (tasks === undefined || task === undefined) return;
    tasks.delete(taskId);
    this.#digests.forget(task);
    this.#taskCount--;
  }

  /**
   * The model as a state document for the loader (`leader` from the master's own info, `pids`
   * the schedulers' pids, which the v1 API does not carry).
   */
  toState(leader: Pid | undefined, pids: ReadonlyMap<string, Pid> = new Map()): State {
    const frameworks = [...this.#frameworks.values()].map((fw) => ({
      ...fw,
      pid: fw.pid ?? pids.get(fw.id),
      tasks: [...(this.#tasks.get(fw.id)?.values() ?? [])],
    }));
    return {
      leader,
      agents: [...this.#agents.values()],
      frameworks,
      recoveredAgentIds: [...this.#recovered],
      removedAgentIds: [...this.#removed],
    };
  }

  /**
   * Compares the model with a fresh snapshot (the periodic resync): running tasks present on one
   * side only or with other facts, agents and frameworks present on one side only. Tasks the
   * stream touched at or after `sinceMs` (the time the snapshot was requested) are skipped: their
   * events may simply have crossed the snapshot.
   */
  compareWith(snapshot: V1Snapshot, sinceMs: number): Drift {
    const examples: string[] = [];
    const note = (text: string): void => {
      if (examples.length < 5) examples.push(text);
    };
    const fresh = (id: string): boolean => (this.#touched.get(id) ?? -Infinity) >= sinceMs;
    let tasks = 0;
    const running = new Map<string, Task>();
    for (const byId of this.#tasks.values()) {
      for (const task of byId.values()) if (task.state === TASK_RUNNING) running.set(task.id, task);
    }
    const seen = new Set<string>();
    for (const task of snapshot.tasks) {
      if (task.state !== TASK_RUNNING || fresh(task.id)) continue;
      seen.add(task.id);
      const mine = running.get(task.id);
      if (mine === undefined) {
        tasks++;
        note(`task ${task.id} runs but the stream does not have it running`);
      } else if (taskFacts(mine, this.#withHealth) !== taskFacts(task, this.#withHealth)) {
        tasks++;
        const facts = (x: Task): string => taskFacts(x, this.#withHealth);
        note(`task ${task.id}: stream ${facts(mine)}, master ${facts(task)}`);
      }
    }
    for (const id of running.keys()) {
      if (seen.has(id) || fresh(id)) continue;
      tasks++;
      note(`task ${id} is running in the stream only`);
    }
    const agentIds = new Set(snapshot.agents.map((a) => a.id));
    let agents = 0;
    for (const id of agentIds) if (!this.#agents.has(id)) agents++;
    for (const id of this.#agents.keys()) if (!agentIds.has(id)) agents++;
    const frameworkIds = new Set(snapshot.frameworks.map((f) => f.id));
    let frameworks = 0;
    for (const id of frameworkIds) if (!this.#frameworks.has(id)) frameworks++;
    for (const id of this.#frameworks.keys()) if (!frameworkIds.has(id)) frameworks++;
    if (agents > 0) note(`${String(agents)} agents differ`);
    if (frameworks > 0) note(`${String(frameworks)} frameworks differ`);
    return { tasks, agents, frameworks, examples };
  }
}
