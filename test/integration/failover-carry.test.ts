/**
 * End to end, issue #14: the real mesodns process against three fake masters and 2,000 tasks,
 * in poll and in stream mode. A leader failover whose agents re-register over 6 s loses no answer
 * for a running task (per-agent carry-over); a task killed while its agent was away is gone soon
 * after the agent is back; an agent removed during the hold loses its tasks; a master restarting
 * in place is a failover too; a state whose entries are all malformed is held back.
 */
import type { ExecutionContext } from 'ava';
import { syntheticState } from '../../support/cluster.js';
import {
  FakeMasterCluster,
  addTask,
  killTask,
  recoveringState,
} from '../../support/fake-master.js';
import {
  answerData,
  ask,
  metricValue,
  startMesodns,
  waitCarried,
  waitFor,
} from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { testsAtOnce } from '../../support/tests-at-once.js';

/**
 * Each test starts its own servers and mostly waits, so two run at once; but never the two
 * 2,000-task failovers together, whose bounds are measured in refreshes.
 */
const bigFailover = testsAtOnce(1);
const smallFailover = testsAtOnce(1);

type Mode = 'poll' | 'stream';

/** The probes: one task on each of these agents (indexes into `slaves`), with its own IP. */
const PROBE_AGENTS = [0, 9, 18, 27, 36, 45, 54, 63];
const probeName = (i: number): string => `probe${String(i)}.marathon.mesos`;
const probeIp = (i: number): string => `10.99.0.${String(i + 1)}`;

interface Cluster {
  readonly doc: { slaves: { id: string }[] };
  readonly probeIds: readonly string[];
}

/**
 * Synthetic tasks on 80 agents, plus the probes: 2,000 for the failover run the issue measures,
 * fewer where the size is not the point (each poll of 2,000 tasks is a build).
 */
function clusterState(tasks = 200): Cluster {
  const doc = syntheticState({ tasks, agents: 80 }) as unknown as { slaves: { id: string }[] };
  const probeIds = PROBE_AGENTS.map((agent, i) =>
    addTask(doc, {
      name: `probe${String(i)}`,
      ip: probeIp(i),
      framework: 'marathon',
      agentId: doc.slaves[agent]?.id ?? '',
    }),
  );
  return { doc, probeIds };
}

async function start(
  t: ExecutionContext,
  mode: Mode,
  state: unknown,
  mesos: Record<string, unknown> = {},
): Promise<{ cluster: FakeMasterCluster; srv: Mesodns }> {
  const cluster = new FakeMasterCluster({ size: 3, state, heartbeatSeconds: 1 });
  await cluster.start();
  t.teardown(() => cluster.close());
  const srv = await startMesodns({
    config: {
      mesos: {
        masters: cluster.urls,
        mode,
        // Poll mode follows at 1 s; the stream must not need polls at all.
        refresh: mode === 'poll' ? '1s' : '5m',
        ...mesos,
      },
      log: { level: 'debug' },
    },
    readiness: 'soa',
    readyTimeoutMs: 30_000,
  });
  t.teardown(() => srv.stop());
  return { cluster, srv };
}

/** One A query; the rcode name (`NOREPLY` when none came) and the addresses. */
async function askA(port: number, name: string): Promise<{ rcode: string; ips: string[] }> {
  const r = await ask(port, name, 'A');
  return { rcode: r.rcode, ips: answerData(r) };
}

/**
 * Asks every probe name every ~150 ms while `during` runs; returns the wrong answers seen
 * (anything but the probe's own address), for the names `running` says should be answered.
 */
async function watchProbes(
  srv: Mesodns,
  running: (i: number) => boolean,
  during: () => Promise<void>,
): Promise<{ wrong: string[]; asked: number }> {
  const wrong: string[] = [];
  let asked = 0;
  const done = { value: false };
  const loop = (async () => {
    while (!done.value) {
      await Promise.all(
        PROBE_AGENTS.map(async (_, i) => {
          if (!running(i)) return;
          const r = await askA(srv.dnsPort, probeName(i));
          asked++;
          if (running(i) && (r.rcode !== 'NOERROR' || r.ips[0] !== probeIp(i))) {
            const at = new Date().toISOString();
            wrong.push(`${at} ${probeName(i)}: ${r.rcode} ${r.ips.join(',')}`);
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  })();
  try {
    await during();
  } finally {
    done.value = true;
    await loop;
  }
  return { wrong, asked };
}

/**
 * On wrong answers, the server's log lines about the stream, leaders and the carry-over, so that
 * a failure says which path lost the answer.
 */
function explainWrong(t: ExecutionContext, srv: Mesodns, wrong: readonly string[]): void {
  if (wrong.length === 0) return;
  const lines = srv.logs().split('\n');
  const relevant = lines.filter((l) => /stream|leader|carr|agent|subscri|GET_MASTER/i.test(l));
  t.log(relevant.slice(-60).join('\n'));
}

/** Running tasks in a state document. */
function runningTasks(doc: unknown): number {
  const { frameworks } = doc as { frameworks: { tasks: { state: string }[] }[] };
  return frameworks.reduce(
    (n, fw) => n + fw.tasks.filter((task) => task.state === 'TASK_RUNNING').length,
    0,
  );
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

for (const mode of ['poll', 'stream'] as const) {
  bigFailover(
    `${mode}: a failover whose agents re-register over 6 s loses no answer; a task killed meanwhile goes`,
    async (t) => {
      const { doc, probeIds } = clusterState(2000);
      const { cluster, srv } = await start(t, mode, doc);
      for (let i = 0; i < PROBE_AGENTS.length; i++) {
        t.deepEqual((await askA(srv.dnsPort, probeName(i))).ips, [probeIp(i)]);
      }
      // The probe on the last agent group is killed while its agent is away.
      const killed = PROBE_AGENTS.length - 1;
      const full = structuredClone(doc);
      // The killed probe must answer until its agent is back, and not after.
      let killedAgentBack = false;
      let killedGone: Promise<number> | undefined;
      let goneMs: number | undefined;
      const { wrong, asked } = await watchProbes(
        srv,
        (i) => i !== killed || !killedAgentBack,
        async () => {
          cluster.failover(1, recoveringState(full));
          await waitCarried(srv, 80, 'every agent carried');
          t.is(await metricValue(srv, 'mesodns_failover_carried_tasks'), runningTasks(full));
          killTask(full, probeIds[killed] ?? '');
          // Six groups of agents, one a second, in agent order.
          const agents = full.slaves.map((s) => s.id);
          const killedAgent = agents[PROBE_AGENTS[killed] ?? 0];
          for (let g = 0; g < 6; g++) {
            const group = agents.slice(Math.floor((g * 80) / 6), Math.floor(((g + 1) * 80) / 6));
            const hasKilled = killedAgent !== undefined && group.includes(killedAgent);
            if (hasKilled) killedAgentBack = true;
            const at = Date.now();
            for (const id of group) cluster.reregisterAgent(id, full);
            if (hasKilled) {
              killedGone = waitFor(
                async () => (await askA(srv.dnsPort, probeName(killed))).rcode === 'NXDOMAIN',
                // Correctness, not speed: the time is logged below. Alongside the Dockerfile
                // test's npm ci and a ZooKeeper start, 3 s was missed once on 2 cores.
                10_000,
                'the killed task gone after its agent re-registered',
                50,
              ).then(() => Date.now() - at);
            }
            if (g < 5) await sleep(1000);
          }
          goneMs = await killedGone;
          // Correctness again: a 1 s refresh plus a 2,000-task build, but 5 s was missed once on
          // 2 cores beside the Dockerfile test's npm ci.
          await waitCarried(srv, 0, 'nothing carried any more', 15_000);
        },
      );
      t.log(
        `${mode}: the killed task answered NXDOMAIN ${String(goneMs)} ms after its agent was back`,
      );
      t.not(goneMs, undefined);
      explainWrong(t, srv, wrong);
      t.deepEqual(wrong, [], `no wrong answer in ${String(asked)} queries`);
      t.true(asked > 100, `the probes were asked throughout (${String(asked)})`);
      t.regex(srv.logs(), /does not list every agent yet; serving the tasks/);
      t.regex(srv.logs(), /every carried agent is resolved.*reregistered=80/);
      await waitFor(
        async () => (await metricValue(srv, 'mesodns_failover_carried_tasks')) === 0,
        2000,
        'no task carried',
      );
    },
  );

  smallFailover(`${mode}: an agent removed during the hold loses its tasks`, async (t) => {
    const { doc } = clusterState();
    const { cluster, srv } = await start(t, mode, doc);
    const full = structuredClone(doc);
    cluster.failover(2, recoveringState(full));
    await waitCarried(srv, 80, 'every agent carried');
    // Agent 0 (probe0's) is marked unreachable: it leaves recovered_slaves without registering.
    t.true(cluster.removeAgent(full.slaves[0]?.id ?? '', null));
    await waitFor(
      async () => (await askA(srv.dnsPort, probeName(0))).rcode === 'NXDOMAIN',
      mode === 'stream' ? 3000 : 4000,
      'the removed agent task gone',
    );
    t.deepEqual((await askA(srv.dnsPort, probeName(1))).ips, [probeIp(1)], 'the others stay');
    // The counters reach the main thread just after the zone.
    await waitCarried(srv, 79, 'one agent fewer carried', 2000);
  });

  smallFailover(
    `${mode}: after mesos.failover.maxHold the carried tasks are dropped`,
    async (t) => {
      const { doc } = clusterState();
      const { cluster, srv } = await start(t, mode, doc, { failover: { maxHold: '2s' } });
      const full = structuredClone(doc);
      // A master restarting in place (a new process id) is a leader change too.
      cluster.master(0).restartProcess();
      cluster.setState(recoveringState(full));
      if (mode === 'stream') cluster.master(0).dropStreams();
      await waitCarried(srv, 80, 'every agent carried');
      t.deepEqual((await askA(srv.dnsPort, probeName(0))).ips, [probeIp(0)]);
      await waitFor(
        async () => (await askA(srv.dnsPort, probeName(0))).rcode === 'NXDOMAIN',
        6000,
        'dropped after maxHold',
      );
      t.regex(srv.logs(), /did not re-register within mesos\.failover\.maxHold/);
      await waitCarried(srv, 0, 'nothing carried', 2000);
    },
  );

  smallFailover(`${mode}: a state whose tasks are all malformed is held back`, async (t) => {
    const { doc } = clusterState();
    const { cluster, srv } = await start(t, mode, doc);
    const broken = structuredClone(doc) as unknown as {
      frameworks: { tasks: Record<string, unknown>[] }[];
    };
    for (const fw of broken.frameworks) for (const task of fw.tasks) task['slave_id'] = 42;
    cluster.setState(broken);
    if (mode === 'stream') cluster.master(0).dropStreams();
    await waitFor(
      async () =>
        /reason="malformed"\} [1-9]/.test(await (await fetch(`${srv.httpUrl}/metrics`)).text()),
      10_000,
      'the state held',
    );
    for (let i = 0; i < PROBE_AGENTS.length; i++) {
      t.deepEqual((await askA(srv.dnsPort, probeName(i))).ips, [probeIp(i)], 'the zone is kept');
    }
    t.is(srv.logs().match(/state held back: most of its entries are malformed/g)?.length, 1);
  });
}

smallFailover(
  'stream: a stream cut during the hold keeps carrying, and a leader change carries anew',
  async (t) => {
    const { doc } = clusterState();
    const { cluster, srv } = await start(t, 'stream', doc);
    const full = structuredClone(doc);
    const subscriptions = async (): Promise<number> =>
      await metricValue(srv, 'mesodns_stream_subscriptions_total');
    const { wrong, asked } = await watchProbes(
      srv,
      () => true,
      async () => {
        cluster.failover(1, recoveringState(full));
        await waitCarried(srv, 80, 'every agent carried');
        // The first group is back; then the same leader's stream is cut (missed heartbeats).
        const agents = full.slaves.map((s) => s.id);
        for (const id of agents.slice(0, 10)) cluster.reregisterAgent(id, full);
        await waitCarried(srv, 70, 'ten agents back');
        let before = await subscriptions();
        cluster.master(1).dropStreams();
        await waitFor(async () => (await subscriptions()) > before, 10_000, 're-subscribed');
        t.is(await metricValue(srv, 'mesodns_failover_carried_agents'), 70, 'still carried');
        // Another failover while agents are carried, then the rest come back.
        before = await subscriptions();
        cluster.failover(2, recoveringState(full));
        await waitFor(async () => (await subscriptions()) > before, 10_000, 'the new leader');
        await waitCarried(srv, 80, 'every agent carried again');
        for (const id of agents) cluster.reregisterAgent(id, full);
        await waitCarried(srv, 0, 'nothing carried any more');
      },
    );
    explainWrong(t, srv, wrong);
    t.deepEqual(wrong, [], `no wrong answer in ${String(asked)} queries`);
    t.true(asked > 20, `the probes were asked throughout (${String(asked)})`);
  },
);
