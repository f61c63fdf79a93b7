/**
 * What the running server says about itself beyond metrics: the `/health` details of the state
 * source and the pipeline worker, rate-limited log lines for clients turned away, and the query
 * log (`log.queries`).
 */
import { monotonicClock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { QueryEvent } from '../dns/index.js';
import { RCODE_NAME, TYPE, keyToName } from '../dns/index.js';
import type { HealthDetails } from '../http/index.js';
import type { Logger } from '../log.js';
import type { Pipeline } from '../pipeline/pipeline.js';

function isoTime(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** What `/health` reports about the state source and the pipeline worker. */
export function healthDetails(config: Config, pipeline: Pipeline): HealthDetails {
  const source = pipeline.sourceStats();
  const stream = pipeline.streamStats();
  const worker = pipeline.workerStatus();
  const isFile = config.mesos.stateFile !== '';
  const isStream = !isFile && config.mesos.mode === 'stream';
  return {
    source: {
      mode: isFile
        ? 'file'
        : !isStream
          ? 'poll'
          : stream?.fellBack === true
            ? 'poll-fallback'
            : 'stream',
      leader: source?.leader ?? null,
      leaderUrl: source?.leaderUrl ?? null,
      leaderChanges: pipeline.leaderChanges(),
      lastFetchAt: isoTime(source?.lastSuccessAt),
      consecutiveFailures: source?.consecutiveFailures ?? 0,
      ...(isStream ? { streamConnected: stream?.connected === true } : {}),
    },
    worker: {
      running: worker.running,
      restarts: worker.restarts,
      lastExit:
        worker.lastExit === undefined
          ? null
          : {
              at: new Date(worker.lastExit.at).toISOString(),
              code: worker.lastExit.code,
              reason: worker.lastExit.reason,
            },
      nextRestartAt: isoTime(worker.nextRestartAt),
    },
  };
}

/** HTTP refusals are logged at most this often, with their counts since the last line. */
const REFUSAL_LOG_MS = 60_000;

/**
 * Logs clients turned away by a limit (a flood would otherwise write a line per connection): the
 * first at once, then at most one line per `REFUSAL_LOG_MS` with the counts by reason.
 */
export function refusalLogger(logger: Logger, message: string): (reason: string) => void {
  let last = -Infinity;
  const counts = new Map<string, number>();
  return (reason) => {
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    const now = monotonicClock.now();
    if (now - last < REFUSAL_LOG_MS) return;
    last = now;
    logger.warn(message, Object.fromEntries(counts));
    counts.clear();
  };
}

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([name, n]) => [n, name]));

/** Logs one DNS query (`log.queries`). */
export function logQuery(logger: Logger, event: QueryEvent): void {
  logger.info('query', {
    client: event.client ?? '-',
    transport: event.transport,
    qname: event.query === undefined ? '-' : keyToName(event.query.key),
    qtype: TYPE_NAMES.get(event.qtype) ?? `TYPE${String(event.qtype)}`,
    rcode: RCODE_NAME[event.rcode] ?? `RCODE${String(event.rcode)}`,
    path: event.path,
    ms: Math.round(event.durationMs * 1000) / 1000,
  });
}
