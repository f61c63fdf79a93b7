/**
 * The transfer worker's copy of what the main thread's store holds for transfers: the zone
 * served and the journal of its differences. It follows the store change by change (the same
 * full builds installed, the same changesets applied, in the same order, since messages between
 * two threads keep their order), so that a transfer job finds the zone of the serial the main
 * thread answers with; the job checks that serial, and the journal's chain for an IXFR.
 *
 * Each zone is immutable: a transfer keeps the zone it started with while the mirror moves on.
 */
import { applyChangeset } from './changeset.js';
import type { Changeset, ZoneDiff } from './changeset.js';
import { withChanged } from './changed-names.js';
import type { ChangedNames } from './changed-names.js';
import { ZoneJournal } from './journal.js';
import type { JournalLimits } from './journal.js';
import type { MirrorInstall, MirrorSync } from './transfer-protocol.js';
import type { Zone, ZonePart } from './zone.js';
import { sameNameText, zoneFromImage, zonePart } from './zone.js';

/** The zone and journal of the main thread's store (see the module comment). */
export class TransferMirror {
  #zone: Zone | undefined;
  readonly journal = new ZoneJournal();

  /** The zone served now, undefined before the first. */
  get zone(): Zone | undefined {
    return this.#zone;
  }

  /** A full build installed (`ZoneStore.install`, with the same journal rule). */
  install(message: MirrorInstall): void {
    const zone = zoneFromImage(message.records, message.image, message.settings);
    const diff = message.diff;
    if (diff !== undefined && diff.serialTo === zone.serial) this.journal.record(diff);
    else if (zone.serial !== this.#zone?.serial) this.journal.restart(zone.serial);
    this.#zone = zone;
  }

  /** A changeset applied (`ZoneStore.apply`). */
  apply(changeset: Changeset): void {
    const zone = this.#zone;
    if (zone === undefined) return;
    this.#zone = applyChangeset(zone, changeset);
    this.journal.record(changeset);
  }

  setLimits(limits: JournalLimits): void {
    this.journal.setLimits(limits);
  }

  /** Everything at once (a worker started after the first load). */
  sync(message: MirrorSync): void {
    const base = zoneFromImage(message.records, message.image, message.settings);
    const parts = message.parts.map((records) => zonePart(records, base));
    let changes: ChangedNames<ZonePart> = undefined;
    const c = message.changed;
    for (let i = 0; i + 2 < c.length; i += 3) {
      const part = parts[c[i + 1] ?? 0];
      if (part === undefined) continue;
      changes = withChanged(changes, { hash: c[i] ?? 0, part, id: c[i + 2] ?? 0 }, (a, b) =>
        sameNameText(a.part.records, a.id, b.part.records, b.id),
      );
    }
    this.#zone = {
      ...base,
      names: message.names,
      rrs: message.rrs,
      changes,
      changedNames: message.changedNames,
    };
    const first = message.diffs[0];
    const start = first === undefined ? message.journalSerial : first.serialFrom;
    if (start !== undefined) this.journal.restart(start);
    for (const diff of message.diffs) this.journal.record(diff);
  }

  /**
   * What a job needs, checked against what the main thread saw: the zone of `serial` and, for
   * an IXFR, a chain of `incremental.diffs` differences from `incremental.from`; else why not.
   */
  snapshot(
    serial: number,
    incremental: { readonly from: number; readonly diffs: number } | undefined,
  ): { zone: Zone; diffs: readonly ZoneDiff[] | undefined } | string {
    const zone = this.#zone;
    if (zone === undefined) return 'no zone yet';
    if (zone.serial !== serial) {
      return `serial ${String(zone.serial)}, not ${String(serial)}`;
    }
    if (incremental === undefined) return { zone, diffs: undefined };
    const diffs = this.journal.since(incremental.from);
    if (diffs?.length !== incremental.diffs || diffs.at(-1)?.serialTo !== serial) {
      return `journal from ${String(incremental.from)} differs`;
    }
    return { zone, diffs };
  }
}
