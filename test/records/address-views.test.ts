import test from 'ava';
import type { Framework, State, Task } from '../../src/mesos/index.js';
import { generateRecords, taskIdHash } from '../../src/records/index.js';
import type { GeneratorOptions, RecordSet } from '../../src/records/index.js';
import {
  agent,
  discovery,
  docker,
  framework,
  mesosContainer,
  netinfoStatus,
  options,
  readFixture,
  state,
  status,
  task,
} from '../../support/state-builder.js';
import { parseState } from '../../src/mesos/index.js';

const AGENT = agent('ag-S0', '10.0.1.1');
const VIEWS = options({ addressViews: true });

/** A, AAAA and SRV values of a name (SRV as `target:port`), empty lists left out. */
function at(rs: RecordSet, name: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const a = rs.a.get(name);
  const aaaa = rs.aaaa.get(name);
  const srv = rs.srv.get(name)?.map((v) => `${v.target}:${String(v.port)}`);
  if (a !== undefined) out['a'] = [...a];
  if (aaaa !== undefined) out['aaaa'] = [...aaaa];
  if (srv !== undefined) out['srv'] = srv;
  return out;
}

/** Every RR of a set as text. */
function rrs(rs: RecordSet): string[] {
  const out: string[] = [];
  for (const [name, ips] of rs.a) for (const ip of ips) out.push(`${name} A ${ip}`);
  for (const [name, ips] of rs.aaaa) for (const ip of ips) out.push(`${name} AAAA ${ip}`);
  for (const [name, ts] of rs.srv) {
    for (const s of ts) out.push(`${name} SRV ${s.target}:${String(s.port)}`);
  }
  return out.sort();
}

function marathon(tasks: readonly Task[], overrides: Partial<Framework> = {}): State {
  return state({
    agents: [AGENT],
    frameworks: [framework('marathon', tasks, { id: 'fw-0', ...overrides })],
  });
}

function build(tasks: readonly Task[], more: Partial<GeneratorOptions> = {}): RecordSet {
  return generateRecords(marathon(tasks), { ...VIEWS, ...more });
}

/** The instance label of a task on agent `...-S0`. */
function instance(name: string, id: string): string {
  return `${name}-${taskIdHash(id)}-s0`;
}

test('a Docker bridge task with a port mapping: agent address under agentip and autoip, bridge address under containerip', (t) => {
  const web = task('web', 'ag-S0', {
    id: 'web.1',
    statuses: [netinfoStatus(['172.17.0.3'])],
    ports: [{ begin: 31001, end: 31001 }],
    container: docker('BRIDGE', [{ host: 31001, container: 80 }]),
  });
  const rs = build([web]);
  const i = instance('web', 'web.1');
  t.deepEqual(at(rs, 'web.marathon.agentip.mesos.'), { a: ['10.0.1.1'] });
  t.deepEqual(at(rs, `${i}.marathon.agentip.mesos.`), { a: ['10.0.1.1'] });
  t.deepEqual(at(rs, 'web.marathon.autoip.mesos.'), { a: ['10.0.1.1'] });
  t.deepEqual(at(rs, 'web.marathon.containerip.mesos.'), { a: ['172.17.0.3'] });
  t.deepEqual(at(rs, `${i}.marathon.containerip.mesos.`), { a: ['172.17.0.3'] });
  // SRV: the mapped host port where the agent's address is, the container port at the bridge.
  t.deepEqual(at(rs, '_web._tcp.marathon.agentip.mesos.'), {
    srv: [`${i}.marathon.agentip.mesos.:31001`],
  });
  t.deepEqual(at(rs, '_web._tcp.marathon.autoip.mesos.'), {
    srv: [`${i}.marathon.autoip.mesos.:31001`],
  });
  t.deepEqual(at(rs, '_web._tcp.marathon.containerip.mesos.'), {
    srv: [`${i}.marathon.containerip.mesos.:80`],
  });
  // The mapping says tcp: no _udp names in the views (Mesos-DNS's own names keep both).
  t.deepEqual(at(rs, '_web._udp.marathon.autoip.mesos.'), {});
  t.deepEqual(at(rs, '_web._udp.marathon.slave.mesos.'), {
    srv: [`${i}.marathon.slave.mesos.:31001`],
  });
  // The Mesos-DNS name is as before: the bridge address is skipped by netinfo (host wins).
  t.deepEqual(at(rs, 'web.marathon.mesos.'), { a: ['10.0.1.1'] });
});

test('a task on a container network: container addresses under containerip and autoip, the agent under agentip', (t) => {
  const db = task('db', 'ag-S0', {
    id: 'db.1',
    statuses: [netinfoStatus(['9.0.2.5', 'fd01:b::2:8000:0:2/64'])],
    discovery: discovery('db', [{ number: 5432, protocol: 'tcp', name: 'pg' }]),
    container: mesosContainer(),
  });
  const rs = build([db], { ipSources: ['host'] });
  const i = instance('db', 'db.1');
  const container = { a: ['9.0.2.5'], aaaa: ['fd01:b::2:8000:0:2'] };
  t.deepEqual(at(rs, 'db.marathon.containerip.mesos.'), container);
  t.deepEqual(at(rs, 'db.marathon.autoip.mesos.'), container);
  t.deepEqual(at(rs, `${i}.marathon.autoip.mesos.`), container);
  t.deepEqual(at(rs, 'db.marathon.agentip.mesos.'), { a: ['10.0.1.1'] });
  // Container ports: the DiscoveryInfo port; the agent has no host port for it.
  t.deepEqual(at(rs, '_db._tcp.marathon.autoip.mesos.'), {
    srv: [`${i}.marathon.autoip.mesos.:5432`],
  });
  t.deepEqual(at(rs, '_db._tcp.marathon.containerip.mesos.'), {
    srv: [`${i}.marathon.containerip.mesos.:5432`],
  });
  t.deepEqual(at(rs, '_db._tcp.marathon.agentip.mesos.'), {});
  // ipSources picks the Mesos-DNS names' address, never the views'.
  t.deepEqual(at(rs, 'db.marathon.mesos.'), { a: ['10.0.1.1'] });
});

test('a container-network task with a port mapping is reached through its agent under autoip', (t) => {
  const api = task('api', 'ag-S0', {
    id: 'api.1',
    statuses: [netinfoStatus(['9.0.2.6'])],
    container: {
      type: 'MESOS',
      dockerNetwork: '',
      portMappings: [{ hostPort: 31005, containerPort: 8080, protocol: 'udp,tcp' }],
    },
  });
  const rs = build([api]);
  const i = instance('api', 'api.1');
  t.deepEqual(at(rs, 'api.marathon.autoip.mesos.'), { a: ['10.0.1.1'] });
  t.deepEqual(at(rs, 'api.marathon.containerip.mesos.'), { a: ['9.0.2.6'] });
  for (const proto of ['tcp', 'udp']) {
    t.deepEqual(at(rs, `_api._${proto}.marathon.autoip.mesos.`), {
      srv: [`${i}.marathon.autoip.mesos.:31005`],
    });
    t.deepEqual(at(rs, `_api._${proto}.marathon.containerip.mesos.`), {
      srv: [`${i}.marathon.containerip.mesos.:8080`],
    });
  }
});

test('a host-network task: every view answers the agent, on its host ports over tcp and udp', (t) => {
  const job = task('job', 'ag-S0', {
    id: 'job.1',
    // Mesos reports the agent's address as the network info of a host-network task.
    statuses: [netinfoStatus(['10.0.1.1'])],
    ports: [{ begin: 31010, end: 31011 }],
  });
  const rs = build([job]);
  const i = instance('job', 'job.1');
  for (const view of ['agentip', 'containerip', 'autoip']) {
    t.deepEqual(at(rs, `job.marathon.${view}.mesos.`), { a: ['10.0.1.1'] }, view);
    for (const proto of ['tcp', 'udp']) {
      t.deepEqual(
        at(rs, `_job._${proto}.marathon.${view}.mesos.`),
        { srv: [`${i}.marathon.${view}.mesos.:31010`, `${i}.marathon.${view}.mesos.:31011`] },
        `${view} ${proto}`,
      );
    }
  }
});

test('without a container address: no containerip name, autoip falls back to the agent (as dcos-net)', (t) => {
  const old = task('old', 'ag-S0', {
    id: 'old.1',
    statuses: [status()],
    ports: [{ begin: 31020, end: 31020 }],
  });
  const rs = build([old]);
  t.deepEqual(at(rs, 'old.marathon.containerip.mesos.'), {});
  t.deepEqual(at(rs, '_old._tcp.marathon.containerip.mesos.'), {});
  t.deepEqual(at(rs, 'old.marathon.autoip.mesos.'), { a: ['10.0.1.1'] });
  t.deepEqual(at(rs, 'old.marathon.agentip.mesos.'), { a: ['10.0.1.1'] });
  t.is(rs.srv.get('_old._tcp.marathon.autoip.mesos.')?.[0]?.port, 31020);
});

test('views take the labelled DiscoveryInfo name only, and the RFC 952 labels when enforced', (t) => {
  const dotted = task('ignored', 'ag-S0', {
    id: 'x.1',
    statuses: [netinfoStatus(['9.0.0.1'])],
    discovery: discovery('My.App'),
  });
  const rs = build([dotted]);
  t.deepEqual(at(rs, 'my-app.marathon.containerip.mesos.'), { a: ['9.0.0.1'] });
  t.deepEqual(at(rs, 'my.app.marathon.mesos.'), { a: ['9.0.0.1'] }, 'the verbatim pass stays');
  t.false(
    [...rs.a.keys()].some((n) => n.startsWith('my.app.marathon.') && n.includes('ip.')),
    'no views under the verbatim name',
  );
  const long = task('9-very-long-application-name-here', 'ag-S0', {
    id: 'l.1',
    statuses: [netinfoStatus(['9.0.0.2'])],
  });
  const rfc952 = build([long], { enforceRFC952: true });
  t.deepEqual(at(rfc952, 'very-long-application-na.marathon.autoip.mesos.'), { a: ['9.0.0.2'] });
});

test('a framework whose fragment ends in .agentip shares names with the views; one called agentip does not', (t) => {
  const web = (fw: string, ip: string): Task =>
    task('web', 'ag-S0', { id: `web.${fw}`, frameworkId: fw, statuses: [netinfoStatus([ip])] });
  const s = state({
    agents: [AGENT],
    frameworks: [
      framework('marathon', [web('fw-m', '9.0.0.1')], { id: 'fw-m' }),
      framework('marathon.agentip', [web('fw-x', '9.0.0.2')], { id: 'fw-x' }),
      framework('agentip', [web('fw-a', '9.0.0.3')], { id: 'fw-a' }),
    ],
  });
  const rs = generateRecords(s, VIEWS);
  // Like `.slave.`: the view of marathon's web and the Mesos-DNS name of marathon.agentip's web
  // are one name, whose values merge.
  t.deepEqual(at(rs, 'web.marathon.agentip.mesos.'), { a: ['10.0.1.1', '9.0.0.2'] });
  // The framework called agentip: its names have one label fewer than any view name.
  t.deepEqual(at(rs, 'web.agentip.mesos.'), { a: ['9.0.0.3'] });
  t.deepEqual(at(rs, 'web.agentip.agentip.mesos.'), { a: ['10.0.1.1'] });
});

test('views off, absent or on: the Mesos-DNS names are exactly the same', (t) => {
  const s = parseState(readFixture()).state;
  const plain = rrs(generateRecords(s, options()));
  t.deepEqual(rrs(generateRecords(s, options({ addressViews: false }))), plain);
  const withViews = generateRecords(s, VIEWS);
  const all = new Set(rrs(withViews));
  t.true(
    plain.every((rr) => all.has(rr)),
    'every Mesos-DNS record is kept',
  );
  const plainSet = new Set(plain);
  const added = [...all].filter((rr) => !plainSet.has(rr));
  t.true(added.length > 0);
  t.true(
    added.every((rr) => /\.(agentip|containerip|autoip)\.mesos\. /.test(rr)),
    'only view names are added',
  );
  // The enumeration lists each task's view records after its Mesos-DNS ones.
  const records = withViews.enumeration.flatMap((fw) => fw.tasks).flatMap((x) => x.records);
  t.true(records.some((r) => r.name.includes('.autoip.')));
  const plainEnumeration = generateRecords(s, options()).enumeration;
  t.deepEqual(
    withViews.enumeration.map((fw) =>
      fw.tasks.map((x) =>
        x.records.filter((r) => !/\.(agentip|containerip|autoip)\./.test(r.name)),
      ),
    ),
    plainEnumeration.map((fw) => fw.tasks.map((x) => x.records)),
  );
});
