/**
 * The transfer worker's work: the mirror of the store (transfer-mirror.ts) kept up to date, and
 * each transfer job's messages made, signed and framed (2-byte length, RFC 1035 4.2.2) into
 * chunks of up to `CHUNK_SIZE` bytes that the main thread writes to the socket as they are. At
 * most `WINDOW` chunks of a job are on their way to the main thread or being written: each `ack`
 * (one was written) lets the next be made, so a slow reader holds the job, not memory. The ack
 * gives the chunk's buffer back and the next chunk is made in it: neither thread allocates, or
 * collects, 60 MB a 100k-task AXFR (external memory, which makes V8 collect). One chunk
 * is made per turn of the worker's event loop, so that the jobs of several transfers, and the
 * mirror's updates, take turns.
 *
 * The messages are those of the main thread's in-thread path, byte for byte: the same
 * generators (axfr.ts, ixfr.ts) over the same zone and the same TSIG signer.
 */
import { axfrMessages } from './axfr.js';
import { ixfrMessages } from './ixfr.js';
import { TransferMirror } from './transfer-mirror.js';
import type { FromTransferWorker, TransferJob, ToTransferWorker } from './transfer-protocol.js';
import { TsigSigner } from './tsig.js';

/**
 * Bytes of framed messages a chunk holds at most: 16 16-KiB messages per write and per message
 * between the threads, while one write stays short on the thread that answers DNS (a copy into
 * the socket: tens of µs). At 128 KiB the main thread's share of a signed 100k-task AXFR (460
 * chunks received, written and acked) was 100-230 ms of CPU; at 256 KiB, half the hand-offs.
 */
export const CHUNK_SIZE = 256 * 1024;

/** Chunks of one job on their way to the main thread at most. */
export const WINDOW = 4;

/** Chunk buffers kept for the next chunks at most (`WINDOW` per transfer running). */
const MAX_FREE = 16;

/** Posts a message to the main thread, with the buffers to transfer. */
export type PostToMain = (message: FromTransferWorker, transfer?: ArrayBuffer[]) => void;

/** A job being made. */
interface Running {
  readonly id: number;
  readonly messages: Iterator<Buffer>;
  readonly sign: (m: Buffer) => Buffer;
  /** A signed message that did not fit in the last chunk. */
  carry: Buffer | undefined;
  credits: number;
  scheduled: boolean;
}

/** The worker's state and work (see the module comment). */
export class TransferProducer {
  readonly #post: PostToMain;
  readonly #mirror = new TransferMirror();
  readonly #jobs = new Map<number, Running>();
  /** Buffers of chunks written, for the next chunks. */
  readonly #free: ArrayBuffer[] = [];

  constructor(post: PostToMain) {
    this.#post = post;
  }

  /** Jobs being made (tests). */
  get running(): number {
    return this.#jobs.size;
  }

  handle(message: ToTransferWorker): void {
    switch (message.type) {
      case 'install':
        this.#mirror.install(message);
        return;
      case 'sync':
        this.#mirror.sync(message);
        return;
      case 'apply':
        this.#mirror.apply(message.changeset);
        return;
      case 'limits':
        this.#mirror.setLimits(message.limits);
        return;
      case 'transfer':
        this.#start(message);
        return;
      case 'ack': {
        if (this.#free.length < MAX_FREE && message.data.byteLength === CHUNK_SIZE) {
          this.#free.push(message.data);
        }
        const job = this.#jobs.get(message.id);
        if (job === undefined) return;
        job.credits++;
        this.#schedule(job);
        return;
      }
      case 'cancel':
        this.#jobs.delete(message.id);
        return;
    }
  }

  #start(message: TransferJob): void {
    const snapshot = this.#mirror.snapshot(message.serial, message.incremental);
    if (typeof snapshot === 'string') {
      this.#post({ type: 'stale', id: message.id, reason: snapshot });
      return;
    }
    const q = { id: message.queryId, question: message.question };
    const { zone, diffs } = snapshot;
    const messages = diffs === undefined ? axfrMessages(zone, q) : ixfrMessages(zone, diffs, q);
    const tsig = message.tsig;
    let sign = (m: Buffer): Buffer => m;
    if (tsig !== undefined) {
      const key = {
        name: tsig.name,
        algorithm: tsig.algorithm,
        secret: Buffer.from(tsig.secret),
      };
      const offset = tsig.clockOffsetMs;
      const signer = new TsigSigner(
        key,
        () => (Date.now() + offset) / 1000,
        Buffer.from(tsig.requestMac),
      );
      sign = (m) => signer.sign(m);
    }
    const job: Running = {
      id: message.id,
      messages,
      sign,
      carry: undefined,
      credits: WINDOW,
      scheduled: false,
    };
    this.#jobs.set(job.id, job);
    this.#schedule(job);
  }

  /** Makes the job's next chunk at the next turn of the loop, if it may. */
  #schedule(job: Running): void {
    if (job.scheduled || job.credits <= 0) return;
    job.scheduled = true;
    setImmediate(() => {
      job.scheduled = false;
      if (this.#jobs.get(job.id) !== job) return;
      this.#step(job);
      this.#schedule(job);
    });
  }

  /** One chunk of the job, or its end. */
  #step(job: Running): void {
    try {
      const chunk = this.#fill(job);
      if (chunk === undefined) {
        this.#jobs.delete(job.id);
        this.#post({ type: 'end', id: job.id });
        return;
      }
      job.credits--;
      if (chunk.last) this.#jobs.delete(job.id);
      this.#post(chunk, [chunk.data]);
    } catch (err) {
      this.#jobs.delete(job.id);
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.#post({ type: 'failed', id: job.id, error });
    }
  }

  /** The next chunk of framed messages; undefined when the job has no more. */
  #fill(job: Running): Extract<FromTransferWorker, { type: 'chunk' }> | undefined {
    // Its own ArrayBuffer (not the Buffer pool's): it is transferred to the main thread.
    const data = this.#free.pop() ?? new ArrayBuffer(CHUNK_SIZE);
    const out = Buffer.from(data);
    let length = 0;
    let messages = 0;
    let bytes = 0;
    let last = false;
    for (;;) {
      let message = job.carry;
      job.carry = undefined;
      if (message === undefined) {
        const next = job.messages.next();
        if (next.done === true) {
          last = true;
          break;
        }
        message = job.sign(next.value);
      }
      if (length + 2 + message.length > CHUNK_SIZE) {
        job.carry = message;
        break;
      }
      out.writeUInt16BE(message.length, length);
      message.copy(out, length + 2);
      length += 2 + message.length;
      messages++;
      bytes += message.length;
    }
    if (messages === 0) {
      this.#free.push(data);
      return undefined;
    }
    return { type: 'chunk', id: job.id, data, length, messages, bytes, last };
  }
}
