/**
 * The worker's side of the store: compiles each full build and applies each streamed changeset
 * under the serial rule (serial.ts), keeps the zone it gives in its own `ZoneStore`, and hands
 * every published full build to `onPublish` (which posts it to the main thread). The main
 * thread's store then installs or applies exactly what this one did, serial included.
 *
 * A full build that changes a zone served comes with its difference from that zone (the zone as
 * it answers now, changesets included: dns/zone-diff.ts), so that every change has one for the
 * journal. Made here, off the thread that answers DNS: it reads the previous build's record
 * data, which the worker still shares with the main thread. None when the diff would be larger
 * than the zone or the settings changed (`fullBuildDiff`).
 */
import type { Changeset, ZoneDiff } from '../dns/index.js';
import { compileZoneImage, fullBuildDiff, zoneFromImage } from '../dns/index.js';
import type { RecordSet } from '../records/index.js';
import { toRecordData } from '../records/index.js';
import type { Snapshot, ZoneSettings } from '../store.js';
import { ZoneStore } from '../store.js';
import { buildSerial } from './serial.js';

/** A full build published. */
export interface PublishedBuild {
  readonly records: RecordSet;
  readonly settings: ZoneSettings;
  readonly snapshot: Snapshot;
  /** The serial of the zone it replaced, undefined for the first. */
  readonly previousSerial: number | undefined;
  /**
   * Its difference from the zone it replaced, when it changed one and a difference is available
   * (see the module comment).
   */
  readonly diff: ZoneDiff | undefined;
  /** Time spent on the diff, ms. */
  readonly diffMs: number;
}

/** Called with every full build published. */
export type OnPublish = (build: PublishedBuild) => void;

/** Compiles, numbers and holds the zones the pipeline builds (see the module comment). */
export class ZonePublisher {
  /** The worker's zones; the journal is the main thread's business. */
  readonly #store = new ZoneStore({ journal: false });
  readonly #onPublish: OnPublish | undefined;

  /** The serial the first build goes beyond (see `firstSerial`), when there is one. */
  serialFloor: number | undefined;

  constructor(onPublish?: OnPublish) {
    this.#onPublish = onPublish;
  }

  /** The current snapshot, undefined before the first build. */
  get current(): Snapshot | undefined {
    return this.#store.current;
  }

  /**
   * Compiles `records` (a full build), numbers it (`buildSerial`: the serial is kept when
   * nothing changed), diffs it with the zone it replaces when it changed one, and swaps it in.
   */
  publish(records: RecordSet, settings: ZoneSettings, nowMs: number): Snapshot {
    const previous = this.#store.current?.zone;
    const data = toRecordData(records);
    const image = compileZoneImage(data, settings);
    const { serial, changed } = buildSerial(previous, image.fingerprint, nowMs, this.serialFloor);
    const zone = zoneFromImage(data, image, { ...settings, serial });
    const started = performance.now();
    const diff = previous !== undefined && changed ? fullBuildDiff(previous, zone) : undefined;
    const diffMs = performance.now() - started;
    const snapshot: Snapshot = { records, zone, loadedAt: nowMs, changed };
    this.#store.install(snapshot);
    this.#onPublish?.({
      records,
      settings,
      snapshot,
      previousSerial: previous?.serial,
      diff,
      diffMs,
    });
    return snapshot;
  }

  /** Applies a streamed changeset (see `ZoneStore.apply`). */
  apply(changeset: Changeset, nowMs: number): Snapshot {
    return this.#store.apply(changeset, nowMs);
  }
}
