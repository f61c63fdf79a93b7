/**
 * The messages between the main thread (transfer-offload.ts) and the transfer worker
 * (transfer-worker.ts). Everything is structured-clone data. Record data crosses without its
 * enumeration (`transferRecords`): the worker writes RRs and looks names up, nothing else; the
 * arrays of a full build are on SharedArrayBuffers (records/arena.ts), so a zone's base is shared
 * with the worker, not copied.
 */
import type { SoaConfig } from '../config/index.js';
import { isTagged } from '../is-record.js';
import type { RecordData } from '../records/index.js';
import type { Changeset, ZoneDiff } from './changeset.js';
import type { JournalLimits } from './journal.js';
import type { TsigAlgorithm } from './tsig.js';
import type { Zone, ZoneImage } from './zone.js';

/** The settings a zone is built with (`ZoneOptions`). */
export interface MirrorSettings {
  readonly ttl: number;
  readonly srvWeight: number;
  readonly soa: SoaConfig;
  readonly serial: number;
}

/** A full build the store installed: its base, image and settings, and its difference. */
export interface MirrorInstall {
  readonly type: 'install';
  readonly records: RecordData;
  readonly image: ZoneImage;
  readonly settings: MirrorSettings;
  readonly diff: ZoneDiff | undefined;
}

/**
 * The zone served and the journal, whole: what a worker that starts after the first load (or
 * again) begins from. `changed` lists the names changesets replaced since the base, as
 * (hash, index into `parts`, id) triples in the order of `changedEntries`.
 */
export interface MirrorSync {
  readonly type: 'sync';
  readonly records: RecordData;
  readonly image: ZoneImage;
  readonly settings: MirrorSettings;
  readonly names: number;
  readonly rrs: number;
  readonly changedNames: number;
  readonly parts: readonly RecordData[];
  readonly changed: Int32Array;
  /** The journal's serial and its differences, oldest first. */
  readonly journalSerial: number | undefined;
  readonly diffs: readonly ZoneDiff[];
}

/** A TSIG key and the request's MAC: every message of the answer is signed with them. */
export interface JobTsig {
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Uint8Array;
  readonly requestMac: Uint8Array;
  /** The main thread's clock minus `Date.now()` when the request came (TSIG times). */
  readonly clockOffsetMs: number;
}

/** One transfer to make. */
export interface TransferJob {
  readonly type: 'transfer';
  readonly id: number;
  /** The serial of the zone the main thread answers with: the worker's must be the same. */
  readonly serial: number;
  /** IXFR from the journal: the secondary's serial and the differences the chain has. */
  readonly incremental: { readonly from: number; readonly diffs: number } | undefined;
  readonly queryId: number;
  readonly question: Uint8Array;
  readonly tsig: JobTsig | undefined;
}

/** Main thread -> worker. */
export type ToTransferWorker =
  | MirrorInstall
  | MirrorSync
  | { readonly type: 'apply'; readonly changeset: Changeset }
  | { readonly type: 'limits'; readonly limits: JournalLimits }
  | TransferJob
  /**
   * A chunk of the job was written (its bytes have left its buffer): one more may be made, in
   * `data`, the chunk's buffer given back (transferred).
   */
  | { readonly type: 'ack'; readonly id: number; readonly data: ArrayBuffer }
  /** The connection is gone: stop the job. */
  | { readonly type: 'cancel'; readonly id: number };

/** Worker -> main thread. */
export type FromTransferWorker =
  /**
   * Whole messages, each after its 2-byte length (RFC 1035 4.2.2), as the socket takes them:
   * `data` (transferred) holds `length` bytes; `bytes` is the messages' size without lengths;
   * `last` when the job has no more (the transfer ends when it is written, without waiting for
   * another message).
   */
  | {
      readonly type: 'chunk';
      readonly id: number;
      readonly data: ArrayBuffer;
      readonly length: number;
      readonly messages: number;
      readonly bytes: number;
      readonly last: boolean;
    }
  /** The job has no more (and its last chunk did not say so). */
  | { readonly type: 'end'; readonly id: number }
  /** The worker's zone or journal is not the main thread's: nothing was made. */
  | { readonly type: 'stale'; readonly id: number; readonly reason: string }
  /** Making the messages threw: `chunks` were posted before. */
  | { readonly type: 'failed'; readonly id: number; readonly error: string };

/** Narrows a message event's data (the channel is internal; the tag is checked). */
export function isFromTransferWorker(data: unknown): data is FromTransferWorker {
  return isTagged(data) && typeof data['id'] === 'number';
}

/** See `isFromTransferWorker`. */
export function isToTransferWorker(data: unknown): data is ToTransferWorker {
  return isTagged(data);
}

const EMPTY_INT32 = new Int32Array(0);

/**
 * `data` without what transfers never read (the `/v1/enumerate` log and its strings, the health
 * marks): posted, the rest is shared (SharedArrayBuffers) or copied, the task text never.
 */
export function transferRecords(data: RecordData): RecordData {
  return {
    zone: data.zone,
    names: data.names,
    nameEnd: data.nameEnd,
    nameTable: data.nameTable,
    kinds: data.kinds,
    reverseZones: data.reverseZones,
    v6: data.v6,
    emptyNonTerminal: data.emptyNonTerminal,
    enumeration: {
      frameworks: [],
      frameworkIds: [],
      frameworkEnd: EMPTY_INT32,
      taskText: '',
      taskTextEnd: EMPTY_INT32,
      taskLogEnd: EMPTY_INT32,
      logKindPort: EMPTY_INT32,
      logName: EMPTY_INT32,
      logValue: EMPTY_INT32,
    },
    stats: data.stats,
  };
}

/** A difference as posted (its record data without enumeration). */
export function transferDiff(diff: ZoneDiff): ZoneDiff {
  return {
    serialFrom: diff.serialFrom,
    serialTo: diff.serialTo,
    removed: transferRecords(diff.removed),
    added: transferRecords(diff.added),
  };
}

/** The image of a zone's base (what `zoneFromImage` was given). */
export function imageOf(zone: Zone): ZoneImage {
  return { apexKey: zone.apexKey, fingerprint: zone.fingerprint, names: zone.names, rrs: zone.rrs };
}

/** The settings of a zone. */
export function settingsOf(zone: Zone): MirrorSettings {
  return { ttl: zone.ttl, srvWeight: zone.srvWeight, soa: zone.soa, serial: zone.serial };
}
