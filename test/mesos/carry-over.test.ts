// Per-agent carry-over after a leader change (src/mesos/carry-over.ts): which agents are carried,
// what ends a carry, and the state that is served meanwhile.
import test from 'ava';
import { CarryOver, PackedView, logCarry } from '../../src/mesos/index.js';
import type { State, Task } from '../../src/mesos/index.js';

const HOLD = 600_000;

function task(id: string, agentId: string, state = 'TASK_RUNNING', frameworkId = 'F1'): Task {
  return {
    id,
    name: id.split('.')[0] ?? id,
    frameworkId,
    agentId,
    state,
    statuses: [
      { state: 'TASK_STARTING', timestamp: 1, labels: [], networkInfos: [], healthy: undefined },
      { state: 'TASK_RUNNING', timestamp: 2, labels: [], networkInfos: [], healthy: undefined },
    ],
    ports: [],
    discovery: undefined,
    container: undefined,
  };
}

/** A state with `agents` registered and `tasks` (framework F1 unless a task says otherwise). */
function state(
  agents: readonly string[],
  tasks: readonly Task[],
  extra: Partial<Pick<State, 'recoveredAgentIds' | 'removedAgentIds'>> = {},
  frameworks: readonly string[] = ['F1'],
): State {
  return {
    leader: undefined,
    agents: agents.map((id) => ({
      id,
      hostname: id,
      pid: { id: 'slave(1)', host: '10.0.0.1', port: 5051 },
    })),
    frameworks: frameworks.map((id) => ({
      id,
      name: `fw-${id}`,
      pid: undefined,
      hostname: '',
      tasks: tasks.filter((t) => t.frameworkId === id),
    })),
    ...extra,
  };
}

const FULL = state(
  ['S0', 'S1', 'S2'],
  [task('a.0', 'S0'), task('b.1', 'S1'), task('c.2', 'S2'), task('d.2', 'S2', 'TASK_STAGING')],
);

/** Task ids served, sorted. */
const ids = (s: State): string[] => s.frameworks.flatMap((fw) => fw.tasks.map((t) => t.id)).sort();
const agentIds = (s: State): string[] => s.agents.map((a) => a.id).sort();

test('without a leader change nothing is carried: an agent the leader stops listing is gone', (t) => {
  const carry = new CarryOver();
  const r = carry.apply(state(['S0'], [task('a.0', 'S0')]), FULL, false, 0, HOLD);
  t.deepEqual(ids(r.state), ['a.0']);
  t.deepEqual(r.facts, { agents: 0, tasks: 0, since: undefined });
});

test('after a leader change, agents not registered keep their running tasks', (t) => {
  const carry = new CarryOver();
  // S1 is listed as recovered, S2 not at all; S0 re-registered with one task gone.
  const next = state(['S0'], [], { recoveredAgentIds: ['S1'] });
  const r = carry.apply(next, FULL, true, 1000, HOLD);
  t.deepEqual(
    ids(r.state),
    ['b.1', 'c.2'],
    'running tasks of S1 and S2; S0 is what the master says',
  );
  t.deepEqual(agentIds(r.state), ['S0', 'S1', 'S2']);
  t.deepEqual(r.started, { agents: 2, tasks: 2 });
  t.deepEqual(r.facts, { agents: 2, tasks: 2, since: 1000 });
});

test('an agent that re-registers is the master view from then on (a task killed meanwhile goes)', (t) => {
  const carry = new CarryOver();
  carry.apply(state([], [], { recoveredAgentIds: ['S0', 'S1', 'S2'] }), FULL, true, 0, HOLD);
  // S1 is back without b.1 (killed while away); S2 is back with c.2.
  const r = carry.apply(
    state(['S1', 'S2'], [task('c.2', 'S2')], { recoveredAgentIds: ['S0'] }),
    undefined,
    false,
    500,
    HOLD,
  );
  t.deepEqual(ids(r.state), ['a.0', 'c.2']);
  t.deepEqual(r.ended, { reregistered: 2, removed: 0, expired: 0 });
  t.deepEqual(r.facts, { agents: 1, tasks: 1, since: 0 });
  const last = carry.apply(
    state(['S0', 'S1', 'S2'], [task('c.2', 'S2')]),
    undefined,
    false,
    900,
    HOLD,
  );
  t.deepEqual(ids(last.state), ['c.2']);
  t.deepEqual(last.episode, { reregistered: 3, removed: 0, expired: 0 });
  t.is(last.facts.agents, 0);
});

test('a recovered agent that leaves recovered_slaves without registering was removed', (t) => {
  const carry = new CarryOver();
  carry.apply(state(['S0', 'S2'], [], { recoveredAgentIds: ['S1'] }), FULL, true, 0, HOLD);
  const r = carry.apply(
    state(['S0', 'S2'], [], { recoveredAgentIds: [] }),
    undefined,
    false,
    1,
    HOLD,
  );
  t.deepEqual(ids(r.state), []);
  t.deepEqual(r.ended, { reregistered: 0, removed: 1, expired: 0 });
});

test('AGENT_REMOVED (removedAgentIds) ends a carry; an unmentioned agent stays until maxHold', (t) => {
  const carry = new CarryOver();
  carry.apply(state(['S0'], []), FULL, true, 0, HOLD);
  let r = carry.apply(state(['S0'], [], { removedAgentIds: ['S1'] }), undefined, false, 10, HOLD);
  t.deepEqual(ids(r.state), ['c.2']);
  t.is(r.ended.removed, 1);
  r = carry.apply(state(['S0'], []), undefined, false, HOLD - 1, HOLD);
  t.deepEqual(ids(r.state), ['c.2'], 'still carried just before maxHold');
  t.is(carry.nextExpiry(HOLD), HOLD);
  r = carry.apply(state(['S0'], []), undefined, false, HOLD, HOLD);
  t.deepEqual(ids(r.state), []);
  t.deepEqual(r.ended, { reregistered: 0, removed: 0, expired: 1 });
  t.deepEqual(r.expiredIds, ['S2']);
  t.is(carry.nextExpiry(HOLD), undefined);
});

test('a second leader change keeps carrying what is still missing, from the first start', (t) => {
  const carry = new CarryOver();
  const first = carry.apply(
    state(['S0'], [], { recoveredAgentIds: ['S1', 'S2'] }),
    FULL,
    true,
    0,
    HOLD,
  );
  // Another failover before anyone re-registered: the served state (with the carried) is previous.
  const r = carry.apply(state([], []), first.state, true, 5000, HOLD);
  t.deepEqual(ids(r.state), ['b.1', 'c.2']);
  t.deepEqual(r.started, { agents: 1, tasks: 0 }, 'S0 (no running task) starts now');
  t.is(r.facts.since, 0, 'S1 and S2 keep their first start');
});

test('frameworks the new master does not know yet are carried with their tasks', (t) => {
  const carry = new CarryOver();
  const previous = state(['S0'], [task('a.0', 'S0'), task('x.0', 'S0', 'TASK_RUNNING', 'F2')], {}, [
    'F1',
    'F2',
  ]);
  const r = carry.apply(state([], [], {}, ['F1']), previous, true, 0, HOLD);
  t.deepEqual(
    r.state.frameworks.map((fw) => [fw.id, fw.name, fw.tasks.map((x) => x.id)]),
    [
      ['F1', 'fw-F1', ['a.0']],
      ['F2', 'fw-F2', ['x.0']],
    ],
  );
});

test('a task the master lists on a carried agent is not repeated', (t) => {
  const carry = new CarryOver();
  const r = carry.apply(state([], [task('b.1', 'S1')]), FULL, true, 0, HOLD);
  t.deepEqual(ids(r.state), ['a.0', 'b.1', 'c.2']);
});

test('PackedView keeps agents and running tasks with the one status records use', (t) => {
  const view = PackedView.of(FULL).unpack();
  t.deepEqual(ids(view), ['a.0', 'b.1', 'c.2']);
  t.deepEqual(
    view.frameworks[0]?.tasks[0]?.statuses.map((s) => s.state),
    ['TASK_RUNNING'],
  );
  t.deepEqual(agentIds(view), ['S0', 'S1', 'S2']);
  const running = FULL.frameworks[0]?.tasks
    .filter((x) => x.state === 'TASK_RUNNING')
    .map((x) => ({ ...x, statuses: x.statuses.filter((s) => s.state === 'TASK_RUNNING') }));
  t.deepEqual(view.frameworks[0]?.tasks, running, 'the tasks as they were, fields included');
  const carry = (previous: State): State =>
    new CarryOver().apply(state(['S0'], []), previous, true, 0, HOLD).state;
  t.deepEqual(
    carry(view),
    carry(state(['S0', 'S1', 'S2'], running ?? [])),
    'the same carry-over as the state itself',
  );
});

test('logCarry: one warning when carrying starts, one info line when the last agent is back', (t) => {
  const lines: string[] = [];
  const logger = {
    error: (m: string) => lines.push(`error ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    info: (m: string) => lines.push(`info ${m}`),
    debug: (m: string) => lines.push(`debug ${m}`),
  };
  const carry = new CarryOver();
  logCarry(logger, carry.apply(state([], []), FULL, true, 0, HOLD), HOLD);
  logCarry(logger, carry.apply(state(['S0'], []), undefined, false, 1, HOLD), HOLD);
  logCarry(logger, carry.apply(state(['S0'], []), undefined, false, 2, HOLD), HOLD);
  logCarry(logger, carry.apply(state(['S0', 'S1', 'S2'], []), undefined, false, 3, HOLD), HOLD);
  t.deepEqual(
    lines.map((l) => l.split(' ').slice(0, 4).join(' ')),
    ['warn the Mesos leader', 'debug carried agents resolved', 'info every carried agent'],
  );
});
