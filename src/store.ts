/**
 * The zone store: holds the one current compiled zone and its record set. A successful load
 * replaces both atomically; the SOA serial moves only when the records changed. DNS and HTTP
 * read from it; nothing mutates what it hands out.
 *
 * The pipeline worker (build/) compiles with its own store and posts each snapshot to the main
 * thread, whose store only `install`s it: the serial rule runs where the zone is built.
 */
import type { SoaConfig } from './config/index.js';
import type { Zone } from './dns/index.js';
import { compileZone, withSerial } from './dns/index.js';
import type { RecordSet } from './records/index.js';

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

  /** The current snapshot, undefined before the first load. */
  get current(): Snapshot | undefined {
    return this.#current;
  }

  /** The current zone (the DNS server's view). */
  zone(): Zone | undefined {
    return this.#current?.zone;
  }

  /**
   * Compiles `records` and swaps it in. The serial is kept when nothing changed, else becomes
   * max(previous + 1, now in seconds) so that it always increases (RFC 1982 arithmetic aside).
   */
  publish(records: RecordSet, settings: ZoneSettings, nowMs: number): Snapshot {
    const previous = this.#current;
    const serialNow = Math.floor(nowMs / 1000) >>> 0;
    let zone = compileZone(records, { ...settings, serial: previous?.zone.serial ?? serialNow });
    const changed = previous === undefined || previous.zone.fingerprint !== zone.fingerprint;
    if (previous !== undefined && changed) {
      const serial = Math.max(previous.zone.serial + 1, serialNow) >>> 0;
      zone = withSerial(zone, settings.soa, settings.ttl, serial);
    }
    const snapshot: Snapshot = { records, zone, loadedAt: nowMs, changed };
    this.#current = snapshot;
    return snapshot;
  }

  /**
   * Notes an incremental update compiled elsewhere (stream mode): returns the serial it gets,
   * max(previous + 1, now in seconds). The next `publish` counts as a change whatever its
   * records, since the updates made the served zone differ from the last compiled one.
   */
  bumpSerial(settings: ZoneSettings, nowMs: number): number | undefined {
    const previous = this.#current;
    if (previous === undefined) return undefined;
    const serial = Math.max(previous.zone.serial + 1, Math.floor(nowMs / 1000)) >>> 0;
    const zone = {
      ...withSerial(previous.zone, settings.soa, settings.ttl, serial),
      fingerprint: '',
    };
    this.#current = { ...previous, zone, loadedAt: nowMs, changed: true };
    return serial;
  }

  /** Swaps in a snapshot compiled elsewhere (the pipeline worker), serial already decided. */
  install(snapshot: Snapshot): void {
    this.#current = snapshot;
  }
}
