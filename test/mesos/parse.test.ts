import test from 'ava';
import { StateParseError } from '../../src/errors.js';
import { MAX_PROBLEMS, parsePid, parsePortRanges, parseState } from '../../src/mesos/index.js';
import type { Pid, PortRange } from '../../src/mesos/index.js';
import { readFixture } from '../../support/state-builder.js';

const PIDS: readonly { input: string; want: Pid | undefined }[] = [
  { input: 'slave(1)@1.2.3.10:5051', want: { id: 'slave(1)', host: '1.2.3.10', port: 5051 } },
  {
    input: 'scheduler(1)@[2001:db8::1]:25501',
    want: { id: 'scheduler(1)', host: '2001:db8::1', port: 25501 },
  },
  { input: '  slave(1)@127.0.0.1:5051  ', want: { id: 'slave(1)', host: '127.0.0.1', port: 5051 } },
  {
    input: 'master@m1.example.com:5050',
    want: { id: 'master', host: 'm1.example.com', port: 5050 },
  },
  {
    input: 'scheduler-5d1c0a7e@10.0.0.11:15101',
    want: { id: 'scheduler-5d1c0a7e', host: '10.0.0.11', port: 15101 },
  },
  { input: '@0.0.0.6:7', want: { id: '', host: '0.0.0.6', port: 7 } },
  { input: 'x@1.2.3.4:0', want: { id: 'x', host: '1.2.3.4', port: 0 } },
  { input: 'x@1.2.3.4:65535', want: { id: 'x', host: '1.2.3.4', port: 65535 } },
  { input: '', want: undefined },
  { input: '@', want: undefined },
  { input: '1@', want: undefined },
  { input: '@2', want: undefined },
  { input: '3@4', want: undefined },
  { input: 'slave(1)1.2.3.4:5051', want: undefined },
  { input: 'x@:5051', want: undefined },
  { input: 'x@1.2.3.4:', want: undefined },
  { input: 'x@1.2.3.4:65536', want: undefined },
  { input: 'x@1.2.3.4:50x', want: undefined },
  { input: 'x@1.2.3.4:-1', want: undefined },
  { input: 'x@2001:db8::1:5051', want: undefined },
  { input: 'x@[2001:db8::1]', want: undefined },
  { input: 'x@[2001:db8::1]5051', want: undefined },
  { input: 'x@[2001:db8::1:5051', want: undefined },
  { input: 'x@bad host:5051', want: undefined },
];

for (const { input, want } of PIDS) {
  test(`parsePid returns ${want === undefined ? 'undefined' : 'a pid'} for ${JSON.stringify(input)}`, (t) => {
    t.deepEqual(parsePid(input), want);
  });
}

const RANGES: readonly { input: string; want: PortRange[] | undefined }[] = [
  {
    input: '[31000-31001, 31005-31005]',
    want: [
      { begin: 31000, end: 31001 },
      { begin: 31005, end: 31005 },
    ],
  },
  {
    input: '[31354-31354, 31355-31355]',
    want: [
      { begin: 31354, end: 31354 },
      { begin: 31355, end: 31355 },
    ],
  },
  { input: '[]', want: [] },
  { input: ' [ ] ', want: [] },
  { input: '[31000]', want: [{ begin: 31000, end: 31000 }] },
  {
    input: '[1-3,5 , 7 - 8]',
    want: [
      { begin: 1, end: 3 },
      { begin: 5, end: 5 },
      { begin: 7, end: 8 },
    ],
  },
  { input: '[0-65535]', want: [{ begin: 0, end: 65535 }] },
  { input: '', want: undefined },
  { input: '31000-31001', want: undefined },
  { input: '[31000-31001', want: undefined },
  { input: '[31000-]', want: undefined },
  { input: '[-31000]', want: undefined },
  { input: '[a-b]', want: undefined },
  { input: '[5-3]', want: undefined },
  { input: '[65535-65536]', want: undefined },
  { input: '[1-2,]', want: undefined },
  { input: '[1.5-2]', want: undefined },
];

for (const { input, want } of RANGES) {
  test(`parsePortRanges returns ${want === undefined ? 'undefined' : 'ranges'} for ${JSON.stringify(input)}`, (t) => {
    t.deepEqual(parsePortRanges(input), want);
  });
}

const NOT_OBJECTS: readonly [string, unknown][] = [
  ['null', null],
  ['an array', []],
  ['a string', 'state'],
  ['a number', 42],
  ['a boolean', true],
  ['undefined', undefined],
];

for (const [what, doc] of NOT_OBJECTS) {
  test(`parseState throws StateParseError with code ERR_STATE_PARSE for ${what}`, (t) => {
    const err = t.throws(() => parseState(doc), { instanceOf: StateParseError });
    t.is(err.code, 'ERR_STATE_PARSE');
  });
}

test('parseState returns an empty state for an empty object', (t) => {
  const { state, report } = parseState({});
  t.deepEqual(state, { leader: undefined, agents: [], frameworks: [], recoveredAgentIds: [] });
  t.deepEqual(report, { skippedAgents: 0, skippedFrameworks: 0, skippedTasks: 0, problems: [] });
});

test('parseState lists the agents that have not re-registered after a failover', (t) => {
  const { state, report } = parseState({
    recovered_slaves: [{ id: 'S1', hostname: 'a' }, { id: 'S2' }, { hostname: 'no id' }],
  });
  t.deepEqual(state.recoveredAgentIds, ['S1', 'S2']);
  t.is(report.skippedAgents, 1, 'an entry without id is reported');
});

test('parseState reads the Mesos-DNS fixture without problems', (t) => {
  const { state, report } = parseState(readFixture());
  t.deepEqual(report.problems, []);
  t.deepEqual(state.leader, { id: 'master', host: '1.2.3.4', port: 5050 });
  t.deepEqual(
    state.agents.map((a) => [a.id, a.pid.host, a.pid.port]),
    [
      ['20140916-194712-631065744-5050-4798-2', '1.2.3.10', 5051],
      ['20140803-125133-3041283216-5050-2410-0', '1.2.3.11', 5051],
      ['20140827-000744-3041283216-5050-2116-1', '1.2.3.12', 5051],
      ['20140803-194712-3041283216-5050-2116-3', '2001:db8::1', 5051],
    ],
  );
  t.deepEqual(
    state.frameworks.map((f) => [f.name, f.pid?.host, f.hostname, f.tasks.length]),
    [
      ['ipv6-framework', '2001:db8::1', 'localhost', 1],
      ['chronos with a space AND MIXED CASE-2.0.1', '1.2.3.12', 'localhost', 1],
      ['no pid', undefined, 'localhost', 0],
      ['marathon', '1.2.3.11', 'google.com', 8],
    ],
  );
  const marathon = state.frameworks[3];
  const liquor = marathon?.tasks.find((x) => x.name === 'liquor.store');
  t.deepEqual(liquor?.discovery, {
    name: 'liquor.store',
    ports: [
      { number: 80, protocol: 'tcp', name: 'http' },
      { number: 443, protocol: 'tcp', name: 'https' },
    ],
  });
  t.deepEqual(liquor?.ports, [
    { begin: 31354, end: 31354 },
    { begin: 31355, end: 31355 },
  ]);
  t.deepEqual(
    liquor?.statuses.map((s) => [s.state, s.timestamp, s.labels.length]),
    [
      ['TASK_RUNNING', 1413572371.04321, 2],
      ['TASK_RUNNING', 1413572390.09275, 2],
      ['TASK_RUNNING', 1413572381.0123, 2],
      ['TASK_STARTING', 1413572380.01234, 0],
    ],
  );
  const nginx = marathon?.tasks.find((x) => x.name === 'nginx');
  t.deepEqual(nginx?.ports, []);
  const toy = state.frameworks[0]?.tasks[0];
  t.deepEqual(toy?.statuses[0]?.networkInfos, [
    { ipAddresses: ['12.0.1.3'] },
    { ipAddresses: ['12.0.1.2', 'fd01:b::1:8000:2'] },
  ]);
});

/** A well-formed raw task with the given overrides. */
function rawTask(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'web.1',
    name: 'web',
    framework_id: 'fw-1',
    slave_id: 'agent-S0',
    state: 'TASK_RUNNING',
    resources: { cpus: 1, ports: '[31000-31000]' },
    statuses: [{ state: 'TASK_RUNNING', timestamp: 2 }],
    ...overrides,
  };
}

function docWithTasks(tasks: unknown[]): Record<string, unknown> {
  return {
    leader: 'master@10.0.0.1:5050',
    slaves: [{ id: 'agent-S0', hostname: 'a0', pid: 'slave(1)@10.0.1.1:5051' }],
    frameworks: [{ id: 'fw-1', name: 'marathon', pid: 'scheduler(1)@10.0.0.1:1', tasks }],
  };
}

test('parseState skips a malformed task, keeps the rest and reports where', (t) => {
  const { state, report } = parseState(
    docWithTasks([
      rawTask({ id: 'a' }),
      rawTask({ id: 5 }),
      rawTask({ id: 'c', resources: { ports: '31000-31001' } }),
      'not a task',
      rawTask({ id: 'e', statuses: [{ state: 'TASK_RUNNING', timestamp: 'yesterday' }] }),
      rawTask({ id: 'f' }),
    ]),
  );
  t.deepEqual(
    state.frameworks[0]?.tasks.map((x) => x.id),
    ['a', 'f'],
  );
  t.is(report.skippedTasks, 4);
  t.is(report.problems.length, 4);
  t.regex(report.problems[0] ?? '', /^frameworks\[0\]\.tasks\[1\]: id: expected a string/);
  t.regex(report.problems[1] ?? '', /^frameworks\[0\]\.tasks\[2\]: resources\.ports: bad ranges/);
  t.regex(report.problems[2] ?? '', /^frameworks\[0\]\.tasks\[3\]/);
  t.regex(report.problems[3] ?? '', /^frameworks\[0\]\.tasks\[4\]: timestamp/);
});

test('parseState skips an agent with a bad pid and a framework that is not an object', (t) => {
  const { state, report } = parseState({
    slaves: [
      { id: 'ok', pid: 'slave(1)@10.0.1.1:5051' },
      { id: 'bad', pid: 'slave(1)@10.0.1.2' },
      { pid: 'slave(1)@10.0.1.3:5051' },
    ],
    frameworks: [42, { id: 'f', name: 'marathon', tasks: [] }, { name: 'no id' }],
  });
  t.deepEqual(
    state.agents.map((a) => a.id),
    ['ok'],
  );
  t.deepEqual(
    state.frameworks.map((f) => f.id),
    ['f'],
  );
  t.is(report.skippedAgents, 2);
  t.is(report.skippedFrameworks, 2);
  t.is(report.problems.length, 4);
});

test('parseState keeps a framework with an unparsable pid, without the pid', (t) => {
  const { state, report } = parseState({
    frameworks: [{ id: 'f', name: 'm', pid: 'garbage', hostname: 'h', tasks: [rawTask()] }],
  });
  t.is(state.frameworks[0]?.pid, undefined);
  t.is(state.frameworks[0]?.tasks.length, 1);
  t.is(report.skippedFrameworks, 0);
  t.regex(report.problems[0] ?? '', /^frameworks\[0\]\.pid: ignored/);
});

test('parseState reports an unparsable leader and leaves it undefined', (t) => {
  const { state, report } = parseState({ leader: 'master@nowhere' });
  t.is(state.leader, undefined);
  t.regex(report.problems[0] ?? '', /^leader:/);
});

test('parseState tolerates top-level lists of the wrong type', (t) => {
  const { state, report } = parseState({ slaves: {}, frameworks: 'none' });
  t.deepEqual(state.agents, []);
  t.deepEqual(state.frameworks, []);
  t.is(report.problems.length, 2);
});

test(`parseState caps the problem list at ${MAX_PROBLEMS} but counts every skipped task`, (t) => {
  const bad = Array.from({ length: 30 }, () => rawTask({ state: 7 }));
  const { report } = parseState(docWithTasks([...bad, rawTask()]));
  t.is(report.skippedTasks, 30);
  t.is(report.problems.length, MAX_PROBLEMS);
});

test('parseState reads labels in both shapes', (t) => {
  const labels = [
    { key: 'Docker.NetworkSettings.IPAddress', value: '10.3.0.1' },
    { key: 'no-value' },
  ];
  const { state, report } = parseState(
    docWithTasks([
      rawTask({ id: 'array', statuses: [{ state: 'TASK_RUNNING', timestamp: 1, labels }] }),
      rawTask({
        id: 'object',
        statuses: [{ state: 'TASK_RUNNING', timestamp: 1, labels: { labels } }],
      }),
      rawTask({ id: 'bad', statuses: [{ state: 'TASK_RUNNING', labels: [{ value: 'no key' }] }] }),
    ]),
  );
  const want = [
    { key: 'Docker.NetworkSettings.IPAddress', value: '10.3.0.1' },
    { key: 'no-value', value: '' },
  ];
  const tasks = state.frameworks[0]?.tasks ?? [];
  t.deepEqual(tasks[0]?.statuses[0]?.labels, want);
  t.deepEqual(tasks[1]?.statuses[0]?.labels, want);
  t.is(tasks.length, 2);
  t.is(report.skippedTasks, 1);
});

test('parseState prefers ip_addresses over the Mesos 0.25 ip_address and keeps IPv6 prefixes', (t) => {
  const status = {
    state: 'TASK_RUNNING',
    timestamp: 1,
    healthy: true,
    container_status: {
      network_infos: [
        { ip_address: '1.2.3.4' },
        { ip_address: '1.2.3.4', ip_addresses: [{ ip_address: '1.2.4.8' }] },
        { ip_address: '' },
        {
          name: 'dcos6',
          ip_addresses: [
            { protocol: 'IPv4', ip_address: '9.0.2.5' },
            { protocol: 'IPv6', ip_address: 'fd01:b::2:8000:0:2/64' },
            { protocol: 'IPv6' },
          ],
        },
      ],
    },
  };
  const { state } = parseState(docWithTasks([rawTask({ statuses: [status] })]));
  const parsed = state.frameworks[0]?.tasks[0]?.statuses[0];
  t.is(parsed?.healthy, true);
  t.deepEqual(parsed?.networkInfos, [
    { ipAddresses: ['1.2.3.4'] },
    { ipAddresses: ['1.2.4.8'] },
    { ipAddresses: [] },
    { ipAddresses: ['9.0.2.5', 'fd01:b::2:8000:0:2/64'] },
  ]);
});

test('parseState reads the container type and the Docker network', (t) => {
  const { state } = parseState(
    docWithTasks([
      rawTask({
        id: 'bridge',
        container: { type: 'DOCKER', docker: { image: 'nginx', network: 'BRIDGE' } },
      }),
      rawTask({ id: 'mesos', container: { type: 'MESOS', mesos: { image: {} } } }),
      rawTask({ id: 'untyped', container: { docker: { network: 'HOST' } } }),
      rawTask({ id: 'none' }),
    ]),
  );
  t.deepEqual(
    state.frameworks[0]?.tasks.map((x) => x.container),
    [
      { type: 'DOCKER', dockerNetwork: 'BRIDGE', portMappings: [] },
      { type: 'MESOS', dockerNetwork: '', portMappings: [] },
      { type: '', dockerNetwork: 'HOST', portMappings: [] },
      undefined,
    ],
  );
});

test('parseState reads port mappings of Docker and of network infos, dropping bad ones only', (t) => {
  const { state, report } = parseState(
    docWithTasks([
      rawTask({
        id: 'bridge',
        container: {
          type: 'DOCKER',
          docker: {
            network: 'BRIDGE',
            port_mappings: [
              { host_port: 31001, container_port: 80, protocol: 'tcp' },
              { host_port: 31002, container_port: 53 },
              { host_port: 70000, container_port: 80 },
              { host_port: '31003', container_port: 80 },
              'nonsense',
            ],
          },
        },
      }),
      rawTask({
        id: 'cni',
        container: {
          type: 'MESOS',
          network_infos: [
            {
              name: 'a',
              port_mappings: [{ host_port: 31005, container_port: 8080, protocol: 'udp' }],
            },
            { name: 'b', port_mappings: 'not a list' },
          ],
        },
      }),
    ]),
  );
  t.is(report.skippedTasks, 0, 'a bad mapping never costs the task');
  t.deepEqual(
    state.frameworks[0]?.tasks.map((x) => x.container?.portMappings),
    [
      [
        { hostPort: 31001, containerPort: 80, protocol: 'tcp' },
        { hostPort: 31002, containerPort: 53, protocol: '' },
      ],
      [{ hostPort: 31005, containerPort: 8080, protocol: 'udp' }],
    ],
  );
});

test('parseState reads DiscoveryInfo ports and rejects a task with a bad port number', (t) => {
  const { state, report } = parseState(
    docWithTasks([
      rawTask({
        id: 'ok',
        discovery: {
          visibility: 'FRAMEWORK',
          name: 'web',
          ports: { ports: [{ number: 80, name: 'http', protocol: 'tcp' }, { number: 8080 }] },
          labels: { labels: [{ key: 'k', value: 'v' }] },
        },
      }),
      rawTask({ id: 'bad', discovery: { name: 'web', ports: { ports: [{ number: 70000 }] } } }),
    ]),
  );
  t.deepEqual(state.frameworks[0]?.tasks[0]?.discovery, {
    name: 'web',
    ports: [
      { number: 80, protocol: 'tcp', name: 'http' },
      { number: 8080, protocol: '', name: '' },
    ],
  });
  t.is(report.skippedTasks, 1);
});

test('parseState defaults absent optional task fields', (t) => {
  const { state } = parseState(
    docWithTasks([{ id: 't', slave_id: 'agent-S0', state: 'TASK_STAGING' }]),
  );
  t.deepEqual(state.frameworks[0]?.tasks[0], {
    id: 't',
    name: '',
    frameworkId: 'fw-1',
    agentId: 'agent-S0',
    state: 'TASK_STAGING',
    statuses: [],
    ports: [],
    discovery: undefined,
    container: undefined,
  });
});
