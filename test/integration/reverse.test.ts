/**
 * End to end, issue #19 part 2: reverse lookups (`records.reverse`) with real clients against the
 * real mesodns process. The 10k-task synthetic cluster: every container address answers PTR with
 * its task's per-instance name (Node's `dns.reverse`), forward and reverse agree for every PTR,
 * agents answer with their hostname; inside the reverse zones unknown addresses are NXDOMAIN
 * with the zone's SOA, names above known addresses NODATA, SOA and NS at the apex (dig);
 * outside them mesodns forwards (knot upstream). PTRs follow the event stream and poll rebuilds;
 * the forward zone's transfer is unchanged. glibc's getnameinfo and Java's
 * `InetAddress.getCanonicalHostName` ask through a namespace-local resolv.conf.
 */
import { Resolver } from 'node:dns/promises';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { syntheticState } from '../../support/cluster.js';
import type { MasterState } from '../../support/cluster.js';
import { dig } from '../../support/dig.js';
import { FakeMaster, FakeMasterCluster } from '../../support/fake-master.js';
import {
  answerData,
  ask,
  buildQuery,
  metricValue,
  queryRaw,
  rcodeOf,
  startMesodns,
  waitFor,
} from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { canUseNetns, runInNetns } from '../../support/netns.js';
import { findTool } from '../../support/resolvers.js';
import { startKnot } from '../../support/upstream.js';
import type { KnotUpstream } from '../../support/upstream.js';
import { reverseName } from '../../src/net/reverse.js';
import { ipv6Groups, formatIpv6 } from '../../src/net/ip.js';
import { domainFragment, labelFunction, taskIdHash } from '../../src/records/index.js';

/** The synthetic cluster's networks: CNI 9/8 and fd01:b::/32, agents and masters in 10/8. */
const ZONES = ['9.0.0.0/8', '10.0.0.0/8', 'fd01:b::/32'];

/** An upstream zone outside mesodns' reverse zones: forwarded PTR queries land here. */
const UPSTREAM_REVERSE = [
  '$TTL 300',
  '@ IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 60',
  '@ IN NS ns1.example.test.',
  '10 IN PTR www.example.test.',
  '',
].join('\n');

let big: { srv: Mesodns; state: MasterState; knot: KnotUpstream } | undefined;

test.before(async () => {
  const knot = await startKnot({ '2.0.192.in-addr.arpa.': UPSTREAM_REVERSE });
  const state = syntheticState({ tasks: 10_000 });
  const srv = await startMesodns({
    state,
    config: {
      records: { reverse: { enabled: true, zones: ZONES } },
      forward: { enabled: true, resolvers: [knot.address] },
      http: { enabled: true },
      log: { level: 'info' },
    },
    readyTimeoutMs: 60_000,
  });
  big = { srv, state, knot };
});

test.after.always(async () => {
  await big?.srv.stop();
  await big?.knot.stop();
});

function bigServer(): { srv: Mesodns; state: MasterState } {
  if (big === undefined) throw new Error('mesodns not started');
  return big;
}

/** A container address and the per-instance name Mesos-DNS gives its task. */
interface Expected {
  readonly address: string;
  readonly name: string;
}

/** An address without a CNI `/prefix`, IPv6 in canonical form (how PTRs and AAAAs print it). */
function canonical(address: string): string {
  const bare = address.replace(/\/\d+$/, '');
  const groups = bare.includes(':') ? ipv6Groups(bare) : undefined;
  return groups === undefined ? bare : formatIpv6(groups);
}

/**
 * Container addresses of the state, worked out from the document itself: running CNI tasks'
 * addresses of their latest RUNNING status, and the name `{task}-{hash}-{agent}.{framework}.mesos.`
 * (the DiscoveryInfo name labelled when there is one). `running: false`: the addresses of tasks
 * that are not running.
 */
function containerAddresses(state: MasterState, running = true): Expected[] {
  const label = labelFunction(false);
  const out: Expected[] = [];
  for (const fw of state.frameworks) {
    for (const task of fw.tasks) {
      if (task.container?.network_infos === undefined) continue; // CNI tasks only
      if ((task.state === 'TASK_RUNNING') !== running) continue;
      const statuses = task.statuses.filter((s) => running || s.container_status !== undefined);
      const latest = statuses
        .filter((s) => !running || s.state === 'TASK_RUNNING')
        .reduce<(typeof statuses)[number] | undefined>(
          (best, s) => (best === undefined || s.timestamp > best.timestamp ? s : best),
          undefined,
        );
      const base = task.discovery?.name ?? task.name;
      const tail = task.slave_id.slice(task.slave_id.lastIndexOf('-') + 1).toLowerCase();
      const name = `${label(base)}-${taskIdHash(task.id)}-${tail}.${domainFragment(fw.name, label)}.mesos.`;
      for (const info of latest?.container_status?.network_infos ?? []) {
        for (const ip of info.ip_addresses) out.push({ address: canonical(ip.ip_address), name });
      }
    }
  }
  return out;
}

/** Runs `fn` over `items`, `width` at a time; the results in order. */
async function inBatches<T, U>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<U>,
): Promise<U[]> {
  const out: U[] = [];
  for (let i = 0; i < items.length; i += width) {
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  }
  return out;
}

function resolverOf(srv: Mesodns): Resolver {
  const resolver = new Resolver({ timeout: 5000, tries: 2 });
  resolver.setServers([`127.0.0.1:${String(srv.dnsPort)}`]);
  return resolver;
}

/** Node's `dns.reverse`: the names, or the error code (`ENOTFOUND` for NXDOMAIN). */
async function nodeReverse(resolver: Resolver, address: string): Promise<string[] | string> {
  try {
    return (await resolver.reverse(address)).map((n) => `${n}.`);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/** The addresses `name` resolves to in mesodns (A and AAAA), asked with Node's resolver. */
async function forward(resolver: Resolver, name: string): Promise<string[]> {
  const none = (error: unknown): string[] => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENODATA') return [];
    throw error;
  };
  const [a, aaaa] = await Promise.all([
    resolver.resolve4(name).catch(none),
    resolver.resolve6(name).catch(none),
  ]);
  return [...a, ...aaaa];
}

test('10k tasks: every container address answers PTR with its per-instance name (Node dns.reverse), forward agrees', async (t) => {
  const { srv, state } = bigServer();
  const expected = containerAddresses(state);
  t.true(expected.length > 2000, `${String(expected.length)} container addresses`);
  t.true(
    expected.some((e) => e.address.includes(':')),
    'IPv6 container addresses too',
  );
  const resolver = resolverOf(srv);
  const wrong: string[] = [];
  await inBatches(expected, 50, async ({ address, name }) => {
    const names = await nodeReverse(resolver, address);
    if (JSON.stringify(names) !== JSON.stringify([name])) {
      wrong.push(`${address}: ${JSON.stringify(names)}, want ${name}`);
      return;
    }
    const addresses = await forward(resolver, name);
    if (!addresses.includes(address))
      wrong.push(`${name}: ${addresses.join(' ')} lacks ${address}`);
  });
  t.deepEqual(wrong.slice(0, 10), [], `${String(wrong.length)} of ${String(expected.length)}`);
  // A task that is not running has neither forward records nor a PTR.
  // (Their container network's addresses: an earlier status may carry the agent's.)
  const stopped = containerAddresses(state, false).filter(
    (s) => /^(9\.|fd01:b:)/.test(s.address) && !expected.some((e) => e.address === s.address),
  );
  t.true(stopped.length > 0);
  for (const { address } of stopped.slice(0, 20)) {
    t.is(await nodeReverse(resolver, address), 'ENOTFOUND', address);
  }
});

test('10k tasks: agents answer with their Mesos hostname, and it is the agent of that address', async (t) => {
  const { srv, state } = bigServer();
  const resolver = resolverOf(srv);
  const agents = state.slaves.map((a) => ({
    address: a.pid.slice(a.pid.indexOf('@') + 1, a.pid.lastIndexOf(':')),
    hostname: a.hostname,
  }));
  const named = agents.filter((a) => !/^[0-9.]+$/.test(a.hostname));
  t.true(named.length > 300 && named.length < agents.length, `${String(named.length)} named`);
  const results = await inBatches(agents, 100, async (a) => ({
    ...a,
    got: await nodeReverse(resolver, a.address),
  }));
  for (const { address, hostname, got } of results) {
    // An agent whose hostname is its IP has no name to give: NXDOMAIN in the 10/8 zone.
    const want = named.some((a) => a.address === address) ? [`${hostname}.`] : 'ENOTFOUND';
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`${address}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      return;
    }
  }
  t.pass();
});

test('dig -x: authoritative answers, NXDOMAIN with the reverse zone SOA, NODATA above addresses, apex SOA and NS', async (t) => {
  const { srv, state } = bigServer();
  const port = srv.dnsPort;
  const [first] = containerAddresses(state);
  if (first === undefined) return t.fail('no container address');
  const hit = await dig(port, ['-x', first.address]);
  t.is(hit.status, 'NOERROR', hit.raw);
  t.true(hit.flags.has('aa'), hit.raw);
  t.deepEqual(
    hit.answer.map((rr) => [rr.name, rr.type, rr.data]),
    [[reverseName(first.address), 'PTR', first.name]],
  );

  const serial = (await dig(port, ['mesos', 'SOA'])).answer[0]?.data.split(' ')[2];
  // An address of a reverse zone that nothing has: NXDOMAIN and the zone's SOA (its serial).
  for (const [address, apex] of [
    ['9.255.255.254', '9.in-addr.arpa.'],
    ['fd01:b:ffff::1', 'b.0.0.0.1.0.d.f.ip6.arpa.'],
  ] as const) {
    const miss = await dig(port, ['-x', address]);
    t.is(miss.status, 'NXDOMAIN', miss.raw);
    t.true(miss.flags.has('aa'), miss.raw);
    t.deepEqual(
      miss.authority.map((rr) => [rr.name, rr.type, rr.data.split(' ')[2]]),
      [[apex, 'SOA', serial]],
      miss.raw,
    );
  }
  // The name above a known address exists: NODATA, with the SOA.
  const above = reverseName(first.address)?.split('.').slice(1).join('.') ?? '';
  const ent = await dig(port, [above, 'PTR']);
  t.is(ent.status, 'NOERROR', ent.raw);
  t.is(ent.answer.length, 0, ent.raw);
  t.is(ent.authority[0]?.type, 'SOA', ent.raw);
  // The apex: SOA and NS, like the zone's own.
  const soa = await dig(port, ['9.in-addr.arpa', 'SOA']);
  t.deepEqual(
    soa.answer.map((rr) => [rr.name, rr.data]),
    [['9.in-addr.arpa.', `ns1.mesos. root.ns1.mesos. ${String(serial)} 60 600 86400 60`]],
  );
  const ns = await dig(port, ['b.0.0.0.1.0.d.f.ip6.arpa', 'NS']);
  t.deepEqual(
    ns.answer.map((rr) => rr.data),
    ['ns1.mesos.'],
  );
  // An A query for a reverse name is NODATA (the name exists), not forwarded.
  const a = await dig(port, [reverseName(first.address) ?? '', 'A']);
  t.is(a.status, 'NOERROR', a.raw);
  t.true(a.flags.has('aa'), a.raw);
  t.is(a.answer.length, 0);
});

test('outside the reverse zones an unknown PTR is forwarded (knot answers)', async (t) => {
  const { srv } = bigServer();
  const forwarded = await dig(srv.dnsPort, ['-x', '192.0.2.10']);
  t.is(forwarded.status, 'NOERROR', forwarded.raw);
  t.false(forwarded.flags.has('aa'), 'the upstream answer, relayed');
  t.deepEqual(
    forwarded.answer.map((rr) => rr.data),
    ['www.example.test.'],
  );
  const nothing = await dig(srv.dnsPort, ['-x', '192.0.2.99']);
  t.is(nothing.status, 'NXDOMAIN', nothing.raw);
  t.is(nothing.authority[0]?.name, '2.0.192.in-addr.arpa.', 'the upstream zone SOA');
});

/** Whether `address` answers PTR `name` (or, `name` undefined, NXDOMAIN). */
async function ptrIs(srv: Mesodns, address: string, name: string | undefined): Promise<boolean> {
  const r = await ask(srv.dnsPort, reverseName(address) ?? '', 'PTR');
  // answerData prints names without the trailing dot.
  return name === undefined ? r.rcode === 'NXDOMAIN' : answerData(r).join() === name.slice(0, -1);
}

async function followsChanges(
  t: ExecutionContext,
  master: { launchTask: FakeMaster['launchTask']; killTask: FakeMaster['killTask'] },
  srv: Mesodns,
): Promise<void> {
  const id = master.launchTask({ name: 'fresh', ip: '10.99.0.2', framework: 'marathon' });
  const tail = '-s0.marathon.mesos.';
  const name = `fresh-${taskIdHash(id)}${tail}`;
  await waitFor(() => ptrIs(srv, '10.99.0.2', name), 10_000, 'the PTR of a launched task');
  t.deepEqual(await forward(resolverOf(srv), name), ['10.99.0.2']);
  t.true(master.killTask(id));
  await waitFor(() => ptrIs(srv, '10.99.0.2', undefined), 10_000, 'NXDOMAIN once killed');
}

test('stream mode: a launched task answers PTR, a killed one NXDOMAIN (incremental updates)', async (t) => {
  const cluster = new FakeMasterCluster({ size: 1, state: syntheticState({ tasks: 40 }) });
  await cluster.start();
  t.teardown(() => cluster.close());
  const srv = await startMesodns({
    config: {
      mesos: { masters: cluster.urls, mode: 'stream', refresh: '5m' },
      records: { reverse: { enabled: true, zones: ['10.99.0.0/16'] } },
    },
  });
  t.teardown(() => srv.stop());
  await followsChanges(t, cluster, srv);
  // Applied as incremental updates, none falling back to a full build.
  t.true((await metricValue(srv, 'mesodns_zone_update_task_changes_total')) >= 2);
  for (const reason of ['shared_name', 'changed_names', 'failed']) {
    t.is(await metricValue(srv, `mesodns_zone_update_fallbacks_total{reason="${reason}"}`), 0);
  }
});

test('poll mode: the same through full rebuilds; the forward zone transfers without PTRs, a reverse zone not at all', async (t) => {
  const master = new FakeMaster(syntheticState({ tasks: 40 }));
  await master.start();
  t.teardown(() => master.close());
  const srv = await startMesodns({
    config: {
      mesos: { masters: [master.url], mode: 'poll', refresh: '200ms' },
      records: { reverse: { enabled: true, zones: ['10.99.0.0/16'] } },
      transfer: { allow: ['127.0.0.1/32'] },
    },
  });
  t.teardown(() => srv.stop());
  await followsChanges(t, master, srv);
  // /v1/axfr lists the PTRs (the agents' here: their hostnames) beside the forward records.
  const body = (await (await fetch(`${srv.httpUrl}/v1/axfr`)).json()) as {
    Records: { PTRs?: Record<string, string[]> };
  };
  t.deepEqual(body.Records.PTRs?.['2.0.1.10.in-addr.arpa.'], ['agent-00001.cluster.internal.']);
  // Outside the reverse zones (10.99/16 here) a PTR mesodns has is answered; one it has not is
  // the forwarder's (off in this test: REFUSED), not NXDOMAIN.
  const known = await ask(srv.dnsPort, '2.0.1.10.in-addr.arpa', 'PTR');
  t.deepEqual(answerData(known), ['agent-00001.cluster.internal']);
  t.is((await ask(srv.dnsPort, '9.9.1.10.in-addr.arpa', 'PTR')).rcode, 'REFUSED');
  // dig prints a transfer as master-file lines: the type is the fourth field.
  const transfer = async (zone: string): Promise<{ raw: string; types: string[] }> => {
    const { raw } = await dig(srv.dnsPort, [zone, 'AXFR']);
    const records = raw.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';'));
    return { raw, types: records.map((line) => line.split(/\s+/)[3] ?? '') };
  };
  const axfr = await transfer('mesos');
  t.deepEqual(
    [...new Set(axfr.types)].sort(),
    ['A', 'AAAA', 'NS', 'SOA', 'SRV'],
    'no PTR in the forward zone',
  );
  t.true(axfr.types.length > 100);
  const reverseAxfr = await transfer('99.10.in-addr.arpa');
  t.deepEqual(reverseAxfr.types, [], reverseAxfr.raw);
  t.regex(reverseAxfr.raw, /Transfer failed/);
  // The answer dig does not print: NOTAUTH (9), as for any name other than the zone's.
  const reply = await queryRaw(srv.dnsPort, buildQuery('99.10.in-addr.arpa', 'AXFR'), 'tcp', 5000);
  t.is(reply === undefined ? -1 : rcodeOf(reply), 9);
});

/** Java with its compiler (a source-file launch); undefined when the machine has none. */
const JAVA =
  findTool('java') !== undefined && findTool('javac') !== undefined ? findTool('java') : undefined;

test(`glibc getnameinfo (getent hosts) and ${JAVA === undefined ? 'NOT Java (no java and javac on this machine)' : "Java's getCanonicalHostName"} through resolv.conf (network namespace)`, async (t) => {
  if (!(await canUseNetns(t))) return;
  const state = syntheticState({ tasks: 200 });
  const [v4, v6] = [
    containerAddresses(state).find((e) => !e.address.includes(':')),
    containerAddresses(state).find((e) => e.address.includes(':')),
  ];
  if (v4 === undefined || v6 === undefined) return t.fail('no container addresses');
  const agent = state.slaves.find((a) => !/^[0-9.]+$/.test(a.hostname));
  const agentAddress = agent?.pid.slice(agent.pid.indexOf('@') + 1, agent.pid.lastIndexOf(':'));
  if (agent === undefined || agentAddress === undefined) return t.fail('no named agent');
  const addresses = [v4.address, v6.address, agentAddress, '9.255.255.254'];
  const r = await runInNetns(
    t,
    'netns-reverse.sh',
    state,
    { records: { reverse: { enabled: true, zones: ZONES } } },
    [JAVA ?? '-', ...addresses],
  );
  t.is(r.code, 0, `${r.stdout}${r.stderr}\n${r.log}`);
  const getent = (address: string): string | undefined => {
    const lines = r.stdout.split('\n');
    const at = lines.indexOf(`== getent ${address} exit=0`);
    return at < 0 ? undefined : lines[at + 1]?.trim().split(/\s+/)[1];
  };
  // getent prints names without the trailing dot.
  t.is(getent(v4.address), v4.name.slice(0, -1), r.stdout);
  t.is(getent(v6.address), v6.name.slice(0, -1), r.stdout);
  t.is(getent(agentAddress), agent.hostname, r.stdout);
  t.true(r.stdout.includes('== getent 9.255.255.254 exit=2'), r.stdout);
  if (JAVA === undefined) {
    t.log('Java not checked: no java and javac on this machine');
    return;
  }
  // Java confirms the name forward: it prints the name only when the name has the address.
  t.true(r.stdout.includes(`== java ${v4.address} ${v4.name.slice(0, -1)}`), r.stdout);
  t.true(r.stdout.includes(`== java ${v6.address} ${v6.name.slice(0, -1)}`), r.stdout);
  t.true(r.stdout.includes(`== java 9.255.255.254 9.255.255.254`), r.stdout);
});
