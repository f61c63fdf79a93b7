import test from 'ava';
import { formatDuration, parseDuration } from '../../src/config/index.js';

const VALID: ReadonlyArray<readonly [string, number]> = [
  ['500ms', 500],
  ['0ms', 0],
  ['1s', 1000],
  ['30s', 30_000],
  ['90s', 90_000],
  ['5m', 300_000],
  ['1h', 3_600_000],
  ['24h', 86_400_000],
  ['007s', 7000],
];

for (const [text, ms] of VALID) {
  test(`parseDuration reads '${text}' as ${ms} ms`, (t) => {
    t.is(parseDuration(text), ms);
  });
}

const INVALID: readonly string[] = [
  '',
  '30',
  's',
  '1.5s',
  '-1s',
  '1d',
  '1S',
  ' 1s',
  '1s ',
  '1m30s',
  '1 s',
  '99999999999999999999h',
];

for (const text of INVALID) {
  test(`parseDuration rejects '${text}'`, (t) => {
    t.throws(() => parseDuration(text), { instanceOf: RangeError });
  });
}

const FORMATTED: ReadonlyArray<readonly [number, string]> = [
  [0, '0s'],
  [1, '1ms'],
  [1500, '1500ms'],
  [30_000, '30s'],
  [90_000, '90s'],
  [60_000, '1m'],
  [300_000, '5m'],
  [3_600_000, '1h'],
  [5_400_000, '90m'],
];

for (const [ms, text] of FORMATTED) {
  test(`formatDuration writes ${ms} ms as '${text}' and reads it back`, (t) => {
    t.is(formatDuration(ms), text);
    t.is(parseDuration(text), ms);
  });
}

test('formatDuration rejects negative and fractional values', (t) => {
  t.throws(() => formatDuration(-1), { instanceOf: RangeError });
  t.throws(() => formatDuration(1.5), { instanceOf: RangeError });
});
