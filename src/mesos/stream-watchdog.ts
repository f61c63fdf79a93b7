/**
 * The watchdog and the health rule of one master event stream (issue 14, "a stream that cannot
 * freeze").
 *
 * Progress is counted in whole RecordIO records that parse as events (heartbeats included), not
 * in bytes: a master, proxy or half-dead connection that trickles a byte now and then must not
 * keep a stream alive, or the zone silently stops following the cluster. The rules:
 *
 * - Window: `missedHeartbeats` heartbeat intervals; the interval is 15 s (Mesos' default) until
 *   the SUBSCRIBED record says otherwise. A window without progress ends the stream.
 * - Before the SUBSCRIBED snapshot is complete, its bytes count too, but only in steps of
 *   `MIN_SNAPSHOT_BYTES_PER_WINDOW` (1 MiB) per window: a 178 MB snapshot of 100k tasks arrives
 *   in seconds and a slow link still brings megabytes per window, while a master that sends
 *   headers and then nothing, or a byte every few seconds, is dropped after one window.
 * - mesodns' own handling of the snapshot (`pause()` until `subscribed()`: GET_MASTER,
 *   state-summary, the zone build, seconds at 100k tasks) is not the master's silence and does
 *   not count.
 * - Health: a stream proves healthy with the first record that arrives one heartbeat interval or
 *   more after its snapshot was loaded (a live master sends a heartbeat every interval, so a
 *   working stream proves itself within about two intervals). Only then does the source forget
 *   its failures: a master that sends a good snapshot and then garbage or nothing is retried
 *   with growing backoff, not in a loop.
 *
 * The timers are injected (`StreamTimers`) so that the rules are tested without sleeping.
 */
import type { Clock } from '../clock.js';
import { monotonicClock } from '../clock.js';
import type { Schedule } from './loop.js';
import { realSchedule } from './loop.js';

/** The time sources of the stream's watchdog and reconnect backoff (fake ones in tests). */
export interface StreamTimers {
  /** A monotonic clock: a wall-clock step must not fire or starve the watchdog. */
  readonly clock: Clock;
  readonly schedule: Schedule;
}

/** The real timers: `performance.now()` and `setTimeout`. */
export const realTimers: StreamTimers = { clock: monotonicClock, schedule: realSchedule };

/** Heartbeat interval assumed until SUBSCRIBED says otherwise (Mesos' default, 15 s). */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** Bytes of the SUBSCRIBED snapshot per window that count as progress while it arrives. */
export const MIN_SNAPSHOT_BYTES_PER_WINDOW = 1 << 20;

/** Why the watchdog gave up on a stream. */
export interface StreamStall {
  /** `snapshot`: waiting for the SUBSCRIBED record; `events`: after it. */
  readonly phase: 'snapshot' | 'events';
  /** The window that passed without progress (ms). */
  readonly windowMs: number;
  /** For the log: what did not arrive, and for how long. */
  readonly description: string;
}

/** Options of `StreamWatchdog`. */
export interface StreamWatchdogOptions {
  /** Heartbeat intervals without progress after which the stream is given up (config). */
  readonly missedHeartbeats: number;
  readonly timers: StreamTimers;
  /** Called once, when a window passed without progress; the watchdog is stopped then. */
  readonly onStall: (stall: StreamStall) => void;
}

/**
 * Watches one stream from its response headers on (it is armed when constructed); see the module
 * comment for the rules. Records are noted without touching the timer: the timer re-checks the
 * time of the last progress when it fires, so thousands of events a second cost no timer churn.
 */
export class StreamWatchdog {
  readonly #options: StreamWatchdogOptions;
  #heartbeatMs = DEFAULT_HEARTBEAT_MS;
  #windowMs: number;
  /** Idle time counted before `#since` (kept across a pause). */
  #spentMs = 0;
  /** Start of the idle span being counted (last progress, or the end of a pause). */
  #since: number;
  #isPaused = false;
  #isStopped = false;
  #isSubscribed = false;
  #snapshotBytes = 0;
  /** When a record proves the stream healthy (one heartbeat interval after the snapshot). */
  #healthyAt: number | undefined;
  #isHealthy = false;
  #cancel: (() => void) | undefined;

  /** Arms the watchdog for the snapshot wait. */
  constructor(options: StreamWatchdogOptions) {
    this.#options = options;
    this.#windowMs = options.missedHeartbeats * DEFAULT_HEARTBEAT_MS;
    this.#since = options.timers.clock.now();
    this.#arm(this.#windowMs);
  }

  /** The current window (ms): `missedHeartbeats` heartbeat intervals. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** Whether a record proved the stream healthy (see the module comment). */
  get isHealthy(): boolean {
    return this.#isHealthy;
  }

  /** Bytes arrived: progress only for the snapshot, in steps of 1 MiB (see the module comment). */
  received(bytes: number): void {
    if (this.#isSubscribed) return;
    this.#snapshotBytes += bytes;
    if (this.#snapshotBytes >= MIN_SNAPSHOT_BYTES_PER_WINDOW) this.#progress();
  }

  /**
   * A whole record arrived that parsed as an event (heartbeats included). Returns true when it
   * is the one that proves the stream healthy (once per stream).
   */
  record(): boolean {
    this.#progress();
    if (this.#isHealthy || this.#healthyAt === undefined) return false;
    if (this.#options.timers.clock.now() < this.#healthyAt) return false;
    this.#isHealthy = true;
    return true;
  }

  /** The snapshot is being handled by mesodns: its time is not the master's silence. */
  pause(): void {
    if (this.#isPaused || this.#isStopped) return;
    this.#spentMs += this.#options.timers.clock.now() - this.#since;
    this.#isPaused = true;
  }

  /**
   * The snapshot was loaded: the window becomes `missedHeartbeats` x `heartbeatMs` (the
   * SUBSCRIBED interval), counts from now, and bytes no longer count as progress.
   */
  subscribed(heartbeatMs: number): void {
    if (this.#isStopped) return;
    const now = this.#options.timers.clock.now();
    this.#isSubscribed = true;
    this.#isPaused = false;
    this.#heartbeatMs = heartbeatMs;
    this.#windowMs = this.#options.missedHeartbeats * heartbeatMs;
    this.#spentMs = 0;
    this.#since = now;
    this.#healthyAt = now + heartbeatMs;
    this.#arm(this.#windowMs);
  }

  /** Stops watching (the stream ended). */
  stop(): void {
    this.#isStopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #progress(): void {
    this.#snapshotBytes = 0;
    this.#spentMs = 0;
    this.#since = this.#options.timers.clock.now();
  }

  #arm(ms: number): void {
    this.#cancel?.();
    this.#cancel = this.#options.timers.schedule(() => {
      this.#cancel = undefined;
      this.#check();
    }, ms);
  }

  #check(): void {
    if (this.#isStopped || this.#isPaused) return; // `subscribed()` arms it again
    const idleMs = this.#spentMs + this.#options.timers.clock.now() - this.#since;
    if (idleMs < this.#windowMs) {
      this.#arm(this.#windowMs - idleMs);
      return;
    }
    this.#isStopped = true;
    const { missedHeartbeats } = this.#options;
    const intervals = `${String(missedHeartbeats)} heartbeat intervals of ${String(this.#heartbeatMs)} ms`;
    this.#options.onStall(
      this.#isSubscribed
        ? {
            phase: 'events',
            windowMs: this.#windowMs,
            description: `no event or heartbeat for ${String(this.#windowMs)} ms (${intervals})`,
          }
        : {
            phase: 'snapshot',
            windowMs: this.#windowMs,
            description: `the SUBSCRIBED snapshot did not progress by 1 MiB in ${String(this.#windowMs)} ms (${intervals})`,
          },
    );
  }
}
