// The serial rule (pipeline/serial.ts) and the worker's publisher that applies it.
import test from 'ava';
import type { Changeset } from '../../src/dns/index.js';
import { buildSerial, firstSerial, isChange, nextSerial } from '../../src/pipeline/serial.js';
import { ZonePublisher } from '../../src/pipeline/publisher.js';
import { CompactRecordSet, toRecordData } from '../../src/records/index.js';
import { recordsFromText, testSoa, zoneFromText } from '../../support/records-text.js';

const BASE = `
  web.marathon.mesos.       A    10.0.0.1
  _web._tcp.marathon.mesos. SRV  31000 web.marathon.mesos.
`;

const settings = { ttl: 60, srvWeight: 1, soa: testSoa() };

test('nextSerial: now in seconds at first, then the later of previous + 1 and now (RFC 1982)', (t) => {
  t.is(nextSerial(undefined, 1_234_567), 1234);
  t.is(nextSerial(1000, 1_000_500), 1001, 'within the second: previous + 1');
  t.is(nextSerial(1000, 5_000_000), 5000, 'later: now');
  t.is(nextSerial(0xffff_ffff, 0), 0, 'after 2^32 - 1 comes 0');
  t.is(nextSerial(0xffff_ffff, 1_000_000), 1000, 'now, 1000, is after 2^32 - 1 (RFC 1982)');
  t.is(nextSerial(5, 0xf000_0000 * 1000), 6, 'now is before 5, seen across the wrap');
  t.is(nextSerial(0, 1_000_000), 1000);
});

test('firstSerial: now, or past a floor that is later (RFC 1982, across the wrap)', (t) => {
  t.is(firstSerial(7_000, undefined), 7);
  t.is(firstSerial(7_000, 3), 7, 'a floor before now');
  t.is(firstSerial(7_000, 90_000), 90_001, 'a floor after now');
  t.is(firstSerial(7_000, 0xffff_fff0), 7, 'now is after a floor just before the wrap');
  t.is(firstSerial(0x9000_0000 * 1000, 5), 5 + 1, 'a floor past the wrap is after now');
  t.deepEqual(buildSerial(undefined, 'x', 7_000, 90_000), { serial: 90_001, changed: true });
});

test('isChange and buildSerial: kept for the same fingerprint, moved on otherwise', (t) => {
  const zone = zoneFromText(BASE, { serial: 1000 });
  t.true(isChange(undefined, zone.fingerprint));
  t.false(isChange(zone, zone.fingerprint));
  t.true(isChange(zone, 'other'));
  t.true(isChange({ ...zone, changedNames: 1 }, zone.fingerprint), 'changesets applied since');
  t.deepEqual(buildSerial(undefined, 'x', 7_000), { serial: 7, changed: true });
  t.deepEqual(buildSerial(zone, zone.fingerprint, 9_000_000), { serial: 1000, changed: false });
  t.deepEqual(buildSerial(zone, 'other', 9_000_000), { serial: 9000, changed: true });
});

test('the publisher moves the serial on for a changeset, and counts the next full build a change', (t) => {
  const publisher = new ZonePublisher();
  const first = publisher.publish(recordsFromText(BASE), settings, 1_000_000);
  t.is(first.zone.serial, 1000);
  t.true(first.changed);
  const contents = toRecordData(recordsFromText('new.mesos. A 10.0.0.1'));
  const empty = toRecordData(recordsFromText(''));
  const changeset: Changeset = {
    serialFrom: first.zone.serial,
    serialTo: nextSerial(first.zone.serial, 1_000_500),
    contents,
    names: Int32Array.from([new CompactRecordSet(contents).nameId('new.mesos.')]),
    removed: empty,
    added: contents,
  };
  const applied = publisher.apply(changeset, 1_000_500);
  t.is(applied.zone.serial, 1001);
  t.deepEqual(applied.records.a.get('new.mesos.'), ['10.0.0.1']);
  // The same records as the first build: still a change, since the zone served moved on.
  const again = publisher.publish(recordsFromText(BASE), settings, 1_000_600);
  t.true(again.changed);
  t.is(again.zone.serial, 1002);
  t.is(again.zone.changedNames, 0);
  // And once more: now nothing changed.
  const same = publisher.publish(recordsFromText(BASE), settings, 1_000_700);
  t.false(same.changed);
  t.is(same.zone.serial, 1002);
  t.is(publisher.current, same);
  // Other settings are a change too.
  const ttl = publisher.publish(recordsFromText(BASE), { ...settings, ttl: 30 }, 1_000_800);
  t.true(ttl.changed);
  t.is(ttl.zone.serial, 1003);
});
