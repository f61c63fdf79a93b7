import test from 'ava';
import type { Task } from '../../src/mesos/index.js';
import { hostsView, servicesView } from '../../src/http/views.js';
import { generateRecords, taskIdHash, toZoneFile } from '../../src/records/index.js';
import type { CompactRecordSet, HealthSettings, RecordSet } from '../../src/records/index.js';
import {
  agent,
  discovery,
  framework,
  options,
  state,
  status,
  task,
} from '../../support/state-builder.js';

const EXCLUDE: HealthSettings = { mode: 'exclude-unhealthy', failOpen: true };
const AGENTS = [agent('ag-S0', '10.0.0.1'), agent('ag-S1', '10.0.0.2'), agent('ag-S2', '10.0.0.3')];

/** A running `web` task on agent `s{n}` with address 172.17.0.{n+1}, port 3100{n}. */
function web(n: number, healthy: boolean | undefined, name = 'web'): Task {
  return task(name, `ag-S${String(n)}`, {
    id: `${name}.${String(n)}`,
    frameworkId: 'fw-marathon',
    statuses: [
      status({
        healthy,
        networkInfos: [{ ipAddresses: [`172.17.0.${String(n + 1)}`] }],
      }),
    ],
    ports: [{ begin: 31000 + n, end: 31000 + n }],
  });
}

function build(tasks: readonly Task[], health?: HealthSettings): CompactRecordSet {
  return generateRecords(
    state({ agents: AGENTS, frameworks: [framework('marathon', tasks, { id: 'fw-marathon' })] }),
    options(health === undefined ? {} : { health }),
  );
}

/** The per-instance name of web task `n`: `{name}-{hash}-s{n}.{tail}`. */
function instance(n: number, tail: string, name = 'web'): string {
  return `${name}-${taskIdHash(`${name}.${String(n)}`)}-s${String(n)}.${tail}`;
}

const srvs = (rs: RecordSet, name: string): string[] | undefined =>
  rs.srv.get(name)?.map((s) => `${s.target}:${String(s.port)}`);

test('an unhealthy task leaves the shared names and keeps its own', (t) => {
  const rs = build([web(0, true), web(1, false), web(2, undefined)], EXCLUDE);
  t.deepEqual(rs.a.get('web.marathon.mesos.'), ['172.17.0.1', '172.17.0.3']);
  t.deepEqual(rs.a.get('web.marathon.slave.mesos.'), ['10.0.0.1', '10.0.0.3']);
  for (const name of ['_web._tcp.marathon.mesos.', '_web._udp.marathon.slave.mesos.']) {
    t.deepEqual(
      srvs(rs, name),
      [
        `${instance(0, 'marathon.slave.mesos.')}:31000`,
        `${instance(2, 'marathon.slave.mesos.')}:31002`,
      ],
      name,
    );
  }
  // Its per-instance names answer throughout.
  t.deepEqual(rs.a.get(instance(1, 'marathon.mesos.')), ['172.17.0.2']);
  t.deepEqual(rs.a.get(instance(1, 'marathon.slave.mesos.')), ['10.0.0.2']);
  t.deepEqual(rs.stats.health, { excludedTasks: 1, failOpen: [] });
  // The enumeration lists what is served.
  const tasks = rs.enumeration[0]?.tasks ?? [];
  const names = tasks.find((x) => x.id === 'web.1')?.records.map((r) => r.name);
  t.deepEqual(names, [instance(1, 'marathon.mesos.'), instance(1, 'marathon.slave.mesos.')]);
});

test('health is ignored by default and with records.health: ignore, byte for byte', (t) => {
  const tasks = [web(0, true), web(1, false), web(2, undefined)];
  const plain = toZoneFile(build(tasks), { ttl: 60, srvWeight: 1 });
  t.deepEqual(
    toZoneFile(build(tasks, { mode: 'ignore', failOpen: true }), { ttl: 60, srvWeight: 1 }),
    plain,
  );
  t.true(
    plain.some((line) => line.startsWith('web.marathon.mesos.') && line.endsWith('172.17.0.2')),
  );
  t.is(build(tasks).stats.health, undefined);
});

test('health comes from the latest TASK_RUNNING status', (t) => {
  const recovered = task('web', 'ag-S0', {
    id: 'web.0',
    frameworkId: 'fw-marathon',
    statuses: [
      status({ timestamp: 2, healthy: true, networkInfos: [{ ipAddresses: ['172.17.0.1'] }] }),
      status({ timestamp: 1, healthy: false, networkInfos: [{ ipAddresses: ['172.17.0.9'] }] }),
      status({ timestamp: 3, state: 'TASK_KILLING', healthy: false }),
    ],
  });
  const rs = build([recovered, web(1, true)], EXCLUDE);
  t.deepEqual(rs.a.get('web.marathon.mesos.'), ['172.17.0.1', '172.17.0.2']);
  t.deepEqual(rs.stats.health, { excludedTasks: 0, failOpen: [] });
});

test('an app whose instances are all unhealthy is served whole (fail-open)', (t) => {
  const rs = build([web(0, false), web(1, false), web(2, true, 'api')], EXCLUDE);
  t.deepEqual(rs.a.get('web.marathon.mesos.'), ['172.17.0.1', '172.17.0.2']);
  t.is(srvs(rs, '_web._tcp.marathon.mesos.')?.length, 2);
  t.deepEqual(rs.stats.health, { excludedTasks: 0, failOpen: ['web.marathon.mesos.'] });
  // The same tasks with the default rule: identical records.
  t.deepEqual(
    toZoneFile(rs, { ttl: 60, srvWeight: 1 }),
    toZoneFile(build([web(0, false), web(1, false), web(2, true, 'api')]), {
      ttl: 60,
      srvWeight: 1,
    }),
  );
});

test('healthFailOpen: false takes the shared names of an all-unhealthy app away', (t) => {
  const rs = build([web(0, false), web(1, false)], { mode: 'exclude-unhealthy', failOpen: false });
  t.is(rs.a.get('web.marathon.mesos.'), undefined);
  t.is(rs.srv.get('_web._tcp.marathon.mesos.'), undefined);
  t.deepEqual(rs.a.get(instance(0, 'marathon.mesos.')), ['172.17.0.1']);
  t.deepEqual(rs.stats.health, { excludedTasks: 2, failOpen: [] });
});

test('DiscoveryInfo names (verbatim and labelled) and their SRV sets leave out unhealthy tasks', (t) => {
  const named = (n: number, healthy: boolean): Task => ({
    ...web(n, healthy, 'x'),
    discovery: discovery('My_App', [{ number: 8080 + n, protocol: 'tcp', name: 'http' }]),
  });
  const rs = build([named(0, true), named(1, false)], EXCLUDE);
  for (const name of ['my_app.marathon.mesos.', 'my-app.marathon.mesos.']) {
    t.deepEqual(rs.a.get(name), ['172.17.0.1'], name);
  }
  for (const name of ['_my-app._tcp.marathon.mesos.', '_http._my-app._tcp.marathon.mesos.']) {
    t.deepEqual(srvs(rs, name), [`my-app-${taskIdHash('x.0')}-s0.marathon.mesos.:8080`], name);
  }
  t.deepEqual(rs.a.get(`my-app-${taskIdHash('x.1')}-s1.marathon.mesos.`), ['172.17.0.2']);
  t.deepEqual(rs.stats.health, { excludedTasks: 1, failOpen: [] });
});

test('two frameworks of one name share the app: a healthy instance in either excludes', (t) => {
  const other = { ...web(1, true), id: 'web.other', frameworkId: 'fw-marathon-2' };
  const s = state({
    agents: AGENTS,
    frameworks: [
      framework('marathon', [web(0, false)], { id: 'fw-marathon' }),
      framework('marathon', [other], { id: 'fw-marathon-2' }),
    ],
  });
  const rs = generateRecords(s, options({ health: EXCLUDE }));
  t.deepEqual(rs.a.get('web.marathon.mesos.'), ['172.17.0.2']);
  t.deepEqual(rs.stats.health, { excludedTasks: 1, failOpen: [] });
});

test('the health of names: per instance exact, shared names when every task agrees', (t) => {
  const rs = build([web(0, true), web(1, false), web(2, true), web(0, undefined, 'api')], EXCLUDE);
  t.is(rs.healthOf(instance(1, 'marathon.mesos.')), false);
  t.is(rs.healthOf(instance(1, 'marathon.slave.mesos.')), false);
  t.is(rs.healthOf(instance(0, 'marathon.slave.mesos.')), true);
  t.is(rs.healthOf('web.marathon.mesos.'), true, 'the unhealthy instance is not behind it');
  t.is(rs.healthOf('_web._tcp.marathon.mesos.'), true);
  t.is(rs.healthOf('api.marathon.mesos.'), undefined, 'no health check: no health');
  t.is(rs.healthOf('slave.mesos.'), undefined);
  const failOpen = build([web(0, false), web(1, false)], EXCLUDE);
  t.is(failOpen.healthOf('web.marathon.mesos.'), false, 'served whole: every one unhealthy');
  const mixed = build([web(0, true), web(1, undefined)], EXCLUDE);
  t.is(mixed.healthOf('web.marathon.mesos.'), undefined);
  const ignored = build([web(0, true), web(1, false)]);
  t.is(ignored.healthOf(instance(1, 'marathon.mesos.')), undefined);
  t.is(ignored.data.health, undefined, 'nothing is kept with health ignored');
});

test('/v1/hosts and /v1/services add `healthy` with the rule on, nothing without it', (t) => {
  const tasks = [web(0, true), web(1, false)];
  const rs = build(tasks, EXCLUDE);
  t.deepEqual(hostsView(rs, instance(1, 'marathon.mesos.')), [
    { host: instance(1, 'marathon.mesos.'), ip: '172.17.0.2', healthy: false },
  ]);
  t.deepEqual(hostsView(rs, 'web.marathon.mesos.'), [
    { host: 'web.marathon.mesos.', ip: '172.17.0.1', healthy: true },
  ]);
  t.deepEqual(servicesView(rs, '_web._tcp.marathon.mesos.', '_web._tcp.marathon.mesos'), [
    {
      service: '_web._tcp.marathon.mesos',
      host: instance(0, 'marathon.slave.mesos.'),
      ip: '10.0.0.1',
      port: '31000',
      healthy: true,
    },
  ]);
  const plain = build(tasks);
  t.deepEqual(hostsView(plain, instance(1, 'marathon.mesos.')), [
    { host: instance(1, 'marathon.mesos.'), ip: '172.17.0.2' },
  ]);
  t.deepEqual(Object.keys(servicesView(plain, '_web._tcp.marathon.mesos.', 'x')[0] ?? {}), [
    'service',
    'host',
    'ip',
    'port',
  ]);
});

test('with the address views on, an unhealthy task leaves the views shared names too', (t) => {
  const rs = generateRecords(
    state({
      agents: AGENTS,
      frameworks: [framework('marathon', [web(0, true), web(1, false)], { id: 'fw-marathon' })],
    }),
    options({ health: EXCLUDE, addressViews: true }),
  );
  for (const view of ['agentip', 'containerip', 'autoip']) {
    const tail = `marathon.${view}.mesos.`;
    t.is(rs.a.get(`web.${tail}`)?.length, 1, `web.${tail}`);
    t.deepEqual(srvs(rs, `_web._tcp.${tail}`), [`${instance(0, tail)}:31000`], view);
    // Its own view names keep answering.
    t.is(rs.a.get(instance(1, tail))?.length, 1, instance(1, tail));
  }
  t.deepEqual(rs.a.get('web.marathon.containerip.mesos.'), ['172.17.0.1']);
  t.deepEqual(rs.a.get(instance(1, 'marathon.agentip.mesos.')), ['10.0.0.2']);
});
