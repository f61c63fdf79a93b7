import test from 'ava';
import { COLLECT, JsonSliceError, JsonSlicer, SKIP, SKIP_ALL } from '../src/json-slices.js';
import type { SliceVisitor } from '../src/json-slices.js';
import { jsonSyntaxProblem } from '../src/json-syntax.js';
import { rebuild } from '../support/json-rebuild.js';

/** The document read in chunks of `size` bytes, rebuilt down to `depth`. */
function read(text: string | Buffer, size: number, depth = 99): unknown {
  const holder: unknown[] = [];
  const slicer = new JsonSlicer(rebuild(holder, depth));
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length; i += size) slicer.push(bytes.subarray(i, i + size));
  slicer.end();
  return holder[0];
}

const DOCS: readonly string[] = [
  '{}',
  '[]',
  '42',
  '"a string"',
  'null',
  ' \n {"a": 1, "b": [1, 2, {"c": "d"}], "e": {"f": null, "g": true, "h": false}} \n',
  '{"escapes": "quote \\" backslash \\\\ brace } bracket ] \\u00e9", "k\\"ey": [-1.5e3, 0]}',
  '{"deep": [[[[{"x": [[]]}]]]], "empty": {}, "list": []}',
  '{"utf8": "mâître-ü Ωmega 日本 😀", "after": [1]}',
  '[1,"two",{"three":3},[4],true,false,null,-0.5]',
  '{"a":{"a":{"a":1}},"a2":[{"b":"}"},{"c":"]"}]}',
];

for (const doc of DOCS) {
  test(`reads ${doc.slice(0, 40)} as JSON.parse does, in chunks of any size`, (t) => {
    const want: unknown = JSON.parse(doc);
    for (const size of [1, 2, 3, 7, 4096]) {
      for (const depth of [0, 1, 99]) {
        t.deepEqual(
          read(doc, size, depth),
          want,
          `chunks of ${String(size)}, depth ${String(depth)}`,
        );
      }
    }
  });
}

test('a leading byte order mark is dropped', (t) => {
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":[1]}')]);
  t.deepEqual(read(bytes, 1), { a: [1] });
  t.deepEqual(read(bytes, 64), { a: [1] });
});

test('SKIP and SKIP_ALL drop values, whose syntax is still checked', (t) => {
  const seen: string[] = [];
  const root: SliceVisitor = {
    enter: () => ({
      enter: (key, kind) => {
        if (key === 'keep') return COLLECT;
        return kind === 'array' ? SKIP_ALL : SKIP;
      },
      value: (key, value) => seen.push(`${String(key)}=${JSON.stringify(value)}`),
    }),
    value: () => undefined,
  };
  const slicer = new JsonSlicer(root);
  slicer.push(Buffer.from('{"a": [1, {"b": 2}], "keep": {"x": 1}, "c": "d"}'));
  slicer.end();
  t.deepEqual(seen, ['keep={"x":1}']);
  const bad = new JsonSlicer(root);
  const error = t.throws(() => {
    bad.push(Buffer.from('{"a": [1, {"b": 2,}]}'));
  });
  t.true(error instanceof JsonSliceError);
});

/** Where the slicer says `text` stops being JSON (line:column message). */
function slicerError(text: string, size: number, depth: number): string {
  try {
    read(text, size, depth);
  } catch (err) {
    if (err instanceof JsonSliceError) {
      return `${String(err.line)}:${String(err.column)}`;
    }
    throw err;
  }
  return 'no error';
}

const BAD: readonly string[] = [
  '{"a":}',
  '{"a": [1, 2,,]}',
  '{"a": [1, 2}',
  '{\n  "a": 1,\n  "b": [tru, 2]\n}',
  '{"a": 1} x',
  '{"a": 1,}',
  '{"a" 1}',
  '{"a": "mâître", "b": [1 2]}',
  '{"a": [\n1,\n2,\n{"x": 01}]}',
  '{"a": "line\nbreak"}',
  '[1, 2',
  '{"a": {"b": [1, 2]',
  '',
  '{"a": nul}',
  '{"a": -}',
  '["x" "y"]',
  '{1: 2}',
  '{"日本": [1,, 2]}',
];

for (const doc of BAD) {
  test(`gives the line and column of the error in ${JSON.stringify(doc).slice(0, 40)}`, (t) => {
    let want: string;
    try {
      JSON.parse(doc);
      t.fail('not bad JSON');
      return;
    } catch (error) {
      const p = jsonSyntaxProblem(doc, error);
      want = `${String(p.line)}:${String(p.column)}`;
    }
    for (const size of [1, 3, 4096]) {
      for (const depth of [0, 1, 99]) {
        t.is(
          slicerError(doc, size, depth),
          want,
          `chunks of ${String(size)}, depth ${String(depth)}`,
        );
      }
    }
  });
}

test('errors inside a slice keep V8 message', (t) => {
  const error = t.throws(() => read('{"a": [1, 2,,]}', 4096, 1));
  t.true(error instanceof JsonSliceError);
  t.is(error.message, "Unexpected token ','");
});

test('a document that ends early says so', (t) => {
  const error = t.throws(() => read('{"a": [1, 2]', 4, 1));
  t.is(error.message, 'Unexpected end of JSON input');
});

test('raw: a collected value is offered as its bytes first; true takes it unparsed', (t) => {
  const doc = '{"list": [{"a": 1}, "caf\u00e9", {"b": [2, {"c": 3}]}, 7], "k": {"x": 1}}';
  for (const size of [1, 3, 7, 4096]) {
    const offered: string[] = [];
    const parsed: unknown[] = [];
    const list: SliceVisitor = {
      enter: () => COLLECT,
      value: (_key, value) => parsed.push(value),
      raw: (_key, bytes) => {
        offered.push(bytes.toString('utf8'));
        // Takes the objects: a valid value it knows (here: anything starting with `{`).
        return bytes[0] === 0x7b;
      },
    };
    const slicer = new JsonSlicer({
      enter: () => ({ enter: (key) => (key === 'list' ? list : SKIP), value: () => undefined }),
      value: () => undefined,
    });
    const bytes = Buffer.from(doc);
    for (let i = 0; i < bytes.length; i += size) slicer.push(bytes.subarray(i, i + size));
    slicer.end();
    t.deepEqual(offered, ['{"a": 1}', '"caf\u00e9"', '{"b": [2, {"c": 3}]}', '7'], String(size));
    t.deepEqual(parsed, ['caf\u00e9', 7], String(size));
  }
});

test('raw: a value cut short by the end of the document is not offered', (t) => {
  const offered: string[] = [];
  const slicer = new JsonSlicer({
    enter: () => COLLECT,
    value: () => undefined,
    raw: (_key, bytes) => offered.push(bytes.toString('utf8')) > 0,
  });
  slicer.push(Buffer.from('{"a": [1, 2]'));
  t.throws(
    () => {
      slicer.end();
    },
    { instanceOf: JsonSliceError },
  );
  t.deepEqual(offered, []);
});
