// The diff of two record sets (records/diff.ts): exact per-RR removed and added.
import test from 'ava';
import type { RecordData, RecordSet, SrvTarget } from '../../src/records/index.js';
import {
  CompactRecordSet,
  diffRecords,
  recordSource,
  toRecordData,
} from '../../src/records/index.js';
import { prng } from '../../support/state-builder.js';
import { recordsFromText } from '../../support/records-text.js';

/** Every RR of a record set as text (`name A 1.2.3.4`, `name SRV target:port`). */
function rrTexts(set: RecordSet | RecordData): Set<string> {
  const records = 'kinds' in set ? new CompactRecordSet(set) : set;
  const out = new Set<string>();
  for (const [name, ips] of records.a) for (const ip of ips) out.add(`${name} A ${ip}`);
  for (const [name, ips] of records.aaaa) for (const ip of ips) out.add(`${name} AAAA ${ip}`);
  for (const [name, targets] of records.srv) {
    for (const s of targets) out.add(`${name} SRV ${s.target}:${String(s.port)}`);
  }
  return out;
}

function diff(before: string | RecordSet, after: string | RecordSet, maxRRs = Infinity) {
  const set = (x: string | RecordSet): RecordSet =>
    typeof x === 'string' ? recordsFromText(x) : x;
  return diffRecords(recordSource(toRecordData(set(before))), toRecordData(set(after)), maxRRs);
}

const sorted = (s: Set<string>): string[] => [...s].sort();

test('equal record sets, in another order, have no difference', (t) => {
  const d = diff(
    `
      web.marathon.mesos.       A    10.0.0.1
      web.marathon.mesos.       A    10.0.0.2
      web.marathon.mesos.       AAAA fd00::1
      _web._tcp.marathon.mesos. SRV  31000 web.marathon.mesos.
      _web._tcp.marathon.mesos. SRV  31001 db.marathon.mesos.
    `,
    `
      _web._tcp.marathon.mesos. SRV  31001 db.marathon.mesos.
      web.marathon.mesos.       AAAA fd00::1
      web.marathon.mesos.       A    10.0.0.2
      _web._tcp.marathon.mesos. SRV  31000 web.marathon.mesos.
      web.marathon.mesos.       A    10.0.0.1
    `,
  );
  t.is(d?.rrs, 0);
  t.is(rrTexts(d?.removed ?? toRecordData(recordsFromText('x.mesos. A 1.1.1.1'))).size, 0);
  t.is(rrTexts(d?.added ?? toRecordData(recordsFromText('x.mesos. A 1.1.1.1'))).size, 0);
});

test('an SRV target that changes is one RR removed and one added; its port alone too', (t) => {
  const d = diff(
    `
      _web._tcp.marathon.mesos. SRV 31000 web-1.marathon.mesos.
      _web._tcp.marathon.mesos. SRV 31001 web-2.marathon.mesos.
      web-1.marathon.mesos.     A   10.0.0.1
      web-2.marathon.mesos.     A   10.0.0.2
    `,
    `
      _web._tcp.marathon.mesos. SRV 31000 web-3.marathon.mesos.
      _web._tcp.marathon.mesos. SRV 31002 web-2.marathon.mesos.
      web-1.marathon.mesos.     A   10.0.0.1
      web-2.marathon.mesos.     A   10.0.0.2
    `,
  );
  if (d === undefined) return t.fail('no diff');
  t.deepEqual(sorted(rrTexts(d.removed)), [
    '_web._tcp.marathon.mesos. SRV web-1.marathon.mesos.:31000',
    '_web._tcp.marathon.mesos. SRV web-2.marathon.mesos.:31001',
  ]);
  t.deepEqual(sorted(rrTexts(d.added)), [
    '_web._tcp.marathon.mesos. SRV web-2.marathon.mesos.:31002',
    '_web._tcp.marathon.mesos. SRV web-3.marathon.mesos.:31000',
  ]);
  t.is(d.rrs, 4);
});

test('names that come and go: all their RRs added or removed', (t) => {
  const d = diff(
    `
      old.mesos.  A    10.0.0.1
      old.mesos.  AAAA fd00::1
      same.mesos. A    10.0.0.3
    `,
    `
      new.mesos.  A    10.0.0.2
      new.mesos.  SRV  80 same.mesos.
      same.mesos. A    10.0.0.3
    `,
  );
  if (d === undefined) return t.fail('no diff');
  t.deepEqual(sorted(rrTexts(d.removed)), ['old.mesos. A 10.0.0.1', 'old.mesos. AAAA fd00::1']);
  t.deepEqual(sorted(rrTexts(d.added)), ['new.mesos. A 10.0.0.2', 'new.mesos. SRV same.mesos.:80']);
});

test('a diff past maxRRs is not made', (t) => {
  const before = 'a.mesos. A 10.0.0.1\nb.mesos. A 10.0.0.2';
  const after = 'a.mesos. A 10.0.0.9\nc.mesos. A 10.0.0.3';
  t.is(diff(before, after, 4)?.rrs, 4);
  t.is(diff(before, after, 3), undefined);
  t.is(diff(before, after, 0), undefined);
  t.is(diff(before, before, 0)?.rrs, 0);
});

/** A random record set: names with A, AAAA and SRV values, some lists long (over 16). */
function randomRecords(rand: () => number, size: number): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  const pick = (n: number): number => Math.floor(rand() * n);
  for (let i = 0; i < size; i++) {
    const name = `n${String(pick(size))}.app${String(pick(5))}.mesos.`;
    const count = rand() < 0.05 ? 20 + pick(30) : 1 + pick(3);
    const list = lines.get(name) ?? [];
    for (let j = 0; j < count; j++) {
      const r = rand();
      if (r < 0.5) list.push(`A 10.0.${String(pick(4))}.${String(pick(250))}`);
      else if (r < 0.7) list.push(`AAAA fd00::${pick(300).toString(16)}`);
      else
        list.push(
          `SRV ${String(31000 + pick(4))} n${String(pick(size))}.app${String(pick(5))}.mesos.`,
        );
    }
    lines.set(name, list);
  }
  return lines;
}

function text(lines: Map<string, string[]>): string {
  return [...lines].flatMap(([name, values]) => values.map((v) => `${name} ${v}`)).join('\n');
}

/** `lines` with some values dropped, some added and some names gone. */
function mutate(rand: () => number, lines: Map<string, string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, values] of lines) {
    if (rand() < 0.05) continue;
    const kept = values.filter(() => rand() > 0.1);
    if (rand() < 0.1) kept.push(`A 10.1.0.${String(Math.floor(rand() * 250))}`);
    if (rand() < 0.05) kept.push(`SRV 31009 ${name}`);
    // Shuffled: order is no difference.
    kept.sort(() => rand() - 0.5);
    if (kept.length > 0) out.set(name, kept);
  }
  for (let i = 0; i < 10; i++) out.set(`fresh${String(i)}.mesos.`, ['A 10.2.0.1']);
  return out;
}

test('random record sets: old minus removed plus added is exactly new', (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rand = prng(seed);
    const old = randomRecords(rand, 300);
    const next = mutate(rand, old);
    const before = recordsFromText(text(old));
    const after = recordsFromText(text(next));
    const d = diff(before, after);
    if (d === undefined) return t.fail('no diff');
    // Compared as the compact sets hold them (IPv6 canonical).
    const oldRRs = rrTexts(toRecordData(before));
    const newRRs = rrTexts(toRecordData(after));
    const removed = rrTexts(d.removed);
    const added = rrTexts(d.added);
    // Exact: what is removed was there and is gone; what is added is new.
    t.true(
      [...removed].every((rr) => oldRRs.has(rr) && !newRRs.has(rr)),
      `seed ${String(seed)}`,
    );
    t.true(
      [...added].every((rr) => newRRs.has(rr) && !oldRRs.has(rr)),
      `seed ${String(seed)}`,
    );
    const applied = new Set([...oldRRs].filter((rr) => !removed.has(rr)));
    for (const rr of added) applied.add(rr);
    t.deepEqual(sorted(applied), sorted(newRRs), `seed ${String(seed)}`);
    t.is(d.rrs, removed.size + added.size);
    t.true(d.rrs > 0);
    // And backwards.
    const back = diff(after, before);
    t.deepEqual(sorted(rrTexts(back?.removed ?? d.removed)), sorted(added));
    t.deepEqual(sorted(rrTexts(back?.added ?? d.added)), sorted(removed));
    t.is(diff(before, recordsFromText(text(old)))?.rrs, 0);
  }
});

test('the SRV targets of long lists are compared by name across the two sets', (t) => {
  // Over 16 values: compared through a set; the targets' ids differ between the two sets.
  const targets = Array.from({ length: 40 }, (_, i): SrvTarget => ({
    target: `t${String(i)}.mesos.`,
    port: 31000 + i,
  }));
  const line = (s: SrvTarget): string => `_x._tcp.mesos. SRV ${String(s.port)} ${s.target}`;
  const before = ['z.mesos. A 10.0.0.1', ...targets.map(line)].join('\n');
  const after = [
    ...targets.slice(1).reverse().map(line),
    line({ target: 'u.mesos.', port: 31000 }),
  ];
  const d = diff(before, after.join('\n'));
  t.deepEqual(sorted(rrTexts(d?.removed ?? toRecordData(recordsFromText('')))), [
    '_x._tcp.mesos. SRV t0.mesos.:31000',
    'z.mesos. A 10.0.0.1',
  ]);
  t.deepEqual(sorted(rrTexts(d?.added ?? toRecordData(recordsFromText('')))), [
    '_x._tcp.mesos. SRV u.mesos.:31000',
  ]);
});
