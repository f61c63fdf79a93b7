/**
 * The serial rule: the SOA serial of every zone the pipeline publishes. A full build keeps the
 * serial when it changes nothing (the same records and settings as the zone served, whose
 * fingerprint says so), otherwise it moves on like every streamed changeset: to max(previous +
 * 1, now in seconds), so that it always increases (RFC 1982 arithmetic: it wraps past 2^32 - 1
 * to 0) and tells roughly when the zone last changed. The rule runs where zones are built (the
 * worker's `ZonePublisher`); the stores only hold the zones with the serial they were given.
 * The first build of a worker goes past a floor when it has one (`firstSerial`): the serial the
 * main thread serves when a worker is restarted, and the secondaries' serials at start.
 */
import type { Zone } from '../dns/index.js';
import { isSerialAfter } from '../dns/index.js';

/** Now in seconds, as a serial. */
function nowSerial(nowMs: number): number {
  return Math.floor(nowMs / 1000) >>> 0;
}

/**
 * The serial of the next change from a zone with serial `current`: max(current + 1, now in
 * seconds) (after 2^32 - 1 comes 0); before the first load (`current` undefined), now in seconds.
 */
export function nextSerial(current: number | undefined, nowMs: number): number {
  const now = nowSerial(nowMs);
  if (current === undefined) return now;
  return isSerialAfter(now, current) ? now : (current + 1) >>> 0;
}

/**
 * The serial of the first build: now in seconds, or past `floor` (RFC 1982) when that is later:
 * the serial a restarted worker's zone had, or the serials the secondaries hold, which a new
 * zone must go beyond or they would keep their copy.
 */
export function firstSerial(nowMs: number, floor: number | undefined): number {
  return floor === undefined ? nowSerial(nowMs) : nextSerial(floor, nowMs);
}

/**
 * Whether a full build whose fingerprint is `fingerprint` changes the zone served (`previous`):
 * always when there is none; when its records or settings differ from the last full build's;
 * and when changesets were applied since that build (the zone served then differs from it).
 */
export function isChange(previous: Zone | undefined, fingerprint: string): boolean {
  return (
    previous === undefined || previous.fingerprint !== fingerprint || previous.changedNames > 0
  );
}

/** The serial of a full build (see the module comment), and whether it is a change. */
export function buildSerial(
  previous: Zone | undefined,
  fingerprint: string,
  nowMs: number,
  floor?: number,
): { readonly serial: number; readonly changed: boolean } {
  const changed = isChange(previous, fingerprint);
  if (previous === undefined) return { serial: firstSerial(nowMs, floor), changed };
  return { serial: changed ? nextSerial(previous.serial, nowMs) : previous.serial, changed };
}
