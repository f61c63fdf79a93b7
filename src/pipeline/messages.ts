/**
 * The messages between the main thread (pipeline.ts) and the pipeline worker
 * (pipeline-worker.ts). Everything is structured-clone data; the record data of full builds is
 * shared (SharedArrayBuffers), not copied.
 */
import type { Config, SoaConfig } from '../config/index.js';
import type { Changeset, ZoneDiff, ZoneImage } from '../dns/index.js';
import type { LoadEvent, LoaderStats } from './loader.js';
import { isTagged } from '../is-record.js';
import type { LogFields, LogLevel } from '../log.js';
import type { SourceStats, StreamStats, ZooKeeperSession } from '../mesos/index.js';
import type { EnumerationChange, RecordData } from '../records/index.js';

/** What the worker starts with (its `workerData`). */
export interface WorkerInit {
  readonly configFile: string;
  readonly config: Config;
  /** Addresses of record N1 (the DNS listener's addresses). */
  readonly nsIps: readonly string[];
  readonly version: string;
}

/** Main thread -> worker. Requests with an `id` are answered with a `done` message. */
export type ToWorker =
  /** Builds the state source of `config` and keeps it as the next one (reports config errors). */
  | { readonly type: 'prepare'; readonly id: number; readonly config: Config }
  /** Drops a prepared source that will not be used. */
  | { readonly type: 'discard' }
  /**
   * Starts the prepared source (the first one); the first build's serial goes beyond
   * `serialFloor` (RFC 1982) when it is set.
   */
  | { readonly type: 'start'; readonly serialFloor?: number }
  /**
   * Applies a reloaded config: with `switchSource`, the prepared source replaces the running
   * one; otherwise the running source loads again at once.
   */
  | {
      readonly type: 'commit';
      readonly id: number;
      readonly config: Config;
      readonly nsIps: readonly string[];
      readonly switchSource: boolean;
    }
  /** Stops the sources. */
  | { readonly type: 'close'; readonly id: number };

/** A published zone: its record data (shared) and zone image, and its facts. */
export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly records: RecordData;
  readonly image: ZoneImage;
  readonly settings: { readonly ttl: number; readonly srvWeight: number; readonly soa: SoaConfig };
  readonly serial: number;
  readonly loadedAt: number;
  readonly changed: boolean;
  /**
   * Its difference from the zone served before (buffers transferred), for the journal; undefined
   * when nothing changed, for the first zone, or when no difference was available (a change of
   * settings, or a diff larger than the zone).
   */
  readonly diff: ZoneDiff | undefined;
  /** Time from the state's arrival to this message (lookups, records, compilation). */
  readonly buildMs: number;
  /**
   * Status timestamps (ms since the epoch) of the streamed task updates this zone is the first
   * to include (`mesos.mode: stream`), for the propagation latency.
   */
  readonly statusTimesMs: readonly number[];
}

/**
 * A streamed change of the served zone (stream mode, records/incremental.ts): a changeset from
 * the serial the main thread serves to the next, its buffers copied (the worker applied
 * it to its own copy of the zone too).
 */
export interface ChangesetMessage {
  readonly type: 'changeset';
  readonly changeset: Changeset;
  /** The change of `/v1/enumerate` that goes with it. */
  readonly enumeration: EnumerationChange;
  readonly loadedAt: number;
  /** Time from the batch's arrival in the worker to this message. */
  readonly buildMs: number;
  /** Task changes in the batch. */
  readonly taskChanges: number;
  /** Status timestamps (ms since the epoch) of the task updates the batch applied. */
  readonly statusTimesMs: readonly number[];
}

/**
 * Why a batch of streamed task changes was applied by a full build instead of an incremental
 * update: a name it changes is shared in a way the update cannot follow (`shared_name`), the
 * names replaced since the last full build passed their bound (`changed_names`), or the update
 * threw (`failed`).
 */
export type UpdateFallbackReason = 'shared_name' | 'changed_names' | 'failed';

/** The pipeline worker's V8 heap after a load's garbage was collected, bytes. */
export interface WorkerHeap {
  readonly usedBytes: number;
  readonly totalBytes: number;
}

/** Worker -> main thread. */
export type FromWorker =
  | SnapshotMessage
  | ChangesetMessage
  | {
      readonly type: 'log';
      readonly level: LogLevel;
      readonly message: string;
      readonly fields: LogFields | undefined;
    }
  | { readonly type: 'load'; readonly event: LoadEvent }
  | { readonly type: 'fallback'; readonly reason: UpdateFallbackReason }
  | {
      readonly type: 'stats';
      readonly loader: LoaderStats;
      readonly source: SourceStats | undefined;
      /** The event stream's counters, when the source is the stream. */
      readonly stream: StreamStats | undefined;
      /** Leader changes seen by every source so far (replaced ones included). */
      readonly leaderChanges: number;
      /** The heap after the last load's garbage was collected; undefined before. */
      readonly heap: WorkerHeap | undefined;
      /** The ZooKeeper session of the source's leader detection (`mesos.zk`); else undefined. */
      readonly zookeeper: ZooKeeperSession | undefined;
    }
  | {
      readonly type: 'done';
      readonly id: number;
      readonly error?: { readonly code: string; readonly message: string };
    };

/** Narrows a message event's data to `FromWorker` (the channel is internal; the tag is checked). */
export function isFromWorker(data: unknown): data is FromWorker {
  return isTagged(data);
}

/** Narrows a message event's data to `ToWorker`. */
export function isToWorker(data: unknown): data is ToWorker {
  return isTagged(data);
}

/** Narrows `workerData` to `WorkerInit`. */
export function isWorkerInit(data: unknown): data is WorkerInit {
  return (
    typeof data === 'object' &&
    data !== null &&
    'configFile' in data &&
    typeof data.configFile === 'string' &&
    'config' in data &&
    'nsIps' in data &&
    Array.isArray(data.nsIps) &&
    'version' in data &&
    typeof data.version === 'string'
  );
}
