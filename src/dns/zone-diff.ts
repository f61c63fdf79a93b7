/**
 * The difference a full rebuild makes to the zone served, so that every change of the zone,
 * streamed or rebuilt, has one (a `ZoneDiff`, what IXFR needs per serial). The zone served may
 * be a base and the changesets applied since (`Zone.changes`): the old side is what the zone
 * answers now, each name read where `lookupAt` finds it (`zoneSource`), not the last base.
 *
 * A full rebuild has no difference when the zone's settings changed (TTL, SRV weight, the SOA
 * and NS fields: every RR or the apex changes, which record data does not hold) or when its
 * difference would hold more RRs than the new zone (sending the whole zone is then cheaper, the
 * rule of BIND's `max-ixfr-ratio` at 100 %; the diff stops there). An IXFR server then falls
 * back to a full transfer (AXFR) for serials before it.
 */
import type { NameRef, RecordData, RecordSource } from '../records/index.js';
import { diffRecords, findName, nameHashes, ownsRecords } from '../records/index.js';
import type { ChangedName } from './changed-names.js';
import { changedEntries, changedWithHash } from './changed-names.js';
import type { ZoneDiff } from './changeset.js';
import type { Zone, ZonePart } from './zone.js';
import { nameStart } from './zone.js';

/** Whether name `id` of `data` is the text `bytes[start..end)`. */
function isText(
  data: RecordData,
  id: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): boolean {
  const from = nameStart(data, id);
  const length = end - start;
  if ((data.nameEnd[id] ?? 0) - from !== length) return false;
  const names = data.names;
  for (let i = 0; i < length; i++) if (names[from + i] !== bytes[start + i]) return false;
  return true;
}

/** The changed entry of `zone` for the text `bytes[start..end)` with hash `hash`, if any. */
function changedEntry(
  zone: Zone,
  bytes: Uint8Array,
  start: number,
  end: number,
  hash: number,
): ChangedName<ZonePart> | undefined {
  const entries = changedWithHash(zone.changes, hash);
  return entries?.find((e) => isText(e.part.records, e.id, bytes, start, end));
}

/** What `zone` serves now, as the old side of `diffRecords` (see the module comment). */
export function zoneSource(zone: Zone): RecordSource {
  const found: NameRef = { data: zone.records, id: -1 };
  return {
    find(bytes, start, end, hash) {
      const entry =
        zone.changes === undefined ? undefined : changedEntry(zone, bytes, start, end, hash);
      found.data = entry?.part.records ?? zone.records;
      found.id = entry?.id ?? findName(zone.records, bytes, start, end, hash);
      return found;
    },
    forEachOwner(visit) {
      const base = zone.records;
      // The base's names a changeset replaced are read from the changeset instead.
      const replaced = new Uint8Array(base.nameEnd.length);
      for (const { part, id, hash } of changedEntries(zone.changes)) {
        const data = part.records;
        const at = findName(base, data.names, nameStart(data, id), data.nameEnd[id] ?? 0, hash);
        if (at >= 0) replaced[at] = 1;
      }
      const hashes = nameHashes(base);
      for (let id = 0; id < hashes.length; id++) {
        if (replaced[id] === 1 || !ownsRecords(base, id)) continue;
        if (!visit(base, id, hashes[id] ?? 0)) return;
      }
      for (const { part, id, hash } of changedEntries(zone.changes)) {
        if (ownsRecords(part.records, id) && !visit(part.records, id, hash)) return;
      }
    },
  };
}

/** Whether two zones answer with the same settings (TTL, SRV weight, SOA but its serial). */
function sameSettings(a: Zone, b: Zone): boolean {
  const x = a.soa;
  const y = b.soa;
  return (
    a.apexKey === b.apexKey &&
    a.ttl === b.ttl &&
    a.srvWeight === b.srvWeight &&
    x.mname === y.mname &&
    x.rname === y.rname &&
    x.refresh === y.refresh &&
    x.retry === y.retry &&
    x.expire === y.expire &&
    x.minimum === y.minimum
  );
}

/**
 * The difference from `previous` (the zone served) to `next` (a full build of it, no changesets
 * applied), or undefined when there is none (see the module comment).
 */
export function fullBuildDiff(previous: Zone, next: Zone): ZoneDiff | undefined {
  if (!sameSettings(previous, next)) return undefined;
  const diff = diffRecords(zoneSource(previous), next.records, next.rrs);
  if (diff === undefined) return undefined;
  return {
    serialFrom: previous.serial,
    serialTo: next.serial,
    removed: diff.removed,
    added: diff.added,
  };
}
