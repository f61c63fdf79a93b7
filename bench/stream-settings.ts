/**
 * The settings of the stream section (bench/stream.ts), from the environment: the report
 * (run.ts) records them next to the results, and the probes and the generator pace themselves
 * by them.
 */
import { envInt, envIntOrZero } from './common.js';

/** The settings of the stream section, from the environment. */
export interface StreamSettings {
  /** Length of each dnsperf run (`BENCH_STREAM_SECONDS`; 0 skips the section). */
  readonly seconds: number;
  /** Task events per second while the generator runs (`BENCH_STREAM_EVENTS_PER_SECOND`). */
  readonly eventsPerSecond: number;
  /** Every n-th launch and every n-th kill is followed by a probe. */
  readonly probeEvery: number;
  /** Period of a probe's queries, in ms. */
  readonly probeIntervalMs: number;
  /** A probe gives up after this many ms (counted as a timeout). */
  readonly probeTimeoutMs: number;
}

/** Reads the stream settings (`BENCH_STREAM_SECONDS`, `BENCH_STREAM_EVENTS_PER_SECOND`). */
export function streamSettings(): StreamSettings {
  return {
    seconds: envIntOrZero('BENCH_STREAM_SECONDS', 10),
    eventsPerSecond: envInt('BENCH_STREAM_EVENTS_PER_SECOND', 100),
    probeEvery: 5,
    probeIntervalMs: 10,
    probeTimeoutMs: 10_000,
  };
}
