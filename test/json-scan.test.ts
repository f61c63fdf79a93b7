import test from 'ava';
import { SCAN_STATE_LENGTH, nativeScan } from '../src/json-scan.js';
import { JsonSliceError, JsonSlicer } from '../src/json-slices.js';
import { prng } from '../support/state-builder.js';
import { rebuild } from '../support/json-rebuild.js';

/** What reading `bytes` in the given chunks gives: the value, or where it stops being JSON. */
function outcome(bytes: Buffer, cuts: readonly number[], depth: number, native: boolean): unknown {
  const holder: unknown[] = [];
  const slicer = new JsonSlicer(rebuild(holder, depth), { native });
  try {
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      slicer.push(bytes.subarray(from, cut));
      from = cut;
    }
    slicer.end();
  } catch (err) {
    if (err instanceof JsonSliceError) {
      return `${err.message} at ${String(err.line)}:${String(err.column)}`;
    }
    throw err;
  }
  return holder[0];
}

/** A random JSON value (text), sometimes spoilt, with what makes a scanner go wrong. */
function randomJson(random: () => number, depth = 0): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const r = random();
  if (depth < 80 && r < 0.35) {
    const items = Array.from({ length: Math.floor(random() * 4) }, () =>
      randomJson(random, depth + 1),
    );
    return `[${items.join(pick([',', ' ,\n', ',\n  ']))}]`;
  }
  if (depth < 80 && r < 0.6) {
    const members = Array.from(
      { length: Math.floor(random() * 4) },
      () => `${randomString(random)}${pick([':', ' : ', ':\n'])}${randomJson(random, depth + 1)}`,
    );
    return `{${members.join(pick([',', ',\n']))}}`;
  }
  if (r < 0.85) return randomString(random);
  return pick(['1', '-2.5e3', 'true', 'false', 'null', '0']);
}

function randomString(random: () => number): string {
  const parts = ['a', 'é', '日本', '😀', '\\"', '\\\\', '\\n', '\\u00e9', '}', ']', '{', '[', ' '];
  let text = '';
  const length = Math.floor(random() * 8);
  for (let i = 0; i < length; i++) text += parts[Math.floor(random() * parts.length)] ?? '';
  return `"${text}"`;
}

/** `text` spoilt at a random place (a byte dropped, doubled or changed), or as it is. */
function spoil(text: string, random: () => number): string {
  if (random() < 0.5 || text.length === 0) return text;
  const at = Math.floor(random() * text.length);
  const bad = ['"', '\\', '}', ']', '{', '[', ',', '\n', 'x'][Math.floor(random() * 9)] ?? 'x';
  const r = random();
  if (r < 0.33) return text.slice(0, at) + text.slice(at + 1);
  if (r < 0.66) return text.slice(0, at) + bad + text.slice(at);
  return text.slice(0, at) + bad + text.slice(at + 1);
}

test('the native scanner is built (npm ci builds it; build/Release/json_scan.node)', (t) => {
  t.is(typeof nativeScan(), 'function');
});

test('the native and the JavaScript scanner read every document alike, in any chunks', (t) => {
  const random = prng(20261208);
  for (let n = 0; n < 1500; n++) {
    const doc = spoil(randomJson(random), random);
    const bytes = Buffer.from(doc);
    const cuts: number[] = [];
    for (let at = 0; at < bytes.length; at += 1 + Math.floor(random() * 40)) {
      if (at > 0) cuts.push(at);
    }
    for (const depth of [0, 1, 99]) {
      const js = outcome(bytes, cuts, depth, false);
      t.deepEqual(outcome(bytes, cuts, depth, true), js, `${doc} (depth ${String(depth)})`);
      if (n < 20 && !doc.includes('\n') && typeof js !== 'string') t.deepEqual(js, JSON.parse(doc));
    }
  }
});

test('brackets deeper than the scanner was given grow, and lines are counted', (t) => {
  const deep = `{"a":${'['.repeat(300)}"x"${']'.repeat(300)},\n"b":[\n1,\n{"c":\n"d"}]}`;
  for (const size of [1, 5, 64, 100_000]) {
    const cuts: number[] = [];
    for (let at = size; at < deep.length; at += size) cuts.push(at);
    const want = outcome(Buffer.from(deep), cuts, 1, false);
    t.deepEqual(outcome(Buffer.from(deep), cuts, 1, true), want);
    const broken = deep.replace('"d"}', '"d"]');
    t.deepEqual(
      outcome(Buffer.from(broken), cuts, 1, true),
      outcome(Buffer.from(broken), cuts, 1, false),
    );
    t.regex(String(outcome(Buffer.from(broken), cuts, 1, true)), / at 5:4$/);
  }
});

test('the native scanner refuses arguments it cannot use', (t) => {
  const scan = nativeScan();
  if (scan === undefined) return t.fail('not built');
  const state = new Int32Array(SCAN_STATE_LENGTH);
  const brackets = new Uint8Array(4);
  const bytes = Buffer.from('"abc"');
  state[0] = 1;
  t.is(scan(bytes, 1, state, brackets), 5);
  t.throws(() => scan(bytes, 6, state, brackets), { instanceOf: TypeError });
  t.throws(() => scan(bytes, -1, state, brackets), { instanceOf: TypeError });
  t.throws(() => scan(bytes, 0, new Int32Array(2), brackets), { instanceOf: TypeError });
  state[2] = 5;
  t.throws(() => scan(bytes, 0, state, brackets), { instanceOf: RangeError });
  const full = new Int32Array(SCAN_STATE_LENGTH);
  full[2] = 4;
  t.is(scan(Buffer.from('x[y'), 0, full, brackets), -2);
  t.is(full[5], 1);
});
