/**
 * The main thread's side of the transfer worker (transfer-worker.ts): zone transfer messages
 * (owner compression, 16 KiB messages, TSIG on every one) are made in that thread, so that the
 * thread that answers DNS only writes finished chunks to the socket, each when the socket took
 * the one before (a slow reader is cut off by the connection's own limits).
 *
 * What crosses: the store's changes, as they happen (`installed`, `applied`, `setLimits`: the
 * worker keeps a mirror of the zone and the journal, transfer-mirror.ts; a full build's record
 * data is shared, changesets and differences are small copies), or the whole zone and journal
 * once when the worker starts after the first load (`sync`). A transfer then posts only its
 * request and the serial it answers with; the worker checks that its mirror is at that serial
 * (and that its journal holds the same chain for an IXFR) and keeps that zone, immutable, for the
 * whole transfer while the mirror moves on.
 *
 * The worker may be missing (it could not start, or it died): `run` then declines, and the
 * caller makes the messages on the main thread as before (transfer.ts). A worker that died is
 * started again after `restartDelayMs` (1 s, doubling up to a minute while it keeps failing;
 * back to 1 s once it has made a transfer); the first failure is a warning, the repeats debug.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { RecordData } from '../records/index.js';
import type { Changeset, ZoneDiff } from './changeset.js';
import { changedEntries } from './changed-names.js';
import type { JournalLimits } from './journal.js';
import type { FromTransferWorker, TransferJob, ToTransferWorker } from './transfer-protocol.js';
import {
  imageOf,
  isFromTransferWorker,
  settingsOf,
  transferDiff,
  transferRecords,
} from './transfer-protocol.js';
import type { Zone } from './zone.js';

/**
 * Where a transfer writes: `data` is one message, or with `framed` whole messages each after its
 * 2-byte length; resolves when the connection can take more, false once it is gone. `written`
 * (framed only) is called once the bytes have left `data` (the socket's write callback): its
 * buffer may then be used again.
 */
export type TransferSink = (
  data: Buffer,
  framed?: boolean,
  written?: () => void,
) => Promise<boolean>;

/** What the worker starts from when it starts after the first load. */
export interface OffloadSource {
  /** The zone served. */
  readonly zone: () => Zone | undefined;
  /** The journal: its serial, differences (oldest first) and bounds. */
  readonly journal: () =>
    | {
        readonly serial: number | undefined;
        readonly diffs: () => readonly ZoneDiff[];
        readonly limits: JournalLimits;
      }
    | undefined;
}

/** Options of `TransferOffload`. */
export interface TransferOffloadOptions {
  readonly logger: Logger;
  readonly source: OffloadSource;
  /** Starts the worker thread (the seam tests use); default `startTransferWorker`. */
  readonly startWorker?: () => Worker;
  /** The wait before the `failures`th restart of a worker that died (default `restartDelay`). */
  readonly restartDelayMs?: (failures: number) => number;
}

/** 1 s, doubled for every failure in a row, at most a minute. */
export function restartDelay(failures: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1));
}

/** How a job ended: made and sent (or aborted), or declined with nothing sent. */
export type OffloadOutcome =
  | {
      readonly kind: 'sent';
      readonly ok: boolean;
      readonly messages: number;
      readonly bytes: number;
      readonly reason: string | undefined;
    }
  | { readonly kind: 'declined'; readonly reason: string };

/** What a job asks (the rest of `TransferJob` is the offload's). */
export type OffloadJob = Omit<TransferJob, 'type' | 'id'>;

type Chunk = Extract<FromTransferWorker, { type: 'chunk' }>;

/** A job in flight. */
interface Job {
  readonly send: TransferSink;
  readonly resolve: (outcome: OffloadOutcome) => void;
  readonly queue: Chunk[];
  ended: boolean;
  writing: boolean;
  started: boolean;
  messages: number;
  bytes: number;
}

/**
 * Starts the worker module next to this one. Running from source (tsx), the module is
 * TypeScript, and tsx's hooks do not reach worker threads on Node 20: the worker registers them.
 */
export function startTransferWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./transfer-worker.js', import.meta.url));
  }
  const url = new URL('./transfer-worker.ts', import.meta.url).href;
  const code =
    "import('tsx/esm/api').then(({ register }) => { register(); " +
    `return import(${JSON.stringify(url)}); });`;
  return new Worker(code, { eval: true });
}

/** Runs transfers in the worker thread (see the module comment). */
export class TransferOffload {
  readonly #options: TransferOffloadOptions;
  #worker: Worker | undefined;
  #isClosed = false;
  /** Failures since the worker last made a transfer (drives the restart delay and the log). */
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #restarts = 0;
  #nextId = 1;
  readonly #jobs = new Map<number, Job>();

  constructor(options: TransferOffloadOptions) {
    this.#options = options;
  }

  /** Workers started again after one died, in all (`mesodns_transfer_worker_restarts_total`). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Whether the worker runs (jobs go to it). */
  get available(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Starts the worker (when it is not running) and gives it the zone and journal served now.
   * A worker that cannot start is logged; transfers are then made on the main thread.
   */
  start(): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    if (this.#worker !== undefined || this.#isClosed) return;
    let worker: Worker;
    try {
      worker = (this.#options.startWorker ?? startTransferWorker)();
    } catch (err) {
      this.#unavailable(err);
      return;
    }
    worker.on('message', (data: unknown) => {
      if (isFromTransferWorker(data)) this.#receive(data);
    });
    worker.on('error', (err) => {
      if (this.#worker === worker) this.#unavailable(err);
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#unavailable(new Error(`exited with code ${String(code)}`));
    });
    // Holding the process open only while jobs run (#track).
    worker.unref();
    this.#worker = worker;
    this.#sync();
  }

  /** The worker is gone: running jobs end, later ones are declined. */
  #unavailable(err: unknown): void {
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
    if (!this.#isClosed) {
      this.#failures++;
      const delayMs = (this.#options.restartDelayMs ?? restartDelay)(this.#failures);
      const level = this.#failures === 1 ? 'warn' : 'debug';
      this.#options.logger[level](
        'transfer worker unavailable; transfers are made on the main thread',
        { error: err instanceof Error ? err.message : String(err), restartInMs: delayMs },
      );
      clearTimeout(this.#restartTimer);
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = undefined;
        this.#restarts++;
        this.start();
      }, delayMs);
      this.#restartTimer.unref();
    }
    for (const [id, job] of this.#jobs) {
      this.#finish(id, job, job.started ? 'the transfer worker stopped' : undefined);
    }
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    for (const [id, job] of this.#jobs) this.#finish(id, job, 'closing');
    await worker?.terminate();
  }

  #post(message: ToTransferWorker, transfer?: ArrayBuffer[]): void {
    this.#worker?.postMessage(message, transfer);
  }

  /** A full build the store installed, with its difference. */
  installed(zone: Zone, diff: ZoneDiff | undefined): void {
    if (this.#worker === undefined) return;
    this.#post({
      type: 'install',
      records: transferRecords(zone.records),
      image: imageOf(zone),
      settings: settingsOf(zone),
      diff: diff === undefined ? undefined : transferDiff(diff),
    });
  }

  /** A changeset the store applied. */
  applied(changeset: Changeset): void {
    if (this.#worker === undefined) return;
    this.#post({
      type: 'apply',
      changeset: {
        ...transferDiff(changeset),
        contents: transferRecords(changeset.contents),
        names: changeset.names,
      },
    });
  }

  /** New bounds of the journal. */
  setLimits(limits: JournalLimits): void {
    this.#post({ type: 'limits', limits });
  }

  /** The zone and journal served now, whole (a worker just started). */
  #sync(): void {
    const journal = this.#options.source.journal();
    if (journal !== undefined) this.setLimits(journal.limits);
    const zone = this.#options.source.zone();
    if (zone === undefined) return;
    const parts: RecordData[] = [];
    const index = new Map<RecordData, number>();
    const changed: number[] = [];
    for (const { hash, part, id } of changedEntries(zone.changes)) {
      let i = index.get(part.records);
      if (i === undefined) {
        i = parts.push(transferRecords(part.records)) - 1;
        index.set(part.records, i);
      }
      changed.push(hash, i, id);
    }
    this.#post({
      type: 'sync',
      records: transferRecords(zone.records),
      image: imageOf(zone),
      settings: settingsOf(zone),
      names: zone.names,
      rrs: zone.rrs,
      changedNames: zone.changedNames,
      parts,
      changed: Int32Array.from(changed),
      journalSerial: journal?.serial,
      diffs: (journal?.diffs() ?? []).map(transferDiff),
    });
  }

  /**
   * Makes `job` in the worker and writes its chunks to `send`. Declined, with nothing sent, when
   * the worker is missing or its zone is not at `job.serial`: the caller makes it itself.
   */
  run(job: OffloadJob, send: TransferSink): Promise<OffloadOutcome> {
    if (this.#worker === undefined) {
      return Promise.resolve({ kind: 'declined', reason: 'no transfer worker' });
    }
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#track(id, {
        send,
        resolve,
        queue: [],
        ended: false,
        writing: false,
        started: false,
        messages: 0,
        bytes: 0,
      });
      this.#post({ ...job, type: 'transfer', id });
    });
  }

  /** Adds a job; the worker holds the process open while there are any. */
  #track(id: number, job: Job): void {
    if (this.#jobs.size === 0) this.#worker?.ref();
    this.#jobs.set(id, job);
  }

  /** Removes a job. */
  #untrack(id: number): void {
    this.#jobs.delete(id);
    if (this.#jobs.size === 0) this.#worker?.unref();
  }

  #receive(message: FromTransferWorker): void {
    const job = this.#jobs.get(message.id);
    if (job === undefined) return;
    switch (message.type) {
      case 'chunk':
        job.queue.push(message);
        if (message.last) job.ended = true;
        void this.#write(message.id, job);
        return;
      case 'end':
        job.ended = true;
        void this.#write(message.id, job);
        return;
      case 'stale':
        this.#options.logger.debug('transfer made on the main thread', { reason: message.reason });
        this.#untrack(message.id);
        job.resolve({ kind: 'declined', reason: message.reason });
        return;
      case 'failed':
        this.#options.logger.error('transfer worker: making a transfer failed', {
          error: message.error,
        });
        this.#finish(message.id, job, job.started ? 'failed' : undefined);
        return;
    }
  }

  /** Writes the job's chunks, each when the socket took the one before. */
  async #write(id: number, job: Job): Promise<void> {
    if (job.writing) return;
    job.writing = true;
    for (let chunk = job.queue.shift(); chunk !== undefined; chunk = job.queue.shift()) {
      job.started = true;
      const { data } = chunk;
      const sent = await job.send(Buffer.from(data, 0, chunk.length), true, () => {
        // The worker makes the next chunk in it (the others queued here are written meanwhile).
        this.#post({ type: 'ack', id, data }, [data]);
      });
      if (this.#jobs.get(id) !== job) return;
      if (!sent) {
        this.#post({ type: 'cancel', id });
        this.#finish(id, job, 'the connection closed');
        return;
      }
      job.messages += chunk.messages;
      job.bytes += chunk.bytes;
    }
    job.writing = false;
    if (job.ended) this.#finish(id, job, undefined, true);
  }

  /**
   * Ends a job: sent (`ok`, or aborted for `reason`), or declined when nothing was written and
   * it did not end well (the caller makes it itself).
   */
  #finish(id: number, job: Job, reason: string | undefined, ok = false): void {
    if (this.#jobs.get(id) !== job) return;
    this.#untrack(id);
    // Chunks never written: their buffers go back.
    for (const { data } of job.queue.splice(0)) this.#post({ type: 'ack', id, data }, [data]);
    if (!ok && !job.started) {
      job.resolve({ kind: 'declined', reason: reason ?? 'the transfer worker stopped' });
      return;
    }
    if (ok) this.#failures = 0;
    job.resolve({ kind: 'sent', ok, messages: job.messages, bytes: job.bytes, reason });
  }
}
