/**
 * The difference a full rebuild makes to the zone served, so that every change of the zone,
 * streamed or rebuilt, has one (a `ZoneDiff`, what IXFR needs per serial). The zone served may
 * be a base and the changesets applied since (`Zone.changes`): the old side is what the zone
 * answers now, each name read where `lookupAt` finds it: from the changeset that last replaced
 * it, else from the base (`zoneSource`).
 *
 * A full rebuild has no difference when the zone's settings changed (TTL, SRV weight, the SOA
 * and NS fields: every RR or the apex changes, which record data does not hold) or when its
 * difference would hold more RRs than the new zone (sending the whole zone is then cheaper, the
 * rule of BIND's `max-ixfr-ratio` at 100 %; the diff stops there). An IXFR server then falls
 * back to a full transfer (AXFR) for serials before it.
 */
import type { RecordSource, ReplacedName } from '../records/index.js';
import { diffRecords } from '../records/index.js';
import { changedEntries } from './changed-names.js';
import type { ZoneDiff } from './changeset.js';
import type { Zone } from './zone.js';

/** What `zone` serves now, as the old side of `diffRecords`: its base and the names replaced. */
export function zoneSource(zone: Zone): RecordSource {
  return {
    base: zone.records,
    *replaced(): Generator<ReplacedName> {
      for (const { part, id, hash } of changedEntries(zone.changes)) {
        yield { data: part.records, id, hash };
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
