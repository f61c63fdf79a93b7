/**
 * The main thread's side of the pipeline worker (pipeline-worker.ts): starts it, installs the
 * zones it posts into the store, relays its logs and load events, mirrors its counters, and
 * forwards config reloads. The main thread itself never parses a state or builds a zone, so DNS
 * answers stay fast while a large cluster reloads.
 *
 * A worker that dies (a bug, out of memory) is restarted after a second with the current config;
 * the last zone keeps being served meanwhile.
 */
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/index.js';
import { withUpdate, zoneFromImage } from '../dns/index.js';
import type { ErrorCode } from '../errors.js';
import { MesosDnsError } from '../errors.js';
import type { LoadEvent, LoaderStats } from '../loader.js';
import { emptyLoaderStats } from '../loader.js';
import type { Logger } from '../log.js';
import type { SourceStats, StreamStats } from '../mesos/index.js';
import { CompactRecordSet } from '../records/index.js';
import type { ZoneStore } from '../store.js';
import type {
  FromWorker,
  SnapshotMessage,
  ToWorker,
  UpdateMessage,
  WorkerInit,
} from './messages.js';
import { OverlayRecordSet } from './overlay-records.js';
import { isFromWorker } from './messages.js';

/** Options of `Pipeline`. */
export interface PipelineOptions {
  readonly configFile: string;
  readonly config: Config;
  /** Addresses of record N1 (the DNS listener's addresses). */
  readonly nsIps: readonly string[];
  readonly version: string;
  /** Where published zones are installed. */
  readonly store: ZoneStore;
  readonly logger: Logger;
  /** Called once per state load, for metrics (the loader's `onLoad`). */
  readonly onLoad?: (event: LoadEvent) => void;
  /** Called after each zone installed. */
  readonly onPublish?: (snapshot: SnapshotFacts) => void;
}

/** Facts about an installed zone. */
export interface SnapshotFacts {
  readonly serial: number;
  readonly changed: boolean;
  /** From the state's arrival in the worker to the zone's compilation, ms. */
  readonly buildMs: number;
  /** Status timestamps (ms since the epoch) of the streamed updates this zone first serves. */
  readonly statusTimesMs: readonly number[];
}

const MB = 1024 * 1024;

/** How long `close` waits for the worker to stop its source (it may be busy with a load). */
const CLOSE_WAIT_MS = 1_000;

/** How long a dead worker waits before it is started again. */
const RESTART_MS = 1_000;

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'ERR_CONFIG_INVALID',
  'ERR_CONFIG_READ',
  'ERR_STATE_FETCH',
  'ERR_NO_LEADER',
  'ERR_STATE_PARSE',
  'ERR_UPSTREAM',
  'ERR_DECODE',
]);

function isErrorCode(code: string): code is ErrorCode {
  return ERROR_CODES.has(code);
}

/**
 * Turns off V8's parallel scavenges, process-wide, once the first zone is served. A load
 * allocates about a gigabyte in the worker, and with parallel scavenges the helper threads
 * (shared by every isolate, at normal priority) take the CPU from the main thread: measured with
 * a worker parsing the 100k-task state, the main thread's event-loop delay went from p99 6.1 ms /
 * max 13 ms to p99 1.2 ms / max 10 ms without them. Loads take about a third longer, which is
 * why the first one, with nothing to serve yet, keeps them. The main thread's own young
 * generation is small. (`--single-threaded-gc` does more but cannot be set at run time.)
 */
function useSerialScavenges(): void {
  v8.setFlagsFromString('--no-parallel-scavenge');
}

/**
 * Starts the worker module next to this one. Running from source (tests under tsx), the module is
 * TypeScript: tsx's loader hooks do not reach worker threads on Node 20 (toolbox.md), so the
 * worker registers them itself before importing it.
 */
function startWorker(workerData: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./pipeline-worker.js', import.meta.url), { workerData });
  }
  const url = new URL('./pipeline-worker.ts', import.meta.url).href;
  const code =
    "import('tsx/esm/api').then(({ register }) => { register(); " +
    `return import(${JSON.stringify(url)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** Runs the state pipeline in a worker thread (see the module comment). */
export class Pipeline {
  readonly #options: PipelineOptions;
  #worker: Worker | undefined;
  #config: Config;
  #nsIps: readonly string[];
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #loaderStats: LoaderStats = emptyLoaderStats();
  #sourceStats: SourceStats | undefined;
  #leaderChanges = 0;
  #streamStats: StreamStats | undefined;
  /** The record set of the last full snapshot (updates are layered on it). */
  #baseRecords: CompactRecordSet | undefined;
  #isStarted = false;
  #isClosed = false;
  #restartTimer: NodeJS.Timeout | undefined;

  /** Starts the worker thread; no state is loaded before `prepare` and `start`. */
  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#nsIps = options.nsIps;
    this.#worker = this.#spawn();
  }

  /** The loader's counters, as of the worker's last report. */
  get stats(): Readonly<LoaderStats> {
    return this.#loaderStats;
  }

  /** The state source's counters, as of the worker's last report. */
  sourceStats(): SourceStats | undefined {
    return this.#sourceStats;
  }

  /** The event stream's counters as last reported (stream mode only). */
  streamStats(): StreamStats | undefined {
    return this.#streamStats;
  }

  /** Leader changes seen so far, by every source (a reload may replace the source). */
  leaderChanges(): number {
    return this.#leaderChanges;
  }

  /** Age of the data served (ms), undefined before the first load. */
  dataAgeMs(): number | undefined {
    const at = this.#loaderStats.lastPublishAt;
    return at === undefined ? undefined : Date.now() - at;
  }

  /**
   * Builds the state source of `config` in the worker, to be started by `start` (the first) or
   * swapped in by `commit`. Rejects with the source's error (e.g. an unreadable secret file).
   */
  prepare(config: Config): Promise<void> {
    return this.#request((id) => ({ type: 'prepare', id, config }));
  }

  /** Drops a prepared source (a reload that was rejected after all). */
  discard(): void {
    this.#send({ type: 'discard' });
  }

  /** Starts the prepared source: the first load begins. */
  start(): void {
    this.#isStarted = true;
    this.#send({ type: 'start' });
  }

  /**
   * Applies a reloaded config: with `switchSource` the prepared source replaces the running one,
   * otherwise the running source loads again at once (the zone is rebuilt with the new config).
   */
  commit(config: Config, nsIps: readonly string[], switchSource: boolean): Promise<void> {
    this.#config = config;
    this.#nsIps = nsIps;
    return this.#request((id) => ({ type: 'commit', id, config, nsIps, switchSource }));
  }

  /** Stops the source and the worker. */
  async close(): Promise<void> {
    this.#isClosed = true;
    clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    if (worker === undefined) return;
    try {
      await Promise.race([
        this.#request((id) => ({ type: 'close', id })),
        new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
      ]);
    } catch {
      // Terminated below either way.
    }
    this.#worker = undefined;
    await worker.terminate();
  }

  #spawn(): Worker {
    const init: WorkerInit = {
      configFile: this.#options.configFile,
      config: this.#config,
      nsIps: this.#nsIps,
      version: this.#options.version,
    };
    const worker = startWorker(init);
    worker.on('message', (data: unknown) => {
      if (isFromWorker(data)) this.#receive(data);
    });
    worker.on('error', (err) => {
      this.#options.logger.error('pipeline worker failed', { error: err.stack ?? err.message });
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(new Error('pipeline worker exited'));
      this.#pending.clear();
      if (this.#isClosed) return;
      this.#options.logger.error('pipeline worker exited; restarting it, serving the last zone', {
        code,
      });
      this.#restartTimer = setTimeout(() => {
        void this.#restart();
      }, RESTART_MS);
    });
    return worker;
  }

  async #restart(): Promise<void> {
    if (this.#isClosed) return;
    this.#worker = this.#spawn();
    try {
      await this.prepare(this.#config);
      if (this.#isStarted) this.#send({ type: 'start' });
    } catch (err) {
      this.#options.logger.error('pipeline worker restart failed', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  #send(message: ToWorker): void {
    this.#worker?.postMessage(message);
  }

  #request(make: (id: number) => ToWorker): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return Promise.reject(new Error('pipeline worker not running'));
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(make(id));
    });
  }

  #receive(message: FromWorker): void {
    switch (message.type) {
      case 'snapshot':
        this.#install(message);
        return;
      case 'update':
        this.#applyUpdate(message);
        return;
      case 'log':
        this.#options.logger[message.level](message.message, message.fields);
        return;
      case 'load':
        this.#options.onLoad?.(message.event);
        return;
      case 'stats':
        this.#loaderStats = message.loader;
        this.#sourceStats = message.source;
        this.#leaderChanges = message.leaderChanges;
        this.#streamStats = message.stream;
        return;
      case 'done': {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error === undefined) pending?.resolve();
        else {
          const { code, message: text } = message.error;
          pending?.reject(
            isErrorCode(code) ? new MesosDnsError(code, text) : new Error(`${code}: ${text}`),
          );
        }
        return;
      }
    }
  }

  #install(message: SnapshotMessage): void {
    if (this.#options.store.current === undefined) useSerialScavenges();
    const zone = zoneFromImage(message.records, message.image, {
      ...message.settings,
      serial: message.serial,
    });
    const records = new CompactRecordSet(message.records);
    this.#baseRecords = records;
    this.#options.store.install({
      records,
      zone,
      loadedAt: message.loadedAt,
      changed: message.changed,
    });
    const memory = process.memoryUsage();
    this.#options.logger.debug('zone installed', {
      serial: message.serial,
      names: message.image.names,
      mainHeapUsedMB: Math.round(memory.heapUsed / MB),
      rssMB: Math.round(memory.rss / MB),
    });
    this.#options.onPublish?.({
      serial: message.serial,
      changed: message.changed,
      buildMs: message.buildMs,
      statusTimesMs: message.statusTimesMs,
    });
  }

  /** Serves an incremental update: the changed names go into the zone's overlay. */
  #applyUpdate(message: UpdateMessage): void {
    const current = this.#options.store.current;
    const base = this.#baseRecords;
    if (current === undefined || base === undefined) return; // never before a snapshot
    const zone = withUpdate(current.zone, message.records, message.names, {
      ...message.settings,
      serial: message.serial,
    });
    this.#options.store.install({
      records: zone.overlay === undefined ? base : new OverlayRecordSet(base, zone.overlay),
      zone,
      loadedAt: message.loadedAt,
      changed: true,
    });
    this.#options.onPublish?.({
      serial: message.serial,
      changed: true,
      buildMs: message.buildMs,
      statusTimesMs: message.statusTimesMs,
    });
  }
}
