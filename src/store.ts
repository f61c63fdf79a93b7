/**
 * The zone store: holds the one current compiled zone and its record set, and swaps in the next:
 * a full build (`install`) or the zone a changeset gives (`apply`, dns/changeset.ts). DNS and
 * HTTP read from it; nothing mutates what it hands out.
 *
 * The store decides nothing: the pipeline worker compiles each zone and numbers it (the serial
 * rule, pipeline/serial.ts) in its own store, then posts it to the main thread, whose store
 * installs the full builds and applies the changesets exactly as the worker's did.
 *
 * Every change's difference goes into the store's journal (dns/journal.ts): a changeset's, and
 * the diff the worker made of a full rebuild; a rebuild that came without one breaks the chain.
 * `onChange` hears of each change once it is made: the transfer worker's copy of the zone and
 * journal follows them (dns/transfer-offload.ts).
 */
import type { SoaConfig } from './config/index.js';
import type { Changeset, Zone, ZoneDiff } from './dns/index.js';
import { ChangesetMismatch, ZoneJournal, ZoneRecordSet, applyChangeset } from './dns/index.js';
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

/** Options of `ZoneStore`. */
export interface ZoneStoreOptions {
  /** Keep a journal of the changes (default true; the pipeline worker's store has none). */
  readonly journal?: boolean;
}

/** A change the store made: a full build installed, or a changeset applied. */
export type StoreChange =
  | { readonly type: 'install'; readonly zone: Zone; readonly diff: ZoneDiff | undefined }
  | { readonly type: 'apply'; readonly changeset: Changeset };

/** Holds the current snapshot. */
export class ZoneStore {
  #current: Snapshot | undefined;
  /** The record set of the last full build (the current zone's base). */
  #base: RecordSet | undefined;
  /** The differences of the last changes (undefined when not kept). */
  readonly journal: ZoneJournal | undefined;
  /** Told of every change, after it is made (the transfer worker's mirror follows them). */
  onChange: ((change: StoreChange) => void) | undefined;

  constructor(options: ZoneStoreOptions = {}) {
    this.journal = options.journal === false ? undefined : new ZoneJournal();
  }

  /** The current snapshot, undefined before the first load. */
  get current(): Snapshot | undefined {
    return this.#current;
  }

  /** The current zone (the DNS server's view). */
  zone(): Zone | undefined {
    return this.#current?.zone;
  }

  /**
   * Applies a changeset to the current zone and swaps the result in (`applyChangeset`: throws
   * `ChangesetMismatch` when it starts from another serial, and nothing changes), with the
   * change of the enumeration (`/v1/enumerate`) that goes with it; journals its difference.
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
    this.journal?.record(changeset);
    this.onChange?.({ type: 'apply', changeset });
    return snapshot;
  }

  /**
   * Swaps in a full build (compiled and numbered by the pipeline), with `diff`, its difference
   * from the zone served when the pipeline made one. A new serial without it breaks the
   * journal's chain; the same serial (nothing changed) leaves the journal as it is.
   */
  install(snapshot: Snapshot, diff?: ZoneDiff): void {
    const serial = snapshot.zone.serial;
    if (diff !== undefined && diff.serialTo === serial) this.journal?.record(diff);
    else if (serial !== this.#current?.zone.serial) this.journal?.restart(serial);
    this.#current = snapshot;
    this.#base = snapshot.records;
    this.onChange?.({ type: 'install', zone: snapshot.zone, diff });
  }
}
