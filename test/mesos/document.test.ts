/** State documents read from a file: v0 /master/state, v1 GET_STATE, and what is refused. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import {
  EXPECTED_STATE,
  StateSyntaxError,
  parseJsonText,
  parseStateDocument,
} from '../../src/mesos/index.js';
import { toV1State } from '../../support/v1-state.js';

const DEMO: unknown = JSON.parse(readFileSync('config/demo-state.json', 'utf8'));

function taskIds(doc: unknown): string[] {
  return parseStateDocument(doc)
    .state.frameworks.flatMap((f) => f.tasks.map((task) => task.id))
    .sort();
}

test('a v0 /master/state is parsed as parseState does', (t) => {
  const { state } = parseStateDocument(DEMO);
  t.true(state.agents.length > 0);
  t.not(state.leader, undefined);
});

test('a v1 GET_STATE answer gives the same running tasks, without a leader', (t) => {
  const v1 = { type: 'GET_STATE', get_state: toV1State(DEMO) };
  const v0Running = parseStateDocument(DEMO)
    .state.frameworks.flatMap((f) =>
      f.tasks.filter((task) => task.state === 'TASK_RUNNING').map((task) => task.id),
    )
    .sort();
  const fromV1 = taskIds(v1);
  for (const id of v0Running) t.true(fromV1.includes(id), id);
  t.is(parseStateDocument(v1).state.leader, undefined);
});

const REFUSED: readonly (readonly [string, unknown, string])[] = [
  ['an empty object', {}, 'got an empty object'],
  ['an array', [], 'got an array'],
  ['null', null, 'got null'],
  ['a number', 5, 'got a number'],
  [
    'a Mesos-DNS config.json',
    { zk: 'zk://h:2181/mesos', masters: [], refreshSeconds: 60, ttl: 60 },
    "got an object with 'zk', 'masters', 'refreshSeconds', ...",
  ],
  [
    'another v1 answer',
    { type: 'GET_AGENTS', get_agents: {} },
    "got an object with 'type', 'get_agents'",
  ],
];

for (const [title, doc, got] of REFUSED) {
  test(`refuses ${title}, saying what a state is`, (t) => {
    const error = t.throws(() => parseStateDocument(doc), { instanceOf: StateParseError });
    t.is(error.message, `not a Mesos state: ${got}; ${EXPECTED_STATE}`);
  });
}

test('parseJsonText gives the line and column of a syntax error', (t) => {
  const error = t.throws(() => parseJsonText('{\n  "slaves": [,]\n}'), {
    instanceOf: StateSyntaxError,
  });
  if (!(error instanceof StateSyntaxError)) return;
  t.is(
    `${String(error.line)}:${String(error.column)} ${error.message}`,
    "2:14 invalid JSON: Unexpected token ','",
  );
});
