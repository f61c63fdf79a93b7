// The difference a full rebuild makes to the zone served (dns/zone-diff.ts), changesets included.
import test from 'ava';
import type { RecordData } from '../../src/records/index.js';
import type { Zone } from '../../src/dns/index.js';
import { applyChangeset, fullBuildDiff } from '../../src/dns/index.js';
import { CompactRecordSet, toRecordData } from '../../src/records/index.js';
import { recordsFromText, zoneFromText } from '../../support/records-text.js';

const BASE = `
  web.marathon.mesos.       A    10.0.0.1
  db.marathon.mesos.        A    10.0.0.2
  gone.marathon.mesos.      A    10.0.0.3
  _web._tcp.marathon.mesos. SRV  31000 web.marathon.mesos.
`;

/** Every RR as text. */
function rrTexts(data: RecordData): string[] {
  const set = new CompactRecordSet(data);
  const out: string[] = [];
  for (const [name, ips] of set.a) for (const ip of ips) out.push(`${name} A ${ip}`);
  for (const [name, ips] of set.aaaa) for (const ip of ips) out.push(`${name} AAAA ${ip}`);
  for (const [name, targets] of set.srv) {
    for (const s of targets) out.push(`${name} SRV ${s.target}:${String(s.port)}`);
  }
  return out.sort();
}

/** `zone` with the names `names` replaced by what `text` gives them (nothing: removed). */
function changed(zone: Zone, text: string, names: readonly string[]): Zone {
  // A throwaway SRV record per name interns it (a name going away must be a name there).
  const contents = toRecordData(
    recordsFromText(text + names.map((n) => `\n_x._tcp.keep.mesos. SRV 1 ${n}`).join('')),
  );
  const set = new CompactRecordSet(contents);
  const empty = toRecordData(recordsFromText(''));
  return applyChangeset(zone, {
    serialFrom: zone.serial,
    serialTo: zone.serial + 1,
    contents,
    names: Int32Array.from(names.map((n) => set.nameId(n))),
    removed: empty,
    added: empty,
  });
}

test('a full build is diffed against the zone served: base and changesets', (t) => {
  let zone = zoneFromText(BASE, { serial: 10 });
  // Streamed: web moves to 10.0.0.7, gone goes away, new comes.
  zone = changed(zone, 'web.marathon.mesos. A 10.0.0.7\nnew.marathon.mesos. A 10.0.1.1', [
    'web.marathon.mesos.',
    'new.marathon.mesos.',
    'gone.marathon.mesos.',
  ]);
  t.is(zone.serial, 11);
  // The full build: web back to 10.0.0.1 plus .8, gone back, new stays, db goes.
  const next = zoneFromText(
    `
      web.marathon.mesos.       A    10.0.0.1
      web.marathon.mesos.       A    10.0.0.7
      gone.marathon.mesos.      A    10.0.0.3
      new.marathon.mesos.       A    10.0.1.1
      _web._tcp.marathon.mesos. SRV  31000 web.marathon.mesos.
    `,
    { serial: 12 },
  );
  const diff = fullBuildDiff(zone, next);
  if (diff === undefined) return t.fail('no diff');
  t.is(diff.serialFrom, 11);
  t.is(diff.serialTo, 12);
  t.deepEqual(rrTexts(diff.removed), ['db.marathon.mesos. A 10.0.0.2']);
  t.deepEqual(rrTexts(diff.added), [
    'gone.marathon.mesos. A 10.0.0.3',
    'web.marathon.mesos. A 10.0.0.1',
  ]);
});

test('no difference when the settings change or when it is larger than the zone', (t) => {
  const zone = zoneFromText(BASE, { serial: 10 });
  const same = zoneFromText(BASE, { serial: 11 });
  t.deepEqual(rrTexts(fullBuildDiff(zone, same)?.added ?? zone.records), []);
  t.is(fullBuildDiff(zone, zoneFromText(BASE, { serial: 11, minimum: 5 })), undefined);
  t.is(fullBuildDiff(zone, { ...same, ttl: 30 }), undefined);
  t.is(fullBuildDiff(zone, { ...same, srvWeight: 5 }), undefined);
  // Four RRs replaced by two others: six changes for a zone of two.
  const other = zoneFromText('a.mesos. A 10.9.0.1\nb.mesos. A 10.9.0.2', { serial: 11 });
  t.is(fullBuildDiff(zone, other), undefined);
  // One RR of five changed: two changes.
  const one = zoneFromText(BASE.replace('10.0.0.2', '10.0.0.9') + '\nx.mesos. A 10.0.0.5', {
    serial: 11,
  });
  t.is(rrTexts(fullBuildDiff(zone, one)?.added ?? zone.records).length, 2);
});
