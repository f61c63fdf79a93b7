// ZkLeaderDetector against a real ZooKeeper (Debian's zookeeper package), started once for this
// file. Serial: the restart tests take the server down for everyone.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ZkLeaderDetector } from '../../src/mesos/index.js';
import type { Logger } from '../../src/log.js';
import { waitFor } from '../../support/mesodns.js';
import { createNode, joinGroup, masterInfoJson, startZooKeeper } from '../../support/zookeeper.js';
import type { Membership } from '../../support/zookeeper.js';

const zk = await startZooKeeper();
test.after.always(() => zk.close());

const WAIT_MS = 10_000;
let groups = 0;

/** A fresh group path per test. */
function group(): string {
  groups++;
  return `/test${String(groups)}/mesos`;
}

interface Detection {
  readonly detector: ZkLeaderDetector;
  readonly changes: () => number;
  readonly logs: string[];
  /** What `onConnection` told, in order. */
  readonly connections: readonly boolean[];
}

function memoryLogger(lines: string[]): Logger {
  const log =
    (level: string) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      lines.push(`${new Date().toISOString()} ${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

async function detect(
  t: ExecutionContext,
  path: string,
  options: { scheme?: 'http' | 'https'; sessionTimeoutMs?: number } = {},
): Promise<Detection> {
  const logs: string[] = [];
  const connections: boolean[] = [];
  const detector = new ZkLeaderDetector({
    url: zk.url(path),
    scheme: options.scheme ?? 'http',
    logger: memoryLogger(logs),
    sessionTimeoutMs: options.sessionTimeoutMs ?? 4000,
    onConnection: (url, connected) => {
      if (url === zk.url(path)) connections.push(connected);
    },
  });
  let changes = 0;
  detector.start(() => {
    changes++;
  });
  t.teardown(() => detector.close());
  await detector.ready();
  return { detector, changes: () => changes, logs, connections };
}

async function join(
  t: ExecutionContext,
  path: string,
  port: number,
  label = 'json.info_',
  data: string | Buffer = masterInfoJson('127.0.0.1', port, `m${String(port)}.example`),
): Promise<Membership> {
  const member = await joinGroup(zk.connectString, path, data, label);
  t.teardown(() => member.leave());
  return member;
}

const leaderOf = (d: Detection): string | undefined => d.detector.candidates()[0];

test.serial(
  'the member with the lowest sequence leads; other znodes are not members',
  async (t) => {
    const path = group();
    await createNode(zk.connectString, `${path}/log_replicas`, 'replicated log');
    await join(t, path, 5051);
    await join(t, path, 5052);
    await join(t, path, 5053);
    const d = await detect(t, path);
    await waitFor(() => d.detector.candidates().length === 3, WAIT_MS, 'three masters');
    t.deepEqual(d.detector.candidates(), [
      'http://127.0.0.1:5051',
      'http://127.0.0.1:5052',
      'http://127.0.0.1:5053',
    ]);
    t.deepEqual(d.detector.masters(), ['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    t.is(d.detector.leaderUrl, 'http://127.0.0.1:5051');
    // Credentials go to the masters ZooKeeper lists, over the configured scheme, and not to a
    // master that only served the state (a redirect's target, a state's leader field).
    t.true(d.detector.vouchesFor('http://127.0.0.1:5053'));
    t.false(d.detector.vouchesFor('https://127.0.0.1:5051'));
    d.detector.noteLeader('http://10.9.9.9:5050');
    t.true(d.detector.candidates().includes('http://10.9.9.9:5050'));
    t.false(d.detector.vouchesFor('http://10.9.9.9:5050'));
  },
);

test.serial('the smallest sequence wins across the json, protobuf and pid forms', async (t) => {
  const path = group();
  // A legacy unlabelled member holding a pid, with the oldest sequence number.
  await createNode(zk.connectString, `${path}/0000000000`, 'master@127.0.0.1:6001');
  const protobuf = Buffer.from([0x10, 0xff, 0x80, 0x80, 0x08, 0x18, 0xf2, 0x2e]); // 127.0.0.1:6002
  await join(t, path, 6002, 'info_', protobuf);
  await join(t, path, 6003);
  const d = await detect(t, path);
  await waitFor(() => d.detector.candidates().length === 3, WAIT_MS, 'three members');
  t.deepEqual(d.detector.candidates(), [
    'http://127.0.0.1:6001',
    'http://127.0.0.1:6002',
    'http://127.0.0.1:6003',
  ]);
});

test.serial('over https the leader is addressed by its hostname', async (t) => {
  const path = group();
  await join(t, path, 7001);
  const d = await detect(t, path, { scheme: 'https' });
  await waitFor(() => leaderOf(d) !== undefined, WAIT_MS, 'a leader');
  t.is(leaderOf(d), 'https://m7001.example:7001');
});

test.serial(
  'when the leader leaves, the next oldest member leads and onChange fires',
  async (t) => {
    const path = group();
    const first = await join(t, path, 5061);
    await join(t, path, 5062);
    const d = await detect(t, path);
    await waitFor(() => leaderOf(d) === 'http://127.0.0.1:5061', WAIT_MS, 'first leader');
    const before = d.changes();
    await first.leave();
    await waitFor(() => leaderOf(d) === 'http://127.0.0.1:5062', WAIT_MS, 'second leader');
    t.true(d.changes() > before);
    t.true(d.logs.some((l) => l.includes('ZooKeeper names the Mesos leader')));
    // A newcomer does not take over: it is younger.
    await join(t, path, 5060);
    await waitFor(() => d.detector.candidates().length === 2, WAIT_MS, 'two members');
    t.is(leaderOf(d), 'http://127.0.0.1:5062');
  },
);

test.serial(
  'no leader while the group is empty or missing; one as soon as a master joins',
  async (t) => {
    const path = group();
    const d = await detect(t, path);
    t.deepEqual(d.detector.candidates(), []);
    t.true(d.logs.some((l) => l.includes('does not exist')));
    const member = await join(t, path, 5071);
    await waitFor(() => leaderOf(d) === 'http://127.0.0.1:5071', WAIT_MS, 'leader');
    await member.leave();
    await waitFor(() => d.detector.candidates().length === 0, WAIT_MS, 'no leader');
    t.true(d.logs.some((l) => l.includes('no master is registered')));
  },
);

test.serial('an unreadable leader znode means no leader, and says why', async (t) => {
  const path = group();
  await join(t, path, 5081, 'json.info_', 'this is not MasterInfo');
  await join(t, path, 5082);
  const d = await detect(t, path);
  await waitFor(
    () => d.logs.some((l) => l.includes('is unreadable')),
    WAIT_MS,
    'the reason logged',
  );
  t.is(d.detector.leaderUrl, undefined);
  t.deepEqual(d.detector.candidates(), []);
});

test.serial(
  'noteLeader puts a master that served the state first until ZooKeeper changes',
  async (t) => {
    const path = group();
    const first = await join(t, path, 5091);
    await join(t, path, 5092);
    const d = await detect(t, path);
    await waitFor(() => d.detector.candidates().length === 2, WAIT_MS, 'two members');
    d.detector.noteLeader('http://127.0.0.1:5092');
    t.is(leaderOf(d), 'http://127.0.0.1:5092');
    await first.leave();
    await waitFor(() => d.detector.candidates().length === 1, WAIT_MS, 'one member');
    t.deepEqual(d.detector.candidates(), ['http://127.0.0.1:5092']);
  },
);

test.serial('survives a ZooKeeper restart and follows leader changes after it', async (t) => {
  const path = group();
  const first = await join(t, path, 5101);
  const second = await join(t, path, 5102);
  const d = await detect(t, path);
  await waitFor(() => leaderOf(d) === 'http://127.0.0.1:5101', WAIT_MS, 'first leader');
  await zk.stop();
  await waitFor(() => !d.detector.connected, WAIT_MS, 'disconnected');
  // While ZooKeeper is down the last known leader stays in use.
  t.is(leaderOf(d), 'http://127.0.0.1:5101');
  await zk.start();
  await waitFor(() => d.detector.connected, WAIT_MS, 'reconnected');
  t.true(d.logs.some((l) => l.includes('ZooKeeper connection lost')));
  t.true(d.logs.some((l) => l.includes('ZooKeeper connection restored')));
  // What the metric shows (mesodns_zookeeper_connected): connected, lost, connected again.
  t.is(d.connections[0], true);
  t.true(d.connections.indexOf(false) > 0);
  t.is(d.connections.at(-1), true);
  // A master that registers after the restart, and the two from before it leave. Whether their
  // sessions survived the restart depends on how soon their clients were back, which a loaded
  // machine decides (both expired once), so the new leader is the member from after it.
  await join(t, path, 5103);
  await Promise.all([first.leave(), second.leave()]);
  try {
    await waitFor(() => leaderOf(d) === 'http://127.0.0.1:5103', 2 * WAIT_MS, 'new leader');
  } finally {
    for (const line of d.logs) t.log(line);
  }
  t.pass();
});

test.serial(
  'a ZooKeeper that lost its data gets a new session; masters that register again are found',
  async (t) => {
    const path = group();
    await join(t, path, 5111);
    const d = await detect(t, path, { sessionTimeoutMs: 1500 });
    await waitFor(() => leaderOf(d) === 'http://127.0.0.1:5111', WAIT_MS, 'first leader');
    await zk.restart({ wipe: true });
    await waitFor(
      () => d.logs.some((l) => l.includes('starting a new session')),
      WAIT_MS,
      'a new session',
    );
    await waitFor(() => d.detector.connected, WAIT_MS, 'connected again');
    await waitFor(() => d.detector.candidates().length === 0, WAIT_MS, 'no leader in empty data');
    await join(t, path, 5112);
    await waitFor(() => leaderOf(d) === 'http://127.0.0.1:5112', WAIT_MS, 'the new leader');
    t.pass();
  },
);
