// V1EventReader: a v1 event (above all SUBSCRIBED) read as its bytes arrive gives exactly what
// parseV1Event(JSON.parse(record)) gives, whatever the chunking, the member order, the damage.
import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import { TaskCompactor } from '../../src/mesos/compact.js';
import { StateSyntaxError } from '../../src/mesos/document.js';
import { V1EventReader } from '../../src/mesos/v1-state-reader.js';
import { parseV1Event } from '../../src/mesos/v1.js';
import type { MesosEvent } from '../../src/mesos/v1.js';
import { jsonSyntaxProblem } from '../../src/json-syntax.js';
import { createRandom, syntheticState } from '../../support/cluster.js';
import { readFixture } from '../../support/state-builder.js';
import { toV1State } from '../../support/v1-state.js';

/** What reading a record gave: its event, or its error's class and message. */
type Outcome =
  | { readonly event: MesosEvent }
  | { readonly error: string; readonly message: string; readonly at?: string };

function outcome(read: () => MesosEvent): Outcome {
  try {
    return { event: read() };
  } catch (err) {
    if (err instanceof StateSyntaxError) {
      const at = `${String(err.line)}:${String(err.column)}`;
      return { error: 'syntax', message: err.message, at };
    }
    if (err instanceof StateParseError) return { error: 'parse', message: err.message };
    throw err;
  }
}

/** What `parseV1Event(JSON.parse(text))` makes of the record (a syntax error: its place). */
function whole(text: string): Outcome {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    const { line, column } = jsonSyntaxProblem(text, error);
    return { error: 'syntax', message: '', at: `${String(line)}:${String(column)}` };
  }
  return outcome(() => parseV1Event(record));
}

/** The record read by a `V1EventReader` in chunks of the given sizes (cycled). */
function sliced(text: string | Buffer, sizes: readonly number[], compact = false): Outcome {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return outcome(() => {
    const reader = new V1EventReader({ compact });
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length] ?? bytes.length;
      reader.push(bytes.subarray(at, at + size));
      at += size;
    }
    return reader.end();
  });
}

/** A syntax error's message is the slicer's (with its place); the place must be JSON.parse's. */
function comparable(o: Outcome): Outcome {
  return 'error' in o && o.error === 'syntax' ? { ...o, message: '' } : o;
}

function subscribedText(getState: unknown, heartbeat: unknown = 15): string {
  return JSON.stringify({
    type: 'SUBSCRIBED',
    subscribed: { get_state: getState, heartbeat_interval_seconds: heartbeat },
  });
}

function v1Task(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'web',
    task_id: { value: id },
    framework_id: { value: 'fw-1' },
    agent_id: { value: 'S0' },
    state: 'TASK_RUNNING',
    resources: [
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] } },
    ],
    statuses: [
      { task_id: { value: id }, state: 'TASK_STARTING', timestamp: 1 },
      {
        task_id: { value: id },
        state: 'TASK_RUNNING',
        timestamp: 2,
        labels: { labels: [{ key: 'k', value: 'v' }] },
        container_status: {
          network_infos: [{ ip_addresses: [{ ip_address: '10.1.2.3' }] }],
        },
      },
    ],
    ...overrides,
  };
}

const AGENT = {
  agent_info: { id: { value: 'S0' }, hostname: 'a0', port: 5051 },
  pid: 'slave(1)@10.0.1.1:5051',
};
const FRAMEWORK = { framework_info: { id: { value: 'fw-1' }, name: 'marathon', hostname: 'm' } };

/** A small get_state with something of everything, bad entries included. */
function smallState(): Record<string, unknown> {
  return {
    get_agents: {
      agents: [AGENT, { agent_info: { hostname: 'no id' } }, 7, { ...AGENT, pid: 'nonsense' }],
      recovered_agents: [{ id: { value: 'S9' } }, { hostname: 'no id' }, null],
    },
    get_frameworks: {
      frameworks: [FRAMEWORK, { framework_info: { name: 'no id' } }, 'x'],
      completed_frameworks: [FRAMEWORK],
    },
    get_tasks: {
      pending_tasks: [v1Task('pending')],
      tasks: [
        v1Task('t1'),
        v1Task('t2', { agent_id: undefined }),
        'not a task',
        v1Task('t3', { state: 5 }),
        v1Task('caf\u00e9 \u2603 \u{1f600}'),
        null,
      ],
      completed_tasks: [v1Task('done', { state: 'TASK_FINISHED' })],
    },
    get_executors: { executors: [{ executor_info: { executor_id: { value: 'e' } } }] },
  };
}

test('a small SUBSCRIBED split at every byte boundary reads as parseV1Event reads it', (t) => {
  const text = subscribedText(smallState());
  const expected = whole(text);
  t.true('event' in expected && expected.event.type === 'SUBSCRIBED');
  t.true(
    'event' in expected && 'report' in expected.event && expected.event.report.skippedTasks > 0,
  );
  t.deepEqual(sliced(text, [1]), expected, 'a byte at a time');
  for (let cut = 1; cut < Buffer.byteLength(text); cut++) {
    const got = sliced(text, [cut, Buffer.byteLength(text)]);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      t.deepEqual(got, expected, `split at ${String(cut)}`);
      return;
    }
  }
  t.pass();
});

test('SUBSCRIBED of the fixture reads as parseV1Event reads it, in chunks of any size', (t) => {
  const text = subscribedText(toV1State(readFixture()));
  const expected = whole(text);
  // Byte by byte and at every boundary: the small record above; here pieces of mixed sizes.
  for (const sizes of [[7, 1, 64], [1000], [65536], [Buffer.byteLength(text)]]) {
    t.deepEqual(sliced(text, sizes), expected, `chunks of ${sizes.join(',')}`);
  }
});

test('a generated cluster, randomly chunked, reads as parseV1Event reads it', (t) => {
  const random = createRandom(20);
  const state = toV1State(syntheticState({ tasks: 1000 }));
  const text = subscribedText(state, 1);
  const expected = whole(text);
  t.true('event' in expected && 'snapshot' in expected.event);
  if ('event' in expected && 'snapshot' in expected.event) {
    t.true(expected.event.snapshot.tasks.length > 950);
  }
  for (let run = 0; run < 3; run++) {
    const sizes = Array.from({ length: 200 }, () => 1 + random.int(run === 0 ? 64 : 65536));
    t.deepEqual(sliced(text, sizes), expected, `run ${String(run)}`);
  }
});

test('compact: the tasks are compacted as they are read, nothing else differs', (t) => {
  const text = subscribedText(toV1State(syntheticState({ tasks: 500 })));
  const got = sliced(text, [4096], true);
  const expected = whole(text);
  if (!('event' in expected) || expected.event.type !== 'SUBSCRIBED') return t.fail();
  const compactor = new TaskCompactor();
  const snapshot = {
    ...expected.event.snapshot,
    tasks: expected.event.snapshot.tasks.map((task) => compactor.task(task)),
  };
  t.deepEqual(got, { event: { ...expected.event, snapshot } });
  t.true(expected.event.snapshot.tasks.some((task) => task.statuses.length > 1));
});

/** Records whose members come in another order, twice, or of another type than expected. */
const VARIANTS: readonly [string, string][] = [
  [
    'type last',
    `{"subscribed":{"heartbeat_interval_seconds":3,"get_state":${JSON.stringify(smallState())}},` +
      '"type":"SUBSCRIBED"}',
  ],
  [
    'sections and lists in reverse order',
    JSON.stringify({
      subscribed: {
        get_state: Object.fromEntries(
          Object.entries(smallState())
            .reverse()
            .map(([k, v]) => [k, Object.fromEntries(Object.entries(v as object).reverse())]),
        ),
      },
      type: 'SUBSCRIBED',
    }),
  ],
  [
    'members given twice (the last counts)',
    '{"type":"HEARTBEAT","subscribed":{"get_state":{"get_tasks":{"tasks":[]}}},' +
      `"subscribed":{"get_state":{"get_tasks":{"tasks":[${JSON.stringify(v1Task('a'))}]},` +
      `"get_tasks":{"tasks":[${JSON.stringify(v1Task('b'))}],` +
      `"tasks":[${JSON.stringify(v1Task('c'))}]},` +
      `"get_agents":{"agents":[${JSON.stringify(AGENT)}]},"get_agents":"bad"},` +
      '"heartbeat_interval_seconds":-1,"heartbeat_interval_seconds":2},"type":"SUBSCRIBED"}',
  ],
  [
    'a section given again as another type',
    '{"type":"SUBSCRIBED","subscribed":{"get_state":{"get_tasks":{"tasks":[]},"get_tasks":[1]}}}',
  ],
  [
    'sections and lists of other types',
    subscribedText({
      get_agents: [AGENT],
      get_frameworks: 'frameworks',
      get_tasks: { tasks: { a: 1 } },
    }),
  ],
  ['lists null', subscribedText({ get_agents: null, get_tasks: { tasks: null } })],
  ['recovered agents of another type', subscribedText({ get_agents: { recovered_agents: 5 } })],
  [
    'more problems than are listed',
    subscribedText({ get_tasks: { tasks: Array.from({ length: 30 }, (_, i) => i) } }),
  ],
  ['an empty get_state', subscribedText({})],
  ['a heartbeat of zero', subscribedText({}, 0)],
  ['a heartbeat that is a list', subscribedText({}, [1])],
  ['a heartbeat that is an object', subscribedText({}, { s: 1 })],
  ['no get_state', '{"type":"SUBSCRIBED","subscribed":{}}'],
  ['get_state a list', '{"type":"SUBSCRIBED","subscribed":{"get_state":[{}]}}'],
  ['get_state null', '{"type":"SUBSCRIBED","subscribed":{"get_state":null}}'],
  ['subscribed a list', '{"type":"SUBSCRIBED","subscribed":[1,2]}'],
  ['subscribed a string', '{"type":"SUBSCRIBED","subscribed":"x"}'],
  ['no subscribed', '{"type":"SUBSCRIBED"}'],
  ['no type', '{"subscribed":{"get_state":{}}}'],
  ['a type of another type', '{"type":{"a":1},"subscribed":{"get_state":{}}}'],
  ['an empty type', '{"type":""}'],
  ['a list', '[{"type":"SUBSCRIBED"}]'],
  ['a string', '"SUBSCRIBED"'],
  ['null', 'null'],
  ['a heartbeat', '{"type":"HEARTBEAT"}'],
  ['an unknown event with a subscribed member', '{"subscribed":{"get_state":{}},"type":"X"}'],
  ['a task added', JSON.stringify({ type: 'TASK_ADDED', task_added: { task: v1Task('x') } })],
  ['a bad task added', JSON.stringify({ type: 'TASK_ADDED', task_added: { task: { name: 1 } } })],
  ['__proto__ as a member', '{"__proto__":{"type":"HEARTBEAT"},"type":"AGENT_REMOVED"}'],
  ['a BOM', '\ufeff{"type":"HEARTBEAT"}'],
];

for (const [what, text] of VARIANTS) {
  test(`the sliced read of a record with ${what} is parseV1Event's`, (t) => {
    const expected = whole(text);
    t.deepEqual(comparable(sliced(text, [text.length])), comparable(expected), 'in one piece');
    t.deepEqual(comparable(sliced(text, [1])), comparable(expected), 'a byte at a time');
    t.deepEqual(comparable(sliced(text, [5, 2, 11])), comparable(expected));
  });
}

/** Records that are not JSON, and where JSON.parse says they stop being it. */
const BROKEN: readonly string[] = [
  subscribedText(smallState()).slice(0, 700),
  subscribedText(smallState()).replace('"t3"', '"t3" "x"'),
  subscribedText(smallState()).replace('"TASK_STARTING"', 'TASK_STARTING'),
  subscribedText(smallState()).replace('31001', '31001,'),
  subscribedText(smallState()).replace('{"executor_info"', '{\n"executor_info":,'),
  subscribedText({ get_tasks: { tasks: [v1Task('\u{1f600}', { name: 'caf\u00e9' })] } }).replace(
    '"caf\u00e9"',
    '"caf\u00e9\n"',
  ),
  `{"type":"SUBSCRIBED","subscribed":{"get_state":{}}}}`,
  `{"type":"SUBSCRIBED",}`,
  `{"type":"SUBSCRIBED"`,
  '',
];

for (const [i, text] of BROKEN.entries()) {
  test(`a syntax error is found where JSON.parse finds it (${String(i)})`, (t) => {
    const expected = whole(text);
    const at = 'error' in expected ? expected.at : undefined;
    if (at === undefined) return t.fail('JSON.parse read it');
    const [line, column] = at.split(':');
    for (const sizes of [[text.length + 1], [1], [13, 3]]) {
      const got = sliced(text, sizes);
      t.like(got, { error: 'syntax', at }, sizes.join(','));
      if ('error' in got) {
        const where = `line ${String(line)} column ${String(column)}`;
        t.true(got.message.startsWith(`invalid JSON at ${where}: `), got.message);
      }
    }
  });
}

test('a task that is not valid is skipped and counted, the others kept', (t) => {
  const got = sliced(subscribedText(smallState()), [100]);
  if (!('event' in got) || got.event.type !== 'SUBSCRIBED') return t.fail();
  t.deepEqual(
    got.event.snapshot.tasks.map((task) => task.id),
    ['t1', 'caf\u00e9 \u2603 \u{1f600}'],
  );
  t.is(got.event.report.skippedTasks, 4);
  t.is(got.event.report.skippedAgents, 5);
  t.is(got.event.report.skippedFrameworks, 2);
  t.true(got.event.report.problems.includes('get_tasks.tasks[1]: agent_id: missing'));
});
