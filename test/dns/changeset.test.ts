import test from 'ava';
import type { ChangedName } from '../../src/dns/changed-names.js';
import { changedEntries, changedWithHash, withChanged } from '../../src/dns/changed-names.js';
import type { Changeset, Zone } from '../../src/dns/index.js';
import {
  ChangesetMismatch,
  ZoneRecordSet,
  applyChangeset,
  findNode,
  nameKey,
  NO_NODE,
  EMPTY_NODE,
} from '../../src/dns/index.js';
import { CompactRecordSet, hashString, toRecordData } from '../../src/records/index.js';
import { ZoneStore } from '../../src/store.js';
import { askZone, recordsFromText, zoneFromText } from '../../support/records-text.js';
import { decodeMessage } from '../../support/dns-message.js';

const BASE = `
  web.marathon.mesos.       A    10.0.0.1
  db.marathon.mesos.        A    10.0.0.2
  _web._tcp.marathon.mesos. SRV  31000 web.marathon.mesos.
  c693596.mesos.            A    10.9.9.1
`;

/**
 * A changeset to `serial + 1` whose contents are `text`: the names listed in `names` are
 * replaced by what `text` gives them (nothing: they go away). Its difference is left empty.
 */
function changeset(zone: Zone, text: string, names: readonly string[]): Changeset {
  const contents = toRecordData(recordsFromText(text));
  const set = new CompactRecordSet(contents);
  const empty = toRecordData(recordsFromText(''));
  const ids = names.map((name) => {
    const id = set.nameId(name);
    if (id < 0) throw new Error(`${name} is not a name of the contents`);
    return id;
  });
  return {
    serialFrom: zone.serial,
    serialTo: zone.serial + 1,
    contents,
    names: Int32Array.from(ids),
    removed: empty,
    added: empty,
  };
}

/** Interns `names` in contents without records (a name going away must be a name there). */
function withNames(text: string, names: readonly string[]): string {
  // A throwaway SRV record per name interns it as a target; the record itself is not listed.
  return text + names.map((n) => `\n_x._tcp.keep.mesos. SRV 1 ${n}`).join('');
}

function rcode(zone: Zone, name: string, type = 'A'): string {
  return decodeMessage(askZone(zone, name, type)).rcode;
}

function addresses(zone: Zone, name: string): string[] {
  return decodeMessage(askZone(zone, name, 'A'))
    .answers.map((rr) => String(rr.data))
    .sort();
}

test('a changeset adds, replaces and removes names; the zone it applied to is left as it was', (t) => {
  const base = zoneFromText(BASE);
  const next = applyChangeset(
    base,
    changeset(
      base,
      withNames(
        `
          web.marathon.mesos.    A 10.0.0.7
          web.marathon.mesos.    A 10.0.0.8
          new.chronos.mesos.     A 10.0.1.1
        `,
        ['db.marathon.mesos.'],
      ),
      ['web.marathon.mesos.', 'new.chronos.mesos.', 'db.marathon.mesos.'],
    ),
  );
  t.is(next.serial, base.serial + 1);
  t.deepEqual(addresses(next, 'web.marathon.mesos'), ['10.0.0.7', '10.0.0.8']);
  t.deepEqual(addresses(next, 'NEW.chronos.mesos'), ['10.0.1.1']);
  t.is(rcode(next, 'db.marathon.mesos'), 'NXDOMAIN');
  // The SOA of negative answers carries the new serial.
  const negative = decodeMessage(askZone(next, 'db.marathon.mesos', 'A'));
  t.true(JSON.stringify(negative.authorities).includes(String(next.serial)));
  // The base answers as before.
  t.deepEqual(addresses(base, 'web.marathon.mesos'), ['10.0.0.1']);
  t.deepEqual(addresses(base, 'db.marathon.mesos'), ['10.0.0.2']);
  t.is(rcode(base, 'new.chronos.mesos'), 'NXDOMAIN');
  // Counts follow, as a full build of the same records counts them (chronos.mesos. is a new
  // empty non-terminal, but the changeset did not list it: only listed names change).
  const full = zoneFromText(`
    web.marathon.mesos.       A    10.0.0.7
    web.marathon.mesos.       A    10.0.0.8
    new.chronos.mesos.        A    10.0.1.1
    _web._tcp.marathon.mesos. SRV  31000 web.marathon.mesos.
    c693596.mesos.            A    10.9.9.1
  `);
  t.is(next.rrs, full.rrs);
  t.is(next.names, full.names - 1);
  t.is(next.changedNames, 3);
  // The HTTP view reads the changed names from the changeset.
  const view = new ZoneRecordSet(recordsFromText(BASE), next);
  t.deepEqual(view.a.get('web.marathon.mesos.'), ['10.0.0.7', '10.0.0.8']);
  t.is(view.a.get('db.marathon.mesos.'), undefined);
  t.deepEqual([...view.a.keys()].sort(), [
    'c693596.mesos.',
    'new.chronos.mesos.',
    'web.marathon.mesos.',
  ]);
});

test('names that share a hash are told apart, in the base and across changesets', (t) => {
  // Two names with the same FNV-1a hash (the hash the name table and changes are keyed by).
  t.is(hashString('c693596.mesos.'), hashString('c1170850.mesos.'));
  const base = zoneFromText(BASE);
  const one = applyChangeset(
    base,
    changeset(base, 'c1170850.mesos. A 10.9.9.2', ['c1170850.mesos.']),
  );
  t.deepEqual(addresses(one, 'c693596.mesos'), ['10.9.9.1']);
  t.deepEqual(addresses(one, 'c1170850.mesos'), ['10.9.9.2']);
  const two = applyChangeset(
    one,
    changeset(one, withNames('', ['c693596.mesos.']), ['c693596.mesos.']),
  );
  t.is(rcode(two, 'c693596.mesos'), 'NXDOMAIN');
  t.deepEqual(addresses(two, 'c1170850.mesos'), ['10.9.9.2']);
  const three = applyChangeset(
    two,
    changeset(two, 'c1170850.mesos. A 10.9.9.3', ['c1170850.mesos.']),
  );
  t.deepEqual(addresses(three, 'c1170850.mesos'), ['10.9.9.3']);
  t.is(three.changedNames, 2);
  t.deepEqual(addresses(two, 'c1170850.mesos'), ['10.9.9.2'], 'the earlier zone is untouched');
});

test('a name a changeset makes an empty non-terminal answers NODATA; removed, NXDOMAIN', (t) => {
  const base = zoneFromText(BASE);
  const contents = toRecordData(recordsFromText('x.web.marathon.mesos. A 10.0.0.9'));
  const set = new CompactRecordSet(contents);
  // The builder marks web.marathon.mesos. an empty non-terminal (it has a child, no records).
  const next = applyChangeset(base, {
    ...changeset(base, '', []),
    contents,
    names: Int32Array.from([
      set.nameId('web.marathon.mesos.'),
      set.nameId('x.web.marathon.mesos.'),
    ]),
  });
  t.is(findNode(next, nameKey('web.marathon.mesos.')), EMPTY_NODE);
  t.is(rcode(next, 'web.marathon.mesos'), 'NOERROR');
  t.is(decodeMessage(askZone(next, 'web.marathon.mesos', 'A')).answers.length, 0);
  t.is(findNode(next, nameKey('nothing.marathon.mesos.')), NO_NODE);
});

test('a changeset from another serial is refused and nothing changes', (t) => {
  const base = zoneFromText(BASE, { serial: 7 });
  const wrong = { ...changeset(base, 'new.mesos. A 10.0.0.1', ['new.mesos.']), serialFrom: 6 };
  t.throws(() => applyChangeset(base, wrong), { instanceOf: ChangesetMismatch });
  t.is(rcode(base, 'new.mesos'), 'NXDOMAIN');
  const store = new ZoneStore();
  t.throws(() => store.apply(wrong, 0), { instanceOf: ChangesetMismatch });
  store.install({ records: recordsFromText(BASE), zone: base, loadedAt: 7000, changed: true });
  t.throws(() => store.apply(wrong, 8000), { instanceOf: ChangesetMismatch });
  t.is(store.current?.zone.serial, 7);
});

test('the changed-name map is persistent: every version keeps its entries', (t) => {
  type Entry = ChangedName<string>;
  const same = (a: Entry, b: Entry): boolean => a.part === b.part && a.id === b.id;
  let rand = 12345;
  const next = (): number => {
    rand = Math.imul(rand ^ (rand >>> 15), 0x2c1b3c6d) + 0x6d2b79f5;
    return rand | 0;
  };
  const versions: { map: ReturnType<typeof withChanged<string>>; entries: Entry[] }[] = [];
  let map: ReturnType<typeof withChanged<string>> = undefined;
  let entries: Entry[] = [];
  for (let i = 0; i < 3000; i++) {
    // Some hashes repeat, some differ only in their top bits (the trie's deepest level).
    const hash =
      i % 7 === 0 && i > 0 ? (entries[i - 7]?.hash ?? 0) : i % 11 === 0 ? (i << 30) | 5 : next();
    const entry: Entry = { hash, part: `p${String(i % 5)}`, id: i };
    map = withChanged(map, entry, same);
    entries = [...entries, entry];
    if (i % 300 === 0) versions.push({ map, entries });
  }
  versions.push({ map, entries });
  for (const v of versions) {
    for (const e of v.entries) {
      t.true(changedWithHash(v.map, e.hash)?.includes(e) ?? false);
    }
    t.is([...changedEntries(v.map)].length, v.entries.length);
  }
  t.is(changedWithHash(map, 424242), undefined);
  t.is(changedWithHash(undefined, 1), undefined);
  // Replacing an entry keeps one per name.
  const first = entries[0];
  if (first === undefined) return t.fail();
  const replaced = withChanged(map, { ...first, part: first.part }, same);
  t.is([...changedEntries(replaced)].length, entries.length);
});
