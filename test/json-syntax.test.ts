/** Where a JSON syntax error is, as file:line:column. */
import test from 'ava';
import { jsonErrorOffset, jsonSyntaxProblem } from '../src/json-syntax.js';

function problemOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    const p = jsonSyntaxProblem(text, error);
    return `${String(p.line)}:${String(p.column)} ${p.message}`;
  }
  return 'valid';
}

const CASES: readonly (readonly [string, string])[] = [
  ['{', "1:2 Expected property name or '}'"],
  ['', '1:1 Unexpected end of JSON input'],
  ['{"a": 1,}', '1:9 Expected double-quoted property name'],
  // V8 gives no position for these: the scan finds it.
  ['# yaml-language-server: $schema=x\ndomain: mesos\n', "1:1 Unexpected token '#'"],
  ['{\n  "slaves": [,]\n}', "2:14 Unexpected token ','"],
  ['{\n "a": tru\n}', "2:7 Unexpected token '\\n'"],
  ['[1] x', '1:5 Unexpected non-whitespace character after JSON'],
  ['{"a" 1}', "1:6 Expected ':' after property name"],
  ['"\\x"', '1:2 Bad escaped character'],
];

for (const [text, want] of CASES) {
  test(`locates the syntax error of ${JSON.stringify(text).slice(0, 40)}`, (t) => {
    const got = problemOf(text);
    t.is(got, want);
    t.false(got.includes('\n'), 'one line');
  });
}

test('valid JSON has no error offset', (t) => {
  for (const text of [
    '{}',
    '[]',
    ' {"a": [1, -2.5e3, true, false, null, "\\u00e9"]} ',
    '"x"',
    '0',
  ]) {
    t.is(jsonErrorOffset(text), -1, text);
    t.notThrows(() => JSON.parse(text) as unknown);
  }
});
