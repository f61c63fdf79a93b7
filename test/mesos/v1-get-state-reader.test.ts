// V1GetStateReader: a GET_STATE answer (the stream's resync) read as its bytes arrive gives what
// parseV1State gives of its get_state, whatever the chunking and the member order, and its errors.
import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import { TaskCompactor } from '../../src/mesos/compact.js';
import { StateSyntaxError } from '../../src/mesos/document.js';
import { V1GetStateReader } from '../../src/mesos/v1-state-reader.js';
import { parseV1State } from '../../src/mesos/v1.js';
import type { ParsedV1State } from '../../src/mesos/v1.js';
import { createRandom, syntheticState } from '../../support/cluster.js';
import { readFixture } from '../../support/state-builder.js';
import { toV1State } from '../../support/v1-state.js';

type Outcome = { readonly parsed: ParsedV1State } | { readonly error: string };

function outcome(read: () => ParsedV1State): Outcome {
  try {
    return { parsed: read() };
  } catch (err) {
    if (err instanceof StateSyntaxError)
      return { error: `syntax ${String(err.line)}:${String(err.column)}` };
    if (err instanceof StateParseError) return { error: `parse ${err.message}` };
    throw err;
  }
}

function read(text: string, sizes: readonly number[], compact = false): Outcome {
  const bytes = Buffer.from(text);
  return outcome(() => {
    const reader = new V1GetStateReader({ compact });
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length] ?? bytes.length;
      reader.push(bytes.subarray(at, at + size));
      at += size;
    }
    return reader.end();
  });
}

/** parseV1State of the answer's get_state, with the resync's old check of the answer. */
function whole(text: string): Outcome {
  const doc: unknown = JSON.parse(text);
  return outcome(() => {
    if (typeof doc !== 'object' || doc === null || !('get_state' in doc)) {
      throw new StateParseError('GET_STATE answer without get_state');
    }
    return parseV1State(doc.get_state);
  });
}

test('a GET_STATE answer read in chunks of any size is parseV1State of its get_state', (t) => {
  const getState = toV1State(readFixture());
  for (const text of [
    JSON.stringify({ type: 'GET_STATE', get_state: getState }),
    JSON.stringify({ get_state: getState, type: 'GET_STATE', extra: [{ a: [1, 2] }] }),
  ]) {
    const expected = whole(text);
    t.true('parsed' in expected && expected.parsed.state.tasks.length > 0);
    for (const sizes of [[1], [7, 1, 64], [4096], [Buffer.byteLength(text)]]) {
      t.deepEqual(read(text, sizes), expected, `chunks of ${sizes.join(',')}`);
    }
  }
});

test('a generated cluster, randomly chunked and compacted, reads as parseV1State reads it', (t) => {
  const random = createRandom(5);
  const text = JSON.stringify({
    type: 'GET_STATE',
    get_state: toV1State(syntheticState({ tasks: 500 })),
  });
  const expected = whole(text);
  if (!('parsed' in expected)) return t.fail('the answer does not parse');
  const sizes = Array.from({ length: 100 }, () => 1 + random.int(20_000));
  const got = read(text, sizes, true);
  if (!('parsed' in got)) return t.fail(JSON.stringify(got));
  const compactor = new TaskCompactor();
  t.deepEqual(got.parsed.report, expected.parsed.report);
  t.deepEqual(
    got.parsed.state.tasks,
    expected.parsed.state.tasks.map((task) => compactor.task(task)),
  );
  t.deepEqual(got.parsed.state.agents, expected.parsed.state.agents);
  t.deepEqual(got.parsed.state.frameworks, expected.parsed.state.frameworks);
});

test('answers without a get_state object fail as the resync failed on them', (t) => {
  for (const text of [
    '{"type":"GET_STATE"}',
    '[]',
    '7',
    '{"get_state":[]}',
    '{"get_state":null}',
  ]) {
    t.deepEqual(read(text, [3]), whole(text), text);
  }
  t.deepEqual(read('{"type":"GET_STATE"}', [3]), {
    error: 'parse GET_STATE answer without get_state',
  });
});

test('a syntax error is found where it is, a bad task is skipped and counted', (t) => {
  t.deepEqual(read('{"type":"GET_STATE",\n "get_state": {"get_tasks": {"tasks": [}}}', [5]), {
    error: 'syntax 2:40',
  });
  const text = JSON.stringify({
    type: 'GET_STATE',
    get_state: {
      get_tasks: {
        tasks: [
          7,
          ...(toV1State(readFixture()) as { get_tasks: { tasks: unknown[] } }).get_tasks.tasks,
        ],
      },
    },
  });
  const got = read(text, [100]);
  t.deepEqual(got, whole(text));
  t.true('parsed' in got && got.parsed.report.skippedTasks === 1);
});
