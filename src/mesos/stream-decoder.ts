/**
 * Decoding of one master event stream (issue #8): chunks into RecordIO records (recordio.ts),
 * records into events (v1.ts `parseV1Event`), and the protocol's one rule on their order,
 * SUBSCRIBED first.
 *
 * - A record that does not parse as an event is skipped, counted (`onBadEvent`) and logged: one
 *   bad event must not cost the whole stream. Bad framing, or an event before SUBSCRIBED, throws
 *   `StateParseError`: the stream cannot be trusted any more and must end.
 * - Memory (issue #20): a SUBSCRIBED record is 100+ MB at 100k tasks. A record longer than
 *   `wholeUpTo` is read as its bytes arrive (v1-state-reader.ts `V1EventReader`: each task,
 *   agent and framework parsed alone, tasks compacted), so that neither its bytes, its text nor
 *   its object graph is ever held whole; a syntax error in it is found where it is (line and
 *   column in the record), the rest of the record is dropped unread, and the record is counted
 *   as bad when it ends, as a shorter one would be. Shorter records (events, heartbeats, a small
 *   cluster's snapshot) are parsed whole. A record's bytes leave the list of parts once read, and
 *   the event is made in a frame that returns before it is handed out, so that nothing of the
 *   record is reachable while the caller works on the event.
 */
import { StateParseError } from '../errors.js';
import type { Logger } from '../log.js';
import { StateSyntaxError } from './document.js';
import type { RecordPart } from './recordio.js';
import { RecordIoDecoder, WHOLE_RECORD_BYTES } from './recordio.js';
import type { KnownTasks } from './task-digests.js';
import type { MesosEvent } from './v1.js';
import { parseV1Event } from './v1.js';
import { V1EventReader } from './v1-state-reader.js';

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
  /** Records up to this many bytes are parsed whole, longer ones as they arrive (1 MiB). */
  readonly wholeUpTo?: number;
  /** Largest record accepted, in bytes (`RecordIoOptions.maxRecordBytes`). */
  readonly maxRecordBytes?: number;
  /**
   * The tasks known by the digest of their slice (the stream model, task-digests.ts): a long
   * record's tasks are digested, and those known are not parsed (`V1EventReader` `knownTasks`).
   */
  readonly knownTasks?: KnownTasks;
}

/** A record read as it arrives. */
interface SlicedRecord {
  readonly length: number;
  /** Undefined once the record is known to be bad (`error`): the rest is dropped unread. */
  reader: V1EventReader | undefined;
  error: unknown;
}

/** Decodes one stream, from its first chunk on (a new stream needs a new decoder). */
export class StreamDecoder {
  readonly #options: StreamDecoderOptions;
  readonly #recordIo: RecordIoDecoder;
  /** Whether a SUBSCRIBED record was read (events before it are a protocol error). */
  #isSubscribed = false;
  #sliced: SlicedRecord | undefined;

  /** Creates the decoder of a stream that has not sent anything yet. */
  constructor(options: StreamDecoderOptions) {
    this.#options = options;
    this.#recordIo = new RecordIoDecoder({
      wholeUpTo: options.wholeUpTo ?? WHOLE_RECORD_BYTES,
      ...(options.maxRecordBytes === undefined ? {} : { maxRecordBytes: options.maxRecordBytes }),
    });
  }

  /**
   * The events the chunk completes, in order (none, one or several), decoded one at a time as
   * they are iterated, so that the caller may handle each (await a snapshot's load) before the
   * next is parsed. Throws `StateParseError` on bad framing or an event before SUBSCRIBED.
   */
  *push(chunk: string | Buffer): Generator<DecodedEvent, void, undefined> {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const parts: (RecordPart | undefined)[] = this.#recordIo.parts(bytes);
    for (let i = 0; i < parts.length; i++) {
      const decoded = this.#next(parts, i);
      // Only records that parse are progress (the caller's watchdog): a master sending nothing
      // but bad records is not a working stream.
      if (decoded === undefined) continue;
      if (decoded.event.type === 'SUBSCRIBED') {
        this.#isSubscribed = true;
      } else if (!this.#isSubscribed) {
        throw new StateParseError(`${this.#options.url}: ${decoded.event.type} before SUBSCRIBED`);
      }
      yield decoded;
    }
  }

  /** Reads `parts[i]`, which leaves the list; the event it completes, if any (and is valid). */
  #next(parts: (RecordPart | undefined)[], i: number): DecodedEvent | undefined {
    const part = parts[i];
    parts[i] = undefined;
    switch (part?.kind) {
      case 'record': {
        const bytes = part.bytes.byteLength;
        const event = this.#decode(() => parseV1Event(JSON.parse(part.bytes.toString('utf8'))));
        return event === undefined ? undefined : { event, bytes };
      }
      case 'begin':
        this.#sliced = {
          length: part.length,
          reader: new V1EventReader({
            compact: true,
            ...(this.#options.knownTasks === undefined
              ? {}
              : { knownTasks: this.#options.knownTasks }),
          }),
          error: undefined,
        };
        return undefined;
      case 'piece':
        this.#piece(part.bytes);
        return undefined;
      case 'end':
        return this.#end();
      default:
        return undefined;
    }
  }

  /** The next bytes of the record being read as it arrives. */
  #piece(bytes: Buffer): void {
    const sliced = this.#sliced;
    if (sliced?.reader === undefined) return;
    try {
      sliced.reader.push(bytes);
    } catch (err) {
      // The record is bad: what was read of it goes now, the rest will be dropped unread.
      sliced.reader = undefined;
      sliced.error = err;
    }
  }

  /** The record being read as it arrives is complete: its event, if valid. */
  #end(): DecodedEvent | undefined {
    const sliced = this.#sliced;
    this.#sliced = undefined;
    if (sliced === undefined) return undefined;
    const { reader, error, length } = sliced;
    const event = this.#decode(() => {
      if (reader === undefined) throw error;
      return reader.end();
    });
    return event === undefined ? undefined : { event, bytes: length };
  }

  /** The event `read` makes; undefined (counted, logged) when it throws: the record is bad. */
  #decode(read: () => MesosEvent): MesosEvent | undefined {
    const { url, logger, onBadEvent } = this.#options;
    try {
      return read();
    } catch (err) {
      onBadEvent();
      // A syntax error found by the sliced reader says where (line and column in the record).
      const why = err instanceof StateSyntaxError ? err.message : String(err);
      const error =
        err instanceof StateParseError && !(err instanceof StateSyntaxError)
          ? err
          : new StateParseError(`${url}: bad event: ${why}`);
      logger.warn('Mesos event stream: event skipped', { error: error.message });
      return undefined;
    }
  }
}
