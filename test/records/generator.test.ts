import test from 'ava';
import { parsePid, parseState } from '../../src/mesos/index.js';
import type { State } from '../../src/mesos/index.js';
import { generateRecords, toZoneFile } from '../../src/records/index.js';
import type { GeneratorOptions, RecordSet } from '../../src/records/index.js';
import { RFC1123_DEFAULT, UPSTREAM } from '../fixtures/fake-expected.js';
import {
  agent,
  discovery,
  docker,
  framework,
  labelStatus,
  netinfoStatus,
  readFixture as readFixtureDoc,
  options,
  pid,
  state,
  status,
  task,
} from '../../support/state-builder.js';

type Kind = 'A' | 'AAAA' | 'SRV';

/** Values of a name as strings (SRV as `target:port`, the Mesos-DNS shape), or undefined. */
function values(rs: RecordSet, kind: Kind, name: string): string[] | undefined {
  if (kind === 'SRV') return rs.srv.get(name)?.map((v) => `${v.target}:${v.port}`);
  return (kind === 'A' ? rs.a : rs.aaaa).get(name)?.slice();
}

function sorted(list: readonly string[] | undefined): string[] | undefined {
  return list === undefined ? undefined : [...list].sort();
}

/** All names of a record set, any type. */
function allNames(rs: RecordSet): string[] {
  return [...rs.a.keys(), ...rs.aaaa.keys(), ...rs.srv.keys()];
}

function fixtureState(leader?: string): State {
  const parsed = parseState(readFixtureDoc()).state;
  return leader === undefined ? parsed : { ...parsed, leader: parsePid(leader) };
}

// ---------------------------------------------------------------------------------------------
// The fixture against upstream's expectations (mesos-dns records/generator_test.go TestInsertState,
// read as data: leader master@144.76.157.37:5050, masters [144.76.157.37:5050], RFC 952). One
// deliberate update: upstream HEAD (PR #553) gives all IPs of the first populated source, so with
// `netinfo` alone toy-store gets both IPv4 addresses of its two network infos.
// ---------------------------------------------------------------------------------------------

const UPSTREAM_OPTIONS: Omit<GeneratorOptions, 'ipSources'> = options({
  enforceRFC952: true,
  nsName: 'mesos-dns.mesos.',
  nsIps: ['127.0.0.1'],
  masters: ['144.76.157.37:5050'],
});

for (const { sources, expect } of UPSTREAM) {
  test(`generateRecords matches upstream's fixture expectations with RFC 952 and [${sources.join(', ')}]`, (t) => {
    const rs = generateRecords(fixtureState('master@144.76.157.37:5050'), {
      ...UPSTREAM_OPTIONS,
      ipSources: sources,
    });
    for (const [kind, name, want] of expect) {
      t.deepEqual(sorted(values(rs, kind, name)), sorted(want), `${kind} ${name}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The fixture with the default configuration (RFC 1123, netinfo/mesos/host), leader as-is.
// ---------------------------------------------------------------------------------------------

test('generateRecords reproduces the worked example of reference section 2.6 (RFC 1123)', (t) => {
  const rs = generateRecords(fixtureState(), options());
  const expect = RFC1123_DEFAULT;
  for (const [kind, name, want] of expect) {
    t.deepEqual(values(rs, kind, name), want, `${kind} ${name}`);
  }
  t.deepEqual(rs.stats, {
    frameworks: 4,
    agents: 4,
    tasks: 9,
    skippedTasks: 0,
    skippedNames: 0,
    records: rs.stats.records,
  });
  t.is(rs.zone, 'mesos.');
});

test('generateRecords lists task records for /v1/enumerate in insertion order', (t) => {
  const rs = generateRecords(fixtureState(), options());
  t.deepEqual(
    rs.enumeration.map((f) => [f.name, f.tasks.map((x) => x.name)]),
    [
      ['ipv6-framework', ['toy-store']],
      ['chronos with a space AND MIXED CASE-2.0.1', ['some-box']],
      ['no pid', []],
      [
        'marathon',
        [
          'liquor.store',
          'big.dog2',
          'non-human-readable-liquor-store',
          'car.store',
          'chronos',
          'nginx',
          'reviewbot',
        ],
      ],
    ],
  );
  const liquor = rs.enumeration[3]?.tasks[0];
  t.is(liquor?.id, 'liquor-store.b8db9f73-562f-11e4-a088-c20493233aa5');
  const pass = (n: string): [string, string, string][] => {
    const c = `${n}-4dfjd-0`;
    return [
      [`${n}.marathon.mesos.`, '1.2.3.11', 'A'],
      [`${c}.marathon.mesos.`, '1.2.3.11', 'A'],
      [`${n}.marathon.slave.mesos.`, '1.2.3.11', 'A'],
      [`${c}.marathon.slave.mesos.`, '1.2.3.11', 'A'],
      [`_${n}._tcp.marathon.slave.mesos.`, `${c}.marathon.slave.mesos.:31354`, 'SRV'],
      [`_${n}._udp.marathon.slave.mesos.`, `${c}.marathon.slave.mesos.:31354`, 'SRV'],
      [`_${n}._tcp.marathon.slave.mesos.`, `${c}.marathon.slave.mesos.:31355`, 'SRV'],
      [`_${n}._udp.marathon.slave.mesos.`, `${c}.marathon.slave.mesos.:31355`, 'SRV'],
      [`_${n}._tcp.marathon.mesos.`, `${c}.marathon.mesos.:80`, 'SRV'],
      [`_http._${n}._tcp.marathon.mesos.`, `${c}.marathon.mesos.:80`, 'SRV'],
      [`_${n}._tcp.marathon.mesos.`, `${c}.marathon.mesos.:443`, 'SRV'],
      [`_https._${n}._tcp.marathon.mesos.`, `${c}.marathon.mesos.:443`, 'SRV'],
    ];
  };
  t.deepEqual(
    liquor?.records.map((r) => [r.name, r.host, r.rtype]),
    [...pass('liquor.store'), ...pass('liquor-store')],
  );
  // The JSON shape of /v1/enumerate, key order as Mesos-DNS (records is a lazy getter and must
  // still serialise).
  const json = JSON.stringify(rs.enumeration[3]);
  t.true(json.startsWith('{"tasks":[{"name":"liquor.store","id":"liquor-store.b8db9f73'));
  t.true(
    json.includes(
      '"records":[{"name":"liquor.store.marathon.mesos.","host":"1.2.3.11","rtype":"A"},',
    ),
  );
  t.true(json.endsWith('],"name":"marathon"}'));
});

test('generateRecords does not list a record again that an earlier task inserted', (t) => {
  const a0 = agent('agent-S0', '10.0.1.1');
  const web1 = task('web', a0.id, { id: 'web.1', ports: [{ begin: 31000, end: 31000 }] });
  const web2 = task('web', a0.id, { id: 'web.2', ports: [{ begin: 31000, end: 31000 }] });
  const rs = generateRecords(
    state({ agents: [a0], frameworks: [framework('marathon', [web1, web2])] }),
    options({ ipSources: ['host'] }),
  );
  const [first, second] = rs.enumeration[0]?.tasks ?? [];
  const names = (list: typeof first): string[] =>
    list?.records.map((r) => `${r.rtype} ${r.name}`) ?? [];
  t.true(names(first).includes('A web.marathon.mesos.'));
  t.false(names(second).includes('A web.marathon.mesos.'));
  t.false(names(second).includes('A web.marathon.slave.mesos.'));
  // Its own canonical names (T2, T4) and SRV values (new targets, T5 and T6) are listed.
  t.is(names(second).length, 2 + 4);
  t.deepEqual(values(rs, 'A', 'web.marathon.mesos.'), ['10.0.1.1']);
  t.is(values(rs, 'SRV', '_web._tcp.marathon.mesos.')?.length, 2);
});

test('generateRecords resolves framework hostnames only through hostIps', (t) => {
  const rs = generateRecords(
    fixtureState(),
    options({ hostIps: new Map([['localhost', ['127.0.0.1', '::1', 'nonsense']]]) }),
  );
  t.deepEqual(values(rs, 'A', 'nopid.mesos.'), ['127.0.0.1']);
  t.deepEqual(values(rs, 'AAAA', 'nopid.mesos.'), ['::1']);
  t.is(values(rs, 'SRV', '_framework._tcp.nopid.mesos.'), undefined);
  // google.com (marathon's hostname) is never used: marathon has a pid.
  t.deepEqual(values(rs, 'A', 'marathon.mesos.'), ['1.2.3.11']);
});

// ---------------------------------------------------------------------------------------------
// M1-M5: upstream TestMasterRecord (read as data), plus hostnames, which upstream cannot do.
// ---------------------------------------------------------------------------------------------

interface MasterCase {
  readonly masters: readonly string[];
  readonly leader: string;
  readonly a: Record<string, string[]>;
  readonly aaaa?: Record<string, string[]>;
  readonly hostIps?: ReadonlyMap<string, readonly string[]>;
}

const LEADER_SRV = {
  '_leader._tcp.foo.com.': ['leader.foo.com.:7'],
  '_leader._udp.foo.com.': ['leader.foo.com.:7'],
};
const SIX_EIGHT = {
  'leader.foo.com.': ['0.0.0.6'],
  'master.foo.com.': ['0.0.0.6', '0.0.0.8'],
  'master0.foo.com.': ['0.0.0.8'],
  'master1.foo.com.': ['0.0.0.6'],
};

const MASTER_CASES: readonly MasterCase[] = [
  { masters: [], leader: '', a: {} },
  { masters: [], leader: '@', a: {} },
  { masters: [], leader: '1@', a: {} },
  { masters: [], leader: '@2', a: {} },
  { masters: [], leader: '3@4', a: {} },
  {
    masters: [],
    leader: '5@0.0.0.6:7',
    a: {
      'leader.foo.com.': ['0.0.0.6'],
      'master.foo.com.': ['0.0.0.6'],
      'master0.foo.com.': ['0.0.0.6'],
    },
  },
  {
    masters: [],
    leader: '5@[2001:db8::1]:7',
    a: {},
    aaaa: {
      'leader.foo.com.': ['2001:db8::1'],
      'master.foo.com.': ['2001:db8::1'],
      'master0.foo.com.': ['2001:db8::1'],
    },
  },
  {
    masters: ['0.0.0.6:7'],
    leader: '5@0.0.0.6:7',
    a: {
      'leader.foo.com.': ['0.0.0.6'],
      'master.foo.com.': ['0.0.0.6'],
      'master0.foo.com.': ['0.0.0.6'],
    },
  },
  { masters: ['0.0.0.8:9'], leader: '5@0.0.0.6:7', a: SIX_EIGHT },
  { masters: ['0.0.0.8:9', '0.0.0.8:9'], leader: '5@0.0.0.6:7', a: SIX_EIGHT },
  { masters: ['0.0.0.8:9', '0.0.0.6:7'], leader: '5@0.0.0.6:7', a: SIX_EIGHT },
  { masters: ['0.0.0.8:9', '0.0.0.6:7', '0.0.0.6:7'], leader: '5@0.0.0.6:7', a: SIX_EIGHT },
  {
    masters: ['0.0.0.8:9', '0.0.0.6:7', '0.0.0.7:0'],
    leader: '5@0.0.0.6:7',
    a: {
      ...SIX_EIGHT,
      'master.foo.com.': ['0.0.0.6', '0.0.0.8', '0.0.0.7'],
      'master2.foo.com.': ['0.0.0.7'],
    },
  },
  {
    masters: ['0.0.0.8:9', '0.0.0.6:7', '[2001:db8::1]:0'],
    leader: '5@0.0.0.6:7',
    a: SIX_EIGHT,
    aaaa: { 'master.foo.com.': ['2001:db8::1'], 'master2.foo.com.': ['2001:db8::1'] },
  },
  // mesodns extensions: masters as hostnames (via hostIps), URLs and bare hosts; an entry that
  // resolves to nothing takes no number.
  {
    masters: ['http://m1.example:7/', 'unresolvable.example:7', 'M2.example', 'master@0.0.0.8:9'],
    leader: 'master@0.0.0.6:7',
    hostIps: new Map([
      ['m1.example', ['0.0.0.8']],
      ['m2.example', ['0.0.0.6']],
    ]),
    a: SIX_EIGHT,
  },
];

MASTER_CASES.forEach((c, i) => {
  test(`generateRecords numbers masters as Mesos-DNS does (case ${i + 1}: [${c.masters.join(', ')}], leader ${JSON.stringify(c.leader)})`, (t) => {
    const rs = generateRecords(
      state({ leader: parsePid(c.leader) }),
      options({ domain: 'foo.com', masters: c.masters, hostIps: c.hostIps ?? new Map() }),
    );
    const toObject = (m: ReadonlyMap<string, readonly string[]>): Record<string, string[]> =>
      Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));
    const sortValues = (o: Record<string, string[]>): Record<string, string[]> =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort()]));
    t.deepEqual(toObject(rs.a), sortValues(c.a));
    t.deepEqual(toObject(rs.aaaa), sortValues(c.aaaa ?? {}));
    const srv = Object.fromEntries(
      [...rs.srv].map(([k, v]) => [k, v.map((x) => `${x.target}:${x.port}`)]),
    );
    const isLeaderParsed = parsePid(c.leader) !== undefined;
    t.deepEqual(srv, isLeaderParsed ? LEADER_SRV : {});
  });
});

test('generateRecords gives the SOA MNAME (N1) the listener addresses, lower-cased and fully qualified', (t) => {
  const rs = generateRecords(
    state(),
    options({
      nsName: 'NS1.Mesos',
      nsIps: ['10.0.0.53', '2001:DB8::53', 'bogus', '::ffff:10.0.0.1'],
    }),
  );
  t.deepEqual(values(rs, 'A', 'ns1.mesos.'), ['10.0.0.53', '10.0.0.1']);
  t.deepEqual(values(rs, 'AAAA', 'ns1.mesos.'), ['2001:db8::53']);
  t.is(rs.stats.records, 3);
});

// ---------------------------------------------------------------------------------------------
// IP selection: latest TASK_RUNNING status, first populated source, BRIDGE and /prefix rules.
// ---------------------------------------------------------------------------------------------

const A0 = agent('agent-S0', '10.0.1.1');

function taskA(rs: RecordSet, name = 'web'): { a?: string[]; aaaa?: string[] } {
  const out: { a?: string[]; aaaa?: string[] } = {};
  const a = values(rs, 'A', `${name}.marathon.mesos.`);
  const aaaa = values(rs, 'AAAA', `${name}.marathon.mesos.`);
  if (a !== undefined) out.a = a;
  if (aaaa !== undefined) out.aaaa = aaaa;
  return out;
}

function oneTask(t: Parameters<typeof task>[2], opts: Partial<GeneratorOptions> = {}): RecordSet {
  return generateRecords(
    state({ agents: [A0], frameworks: [framework('marathon', [task('web', A0.id, t)])] }),
    options(opts),
  );
}

test('generateRecords takes IPs from the latest TASK_RUNNING status only (first wins ties)', (t) => {
  const rs = oneTask({
    statuses: [
      netinfoStatus(['1.1.1.1'], 1),
      netinfoStatus(['3.3.3.3'], 3),
      status({
        state: 'TASK_STARTING',
        timestamp: 5,
        networkInfos: [{ ipAddresses: ['5.5.5.5'] }],
      }),
      netinfoStatus(['4.4.4.4'], 3),
      netinfoStatus(['2.2.2.2'], 2),
    ],
  });
  t.deepEqual(taskA(rs), { a: ['3.3.3.3'] });
});

test('generateRecords falls back to the next source when a status has no RUNNING entry', (t) => {
  const rs = oneTask({
    statuses: [status({ state: 'TASK_STARTING', networkInfos: [{ ipAddresses: ['5.5.5.5'] }] })],
  });
  t.deepEqual(taskA(rs), { a: ['10.0.1.1'] });
});

test('generateRecords uses every valid IP of the first populated source and skips non-IPs', (t) => {
  const labels = [
    { key: 'Docker.NetworkSettings.IPAddress', value: '' },
    { key: 'Docker.NetworkSettings.IPAddress', value: 'not-an-ip' },
    { key: 'MesosContainerizer.NetworkSettings.IPAddress', value: '10.3.0.3' },
    { key: 'MesosContainerizer.NetworkSettings.IPAddress', value: 'fd00::3' },
    { key: 'MesosContainerizer.NetworkSettings.IPAddress', value: '10.3.0.4' },
  ];
  const rs = oneTask(
    { statuses: [labelStatus(labels)] },
    { ipSources: ['docker', 'mesos', 'host'] },
  );
  t.deepEqual(taskA(rs), { a: ['10.3.0.3', '10.3.0.4'], aaaa: ['fd00::3'] });
  // The canonical name gets the same addresses; the agent names keep the agent IP.
  const hash = rs.enumeration[0]?.tasks[0]?.records[1]?.name;
  t.regex(hash ?? '', /^web-[ybndrfg8ejkmcpqxot1uwisza345h769]{5}-s0\.marathon\.mesos\.$/);
  t.deepEqual(values(rs, 'A', 'web.marathon.slave.mesos.'), ['10.0.1.1']);
});

test('generateRecords gives no task addresses when no source has any, but keeps agent names', (t) => {
  const rs = oneTask({ statuses: [status()] }, { ipSources: ['netinfo', 'docker'] });
  t.deepEqual(taskA(rs), {});
  t.deepEqual(values(rs, 'A', 'web.marathon.slave.mesos.'), ['10.0.1.1']);
});

test('generateRecords ignores netinfo for Docker BRIDGE tasks (deliberate difference, #426)', (t) => {
  const bridge = { statuses: [netinfoStatus(['172.17.0.3'])], container: docker('BRIDGE') };
  t.deepEqual(taskA(oneTask(bridge)), { a: ['10.0.1.1'] });
  t.deepEqual(taskA(oneTask({ ...bridge, container: docker('HOST') })), { a: ['172.17.0.3'] });
  t.deepEqual(taskA(oneTask({ ...bridge, container: docker('USER') })), { a: ['172.17.0.3'] });
  t.deepEqual(taskA(oneTask({ ...bridge, container: undefined })), { a: ['172.17.0.3'] });
  const withLabel = {
    container: docker('BRIDGE'),
    statuses: [
      status({
        networkInfos: [{ ipAddresses: ['172.17.0.3'] }],
        labels: [{ key: 'MesosContainerizer.NetworkSettings.IPAddress', value: '10.9.9.9' }],
      }),
    ],
  };
  t.deepEqual(taskA(oneTask(withLabel)), { a: ['10.9.9.9'] });
  t.deepEqual(taskA(oneTask(bridge, { ipSources: ['netinfo'] })), {});
});

test('generateRecords strips an IPv6 /prefix from netinfo addresses (deliberate difference)', (t) => {
  const rs = oneTask({ statuses: [netinfoStatus(['9.0.2.5', 'fd01:b::2:8000:0:2/64'])] });
  t.deepEqual(taskA(rs), { a: ['9.0.2.5'], aaaa: ['fd01:b::2:8000:0:2'] });
  // Bad prefixes and IPv4 prefixes are not addresses: the source is empty, `host` applies.
  const bad = oneTask({
    statuses: [netinfoStatus(['fd01::1/129', 'fd01::1/', '10.0.0.1/24', 'x/64'])],
  });
  t.deepEqual(taskA(bad), { a: ['10.0.1.1'] });
});

test('generateRecords writes IPv6 addresses in canonical form', (t) => {
  const rs = oneTask({
    statuses: [
      netinfoStatus([
        '2001:0DB8:0000:0000:0000:0000:0000:0001',
        '::ffff:10.1.2.3',
        'fe80::1%eth0',
        '1:0:0:2:0:0:0:3',
      ]),
    ],
  });
  t.deepEqual(taskA(rs), { a: ['10.1.2.3'], aaaa: ['2001:db8::1', '1:0:0:2::3'] });
});

// ---------------------------------------------------------------------------------------------
// SRV families, DiscoveryInfo, and names that cannot be emitted.
// ---------------------------------------------------------------------------------------------

test('generateRecords emits T5 and T6 for every host port of a task without DiscoveryInfo', (t) => {
  const rs = oneTask(
    { id: 'web.1', ports: [{ begin: 31000, end: 31001 }] },
    { ipSources: ['host'] },
  );
  const records = rs.enumeration[0]?.tasks[0]?.records.map((r) => `${r.rtype} ${r.name} ${r.host}`);
  const c = 'web-' + (rs.enumeration[0]?.tasks[0]?.records[1]?.name.slice(4, 9) ?? '') + '-s0';
  t.deepEqual(records, [
    `A web.marathon.mesos. 10.0.1.1`,
    `A ${c}.marathon.mesos. 10.0.1.1`,
    `A web.marathon.slave.mesos. 10.0.1.1`,
    `A ${c}.marathon.slave.mesos. 10.0.1.1`,
    `SRV _web._tcp.marathon.slave.mesos. ${c}.marathon.slave.mesos.:31000`,
    `SRV _web._udp.marathon.slave.mesos. ${c}.marathon.slave.mesos.:31000`,
    `SRV _web._tcp.marathon.mesos. ${c}.marathon.slave.mesos.:31000`,
    `SRV _web._udp.marathon.mesos. ${c}.marathon.slave.mesos.:31000`,
    `SRV _web._tcp.marathon.slave.mesos. ${c}.marathon.slave.mesos.:31001`,
    `SRV _web._udp.marathon.slave.mesos. ${c}.marathon.slave.mesos.:31001`,
    `SRV _web._tcp.marathon.mesos. ${c}.marathon.slave.mesos.:31001`,
    `SRV _web._udp.marathon.mesos. ${c}.marathon.slave.mesos.:31001`,
  ]);
});

test('generateRecords gives DiscoveryInfo ports without protocol both tcp and udp, and named ports T8', (t) => {
  const di = discovery('api', [
    { number: 8080, name: 'Http' },
    { number: 53, protocol: 'UDP' },
  ]);
  const rs = oneTask({ id: 'api.1', discovery: di }, { ipSources: ['host'] });
  const names = rs.enumeration[0]?.tasks[0]?.records
    .filter((r) => r.rtype === 'SRV')
    .map((r) => `${r.name} ${r.host.replace(/-[a-z0-9]{5}-/, '-H-')}`);
  t.deepEqual(names, [
    '_api._tcp.marathon.mesos. api-H-s0.marathon.mesos.:8080',
    '_api._udp.marathon.mesos. api-H-s0.marathon.mesos.:8080',
    '_http._api._tcp.marathon.mesos. api-H-s0.marathon.mesos.:8080',
    '_http._api._udp.marathon.mesos. api-H-s0.marathon.mesos.:8080',
    '_api._udp.marathon.mesos. api-H-s0.marathon.mesos.:53',
  ]);
  // DiscoveryInfo replaces the task name entirely.
  t.is(values(rs, 'A', 'web.marathon.mesos.'), undefined);
  t.deepEqual(values(rs, 'A', 'api.marathon.mesos.'), ['10.0.1.1']);
});

test('generateRecords lower-cases the verbatim DiscoveryInfo pass and drops names it cannot emit', (t) => {
  const upper = oneTask({ discovery: discovery('Web.App', [{ number: 80, protocol: 'tcp' }]) });
  t.deepEqual(values(upper, 'A', 'web.app.marathon.mesos.'), ['10.0.1.1']);
  t.deepEqual(values(upper, 'A', 'web-app.marathon.mesos.'), ['10.0.1.1']);
  t.true(values(upper, 'SRV', '_web.app._tcp.marathon.mesos.') !== undefined);
  t.false(allNames(upper).some((n) => /[A-Z]/.test(n)));

  const spaced = oneTask({ discovery: discovery('My App', [{ number: 80, protocol: 'tcp' }]) });
  t.deepEqual(values(spaced, 'A', 'myapp.marathon.mesos.'), ['10.0.1.1']);
  t.false(allNames(spaced).some((n) => n.includes(' ')));
  // T1-T4 and T7 of the verbatim pass (the SRV target is invalid, so T5 is never attempted).
  t.is(spaced.stats.skippedNames, 4);
});

test('generateRecords never emits a label over 63 bytes or a name over 255 bytes (deliberate difference)', (t) => {
  const long = 'a'.repeat(63);
  const rs = oneTask(
    { name: long, ports: [{ begin: 31000, end: 31000 }] },
    { ipSources: ['host'] },
  );
  t.deepEqual(values(rs, 'A', `${long}.marathon.mesos.`), ['10.0.1.1']);
  t.deepEqual(values(rs, 'A', `${long}.marathon.slave.mesos.`), ['10.0.1.1']);
  // The canonical names (63 + 9 bytes) and `_` + 63 bytes cannot exist.
  t.deepEqual([...rs.srv.keys()], ['_slave._tcp.mesos.']);
  t.is(rs.stats.skippedNames, 2);

  const wide = [
    'b'.repeat(50),
    'c'.repeat(50),
    'd'.repeat(50),
    'e'.repeat(50),
    'f'.repeat(50),
  ].join('.');
  const tooLong = generateRecords(
    state({
      agents: [A0],
      frameworks: [framework(wide, [task('web', A0.id)], { pid: pid('10.0.0.1', 1, 'scheduler') })],
    }),
    options(),
  );
  t.is(tooLong.a.size, 1); // only slave.mesos.
  t.true(tooLong.stats.skippedNames > 0);

  for (const rsx of [rs, tooLong]) {
    for (const name of allNames(rsx)) {
      t.true(name.length + 1 <= 255, name);
      t.true(
        name
          .split('.')
          .slice(0, -1)
          .every((l) => l.length > 0 && l.length <= 63),
        name,
      );
    }
  }
});

test('generateRecords skips and counts tasks whose framework fragment or task label is empty', (t) => {
  const rs = generateRecords(
    state({
      agents: [A0],
      frameworks: [
        framework('$$$', [task('web', A0.id)], { pid: pid('10.0.0.1', 1, 'scheduler') }),
        framework('marathon', [task('...', A0.id), task('ok', A0.id)]),
      ],
    }),
    options(),
  );
  t.is(rs.stats.skippedTasks, 2);
  t.is(rs.stats.tasks, 1);
  t.deepEqual(
    rs.enumeration.map((f) => [f.name, f.tasks.map((x) => x.name)]),
    [
      ['$$$', []],
      ['marathon', ['ok']],
    ],
  );
  t.false(allNames(rs).some((n) => n.startsWith('.') || n.includes('..')));
});

test('generateRecords ignores tasks that are not TASK_RUNNING or run on unknown agents', (t) => {
  const rs = generateRecords(
    state({
      agents: [A0],
      frameworks: [
        framework('marathon', [
          task('staging', A0.id, { state: 'TASK_STAGING' }),
          task('killed', A0.id, { state: 'TASK_KILLED' }),
          task('lost', 'agent-unknown'),
        ]),
      ],
    }),
    options(),
  );
  t.deepEqual(rs.enumeration, [{ name: 'marathon', tasks: [] }]);
  t.is(rs.stats.tasks, 0);
  t.is(rs.stats.skippedTasks, 0);
  t.deepEqual(allNames(rs).sort(), ['_slave._tcp.mesos.', 'slave.mesos.']);
});

test('generateRecords resolves agent pid hostnames only through hostIps', (t) => {
  const named = agent('agent-S1', 'Agent1.example');
  const unknown = agent('agent-S2', 'agent2.example', 5052);
  const rs = generateRecords(
    state({
      agents: [named, unknown],
      frameworks: [
        framework('marathon', [
          task('a', named.id),
          task('b', unknown.id, { ports: [{ begin: 1, end: 1 }] }),
        ]),
      ],
    }),
    options({ hostIps: new Map([['agent1.example', ['10.0.1.7', 'fe80::1', 'junk']]]) }),
  );
  t.deepEqual(values(rs, 'A', 'slave.mesos.'), ['10.0.1.7']);
  t.deepEqual(values(rs, 'AAAA', 'slave.mesos.'), ['fe80::1']);
  t.deepEqual(values(rs, 'SRV', '_slave._tcp.mesos.'), ['slave.mesos.:5051']);
  t.deepEqual(values(rs, 'A', 'a.marathon.slave.mesos.'), ['10.0.1.7']);
  // No address for agent2: no A anywhere for b, but its SRVs still exist.
  t.is(values(rs, 'A', 'b.marathon.slave.mesos.'), undefined);
  t.is(values(rs, 'A', 'b.marathon.mesos.'), undefined);
  t.is(values(rs, 'SRV', '_b._tcp.marathon.slave.mesos.')?.length, 1);
});

test('generateRecords is deterministic and does not modify its input', (t) => {
  const deepFreeze = <T>(o: T): T => {
    if (typeof o === 'object' && o !== null) {
      for (const v of Object.values(o)) deepFreeze(v);
      Object.freeze(o);
    }
    return o;
  };
  const s = deepFreeze(fixtureState());
  const opts = options({ masters: ['10.0.0.1:5050'], nsIps: ['10.0.0.53'] });
  const one = toZoneFile(generateRecords(s, opts), { ttl: 60, srvWeight: 1 });
  const two = toZoneFile(generateRecords(s, opts), { ttl: 60, srvWeight: 1 });
  t.deepEqual(one, two);
  t.true(one.length > 100);
});

test('generateRecords lower-cases the domain', (t) => {
  const rs = generateRecords(state({ agents: [A0] }), options({ domain: 'Cluster.Example' }));
  t.is(rs.zone, 'cluster.example.');
  t.deepEqual(values(rs, 'A', 'slave.cluster.example.'), ['10.0.1.1']);
});
