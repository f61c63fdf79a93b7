/**
 * The carry-over in stream mode (carry-over.ts has the rules, shared with the poller). The stream
 * has no "last served state" between polls: when a new leader's snapshot is about to replace the
 * model, the view served until then (the old model with what was carried) is kept for the next
 * whole delivery to carry the agents the new leader lacks from. Task batches need nothing: a
 * carried agent has no events until it re-registers, and its `AGENT_ADDED` makes the next
 * delivery whole. Agents must also expire when no event comes at all, so a timer asks for a
 * delivery when the oldest carried agent reaches `maxHoldMs`.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { CarryResult } from './carry-over.js';
import { CarryOver, logCarry } from './carry-over.js';
import type { State } from './types.js';

/** Options of `StreamCarry`. */
export interface StreamCarryOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long agents are carried after a leader change (`mesos.failover.maxHold`). */
  readonly maxHoldMs: number;
  /** No expiry is scheduled once this is aborted (the source closes). */
  readonly signal: AbortSignal;
  /** The oldest carried agent reached `maxHoldMs`: the whole state is to be delivered again. */
  readonly onExpiry: () => void;
}

/** Carries agents across the stream's leader changes (see the module comment). */
export class StreamCarry {
  readonly #options: StreamCarryOptions;
  readonly #carry = new CarryOver();
  /**
   * Set by a snapshot from a new leader: the view served before it (the old model with what was
   * carried), for the next whole delivery to carry the agents the new leader lacks from.
   */
  #beforeLeaderChange: State | undefined;
  /** Asks for a delivery when the oldest carried agent reaches `maxHoldMs`. */
  #timer: NodeJS.Timeout | undefined;

  /** Starts with nothing carried. */
  constructor(options: StreamCarryOptions) {
    this.#options = options;
  }

  /** Whether any agent is carried now (or a leader change waits for its first delivery). */
  get isCarrying(): boolean {
    return this.#carry.facts().agents > 0 || this.#beforeLeaderChange !== undefined;
  }

  /** Whether agent `id` is carried now (its re-registration holds the batch, stream-batch.ts). */
  isCarried(id: string): boolean {
    return this.#carry.isCarried(id);
  }

  /**
   * A new leader's snapshot is about to replace the model: `served` is the model as it stands
   * (without the carried agents, added here), the view to carry from at the next delivery.
   */
  leaderChanged(served: State): void {
    this.#beforeLeaderChange = this.#carry.withCarried(served);
  }

  /**
   * The state of a whole delivery with the carried agents (carry-over.ts rules; logged by
   * `logCarry`), and the expiry timer set for what is carried now.
   */
  apply(state: State): CarryResult {
    const { clock, logger, maxHoldMs } = this.#options;
    const previous = this.#beforeLeaderChange;
    this.#beforeLeaderChange = undefined;
    const carried = this.#carry.apply(
      state,
      previous,
      previous !== undefined,
      clock.now(),
      maxHoldMs,
    );
    logCarry(logger, carried, maxHoldMs);
    this.#scheduleExpiry();
    return carried;
  }

  /** Cancels the expiry timer (the source closes). */
  close(): void {
    clearTimeout(this.#timer);
  }

  /**
   * While agents are carried, asks for a whole delivery when the oldest reaches `maxHoldMs`, so
   * that it expires even when no event arrives.
   */
  #scheduleExpiry(): void {
    const { clock, maxHoldMs, signal, onExpiry } = this.#options;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const at = this.#carry.nextExpiry(maxHoldMs);
    if (at === undefined || signal.aborted) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        onExpiry();
      },
      Math.max(0, at - clock.now()),
    );
    this.#timer.unref();
  }
}
