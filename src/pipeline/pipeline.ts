/**
 * The main thread's side of the pipeline worker (pipeline-worker.ts): starts it, installs the
 * zones it posts into the store, relays its logs and load events, mirrors its counters, and
 * forwards config reloads. The main thread itself never parses a state or builds a zone, so DNS
 * answers stay fast while a large cluster reloads.
 *
 * A worker that dies (a bug, out of memory) is restarted with the current config after a
 * jittered, capped exponential backoff (`RestartPolicy`), one log line per exit; the last zone
 * keeps being served meanwhile. Out of memory is the usual cause: Node sizes each thread's V8 heap
 * from the machine's or the container's memory (the old generation gets half of a cgroup limit),
 * and a load holds the whole state document's text and its parsed form in the worker's heap.
 */
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/index.js';
import { laterSerial, zoneFromImage } from '../dns/index.js';
import type { ErrorCode } from '../errors.js';
import { MesosDnsError } from '../errors.js';
import type { LoadEvent, LoaderStats } from './loader.js';
import { emptyLoaderStats } from './loader.js';
import type { Logger } from '../log.js';
import type { SourceStats, StreamStats, ZooKeeperSession } from '../mesos/index.js';
import { backoffMs } from '../mesos/index.js';
import { CompactRecordSet } from '../records/index.js';
import type { ZoneStore } from '../store.js';
import type {
  FromWorker,
  ChangesetMessage,
  SnapshotMessage,
  ToWorker,
  UpdateFallbackReason,
  WorkerHeap,
  WorkerInit,
} from './messages.js';
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
  /** Called when streamed task changes are applied by a full build instead of an update. */
  readonly onUpdateFallback?: (reason: UpdateFallbackReason) => void;
  /** When a dead worker is started again; default `DEFAULT_RESTART_POLICY`. */
  readonly restart?: RestartPolicy;
  /** Jitter source of the restart delays, a float in [0, 1); default `Math.random`. */
  readonly random?: () => number;
  /**
   * Starts one worker thread (the seam tests use to reach the worker, e.g. to terminate it);
   * default `startPipelineWorker`.
   */
  readonly startWorker?: (init: WorkerInit) => Worker;
}

/**
 * Restarts of a dead pipeline worker: the n-th restart in a row waits
 * `min(maxMs, initialMs * 2^(n-1))`, jittered down to half of it, so that a worker dying at every
 * load (out of memory on a large state) does not refetch the state from the masters every second,
 * and several instances do not do it in step. A worker that ran `resetAfterMs` before dying
 * counts as healthy: the next restart is the first of a new series.
 */
export interface RestartPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
}

/** 0.5-1 s, then doubling up to 1-2 min; a worker that ran 5 min starts a new series. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  initialMs: 1_000,
  maxMs: 120_000,
  resetAfterMs: 300_000,
});

/**
 * The delay before the `attempt`-th restart in a row (1-based) under `policy`: the capped
 * exponential step, scaled by `0.5 + random / 2` ("equal jitter": never less than half a step).
 */
export function restartDelayMs(attempt: number, policy: RestartPolicy, random: number): number {
  const jitter = Math.min(Math.max(random, 0), 1);
  return backoffMs(attempt, policy.maxMs, () => jitter, policy.initialMs);
}

/** What the main thread knows about the pipeline worker, for `/health` and the metrics. */
export interface WorkerStatus {
  readonly running: boolean;
  /** Unexpected exits since the start (each followed by a restart). */
  readonly restarts: number;
  /** The last unexpected exit: when (ms since the epoch), its exit code and why. */
  readonly lastExit:
    { readonly at: number; readonly code: number; readonly reason: string } | undefined;
  /** When the next restart is due (ms since the epoch), while the worker is down. */
  readonly nextRestartAt: number | undefined;
}

/** Facts about an installed zone. */
export interface SnapshotFacts {
  readonly serial: number;
  readonly changed: boolean;
  /**
   * From the state's arrival in the worker to the zone's compilation, ms (for an incremental
   * update: from the batch's arrival to its changeset).
   */
  readonly buildMs: number;
  /** Status timestamps (ms since the epoch) of the streamed updates this zone first serves. */
  readonly statusTimesMs: readonly number[];
  /** Set when the zone is an incremental update of the one before (stream mode). */
  readonly update?: ZoneUpdateFacts;
}

/** An incremental update of the zone served (stream mode): what it changed. */
export interface ZoneUpdateFacts {
  /** Names the changeset replaced (added, changed or removed). */
  readonly names: number;
  /** Task changes in the batch it applied. */
  readonly taskChanges: number;
}

const MB = 1024 * 1024;

/** How long `close` waits for the worker to stop its source (it may be busy with a load). */
const CLOSE_WAIT_MS = 1_000;

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

/** The `code` of a Node error (`ERR_WORKER_OUT_OF_MEMORY`), if it has one. */
function errorCodeOf(err: Error | undefined): string | undefined {
  const code: unknown = err !== undefined && 'code' in err ? err.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns off V8's parallel scavenges, process-wide, once the first zone is served. A large load
 * allocates a lot in the worker, and with parallel scavenges the helper threads (shared by every
 * isolate, at normal priority) take the CPU from the main thread: its event-loop delay grew
 * several-fold while a worker parsed a large state (docs/performance.md). Loads take longer
 * without them, which is why the first one, with nothing to serve yet, keeps them. The main thread's own young
 * generation is small. (`--single-threaded-gc` does more but cannot be set at run time.)
 */
function useSerialScavenges(): void {
  v8.setFlagsFromString('--no-parallel-scavenge');
}

/**
 * Starts the worker module next to this one. Running from source (tests under tsx), the module is
 * TypeScript: tsx's loader hooks do not reach worker threads on Node 20, so the
 * worker registers them itself before importing it.
 */
export function startPipelineWorker(workerData: WorkerInit): Worker {
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
  #workerHeap: WorkerHeap | undefined;
  #zookeeper: ZooKeeperSession | undefined;
  #isStarted = false;
  #isClosed = false;
  #restartTimer: NodeJS.Timeout | undefined;
  /**
   * The newest data time any worker reported: a restarted worker knows of no load until its
   * first, and the zone it served meanwhile is as old as this says.
   */
  #lastPublishAt: number | undefined;
  /** Leader changes counted by workers that died (a new worker counts from 0). */
  #leaderChangesBefore = 0;
  readonly #restartPolicy: RestartPolicy;
  readonly #random: () => number;
  #restarts = 0;
  /** The serial floor `start` was given. */
  #serialFloor: number | undefined;
  /** Restarts in a row, without a worker that ran `resetAfterMs` in between. */
  #attempt = 0;
  #workerStartedAt = 0;
  /** Why the running worker failed, as its `error` event said (an exit follows). */
  #workerError: Error | undefined;
  #lastExit: WorkerStatus['lastExit'];
  #nextRestartAt: number | undefined;

  /** Starts the worker thread; no state is loaded before `prepare` and `start`. */
  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#nsIps = options.nsIps;
    this.#restartPolicy = options.restart ?? DEFAULT_RESTART_POLICY;
    this.#random = options.random ?? Math.random;
    this.#worker = this.#spawn();
  }

  /** Whether the worker runs, how often it had to be restarted, and why the last one died. */
  workerStatus(): WorkerStatus {
    return {
      running: this.#worker !== undefined,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
      nextRestartAt: this.#nextRestartAt,
    };
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

  /** The worker's heap after its last load's garbage was collected; undefined before. */
  workerHeap(): WorkerHeap | undefined {
    return this.#workerHeap;
  }

  /** The ZooKeeper session of the leader detection (`mesos.zk`); undefined without one. */
  zookeeper(): ZooKeeperSession | undefined {
    return this.#zookeeper;
  }

  /**
   * Leader changes seen so far, by every source (a reload may replace the source) and every
   * worker (a restarted one counts from 0).
   */
  leaderChanges(): number {
    return this.#leaderChangesBefore + this.#leaderChanges;
  }

  /** Age of the data served (ms), undefined before the first load; kept across worker restarts. */
  dataAgeMs(): number | undefined {
    const at = this.#lastPublishAt;
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

  /**
   * Starts the prepared source: the first load begins. Its zone's serial goes beyond
   * `serialFloor` (the secondaries' serials) when that is later than now.
   */
  start(serialFloor?: number): void {
    this.#isStarted = true;
    this.#serialFloor = serialFloor;
    this.#send(this.#startMessage());
  }

  /**
   * The start message: beyond the floor given at start and the serial served now (a restarted
   * worker starts from the clock, which changesets may have run ahead of).
   */
  #startMessage(): ToWorker {
    const served = this.#options.store.zone()?.serial;
    const floor = this.#serialFloor === undefined ? served : laterSerial(this.#serialFloor, served);
    return floor === undefined ? { type: 'start' } : { type: 'start', serialFloor: floor };
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
    const worker = (this.#options.startWorker ?? startPipelineWorker)(init);
    this.#workerStartedAt = Date.now();
    this.#workerError = undefined;
    worker.on('message', (data: unknown) => {
      if (isFromWorker(data)) this.#receive(data);
    });
    worker.on('error', (err) => {
      // The exit that follows logs the one line of this failure; the stack is for debugging.
      if (this.#worker === worker) this.#workerError = err;
      this.#options.logger.debug('pipeline worker failed', { error: err.stack ?? err.message });
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(new Error('pipeline worker exited'));
      this.#pending.clear();
      if (this.#isClosed) return;
      this.#scheduleRestart(code);
    });
    return worker;
  }

  /** Counts and logs an unexpected exit, then starts a new worker after the backoff. */
  #scheduleRestart(code: number): void {
    const now = Date.now();
    const ranMs = now - this.#workerStartedAt;
    if (ranMs >= this.#restartPolicy.resetAfterMs) this.#attempt = 0;
    this.#attempt++;
    this.#restarts++;
    // A new worker's counters start from 0: keep what this one counted.
    this.#leaderChangesBefore += this.#leaderChanges;
    this.#leaderChanges = 0;
    const delayMs = restartDelayMs(this.#attempt, this.#restartPolicy, this.#random());
    const err = this.#workerError;
    const isOutOfMemory = errorCodeOf(err) === 'ERR_WORKER_OUT_OF_MEMORY';
    const reason =
      err === undefined
        ? `exited with code ${String(code)}`
        : `${errorCodeOf(err) ?? err.name}: ${err.message}`;
    this.#lastExit = { at: now, code, reason };
    this.#nextRestartAt = now + delayMs;
    this.#options.logger.error('pipeline worker exited; restarting it, serving the last zone', {
      code,
      reason,
      ranMs,
      restarts: this.#restarts,
      restartInMs: delayMs,
      // The worker's heap limit is the main thread's (no resourceLimits are given: both come
      // from the memory limit or --max-old-space-size; worker.resourceLimits does not show the
      // flag). Raising the container's memory limit raises it.
      ...(isOutOfMemory
        ? { heapLimitMB: Math.round(v8.getHeapStatistics().heap_size_limit / MB) }
        : {}),
    });
    this.#restartTimer = setTimeout(() => {
      void this.#restart();
    }, delayMs);
  }

  async #restart(): Promise<void> {
    if (this.#isClosed) return;
    this.#nextRestartAt = undefined;
    const worker = this.#spawn();
    this.#worker = worker;
    try {
      await this.prepare(this.#config);
      if (this.#isStarted) this.#send(this.#startMessage());
    } catch (err) {
      // A worker that died meanwhile has had its line, and has its next restart scheduled.
      if (this.#worker !== worker) return;
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
      case 'changeset':
        this.#apply(message);
        return;
      case 'log':
        this.#options.logger[message.level](message.message, message.fields);
        return;
      case 'load':
        this.#options.onLoad?.(message.event);
        return;
      case 'fallback':
        this.#options.onUpdateFallback?.(message.reason);
        return;
      case 'stats':
        this.#loaderStats = message.loader;
        if (message.loader.lastPublishAt !== undefined) {
          this.#lastPublishAt = Math.max(this.#lastPublishAt ?? 0, message.loader.lastPublishAt);
        }
        this.#sourceStats = message.source;
        this.#leaderChanges = message.leaderChanges;
        this.#streamStats = message.stream;
        this.#workerHeap = message.heap;
        this.#zookeeper = message.zookeeper;
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
    this.#options.store.install(
      { records, zone, loadedAt: message.loadedAt, changed: message.changed },
      message.diff,
    );
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

  /** Serves a streamed change: the changeset the worker applied, applied here too. */
  #apply(message: ChangesetMessage): void {
    const { store, logger } = this.#options;
    try {
      store.apply(message.changeset, message.loadedAt, message.enumeration);
    } catch (err) {
      // Never expected (the worker applies first, from the same serial): keep serving.
      logger.error('changeset not applied; serving the zone as it was', {
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    this.#options.onPublish?.({
      serial: message.changeset.serialTo,
      changed: true,
      buildMs: message.buildMs,
      statusTimesMs: message.statusTimesMs,
      update: { names: message.changeset.names.length, taskChanges: message.taskChanges },
    });
  }
}
