/**
 * Decoding of one master event stream (issue #8): chunks into RecordIO records (recordio.ts),
 * records into events (v1.ts `parseV1Event`), and the protocol's one rule on their order,
 * SUBSCRIBED first.
 *
 * - A record that does not parse as an event is skipped, counted (`onBadEvent`) and logged: one
 *   bad event must not cost the whole stream. Bad framing, or an event before SUBSCRIBED, throws
 *   `StateParseError`: the stream cannot be trusted any more and must end.
 * - Memory: a SUBSCRIBED record is 100+ MB at 100k tasks, and the caller keeps its event while it
 *   loads the snapshot (seconds). A record's bytes leave the record list once its text is taken,
 *   and its text is parsed in a frame that returns before the event is handed out, so neither is
 *   reachable while the caller works on the event.
 */
import { StateParseError } from '../errors.js';
import type { Logger } from '../log.js';
import { RecordIoDecoder } from './recordio.js';
import type { MesosEvent } from './v1.js';
import { parseV1Event } from './v1.js';

/** One event of the stream, with the size of its record. */
export interface DecodedEvent {
  readonly event: MesosEvent;
  /** Bytes of the record (for a SUBSCRIBED one, the snapshot's size in the stats). */
  readonly bytes: number;
}

/** Options of `StreamDecoder`. */
export interface StreamDecoderOptions {
  /** The master's base URL, for error messages. */
  readonly url: string;
  readonly logger: Logger;
  /** Called for each record skipped because it is not a valid event. */
  readonly onBadEvent: () => void;
}

/** Decodes one stream, from its first chunk on (a new stream needs a new decoder). */
export class StreamDecoder {
  readonly #options: StreamDecoderOptions;
  readonly #recordIo = new RecordIoDecoder();
  /** Whether a SUBSCRIBED record was read (events before it are a protocol error). */
  #isSubscribed = false;

  /** Creates the decoder of a stream that has not sent anything yet. */
  constructor(options: StreamDecoderOptions) {
    this.#options = options;
  }

  /**
   * The events the chunk completes, in order (none, one or several), decoded one at a time as
   * they are iterated, so that the caller may handle each (await a snapshot's load) before the
   * next is parsed. Throws `StateParseError` on bad framing or an event before SUBSCRIBED.
   */
  *push(chunk: string | Buffer): Generator<DecodedEvent, void, undefined> {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const records: (Buffer | undefined)[] = this.#recordIo.push(bytes);
    for (let i = 0; i < records.length; i++) {
      const size = records[i]?.byteLength ?? 0;
      const event = this.#decode(records, i);
      // Only records that parse are progress (the caller's watchdog): a master sending nothing
      // but bad records is not a working stream.
      if (event === undefined) continue;
      if (event.type === 'SUBSCRIBED') {
        this.#isSubscribed = true;
      } else if (!this.#isSubscribed) {
        throw new StateParseError(`${this.#options.url}: ${event.type} before SUBSCRIBED`);
      }
      yield { event, bytes: size };
    }
  }

  /** Parses `records[i]`, which leaves the list; undefined (counted, logged) when it is bad. */
  #decode(records: (Buffer | undefined)[], i: number): MesosEvent | undefined {
    const { url, logger, onBadEvent } = this.#options;
    try {
      return parseV1Event(JSON.parse(takeText(records, i)) as unknown);
    } catch (err) {
      onBadEvent();
      const error =
        err instanceof StateParseError
          ? err
          : new StateParseError(`${url}: bad event: ${String(err)}`);
      logger.warn('Mesos event stream: event skipped', { error: error.message });
      return undefined;
    }
  }
}

/**
 * The text of `records[i]`, which leaves the array: nothing holds the record's bytes while its
 * text is parsed and applied (a SUBSCRIBED snapshot is 100+ MB, and its load takes seconds).
 */
function takeText(records: (Buffer | undefined)[], i: number): string {
  const text = records[i]?.toString('utf8') ?? '';
  records[i] = undefined;
  return text;
}
