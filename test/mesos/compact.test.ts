import test from 'ava';
import { TaskCompactor, trimStatuses } from '../../src/mesos/compact.js';
import type { Task } from '../../src/mesos/types.js';
import { StreamModel } from '../../src/mesos/index.js';
import type { V1Snapshot } from '../../src/mesos/v1.js';
import {
  agent,
  discovery,
  docker,
  labelStatus,
  netinfoStatus,
  status,
  task,
} from '../../support/state-builder.js';

/** A task of app `name` with every part the compactor shares, its address and ports its own. */
function full(name: string, n: number, overrides: Partial<Task> = {}): Task {
  return task(name, `ag-S${String(n % 3)}`, {
    id: `${name}.${String(n)}`,
    frameworkId: 'fw-1',
    statuses: [
      status({ state: 'TASK_STARTING', timestamp: 1 }),
      {
        ...netinfoStatus([`10.0.0.${String(n)}`, `fd00::${String(n)}`], 2),
        labels: [{ key: 'k', value: 'v' }],
        healthy: n % 2 === 0,
      },
    ],
    ports: [{ begin: 31000 + (n % 2), end: 31000 + (n % 2) }],
    discovery: discovery(name, [{ number: 80, protocol: 'tcp', name: 'http' }]),
    container: docker('BRIDGE', [{ host: 31000, container: 80 }]),
    ...overrides,
  });
}

/** What compacting `t` must keep: everything, with the latest running status only. */
function kept(t: Task): Task {
  return { ...t, statuses: trimStatuses(t.statuses) };
}

test('a compacted task equals the parsed one but for the statuses the records do not read', (t) => {
  const c = new TaskCompactor();
  const tasks = [
    full('web', 1),
    full('web', 2),
    full('db', 3, { state: 'TASK_STAGING', statuses: [] }),
    full('web', 4, { ports: [], discovery: undefined, container: undefined }),
    full('web', 5, {
      ports: [
        { begin: 1, end: 2 },
        { begin: 5, end: 5 },
      ],
    }),
    full('web', 6, { statuses: [labelStatus([{ key: 'a', value: 'b' }], 3)] }),
  ];
  for (const one of tasks) t.deepEqual(c.task(one), kept(one));
});

test('the parts a task shares with the last task of its app are one object', (t) => {
  const c = new TaskCompactor();
  const [a, b] = [c.task(full('web', 1)), c.task(full('web', 2))];
  t.is(a.discovery, b.discovery);
  t.is(a.container, b.container);
  t.is(a.statuses[0]?.labels, b.statuses[0]?.labels);
  t.not(a.statuses[0]?.networkInfos, b.statuses[0]?.networkInfos, 'addresses are per task');
  t.is(a.frameworkId, b.frameworkId);
  // Another app, or the same app with other parts, gets its own.
  const other = c.task(full('db', 3));
  t.not(other.discovery, a.discovery);
  const moved = c.task(
    full('web', 4, { container: docker('BRIDGE', [{ host: 31001, container: 80 }]) }),
  );
  t.not(moved.container, a.container);
  t.deepEqual(moved.container?.portMappings[0]?.hostPort, 31001);
  t.is(moved.discovery, a.discovery);
  const renamed = c.task(full('web', 5, { discovery: discovery('web', [{ number: 81 }]) }));
  t.not(renamed.discovery, a.discovery);
  t.is(renamed.discovery?.ports[0]?.number, 81);
});

test('one port range is shared by every task that has it, several are copied', (t) => {
  const c = new TaskCompactor();
  const one = c.task(full('web', 1)).ports;
  t.is(c.task(full('db', 3)).ports, one, 'the same range, another app');
  t.not(c.task(full('web', 2)).ports, one);
  const several = [
    { begin: 1, end: 2 },
    { begin: 5, end: 5 },
  ];
  const copied = c.task(full('web', 7, { ports: several })).ports;
  t.deepEqual(copied, several);
  t.not(copied, several);
});

test('a bounded compactor that starts again still compacts every task right', (t) => {
  const c = new TaskCompactor(2);
  for (let n = 0; n < 20; n++) {
    const one = full(`app-${String(n % 5)}`, n, {
      ports: [{ begin: n, end: n + 1 }],
      discovery: discovery(`app-${String(n % 5)}`, [{ number: n }]),
    });
    t.deepEqual(c.task(one), kept(one));
  }
});

test('the stream model keeps the tasks of events compacted', (t) => {
  const m = new StreamModel();
  const snapshot: V1Snapshot = {
    agents: [agent('ag-S0', '10.0.0.1'), agent('ag-S1', '10.0.0.2'), agent('ag-S2', '10.0.0.3')],
    frameworks: [{ id: 'fw-1', name: 'marathon', pid: undefined, hostname: 'm1' }],
    tasks: [],
    recoveredAgentIds: [],
  };
  m.reset(snapshot);
  m.apply({ type: 'TASK_ADDED', task: full('web', 1) }, 1);
  m.apply({ type: 'TASK_ADDED', task: full('web', 2) }, 1);
  const [a, b] = [m.task('fw-1', 'web.1'), m.task('fw-1', 'web.2')];
  t.deepEqual(a, kept(full('web', 1)));
  t.is(a?.discovery, b?.discovery);
  t.is(a?.statuses.length, 1);
  m.apply(
    {
      type: 'TASK_UPDATED',
      frameworkId: 'fw-1',
      taskId: 'web.1',
      agentId: 'ag-S1',
      state: 'TASK_RUNNING',
      status: netinfoStatus(['10.0.0.99'], 9),
      statusProblem: undefined,
    },
    2,
  );
  const now = m.task('fw-1', 'web.1');
  t.deepEqual(now?.statuses, [netinfoStatus(['10.0.0.99'], 9)]);
  t.is(now?.discovery, b?.discovery);
});
