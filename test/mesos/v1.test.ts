// The v1 operator API parsers: get_state snapshots, stream events and GET_MASTER
// (docs/mesos-api.md 3; field names from include/mesos/v1/{mesos,master/master}.proto).
import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import {
  DEFAULT_HEARTBEAT_SECONDS,
  MAX_PROBLEMS,
  RecordIoDecoder,
  parseState,
  parseV1Event,
  parseV1Master,
  parseV1State,
} from '../../src/mesos/index.js';
import type { FrameworkInfo, MesosEvent, Task } from '../../src/mesos/index.js';
import { readFixture } from '../../support/state-builder.js';
import { isTerminalState, toV1State } from '../../support/v1-state.js';

const FW = 'b1e0c7d2-4b1a-4e36-9f0e-2c8a5d7f1a10-0001';
const S0 = 'b1e0c7d2-4b1a-4e36-9f0e-2c8a5d7f1a10-S0';
const S1 = 'b1e0c7d2-4b1a-4e36-9f0e-2c8a5d7f1a10-S1';
const WEB = 'web.3f9a1c2e-2a6b-11ef-9c1d-0242ac110002';

/** A GET_STATE `get_state` (docs/mesos-api.md 3.2) with one agent, one framework, one task. */
function referenceGetState(): Record<string, unknown> {
  return {
    get_agents: {
      agents: [
        {
          agent_info: { id: { value: S0 }, hostname: '10.0.1.21', port: 5051, resources: [] },
          active: true,
          deactivated: false,
          version: '1.11.0',
          pid: 'slave(1)@10.0.1.21:5051',
          registered_time: { nanoseconds: 1716999010500000000 },
        },
      ],
      recovered_agents: [],
    },
    get_frameworks: {
      frameworks: [
        {
          framework_info: {
            id: { value: FW },
            name: 'marathon',
            user: 'root',
            hostname: 'm1.cluster.internal',
            webui_url: 'http://m1.cluster.internal:8080',
            failover_timeout: 604800.0,
            checkpoint: true,
            role: '*',
          },
          active: true,
          connected: true,
          recovered: false,
        },
      ],
      completed_frameworks: [],
    },
    get_tasks: {
      tasks: [
        {
          name: 'web',
          task_id: { value: WEB },
          framework_id: { value: FW },
          agent_id: { value: S0 },
          state: 'TASK_RUNNING',
          status_update_state: 'TASK_RUNNING',
          resources: [
            {
              name: 'cpus',
              type: 'SCALAR',
              scalar: { value: 0.5 },
              allocation_info: { role: '*' },
            },
            {
              name: 'ports',
              type: 'RANGES',
              ranges: { range: [{ begin: 31001, end: 31001 }] },
              allocation_info: { role: '*' },
            },
          ],
          statuses: [
            {
              task_id: { value: WEB },
              agent_id: { value: S0 },
              state: 'TASK_RUNNING',
              source: 'SOURCE_EXECUTOR',
              timestamp: 1717000102.73,
              container_status: {
                container_id: { value: '9a1f6c3e-8d2b-4c51-a7e0-5b3d2f1c9e84' },
                network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '172.17.0.3' }] }],
              },
            },
          ],
          labels: { labels: [{ key: 'HAPROXY_GROUP', value: 'internal' }] },
          discovery: {
            visibility: 'FRAMEWORK',
            name: 'web',
            ports: { ports: [{ number: 31001, name: 'http', protocol: 'tcp' }] },
          },
          container: {
            type: 'DOCKER',
            docker: {
              image: 'nginx:1.25',
              network: 'BRIDGE',
              port_mappings: [{ host_port: 31001, container_port: 80, protocol: 'tcp' }],
            },
          },
        },
      ],
      unreachable_tasks: [],
      completed_tasks: [],
    },
    get_executors: { executors: [] },
  };
}

/** The web task of the reference example as the narrow types hold it. */
const WEB_TASK: Task = {
  id: WEB,
  name: 'web',
  frameworkId: FW,
  agentId: S0,
  state: 'TASK_RUNNING',
  statuses: [
    {
      state: 'TASK_RUNNING',
      timestamp: 1717000102.73,
      labels: [],
      networkInfos: [{ ipAddresses: ['172.17.0.3'] }],
      healthy: undefined,
    },
  ],
  ports: [{ begin: 31001, end: 31001 }],
  discovery: { name: 'web', ports: [{ number: 31001, protocol: 'tcp', name: 'http' }] },
  container: {
    type: 'DOCKER',
    dockerNetwork: 'BRIDGE',
    portMappings: [{ hostPort: 31001, containerPort: 80, protocol: 'tcp' }],
  },
};

const MARATHON: FrameworkInfo = {
  id: FW,
  name: 'marathon',
  pid: undefined,
  hostname: 'm1.cluster.internal',
};

const NO_PROBLEMS = { skippedAgents: 0, skippedFrameworks: 0, skippedTasks: 0, problems: [] };

/** A well-formed v1 task with the given overrides. */
function v1Task(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'web',
    task_id: { value: 'web.1' },
    framework_id: { value: 'fw-1' },
    agent_id: { value: 'agent-S0' },
    state: 'TASK_RUNNING',
    resources: [],
    statuses: [],
    ...overrides,
  };
}

/** A well-formed v1 agent with the given overrides. */
function v1Agent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    agent_info: { id: { value: 'agent-S0' }, hostname: 'a0', port: 5051 },
    active: true,
    pid: 'slave(1)@10.0.1.1:5051',
    ...overrides,
  };
}

function taskOf(event: MesosEvent): Task | undefined {
  return event.type === 'TASK_ADDED' ? event.task : undefined;
}

// ---- parseV1State --------------------------------------------------------------------------

test('parseV1State reads the GET_STATE example of the reference', (t) => {
  const { state, report } = parseV1State(referenceGetState());
  t.deepEqual(report, NO_PROBLEMS);
  t.deepEqual(state, {
    agents: [
      { id: S0, hostname: '10.0.1.21', pid: { id: 'slave(1)', host: '10.0.1.21', port: 5051 } },
    ],
    frameworks: [MARATHON],
    tasks: [WEB_TASK],
    recoveredAgentIds: [],
  });
});

const NOT_OBJECTS: readonly [string, unknown][] = [
  ['null', null],
  ['an array', []],
  ['a string', 'get_state'],
  ['undefined', undefined],
];

for (const [what, doc] of NOT_OBJECTS) {
  test(`parseV1State throws StateParseError for ${what}`, (t) => {
    const err = t.throws(() => parseV1State(doc), { instanceOf: StateParseError });
    t.is(err.code, 'ERR_STATE_PARSE');
    t.regex(err.message, /get_state is not a JSON object/);
  });
}

test('parseV1State returns an empty snapshot for an empty object', (t) => {
  t.deepEqual(parseV1State({}), {
    state: { agents: [], frameworks: [], tasks: [], recoveredAgentIds: [] },
    report: NO_PROBLEMS,
  });
});

test('parseV1State reads only get_tasks.tasks, not unreachable, completed or pending tasks', (t) => {
  const { state } = parseV1State({
    get_tasks: {
      pending_tasks: [v1Task({ task_id: { value: 'pending' } })],
      tasks: [v1Task({ task_id: { value: 'launched' } })],
      unreachable_tasks: [v1Task({ task_id: { value: 'unreachable' } })],
      completed_tasks: [v1Task({ task_id: { value: 'done' }, state: 'TASK_FINISHED' })],
    },
  });
  t.deepEqual(
    state.tasks.map((x) => x.id),
    ['launched'],
  );
});

test('parseV1State skips malformed tasks, keeps the rest and reports where', (t) => {
  const { state, report } = parseV1State({
    get_tasks: {
      tasks: [
        v1Task({ task_id: { value: 'a' } }),
        v1Task({ task_id: 'b' }),
        v1Task({ task_id: { value: 'c' }, agent_id: undefined }),
        v1Task({ task_id: { value: 'd' }, framework_id: { id: 'fw' } }),
        'not a task',
        v1Task({
          task_id: { value: 'f' },
          resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 5, end: 3 }] } }],
        }),
        v1Task({ task_id: { value: 'g' }, statuses: [{ state: 'TASK_RUNNING', timestamp: 'x' }] }),
        v1Task({ task_id: { value: 'h' } }),
      ],
    },
  });
  t.deepEqual(
    state.tasks.map((x) => x.id),
    ['a', 'h'],
  );
  t.is(report.skippedTasks, 6);
  t.deepEqual(report.problems, [
    'get_tasks.tasks[1]: task_id: expected an object, got "b"',
    'get_tasks.tasks[2]: agent_id: missing',
    'get_tasks.tasks[3]: framework_id.value: missing',
    'get_tasks.tasks[4]: task: expected an object, got "not a task"',
    'get_tasks.tasks[5]: resources[0].ranges: bad port range 5-3',
    'get_tasks.tasks[6]: timestamp: expected a number, got "x"',
  ]);
});

test('parseV1State skips malformed agents and frameworks and counts them', (t) => {
  const { state, report } = parseV1State({
    get_agents: {
      agents: [
        v1Agent(),
        v1Agent({ pid: 'slave(1)@10.0.1.2' }),
        v1Agent({ agent_info: { hostname: 'no-id' } }),
        { pid: 'slave(1)@10.0.1.3:5051' },
        7,
      ],
      recovered_agents: [{ id: { value: 'agent-S9' }, hostname: 'a9' }, { hostname: 'no id' }],
    },
    get_frameworks: {
      frameworks: [
        { framework_info: { id: { value: 'f' }, name: 'marathon' } },
        { framework_info: { name: 'no id' } },
        { active: true },
      ],
    },
  });
  t.deepEqual(
    state.agents.map((a) => a.id),
    ['agent-S0'],
  );
  t.deepEqual(state.recoveredAgentIds, ['agent-S9']);
  t.deepEqual(state.frameworks, [{ id: 'f', name: 'marathon', pid: undefined, hostname: '' }]);
  t.is(report.skippedAgents, 5);
  t.is(report.skippedFrameworks, 2);
  t.deepEqual(report.problems, [
    'get_agents.agents[1]: pid: not id@host:port: "slave(1)@10.0.1.2"',
    'get_agents.agents[2]: agent_info.id: missing',
    'get_agents.agents[3]: agent_info: missing',
    'get_agents.agents[4]: agent: expected an object, got number',
    'get_agents.recovered_agents[1]: id: missing',
    'get_frameworks.frameworks[1]: framework_info.id: missing',
    'get_frameworks.frameworks[2]: framework_info: missing',
  ]);
});

test('parseV1State tolerates sections and lists of the wrong type', (t) => {
  const { state, report } = parseV1State({
    get_agents: [],
    get_frameworks: { frameworks: 'none' },
    get_tasks: { tasks: {} },
  });
  t.deepEqual(state, { agents: [], frameworks: [], tasks: [], recoveredAgentIds: [] });
  t.deepEqual(report.problems, [
    'get_state: get_agents: expected an object, got an array',
    'get_frameworks: frameworks: expected an array, got "none"',
    'get_tasks: tasks: expected an array, got object',
  ]);
});

test(`parseV1State caps the problem list at ${MAX_PROBLEMS} but counts every skipped task`, (t) => {
  const bad = Array.from({ length: 30 }, () => v1Task({ state: 7 }));
  const { state, report } = parseV1State({ get_tasks: { tasks: [...bad, v1Task()] } });
  t.is(state.tasks.length, 1);
  t.is(report.skippedTasks, 30);
  t.is(report.problems.length, MAX_PROBLEMS);
});

test('parseV1State builds an agent pid from agent_info when pid is absent or empty', (t) => {
  const { state, report } = parseV1State({
    get_agents: {
      agents: [
        v1Agent({ pid: undefined }),
        v1Agent({
          agent_info: { id: { value: 'v6' }, hostname: '2001:db8::7', port: 5052 },
          pid: '',
        }),
        v1Agent({ agent_info: { id: { value: 'noport' }, hostname: 'a1.example' }, pid: null }),
        v1Agent({ agent_info: { id: { value: 'nohost' }, port: 5051 }, pid: undefined }),
        v1Agent({ agent_info: { id: { value: 'badport' }, hostname: 'a', port: 70000 } }),
      ],
    },
  });
  t.deepEqual(state.agents, [
    { id: 'agent-S0', hostname: 'a0', pid: { id: 'slave(1)', host: 'a0', port: 5051 } },
    { id: 'v6', hostname: '2001:db8::7', pid: { id: 'slave(1)', host: '2001:db8::7', port: 5052 } },
    {
      id: 'noport',
      hostname: 'a1.example',
      pid: { id: 'slave(1)', host: 'a1.example', port: 5051 },
    },
    // The pid wins over agent_info: its bad port does not matter.
    { id: 'badport', hostname: 'a', pid: { id: 'slave(1)', host: '10.0.1.1', port: 5051 } },
  ]);
  t.is(report.skippedAgents, 1);
  t.regex(report.problems[0] ?? '', /^get_agents\.agents\[3\]: no pid, and agent_info\.hostname/);
});

test('parseV1State reports a bad agent_info port when it must build the pid', (t) => {
  const { report } = parseV1State({
    get_agents: {
      agents: [
        v1Agent({ agent_info: { id: { value: 'x' }, hostname: 'a', port: 70000 }, pid: '' }),
      ],
    },
  });
  t.deepEqual(report.problems, ['get_agents.agents[0]: agent_info.port: bad port 70000']);
});

test('parseV1State reads ports from every ports resource, in order, and ignores others', (t) => {
  const { state } = parseV1State({
    get_tasks: {
      tasks: [
        v1Task({
          resources: [
            { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
            {
              name: 'ports',
              type: 'RANGES',
              ranges: {
                range: [
                  { begin: 31005, end: 31006 },
                  { begin: 31000, end: 31000 },
                ],
              },
              role: 'slave_public',
            },
            { name: 'disks', type: 'RANGES', ranges: { range: [{ begin: 1, end: 99999 }] } },
            { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 0, end: 65535 }] } },
            { name: 'ports', type: 'RANGES' },
          ],
        }),
      ],
    },
  });
  t.deepEqual(state.tasks[0]?.ports, [
    { begin: 31005, end: 31006 },
    { begin: 31000, end: 31000 },
    { begin: 0, end: 65535 },
  ]);
});

const BAD_RANGES: readonly [string, unknown, RegExp][] = [
  ['a range over 65535', { range: [{ begin: 65535, end: 65536 }] }, /bad port range 65535-65536/],
  ['a fractional bound', { range: [{ begin: 1.5, end: 2 }] }, /bad port range 1.5-2/],
  ['a string bound', { range: [{ begin: '1', end: 2 }] }, /bad port range "1"-2/],
  ['a missing end', { range: [{ begin: 1 }] }, /bad port range 1-undefined/],
  ['a range that is not an object', { range: [5] }, /resources\[0\]\.ranges\.range\[\]: expected/],
  ['ranges.range not an array', { range: {} }, /resources\[0\]\.ranges\.range: expected an array/],
  ['ranges not an object', 'x', /resources\[0\]\.ranges: expected an object/],
];

for (const [what, ranges, message] of BAD_RANGES) {
  test(`parseV1State skips a task whose ports resource has ${what}`, (t) => {
    const { state, report } = parseV1State({
      get_tasks: { tasks: [v1Task({ resources: [{ name: 'ports', type: 'RANGES', ranges }] })] },
    });
    t.is(state.tasks.length, 0);
    t.regex(report.problems[0] ?? '', message);
  });
}

test('parseV1State reads labels, health, IPv6 prefixes and container types like v0', (t) => {
  const { state, report } = parseV1State({
    get_tasks: {
      tasks: [
        v1Task({
          statuses: [
            {
              task_id: { value: 'web.1' },
              state: 'TASK_RUNNING',
              timestamp: 3.5,
              healthy: false,
              labels: { labels: [{ key: 'k', value: 'v' }, { key: 'empty' }] },
              container_status: {
                network_infos: [
                  {
                    name: 'dcos6',
                    labels: { labels: [{ key: 'n', value: '1' }] },
                    ip_addresses: [
                      { protocol: 'IPv4', ip_address: '9.0.2.5' },
                      { protocol: 'IPv6', ip_address: 'fd01:b::2:8000:0:2/64' },
                      { protocol: 'IPv6' },
                    ],
                  },
                ],
              },
            },
          ],
          container: {
            type: 'MESOS',
            mesos: { image: { type: 'DOCKER', docker: { name: 'postgres:16' } } },
          },
        }),
      ],
    },
  });
  t.deepEqual(report, NO_PROBLEMS);
  t.deepEqual(state.tasks[0]?.statuses, [
    {
      state: 'TASK_RUNNING',
      timestamp: 3.5,
      labels: [
        { key: 'k', value: 'v' },
        { key: 'empty', value: '' },
      ],
      networkInfos: [{ ipAddresses: ['9.0.2.5', 'fd01:b::2:8000:0:2/64'] }],
      healthy: false,
    },
  ]);
  t.deepEqual(state.tasks[0]?.container, { type: 'MESOS', dockerNetwork: '', portMappings: [] });
});

// ---- parseV1Event ----------------------------------------------------------------------------

test('parseV1Event reads SUBSCRIBED with its snapshot, report and heartbeat interval', (t) => {
  const getState = referenceGetState();
  const event = parseV1Event({
    type: 'SUBSCRIBED',
    subscribed: { get_state: getState, heartbeat_interval_seconds: 15 },
  });
  t.deepEqual(event, {
    type: 'SUBSCRIBED',
    snapshot: parseV1State(getState).state,
    report: NO_PROBLEMS,
    heartbeatSeconds: 15,
  });
});

test('parseV1Event defaults the SUBSCRIBED heartbeat interval and skips bad snapshot entries', (t) => {
  const event = parseV1Event({
    type: 'SUBSCRIBED',
    subscribed: { get_state: { get_tasks: { tasks: [v1Task(), 'bad'] } } },
  });
  if (event.type !== 'SUBSCRIBED') return t.fail(event.type);
  t.is(event.heartbeatSeconds, DEFAULT_HEARTBEAT_SECONDS);
  t.is(event.snapshot.tasks.length, 1);
  t.is(event.report.skippedTasks, 1);
});

test('parseV1Event reads TASK_ADDED', (t) => {
  const raw = (referenceGetState()['get_tasks'] as { tasks: unknown[] }).tasks[0];
  t.deepEqual(parseV1Event({ type: 'TASK_ADDED', task_added: { task: raw } }), {
    type: 'TASK_ADDED',
    task: WEB_TASK,
  });
  const staging = parseV1Event({
    type: 'TASK_ADDED',
    task_added: { task: v1Task({ state: 'TASK_STAGING', statuses: undefined }) },
  });
  t.is(taskOf(staging)?.state, 'TASK_STAGING');
  t.deepEqual(taskOf(staging)?.statuses, []);
});

test('parseV1Event reads AGENT_ADDED, AGENT_REMOVED and the framework events', (t) => {
  t.deepEqual(parseV1Event({ type: 'AGENT_ADDED', agent_added: { agent: v1Agent() } }), {
    type: 'AGENT_ADDED',
    agent: {
      id: 'agent-S0',
      hostname: 'a0',
      pid: { id: 'slave(1)', host: '10.0.1.1', port: 5051 },
    },
  });
  t.deepEqual(parseV1Event({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: S1 } } }), {
    type: 'AGENT_REMOVED',
    agentId: S1,
  });
  const framework = {
    framework_info: { id: { value: FW }, name: 'marathon', hostname: 'm1.cluster.internal' },
    active: true,
    connected: true,
    recovered: false,
  };
  t.deepEqual(parseV1Event({ type: 'FRAMEWORK_ADDED', framework_added: { framework } }), {
    type: 'FRAMEWORK_ADDED',
    framework: MARATHON,
  });
  t.deepEqual(parseV1Event({ type: 'FRAMEWORK_UPDATED', framework_updated: { framework } }), {
    type: 'FRAMEWORK_UPDATED',
    framework: MARATHON,
  });
  t.deepEqual(
    parseV1Event({
      type: 'FRAMEWORK_REMOVED',
      framework_removed: { framework_info: framework.framework_info },
    }),
    { type: 'FRAMEWORK_REMOVED', frameworkId: FW },
  );
});

test('parseV1Event reads HEARTBEAT and names event types DNS does not use', (t) => {
  t.deepEqual(parseV1Event({ type: 'HEARTBEAT' }), { type: 'HEARTBEAT' });
  t.deepEqual(parseV1Event({ type: 'OPERATION_UPDATED', operation_updated: {} }), {
    type: 'UNKNOWN',
    name: 'OPERATION_UPDATED',
  });
  t.deepEqual(parseV1Event({ type: 'UNKNOWN' }), { type: 'UNKNOWN', name: 'UNKNOWN' });
});

/** A stream tail, RecordIO-framed (docs/mesos-api.md 3.3), byte for byte (lengths 20, 513, 105). */
function referenceStreamTail(): { stream: Buffer; lengths: number[] } {
  const records = [
    { type: 'HEARTBEAT' },
    {
      type: 'TASK_UPDATED',
      task_updated: {
        framework_id: { value: FW },
        state: 'TASK_RUNNING',
        status: {
          task_id: { value: WEB },
          agent_id: { value: S0 },
          state: 'TASK_RUNNING',
          source: 'SOURCE_EXECUTOR',
          timestamp: 1717000102.73,
          container_status: {
            container_id: { value: '9a1f6c3e-8d2b-4c51-a7e0-5b3d2f1c9e84' },
            network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '172.17.0.3' }] }],
          },
        },
      },
    },
    { type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: S1 } } },
  ].map((r) => Buffer.from(JSON.stringify(r)));
  const stream = Buffer.concat(records.flatMap((r) => [Buffer.from(`${String(r.length)}\n`), r]));
  return { stream, lengths: records.map((r) => r.length) };
}

test('decodes and parses the stream tail of the reference', (t) => {
  const { stream, lengths } = referenceStreamTail();
  t.deepEqual(lengths, [20, 513, 105]);
  const decoder = new RecordIoDecoder();
  const events: MesosEvent[] = [];
  for (let i = 0; i < stream.length; i += 7) {
    for (const record of decoder.push(stream.subarray(i, i + 7))) {
      events.push(parseV1Event(JSON.parse(record.toString('utf8'))));
    }
  }
  t.deepEqual(events, [
    { type: 'HEARTBEAT' },
    {
      type: 'TASK_UPDATED',
      frameworkId: FW,
      taskId: WEB,
      agentId: S0,
      state: 'TASK_RUNNING',
      status: WEB_TASK.statuses[0],
      statusProblem: undefined,
    },
    { type: 'AGENT_REMOVED', agentId: S1 },
  ]);
});

/** A TASK_UPDATED event with the given `task_updated` overrides. */
function taskUpdated(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'TASK_UPDATED',
    task_updated: {
      framework_id: { value: 'fw-1' },
      state: 'TASK_KILLED',
      status: {
        task_id: { value: 'web.1' },
        agent_id: { value: 'agent-S0' },
        state: 'TASK_KILLING',
        timestamp: 10,
      },
      ...overrides,
    },
  };
}

test('parseV1Event takes the state of TASK_UPDATED from the event, not from its status', (t) => {
  const event = parseV1Event(taskUpdated());
  if (event.type !== 'TASK_UPDATED') return t.fail(event.type);
  t.is(event.state, 'TASK_KILLED');
  t.is(event.status?.state, 'TASK_KILLING');
  t.is(event.statusProblem, undefined);
});

test('parseV1Event keeps the state of a TASK_UPDATED whose status is malformed', (t) => {
  const event = parseV1Event(
    taskUpdated({
      status: {
        task_id: { value: 'web.1' },
        state: 'TASK_RUNNING',
        timestamp: 'now',
      },
    }),
  );
  t.deepEqual(event, {
    type: 'TASK_UPDATED',
    frameworkId: 'fw-1',
    taskId: 'web.1',
    agentId: '',
    state: 'TASK_KILLED',
    status: undefined,
    statusProblem: 'task_updated.status: timestamp: expected a number, got "now"',
  });
});

test('parseV1Event falls back to the status state when TASK_UPDATED has no state', (t) => {
  const event = parseV1Event(taskUpdated({ state: undefined }));
  if (event.type !== 'TASK_UPDATED') return t.fail(event.type);
  t.is(event.state, 'TASK_KILLING');
});

const MALFORMED: readonly [string, unknown, RegExp][] = [
  ['null', null, /^event is not a JSON object \(got null\)$/],
  ['an array', [], /^event is not a JSON object \(got an array\)$/],
  ['a number', 20, /^event is not a JSON object \(got number\)$/],
  ['an event without a type', { task_added: {} }, /^event without a type/],
  ['an event with a numeric type', { type: 2 }, /^event without a type \(type: number\)$/],
  ['an event with an empty type', { type: '' }, /^event without a type/],
  [
    'SUBSCRIBED without subscribed',
    { type: 'SUBSCRIBED' },
    /^SUBSCRIBED event: subscribed: missing$/,
  ],
  [
    'SUBSCRIBED without get_state',
    { type: 'SUBSCRIBED', subscribed: { heartbeat_interval_seconds: 15 } },
    /^SUBSCRIBED event: subscribed\.get_state: missing$/,
  ],
  [
    'SUBSCRIBED with get_state not an object',
    { type: 'SUBSCRIBED', subscribed: { get_state: [] } },
    /^SUBSCRIBED event: subscribed\.get_state: expected an object, got an array$/,
  ],
  [
    'SUBSCRIBED with a zero heartbeat',
    { type: 'SUBSCRIBED', subscribed: { get_state: {}, heartbeat_interval_seconds: 0 } },
    /heartbeat_interval_seconds: not positive: 0/,
  ],
  [
    'SUBSCRIBED with a string heartbeat',
    { type: 'SUBSCRIBED', subscribed: { get_state: {}, heartbeat_interval_seconds: '15' } },
    /subscribed\.heartbeat_interval_seconds: expected a number/,
  ],
  ['TASK_ADDED without payload', { type: 'TASK_ADDED' }, /^TASK_ADDED event: task_added: missing$/],
  [
    'TASK_ADDED without task',
    { type: 'TASK_ADDED', task_added: {} },
    /^TASK_ADDED event: task_added\.task: missing$/,
  ],
  [
    'TASK_ADDED with a task without agent',
    { type: 'TASK_ADDED', task_added: { task: v1Task({ agent_id: undefined }) } },
    /^TASK_ADDED event: task_added\.task\.agent_id: missing$/,
  ],
  [
    'TASK_ADDED with bad ports',
    {
      type: 'TASK_ADDED',
      task_added: {
        task: v1Task({
          resources: [{ name: 'ports', ranges: { range: [{ begin: -1, end: 2 }] } }],
        }),
      },
    },
    /^TASK_ADDED event: task_added\.task\.resources\[0\]\.ranges: bad port range -1-2$/,
  ],
  [
    'TASK_UPDATED without status',
    taskUpdated({ status: undefined }),
    /^TASK_UPDATED event: task_updated\.status: missing$/,
  ],
  [
    'TASK_UPDATED whose status has no task id',
    taskUpdated({ status: { state: 'TASK_RUNNING' } }),
    /^TASK_UPDATED event: task_updated\.status\.task_id: missing$/,
  ],
  [
    'TASK_UPDATED without framework id',
    taskUpdated({ framework_id: undefined }),
    /^TASK_UPDATED event: task_updated\.framework_id: missing$/,
  ],
  [
    'TASK_UPDATED without any state',
    taskUpdated({ state: undefined, status: { task_id: { value: 'web.1' } } }),
    /^TASK_UPDATED event: task_updated\.state: missing$/,
  ],
  [
    'TASK_UPDATED with a numeric state',
    taskUpdated({ state: 3 }),
    /^TASK_UPDATED event: task_updated\.state: expected a string, got number$/,
  ],
  [
    'TASK_UPDATED with a bad agent id',
    taskUpdated({ status: { task_id: { value: 'web.1' }, agent_id: 'S0' } }),
    /^TASK_UPDATED event: task_updated\.status\.agent_id: expected an object/,
  ],
  [
    'AGENT_ADDED without agent',
    { type: 'AGENT_ADDED', agent_added: {} },
    /^AGENT_ADDED event: agent_added\.agent: missing$/,
  ],
  [
    'AGENT_ADDED with a bad pid',
    { type: 'AGENT_ADDED', agent_added: { agent: v1Agent({ pid: 'nope' }) } },
    /^AGENT_ADDED event: agent_added\.agent\.pid: not id@host:port: "nope"$/,
  ],
  [
    'AGENT_REMOVED without agent id',
    { type: 'AGENT_REMOVED', agent_removed: {} },
    /^AGENT_REMOVED event: agent_removed\.agent_id: missing$/,
  ],
  [
    'AGENT_REMOVED with an empty id object',
    { type: 'AGENT_REMOVED', agent_removed: { agent_id: {} } },
    /^AGENT_REMOVED event: agent_removed\.agent_id\.value: missing$/,
  ],
  [
    'FRAMEWORK_ADDED without framework',
    { type: 'FRAMEWORK_ADDED', framework_added: {} },
    /^FRAMEWORK_ADDED event: framework_added\.framework: missing$/,
  ],
  [
    'FRAMEWORK_UPDATED without framework_info',
    { type: 'FRAMEWORK_UPDATED', framework_updated: { framework: { active: true } } },
    /^FRAMEWORK_UPDATED event: framework_updated\.framework\.framework_info: missing$/,
  ],
  [
    'FRAMEWORK_REMOVED without an id',
    { type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: { name: 'm' } } },
    /^FRAMEWORK_REMOVED event: framework_removed\.framework_info\.id: missing$/,
  ],
];

for (const [what, record, message] of MALFORMED) {
  test(`parseV1Event rejects ${what} with a precise message`, (t) => {
    const err = t.throws(() => parseV1Event(record), { instanceOf: StateParseError });
    t.is(err.code, 'ERR_STATE_PARSE');
    t.regex(err.message, message);
  });
}

// ---- parseV1Master ---------------------------------------------------------------------------

function getMaster(masterInfo: unknown): unknown {
  return { type: 'GET_MASTER', get_master: { master_info: masterInfo, start_time: 1 } };
}

test('parseV1Master prefers address.ip and address.port', (t) => {
  t.deepEqual(
    parseV1Master(
      getMaster({
        id: 'm-1',
        ip: 184549386,
        port: 5050,
        pid: 'master@10.0.0.11:5050',
        hostname: 'm1.cluster.internal',
        address: { hostname: 'm1.cluster.internal', ip: '10.0.0.12', port: 5051 },
      }),
    ),
    { id: 'm-1', pid: { id: 'master', host: '10.0.0.12', port: 5051 } },
  );
});

test('parseV1Master falls back to the packed ip, then the pid, then the hostname', (t) => {
  // 184549386 is 10.0.0.11 read as network-order bytes in a little-endian uint32.
  t.deepEqual(parseV1Master(getMaster({ id: 'a', ip: 184549386, port: 5050 }))?.pid, {
    id: 'master',
    host: '10.0.0.11',
    port: 5050,
  });
  t.deepEqual(parseV1Master(getMaster({ id: 'b', pid: 'master@[2001:db8::5]:5050' }))?.pid, {
    id: 'master',
    host: '2001:db8::5',
    port: 5050,
  });
  t.deepEqual(parseV1Master(getMaster({ hostname: 'm3.example', port: 5060 })), {
    id: '',
    pid: { id: 'master', host: 'm3.example', port: 5060 },
  });
});

test('parseV1Master returns undefined for answers that name no master', (t) => {
  for (const response of [
    null,
    'GET_MASTER',
    {},
    { get_master: [] },
    getMaster(undefined),
    getMaster({ id: 'x' }),
    getMaster({ id: 'x', address: { port: 5050 } }),
  ]) {
    t.is(parseV1Master(response), undefined, JSON.stringify(response));
  }
});

// ---- cross-check with the v0 parser ----------------------------------------------------------

test('parseV1State(toV1State(fake.json)) yields what parseState(fake.json) yields', (t) => {
  const v0doc = readFixture();
  const v0 = parseState(v0doc);
  const v1 = parseV1State(toV1State(v0doc));
  t.deepEqual(v1.report, NO_PROBLEMS);
  t.deepEqual(v1.state.agents, v0.state.agents);
  t.deepEqual(
    v1.state.frameworks,
    v0.state.frameworks.map((f) => ({
      id: f.id,
      name: f.name,
      pid: undefined,
      hostname: f.hostname,
    })),
  );
  // toV1State lists terminal v0 tasks (kept by v0 until acknowledged) in completed_tasks, and
  // gives each task the id of the framework listing it (one fixture task names another).
  const v0Tasks = v0.state.frameworks.flatMap((f) =>
    f.tasks.map((x) => ({ ...x, frameworkId: f.id })),
  );
  const running = v0Tasks.filter(
    (x) => !isTerminalState(x.state) && x.state !== 'TASK_UNREACHABLE',
  );
  t.true(running.length > 5);
  t.true(running.length < v0Tasks.length, 'the fixture has a terminal task');
  t.deepEqual(v1.state.tasks, running);
});

test('a hand-written v1 document parses like its v0 counterpart', (t) => {
  const v0 = parseState({
    slaves: [{ id: 'S0', hostname: 'a0', pid: 'slave(1)@10.0.1.1:5051' }],
    frameworks: [
      {
        id: 'fw',
        name: 'marathon',
        hostname: 'm1',
        tasks: [
          {
            id: 't1',
            name: 'db',
            framework_id: 'fw',
            slave_id: 'S0',
            state: 'TASK_RUNNING',
            resources: { cpus: 1, ports: '[31000-31001, 31005-31005]' },
            statuses: [
              {
                state: 'TASK_RUNNING',
                timestamp: 2.5,
                labels: [{ key: 'k', value: 'v' }],
                container_status: {
                  network_infos: [{ ip_addresses: [{ ip_address: '9.0.2.5' }] }],
                },
              },
            ],
            discovery: {
              name: 'db',
              ports: { ports: [{ number: 5432, name: 'pg', protocol: 'tcp' }] },
            },
            container: { type: 'DOCKER', docker: { network: 'USER' } },
          },
        ],
      },
    ],
  });
  const v1 = parseV1State({
    get_agents: {
      agents: [
        {
          agent_info: { id: { value: 'S0' }, hostname: 'a0', port: 5051 },
          pid: 'slave(1)@10.0.1.1:5051',
        },
      ],
    },
    get_frameworks: {
      frameworks: [{ framework_info: { id: { value: 'fw' }, name: 'marathon', hostname: 'm1' } }],
    },
    get_tasks: {
      tasks: [
        {
          name: 'db',
          task_id: { value: 't1' },
          framework_id: { value: 'fw' },
          agent_id: { value: 'S0' },
          state: 'TASK_RUNNING',
          resources: [
            { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
            {
              name: 'ports',
              type: 'RANGES',
              ranges: {
                range: [
                  { begin: 31000, end: 31001 },
                  { begin: 31005, end: 31005 },
                ],
              },
            },
          ],
          statuses: [
            {
              task_id: { value: 't1' },
              state: 'TASK_RUNNING',
              timestamp: 2.5,
              labels: { labels: [{ key: 'k', value: 'v' }] },
              container_status: {
                network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '9.0.2.5' }] }],
              },
            },
          ],
          discovery: {
            visibility: 'FRAMEWORK',
            name: 'db',
            ports: { ports: [{ number: 5432, name: 'pg', protocol: 'tcp' }] },
          },
          container: { type: 'DOCKER', docker: { image: 'x', network: 'USER' } },
        },
      ],
    },
  });
  t.deepEqual(v1.report, NO_PROBLEMS);
  t.deepEqual(v1.state.agents, v0.state.agents);
  t.deepEqual(
    v1.state.tasks,
    v0.state.frameworks.flatMap((f) => f.tasks),
  );
  t.deepEqual(v1.state.frameworks, [
    { id: 'fw', name: 'marathon', pid: undefined, hostname: 'm1' },
  ]);
});
