/**
 * Operating the real server (issue 5): the `/v1` API against the shapes Mesos-DNS returns for
 * its own fixture and sample config, `/metrics` under a query load, `mesodns records` and
 * `/v1/enumerate` against the DNS answers, query logs, JSON logs and a graceful stop.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import { convertConfig } from '../../src/config/index.js';
import { fixturePath } from '../../support/paths.js';
import { dig } from '../../support/dig.js';
import type { DigMessage } from '../../support/dig.js';
import { FakeMaster } from '../../support/fake-master.js';
import type { Mesodns } from '../../support/mesodns.js';
import {
  buildQuery,
  killOnExit,
  queryRaw,
  rcodeOf,
  startMesodns,
  waitFor,
} from '../../support/mesodns.js';
import { freePort } from '../../support/ports.js';
import { startKnot, startSlowUpstream } from '../../support/upstream.js';
import { parsePrometheusText, sampleSum } from '../../support/prometheus-text.js';
import type { PromFamily } from '../../support/prometheus-text.js';
import { isRecord } from '../../src/is-record.js';

const FAKE = 'test/fixtures/fake.json';
const SAMPLE = fixturePath('mesos-dns-config.json');

async function getJson(srv: Mesodns, path: string): Promise<unknown> {
  const res = await fetch(`${srv.httpUrl}${path}`);
  if (res.status !== 200) throw new Error(`${path}: ${String(res.status)}`);
  if (res.headers.get('content-type') !== 'application/json') throw new Error(`${path}: type`);
  return res.json();
}

async function scrape(srv: Mesodns): Promise<Map<string, PromFamily>> {
  const res = await fetch(`${srv.httpUrl}/metrics`);
  if (!(res.headers.get('content-type') ?? '').startsWith('text/plain; version=0.0.4')) {
    throw new Error(`metrics content type ${String(res.headers.get('content-type'))}`);
  }
  return parsePrometheusText(await res.text());
}

/**
 * Mesos-DNS's sample config.json converted by `convertConfig`, adapted to the test harness only
 * where it must be: the master source becomes the fixture file (no ZooKeeper here), the
 * listeners take the harness's loopback ports, and the resolver is loopback (never 8.8.8.8).
 */
function convertedSample(resolver: string): Record<string, unknown> {
  const doc: unknown = parseYaml(convertConfig(SAMPLE));
  if (!isRecord(doc) || !isRecord(doc.mesos) || !isRecord(doc.dns) || !isRecord(doc.http)) {
    throw new Error('unexpected converted config');
  }
  // The harness picks the listen addresses.
  const dns = { ...doc.dns };
  const http = { ...doc.http };
  Reflect.deleteProperty(dns, 'listen');
  Reflect.deleteProperty(http, 'listen');
  return {
    ...doc,
    mesos: { ...doc.mesos, zk: '' },
    dns,
    http,
    forward: { ...(isRecord(doc.forward) ? doc.forward : {}), resolvers: [resolver] },
  };
}

// ---------------------------------------------------------------------------------------------
// Contract: every /v1 response against Mesos-DNS's shapes for fake.json + config.json.sample.

/** Go types of Mesos-DNS's records.Config fields, in its field order (reference 6). */
const MESOS_DNS_CONFIG_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['RefreshSeconds', 'number'],
  ['Port', 'number'],
  ['Timeout', 'number'],
  ['StateTimeoutSeconds', 'number'],
  ['ZkDetectionTimeout', 'number'],
  ['HttpPort', 'number'],
  ['TTL', 'number'],
  ['SRVRecordDefaultWeight', 'number'],
  ['SOASerial', 'number'],
  ['SOARefresh', 'number'],
  ['SOARetry', 'number'],
  ['SOAExpire', 'number'],
  ['SOAMinttl', 'number'],
  ['SOAMname', 'string'],
  ['SOARname', 'string'],
  ['Masters', 'string[]'],
  ['ZoneResolvers', 'object'],
  ['Resolvers', 'string[]'],
  ['IPSources', 'string[]'],
  ['Zk', 'string'],
  ['Domain', 'string'],
  ['File', 'string'],
  ['Listener', 'string'],
  ['HTTPListener', 'string'],
  ['RecurseOn', 'boolean'],
  ['DnsOn', 'boolean'],
  ['HttpOn', 'boolean'],
  ['ExternalOn', 'boolean'],
  ['EnforceRFC952', 'boolean'],
  ['SetTruncateBit', 'boolean'],
  ['EnumerationOn', 'boolean'],
  ['MesosHTTPSOn', 'boolean'],
  ['CACertFile', 'string'],
  ['CertFile', 'string'],
  ['KeyFile', 'string'],
  ['MesosCredentials', 'object'],
  ['IAMConfigFile', 'string'],
  ['MesosAuthentication', 'string'],
];

/**
 * What Mesos-DNS's /v1/config shows for config.json.sample (its defaults for absent keys,
 * SOA names with the trailing dot it adds), minus the fields listed in `CONFIG_DIFFERENCES`.
 */
const MESOS_DNS_SAMPLE_CONFIG: Readonly<Record<string, unknown>> = {
  RefreshSeconds: 60,
  Timeout: 5,
  StateTimeoutSeconds: 300,
  TTL: 60,
  SRVRecordDefaultWeight: 1,
  SOARefresh: 60,
  SOARetry: 600,
  SOAExpire: 86400,
  SOAMinttl: 60,
  SOAMname: 'ns1.mesos.',
  SOARname: 'root.ns1.mesos.',
  ZoneResolvers: {},
  IPSources: ['mesos', 'host'],
  Domain: 'mesos',
  RecurseOn: true,
  DnsOn: true,
  HttpOn: true,
  ExternalOn: true,
  EnforceRFC952: false,
  SetTruncateBit: true,
  EnumerationOn: true,
  MesosHTTPSOn: false,
  CACertFile: '',
  CertFile: '',
  KeyFile: '',
  MesosCredentials: { Principal: '', Secret: '' },
  IAMConfigFile: '',
  MesosAuthentication: '',
};

/**
 * Fields whose value differs, and why (docs/differences.md and the harness):
 * Masters: mesodns uses one master source and Zk wins; ZkDetectionTimeout: mesodns never exits
 * for want of a leader (0); Zk/File: the harness serves the fixture from a file;
 * Port/HttpPort/Listener/HTTPListener/Resolvers: harness loopback ports; SOASerial: a time.
 */
const CONFIG_DIFFERENCES = [
  'Masters',
  'ZkDetectionTimeout',
  'Zk',
  'File',
  'Port',
  'HttpPort',
  'Listener',
  'HTTPListener',
  'Resolvers',
  'SOASerial',
] as const;

function goType(value: unknown): string {
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? 'string[]' : 'array';
  if (value === null) return 'null';
  return typeof value;
}

test.serial('contract: /v1 responses have the Mesos-DNS shapes for fake.json', async (t) => {
  const srv = await startMesodns({ stateFile: FAKE, config: convertedSample('127.0.0.1:9') });
  t.teardown(() => srv.stop());

  // /v1/version: Go's map[string]string, keys sorted; values name mesodns (documented).
  const version = await getJson(srv, '/v1/version');
  t.true(isRecord(version));
  t.deepEqual(Object.keys(version as object), ['Service', 'URL', 'Version']);
  t.true(Object.values(version as object).every((v) => typeof v === 'string'));

  // /v1/config: every field, in order, with its Go type; values as Mesos-DNS's but the listed ones.
  const config = await getJson(srv, '/v1/config');
  if (!isRecord(config)) throw new Error('config is not an object');
  t.deepEqual(
    Object.keys(config),
    MESOS_DNS_CONFIG_TYPES.map(([k]) => k),
  );
  for (const [key, type] of MESOS_DNS_CONFIG_TYPES) t.is(goType(config[key]), type, key);
  const comparable = Object.fromEntries(
    Object.entries(config).filter(([k]) => !CONFIG_DIFFERENCES.some((d) => d === k)),
  );
  t.deepEqual(comparable, MESOS_DNS_SAMPLE_CONFIG);
  t.deepEqual(config.Masters, [], 'Zk wins over Masters (documented)');
  t.is(config.ZkDetectionTimeout, 0);
  t.is(config.Port, srv.dnsPort);
  t.is(config.HttpPort, srv.httpPort);
  t.deepEqual(config.Resolvers, ['127.0.0.1:9']);
  t.is(config.File, srv.configPath);

  // /v1/hosts: Mesos-DNS's own TestHTTP cases, and names with several and IPv6 values.
  t.deepEqual(await getJson(srv, '/v1/hosts/leader.mesos'), [
    { host: 'leader.mesos.', ip: '1.2.3.4' },
  ]);
  const liquor = await getJson(srv, '/v1/hosts/liquor-store.marathon.mesos');
  t.deepEqual((liquor as { host: string; ip: string }[]).map((h) => `${h.host} ${h.ip}`).sort(), [
    'liquor-store.marathon.mesos. 1.2.3.11',
    'liquor-store.marathon.mesos. 1.2.3.12',
  ]);
  t.deepEqual(await getJson(srv, '/v1/hosts/toy-store.ipv6-framework.mesos'), [
    { host: 'toy-store.ipv6-framework.mesos.', ip: '2001:db8::1' },
  ]);
  t.deepEqual(await getJson(srv, '/v1/hosts/missing.mesos'), [{ host: '', ip: '' }]);

  // /v1/services: Mesos-DNS's TestHTTP cases verbatim.
  t.deepEqual(await getJson(srv, '/v1/services/_leader._tcp.mesos.'), [
    { service: '_leader._tcp.mesos.', host: 'leader.mesos.', ip: '1.2.3.4', port: '5050' },
  ]);
  t.deepEqual(await getJson(srv, '/v1/services/_myservice._tcp.mesos.'), [
    { service: '', host: '', ip: '', port: '' },
  ]);

  // /v1/enumerate: every framework in state order, running tasks only, task records in order.
  const enumerate = await getJson(srv, '/v1/enumerate');
  if (!isRecord(enumerate) || !Array.isArray(enumerate.frameworks)) throw new Error('enumerate');
  t.deepEqual(Object.keys(enumerate), ['frameworks']);
  const frameworks = enumerate.frameworks as {
    tasks: { name: string; id: string; records: object[] }[];
    name: string;
  }[];
  t.deepEqual(
    frameworks.map((f) => f.name),
    ['ipv6-framework', 'chronos with a space AND MIXED CASE-2.0.1', 'no pid', 'marathon'],
  );
  for (const f of frameworks) {
    t.deepEqual(Object.keys(f), ['tasks', 'name']);
    for (const task of f.tasks) {
      t.deepEqual(Object.keys(task), ['name', 'id', 'records']);
      for (const r of task.records) t.deepEqual(Object.keys(r), ['name', 'host', 'rtype']);
    }
  }
  t.deepEqual(frameworks[2]?.tasks, [], 'a framework without running tasks has tasks: []');
  const fw = 'chronoswithaspaceandmixedcase-2.0.1';
  const slaveTarget = `some-box-h3dyr-0.${fw}.slave.mesos.:31354`;
  t.deepEqual(frameworks[1]?.tasks, [
    {
      name: 'some-box',
      id: 'some-box.b8db9f73-562f-11e4-a088-c20493233aa5',
      records: [
        { name: `some-box.${fw}.mesos.`, host: '1.2.3.11', rtype: 'A' },
        { name: `some-box-h3dyr-0.${fw}.mesos.`, host: '1.2.3.11', rtype: 'A' },
        { name: `some-box.${fw}.slave.mesos.`, host: '1.2.3.11', rtype: 'A' },
        { name: `some-box-h3dyr-0.${fw}.slave.mesos.`, host: '1.2.3.11', rtype: 'A' },
        { name: `_some-box._tcp.${fw}.slave.mesos.`, host: slaveTarget, rtype: 'SRV' },
        { name: `_some-box._udp.${fw}.slave.mesos.`, host: slaveTarget, rtype: 'SRV' },
        { name: `_some-box._tcp.${fw}.mesos.`, host: slaveTarget, rtype: 'SRV' },
        { name: `_some-box._udp.${fw}.mesos.`, host: slaveTarget, rtype: 'SRV' },
      ],
    },
  ]);
  const marathonTasks = frameworks[3]?.tasks.map((task) => task.name) ?? [];
  t.false(marathonTasks.includes('poseidon.bc4e3796-2d7a-11e4-b8df-d43d7edb01cd'), 'killed task');

  // /v1/axfr: models.AXFR field order and types; the whole store.
  const axfr = await getJson(srv, '/v1/axfr');
  if (!isRecord(axfr) || !isRecord(axfr.Records)) throw new Error('axfr');
  t.deepEqual(Object.keys(axfr), [
    'TTL',
    'Serial',
    'RefreshSeconds',
    'Mname',
    'Rname',
    'Domain',
    'Records',
  ]);
  t.like(axfr, {
    TTL: 60,
    RefreshSeconds: 60,
    Mname: 'ns1.mesos.',
    Rname: 'root.ns1.mesos.',
    Domain: 'mesos',
  });
  t.is(typeof axfr.Serial, 'number');
  t.deepEqual(Object.keys(axfr.Records), ['As', 'AAAAs', 'SRVs']);
  for (const set of Object.values(axfr.Records)) {
    t.true(isRecord(set));
    for (const values of Object.values(set as object)) t.is(goType(values), 'string[]');
  }
  t.like(axfr.Records, {
    As: { 'leader.mesos.': ['1.2.3.4'], 'ns1.mesos.': ['127.0.0.1'] },
    AAAAs: { 'toy-store.ipv6-framework.mesos.': ['2001:db8::1'] },
    SRVs: { '_leader._tcp.mesos.': ['leader.mesos.:5050'] },
  });
});

// ---------------------------------------------------------------------------------------------
// records and /v1/enumerate agree with the DNS answers.

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/main.js', ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Asks every (name, type) over TCP in batches of dig runs; returns the answer data by key. */
async function answers(
  port: number,
  questions: readonly (readonly [string, string])[],
): Promise<Map<string, { status: string; data: string[] }>> {
  const out = new Map<string, { status: string; data: string[] }>();
  for (let i = 0; i < questions.length; i += 40) {
    const batch = questions.slice(i, i + 40);
    const r = await dig(port, ['+tcp', '+noall', '+answer', '+comments', ...batch.flat()]);
    const messages: readonly DigMessage[] = r.messages;
    if (messages.length !== batch.length) {
      throw new Error(`asked ${String(batch.length)}, got ${String(messages.length)}\n${r.raw}`);
    }
    batch.forEach(([name, type], j) => {
      const m = messages[j];
      out.set(`${name} ${type}`, {
        status: m?.status ?? 'NOREPLY',
        data: (m?.answer ?? []).filter((rr) => rr.type === type).map((rr) => rr.data),
      });
    });
  }
  return out;
}

test.serial(
  'every record of `mesodns records` and of /v1/enumerate is answered by DNS',
  async (t) => {
    const srv = await startMesodns({ stateFile: FAKE });
    t.teardown(() => srv.stop());
    const printed = await run(['records', '--state', FAKE, '--config', srv.configPath]);
    t.is(printed.code, 0, printed.stderr);
    // `name ttl IN type data...`, grouped by (name, type).
    const expected = new Map<string, string[]>();
    for (const line of printed.stdout.trim().split('\n')) {
      const [name = '', , , type = '', ...data] = line.split(/\s+/);
      const key = `${name} ${type}`;
      expected.set(key, [...(expected.get(key) ?? []), data.join(' ')]);
    }
    t.true(expected.size > 100, `only ${String(expected.size)} names`);
    const questions = [...expected.keys()].map((k) => k.split(' ') as [string, string]);
    const got = await answers(srv.dnsPort, questions);
    for (const [key, data] of expected) {
      const answer = got.get(key);
      t.is(answer?.status, 'NOERROR', key);
      t.deepEqual([...(answer?.data ?? [])].sort(), [...data].sort(), key);
    }

    const enumerate = await getJson(srv, '/v1/enumerate');
    const frameworks = (
      enumerate as {
        frameworks: { tasks: { records: { name: string; host: string; rtype: string }[] }[] }[];
      }
    ).frameworks;
    let checked = 0;
    for (const task of frameworks.flatMap((f) => f.tasks)) {
      for (const r of task.records) {
        const answer = got.get(`${r.name} ${r.rtype}`);
        const want =
          r.rtype === 'SRV'
            ? `0 1 ${r.host.slice(r.host.lastIndexOf(':') + 1)} ${r.host.slice(0, r.host.lastIndexOf(':'))}`
            : r.host;
        t.true(answer?.data.includes(want) === true, `${r.name} ${r.rtype} ${want}`);
        checked++;
      }
    }
    t.true(checked > 50, `only ${String(checked)} enumerated records`);
  },
);

// ---------------------------------------------------------------------------------------------
// /metrics during a query load.

interface Load {
  readonly a: number;
  readonly nx: number;
  readonly srv: number;
  readonly forwarded: number;
}

/** Sends the load (sequential per kind, kinds in parallel) and counts the rcodes seen. */
async function sendLoad(port: number, load: Load): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const kinds: readonly (readonly [string, 'A' | 'SRV', number, 'udp' | 'tcp'])[] = [
    ['leader.mesos', 'A', load.a, 'udp'],
    ['nope.marathon.mesos', 'A', load.nx, 'udp'],
    ['_leader._tcp.mesos', 'SRV', load.srv, 'tcp'],
    ['www.example.test', 'A', load.forwarded, 'udp'],
  ];
  await Promise.all(
    kinds.map(async ([name, type, count, transport]) => {
      for (let i = 0; i < count; i++) {
        const reply = await queryRaw(port, buildQuery(name, type), transport, 2000);
        const key = `${name} ${reply === undefined ? 'none' : String(rcodeOf(reply))}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }),
  );
  return seen;
}

test.serial(
  '/metrics parses as Prometheus text and its counters follow a query load',
  async (t) => {
    const knot = await startKnot();
    t.teardown(() => knot.stop());
    const srv = await startMesodns({
      stateFile: FAKE,
      config: { forward: { resolvers: [knot.address] } },
    });
    t.teardown(() => srv.stop());
    const q = 'mesodns_dns_queries_total';
    const before = await scrape(srv);
    const base = (labels: Record<string, string>): number => sampleSum(before, q, labels);

    const load: Load = { a: 300, nx: 200, srv: 100, forwarded: 100 };
    const running = sendLoad(srv.dnsPort, load);
    // A scrape in the middle of the load parses too and sees counters in between.
    await waitFor(async () => sampleSum(await scrape(srv), q) > sampleSum(before, q) + 50, 10_000);
    const during = await scrape(srv);
    const seen = await running;
    const after = await scrape(srv);
    t.is(seen.get('leader.mesos 0'), load.a);
    t.is(seen.get('nope.marathon.mesos 3'), load.nx);
    t.is(seen.get('_leader._tcp.mesos 0'), load.srv);
    t.is(seen.get('www.example.test 0'), load.forwarded);

    const delta = (labels: Record<string, string>): number =>
      sampleSum(after, q, labels) - base(labels);
    t.is(delta({ path: 'authoritative', transport: 'udp', qtype: 'A', rcode: 'NOERROR' }), load.a);
    t.is(
      delta({ path: 'authoritative', transport: 'udp', qtype: 'A', rcode: 'NXDOMAIN' }),
      load.nx,
    );
    t.is(
      delta({ path: 'authoritative', transport: 'tcp', qtype: 'SRV', rcode: 'NOERROR' }),
      load.srv,
    );
    t.is(
      delta({ path: 'forwarded', qtype: 'A' }) + delta({ path: 'cached', qtype: 'A' }),
      load.forwarded,
      'forwarded and cached answers add up',
    );
    const total = load.a + load.nx + load.srv + load.forwarded;
    t.is(sampleSum(after, q) - sampleSum(before, q), total);
    t.true(
      sampleSum(during, q) >= sampleSum(before, q) && sampleSum(during, q) <= sampleSum(after, q),
    );

    // The latency histogram counted every query; the forwarding and cache counters moved.
    const h = 'mesodns_dns_query_duration_seconds_count';
    t.is(sampleSum(after, h) - sampleSum(before, h), total);
    t.is(after.get('mesodns_dns_query_duration_seconds')?.type, 'histogram');
    const lookups = 'mesodns_forward_cache_lookups_total';
    t.is(sampleSum(after, lookups) - sampleSum(before, lookups), load.forwarded);
    t.true(sampleSum(after, lookups, { result: 'hit' }) > 0, 'repeated names come from the cache');
    t.true(sampleSum(after, 'mesodns_forward_queries_total') >= 1);
    t.true(
      sampleSum(after, 'mesodns_upstream_exchanges_total', {
        upstream: knot.address,
        outcome: 'ok',
      }) >= 1,
    );
    t.is(sampleSum(after, 'mesodns_upstream_healthy', { upstream: knot.address }), 1);

    // The state and zone.
    t.is(sampleSum(after, 'mesodns_state_loads_total', { result: 'published' }), 1);
    t.is(sampleSum(after, 'mesodns_state_size_bytes'), 28135);
    t.is(sampleSum(after, 'mesodns_zone_tasks'), 9);
    t.true(sampleSum(after, 'mesodns_zone_records') > 100);
    t.true(sampleSum(after, 'mesodns_zone_serial') > 0);
    t.true(sampleSum(after, 'mesodns_state_age_seconds') >= 0);
    t.is(sampleSum(after, 'mesodns_leader_changes_total'), 0);
    t.true(after.has('process_resident_memory_bytes'));
    t.true(after.has('nodejs_eventloop_lag_p99_seconds'));
    t.false(srv.logs().includes(' query '), 'no query logs unless log.queries');
  },
);

// ---------------------------------------------------------------------------------------------
// Logs and stopping.

test('log.queries writes one JSON line per query; every log line is JSON', async (t) => {
  const srv = await startMesodns({
    stateFile: FAKE,
    config: { log: { level: 'info', format: 'json', queries: true } },
  });
  t.teardown(() => srv.stop());
  await queryRaw(srv.dnsPort, buildQuery('leader.mesos', 'A'), 'udp', 2000);
  await queryRaw(srv.dnsPort, buildQuery('nope.mesos', 'SRV'), 'tcp', 2000);
  // The readiness probes (SOA queries) are logged too: wait for the two lines of this test.
  await waitFor(
    () =>
      srv.logs().includes('"qname":"leader.mesos."') &&
      srv.logs().includes('"qname":"nope.mesos."'),
    5000,
    'both query lines',
  );
  const lines = srv
    .logs()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(lines.every((l) => typeof l.level === 'string' && typeof l.message === 'string'));
  const queries = lines.filter((l) => l.message === 'query');
  t.like(
    queries.find((l) => l.qname === 'leader.mesos.'),
    {
      level: 'info',
      client: '127.0.0.1',
      transport: 'udp',
      qtype: 'A',
      rcode: 'NOERROR',
      path: 'authoritative',
    },
  );
  t.like(
    queries.find((l) => l.qname === 'nope.mesos.'),
    {
      transport: 'tcp',
      qtype: 'SRV',
      rcode: 'NXDOMAIN',
    },
  );
  t.true(lines.every((l) => typeof l.timestamp === 'string'));
});

test('SIGTERM lets a forwarded query in flight finish, then exits 0', async (t) => {
  const knot = await startKnot();
  t.teardown(() => knot.stop());
  const slow = await startSlowUpstream(400, knot.port);
  t.teardown(() => slow.stop());
  const srv = await startMesodns({
    stateFile: FAKE,
    config: { forward: { resolvers: [slow.address], cache: { enabled: false } } },
  });
  const pending = queryRaw(srv.dnsPort, buildQuery('www.example.test', 'A'), 'udp', 3000);
  await waitFor(() => slow.queries > 0, 3000);
  srv.proc.kill('SIGTERM');
  const reply = await pending;
  t.not(reply, undefined, 'the query in flight was answered');
  t.is(rcodeOf(reply ?? Buffer.alloc(12)), 0);
  t.is(await srv.exited, 0);
  t.regex(srv.logs(), /stopping: no new queries/);
  t.regex(srv.logs(), /stopped signal=SIGTERM/);
  await srv.stop();
});

// ---------------------------------------------------------------------------------------------
// Migration: a Mesos-DNS config.json is served as it is.

test('mesodns --config config.json serves a Mesos-DNS file as it is', async (t) => {
  const master = new FakeMaster(JSON.parse(await readFile(FAKE, 'utf8')) as unknown);
  await master.start();
  t.teardown(() => master.close());
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-json-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [dnsPort, httpPort] = [await freePort(), await freePort()];
  const file = join(dir, 'config.json');
  // Mixed-case keys and absent keys, as Mesos-DNS reads them; `ns` is unknown to Mesos-DNS too.
  await writeFile(
    file,
    JSON.stringify({
      masters: [`127.0.0.1:${String(master.port)}`],
      refreshSeconds: 1,
      TTL: 42,
      Port: dnsPort,
      listener: '127.0.0.1',
      HTTPListener: '127.0.0.1',
      httpport: httpPort,
      externalon: false,
      IPSources: ['host'],
      ns: 'ns1',
    }),
  );
  const proc = spawn(process.execPath, ['dist/main.js', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(proc);
  let logs = '';
  proc.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', r));
  t.teardown(() => proc.kill('SIGKILL'));
  await waitFor(
    async () => {
      const reply = await queryRaw(dnsPort, buildQuery('leader.mesos', 'A'), 'udp', 300);
      return reply !== undefined && rcodeOf(reply) === 0;
    },
    15_000,
    `mesodns answering; logs:\n${logs}`,
  );
  const r = await dig(dnsPort, ['car-store.marathon.mesos', 'A']);
  t.deepEqual(
    r.answer.map((rr) => `${String(rr.ttl)} ${rr.data}`),
    ['42 1.2.3.11'],
  );
  t.regex(logs, /configuration warning .*unknown key 'ns' ignored/);
  const config = (await (
    await fetch(`http://127.0.0.1:${String(httpPort)}/v1/config`)
  ).json()) as Record<string, unknown>;
  t.like(config, {
    RefreshSeconds: 1,
    StateTimeoutSeconds: 300,
    TTL: 42,
    Port: dnsPort,
    HttpPort: httpPort,
    ExternalOn: false,
    Masters: [`127.0.0.1:${String(master.port)}`],
    IPSources: ['host'],
    File: file,
  });
  proc.kill('SIGTERM');
  t.is(await exited, 0);
});
