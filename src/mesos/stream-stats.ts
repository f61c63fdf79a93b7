/**
 * The event stream's counters beyond `SourceStats` (source.ts), exported as metrics
 * (metrics.ts): subscriptions, events, ends by reason, and the resync's (`ResyncStats`).
 */
import type { StreamEndReason } from './stream-ends.js';
import type { ResyncStats } from './stream-resync.js';

/** Counters of the stream beyond `SourceStats` (exported as metrics); resyncs: `ResyncStats`. */
export interface StreamStats extends ResyncStats {
  /** Subscriptions that delivered a snapshot. */
  readonly subscriptions: number;
  /** Events applied, by type (heartbeats included). */
  readonly events: Readonly<Record<string, number>>;
  /** Events that could not be parsed (skipped). */
  readonly badEvents: number;
  /** Streams ended by the watchdog. */
  readonly watchdogTimeouts: number;
  /** Streams that ended, by reason (every reason present, 0 when none). */
  readonly ends: Readonly<Record<StreamEndReason, number>>;
  /** Whether a stream is open now. */
  readonly connected: boolean;
  /** Whether the source fell back to polling (master without the v1 API). */
  readonly fellBack: boolean;
}
