/**
 * IXFR messages (dns/ixfr.ts), decoded by dns-packet: the RFC 1995 layout, the condensed
 * difference of several changes, and a secondary that applies them reaching the new zone.
 */
import test from 'ava';
import { ixfrMessages } from '../../src/dns/ixfr.js';
import type { ZoneDiff } from '../../src/dns/index.js';
import type { Zone } from '../../src/dns/index.js';
import { toRecordData } from '../../src/records/index.js';
import { decodeMessage, encodeQuery, soaData } from '../../support/dns-message.js';
import type { Rec } from '../../support/dns-message.js';
import { recordsFromText, zoneFromText } from '../../support/records-text.js';

const QUESTION = encodeQuery('mesos.', 'IXFR').subarray(12);

function diff(serialFrom: number, serialTo: number, removed: string, added: string): ZoneDiff {
  return {
    serialFrom,
    serialTo,
    removed: toRecordData(recordsFromText(removed)),
    added: toRecordData(recordsFromText(added)),
  };
}

function rrText(r: Rec): string {
  if (r.type === 'SOA') return `SOA ${String(soaData(r).serial)}`;
  const data =
    typeof r.data === 'object' && r.data !== null ? JSON.stringify(r.data) : String(r.data);
  return `${r.name} ${r.type} ${data}`;
}

function answers(
  zone: Zone,
  diffs: readonly ZoneDiff[],
  maxSize?: number,
  condenseMaxRRs?: number,
): string[] {
  const out: string[] = [];
  for (const m of ixfrMessages(
    zone,
    diffs,
    { id: 3, question: QUESTION },
    maxSize,
    condenseMaxRRs,
  )) {
    out.push(...decodeMessage(m).answers.map(rrText));
  }
  return out;
}

/** Applies an IXFR answer (condensed: one removed/added section) to a set of RR texts. */
function apply(rrs: ReadonlySet<string>, answer: readonly string[]): Set<string> {
  const next = new Set(rrs);
  let section: 'removed' | 'added' = 'removed';
  for (const rr of answer.slice(2, -1)) {
    if (rr.startsWith('SOA ')) section = 'added';
    else if (section === 'removed') next.delete(rr);
    else next.add(rr);
  }
  return next;
}

test('one change: SOA new, SOA old, removed, SOA new, added, SOA new', (t) => {
  const zone = zoneFromText('web.marathon.mesos. A 10.0.0.2', { serial: 11 });
  const got = answers(zone, [
    diff(10, 11, 'web.marathon.mesos. A 10.0.0.1', 'web.marathon.mesos. A 10.0.0.2'),
  ]);
  t.deepEqual(got, [
    'SOA 11',
    'SOA 10',
    'web.marathon.mesos A 10.0.0.1',
    'SOA 11',
    'web.marathon.mesos A 10.0.0.2',
    'SOA 11',
  ]);
});

test('several changes are condensed: what came and went is in neither section', (t) => {
  const zone = zoneFromText('a.app.mesos. A 10.0.0.3\nb.app.mesos. A 10.0.0.2', { serial: 13 });
  const got = answers(zone, [
    // 11: a .1 -> .3, temp added; 12: temp removed, b removed; 13: b added back.
    diff(10, 11, 'a.app.mesos. A 10.0.0.1', 'a.app.mesos. A 10.0.0.3\ntemp.app.mesos. A 10.9.9.9'),
    diff(11, 12, 'temp.app.mesos. A 10.9.9.9\nb.app.mesos. A 10.0.0.2', ''),
    diff(12, 13, '', 'b.app.mesos. A 10.0.0.2'),
  ]);
  t.deepEqual(got, [
    'SOA 13',
    'SOA 10',
    'a.app.mesos A 10.0.0.1',
    'SOA 13',
    'a.app.mesos A 10.0.0.3',
    'SOA 13',
  ]);
});

test('a secondary applying the answer reaches the new records, across small messages', (t) => {
  const before = new Set<string>();
  const beforeLines: string[] = [];
  for (let i = 0; i < 200; i++) {
    const line = `h${String(i)}.app.mesos. A 10.1.0.${String(i)}`;
    beforeLines.push(line);
    before.add(`h${String(i)}.app.mesos A 10.1.0.${String(i)}`);
  }
  const removed = beforeLines.slice(0, 50).join('\n');
  const addedLines = Array.from(
    { length: 80 },
    (_, i) => `n${String(i)}.other.mesos. SRV ${String(31000 + i)} h${String(i)}.app.mesos.`,
  );
  const afterText = [...beforeLines.slice(50), ...addedLines].join('\n');
  const zone = zoneFromText(afterText, { serial: 2 });
  const got = answers(zone, [diff(1, 2, removed, addedLines.join('\n'))], 512);
  const after = new Set(
    answers(zoneFromText(afterText, { serial: 9 }), [diff(9, 9, '', afterText)]).filter(
      (rr) => !rr.startsWith('SOA'),
    ),
  );
  t.deepEqual([...apply(before, got)].sort(), [...after].sort());
});

test('a long chain goes difference by difference, and applying it gives the same records', (t) => {
  const zone = zoneFromText('a.app.mesos. A 10.0.0.3\nb.app.mesos. A 10.0.0.2', { serial: 13 });
  const chain = [
    diff(10, 11, 'a.app.mesos. A 10.0.0.1', 'a.app.mesos. A 10.0.0.3\ntemp.app.mesos. A 10.9.9.9'),
    diff(11, 12, 'temp.app.mesos. A 10.9.9.9\nb.app.mesos. A 10.0.0.2', ''),
    diff(12, 13, '', 'b.app.mesos. A 10.0.0.2'),
  ];
  const got = answers(zone, chain, undefined, 0);
  t.deepEqual(got, [
    'SOA 13',
    'SOA 10',
    'a.app.mesos A 10.0.0.1',
    'SOA 11',
    'a.app.mesos A 10.0.0.3',
    'temp.app.mesos A 10.9.9.9',
    'SOA 11',
    'temp.app.mesos A 10.9.9.9',
    'b.app.mesos A 10.0.0.2',
    'SOA 12',
    'SOA 12',
    'SOA 13',
    'b.app.mesos A 10.0.0.2',
    'SOA 13',
  ]);
  // A secondary applying each difference in turn ends where the condensed answer takes it.
  const before = new Set(['a.app.mesos A 10.0.0.1', 'b.app.mesos A 10.0.0.2']);
  const sequential = new Set(before);
  let adding = true; // the first SOA starts a removed section
  for (const rr of got.slice(1, -1)) {
    if (rr.startsWith('SOA ')) adding = !adding;
    else if (adding) sequential.add(rr);
    else sequential.delete(rr);
  }
  t.deepEqual([...sequential].sort(), [...apply(before, answers(zone, chain))].sort());
});
