/**
 * Fake time for `StreamTimers` (src/mesos/stream-watchdog.ts) and the `Schedule` of `Loop`
 * (src/mesos/loop.ts): a clock that moves only when the test says, and timers that fire in order
 * as it moves. No wall-clock sleeps, so the rules of the
 * watchdog and the backoff are checked to the millisecond on any machine.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { StreamTimers } from '../src/mesos/stream-watchdog.js';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Fake `StreamTimers`: `advance` for synchronous code, `runUntil` for async code. */
export class FakeTimers implements StreamTimers {
  #now = 0;
  #seq = 0;
  #pending: Pending[] = [];

  readonly clock = { now: (): number => this.#now };

  readonly schedule = (fn: () => void, ms: number): (() => void) => {
    const entry: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((p) => p !== entry);
    };
  };

  /** The fake time (ms). */
  get now(): number {
    return this.#now;
  }

  /** Timers not fired or cancelled yet. */
  get pending(): number {
    return this.#pending.length;
  }

  /** A promise resolved when the fake time has moved `ms` on. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.schedule(resolve, ms);
    });
  }

  /** Moves the time `ms` on, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#next();
      if (next === undefined || next.at > end) break;
      this.#fire(next);
    }
    this.#now = end;
  }

  /**
   * For async code: lets pending promise chains run, then jumps to the next timer and fires it,
   * until `done()` holds. Throws after `maxTimers` timers (a rule that never ends a stream).
   */
  async runUntil(done: () => boolean, maxTimers = 1000): Promise<void> {
    for (let fired = 0; ; fired++) {
      await settle();
      if (done()) return;
      const next = this.#next();
      if (next === undefined) throw new Error('FakeTimers: nothing scheduled, and not done');
      if (fired >= maxTimers) {
        throw new Error(`FakeTimers: not done after ${String(maxTimers)} timers`);
      }
      this.#fire(next);
    }
  }

  #next(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending) {
      if (best === undefined || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    return best;
  }

  #fire(entry: Pending): void {
    this.#pending = this.#pending.filter((p) => p !== entry);
    this.#now = Math.max(this.#now, entry.at);
    entry.fn();
  }
}

/** Lets every promise chain that waits on nothing but other promises run to its end. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn();
}
