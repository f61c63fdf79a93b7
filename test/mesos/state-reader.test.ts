import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import { trimStatuses } from '../../src/mesos/compact.js';
import { StateSyntaxError } from '../../src/mesos/document.js';
import { parseState } from '../../src/mesos/parse.js';
import { StateReader } from '../../src/mesos/state-reader.js';
import type { ReadState } from '../../src/mesos/state-reader.js';
import type { ParsedState } from '../../src/mesos/types.js';
import { syntheticState } from '../../support/cluster.js';
import { readFixture } from '../../support/state-builder.js';

/** The document's bytes read in chunks of `size`. */
function read(doc: unknown, size: number): ReadState {
  const bytes = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
  const reader = new StateReader();
  for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size));
  return reader.end();
}

/** What `parseState` makes of `doc`, each task with its latest running status only. */
function expected(doc: unknown): ParsedState {
  const { state, report } = parseState(doc);
  const frameworks = state.frameworks.map((fw) => ({
    ...fw,
    tasks: fw.tasks.map((task) => ({ ...task, statuses: trimStatuses(task.statuses) })),
  }));
  return { state: { ...state, frameworks }, report };
}

function rawTask(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'web.1',
    name: 'web',
    slave_id: 'agent-S0',
    state: 'TASK_RUNNING',
    resources: { cpus: 1, ports: '[31000-31000]' },
    statuses: [
      { state: 'TASK_STARTING', timestamp: 1 },
      { state: 'TASK_RUNNING', timestamp: 2, labels: [{ key: 'k', value: 'v' }] },
    ],
    ...overrides,
  };
}

const MALFORMED = {
  leader: 'master@nowhere',
  pid: 'master@10.0.0.1:5050',
  leader_info: { id: 'L1', hostname: 'm1' },
  flags: { a: '1' },
  frameworks: [
    42,
    {
      id: 'fw-1',
      name: 'marathon',
      pid: 'garbage',
      completed_tasks: [rawTask({ state: 'TASK_KILLED' })],
      tasks: [
        rawTask(),
        rawTask({ id: 5 }),
        rawTask({ id: 'c', resources: { ports: '31000-31001' } }),
        'not a task',
        rawTask({ id: 'e', statuses: [{ state: 'TASK_RUNNING', timestamp: 'yesterday' }] }),
        rawTask({ id: 'f', framework_id: 'fw-other' }),
      ],
    },
    // Tasks before the framework's id: they take it as their default framework_id.
    { tasks: [rawTask({ id: 'g' }), rawTask({ id: 7 })], id: 'fw-2', name: 'later' },
    // A bad framework after its tasks: its tasks and their problems go with it.
    { id: 'fw-3', tasks: [rawTask({ id: 'h' }), rawTask({ state: 1 })], name: 3 },
    { name: 'no id' },
  ],
  slaves: [
    { id: 'agent-S0', hostname: 'a0', pid: 'slave(1)@10.0.1.1:5051' },
    { id: 'bad', pid: 'slave(1)@10.0.1.2' },
    { pid: 'slave(1)@10.0.1.3:5051' },
  ],
  recovered_slaves: [{ id: 'S1' }, { hostname: 'no id' }],
  completed_frameworks: [{ id: 'old', tasks: [rawTask()] }],
};

const DOCS: readonly [string, unknown][] = [
  ['the Mesos-DNS fixture', readFixture()],
  ['a synthetic cluster', syntheticState({ tasks: 300 })],
  ['a document with malformed entries', MALFORMED],
  ['an empty object', {}],
  ['top-level lists of the wrong type', { slaves: {}, frameworks: 'none', recovered_slaves: 3 }],
  ['a framework whose tasks are not a list', { frameworks: [{ id: 'f', tasks: {} }] }],
  ['a leader that is not a string', { leader: 5 }],
  [
    'members given twice (the last counts)',
    JSON.parse(
      '{"slaves": [1], "slaves": [], "frameworks": [{"id": "a", "tasks": [{}], "tasks": []}]}',
    ),
  ],
  [
    'more problems than are kept',
    { frameworks: [{ id: 'f', tasks: Array.from({ length: 30 }, () => rawTask({ state: 7 })) }] },
  ],
];

for (const [what, doc] of DOCS) {
  test(`reads ${what} as parseState does, statuses trimmed`, (t) => {
    const want = expected(doc);
    for (const size of [7, 64 * 1024]) {
      const got = read(doc, size);
      t.deepEqual(got.parsed, want, `chunks of ${String(size)}`);
    }
  });
}

test('the head holds the leader facts of the document', (t) => {
  const { head } = read(MALFORMED, 5);
  t.deepEqual(head, {
    leader: 'master@nowhere',
    pid: 'master@10.0.0.1:5050',
    leader_info: { id: 'L1', hostname: 'm1' },
  });
});

test('a task keeps its latest running status only, and the reader shares no state between documents', (t) => {
  const doc = { frameworks: [{ id: 'f', tasks: [rawTask()] }] };
  const task = read(doc, 3).parsed.state.frameworks[0]?.tasks[0];
  t.deepEqual(
    task?.statuses.map((s) => s.state),
    ['TASK_RUNNING'],
  );
  t.deepEqual(task?.statuses[0]?.labels, [{ key: 'k', value: 'v' }]);
});

for (const [what, doc, got] of [
  ['null', 'null', 'null'],
  ['an array', '[1, {"a": 2}]', 'an array'],
  ['a string', '"state"', '"state"'],
  ['a number', '42', 'number'],
] as const) {
  test(`a document that is ${what} is not a state`, (t) => {
    const error = t.throws(() => read(doc, 2), { instanceOf: StateParseError });
    t.is(error.message, `state document is not a JSON object (got ${got})`);
  });
}

test('bad JSON is a StateSyntaxError with its line and column', (t) => {
  const text =
    '{\n  "frameworks": [\n    {"id": "f", "tasks": [{"id": "a",, "state": "x"}]}\n  ]\n}';
  for (const size of [1, 4096]) {
    const error = t.throws(() => read(text, size), { instanceOf: StateSyntaxError });
    t.is(error.line, 3);
    t.is(error.column, 38);
    t.is(error.message, 'invalid JSON at line 3 column 38: Expected double-quoted property name');
  }
  const early = t.throws(() => read('{"slaves": [', 4), { instanceOf: StateSyntaxError });
  t.is(early.message, 'invalid JSON at line 1 column 13: Unexpected end of JSON input');
});
