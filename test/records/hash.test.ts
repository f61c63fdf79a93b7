import { createHash } from 'node:crypto';
import test from 'ava';
import { taskIdHash } from '../../src/records/index.js';
import { prng } from '../../support/state-builder.js';

const VECTORS: readonly [string, string][] = [
  ['test', 'iffe9'],
  ['', '5eh48'],
  ['liquor-store.b8db9f73-562f-11e4-a088-c20493233aa5', '4dfjd'],
  // Task ids of test/fixtures/fake.json (upstream generator tests expect the same hashes).
  ['liquor-store.b71166c1-562f-11e4-a088-c20493233aa5', 'zasmd'],
  ['car-store.43758382-562f-11e4-a088-c20493233aa5', 'zinaz'],
];

for (const [input, want] of VECTORS) {
  test(`taskIdHash returns ${want} for ${JSON.stringify(input)}`, (t) => {
    t.is(taskIdHash(input), want);
  });
}

/** Independent reference: top 25 bits of the sha1 digest, 5 bits per z-base-32 character. */
function reference(input: string): string {
  const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769';
  const hex = createHash('sha1').update(input, 'utf8').digest('hex');
  const bits = BigInt(`0x${hex}`).toString(2).padStart(160, '0').slice(0, 25).match(/.{5}/g);
  return (bits ?? []).map((b) => alphabet.charAt(parseInt(b, 2))).join('');
}

test('taskIdHash matches a bit-by-bit z-base-32 encoding for random ids, UTF-8 included', (t) => {
  const next = prng(42);
  for (let i = 0; i < 500; i++) {
    const id = Array.from({ length: Math.floor(next() * 40) }, () =>
      String.fromCodePoint(32 + Math.floor(next() * 400)),
    ).join('');
    const got = taskIdHash(id);
    t.regex(got, /^[ybndrfg8ejkmcpqxot1uwisza345h769]{5}$/);
    t.is(got, reference(id));
  }
});

test('taskIdHash matches sha1 for ASCII ids of every length up to several blocks', (t) => {
  const next = prng(7);
  for (let length = 0; length < 300; length++) {
    const id = Array.from({ length }, () => String.fromCharCode(32 + Math.floor(next() * 95))).join(
      '',
    );
    t.is(taskIdHash(id), reference(id), `length ${String(length)}`);
  }
  const long = 'x'.repeat(5000);
  t.is(taskIdHash(long), reference(long));
});
