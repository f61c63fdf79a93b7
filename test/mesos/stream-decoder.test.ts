// StreamDecoder: RecordIO chunks into events, long records (a SUBSCRIBED snapshot) read as they
// arrive, shorter ones whole; both ways give the same events, the same bad-event counts.
import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import { TaskCompactor } from '../../src/mesos/compact.js';
import type { DecodedEvent } from '../../src/mesos/stream-decoder.js';
import { StreamDecoder } from '../../src/mesos/stream-decoder.js';
import { StreamModel } from '../../src/mesos/stream-model.js';
import type { MesosEvent, V1Snapshot } from '../../src/mesos/v1.js';
import { parseV1Event } from '../../src/mesos/v1.js';
import { jsonSyntaxProblem } from '../../src/json-syntax.js';
import { createRandom, syntheticState } from '../../support/cluster.js';
import { recordingLogger } from '../../support/logs.js';
import { toV1State } from '../../support/v1-state.js';

const URL = 'http://master.test:5050';

function frame(records: readonly string[]): Buffer {
  return Buffer.concat(
    records.map((r) => {
      const body = Buffer.from(r, 'utf8');
      return Buffer.concat([Buffer.from(`${String(body.length)}\n`), body]);
    }),
  );
}

interface Run {
  readonly events: DecodedEvent[];
  readonly bad: number;
  readonly logs: string[];
  /** The error that ended the stream, if any. */
  readonly error?: unknown;
}

function decoder(options: { wholeUpTo?: number; maxRecordBytes?: number } = {}): {
  decoder: StreamDecoder;
  bad: () => number;
  logs: string[];
} {
  const { logger, logs } = recordingLogger();
  let bad = 0;
  const d = new StreamDecoder({
    url: URL,
    logger,
    onBadEvent: () => {
      bad++;
    },
    ...options,
  });
  return { decoder: d, bad: () => bad, logs };
}

/** Decodes `stream` in chunks of the given sizes (cycled). */
function run(
  stream: Buffer,
  sizes: readonly number[],
  options: { wholeUpTo?: number; maxRecordBytes?: number } = {},
): Run {
  const d = decoder(options);
  const events: DecodedEvent[] = [];
  let at = 0;
  try {
    for (let i = 0; at < stream.length; i++) {
      const size = sizes[i % sizes.length] ?? stream.length;
      for (const decoded of d.decoder.push(stream.subarray(at, at + size))) events.push(decoded);
      at += size;
    }
  } catch (error) {
    return { events, bad: d.bad(), logs: d.logs, error };
  }
  return { events, bad: d.bad(), logs: d.logs };
}

/** `event` with its snapshot's tasks compacted (what the sliced reader hands out). */
function compacted(event: MesosEvent): MesosEvent {
  if (event.type !== 'SUBSCRIBED') return event;
  const compactor = new TaskCompactor();
  const tasks = event.snapshot.tasks.map((task) => compactor.task(task));
  return { ...event, snapshot: { ...event.snapshot, tasks } };
}

const TASK_ADDED = JSON.stringify({
  type: 'TASK_ADDED',
  task_added: {
    task: {
      name: 'late',
      task_id: { value: 'late.1' },
      framework_id: { value: 'fw' },
      agent_id: { value: 'S0' },
      state: 'TASK_STAGING',
    },
  },
});

function subscribedText(tasks: number): string {
  return JSON.stringify({
    type: 'SUBSCRIBED',
    subscribed: {
      get_state: toV1State(syntheticState({ tasks })),
      heartbeat_interval_seconds: 2,
    },
  });
}

test('a long SUBSCRIBED is read as it arrives and gives the events of the whole parse', (t) => {
  const snapshot = subscribedText(150);
  const records = [snapshot, '{"type":"HEARTBEAT"}', TASK_ADDED, '{"type":"HEARTBEAT"}'];
  const stream = frame(records);
  const expected = records.map((r) => ({
    event: compacted(parseV1Event(JSON.parse(r))),
    bytes: Buffer.byteLength(r),
  }));
  const random = createRandom(7);
  for (const wholeUpTo of [0, 1000]) {
    for (const sizes of [[3], [Buffer.byteLength(records[0] ?? '') + 3], [65536]]) {
      t.deepEqual(run(stream, sizes, { wholeUpTo }), { events: expected, bad: 0, logs: [] });
    }
    const sizes = Array.from({ length: 100 }, () => 1 + random.int(20_000));
    t.deepEqual(run(stream, sizes, { wholeUpTo }), { events: expected, bad: 0, logs: [] });
  }
  // Whole (up to the threshold): not compacted.
  const wholeRun = run(stream, [4096], { wholeUpTo: Buffer.byteLength(snapshot) });
  t.deepEqual(
    wholeRun.events.map((e) => e.event),
    records.map((r) => parseV1Event(JSON.parse(r))),
  );
});

test('the next event of a chunk is decoded only once the snapshot was handled', (t) => {
  const { decoder: d, bad } = decoder({ wholeUpTo: 0 });
  const stream = frame([subscribedText(20), 'not json', '{"type":"HEARTBEAT"}']);
  const iterator = d.push(stream);
  const first = iterator.next();
  t.false(first.done);
  t.is(first.done === false ? first.value.event.type : '', 'SUBSCRIBED');
  t.is(bad(), 0, 'the bad record after the snapshot is not read yet');
  t.deepEqual(
    [...iterator].map((e) => e.event.type),
    ['HEARTBEAT'],
  );
  t.is(bad(), 1);
});

test('a syntax error in a long record skips it, counted and logged with its place', (t) => {
  const good = subscribedText(50);
  const broken = good.replace('"TASK_RUNNING"', '"TASK_RUNNING" 1');
  let problem = { line: 0, column: 0 };
  try {
    JSON.parse(broken);
  } catch (err) {
    problem = jsonSyntaxProblem(broken, err);
  }
  const { line, column } = problem;
  t.true(line > 0);
  for (const sizes of [[1000], [broken.length + 100], [1]]) {
    const got = run(frame([broken, good]), sizes, { wholeUpTo: 0 });
    t.is(got.error, undefined);
    t.is(got.bad, 1);
    t.deepEqual(
      got.events.map((e) => e.event.type),
      ['SUBSCRIBED'],
      'the framing holds: the next record is read',
    );
    t.is(got.logs.length, 1);
    t.true(
      got.logs[0]?.includes(
        `${URL}: bad event: invalid JSON at line ${String(line)} column ${String(column)}: `,
      ),
      got.logs[0],
    );
  }
});

test('a bad long SUBSCRIBED, then an event: the stream ends as with a whole parse', (t) => {
  const cut = subscribedText(50).slice(0, 5000);
  for (const options of [{ wholeUpTo: 0 }, {}]) {
    const got = run(frame([cut, '{"type":"HEARTBEAT"}']), [777], options);
    t.is(got.bad, 1);
    t.true(got.error instanceof StateParseError);
    t.regex(String(got.error), /HEARTBEAT before SUBSCRIBED/);
  }
});

test('a long record that is not a valid event is skipped with parseV1Event message', (t) => {
  const text = JSON.stringify({
    subscribed: { get_state: toV1State(syntheticState({ tasks: 20 })) },
    heartbeat_interval_seconds: 1,
    type: 'SUBSCRIBED',
    padding: 'x'.repeat(100),
  }).replace('"subscribed":{', '"subscribed":{"heartbeat_interval_seconds":-2,');
  for (const options of [{ wholeUpTo: 0 }, {}]) {
    const got = run(frame([text]), [999], options);
    t.is(got.bad, 1);
    t.deepEqual(got.events, []);
    t.regex(got.logs[0] ?? '', /SUBSCRIBED event: subscribed.heartbeat_interval_seconds: not pos/);
  }
});

test('a bad task in a long SUBSCRIBED is skipped and counted, the event is good', (t) => {
  const text = subscribedText(30).replace('"agent_id":{', '"agent_id":7,"x":{');
  const got = run(frame([text]), [512], { wholeUpTo: 0 });
  const event = got.events[0]?.event;
  t.is(event?.type, 'SUBSCRIBED');
  if (event?.type !== 'SUBSCRIBED') return;
  t.is(event.report.skippedTasks, 1);
  t.deepEqual(event, compacted(parseV1Event(JSON.parse(text))));
});

test('the size limit applies to a long record before any of it is read', (t) => {
  const text = subscribedText(20);
  const limit = Buffer.byteLength(text) - 1;
  const small = '{"type":"SUBSCRIBED","subscribed":{"get_state":{}}}';
  const got = run(frame([small, text]), [Buffer.byteLength(frame([small])), 100], {
    wholeUpTo: 0,
    maxRecordBytes: limit,
  });
  t.true(got.error instanceof StateParseError);
  t.regex(String(got.error), new RegExp(`exceeds the limit of ${String(limit)} bytes`));
  t.is(got.bad, 0);
  t.deepEqual(
    got.events.map((e) => e.event.type),
    ['SUBSCRIBED'],
  );
  const fits = run(frame([text]), [100], { wholeUpTo: 0, maxRecordBytes: limit + 1 });
  t.is(fits.events[0]?.event.type, 'SUBSCRIBED');
});

test('knownTasks: a long SUBSCRIBED takes the known task slices as the model tasks', (t) => {
  const text = subscribedText(150);
  const model = new StreamModel();
  const snapshotOf = (known: boolean): V1Snapshot => {
    const d = new StreamDecoder({
      url: URL,
      logger: recordingLogger().logger,
      onBadEvent: () => undefined,
      wholeUpTo: 1000,
      ...(known ? { knownTasks: model } : {}),
    });
    const [decoded] = [...d.push(frame([text]))];
    if (decoded?.event.type !== 'SUBSCRIBED') throw new Error('no SUBSCRIBED');
    return decoded.event.snapshot;
  };
  const first = snapshotOf(true);
  t.is(first.taskDigests?.length, first.tasks.length);
  model.reset(first);
  const again = snapshotOf(true);
  const held = model.toState(undefined).frameworks.flatMap((f) => f.tasks);
  t.true(again.tasks.length > 100);
  t.true(
    again.tasks.every((task) => held.includes(task)),
    'every slice known: the held objects',
  );
  // The same snapshot as a read without the index, but for the digests.
  const { taskDigests, ...rest } = again;
  t.deepEqual(taskDigests, first.taskDigests);
  t.deepEqual(rest, snapshotOf(false));
});
