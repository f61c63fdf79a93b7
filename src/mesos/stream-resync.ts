/**
 * The periodic resync of the event stream (issue #8, `mesos.stream.resync`): `resyncMs` after a
 * subscription, and again after each clean comparison, a `GET_STATE` from the same master is
 * compared with the streamed model (`StreamModel.compareWith`, ignoring the tasks the stream
 * touched since the request was sent). Drift is logged with examples, counted, and repaired by
 * subscribing again (`onDrift`): a fresh snapshot is consistent with the events that follow it,
 * while patching the model from `GET_STATE` would race the events in flight. A failed
 * `GET_STATE` is logged and tried again a period later; it does not end the stream.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { EventStream } from './client.js';
import { toError } from './source.js';
import type { StreamModel } from './stream-model.js';
import type { KnownTasks } from './task-digests.js';
import type { ParsedV1State } from './v1.js';

/** What the resync needs of the HTTP client (a part of the stream's `ApiClient`). */
export interface ResyncClient {
  readGetState(base: string, signal?: AbortSignal, known?: KnownTasks): Promise<ParsedV1State>;
}

/** The resync counters (part of the stream's `StreamStats`). */
export interface ResyncStats {
  /** Resync comparisons run, and those that found drift. */
  readonly resyncs: number;
  readonly resyncsWithDrift: number;
  /** Drifted tasks, agents and frameworks found by all resyncs. */
  readonly driftedTasks: number;
  readonly driftedAgents: number;
  readonly driftedFrameworks: number;
}

/** Options of `StreamResync`. */
export interface StreamResyncOptions {
  readonly client: ResyncClient;
  /** The streamed view that `GET_STATE` is compared with. */
  readonly model: StreamModel;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Period of the comparison; 0: never. */
  readonly resyncMs: number;
  /** Aborts the request in flight (the source closes). */
  readonly signal: AbortSignal;
  /** Whether `stream` is still the one being read: the comparison of an ended stream is moot. */
  readonly isCurrent: (stream: EventStream) => boolean;
  /** The comparison found drift: the stream is to be ended and subscribed again. */
  readonly onDrift: () => void;
}

/** Compares the streams with `GET_STATE` every `resyncMs`; counts over all streams. */
export class StreamResync {
  readonly #options: StreamResyncOptions;
  #stats: ResyncStats = {
    resyncs: 0,
    resyncsWithDrift: 0,
    driftedTasks: 0,
    driftedAgents: 0,
    driftedFrameworks: 0,
  };

  /** Creates the resync; nothing runs until `schedule`. */
  constructor(options: StreamResyncOptions) {
    this.#options = options;
  }

  /** The counters of all comparisons so far. */
  get stats(): ResyncStats {
    return this.#stats;
  }

  /**
   * Schedules a comparison for `stream` in `resyncMs` (none when 0); returns its timer, for the
   * stream to clear when it ends. Later comparisons of the stream check `isCurrent` instead.
   */
  schedule(stream: EventStream): NodeJS.Timeout | undefined {
    const { resyncMs } = this.#options;
    if (resyncMs <= 0) return undefined;
    const timer = setTimeout(() => {
      void this.#resync(stream);
    }, resyncMs);
    timer.unref();
    return timer;
  }

  async #resync(stream: EventStream): Promise<void> {
    const { client, clock, logger, model, signal, isCurrent } = this.#options;
    if (!isCurrent(stream)) return;
    const since = clock.now();
    let snapshot;
    try {
      // Read as it arrives; the tasks the model holds as their slice made them are its own.
      snapshot = (await client.readGetState(stream.url, signal, model)).state;
    } catch (err) {
      logger.warn('Mesos resync: GET_STATE failed', { error: toError(err, stream.url).message });
      if (isCurrent(stream)) this.schedule(stream);
      return;
    }
    if (!isCurrent(stream)) return;
    const drift = model.compareWith(snapshot, since);
    const hasDrift = drift.tasks + drift.agents + drift.frameworks > 0;
    const s = this.#stats;
    this.#stats = {
      resyncs: s.resyncs + 1,
      resyncsWithDrift: s.resyncsWithDrift + (hasDrift ? 1 : 0),
      driftedTasks: s.driftedTasks + drift.tasks,
      driftedAgents: s.driftedAgents + drift.agents,
      driftedFrameworks: s.driftedFrameworks + drift.frameworks,
    };
    if (!hasDrift) {
      logger.debug('Mesos resync: the stream matches GET_STATE', { tasks: model.tasks });
      this.schedule(stream);
      return;
    }
    logger.warn('Mesos resync: the stream drifted from GET_STATE; subscribing again', {
      tasks: drift.tasks,
      agents: drift.agents,
      frameworks: drift.frameworks,
      examples: drift.examples,
    });
    this.#options.onDrift();
  }
}
