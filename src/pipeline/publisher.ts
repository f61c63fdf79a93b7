/**
 * The worker's side of the store: compiles each full build and applies each streamed changeset
 * under the serial rule (serial.ts), keeps the zone it gives in its own `ZoneStore`, and hands
 * every published full build to `onPublish` (which posts it to the main thread). The main
 * thread's store then installs or applies exactly what this one did, serial included.
 */
import type { Changeset } from '../dns/index.js';
import { compileZoneImage, zoneFromImage } from '../dns/index.js';
import type { RecordSet } from '../records/index.js';
import { toRecordData } from '../records/index.js';
import type { Snapshot, ZoneSettings } from '../store.js';
import { ZoneStore } from '../store.js';
import { buildSerial } from './serial.js';

/** Called with every full build published. */
export type OnPublish = (records: RecordSet, settings: ZoneSettings, snapshot: Snapshot) => void;

/** Compiles, numbers and holds the zones the pipeline builds (see the module comment). */
export class ZonePublisher {
  /** The worker's zones; the journal is the main thread's business. */
  readonly #store = new ZoneStore({ journal: false });
  readonly #onPublish: OnPublish | undefined;

  constructor(onPublish?: OnPublish) {
    this.#onPublish = onPublish;
  }

  /** The current snapshot, undefined before the first build. */
  get current(): Snapshot | undefined {
    return this.#store.current;
  }

  /**
   * Compiles `records` (a full build), numbers it (`buildSerial`: the serial is kept when
   * nothing changed) and swaps it in.
   */
  publish(records: RecordSet, settings: ZoneSettings, nowMs: number): Snapshot {
    const previous = this.#store.current?.zone;
    const data = toRecordData(records);
    const image = compileZoneImage(data, settings);
    const { serial, changed } = buildSerial(previous, image.fingerprint, nowMs);
    const zone = zoneFromImage(data, image, { ...settings, serial });
    const snapshot: Snapshot = { records, zone, loadedAt: nowMs, changed };
    this.#store.install(snapshot);
    this.#onPublish?.(records, settings, snapshot);
    return snapshot;
  }

  /** Applies a streamed changeset (see `ZoneStore.apply`). */
  apply(changeset: Changeset, nowMs: number): Snapshot {
    return this.#store.apply(changeset, nowMs);
  }
}
