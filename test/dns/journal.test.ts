// The zone's journal (dns/journal.ts) and the store that records into it.
import test from 'ava';
import type { ZoneDiff } from '../../src/dns/index.js';
import { JOURNAL_MAX_RRS, ZoneJournal, diffRRs, journalLimits } from '../../src/dns/index.js';
import { nextSerial } from '../../src/pipeline/serial.js';
import { CompactRecordSet, toRecordData } from '../../src/records/index.js';
import { ZoneStore } from '../../src/store.js';
import { recordsFromText, zoneFromText } from '../../support/records-text.js';

/** A difference from `from` to `to` that adds `rrs` A records. */
function diff(from: number, to: number, rrs = 1): ZoneDiff {
  const lines = Array.from({ length: rrs }, (_, i) => `n${String(i)}.mesos. A 10.0.0.${String(i)}`);
  return {
    serialFrom: from,
    serialTo: to,
    removed: toRecordData(recordsFromText('')),
    added: toRecordData(recordsFromText(lines.join('\n'))),
  };
}

const serials = (chain: readonly ZoneDiff[] | undefined): string | undefined =>
  chain?.map((d) => `${String(d.serialFrom)}>${String(d.serialTo)}`).join(' ');

test('since gives the chain from a serial to the current one', (t) => {
  const journal = new ZoneJournal();
  t.is(journal.since(1), undefined, 'nothing before the first change');
  for (const [from, to] of [
    [1, 2],
    [2, 3],
    [3, 4],
  ] as const) {
    journal.record(diff(from, to, 2));
  }
  t.is(journal.serial, 4);
  t.is(journal.entries, 3);
  t.is(journal.rrs, 6);
  t.is(serials(journal.since(1)), '1>2 2>3 3>4');
  t.is(serials(journal.since(3)), '3>4');
  t.deepEqual(journal.since(4), [], 'the current serial: nothing to send');
  t.is(journal.since(0), undefined);
  t.is(journal.since(5), undefined);
});

test('the oldest differences go first, past the entry and RR bounds', (t) => {
  const byCount = new ZoneJournal({ maxEntries: 2, maxRRs: 100 });
  for (let s = 1; s <= 4; s++) byCount.record(diff(s, s + 1));
  t.is(byCount.entries, 2);
  t.is(byCount.since(2), undefined, 'evicted');
  t.is(serials(byCount.since(3)), '3>4 4>5');
  const byRRs = new ZoneJournal({ maxEntries: 100, maxRRs: 5 });
  byRRs.record(diff(1, 2, 2));
  byRRs.record(diff(2, 3, 2));
  byRRs.record(diff(3, 4, 2));
  t.is(byRRs.rrs, 4);
  t.is(serials(byRRs.since(2)), '2>3 3>4');
  t.is(byRRs.since(1), undefined);
  // A difference larger than the bound is not kept; the journal ends at its serial.
  byRRs.record(diff(4, 5, 6));
  t.is(byRRs.entries, 0);
  t.is(byRRs.rrs, 0);
  t.is(byRRs.since(4), undefined);
  t.deepEqual(byRRs.since(5), []);
});

test('new limits (a reload of transfer.journal) drop the oldest beyond them; 0 keeps none', (t) => {
  const journal = new ZoneJournal({ maxEntries: 10, maxRRs: 100 });
  for (let s = 1; s <= 5; s++) journal.record(diff(s, s + 1));
  journal.setLimits({ maxEntries: 2, maxRRs: 100 });
  t.is(serials(journal.since(4)), '4>5 5>6');
  t.is(journal.since(3), undefined);
  journal.setLimits({ maxEntries: 0, maxRRs: 100 });
  journal.record(diff(6, 7));
  t.is(journal.entries, 0);
  t.is(journal.since(6), undefined);
  t.deepEqual(journal.since(7), []);
});

test('a change without a difference, or from another serial, breaks the chain', (t) => {
  const journal = new ZoneJournal();
  journal.record(diff(1, 2));
  journal.record(diff(2, 3));
  journal.restart(7);
  t.is(journal.since(1), undefined);
  t.is(journal.since(3), undefined);
  t.deepEqual(journal.since(7), []);
  journal.record(diff(7, 8));
  journal.record(diff(9, 10));
  t.is(journal.since(7), undefined, 'the chain broke at 8');
  t.is(serials(journal.since(9)), '9>10');
  t.is(journal.entries, 1);
});

test('the chain follows the serial across its wrap past 2^32 - 1', (t) => {
  const journal = new ZoneJournal();
  // A clock that is behind the serial (RFC 1982): the serial counts on by one, across the wrap.
  const now = 0xffff_0000 * 1000;
  let serial = 0xffff_fffe;
  const start = serial;
  for (let i = 0; i < 4; i++) {
    const next = nextSerial(serial, now);
    journal.record(diff(serial, next));
    serial = next;
  }
  t.is(serials(journal.since(start)), '4294967294>4294967295 4294967295>0 0>1 1>2');
  t.is(serials(journal.since(0)), '0>1 1>2');
});

test('diffRRs counts removed and added RRs', (t) => {
  const d = diff(1, 2, 3);
  t.is(diffRRs({ ...d, removed: d.added }), 6);
});

test('the store journals changesets and full builds; a build without a diff breaks the chain', (t) => {
  const store = new ZoneStore();
  const journal = store.journal;
  if (journal === undefined) return t.fail('no journal');
  const install = (serial: number, d?: ZoneDiff): void => {
    const zone = zoneFromText('a.mesos. A 10.0.0.1', { serial });
    store.install({ records: recordsFromText(''), zone, loadedAt: 0, changed: true }, d);
  };
  install(10);
  t.deepEqual(journal.since(10), []);
  const contents = toRecordData(recordsFromText('b.mesos. A 10.0.0.2'));
  store.apply(
    {
      ...diff(10, 11),
      contents,
      names: Int32Array.from([new CompactRecordSet(contents).nameId('b.mesos.')]),
    },
    0,
  );
  install(12, diff(11, 12));
  t.is(serials(journal.since(10)), '10>11 11>12');
  t.false('contents' in (journal.since(10)?.[0] ?? {}), 'a changeset is journaled as its diff');
  install(12);
  t.is(serials(journal.since(10)), '10>11 11>12', 'the same serial: nothing changed');
  install(13);
  t.is(journal.since(12), undefined, 'a new serial without a diff');
  t.deepEqual(journal.since(13), []);
  t.is(new ZoneStore({ journal: false }).journal, undefined);
});

test('nobody may transfer: the journal keeps no difference, and starts when a reload allows', (t) => {
  t.deepEqual(journalLimits({ allow: [], journal: 1000 }), {
    maxEntries: 0,
    maxRRs: JOURNAL_MAX_RRS,
  });
  const allowed = { allow: ['10.0.0.0/8'], journal: 1000 };
  t.deepEqual(journalLimits(allowed), { maxEntries: 1000, maxRRs: JOURNAL_MAX_RRS });
  const journal = new ZoneJournal(journalLimits({ allow: [], journal: 1000 }));
  journal.record(diff(1, 2, 50));
  journal.record(diff(2, 3));
  t.is(journal.entries, 0, 'no difference held');
  t.is(journal.rrs, 0);
  t.deepEqual(journal.since(3), [], 'a secondary at the current serial is current');
  t.is(journal.since(2), undefined, 'an older one gets the whole zone');
  journal.setLimits(journalLimits(allowed));
  journal.record(diff(3, 4));
  t.is(serials(journal.since(3)), '3>4');
  t.is(journal.since(2), undefined);
});
