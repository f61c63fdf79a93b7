/**
 * Large API bodies rendered in pieces (src/http/json-stream.ts): the text is byte for byte
 * `JSON.stringify(value, null, 2)`, for lazy and plain parts alike, and the big record sets'
 * `/v1/enumerate` and `/v1/axfr` equal their one-piece views.
 */
import test from 'ava';
import { syntheticState } from '../../support/cluster.js';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { ZoneRecordSet, compileZone } from '../../src/dns/index.js';
import { LazyArray, LazyObject, jsonChunks, jsonPieces } from '../../src/http/json-stream.js';
import { axfrBody, axfrView, enumerateBody, enumerateView } from '../../src/http/views.js';
import { parseState } from '../../src/mesos/index.js';
import { generateRecords } from '../../src/records/index.js';
import { options } from '../../support/state-builder.js';

const text = (value: unknown): string => [...jsonPieces(value)].join('');
const stringify = (value: unknown): string => JSON.stringify(value, null, 2);

test('lazy arrays and objects render as JSON.stringify renders their contents', (t) => {
  const nested = {
    a: new LazyArray([1, 'two', { three: [3, { four: 4 }] }, [], {}, null]),
    b: new LazyObject([
      ['x', new LazyArray([])],
      ['y', new LazyObject([])],
      ['z', new LazyArray([new LazyObject([['deep', [1, 2]]])])],
    ]),
    c: 'plain',
  };
  const same = {
    a: [1, 'two', { three: [3, { four: 4 }] }, [], {}, null],
    b: { x: [], y: {}, z: [{ deep: [1, 2] }] },
    c: 'plain',
  };
  t.is(text(nested), stringify(same));
  t.is(text(new LazyArray([])), '[]');
  t.is(text(new LazyObject([])), '{}');
  t.is(text([new LazyArray(['a\nb'])]), stringify([['a\nb']]));
});

test('members JSON leaves out are left out; items it cannot write are null', (t) => {
  const fn = (): number => 1;
  t.is(
    text(
      new LazyObject([
        ['u', undefined],
        ['f', fn],
        ['k', 1],
      ]),
    ),
    stringify({ u: undefined, f: fn, k: 1 }),
  );
  t.is(text(new LazyArray([undefined, fn, 2])), stringify([undefined, fn, 2]));
  t.is(text(new LazyObject([['only', undefined]])), '{}');
});

test('chunks join to the text and a final newline, none much above the size', (t) => {
  const value = { list: new LazyArray(Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x' }))) };
  const chunks = [...jsonChunks(value, 4096)];
  t.true(chunks.length > 10);
  t.is(chunks.join(''), text(value) + '\n');
  t.true(chunks.every((c) => c.length < 4096 + 100));
});

test('/v1/enumerate and /v1/axfr of a 500-task cluster equal their one-piece views', (t) => {
  const parsed = parseState(syntheticState({ tasks: 500, seed: 7 }));
  const records = generateRecords(parsed.state, options());
  t.true(records.enumeration.length > 1);
  t.is(
    [...jsonChunks(enumerateBody(records), 8192)].join(''),
    stringify(enumerateView(records)) + '\n',
  );
  t.is(
    [...jsonChunks(axfrBody(DEFAULT_CONFIG, records, 42), 8192)].join(''),
    stringify(axfrView(DEFAULT_CONFIG, records, 42)) + '\n',
  );
  // The streamed zone's view (updates on top of a full build) reads its parts lazily too.
  const overlay = new ZoneRecordSet(
    records,
    compileZone(records, {
      ttl: 60,
      srvWeight: 1,
      soa: DEFAULT_CONFIG.dns.soa,
      serial: 42,
    }),
  );
  t.is(
    [...jsonChunks(axfrBody(DEFAULT_CONFIG, overlay, 42))].join(''),
    stringify(axfrView(DEFAULT_CONFIG, records, 42)) + '\n',
  );
  t.is([...jsonChunks(enumerateBody(overlay))].join(''), stringify(enumerateView(records)) + '\n');
  // Before the first load.
  t.is([...jsonChunks(enumerateBody(undefined))].join(''), stringify({ frameworks: [] }) + '\n');
  t.is(
    [...jsonChunks(axfrBody(DEFAULT_CONFIG, undefined, undefined))].join(''),
    stringify(axfrView(DEFAULT_CONFIG, undefined, undefined)) + '\n',
  );
});
