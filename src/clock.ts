/** Time source, injected so that I/O classes can be tested without real sleeps. */
export interface Clock {
  /** Milliseconds since the epoch (`systemClock`), or since an arbitrary origin (`monotonicClock`). */
  now(): number;
}

/** The real clock: wall time, for timestamps compared with other hosts' (Mesos status times). */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A monotonic clock for durations and expiry (the forwarding cache): immune to wall-clock steps,
 * and cheaper per call than `Date.now()` on the query path.
 */
export const monotonicClock: Clock = { now: () => performance.now() };
