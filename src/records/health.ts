/**
 * The health rule (`records.health: exclude-unhealthy`, issue #19): a running task whose latest
 * `TASK_RUNNING` status says `healthy: false` (a failed Mesos or Marathon health check) leaves
 * its app's shared names and keeps its own.
 *
 * - An app, for this rule, is the tasks that share a name under one framework fragment: the
 *   `{name}` of `{name}.{framework}.{domain}` (T1), which also makes T3, T5-T8. A task with
 *   DiscoveryInfo is named twice (verbatim, then labelled): each pass is judged in its own app.
 * - An unhealthy task gets no T1, T3, T5, T6, T7 or T8 record: only its per-instance names
 *   `{name}-{hash}-{agent}.{framework}` (T2) and `.slave` (T4) answer.
 * - Fail-open (`records.healthFailOpen`, default on): when every task of an app is unhealthy, all
 *   of them are served as if health were ignored (Envoy's panic threshold at 100 %); the app is
 *   listed in `HealthStats.failOpen` for the log and the metrics.
 * - A task without health information (no health check, or `healthy` absent) counts as healthy.
 *
 * Pure, like the rest of records/: the generator calls it before naming the tasks (every task's
 * health must be known before the first of its app is named).
 */
import type { State, Task, TaskStatus } from '../mesos/index.js';
import type { HealthMode } from '../config/types.js';

/** The only task state that produces records. */
const TASK_RUNNING = 'TASK_RUNNING';

/** The settings of the rule (`records.health`, `records.healthFailOpen`). */
export interface HealthSettings {
  readonly mode: HealthMode;
  readonly failOpen: boolean;
}

/** What the rule did in one generation (`GeneratorStats.health`). */
export interface HealthStats {
  /** Running tasks left out of their app's shared names (counted once per task). */
  readonly excludedTasks: number;
  /** Apps served whole because every instance is unhealthy, by shared name (`web.marathon.mesos.`). */
  readonly failOpen: readonly string[];
}

/**
 * The health of a name (`RecordData.health`, by name id), for the HTTP API's `healthy` field: of
 * the tasks whose records the name holds, none recorded (`HEALTH_NONE`), all reported healthy,
 * all reported unhealthy (an unhealthy task's own names; an app served whole), or anything else
 * (`HEALTH_MIXED`: some reported nothing, or they differ).
 */
export const HEALTH_NONE = 0;
/** See `HEALTH_NONE`. */
export const HEALTH_HEALTHY = 1;
/** See `HEALTH_NONE`. */
export const HEALTH_UNHEALTHY = 2;
/** See `HEALTH_NONE`. */
export const HEALTH_MIXED = 3;

/** The health code of one task, from its latest `TASK_RUNNING` status. */
export function taskHealthCode(latest: TaskStatus | undefined): number {
  const healthy = latest?.healthy;
  return healthy === true ? HEALTH_HEALTHY : healthy === false ? HEALTH_UNHEALTHY : HEALTH_MIXED;
}

/** The health of a name that holds records of tasks of health `a` and of health `b`. */
export function combineHealth(a: number, b: number): number {
  return a === HEALTH_NONE ? b : b === HEALTH_NONE || a === b ? a : HEALTH_MIXED;
}

/** The `healthy` field of a name's health code: undefined unless every task agreed. */
export function healthField(code: number): boolean | undefined {
  return code === HEALTH_HEALTHY ? true : code === HEALTH_UNHEALTHY ? false : undefined;
}

/** Whether a status (the task's latest `TASK_RUNNING` one) reports a failed health check. */
export function isUnhealthy(latest: TaskStatus | undefined): boolean {
  return latest?.healthy === false;
}

/** Instances of one app, and how many of them are unhealthy. */
interface App {
  tasks: number;
  unhealthy: number;
}

/** What the rule needs of the generation: the generator's own naming rules (generator.ts). */
/** What the rule asks of the record builder. */
export interface HealthRecorder {
  trackHealth(): void;
  setTaskHealth(code: number): void;
}

export interface HealthInputs {
  /** The framework fragment of each framework, by index (`''`: its tasks get no records). */
  readonly fragments: readonly string[];
  /** The zone apex, trailing dot. */
  readonly zone: string;
  /** Whether the agent of a task is known (tasks on unknown agents get no records). */
  readonly hasAgent: (agentId: string) => boolean;
  /** The task label of a name (RFC 1123 or 952). */
  readonly label: (name: string) => string;
  /** The latest `TASK_RUNNING` status of a task (the one its addresses come from). */
  readonly latest: (statuses: readonly TaskStatus[]) => TaskStatus | undefined;
  /**
   * The generation's builder (builder.ts's `RecordBuilder`, which imports this module): it keeps
   * the health of the names (`RecordData.health`).
   */
  readonly builder: HealthRecorder;
}

/** The rule over `state`, or undefined when health is ignored (no settings, `ignore`). */
export function healthRule(
  settings: HealthSettings | undefined,
  state: State,
  inputs: HealthInputs,
): HealthRule | undefined {
  if (settings?.mode !== 'exclude-unhealthy') return undefined;
  return new HealthRule(settings, state, inputs);
}

/** The rule over one state (see the module comment). */
export class HealthRule {
  readonly #failOpen: boolean;
  readonly #inputs: HealthInputs;
  /** Apps by `{name}\n{fwTail}` (a name may contain dots; the key keeps the two apart). */
  readonly #apps = new Map<string, App>();

  /**
   * Counts the instances of every app of `state`: the tasks the generator names (running, on a
   * known agent, with a fragment and a label), under each name they take (verbatim with
   * DiscoveryInfo, when it differs, then labelled), as `taskRecords` names them.
   */
  constructor(settings: HealthSettings, state: State, inputs: HealthInputs) {
    this.#failOpen = settings.failOpen;
    this.#inputs = inputs;
    inputs.builder.trackHealth();
    state.frameworks.forEach((fw, i) => {
      const fragment = inputs.fragments[i] ?? '';
      if (fragment === '') return;
      const fwTail = `.${fragment}.${inputs.zone}`;
      for (const task of fw.tasks) {
        if (task.state !== TASK_RUNNING || !inputs.hasAgent(task.agentId)) continue;
        const discovery = task.discovery;
        const hasDiscovery = discovery !== undefined && discovery.name !== '';
        const baseName = hasDiscovery ? discovery.name : task.name;
        const labelled = inputs.label(baseName);
        if (labelled === '') continue;
        const unhealthy = isUnhealthy(inputs.latest(task.statuses));
        const verbatim = baseName.toLowerCase();
        if (hasDiscovery && verbatim !== labelled) this.#note(verbatim, fwTail, unhealthy);
        this.#note(labelled, fwTail, unhealthy);
      }
    });
  }

  /** A task's records come next: its health code (`taskHealthCode`) marks their names. */
  beginTask(task: Task): number {
    const code = taskHealthCode(this.#inputs.latest(task.statuses));
    this.#inputs.builder.setTaskHealth(code);
    return code;
  }

  #note(name: string, fwTail: string, unhealthy: boolean): void {
    const key = `${name}\n${fwTail}`;
    const app = this.#apps.get(key);
    const bad = unhealthy ? 1 : 0;
    if (app === undefined) {
      this.#apps.set(key, { tasks: 1, unhealthy: bad });
    } else {
      app.tasks++;
      app.unhealthy += bad;
    }
  }

  /** Whether a task of app `name` (under `fwTail`) is left out of the app's shared names. */
  excludes(name: string, fwTail: string, unhealthy: boolean): boolean {
    if (!unhealthy) return false;
    if (!this.#failOpen) return true;
    const app = this.#apps.get(`${name}\n${fwTail}`);
    return app === undefined || app.unhealthy < app.tasks;
  }

  /** The counters of the generation, given how many tasks were excluded from any name. */
  stats(excludedTasks: number): HealthStats {
    const failOpen: string[] = [];
    if (this.#failOpen) {
      for (const [key, app] of this.#apps) {
        if (app.unhealthy === 0 || app.unhealthy < app.tasks) continue;
        const cut = key.indexOf('\n');
        failOpen.push(key.slice(0, cut) + key.slice(cut + 1));
      }
    }
    return { excludedTasks, failOpen };
  }
}
