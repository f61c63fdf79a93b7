/**
 * The polling loop shared by the state sources, the retry backoff of the master poller and the
 * stream source's wait between subscriptions.
 * One run at a time: the next run is scheduled only after the previous one settled, so a slow
 * master can never cause overlapping requests.
 */

/** Schedules `fn` in `ms` milliseconds; returns a function that cancels it. */
export type Schedule = (fn: () => void, ms: number) => () => void;

/** `setTimeout`, as a `Schedule`. */
export const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => {
    clearTimeout(timer);
  };
};

/** Delay of the first retry after a failure; each further failure doubles it. */
export const FIRST_RETRY_MS = 250;

/**
 * Returns how long to wait before the next attempt after `failures` consecutive failures:
 * exponential from `firstMs` (default `FIRST_RETRY_MS`), capped at `maxMs` (the refresh period),
 * with jitter (a uniform value in the upper half of the capped delay, so that several mesodns
 * instances do not poll a recovering master in lockstep). `random` returns a float in [0, 1).
 */
export function backoffMs(
  failures: number,
  maxMs: number,
  random: () => number,
  firstMs = FIRST_RETRY_MS,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const capped = Math.min(maxMs, firstMs * 2 ** exponent);
  return Math.round(capped / 2 + (random() * capped) / 2);
}

/**
 * A wait that can be cut short: the stream source's backoff between subscriptions, which a leader
 * change, a reload or closing ends at once. One wait at a time.
 */
export class WakeableSleep {
  readonly #schedule: Schedule;
  /** Ends the wait in progress. */
  #wake: (() => void) | undefined;
  /** Cancels the timer of the wait in progress. */
  #cancel: (() => void) | undefined;

  /** `schedule`: tests' time. */
  constructor(schedule: Schedule = realSchedule) {
    this.#schedule = schedule;
  }

  /** Resolves after `ms`, or when `wake()` is called first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#cancel?.();
        this.#cancel = undefined;
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      this.#cancel = this.#schedule(done, ms);
    });
  }

  /** Ends the wait in progress now (nothing when none is). */
  wake(): void {
    this.#wake?.();
  }

  /** Cancels the timer of the wait in progress: only `wake()` ends it then. */
  cancel(): void {
    this.#cancel?.();
  }
}

/**
 * Runs `run` now and again after the delay it resolves to (milliseconds), never two runs at
 * once. `trigger()` runs at once, or right after the current run when one is in progress
 * (a leader change during a poll gets a fresh poll, not a skipped one).
 */
export class Loop {
  /** Cancels the scheduled run, when one is scheduled. */
  #cancel: (() => void) | undefined;
  #running = false;
  #closed = false;
  #again = false;
  readonly #run: () => Promise<number>;
  readonly #schedule: Schedule;

  /** Creates a stopped loop; nothing runs before the first `trigger()`. `schedule`: tests' time. */
  constructor(run: () => Promise<number>, schedule: Schedule = realSchedule) {
    this.#run = run;
    this.#schedule = schedule;
  }

  /** Whether a run is in progress. */
  get running(): boolean {
    return this.#running;
  }

  /** Runs now, or right after the run in progress. */
  trigger(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#cancel?.();
    this.#cancel = undefined;
    this.#running = true;
    void this.#run()
      .catch(() => 1000) // a run never throws by contract; this only guards the schedule
      .then((nextMs) => {
        this.#running = false;
        if (this.#closed) return;
        if (this.#again) {
          this.#again = false;
          this.trigger();
          return;
        }
        this.#cancel = this.#schedule(() => {
          this.#cancel = undefined;
          this.trigger();
        }, nextMs);
      });
  }

  /** Stops scheduling; a run in progress finishes but is not followed by another. */
  close(): void {
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
