/**
 * The pipeline worker: everything between Mesos and a compiled zone runs here, off the main
 * thread, so that a 100k-task state (about 125 MB of JSON: seconds of parsing, validation,
 * record generation and compilation) never blocks a DNS answer.
 *
 * The worker owns the state source (file or masters, ZooKeeper included) and the `Loader`
 * (host lookups, sanity guard, generator). Its store compiles each published record set and
 * posts it to the main thread with the buffers transferred (no copy); logs, load events and
 * counters are posted too. The main thread side is pipeline.ts.
 */
import { setPriority } from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../clock.js';
import type { Config } from '../config/index.js';
import { Loader } from './loader.js';
import type { Logger, LogFields, LogLevel } from '../log.js';
import { MesosDnsError } from '../errors.js';
import type { StateListener, StateSource } from '../mesos/index.js';
import { MasterStream, systemLookup } from '../mesos/index.js';
import {
  CompactRecordSet,
  IncrementalRecords,
  cloneRecordData,
  recordTransferList,
  reserveBuildMemory,
} from '../records/index.js';
import type { RecordSet } from '../records/index.js';
import type { Changeset } from '../dns/index.js';
import type { Snapshot, ZoneSettings } from '../store.js';
import { ZoneStore } from '../store.js';
import type { FromWorker, ToWorker } from './messages.js';
import { isToWorker, isWorkerInit } from './messages.js';
import { makeSource } from './sources.js';
import { trimMallocArenas } from './trim.js';

const port = parentPort;
if (port === null || !isWorkerInit(workerData)) {
  throw new Error('pipeline-worker.ts runs as the pipeline worker thread (see pipeline.ts)');
}
const init = workerData;

/**
 * Niceness of this thread. On Linux a priority belongs to a thread, and `setPriority(0, n)`
 * applies to the calling one: when the CPU is short during a load, the main thread's DNS answers
 * go first and the load takes a little longer.
 */
const WORKER_NICE = 10;
try {
  setPriority(0, WORKER_NICE);
} catch {
  // Not permitted or not supported: run at the normal priority.
}

function post(message: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(message, transfer);
}

function log(level: LogLevel, message: string, fields: LogFields | undefined): void {
  try {
    post({ type: 'log', level, message, fields });
  } catch {
    // A field that cannot be cloned (a function, a socket): send its text instead.
    const text: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields ?? {})) text[k] = String(v);
    post({ type: 'log', level, message, fields: text });
  }
}

const logger: Logger = {
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

/**
 * A full garbage collection, when V8 lets us have one. After a load the heap holds hundreds of
 * MB of garbage (the JSON document, the validated state); collecting it at once returns that
 * memory instead of keeping it until V8 decides to.
 */
function exposeGc(): ((compact?: boolean) => void) | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    if (typeof gc !== 'function') return undefined;
    return (compact = false) => {
      // A compacting collection moves the survivors together, so that the pages the load's
      // garbage occupied are empty and returned to the system. V8 does that by itself only when
      // the thread is idle for a while, which a streamed cluster's worker seldom is: without it
      // ~200 MB of free heap pages stayed resident at 100k tasks.
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
const collect = exposeGc();
// The first build's typed arrays, reserved while the heap is small (see reserveBuildMemory).
reserveBuildMemory();

let config: Config = init.config;
let nsIps: readonly string[] = init.nsIps;
let loadStarted = 0;
/** Status times of the streamed updates in the state being loaded (see SnapshotMessage). */
let pendingStatusTimes: readonly number[] = [];
/**
 * Stream mode: the incremental updater over the last published records (in shared memory, also
 * read by the main thread). Undefined when there is none to build on, e.g. while the
 * loader holds back a state after a failover, or after an update that needed a full rebuild.
 */
let incremental: IncrementalRecords | undefined;
/**
 * Changesets replace names of the last full build; past this many names a full rebuild starts
 * over (it costs a full build, about 2 s at 100k tasks, so it should be rare).
 */
function maxChangedNames(baseNames: number): number {
  return Math.max(50_000, Math.floor(baseNames / 2));
}

/** Compiles like any store, then posts the snapshot to the main thread. */
class PostingStore extends ZoneStore {
  override publish(records: RecordSet, settings: ZoneSettings, nowMs: number): Snapshot {
    const snapshot = super.publish(records, settings, nowMs);
    const statusTimesMs = pendingStatusTimes;
    pendingStatusTimes = [];
    if (records instanceof CompactRecordSet) {
      const { zone } = snapshot;
      post(
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
          buildMs: systemClock.now() - loadStarted,
          statusTimesMs,
        },
        // The buffers move to the main thread (shared ones, stream mode, are shared); this store
        // keeps only the facts it needs (the serial and fingerprint of the previous zone).
        recordTransferList(records.data),
      );
    }
    return snapshot;
  }
}

const store = new PostingStore();
const loader = new Loader({
  config: () => config,
  store,
  logger,
  clock: systemClock,
  lookup: systemLookup,
  nsIps: () => nsIps,
  onLoad: (event) => {
    post({ type: 'load', event });
  },
  onBase: (state, records, options) => {
    incremental = undefined;
    if (!(source instanceof MasterStream) || !(records instanceof CompactRecordSet)) {
      return undefined;
    }
    // One copy in shared memory, read by the updater here and by the main thread, which the
    // snapshot shares instead of taking the buffers (a second copy was ~70 MB at 100k tasks).
    const shared = new CompactRecordSet(cloneRecordData(records.data, 'shared'));
    const engine = new IncrementalRecords(shared, state, options);
    incremental = engine;
    // Its indexes are built once the zone is posted, not when the first batch arrives.
    setImmediate(() => {
      if (incremental === engine) engine.prepare();
    });
    return shared;
  },
});

let source: StateSource | undefined;
let next: StateSource | undefined;
/** Leader changes counted by sources that were replaced. */
let leaderChangesBefore = 0;

function postStats(): void {
  const stats = source?.stats();
  post({
    type: 'stats',
    loader: { ...loader.stats },
    source: stats,
    stream: source instanceof MasterStream ? source.streamStats() : undefined,
    leaderChanges: leaderChangesBefore + (stats?.leaderChanges ?? 0),
  });
}

/** Stats for streamed updates and heartbeats: at most one message a second, not one per update. */
let statsTimer: NodeJS.Timeout | undefined;
function postStatsSoon(): void {
  statsTimer ??= setTimeout(() => {
    statsTimer = undefined;
    postStats();
  }, 1000);
}

let gcTimer: NodeJS.Timeout | undefined;
/** Facts about the last load, logged (debug) once its garbage is collected. */
let lastLoad: { fetchMs: number; buildMs: number } | undefined;

const MB = 1024 * 1024;

/**
 * Collects the load's garbage, then logs the load's timing and the worker's memory (debug). The
 * second collection, a moment later, is the one that accounts for the freed ArrayBuffers.
 */
function afterLoad(): void {
  collect?.();
  gcTimer = setTimeout(logAfterLoad, 100);
}

function logAfterLoad(): void {
  collect?.(true);
  reserveBuildMemory();
  const rssBefore = process.memoryUsage.rss();
  // The freed socket chunks and build arrays are in the C heap now: give them back.
  const trimmed = trimMallocArenas();
  const heap = v8.getHeapStatistics();
  const rss = process.memoryUsage.rss();
  logger.debug('pipeline worker: load done', {
    fetchMs: lastLoad?.fetchMs,
    buildMs: lastLoad?.buildMs,
    workerHeapUsedMB: Math.round(heap.used_heap_size / MB),
    workerHeapTotalMB: Math.round(heap.total_heap_size / MB),
    workerExternalMB: Math.round(heap.external_memory / MB),
    ...(trimmed === undefined ? {} : { trimmedMB: Math.round((rssBefore - rss) / MB) }),
    rssMB: Math.round(rss / MB),
  });
}

/**
 * A commit waits for the first load that starts after it (or a failure) to settle, so that the
 * main thread logs "configuration reloaded" once the zone reflects the new config. The worker
 * keeps no state between loads: rebuilding means loading again.
 */
const COMMIT_WAIT_MS = 30_000;
let generation = 0;
let settleWaiters: { readonly generation: number; readonly resolve: () => void }[] = [];

function settled(loadGeneration: number): void {
  const still: typeof settleWaiters = [];
  for (const w of settleWaiters) {
    if (loadGeneration >= w.generation) w.resolve();
    else still.push(w);
  }
  settleWaiters = still;
}

/** Resolves when a load that started at or after this call settles (or after a bound). */
function nextLoad(): Promise<void> {
  generation++;
  const wanted = generation;
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, COMMIT_WAIT_MS);
    settleWaiters.push({
      generation: wanted,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
    });
  });
}

/** Collects the load's garbage once the worker is idle again. */
function scheduleCollect(): void {
  clearTimeout(gcTimer);
  gcTimer = setTimeout(afterLoad, 50);
}

const listener: StateListener = {
  onState: async (parsed, info) => {
    loadStarted = systemClock.now();
    pendingStatusTimes = info.statusTimesMs ?? [];
    incremental = undefined;
    const loadGeneration = generation;
    try {
      await loader.onState(parsed, info);
    } finally {
      lastLoad = { fetchMs: Math.round(info.fetchMs), buildMs: systemClock.now() - loadStarted };
      postStats();
      scheduleCollect();
      settled(loadGeneration);
    }
  },
  onFailure: (error) => {
    loader.onFailure(error);
    postStats();
    settled(generation);
  },
  onTaskChanges: (changes, info) => {
    const engine = incremental;
    if (engine === undefined) return false;
    const started = systemClock.now();
    const update = engine.apply(changes);
    if (update === undefined) {
      logger.debug('incremental update not possible (a name is shared); rebuilding the zone');
      incremental = undefined;
      return false;
    }
    if (update === 'unchanged') {
      loader.noteFresh();
      return true;
    }
    if (engine.changedNames > maxChangedNames(engine.baseNames)) {
      logger.debug('incremental updates grew large; rebuilding the zone', {
        changedNames: engine.changedNames,
      });
      incremental = undefined;
      return false;
    }
    const current = store.current;
    if (current === undefined) return false;
    const now = systemClock.now();
    // Copied, not transferred: both threads apply the changeset and keep its contents. A copy
    // of a few small arrays is cheaper than SharedArrayBuffers, which cost an allocation each
    // and weigh on both threads' garbage collection.
    const changeset: Changeset = {
      serialFrom: current.zone.serial,
      serialTo: store.nextSerial(now),
      contents: update.records,
      names: update.names,
      removed: update.removed,
      added: update.added,
    };
    store.apply(changeset, now);
    logger.debug('zone updated', {
      serial: changeset.serialTo,
      names: update.names.length,
      changes: changes.length,
      changedNames: engine.changedNames,
      buildMs: now - started,
    });
    post({
      type: 'changeset',
      changeset,
      enumeration: update.enumeration,
      loadedAt: now,
      buildMs: now - started,
      statusTimesMs: info.statusTimesMs ?? [],
    });
    loader.noteFresh();
    postStatsSoon();
    return true;
  },
  onAlive: () => {
    loader.noteFresh();
    postStatsSoon();
  },
};

function done(id: number, err?: unknown): void {
  if (err === undefined) {
    post({ type: 'done', id });
    return;
  }
  const code = err instanceof MesosDnsError ? err.code : 'ERR_CONFIG_INVALID';
  post({
    type: 'done',
    id,
    error: { code, message: err instanceof Error ? err.message : JSON.stringify(err) },
  });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'prepare':
      try {
        await next?.close();
        next = undefined;
        next = makeSource(message.config, init.configFile, listener, logger, init.version);
        done(message.id);
      } catch (err) {
        done(message.id, err);
      }
      return;
    case 'discard':
      await next?.close();
      next = undefined;
      return;
    case 'start':
      if (source === undefined && next !== undefined) {
        source = next;
        next = undefined;
        source.start();
      }
      return;
    case 'commit': {
      config = message.config;
      nsIps = message.nsIps;
      const replacement = message.switchSource ? next : undefined;
      const loaded = nextLoad();
      if (replacement !== undefined) {
        const old = source;
        leaderChangesBefore += old?.stats().leaderChanges ?? 0;
        source = replacement;
        next = undefined;
        await old?.close();
        source.start();
      } else {
        source?.reloadNow();
      }
      if (source !== undefined) await loaded;
      postStats();
      done(message.id);
      return;
    }
    case 'close':
      await Promise.all([source?.close(), next?.close()]);
      source = undefined;
      next = undefined;
      clearTimeout(gcTimer);
      clearTimeout(statsTimer);
      done(message.id);
      return;
  }
}

port.on('message', (data: unknown) => {
  if (!isToWorker(data)) return;
  handle(data).catch((err: unknown) => {
    logger.error('pipeline worker: request failed', {
      request: data.type,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  });
});
