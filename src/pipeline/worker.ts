/**
 * The pipeline worker: everything between Mesos and a compiled zone runs here, off the main
 * thread, so that a large state (seconds of parsing, validation, record generation and
 * compilation, docs/performance.md) never blocks a DNS answer.
 *
 * `PipelineWorker` owns the state source (file or masters, ZooKeeper included) and the `Loader`
 * (host lookups, sanity guard, generator). Its `ZonePublisher` compiles and numbers each
 * published record set (publisher.ts), which the worker posts to the main thread in shared
 * memory (no copy); logs, load events and counters are posted too. The thread entry is pipeline-worker.ts; the main thread side is
 * pipeline.ts.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config/index.js';
import { Loader } from './loader.js';
import type { Logger, LogFields, LogLevel } from '../log.js';
import { MesosDnsError } from '../errors.js';
import type {
  HostLookup,
  LoadInfo,
  ParsedState,
  StateListener,
  StateSource,
  TaskChange,
  ZooKeeperSession,
} from '../mesos/index.js';
import { MasterStream, systemLookup } from '../mesos/index.js';
import {
  CompactRecordSet,
  IncrementalRecords,
  cloneRecordData,
  isSharedRecordData,
  recordTransferList,
  reserveBuildMemory,
  shareBuildMemory,
} from '../records/index.js';
import type { Changeset } from '../dns/index.js';
import { diffRRs } from '../dns/index.js';
import type { FromWorker, ToWorker, WorkerHeap, WorkerInit } from './messages.js';
import { ZonePublisher } from './publisher.js';
import type { PublishedBuild } from './publisher.js';
import { nextSerial } from './serial.js';
import { makeSource } from './sources.js';
import { trimMallocArenas } from './trim.js';

/** Sends a message to the main thread, with the buffers to transfer. */
export type PostMessage = (message: FromWorker, transfer?: ArrayBuffer[]) => void;

/** A full garbage collection; `compact` moves the survivors together. */
export type Collect = (compact?: boolean) => void;

/** A logger whose lines are posted to the main thread (`log` messages). */
export function postingLogger(post: PostMessage): Logger {
  const log = (level: LogLevel, message: string, fields: LogFields | undefined): void => {
    try {
      post({ type: 'log', level, message, fields });
    } catch {
      // A field that cannot be cloned (a function, a socket): send its text instead.
      const text: Record<string, string> = {};
      for (const [k, v] of Object.entries(fields ?? {})) text[k] = String(v);
      post({ type: 'log', level, message, fields: text });
    }
  };
  return {
    error: (message, fields) => {
      log('error', message, fields);
    },
    warn: (message, fields) => {
      log('warn', message, fields);
    },
    info: (message, fields) => {
      log('info', message, fields);
    },
    debug: (message, fields) => {
      log('debug', message, fields);
    },
  };
}

/**
 * A full garbage collection, when V8 lets us have one. After a load the heap holds hundreds of
 * MB of garbage (the JSON document, the validated state); collecting it at once returns that
 * memory instead of keeping it until V8 decides to.
 */
export function exposeGc(): Collect | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    if (typeof gc !== 'function') return undefined;
    return (compact = false) => {
      // A compacting collection moves the survivors together, so that the pages the load's
      // garbage occupied are empty and returned to the system. V8 does that by itself only when
      // the thread is idle for a while, which a streamed cluster's worker seldom is: without it
      // hundreds of megabytes of free heap pages stayed resident in a large cluster.
      if (compact) v8.setFlagsFromString('--compact-on-every-full-gc');
      try {
        // `gc` is V8's own function, returning nothing.
        (gc as () => void)();
      } finally {
        if (compact) v8.setFlagsFromString('--no-compact-on-every-full-gc');
      }
    };
  } catch {
    return undefined;
  }
}

/**
 * Changesets replace names of the last full build; past this many names a full rebuild starts
 * over (it costs a full build, seconds in a large cluster, so it should be rare).
 */
function maxChangedNames(baseNames: number): number {
  return Math.max(50_000, Math.floor(baseNames / 2));
}

/**
 * A commit waits for the first load that starts after it (or a failure) to settle, so that the
 * main thread logs "configuration reloaded" once the zone reflects the new config. The worker
 * keeps no state between loads: rebuilding means loading again.
 */
const COMMIT_WAIT_MS = 30_000;

/** Stats for streamed updates and heartbeats: at most one message this often, not one per update. */
const STATS_INTERVAL_MS = 1000;
/** The first collection after a load, once the worker is idle again. */
const COLLECT_DELAY_MS = 50;
/** The second (compacting) collection and the load's log line, after the first. */
const LOG_DELAY_MS = 100;
/**
 * A load of a state document smaller than this runs no forced collection: its garbage is a few
 * MB that V8 collects on its own, and two full GCs cost every small server ~70 ms of CPU.
 */
const COLLECT_MIN_BYTES = 8 * 1024 * 1024;

const MB = 1024 * 1024;

/** A commit waiting for a load (`#nextLoad`). */
interface SettleWaiter {
  readonly generation: number;
  readonly resolve: () => void;
}

/** What `PipelineWorker` needs from its thread. */
export interface PipelineWorkerOptions {
  /** The thread's `workerData`. */
  readonly init: WorkerInit;
  /** Posts to the main thread. */
  readonly post: PostMessage;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly lookup?: HostLookup;
  /** The full GC run after each load (`exposeGc()`); none when undefined. */
  readonly collect?: Collect | undefined;
}

/** The worker's state and its answers to the main thread's messages (`handle`). */
export class PipelineWorker {
  readonly #init: WorkerInit;
  readonly #post: PostMessage;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #collect: Collect | undefined;
  readonly #publisher: ZonePublisher;
  readonly #loader: Loader;

  #config: Config;
  #nsIps: readonly string[];
  #loadStarted = 0;
  /** Status times of the streamed updates in the state being loaded (see SnapshotMessage). */
  #pendingStatusTimes: readonly number[] = [];
  /**
   * Stream mode: the incremental updater over the last published records (in shared memory, also
   * read by the main thread). Undefined when there is none to build on, e.g. while the
   * loader holds back a state after a failover, or after an update that needed a full rebuild.
   */
  #incremental: IncrementalRecords | undefined;
  #source: StateSource | undefined;
  #next: StateSource | undefined;
  /** Leader changes counted by sources that were replaced. */
  #leaderChangesBefore = 0;
  #statsTimer: NodeJS.Timeout | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  /** Facts about the last load, logged (debug) once its garbage is collected. */
  #lastLoad: { fetchMs: number; buildMs: number; bytes: number } | undefined;
  /**
   * Whether a whole state was loaded since the build memory was last reserved: a snapshot that
   * only changed tasks built nothing, and the reservation stands for the next full build.
   */
  #needsReserve = false;
  /** The heap once the last load's garbage was collected (the metrics read it). */
  #heap: WorkerHeap | undefined;
  /** The ZooKeeper session of the running source's leader detection, once it reported. */
  #zookeeper: ZooKeeperSession | undefined;
  /** Counts commits; a load settles the waiters of the commits before it started. */
  #generation = 0;
  #settleWaiters: SettleWaiter[] = [];

  /** The listener the sources report to. */
  readonly listener: StateListener;

  constructor(options: PipelineWorkerOptions) {
    this.#init = options.init;
    this.#post = options.post;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#collect = options.collect;
    // Full builds write into shared memory (see `onBase` below).
    shareBuildMemory();
    this.#config = options.init.config;
    this.#nsIps = options.init.nsIps;
    this.#publisher = new ZonePublisher((build) => {
      this.#postSnapshot(build);
    });
    this.#loader = new Loader({
      config: () => this.#config,
      store: this.#publisher,
      logger: this.#logger,
      clock: this.#clock,
      lookup: options.lookup ?? systemLookup,
      nsIps: () => this.#nsIps,
      onLoad: (event) => {
        this.#post({ type: 'load', event });
      },
      onBase: (state, records, generatorOptions) => {
        this.#incremental = undefined;
        if (!(records instanceof CompactRecordSet)) return undefined;
        // The build is in shared memory (shareBuildMemory): the snapshot shares it with the main
        // thread, which serves it, and the worker keeps reading it (the updater below, the diff
        // of the next full build). Data built elsewhere would be copied there once.
        const shared = isSharedRecordData(records.data)
          ? records
          : new CompactRecordSet(cloneRecordData(records.data, 'shared'));
        if (!(this.#source instanceof MasterStream)) return shared;
        const engine = new IncrementalRecords(shared, state, generatorOptions);
        this.#incremental = engine;
        // Its indexes are built once the zone is posted, not when the first batch arrives.
        setImmediate(() => {
          if (this.#incremental === engine) engine.prepare();
        });
        return shared;
      },
    });
    this.listener = {
      onState: (parsed, info) => this.#onState(parsed, info),
      onFailure: (error) => {
        this.#loader.onFailure(error);
        this.#postStats();
        this.#settled(this.#generation);
      },
      onTaskChanges: (changes, info) => {
        try {
          return this.#onTaskChanges(changes, info);
        } catch (err) {
          // The source logs it and rebuilds the zone.
          this.#post({ type: 'fallback', reason: 'failed' });
          throw err;
        }
      },
      onAlive: () => {
        this.#loader.noteFresh();
        this.#postStatsSoon();
      },
      // A re-subscription delivered as task changes read a whole snapshot all the same (178 MB
      // at 100k tasks): its garbage is collected and the C heap trimmed as after a load, or the
      // RSS grew by about 120 MB with each re-subscription.
      onZooKeeper: (zk, connected) => {
        this.#zookeeper = { zk, connected };
        this.#postStats();
      },
      onSnapshotRead: (bytes, fetchMs) => {
        this.#lastLoad = { fetchMs: Math.round(fetchMs), buildMs: 0, bytes };
        this.#scheduleCollect();
      },
    };
  }

  /** Answers one message of the main thread. */
  async handle(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'prepare':
        try {
          await this.#next?.close();
          this.#next = undefined;
          this.#next = makeSource(
            message.config,
            this.#init.configFile,
            this.listener,
            this.#logger,
            this.#init.version,
          );
          this.#done(message.id);
        } catch (err) {
          this.#done(message.id, err);
        }
        return;
      case 'discard':
        await this.#next?.close();
        this.#next = undefined;
        return;
      case 'start':
        this.#publisher.serialFloor = message.serialFloor;
        if (this.#source === undefined && this.#next !== undefined) {
          this.#source = this.#next;
          this.#next = undefined;
          this.#source.start();
        }
        return;
      case 'commit': {
        this.#config = message.config;
        this.#nsIps = message.nsIps;
        const replacement = message.switchSource ? this.#next : undefined;
        const loaded = this.#nextLoad();
        if (replacement !== undefined) {
          const old = this.#source;
          this.#leaderChangesBefore += old?.stats().leaderChanges ?? 0;
          // The new source's detector reports its own session (none without mesos.zk).
          this.#zookeeper = undefined;
          this.#source = replacement;
          this.#next = undefined;
          await old?.close();
          this.#source.start();
        } else {
          this.#source?.reloadNow();
        }
        if (this.#source !== undefined) await loaded;
        this.#postStats();
        this.#done(message.id);
        return;
      }
      case 'close':
        await Promise.all([this.#source?.close(), this.#next?.close()]);
        this.#source = undefined;
        this.#next = undefined;
        clearTimeout(this.#gcTimer);
        clearTimeout(this.#statsTimer);
        this.#done(message.id);
        return;
    }
  }

  #postSnapshot(build: PublishedBuild): void {
    const { records, settings, snapshot, diff } = build;
    const statusTimesMs = this.#pendingStatusTimes;
    this.#pendingStatusTimes = [];
    if (!(records instanceof CompactRecordSet)) return;
    const { zone } = snapshot;
    if (build.previousSerial !== undefined && snapshot.changed) {
      const fields = { serialFrom: build.previousSerial, serialTo: zone.serial };
      const diffMs = Math.round(build.diffMs);
      if (diff === undefined) {
        this.#logger.debug('zone rebuilt without a difference (too large, or settings changed)', {
          ...fields,
          diffMs,
        });
      } else {
        this.#logger.debug('zone diff', { ...fields, rrs: diffRRs(diff), diffMs });
      }
    }
    // The record data is shared (see `onBase`), not transferred: the publisher keeps reading it
    // to diff the next full build. The diff moves to the main thread, which journals it.
    this.#post(
      {
        type: 'snapshot',
        records: records.data,
        image: {
          apexKey: zone.apexKey,
          fingerprint: zone.fingerprint,
          names: zone.names,
          rrs: zone.rrs,
        },
        settings,
        serial: zone.serial,
        loadedAt: snapshot.loadedAt,
        changed: snapshot.changed,
        diff,
        buildMs: this.#clock.now() - this.#loadStarted,
        statusTimesMs,
      },
      diff === undefined
        ? []
        : [...new Set([...recordTransferList(diff.removed), ...recordTransferList(diff.added)])],
    );
  }

  async #onState(parsed: ParsedState, info: LoadInfo): Promise<void> {
    this.#loadStarted = this.#clock.now();
    this.#pendingStatusTimes = info.statusTimesMs ?? [];
    this.#incremental = undefined;
    const loadGeneration = this.#generation;
    try {
      await this.#loader.onState(parsed, info);
    } finally {
      this.#lastLoad = {
        fetchMs: Math.round(info.fetchMs),
        buildMs: this.#clock.now() - this.#loadStarted,
        bytes: info.bytes,
      };
      this.#needsReserve = true;
      this.#postStats();
      this.#scheduleCollect();
      this.#settled(loadGeneration);
    }
  }

  #onTaskChanges(changes: readonly TaskChange[], info: LoadInfo): boolean {
    const engine = this.#incremental;
    if (engine === undefined) return false;
    const started = this.#clock.now();
    const update = engine.apply(changes);
    if (update !== undefined) this.#loader.noteHealth(engine.health);
    if (update === undefined) {
      this.#logger.debug('incremental update not possible (a name is shared); rebuilding the zone');
      this.#post({ type: 'fallback', reason: 'shared_name' });
      this.#incremental = undefined;
      return false;
    }
    if (update === 'unchanged') {
      this.#loader.noteFresh();
      // The health counters may have changed all the same (an app turned all unhealthy).
      if (engine.health !== undefined) this.#postStatsSoon();
      return true;
    }
    if (engine.changedNames > maxChangedNames(engine.baseNames)) {
      this.#logger.debug('incremental updates grew large; rebuilding the zone', {
        changedNames: engine.changedNames,
      });
      this.#post({ type: 'fallback', reason: 'changed_names' });
      this.#incremental = undefined;
      return false;
    }
    const current = this.#publisher.current;
    if (current === undefined) return false;
    const now = this.#clock.now();
    // Copied, not transferred: both threads apply the changeset and keep its contents. A copy
    // of a few small arrays is cheaper than SharedArrayBuffers, which cost an allocation each
    // and weigh on both threads' garbage collection.
    const changeset: Changeset = {
      serialFrom: current.zone.serial,
      serialTo: nextSerial(current.zone.serial, now),
      contents: update.records,
      names: update.names,
      removed: update.removed,
      added: update.added,
    };
    this.#publisher.apply(changeset, now);
    this.#logger.debug('zone updated', {
      serial: changeset.serialTo,
      names: update.names.length,
      changes: changes.length,
      changedNames: engine.changedNames,
      buildMs: now - started,
    });
    this.#post({
      type: 'changeset',
      changeset,
      enumeration: update.enumeration,
      loadedAt: now,
      buildMs: now - started,
      taskChanges: changes.length,
      statusTimesMs: info.statusTimesMs ?? [],
    });
    this.#loader.noteFresh();
    this.#postStatsSoon();
    return true;
  }

  #postStats(): void {
    const source = this.#source;
    const stats = source?.stats();
    this.#post({
      type: 'stats',
      loader: { ...this.#loader.stats },
      source: stats,
      stream: source instanceof MasterStream ? source.streamStats() : undefined,
      leaderChanges: this.#leaderChangesBefore + (stats?.leaderChanges ?? 0),
      heap: this.#heap,
      zookeeper: this.#zookeeper,
    });
  }

  /** Stats for streamed updates and heartbeats: at most one message a second. */
  #postStatsSoon(): void {
    this.#statsTimer ??= setTimeout(() => {
      this.#statsTimer = undefined;
      this.#postStats();
    }, STATS_INTERVAL_MS);
  }

  /** Collects the load's garbage once the worker is idle again. */
  #scheduleCollect(): void {
    clearTimeout(this.#gcTimer);
    this.#gcTimer = setTimeout(() => {
      this.#afterLoad();
    }, COLLECT_DELAY_MS);
  }

  /**
   * Collects the load's garbage, then logs the load's timing and the worker's memory (debug). The
   * second collection, a moment later, is the one that accounts for the freed ArrayBuffers.
   */
  #afterLoad(): void {
    const collect = (this.#lastLoad?.bytes ?? 0) >= COLLECT_MIN_BYTES ? this.#collect : undefined;
    collect?.();
    this.#gcTimer = setTimeout(() => {
      this.#logAfterLoad(collect);
    }, LOG_DELAY_MS);
  }

  #logAfterLoad(collect: Collect | undefined): void {
    collect?.(true);
    if (this.#needsReserve) reserveBuildMemory();
    this.#needsReserve = false;
    const rssBefore = process.memoryUsage.rss();
    // The freed socket chunks and build arrays are in the C heap now: give them back.
    const trimmed = trimMallocArenas();
    const heap = v8.getHeapStatistics();
    const rss = process.memoryUsage.rss();
    this.#heap = { usedBytes: heap.used_heap_size, totalBytes: heap.total_heap_size };
    this.#postStats();
    this.#logger.debug('pipeline worker: load done', {
      fetchMs: this.#lastLoad?.fetchMs,
      buildMs: this.#lastLoad?.buildMs,
      workerHeapUsedMB: Math.round(heap.used_heap_size / MB),
      workerHeapTotalMB: Math.round(heap.total_heap_size / MB),
      workerExternalMB: Math.round(heap.external_memory / MB),
      ...(trimmed === undefined ? {} : { trimmedMB: Math.round((rssBefore - rss) / MB) }),
      rssMB: Math.round(rss / MB),
    });
  }

  #settled(loadGeneration: number): void {
    const still: SettleWaiter[] = [];
    for (const w of this.#settleWaiters) {
      if (loadGeneration >= w.generation) w.resolve();
      else still.push(w);
    }
    this.#settleWaiters = still;
  }

  /** Resolves when a load that started at or after this call settles (or after a bound). */
  #nextLoad(): Promise<void> {
    this.#generation++;
    const wanted = this.#generation;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, COMMIT_WAIT_MS);
      this.#settleWaiters.push({
        generation: wanted,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #done(id: number, err?: unknown): void {
    if (err === undefined) {
      this.#post({ type: 'done', id });
      return;
    }
    const code = err instanceof MesosDnsError ? err.code : 'ERR_CONFIG_INVALID';
    this.#post({
      type: 'done',
      id,
      error: { code, message: err instanceof Error ? err.message : JSON.stringify(err) },
    });
  }
}
