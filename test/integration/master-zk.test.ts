/**
 * End to end: mesodns finds the leading master through a real ZooKeeper (Debian's package,
 * started once for this file) where three fake masters registered as Mesos masters do
 * (`json.info_*` ephemeral sequential znodes). Serial: one test restarts ZooKeeper.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { syntheticState } from '../../support/cluster.js';
import { dig } from '../../support/dig.js';
import { FakeMasterCluster, addTask, recoveringState } from '../../support/fake-master.js';
import type { FakeMaster, FakeMasterOptions } from '../../support/fake-master.js';
import { srvData } from '../../support/dns-message.js';
import {
  answerData,
  ask,
  metricValue,
  startMesodns,
  waitCarried,
  waitFor,
} from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { makeTestCa } from '../../support/test-ca.js';
import { joinGroup, masterInfoJson, startZooKeeper } from '../../support/zookeeper.js';
import type { Membership } from '../../support/zookeeper.js';

const zk = await startZooKeeper();
test.after.always(() => zk.close());

const PROBE = 'probe.marathon.mesos';
let groups = 0;

function clusterState(probeIp: string): unknown {
  const doc = syntheticState({ tasks: 40 });
  addTask(doc, { name: 'probe', ip: probeIp, framework: 'marathon' });
  return doc;
}

interface ZkCluster {
  readonly cluster: FakeMasterCluster;
  readonly members: Membership[];
  readonly path: string;
}

/** Three fake masters, each registered in a fresh ZooKeeper group in master order. */
async function zkCluster(
  t: ExecutionContext,
  options: FakeMasterOptions = {},
  hostname = '127.0.0.1',
): Promise<ZkCluster> {
  groups++;
  const path = `/cluster${String(groups)}/mesos`;
  const cluster = new FakeMasterCluster({ size: 3, state: clusterState('10.99.0.1'), ...options });
  await cluster.start();
  t.teardown(() => cluster.close());
  const members: Membership[] = [];
  for (const m of cluster.masters) {
    const member = await joinGroup(
      zk.connectString,
      path,
      masterInfoJson('127.0.0.1', m.port, hostname),
    );
    t.teardown(() => member.leave());
    members.push(member);
  }
  return { cluster, members, path };
}

/** `mesodns_zookeeper_connected` for the session to `path` (NaN before it reported). */
async function zkConnected(srv: Mesodns, path: string): Promise<number> {
  return metricValue(srv, `mesodns_zookeeper_connected{zk="${zk.url(path)}"}`);
}

/** Waits until the session to `path` is connected (1) or lost (0), by the metric. */
async function waitZk(srv: Mesodns, path: string, connected: 0 | 1, ms: number): Promise<void> {
  await waitFor(
    async () => (await zkConnected(srv, path)) === connected,
    ms,
    connected === 1 ? 'ZooKeeper connected' : 'ZooKeeper lost',
  );
}

/**
 * Stops the shared ZooKeeper for this test; a test that fails before starting it again leaves it
 * running all the same (else every later test of the file fails with it).
 */
async function stopZk(t: ExecutionContext): Promise<void> {
  t.teardown(() => zk.start().catch(() => undefined));
  await zk.stop();
}

async function probe(srv: Mesodns): Promise<string[]> {
  return answerData(await ask(srv.dnsPort, PROBE, 'A'));
}

async function leaderPort(srv: Mesodns): Promise<number | undefined> {
  const srv0 = (await ask(srv.dnsPort, '_leader._tcp.mesos', 'SRV')).answers[0];
  return srv0 === undefined ? undefined : srvData(srv0).port;
}

/** The leader's znode goes (its session ends) and the next master leads with `probeIp`. */
async function failover(
  z: ZkCluster,
  from: number,
  to: number,
  probeIp: string,
): Promise<FakeMaster> {
  const leaving = z.members[from];
  if (leaving === undefined) throw new Error(`no member ${String(from)}`);
  const next = z.cluster.failover(to, clusterState(probeIp));
  await leaving.leave();
  return next;
}

for (const mode of ['stream', 'poll']) {
  test.serial(
    `${mode}: finds the leader in ZooKeeper and follows a leader change at once`,
    async (t) => {
      const z = await zkCluster(t);
      // A long refresh: following the change cannot be the periodic poll.
      const srv = await startMesodns({
        config: { mesos: { zk: zk.url(z.path), refresh: '60s', mode } },
      });
      t.teardown(() => srv.stop());
      t.deepEqual(await probe(srv), ['10.99.0.1']);
      t.is(await leaderPort(srv), z.cluster.master(0).port);
      // Every master in ZooKeeper is a master record.
      const masters = await dig(srv.dnsPort, ['master.mesos', 'A']);
      t.deepEqual(
        masters.answer.map((r) => r.data),
        ['127.0.0.1'],
      );

      const changed = Date.now();
      await failover(z, 0, 1, '10.99.0.2');
      await waitFor(async () => (await probe(srv))[0] === '10.99.0.2', 5000, 'records follow');
      t.true(Date.now() - changed < 5000);
      t.is(await leaderPort(srv), z.cluster.master(1).port);
      t.regex(srv.logs(), /ZooKeeper names the Mesos leader/);
      t.regex(srv.logs(), /Mesos leader changed/);
      // Only the leader is polled: the followers were never asked.
      t.is(z.cluster.master(2).requests, 0);
    },
  );
}

test.serial('keeps serving through a ZooKeeper restart and follows changes after it', async (t) => {
  const z = await zkCluster(t);
  // Polling: the test counts polls while ZooKeeper is down.
  const srv = await startMesodns({
    config: { mesos: { zk: zk.url(z.path), refresh: '1s', mode: 'poll' } },
  });
  t.teardown(() => srv.stop());
  t.deepEqual(await probe(srv), ['10.99.0.1']);
  await waitZk(srv, z.path, 1, 5000);

  await stopZk(t);
  await waitZk(srv, z.path, 0, 10_000);
  // The log line comes on its own way (the worker's log message, stderr): after the metric.
  await waitFor(
    () => srv.logs().includes('ZooKeeper connection lost; polling the last known leader'),
    2000,
    'the loss logged',
  );
  // ZooKeeper is down: the last known leader is still polled, and its answers still served.
  const polls = z.cluster.master(0).requests;
  await waitFor(() => z.cluster.master(0).requests >= polls + 2, 10_000, 'polls go on');
  t.deepEqual(await probe(srv), ['10.99.0.1']);
  // A failover while ZooKeeper is down is still followed through the old leader's 307.
  z.cluster.failover(1, clusterState('10.99.0.2'));
  await waitFor(async () => (await probe(srv))[0] === '10.99.0.2', 10_000, 'followed by 307');

  await zk.start();
  await waitZk(srv, z.path, 1, 15_000);
  await waitFor(
    () => srv.logs().includes('ZooKeeper connection restored'),
    2000,
    'the reconnection logged',
  );
  // After the restart, ZooKeeper drives leader changes again: masters 0 and 1 leave.
  const member0 = z.members[0];
  if (member0 !== undefined) await member0.leave();
  await failover(z, 1, 2, '10.99.0.3');
  await waitFor(async () => (await probe(srv))[0] === '10.99.0.3', 10_000, 'records follow');
  t.is(await leaderPort(srv), z.cluster.master(2).port);
  // The session survives an outage shorter than its timeout (10 s): mesodns starts a new one
  // only when its timer, armed at the loss, fires first. On a loaded machine the JVM's restart
  // alone can take longer; then a new session is the expected way back. Within a second past
  // the timeout either may come first (the timer, or the old session's reconnection).
  const outageMs = logTime(srv, 'ZooKeeper connection restored') - logTime(srv, 'connection lost');
  const isNewSession = srv.logs().includes('starting a new session');
  if (outageMs < ZK_SESSION_TIMEOUT_MS) {
    t.false(isNewSession, `the session survived a ${String(outageMs)} ms restart`);
  } else if (outageMs >= ZK_SESSION_TIMEOUT_MS + 1000) {
    t.log(`ZooKeeper was away for ${String(outageMs)} ms: past the session timeout`);
    t.true(isNewSession, 'a new session after the timeout');
  }
});

for (const mode of ['poll', 'stream'] as const) {
  test.serial(
    `${mode}: ZooKeeper loses quorum during a failover; the names keep answering throughout`,
    async (t) => {
      const z = await zkCluster(t);
      const srv = await startMesodns({
        config: { mesos: { zk: zk.url(z.path), refresh: '1s', mode } },
      });
      t.teardown(() => srv.stop());
      t.deepEqual(await probe(srv), ['10.99.0.1']);
      const full = structuredClone(z.cluster.state) as { slaves: { id: string }[] };

      const answers = new Set<string>();
      const done = { value: false };
      const watching = (async () => {
        while (!done.value) {
          answers.add((await probe(srv)).join(',') || 'NXDOMAIN');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      try {
        await stopZk(t);
        await waitZk(srv, z.path, 0, 10_000);
        // The new leader, found through the old one's 307 while ZooKeeper is away, has not
        // registered any agent yet: they are carried.
        z.cluster.failover(1, recoveringState(full));
        await waitCarried(srv, (agents) => agents > 0, 'agents carried');
        for (const agent of full.slaves) z.cluster.reregisterAgent(agent.id, full);
        await waitCarried(srv, (agents) => agents === 0, 'agents back');
        await zk.start();
        await waitZk(srv, z.path, 1, 20_000);
      } finally {
        done.value = true;
        await watching;
      }
      t.deepEqual([...answers], ['10.99.0.1'], 'the probe answered throughout');
      t.is(await leaderPort(srv), z.cluster.master(1).port);
    },
  );
}

/** mesodns' ZooKeeper session timeout (src/mesos/zookeeper.ts). */
const ZK_SESSION_TIMEOUT_MS = 10_000;

/** The time (ms since the epoch) of the first log line that contains `text`. */
function logTime(srv: Mesodns, text: string): number {
  const line = srv
    .logs()
    .split('\n')
    .find((l) => l.includes(text));
  const at = Date.parse(line?.split(' ')[0] ?? '');
  if (Number.isNaN(at)) throw new Error(`no timestamped log line with "${text}"`);
  return at;
}

test.serial(
  'no master in ZooKeeper: SERVFAIL and a warning, then the zone once one registers',
  async (t) => {
    groups++;
    const path = `/empty${String(groups)}/mesos`;
    const cluster = new FakeMasterCluster({ size: 1, state: clusterState('10.99.0.1') });
    await cluster.start();
    t.teardown(() => cluster.close());
    const srv = await startMesodns({
      config: { mesos: { zk: zk.url(path), refresh: '60s', mode: 'poll' } },
      readiness: 'answer',
    });
    t.teardown(() => srv.stop());
    t.is((await dig(srv.dnsPort, [PROBE, 'A'])).status, 'SERVFAIL');
    await waitFor(
      async () => (await metricValue(srv, 'mesodns_state_loads_total{result="failed"}')) >= 1,
      5000,
      'a failed load',
    );
    await waitFor(
      () => srv.logs().includes('ZooKeeper names no Mesos leader'),
      2000,
      'the warning logged',
    );
    const member = await joinGroup(
      zk.connectString,
      path,
      masterInfoJson('127.0.0.1', cluster.master(0).port),
    );
    t.teardown(() => member.leave());
    await waitFor(async () => (await probe(srv))[0] === '10.99.0.1', 5000, 'loaded at once');
    t.pass();
  },
);

test.serial(
  'mesos.scheme https: the ZooKeeper leader is fetched over TLS by its hostname',
  async (t) => {
    const ca = await makeTestCa();
    t.teardown(() => ca.remove());
    const z = await zkCluster(
      t,
      { tls: { key: ca.serverKey.pem, cert: ca.serverCert.pem } },
      'localhost',
    );
    const srv = await startMesodns({
      config: { mesos: { zk: zk.url(z.path), scheme: 'https', tls: { ca: ca.ca.path } } },
    });
    t.teardown(() => srv.stop());
    t.deepEqual(await probe(srv), ['10.99.0.1']);
    t.regex(srv.logs(), new RegExp(`https://localhost:${String(z.cluster.master(0).port)}`));
  },
);
