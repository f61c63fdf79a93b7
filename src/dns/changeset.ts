/**
 * Zone changes as changesets, after Knot DNS: a changeset takes a zone from one serial to the
 * next; it lists the RRs removed and the RRs added (what an IXFR sends, RFC 1995) and carries the
 * new contents of the names it touches. Applying one gives new zone contents and leaves the old
 * zone as it was; the server then swaps the new zone in, so that a query sees whole contents
 * only, never a zone half-way through a change.
 *
 * The contents travel with the difference so that the thread that answers DNS never merges
 * RRsets: the names are looked up in the contents as they are (`Zone.changes`).
 */
import type { RecordData } from '../records/index.js';
import { hashBytes } from '../records/index.js';
import { withChanged } from './changed-names.js';
import type { ChangedName } from './changed-names.js';
import { writeWireName } from './response.js';
import type { Zone, ZonePart } from './zone.js';
import {
  NO_NODE,
  classifyName,
  lookupAt,
  nameStart,
  sameNameText,
  withSerial,
  zonePart,
} from './zone.js';

/**
 * What a change does to a zone, as an IXFR sends it (RFC 1995): from one serial to the next, the
 * RRs removed and the RRs added. Every change has one: a changeset's, or the diff of a full
 * rebuild with the zone it replaces (zone-diff.ts). Immutable.
 */
export interface ZoneDiff {
  /** The serial of the zone the change applies to, and the serial it gives. */
  readonly serialFrom: number;
  readonly serialTo: number;
  /** The RRs removed and the RRs added, by owner name. */
  readonly removed: RecordData;
  readonly added: RecordData;
}

/** One change of a zone (see the module comment): its difference and its contents. Immutable. */
export interface Changeset extends ZoneDiff {
  /**
   * The new content of the names in `names` (a name without records or an empty non-terminal
   * mark no longer exists), and the addresses of their SRV targets (for additional sections).
   */
  readonly contents: RecordData;
  /** Ids in `contents` of the names the changeset replaces. */
  readonly names: Int32Array;
}

/** RRs name `id` of a part owns (all kinds). */
function rrsOf(part: ZonePart, id: number): number {
  if (id < 0) return 0;
  let n = 0;
  for (const k of part.records.kinds) {
    const slot = (k.slot[id] ?? 0) - 1;
    if (slot >= 0) n += (k.start[slot + 1] ?? 0) - (k.start[slot] ?? 0);
  }
  return n;
}

const sameName = (a: ChangedName<ZonePart>, b: ChangedName<ZonePart>): boolean =>
  sameNameText(a.part.records, a.id, b.part.records, b.id);

/** A changeset that does not apply to a zone (its serial is not the zone's). */
export class ChangesetMismatch extends Error {}

/**
 * The zone `changeset` gives from `zone` (which is left as it was): its names now answered from
 * the changeset's contents, its counts and serial moved on.
 */
export function applyChangeset(zone: Zone, changeset: Changeset): Zone {
  if (changeset.serialFrom !== zone.serial) {
    throw new ChangesetMismatch(
      `changeset ${String(changeset.serialFrom)} -> ${String(changeset.serialTo)} does not apply to serial ${String(zone.serial)}`,
    );
  }
  const { contents } = changeset;
  const part = zonePart(contents, zone);
  let changes = zone.changes;
  let changedNames = zone.changedNames;
  let names = zone.names;
  let rrs = zone.rrs;
  for (const id of changeset.names) {
    const start = nameStart(contents, id);
    const end = contents.nameEnd[id] ?? start;
    const hash = hashBytes(contents.names, start, end - start);
    // Before: the name as `zone` answers it, found by its text (the wire form is not needed).
    const wire = wireOf(contents.names, start, end);
    const before = lookupAt(zone, wire, 0, wire.length - 1, hash);
    const beforePart = before.part;
    const beforeId = before.id;
    // A name answered from the base joins `changes`; one a changeset replaced is replaced again.
    if (beforePart === zone) changedNames++;
    const existed = classifyName(beforePart, beforeId) !== NO_NODE;
    const exists = classifyName(part, id) !== NO_NODE;
    names += (exists ? 1 : 0) - (existed ? 1 : 0);
    rrs += rrsOf(part, id) - rrsOf(beforePart, beforeId);
    changes = withChanged(changes, { hash, part, id }, sameName);
  }
  return {
    ...withSerial(zone, zone.soa, zone.ttl, changeset.serialTo),
    names,
    rrs,
    changes,
    changedNames,
  };
}

/** The wire form of a text-form name (`ab.c.` -> `\x02ab\x01c\x00`). */
function wireOf(text: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start + 1);
  writeWireName(out, 0, text, start, end);
  return out;
}
