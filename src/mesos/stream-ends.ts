/**
 * How the event streams end, counted and logged (issue 14). Every end is counted by reason (the
 * `mesodns_stream_ends_total` series). A fault of the stream is logged once, as a warning, when
 * it starts; the same fault again, while the source retries it with growing backoff, is logged at
 * debug level only, until a stream proves healthy (logged at info if a fault was logged) or
 * another fault comes: a master that keeps failing the same way must not fill the log, one line
 * per retry, while the last zone is served. Ends mesodns asks for are logged where they are
 * asked for ("closing"), not here.
 */
import type { Logger } from '../log.js';

/**
 * Why a stream ended (the `reason` label of `mesodns_stream_ends_total`). Faults of the stream:
 * `watchdog` (no whole record for `missedHeartbeats` heartbeat intervals, or a snapshot that did
 * not progress), `bad_data` (bad RecordIO framing, an event before SUBSCRIBED), `closed` (the
 * master ended the response), `error` (transport errors). Ended by mesodns: `leader_change`,
 * `reload` (SIGHUP), `drift` (the resync found drift).
 */
export type StreamEndReason =
  'watchdog' | 'bad_data' | 'closed' | 'error' | 'leader_change' | 'reload' | 'drift';

/** Every `StreamEndReason`, in the order of the metric's series. */
export const STREAM_END_REASONS: readonly StreamEndReason[] = [
  'watchdog',
  'bad_data',
  'closed',
  'error',
  'leader_change',
  'reload',
  'drift',
];

/** The reasons that are faults of the stream (logged as such, once per fault). */
const FAULTS: ReadonlySet<StreamEndReason> = new Set(['watchdog', 'bad_data', 'closed', 'error']);

/** Whether `reason` is a fault of the stream rather than an end mesodns asked for. */
export function isFault(reason: StreamEndReason): boolean {
  return FAULTS.has(reason);
}

/** How one stream ended. */
export interface StreamEnd {
  /** The master's base URL. */
  readonly url: string;
  readonly reason: StreamEndReason;
  /** For the log and the failure reported to the listener. */
  readonly why: string;
}

/** The ends of all the streams of one source: counts by reason, and the fault being retried. */
export class StreamEnds {
  readonly #logger: Logger;
  #counts = Object.fromEntries(STREAM_END_REASONS.map((r) => [r, 0])) as Record<
    StreamEndReason,
    number
  >;
  /**
   * The fault being retried, once logged: the same fault again is not logged again (at debug
   * only) until a stream proves healthy or the fault changes.
   */
  #fault: StreamEndReason | undefined;

  /** Starts with every count at 0 and no fault. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Streams ended, by reason (every reason present); a new object after each end. */
  get counts(): Readonly<Record<StreamEndReason, number>> {
    return this.#counts;
  }

  /** Whether a logged fault is being retried: its subscriptions are not news. */
  get isRetrying(): boolean {
    return this.#fault !== undefined;
  }

  /**
   * Counts a stream's end; a fault is logged once, its repetitions at debug level only.
   * `failures` is the source's consecutive failures, `retryInMs` the backoff before the next try.
   */
  noteEnd(end: StreamEnd, failures: number, retryInMs: number): void {
    this.#counts = { ...this.#counts, [end.reason]: this.#counts[end.reason] + 1 };
    if (!isFault(end.reason)) return;
    const fields = { reason: end.reason, why: end.why, url: end.url, failures, retryInMs };
    if (this.#fault === end.reason) {
      this.#logger.debug('Mesos event stream dropped again', fields);
      return;
    }
    this.#fault = end.reason;
    this.#logger.warn(
      'Mesos event stream dropped; serving the last zone, subscribing again',
      fields,
    );
  }

  /** The stream at `url` proved healthy after `failures` failures: the fault is over. */
  healthy(url: string, failures: number): void {
    if (this.#fault !== undefined) {
      this.#logger.info('Mesos event stream healthy again', { url, failures });
    }
    this.#fault = undefined;
  }
}
