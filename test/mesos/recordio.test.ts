// RecordIoDecoder: RecordIO framing of the v1 event stream (docs/mesos-api.md 3.3), split
// at every possible byte, malformed headers and the size limit.
import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import { DEFAULT_MAX_STATE_BYTES, RecordIoDecoder } from '../../src/mesos/index.js';

/** Frames `records` as RecordIO: `<byte length>\n<bytes>` each, no separator. */
function frame(records: readonly string[]): Buffer {
  return Buffer.concat(
    records.map((r) => {
      const body = Buffer.from(r, 'utf8');
      return Buffer.concat([Buffer.from(`${String(body.length)}\n`), body]);
    }),
  );
}

/** Pushes `chunks` in order and returns every record decoded, as UTF-8 text. */
function decodeAll(decoder: RecordIoDecoder, chunks: readonly Uint8Array[]): string[] {
  return chunks.flatMap((c) => decoder.push(c).map((r) => r.toString('utf8')));
}

const RECORDS = [
  '{"type":"HEARTBEAT"}',
  '',
  '{"type":"AGENT_REMOVED","agent_removed":{"agent_id":{"value":"S1"}}}',
  'x',
  '{"name":"caf\u00e9 \u2603 \u{1f600}"}',
  '{"type":"HEARTBEAT"}',
];

test('decodes a stream split at every pair of positions into the same records', (t) => {
  const stream = frame(RECORDS);
  let runs = 0;
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j++) {
      const decoder = new RecordIoDecoder();
      const got = decodeAll(decoder, [
        stream.subarray(0, i),
        stream.subarray(i, j),
        stream.subarray(j),
      ]);
      if (got.join('\u0000') !== RECORDS.join('\u0000') || decoder.pending !== 0) {
        t.fail(`split at ${String(i)} and ${String(j)} gave ${JSON.stringify(got)}`);
        return;
      }
      runs++;
    }
  }
  t.true(runs > 10_000);
});

test('decodes a stream pushed one byte at a time, holding the partial record meanwhile', (t) => {
  const stream = frame(RECORDS);
  const decoder = new RecordIoDecoder();
  const got: string[] = [];
  let maxPending = 0;
  for (const byte of stream) {
    got.push(...decodeAll(decoder, [Uint8Array.of(byte)]));
    maxPending = Math.max(maxPending, decoder.pending);
  }
  t.deepEqual(got, RECORDS);
  t.is(decoder.pending, 0);
  // All of the longest record but its last byte (the header is dropped once read).
  t.is(maxPending, Buffer.byteLength(RECORDS[2] ?? '') - 1);
});

test('returns several records completed by one chunk, in order', (t) => {
  const decoder = new RecordIoDecoder();
  t.deepEqual(decodeAll(decoder, [frame(RECORDS)]), RECORDS);
});

test('counts the length in bytes, not characters, for multi-byte UTF-8', (t) => {
  const text = '\u00e9\u2603\u{1f600}'; // 2 + 3 + 4 bytes, 4 UTF-16 units
  const stream = Buffer.concat([Buffer.from('9\n'), Buffer.from(text, 'utf8'), frame(['ok'])]);
  const decoder = new RecordIoDecoder();
  t.deepEqual(decodeAll(decoder, [stream]), [text, 'ok']);
});

test('reports pending bytes of a record in progress and of a split header', (t) => {
  const decoder = new RecordIoDecoder();
  t.is(decoder.pending, 0);
  t.deepEqual(decoder.push(Buffer.from('1')), []);
  t.is(decoder.pending, 1);
  t.deepEqual(decoder.push(Buffer.from('2\nhello')), []);
  t.is(decoder.pending, 5);
  t.deepEqual(
    decoder.push(Buffer.from(' world!')).map((r) => r.toString()),
    ['hello world!'],
  );
  t.is(decoder.pending, 0);
});

test('accepts a plain Uint8Array that is a view into a larger buffer', (t) => {
  const backing = new Uint8Array(32).fill(0x21);
  const framed = frame(['abc']);
  backing.set(framed, 8);
  const view = new Uint8Array(backing.buffer, 8, framed.length);
  t.deepEqual(decodeAll(new RecordIoDecoder(), [view]), ['abc']);
});

test('reassembles a large record from 64 KiB chunks', (t) => {
  const body = Buffer.alloc(5 * 1024 * 1024 + 17, 0x61);
  const stream = Buffer.concat([Buffer.from(`${String(body.length)}\n`), body, frame(['tail'])]);
  const decoder = new RecordIoDecoder();
  const records: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 64 * 1024) {
    records.push(...decoder.push(stream.subarray(i, i + 64 * 1024)));
  }
  t.is(records.length, 2);
  t.true(records[0]?.equals(body));
  t.is(records[1]?.toString(), 'tail');
});

test('a record spanning chunks keeps none of them: each is copied as it arrives', (t) => {
  const decoder = new RecordIoDecoder();
  const first = Buffer.from('11\nhello ');
  t.deepEqual(decoder.push(first), []);
  // The chunk's memory is reused (Node streams never do this; a pooled allocator could).
  first.fill(0x78);
  const [record] = decoder.push(Buffer.from('world'));
  t.is(record?.toString(), 'hello world');
});

const BAD_HEADERS: readonly { what: string; input: string; message: RegExp }[] = [
  { what: 'a letter', input: '1a\n', message: /byte "a" is not a digit/ },
  { what: 'a leading space', input: ' 5\nhello', message: /byte 0x20 is not a digit/ },
  { what: 'a sign', input: '-5\nhello', message: /byte "-" is not a digit/ },
  { what: 'CRLF', input: '5\r\nhello', message: /byte 0x0d is not a digit/ },
  { what: 'JSON without framing', input: '{"type":"HEARTBEAT"}', message: /byte "\{"/ },
  { what: 'an empty length', input: '\n{}', message: /empty/ },
  {
    what: 'more than 20 digits',
    input: '000000000000000000001\n',
    message: /longer than 20 digits/,
  },
];

for (const { what, input, message } of BAD_HEADERS) {
  test(`rejects a length header with ${what}`, (t) => {
    const decoder = new RecordIoDecoder();
    const err = t.throws(() => decoder.push(Buffer.from(input)), { instanceOf: StateParseError });
    t.is(err.code, 'ERR_STATE_PARSE');
    t.regex(err.message, message);
  });
}

test('rejects a bad header after good records in the same chunk', (t) => {
  const decoder = new RecordIoDecoder();
  const stream = Buffer.concat([frame(['one']), Buffer.from('x\n')]);
  t.throws(() => decoder.push(stream), { instanceOf: StateParseError, message: /"x"/ });
});

test('is unusable after an error', (t) => {
  const decoder = new RecordIoDecoder();
  t.throws(() => decoder.push(Buffer.from('?')), { instanceOf: StateParseError });
  const err = t.throws(() => decoder.push(frame(['fine'])), { instanceOf: StateParseError });
  t.regex(err.message, /unusable after an error: .*"\?"/);
});

test('accepts a record of exactly the limit and rejects one byte more', (t) => {
  const ok = new RecordIoDecoder({ maxRecordBytes: 5 });
  t.deepEqual(decodeAll(ok, [frame(['12345'])]), ['12345']);
  const tooBig = new RecordIoDecoder({ maxRecordBytes: 5 });
  t.throws(() => tooBig.push(Buffer.from('6\n')), {
    instanceOf: StateParseError,
    message: /record of 6 bytes exceeds the limit of 5 bytes/,
  });
});

test('rejects an oversized length before its newline arrives', (t) => {
  const decoder = new RecordIoDecoder({ maxRecordBytes: 1000 });
  t.deepEqual(decoder.push(Buffer.from('100')), []);
  t.throws(() => decoder.push(Buffer.from('00')), {
    instanceOf: StateParseError,
    message: /record of at least 10000 bytes exceeds the limit of 1000 bytes/,
  });
});

test('defaults the limit to the state client limit of 256 MiB', (t) => {
  t.is(DEFAULT_MAX_STATE_BYTES, 256 * 1024 * 1024);
  const decoder = new RecordIoDecoder();
  t.deepEqual(decoder.push(Buffer.from(`${String(DEFAULT_MAX_STATE_BYTES)}\n`)), []);
  t.throws(
    () => new RecordIoDecoder().push(Buffer.from(`${String(DEFAULT_MAX_STATE_BYTES + 1)}\n`)),
    {
      instanceOf: StateParseError,
      message: /exceeds the limit of 268435456 bytes/,
    },
  );
});

test('refuses a limit that is not a non-negative integer', (t) => {
  for (const maxRecordBytes of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new RecordIoDecoder({ maxRecordBytes }), { instanceOf: RangeError });
  }
});

// ---- parts: long records handed out as they arrive -------------------------------------------

/** Pushes `chunks` to `parts` and describes what came out: `<text>` whole, `[<text>]` sliced. */
function partsAll(decoder: RecordIoDecoder, chunks: readonly Uint8Array[]): string[] {
  const out: string[] = [];
  let sliced: string | undefined;
  let announced = -1;
  for (const chunk of chunks) {
    for (const part of decoder.parts(chunk)) {
      switch (part.kind) {
        case 'record':
          if (sliced !== undefined) throw new Error('a whole record inside a sliced one');
          out.push(part.bytes.toString('utf8'));
          break;
        case 'begin':
          if (sliced !== undefined) throw new Error('begin twice');
          sliced = '';
          announced = part.length;
          break;
        case 'piece':
          if (sliced === undefined || part.bytes.length === 0) throw new Error('bad piece');
          sliced += part.bytes.toString('latin1');
          break;
        case 'end':
          if (sliced === undefined || Buffer.byteLength(sliced, 'latin1') !== announced) {
            throw new Error('end without its bytes');
          }
          out.push(`[${Buffer.from(sliced, 'latin1').toString('utf8')}]`);
          sliced = undefined;
      }
    }
  }
  return out;
}

test('parts: records over wholeUpTo come in pieces, the others whole, split anywhere', (t) => {
  const stream = frame(RECORDS);
  // wholeUpTo 4: the empty record, "x" and nothing else whole.
  const expected = RECORDS.map((r) => (Buffer.byteLength(r) > 4 ? `[${r}]` : r));
  let runs = 0;
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j++) {
      const decoder = new RecordIoDecoder({ wholeUpTo: 4 });
      const got = partsAll(decoder, [
        stream.subarray(0, i),
        stream.subarray(i, j),
        stream.subarray(j),
      ]);
      if (got.join('\u0000') !== expected.join('\u0000') || decoder.pending !== 0) {
        t.fail(`split at ${String(i)} and ${String(j)} gave ${JSON.stringify(got)}`);
        return;
      }
      runs++;
    }
  }
  t.true(runs > 10_000);
});

test('parts: a long record holds nothing while it arrives, its pieces are views', (t) => {
  const decoder = new RecordIoDecoder({ wholeUpTo: 0 });
  const chunk = Buffer.from('11\nhello ');
  const parts = decoder.parts(chunk);
  t.deepEqual(
    parts.map((p) => p.kind),
    ['begin', 'piece'],
  );
  t.like(parts[0], { kind: 'begin', length: 11 });
  const piece = parts[1];
  t.true(piece?.kind === 'piece' && piece.bytes.buffer === chunk.buffer);
  t.is(decoder.pending, 0);
  t.deepEqual(
    decoder.parts(Buffer.from('world3\nabc')).map((p) => p.kind),
    ['piece', 'end', 'begin', 'piece', 'end'],
  );
});

test('parts: the size limit applies before any piece of a long record is handed out', (t) => {
  const decoder = new RecordIoDecoder({ maxRecordBytes: 100, wholeUpTo: 10 });
  t.deepEqual(partsAll(decoder, [frame(['a'.repeat(100)])]), [`[${'a'.repeat(100)}]`]);
  t.deepEqual(decoder.parts(Buffer.from('10')), []);
  t.throws(() => decoder.parts(Buffer.from('1\n' + 'b'.repeat(101))), {
    instanceOf: StateParseError,
    message: /record of 101 bytes exceeds the limit of 100 bytes/,
  });
  t.throws(() => decoder.parts(frame(['ok'])), { message: /unusable after an error/ });
});

test('parts: a large record in 64 KiB chunks comes as its chunks, never copied', (t) => {
  const body = Buffer.alloc(3 * 1024 * 1024 + 17, 0x61);
  const stream = Buffer.concat([Buffer.from(`${String(body.length)}\n`), body, frame(['tail'])]);
  const decoder = new RecordIoDecoder();
  let bytes = 0;
  const kinds: string[] = [];
  for (let i = 0; i < stream.length; i += 64 * 1024) {
    const chunk = stream.subarray(i, i + 64 * 1024);
    for (const part of decoder.parts(chunk)) {
      if (part.kind === 'piece') {
        bytes += part.bytes.length;
        if (part.bytes.buffer !== chunk.buffer) t.fail('a piece was copied');
      } else {
        kinds.push(part.kind);
      }
    }
  }
  t.is(bytes, body.length);
  t.deepEqual(kinds, ['begin', 'end', 'record']);
});

test('refuses a wholeUpTo that is not a non-negative integer', (t) => {
  for (const wholeUpTo of [-1, 0.5, Number.NaN]) {
    t.throws(() => new RecordIoDecoder({ wholeUpTo }), { instanceOf: RangeError });
  }
});
