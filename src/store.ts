/**
 * The zone store: holds the one current compiled zone and its record set. A successful load
 * replaces both atomically; the SOA serial moves only when the records changed. DNS and HTTP
 * read from it; nothing mutates what it hands out.
 *
 * The pipeline worker (pipeline/) compiles with its own store and posts each snapshot to the main
 * thread, whose store only `install`s it: the serial rule runs where the zone is built. Streamed
 * changes are changesets (dns/changeset.ts) that both stores `apply`, the worker's first.
 */
import type { SoaConfig } from './config/index.js';
import type { Changeset, Zone } from './dns/index.js';
import {
  ChangesetMismatch,
  ZoneRecordSet,
  applyChangeset,
  compileZone,
  withSerial,
} from './dns/index.js';
import type { EnumerationChange, RecordSet } from './records/index.js';

/** What the store holds after a load. */
export interface Snapshot {
  readonly records: RecordSet;
  readonly zone: Zone;
  /** When this snapshot's data was loaded (ms since epoch). */
  readonly loadedAt: number;
  /** Whether the records differed from the previous snapshot. */
  readonly changed: boolean;
}

/** Zone-wide settings that shape the encoded answers. */
export interface ZoneSettings {
  readonly ttl: number;
  readonly srvWeight: number;
  readonly soa: SoaConfig;
}

/** Holds the current snapshot. */
export class ZoneStore {
  #current: Snapshot | undefined;
  /** The record set of the last full build (the current zone's base). */
  #base: RecordSet | undefined;

  /** The current snapshot, undefined before the first load. */
  get current(): Snapshot | undefined {
    return this.#current;
  }

  /** The current zone (the DNS server's view). */
  zone(): Zone | undefined {
    return this.#current?.zone;
  }

  /**
   * Compiles `records` (a full build) and swaps it in. The serial is kept when nothing changed,
   * else moves on (`nextSerial`). The build counts as a change when its records or settings
   * differ from the last build's, or when changesets were applied since (the served zone then
   * differs from that build, and a diff against it is not computed).
   */
  publish(records: RecordSet, settings: ZoneSettings, nowMs: number): Snapshot {
    const previous = this.#current;
    const serialNow = Math.floor(nowMs / 1000) >>> 0;
    let zone = compileZone(records, { ...settings, serial: previous?.zone.serial ?? serialNow });
    const changed =
      previous === undefined ||
      previous.zone.fingerprint !== zone.fingerprint ||
      previous.zone.changedNames > 0;
    if (previous !== undefined && changed) {
      zone = withSerial(zone, settings.soa, settings.ttl, this.nextSerial(nowMs));
    }
    const snapshot: Snapshot = { records, zone, loadedAt: nowMs, changed };
    this.#current = snapshot;
    this.#base = records;
    return snapshot;
  }

  /**
   * The serial of the next change: max(current + 1, now in seconds), so that it always increases
   * (RFC 1982 arithmetic aside); before the first load, now in seconds.
   */
  nextSerial(nowMs: number): number {
    const serial = this.#current?.zone.serial;
    const now = Math.floor(nowMs / 1000) >>> 0;
    return serial === undefined ? now : Math.max(serial + 1, now) >>> 0;
  }

  /**
   * Applies a changeset to the current zone and swaps the result in (`applyChangeset`: throws
   * `ChangesetMismatch` when it starts from another serial, and nothing changes), with the
   * change of the enumeration (`/v1/enumerate`) that goes with it.
   */
  apply(changeset: Changeset, nowMs: number, enumeration?: EnumerationChange): Snapshot {
    const previous = this.#current;
    const base = this.#base;
    if (previous === undefined || base === undefined) {
      throw new ChangesetMismatch('a changeset before the first load');
    }
    const zone = applyChangeset(previous.zone, changeset);
    const log =
      previous.records instanceof ZoneRecordSet ? previous.records.enumerationLog : undefined;
    const snapshot: Snapshot = {
      records: new ZoneRecordSet(
        base,
        zone,
        enumeration === undefined ? log : { change: enumeration, previous: log },
      ),
      zone,
      loadedAt: nowMs,
      changed: true,
    };
    this.#current = snapshot;
    return snapshot;
  }

  /** Swaps in a full build compiled elsewhere (the pipeline worker), serial already decided. */
  install(snapshot: Snapshot): void {
    this.#current = snapshot;
    this.#base = snapshot.records;
  }
}
