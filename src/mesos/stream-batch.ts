/**
 * The batching of the stream's changes (issue #8): events are collected for `batchMs`, then one
 * delivery goes to the loader. The batch remembers what that delivery needs:
 *
 * - the tasks the events touched, as they were before the first of them (by task id), so that a
 *   batch that touched only tasks goes as (before, after) pairs, an incremental zone update;
 * - whether anything else changed (agents, frameworks, a snapshot, the scheduler pids, an
 *   expiring carried agent): then only the whole state will do;
 * - the status timestamps of the task updates, for the propagation metric.
 *
 * While a carried agent re-registers after a failover (carry-over.ts), its `TASK_ADDED` events
 * follow its `AGENT_ADDED` back to back: the batch waits until they stop (a quiet `batchMs`, at
 * most `MAX_SETTLE_MS`), not in the middle of them, because the agent's carried tasks go at that
 * delivery and the ones not yet added would answer NXDOMAIN meanwhile.
 */
import type { Clock } from '../clock.js';
import type { StreamModel } from './stream-model.js';
import type { Task, TaskChange } from './types.js';
import type { MesosEvent } from './v1.js';

/** Longest a batch waits for a re-registering agent's events to stop (see the module comment). */
const MAX_SETTLE_MS = 1000;

/** A task the batch touched, as it was before the batch's first event for it. */
export interface TouchedTask {
  readonly frameworkId: string;
  readonly before: Task | undefined;
}

/** What one delivery hands on (`StreamBatch.take`). */
export interface TakenBatch {
  /** Whether only the whole state will do (anything but tasks changed). */
  readonly isWhole: boolean;
  /** The status timestamps of the task updates in the batch (`LoadInfo.statusTimesMs`). */
  readonly statusTimesMs: number[];
  /** The tasks touched, by task id. */
  readonly touched: ReadonlyMap<string, TouchedTask>;
}

/** Options of `StreamBatch`. */
export interface StreamBatchOptions {
  readonly clock: Clock;
  /** How long events are collected before a delivery (`mesos.stream.batch`). */
  readonly batchMs: number;
  /** The batch window passed: the batch is to be delivered. */
  readonly onDue: () => void;
}

/** The changes since the last delivery, and the timer that ends the batch window. */
export class StreamBatch {
  readonly #options: StreamBatchOptions;
  /** Whether the model changed since the last delivery. */
  #isDirty = false;
  #statusTimes: number[] = [];
  #touched = new Map<string, TouchedTask>();
  #needsWhole = true;
  #timer: NodeJS.Timeout | undefined;
  /** While a carried agent re-registers, the batch waits for a quiet `batchMs`, until this time. */
  #settleUntil: number | undefined;

  /** Creates an empty batch; the first delivery is whole (nothing was delivered yet). */
  constructor(options: StreamBatchOptions) {
    this.#options = options;
  }

  /** Whether the model changed since the last delivery. */
  get isDirty(): boolean {
    return this.#isDirty;
  }

  /**
   * Remembers how a task looked before the first event of the batch that touches it (call before
   * the model applies `event`); an event about anything but tasks makes the delivery whole.
   */
  noteBefore(event: MesosEvent, model: StreamModel): void {
    let frameworkId: string;
    let taskId: string;
    switch (event.type) {
      case 'TASK_ADDED':
        frameworkId = event.task.frameworkId;
        taskId = event.task.id;
        break;
      case 'TASK_UPDATED':
        frameworkId = event.frameworkId;
        taskId = event.taskId;
        break;
      case 'HEARTBEAT':
      case 'UNKNOWN':
        return;
      default:
        this.#needsWhole = true;
        return;
    }
    if (this.#touched.has(taskId)) return;
    this.#touched.set(taskId, { frameworkId, before: model.task(frameworkId, taskId) });
  }

  /**
   * An event changed the model: the batch window starts unless it runs already. `statusAtMs` is a
   * task update's status time; `isAgentBack` says a carried agent re-registered (the batch then
   * waits for its events to stop, see the module comment).
   */
  changed(statusAtMs: number | undefined, isAgentBack: boolean): void {
    const { clock, batchMs, onDue } = this.#options;
    if (statusAtMs !== undefined) this.#statusTimes.push(statusAtMs);
    this.#isDirty = true;
    if (isAgentBack) this.#settleUntil = clock.now() + MAX_SETTLE_MS;
    if (this.#settleUntil !== undefined && clock.now() < this.#settleUntil) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#settleUntil = undefined;
      onDue();
    }, batchMs);
  }

  /**
   * A snapshot replaced the model: it is delivered at once (and waited for), not batched, and
   * whole; what the batch collected before is moot.
   */
  snapshot(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#isDirty = true;
    this.#needsWhole = true;
    this.#touched.clear();
    this.#statusTimes = [];
  }

  /**
   * A snapshot from the same master replaced the model and only tasks differ (`touched`, as
   * `StreamModel.resetWithChanges` found them): delivered at once, as task changes unless the
   * batch needed the whole state already; nothing to deliver when nothing differs.
   */
  resubscribed(touched: ReadonlyMap<string, TouchedTask>): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (touched.size > 0) this.#isDirty = true;
    // A task the batch touched before keeps its state before that (the earlier one).
    for (const [id, task] of touched) if (!this.#touched.has(id)) this.#touched.set(id, task);
  }

  /** Something outside the events changed the state (pids, carried agents): deliver it whole. */
  markWhole(): void {
    this.#isDirty = true;
    this.#needsWhole = true;
  }

  /** Takes the batch for a delivery; the next one starts empty. */
  take(): TakenBatch {
    const taken = {
      isWhole: this.#needsWhole,
      statusTimesMs: this.#statusTimes,
      touched: this.#touched,
    };
    this.#isDirty = false;
    this.#statusTimes = [];
    this.#touched = new Map();
    this.#needsWhole = false;
    return taken;
  }

  /** Stops the batch window (the source closes). */
  close(): void {
    clearTimeout(this.#timer);
  }
}

/** The batch's task changes: each touched task before the batch and in `model` now. */
export function taskChanges(batch: TakenBatch, model: StreamModel): TaskChange[] {
  const changes: TaskChange[] = [];
  for (const [taskId, { frameworkId, before }] of batch.touched) {
    changes.push({ before, after: model.task(frameworkId, taskId) });
  }
  return changes;
}
