// Real clients against the real mesodns process (issue 15): dnsmasq and unbound in front of it,
// glibc's getaddrinfo through a namespace-local resolv.conf, and Node's c-ares resolver. The
// state is the demo cluster plus `big`, a dual-stack app with 150 instances and two ports: its
// SRV answer (300 records, 14 KB) only goes over TCP, and with its additional records it would
// pass 16 KiB. docs/resolvers.md gives the resolver configs these tests use.
import { promises as dnsPromises } from 'node:dns';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { dig, type DigMessage } from '../../support/dig.js';
import { REPO_ROOT } from '../../support/paths.js';
import { startMesodns, type Mesodns } from '../../support/mesodns.js';
import { canUseNetns, runInNetns } from '../../support/netns.js';
import {
  haveTools,
  startDnsmasq,
  startUnbound,
  type RunningResolver,
} from '../../support/resolvers.js';
import { isRecord } from '../../src/is-record.js';

const BIG = 150;

function listAt(o: Record<string, unknown>, key: string): unknown[] {
  const value = o[key];
  if (!Array.isArray(value)) throw new Error(`state: ${key} is not a list`);
  return value as unknown[];
}

/**
 * The demo state plus `big`: BIG copies of the demo's dual-stack `api` task (ports 8080 and
 * 9100 in its DiscoveryInfo), each with its own IPv4 and IPv6 address, spread over the agents.
 */
async function demoWithBigApp(): Promise<unknown> {
  const text = await readFile(join(REPO_ROOT, 'config', 'demo-state.json'), 'utf8');
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc)) throw new Error('demo state is not an object');
  const agents = listAt(doc, 'slaves').filter(isRecord);
  const marathon = listAt(doc, 'frameworks')
    .filter(isRecord)
    .find((f) => f['name'] === 'marathon');
  if (marathon === undefined) throw new Error('demo state has no marathon framework');
  const tasks = listAt(marathon, 'tasks');
  const api = tasks.filter(isRecord).find((task) => task['name'] === 'api');
  if (api === undefined) throw new Error('demo state has no api task');
  for (let i = 0; i < BIG; i++) {
    const task = structuredClone(api);
    task['name'] = 'big';
    task['id'] = `big.${String(i).padStart(8, '0')}-2a6d-11ef-9c1d-0242ac110002`;
    task['slave_id'] = agents[i % agents.length]?.['id'];
    if (isRecord(task['discovery'])) task['discovery']['name'] = 'big';
    for (const status of listAt(task, 'statuses').filter(isRecord)) {
      const container = status['container_status'];
      if (!isRecord(container)) continue;
      container['network_infos'] = [
        {
          name: 'app-net',
          ip_addresses: [
            { protocol: 'IPv4', ip_address: bigV4(i) },
            { protocol: 'IPv6', ip_address: bigV6(i) },
          ],
        },
      ];
    }
    tasks.push(task);
  }
  return doc;
}

function bigV4(i: number): string {
  return `10.201.${String(i >> 8)}.${String(i & 255)}`;
}

function bigV6(i: number): string {
  return `fd01:c::${(i + 1).toString(16)}`;
}

const BIG_V4 = Array.from({ length: BIG }, (_, i) => bigV4(i)).sort();
const BIG_V6 = Array.from({ length: BIG }, (_, i) => bigV6(i)).sort();

let server: Mesodns | undefined;

function mesodnsPort(): number {
  if (server === undefined) throw new Error('mesodns not started');
  return server.dnsPort;
}

test.before(async () => {
  server = await startMesodns({
    state: await demoWithBigApp(),
    config: { http: { enabled: false }, records: { ttl: 60 } },
  });
});

test.after.always(async () => {
  await server?.stop();
});

/** Sorted rdata of the answer records of one type. */
function rdata(r: DigMessage, type: string): string[] {
  return r.answer
    .filter((rr) => rr.type === type)
    .map((rr) => rr.data)
    .sort();
}

/** The demo queries each resolver must answer as mesodns does, with what mesodns answers. */
const DEMO_QUERIES: readonly (readonly [string, string, number])[] = [
  ['web.marathon.mesos', 'A', 3],
  ['api.marathon.mesos', 'AAAA', 1],
  ['api.marathon.mesos', 'A', 1],
  ['_web._tcp.marathon.mesos', 'SRV', 3],
  ['_http._api._tcp.marathon.mesos', 'SRV', 1],
  ['big.marathon.mesos', 'A', BIG],
  ['big.marathon.mesos', 'AAAA', BIG],
  ['_big._tcp.marathon.mesos', 'SRV', 2 * BIG],
];

/**
 * Asks `port` each demo query with dig and compares the answer with mesodns' own. One dig run
 * asks mesodns every question, one the resolver (a dig process costs more than its questions).
 */
async function answersAsMesodns(t: ExecutionContext, resolver: RunningResolver): Promise<void> {
  const port = resolver.port;
  const questions = DEMO_QUERIES.flatMap(([name, type]) => [name, type]);
  const direct = await dig(mesodnsPort(), ['+tcp', ...questions]);
  // Through the resolver: UDP first, TCP when truncated (dig retries by itself).
  const through = await dig(port, ['+time=5', ...questions, 'nope.marathon.mesos', 'A']);
  t.is(direct.messages.length, DEMO_QUERIES.length, direct.raw);
  t.is(through.messages.length, DEMO_QUERIES.length + 1, `${through.raw}\n${resolver.logs()}`);
  DEMO_QUERIES.forEach(([name, type, count], i) => {
    const fromMesodns = direct.messages[i];
    const fromResolver = through.messages[i];
    if (fromMesodns === undefined || fromResolver === undefined) return;
    t.is(fromMesodns.status, 'NOERROR', `${name} ${type}\n${direct.raw}`);
    t.is(rdata(fromMesodns, type).length, count, `${name} ${type} from mesodns`);
    t.is(fromResolver.status, 'NOERROR', `${name} ${type}:\n${through.raw}\n${resolver.logs()}`);
    t.deepEqual(rdata(fromResolver, type), rdata(fromMesodns, type), `${name} ${type}`);
  });
  t.is(through.messages[DEMO_QUERIES.length]?.status, 'NXDOMAIN', through.raw);
}

/** Node's resolver (c-ares) against `port`: the big app's A, AAAA and SRV. */
async function nodeResolvesBigApp(t: ExecutionContext, port: number): Promise<void> {
  const resolver = new dnsPromises.Resolver({ timeout: 5000, tries: 2 });
  resolver.setServers([`127.0.0.1:${String(port)}`]);
  t.deepEqual((await resolver.resolve4('big.marathon.mesos')).sort(), BIG_V4);
  t.deepEqual((await resolver.resolve6('big.marathon.mesos')).sort(), BIG_V6);
  const srv = await resolver.resolveSrv('_big._tcp.marathon.mesos');
  t.is(srv.length, 2 * BIG);
  t.deepEqual([...new Set(srv.map((s) => s.port))].sort(), [8080, 9100]);
  const targets = new Set(srv.map((s) => s.name));
  t.is(targets.size, BIG);
  for (const target of targets) t.regex(target, /^big-[a-z0-9]+-s[0-2]\.marathon\.mesos$/);
  // Each target resolves to one of the app's addresses.
  const first = [...targets][0] ?? '';
  const address = await resolver.resolve4(first);
  t.is(address.length, 1);
  t.true(BIG_V4.includes(address[0] ?? ''), first);
}

test('Node resolves the A, AAAA and SRV records of a 150-instance dual-stack app', async (t) => {
  await nodeResolvesBigApp(t, mesodnsPort());
});

test('the SRV answer of the big app keeps its additional section within 16 KiB', async (t) => {
  if (!haveTools(t, ['dig'])) return;
  const r = await dig(mesodnsPort(), ['_big._tcp.marathon.mesos', 'SRV', '+tcp']);
  t.is(r.status, 'NOERROR', r.raw);
  t.is(r.answer.length, 2 * BIG);
  t.true(r.additional.length > 0, r.raw);
  t.true(r.msgSize !== undefined && r.msgSize <= 0x4000, `${String(r.msgSize)} bytes`);
});

test('dnsmasq in front: dig gets the A, AAAA and SRV records as mesodns gives them', async (t) => {
  if (!haveTools(t, ['dnsmasq', 'dig'])) return;
  const dnsmasq = await startDnsmasq(mesodnsPort());
  t.teardown(() => dnsmasq.stop());
  await answersAsMesodns(t, dnsmasq);
});

test('dnsmasq in front: Node resolves the big app', async (t) => {
  if (!haveTools(t, ['dnsmasq'])) return;
  const dnsmasq = await startDnsmasq(mesodnsPort());
  t.teardown(() => dnsmasq.stop());
  await nodeResolvesBigApp(t, dnsmasq.port);
});

async function unboundOrSkip(
  t: ExecutionContext,
  options: Parameters<typeof startUnbound>[1] = {},
): Promise<RunningResolver | undefined> {
  if (!haveTools(t, ['unbound', 'dig'])) return undefined;
  const unbound = await startUnbound(mesodnsPort(), options);
  t.teardown(() => unbound.stop());
  return unbound;
}

test('unbound in front: dig gets the A, AAAA and SRV records as mesodns gives them', async (t) => {
  const unbound = await unboundOrSkip(t);
  if (unbound === undefined) return;
  await answersAsMesodns(t, unbound);
});

test('unbound in front: Node resolves the big app', async (t) => {
  const unbound = await unboundOrSkip(t);
  if (unbound === undefined) return;
  await nodeResolvesBigApp(t, unbound.port);
});

test('unbound without do-not-query-localhost: no never asks mesodns (SERVFAIL)', async (t) => {
  const unbound = await unboundOrSkip(t, { queryLocalhost: false });
  if (unbound === undefined) return;
  const r = await dig(unbound.port, ['web.marathon.mesos', 'A', '+time=10']);
  t.is(r.status, 'SERVFAIL', r.raw);
  // Not a validation failure: with checking disabled there is still no server to ask.
  const unchecked = await dig(unbound.port, ['web.marathon.mesos', 'A', '+time=10', '+cd']);
  t.is(unchecked.status, 'SERVFAIL', unchecked.raw);
});

test('unbound validating without domain-insecure for the domain fails it (SERVFAIL)', async (t) => {
  const unbound = await unboundOrSkip(t, { domainInsecure: false });
  if (unbound === undefined) return;
  const r = await dig(unbound.port, ['web.marathon.mesos', 'A', '+time=10']);
  t.is(r.status, 'SERVFAIL', r.raw);
  // The answer itself arrives: only validation fails (checking disabled gets it).
  const unchecked = await dig(unbound.port, ['web.marathon.mesos', 'A', '+time=10', '+cd']);
  t.is(unchecked.status, 'NOERROR', unchecked.raw);
  t.is(rdata(unchecked, 'A').length, 3, unchecked.raw);
});

/** `== ahostsv4 NAME exit=CODE` sections of netns-getaddrinfo.sh: the addresses of each. */
function getentSections(stdout: string): Map<string, { exit: number; addresses: string[] }> {
  const sections = new Map<string, { exit: number; addresses: string[] }>();
  let current: { exit: number; addresses: string[] } | undefined;
  for (const line of stdout.split('\n')) {
    const head = /^== (\S+ \S+) exit=(\d+)$/.exec(line);
    if (head !== null) {
      current = { exit: Number(head[2]), addresses: [] };
      sections.set(head[1] ?? '', current);
    } else if (current !== undefined && line.trim() !== '') {
      // getent ahosts: `ADDRESS  STREAM|DGRAM|RAW  [NAME]`; one line per socket type.
      const [address, socktype] = line.trim().split(/\s+/);
      if (socktype === 'STREAM' && address !== undefined) current.addresses.push(address);
    }
  }
  return sections;
}

test('glibc getaddrinfo resolves demo names through resolv.conf (network namespace)', async (t) => {
  if (!(await canUseNetns(t))) return;
  const names = ['web.marathon.mesos', 'api.marathon.mesos', 'big.marathon.mesos', 'nope.mesos'];
  const r = await runInNetns(
    t,
    'netns-getaddrinfo.sh',
    await demoWithBigApp(),
    { log: { level: 'info' } },
    names,
  );
  t.is(r.code, 0, `${r.stdout}${r.stderr}\n${r.log}`);
  const s = getentSections(r.stdout);
  const direct = async (name: string, type: string) =>
    rdata(await dig(mesodnsPort(), [name, type, '+tcp']), type);
  const web = s.get('ahostsv4 web.marathon.mesos');
  t.is(web?.exit, 0, r.stdout);
  t.deepEqual(web?.addresses.sort(), await direct('web.marathon.mesos', 'A'));
  t.is(web?.addresses.length, 3);
  t.deepEqual(s.get('ahostsv6 api.marathon.mesos')?.addresses, [
    ...(await direct('api.marathon.mesos', 'AAAA')),
  ]);
  t.is(s.get('ahostsv6 api.marathon.mesos')?.addresses.length, 1);
  // 150 A records (2.4 KB) do not fit in 512 bytes: glibc retries over TCP.
  t.deepEqual(s.get('ahostsv4 big.marathon.mesos')?.addresses.sort(), BIG_V4);
  t.deepEqual(s.get('ahostsv6 big.marathon.mesos')?.addresses.sort(), BIG_V6);
  t.is(s.get('ahostsv4 nope.mesos')?.exit, 2, r.stdout);
});
