/**
 * The zone's journal: the differences of its last changes, in serial order (what an IXFR server
 * answers from, RFC 1995), the streamed changesets and the diffs of full rebuilds alike. `since`
 * gives the chain of differences from a serial to the current one.
 *
 * Bounded by the number of differences and by the RRs they hold together; the oldest go first.
 * A change without a difference (a full rebuild whose diff was too large or whose settings
 * changed, the first build of a restarted pipeline worker) breaks the chain: the journal starts
 * again at the new serial, and a client at an older one needs the whole zone (AXFR).
 */
import type { ZoneDiff } from './changeset.js';

/**
 * At most this many differences. Each costs the arrays of two small record data sets besides its
 * RRs, so the count bounds memory too. At the stream's fastest (a changeset per default
 * `mesos.stream.batchMs`) that is most of a minute, the default SOA refresh of a secondary; a
 * quieter zone's reaches much further back. The default of `transfer.journal`.
 */
export const JOURNAL_MAX_ENTRIES = 1000;

/**
 * At most this many RRs in all the differences held: the journal's memory (an owner name and a
 * value per RR, in record data) stays a fraction of a large zone's, while a full rebuild's diff
 * after a tenth of a large cluster changed still fits.
 */
export const JOURNAL_MAX_RRS = 250_000;

/** RRs removed and added by a difference. */
export function diffRRs(diff: ZoneDiff): number {
  let n = 0;
  for (const data of [diff.removed, diff.added]) for (const k of data.kinds) n += k.values.length;
  return n;
}

/** The bounds of a journal. */
export interface JournalLimits {
  readonly maxEntries: number;
  readonly maxRRs: number;
}

/**
 * The journal's bounds for the `transfer` settings: `journal` differences at most, and none while
 * nobody may transfer (`allow` empty, the default: IXFR is refused, and the record data of the
 * differences, up to `JOURNAL_MAX_RRS` RRs after a large rebuild, would stay on the DNS thread
 * for nothing). A reload that allows transfers starts the chain at the next change; a secondary
 * at an older serial gets the whole zone, as for any serial the journal does not reach.
 */
export function journalLimits(transfer: {
  readonly allow: readonly string[];
  readonly journal: number;
}): JournalLimits {
  return {
    maxEntries: transfer.allow.length > 0 ? transfer.journal : 0,
    maxRRs: JOURNAL_MAX_RRS,
  };
}

/** The last differences of a zone (see the module comment). */
export class ZoneJournal {
  #limits: JournalLimits;
  /** Oldest first; each starts at the serial the previous one gave. */
  readonly #entries: { readonly diff: ZoneDiff; readonly rrs: number }[] = [];
  #rrs = 0;
  /** The serial the chain ends at (the zone's), undefined before the first change. */
  #serial: number | undefined;

  constructor(
    limits: JournalLimits = { maxEntries: JOURNAL_MAX_ENTRIES, maxRRs: JOURNAL_MAX_RRS },
  ) {
    this.#limits = limits;
  }

  /** The serial the journal ends at: the zone's. */
  get serial(): number | undefined {
    return this.#serial;
  }

  /** Differences held. */
  get entries(): number {
    return this.#entries.length;
  }

  /** The bounds in force. */
  get limits(): JournalLimits {
    return this.#limits;
  }

  /** Every difference held, oldest first. */
  diffs(): readonly ZoneDiff[] {
    return this.#entries.map((e) => e.diff);
  }

  /** RRs held, in all the differences. */
  get rrs(): number {
    return this.#rrs;
  }

  /**
   * Records a change and its difference. One that does not start at the journal's serial breaks
   * the chain: the journal starts again from it.
   */
  record(diff: ZoneDiff): void {
    if (diff.serialFrom !== this.#serial) this.restart(diff.serialFrom);
    // Only the difference is kept, not what else the object holds (a changeset's contents).
    const entry = {
      diff: {
        serialFrom: diff.serialFrom,
        serialTo: diff.serialTo,
        removed: diff.removed,
        added: diff.added,
      },
      rrs: diffRRs(diff),
    };
    this.#entries.push(entry);
    this.#rrs += entry.rrs;
    this.#serial = diff.serialTo;
    this.#evict();
  }

  /** New bounds (`transfer.journal` on a reload); the oldest differences beyond them go. */
  setLimits(limits: JournalLimits): void {
    this.#limits = limits;
    this.#evict();
  }

  #evict(): void {
    const { maxEntries, maxRRs } = this.#limits;
    while (this.#entries.length > maxEntries || this.#rrs > maxRRs) {
      this.#rrs -= this.#entries.shift()?.rrs ?? 0;
    }
  }

  /** Records a change to `serial` without a difference: the chain starts again there. */
  restart(serial: number): void {
    this.#entries.length = 0;
    this.#rrs = 0;
    this.#serial = serial;
  }

  /**
   * The differences from `serial` to the current serial, in order (empty at the current serial),
   * or undefined when the journal does not reach back to `serial` (never held, evicted, or
   * before a break).
   */
  since(serial: number): readonly ZoneDiff[] | undefined {
    if (this.#serial === undefined) return undefined;
    if (serial === this.#serial) return [];
    // From the newest: the shortest chain, should a serial ever come round again.
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (this.#entries[i]?.diff.serialFrom === serial) {
        return this.#entries.slice(i).map((e) => e.diff);
      }
    }
    return undefined;
  }
}
