import test from 'ava';
import type { Task } from '../../src/mesos/index.js';
import { StreamModel } from '../../src/mesos/index.js';
import type { FrameworkInfo, MesosEvent, V1Snapshot } from '../../src/mesos/v1.js';
import { agent, docker, netinfoStatus, status, task } from '../../support/state-builder.js';

const FW: FrameworkInfo = { id: 'fw-1', name: 'marathon', pid: undefined, hostname: 'm1' };
const AGENT = agent('ag-S0', '10.0.0.1');

function snapshot(tasks: readonly Task[] = []): V1Snapshot {
  return { agents: [AGENT], frameworks: [FW], tasks, recoveredAgentIds: [] };
}

function web(id: string, overrides: Partial<Task> = {}): Task {
  return task('web', 'ag-S0', { id, frameworkId: 'fw-1', ...overrides });
}

function updated(taskId: string, state: string, ip?: string, at = 10): MesosEvent {
  return {
    type: 'TASK_UPDATED',
    frameworkId: 'fw-1',
    taskId,
    agentId: 'ag-S0',
    state,
    status:
      ip === undefined ? status({ state, timestamp: at }) : { ...netinfoStatus([ip], at), state },
    statusProblem: undefined,
  };
}

function tasksOf(model: StreamModel): Task[] {
  return model.toState(undefined).frameworks.flatMap((f) => [...f.tasks]);
}

test('TASK_ADDED then TASK_UPDATED: the event state applies and the status brings the address', (t) => {
  const m = new StreamModel();
  m.reset(snapshot());
  t.true(m.apply({ type: 'TASK_ADDED', task: web('w1', { state: 'TASK_STAGING' }) }, 1).changed);
  const applied = m.apply(updated('w1', 'TASK_RUNNING', '172.17.0.2', 12.5), 2);
  t.true(applied.changed);
  t.is(applied.statusAtMs, 12_500);
  const [w1] = tasksOf(m);
  t.is(w1?.state, 'TASK_RUNNING');
  t.deepEqual(w1?.statuses.at(-1)?.networkInfos, [{ ipAddresses: ['172.17.0.2'] }]);
});

test('a terminal state drops the task; TASK_UNREACHABLE keeps it, not running', (t) => {
  const m = new StreamModel();
  m.reset(snapshot([web('w1'), web('w2')]));
  m.apply(updated('w1', 'TASK_KILLED'), 1);
  m.apply(updated('w2', 'TASK_UNREACHABLE'), 1);
  t.deepEqual(
    tasksOf(m).map((x) => `${x.id} ${x.state}`),
    ['w2 TASK_UNREACHABLE'],
  );
  t.is(m.tasks, 1);
  // An update for a task never seen is no change, and flagged unless it is terminal.
  t.deepEqual(m.apply(updated('zz', 'TASK_RUNNING'), 1).unknownTask, true);
  t.deepEqual(m.apply(updated('zz', 'TASK_FINISHED'), 1).unknownTask, false);
});

test('statuses are trimmed to the latest running one and the last three', (t) => {
  const m = new StreamModel();
  m.reset(snapshot([web('w1', { statuses: [netinfoStatus(['172.17.0.1'], 100)] })]));
  for (let i = 0; i < 10; i++) m.apply(updated('w1', 'TASK_RUNNING', undefined, 200 + i), 1);
  const statuses = tasksOf(m)[0]?.statuses ?? [];
  t.true(statuses.length <= 4);
  t.is(statuses.at(-1)?.timestamp, 209);
});

test('framework and agent events; tasks of unknown frameworks wait for them', (t) => {
  const m = new StreamModel();
  m.reset(snapshot([web('w1')]));
  const other: FrameworkInfo = { id: 'fw-2', name: 'chronos', pid: undefined, hostname: '' };
  m.apply({ type: 'TASK_ADDED', task: task('job', 'ag-S0', { id: 'j1', frameworkId: 'fw-2' }) }, 1);
  t.deepEqual(
    m.toState(undefined).frameworks.map((f) => f.id),
    ['fw-1'],
  );
  m.apply({ type: 'FRAMEWORK_ADDED', framework: other }, 1);
  t.deepEqual(
    m.toState(undefined).frameworks.map((f) => `${f.id}:${String(f.tasks.length)}`),
    ['fw-1:1', 'fw-2:1'],
  );
  m.apply({ type: 'FRAMEWORK_REMOVED', frameworkId: 'fw-1' }, 1);
  t.is(m.tasks, 1);
  m.apply({ type: 'AGENT_REMOVED', agentId: 'ag-S0' }, 1);
  t.deepEqual(m.toState(undefined).agents, []);
  const pids = new Map([['fw-2', { id: 'scheduler', host: '10.0.0.9', port: 8080 }]]);
  t.deepEqual(m.toState(undefined, pids).frameworks[0]?.pid, pids.get('fw-2'));
});

test('a snapshot that repeats a task id keeps both copies', (t) => {
  const m = new StreamModel();
  m.reset(snapshot([web('w1'), web('w1', { name: 'other' })]));
  t.deepEqual(
    tasksOf(m).map((x) => x.name),
    ['web', 'other'],
  );
});

test('compareWith: drift in tasks, agents and frameworks; tasks the stream just touched are skipped', (t) => {
  const m = new StreamModel();
  m.reset(snapshot([web('w1', { statuses: [netinfoStatus(['172.17.0.1'])] }), web('w2')]));
  t.deepEqual(
    m.compareWith(
      snapshot([web('w1', { statuses: [netinfoStatus(['172.17.0.1'])] }), web('w2')]),
      0,
    ),
    {
      tasks: 0,
      agents: 0,
      frameworks: 0,
      examples: [],
    },
  );
  const master = snapshot([web('w1', { statuses: [netinfoStatus(['172.17.0.9'])] }), web('w3')]);
  const drift = m.compareWith({ ...master, agents: [], frameworks: [] }, 0);
  t.is(drift.tasks, 3, 'w1 moved, w3 missing, w2 only in the stream');
  t.is(drift.agents, 1);
  t.is(drift.frameworks, 1);
  t.true(drift.examples.length > 0);
  // Touched at time 5 (after the request at time 3): not drift.
  m.apply(updated('w1', 'TASK_RUNNING', '172.17.0.9'), 5);
  t.is(m.compareWith(master, 3).tasks, 2);
});

test('compareWith: other port mappings are drift (they pick the address views)', (t) => {
  const mapped = (host: number): Task =>
    web('w1', {
      statuses: [netinfoStatus(['172.17.0.1'])],
      container: docker('BRIDGE', [{ host, container: 80 }]),
    });
  const m = new StreamModel();
  m.reset(snapshot([mapped(31001)]));
  t.is(m.compareWith(snapshot([mapped(31001)]), 0).tasks, 0);
  const drift = m.compareWith(snapshot([mapped(31002)]), 0);
  t.is(drift.tasks, 1);
  t.regex(drift.examples[0] ?? '', /ports 31001:80\/tcp.*ports 31002:80\/tcp/);
});

test('compareWith reads the latest running status by time, as the records do, not the last listed', (t) => {
  const statuses = [netinfoStatus(['172.17.0.2'], 20), netinfoStatus(['172.17.0.1'], 10)];
  const m = new StreamModel();
  m.reset(snapshot([web('w1', { statuses })]));
  t.is(m.compareWith(snapshot([web('w1', { statuses })]), 0).tasks, 0);
  t.deepEqual(
    tasksOf(m)[0]?.statuses.map((s) => s.timestamp),
    [20],
  );
});

test('compareWith counts a health the stream missed as drift only when health is in the records', (t) => {
  const healthy = (value: boolean | undefined): Task =>
    web('w1', { statuses: [{ ...netinfoStatus(['172.17.0.1']), healthy: value }] });
  for (const withHealth of [false, true]) {
    const m = new StreamModel({ withHealth });
    m.reset(snapshot([healthy(true)]));
    const drift = m.compareWith(snapshot([healthy(false)]), 0);
    t.is(drift.tasks, withHealth ? 1 : 0, `withHealth: ${String(withHealth)}`);
    if (withHealth) t.regex(drift.examples[0] ?? '', /healthy=true, master .*healthy=false/);
    t.is(m.compareWith(snapshot([healthy(true)]), 0).tasks, 0);
  }
});

test('resetWithChanges: a snapshot from the same master is told as the tasks that differ', (t) => {
  const m = new StreamModel();
  const w1 = web('w1', { statuses: [netinfoStatus(['172.17.0.2'])] });
  const w2 = web('w2', { statuses: [netinfoStatus(['172.17.0.3'])] });
  m.reset(snapshot([w1, w2]));
  // The same snapshot: nothing differs.
  const same = m.resetWithChanges(snapshot([w1, w2]));
  t.true(same.onlyTasks);
  t.is(same.touched.size, 0);
  // w2 moved, w1 is gone, w3 is new: each is touched, with the task as it was.
  const moved = web('w2', { statuses: [netinfoStatus(['172.17.0.9'])] });
  const w3 = web('w3', { statuses: [netinfoStatus(['172.17.0.4'])] });
  const changed = m.resetWithChanges(snapshot([moved, w3]));
  t.true(changed.onlyTasks);
  t.deepEqual(
    [...changed.touched].map(([id, x]) => `${id} ${x.frameworkId} ${x.before?.id ?? 'new'}`).sort(),
    ['w1 fw-1 w1', 'w2 fw-1 w2', 'w3 fw-1 new'],
  );
  t.deepEqual(
    tasksOf(m).map((x) => x.id),
    ['w2', 'w3'],
    'the model is the snapshot',
  );
  // Another agent (or framework) is not only tasks: the whole state goes.
  const other = { ...snapshot([moved, w3]), agents: [AGENT, agent('ag-S1', '10.0.0.2')] };
  t.false(m.resetWithChanges(other).onlyTasks);
  t.false(m.resetWithChanges({ ...other, frameworks: [] }).onlyTasks);
});

test('resetWithChanges: a running task on an agent the snapshot lacks makes it whole', (t) => {
  const m = new StreamModel();
  m.reset(snapshot([web('w1')]));
  t.false(m.resetWithChanges(snapshot([web('w1'), web('w2', { agentId: 'ag-gone' })])).onlyTasks);
});
