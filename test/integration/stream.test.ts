/**
 * End to end, issue #8: the real mesodns process follows the fake masters' v1 event stream
 * (`mesos.mode: stream`, the default): new and killed tasks within a second, dropped
 * connections, silent streams, a leader failover with a partial snapshot, the poll fallback for
 * masters without the v1 API, and the periodic resync that finds drift. Issue 14: a stream that
 * trickles bytes after its snapshot is dropped by the watchdog, and garbage after a good snapshot
 * is retried with growing backoff, both with the last zone served and one log line per fault.
 */
import type { ExecutionContext } from 'ava';
import { syntheticState } from '../../support/cluster.js';
import { backoffMs } from '../../src/mesos/loop.js';
import { FakeMasterCluster, addTask, recoveringState } from '../../support/fake-master.js';
import type { FakeClusterOptions, FakeMaster, RecordedRequest } from '../../support/fake-master.js';
import { soaData } from '../../support/dns-message.js';
import { parsePrometheusText, sampleSum } from '../../support/prometheus-text.js';
import { answerData, ask, metricValue, startMesodns, waitFor } from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { testsAtOnce } from '../../support/tests-at-once.js';

/** Each test starts its own servers and mostly waits: two run at once. */
const twoAtOnce = testsAtOnce(2);

/**
 * How often waits on /metrics scrape it. A scrape costs about 8 ms of CPU (mesodns renders,
 * the test parses) and the counters reach /metrics up to a second after what they count, so
 * polling every 50 ms spent CPU on a hundred scrapes per test for nothing. No bound is timed by
 * these waits (the launch and kill latencies are timed by `within`, asking DNS every 20 ms).
 */
const METRICS_POLL_MS = 200;

/** A synthetic cluster plus the task `probe` (container IP 10.99.0.1) in `marathon`. */
function clusterState(tasks = 40): unknown {
  const doc = syntheticState({ tasks });
  addTask(doc, { name: 'probe', ip: '10.99.0.1', framework: 'marathon' });
  return doc;
}

async function startCluster(
  t: ExecutionContext,
  options: FakeClusterOptions = {},
): Promise<FakeMasterCluster> {
  const cluster = new FakeMasterCluster({
    size: 2,
    state: clusterState(),
    heartbeatSeconds: 0.5,
    ...options,
  });
  await cluster.start();
  t.teardown(() => cluster.close());
  return cluster;
}

async function mesodns(
  t: ExecutionContext,
  cluster: FakeMasterCluster,
  mesos: Record<string, unknown> = {},
): Promise<Mesodns> {
  // A poll period far beyond every wait below: only the stream can make these tests pass.
  const srv = await startMesodns({
    config: {
      mesos: { masters: cluster.urls, refresh: '5m', ...mesos },
      http: { enabled: true },
      log: { level: 'debug' },
    },
    readiness: 'soa',
  });
  t.teardown(() => srv.stop());
  return srv;
}

async function addresses(srv: Mesodns, name: string): Promise<string[]> {
  const r = await ask(srv.dnsPort, name, 'A');
  return r.rcode === 'NOERROR' ? answerData(r).sort() : [r.rcode];
}

async function serial(srv: Mesodns): Promise<number> {
  const soa = (await ask(srv.dnsPort, 'mesos', 'SOA')).answers[0];
  return soa === undefined ? NaN : soaData(soa).serial;
}

/** Polls every 20 ms until `check` holds; returns the milliseconds it took, or throws. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${String(ms)} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether `/v1/enumerate` lists the task with id `id`. */
async function enumerates(srv: Mesodns, id: string): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${String(srv.httpPort)}/v1/enumerate`);
  const body = (await res.json()) as { frameworks: { tasks: { id: string }[] }[] };
  return body.frameworks.some((fw) => fw.tasks.some((task) => task.id === id));
}

/** `mesodns_zone_names` now. */
async function zoneNames(srv: Mesodns): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${String(srv.httpPort)}/metrics`);
  return sampleSum(parsePrometheusText(await res.text()), 'mesodns_zone_names');
}

twoAtOnce(
  'a launched task answers within a second, a killed one is gone within a second',
  async (t) => {
    const cluster = await startCluster(t);
    const srv = await mesodns(t, cluster);
    t.deepEqual(await addresses(srv, 'probe.marathon.mesos'), ['10.99.0.1']);
    const serials = [await serial(srv)];
    const namesBefore = await zoneNames(srv);
    const id = cluster.launchTask({ name: 'fresh', ip: '10.99.0.2', framework: 'marathon' });
    const launchMs = await within(1000, 'launch', async () =>
      (await addresses(srv, 'fresh.marathon.mesos')).includes('10.99.0.2'),
    );
    t.log(`launch answered after ${String(launchMs)} ms`);
    // The HTTP API reads the updated names too.
    const hosts = await fetch(
      `http://127.0.0.1:${String(srv.httpPort)}/v1/hosts/fresh.marathon.mesos`,
    );
    t.deepEqual(await hosts.json(), [{ host: 'fresh.marathon.mesos.', ip: '10.99.0.2' }]);
    // So do /v1/enumerate and the zone gauges: the zone DNS answered from is the one they read.
    t.true(await enumerates(srv, id), '/v1/enumerate lists the launched task');
    t.true((await zoneNames(srv)) > namesBefore, 'mesodns_zone_names counts its names');
    serials.push(await serial(srv));
    t.true(cluster.killTask(id));
    const killMs = await within(
      1000,
      'kill',
      async () => (await addresses(srv, 'fresh.marathon.mesos'))[0] === 'NXDOMAIN',
    );
    t.log(`kill answered after ${String(killMs)} ms`);
    t.false(await enumerates(srv, id), '/v1/enumerate no longer lists the killed task');
    t.is(await zoneNames(srv), namesBefore);
    serials.push(await serial(srv));
    const [before = 0, launched = 0, killed = 0] = serials;
    t.true(before < launched && launched < killed, `SOA serials ${serials.join(', ')}`);
    t.deepEqual(await addresses(srv, 'probe.marathon.mesos'), ['10.99.0.1']);
    t.regex(srv.logs(), /zone updated/, 'the changes were applied as incremental updates');
  },
);

/** Queries `name` every 20 ms while `during` runs; returns every distinct answer seen. */
async function watch(
  srv: Mesodns,
  name: string,
  during: () => Promise<void>,
): Promise<Set<string>> {
  const seen = new Set<string>();
  const state = { isDone: false };
  const loop = (async () => {
    while (!state.isDone) {
      seen.add((await addresses(srv, name)).join(','));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await during();
  } finally {
    state.isDone = true;
    await loop;
  }
  return seen;
}

async function metric(srv: Mesodns, name: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${String(srv.httpPort)}/metrics`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

twoAtOnce('a dropped connection is re-subscribed; the zone is served throughout', async (t) => {
  const cluster = await startCluster(t);
  const srv = await mesodns(t, cluster);
  const seen = await watch(srv, 'probe.marathon.mesos', async () => {
    cluster.master(0).dropStreams();
    // The second subscription, counted once its snapshot is loaded (the fake master's subscriber
    // count can still include the dropped stream for a moment).
    await waitFor(
      async () => /total 2$/m.test(await metric(srv, 'mesodns_stream_subscriptions_total')),
      5000,
      'a new subscription',
      METRICS_POLL_MS,
    );
    cluster.launchTask({ name: 'after-drop', ip: '10.99.0.3', framework: 'marathon' });
    await within(2000, 'launch after the drop', async () =>
      (await addresses(srv, 'after-drop.marathon.mesos')).includes('10.99.0.3'),
    );
  });
  t.deepEqual([...seen], ['10.99.0.1'], 'never anything but the probe address');
  t.is(cluster.subscribers, 1);
});

twoAtOnce(
  'a re-subscription to the same master delivers the tasks that changed meanwhile, not a rebuild',
  async (t) => {
    const cluster = await startCluster(t);
    const srv = await mesodns(t, cluster);
    const published = async (): Promise<number> =>
      await metricValue(srv, 'mesodns_state_loads_total{result="published"}');
    // The first load's count reaches /metrics up to a second after its zone answers.
    await waitFor(
      async () => (await published()) >= 1,
      3000,
      'the first load counted',
      METRICS_POLL_MS,
    );
    const loads = await published();
    // Changes the stream never tells (as if lost while it was cut), then the cut.
    const doc = structuredClone(cluster.state);
    addTask(doc, { name: 'meanwhile', ip: '10.99.0.11', framework: 'marathon' });
    cluster.setState(doc);
    cluster.master(0).dropStreams();
    await within(5000, 'the task added meanwhile', async () =>
      (await addresses(srv, 'meanwhile.marathon.mesos')).includes('10.99.0.11'),
    );
    // The counters reach the main thread up to a second after the zone.
    await waitFor(
      async () =>
        (await metricValue(srv, 'mesodns_stream_subscriptions_total')) === 2 &&
        (await metricValue(srv, 'mesodns_zone_update_task_changes_total')) >= 1,
      3000,
      'the second subscription, its update counted',
      METRICS_POLL_MS,
    );
    // Served by an incremental update of the one task, not a full build of the snapshot.
    t.is(await published(), loads, 'no full build');
    t.deepEqual(await addresses(srv, 'probe.marathon.mesos'), ['10.99.0.1']);
  },
);

twoAtOnce(
  'a silent stream is abandoned after the missed heartbeats and re-subscribed',
  async (t) => {
    const cluster = await startCluster(t, { heartbeatSeconds: 0.2 });
    const srv = await mesodns(t, cluster, { stream: { missedHeartbeats: 3 } });
    cluster.master(0).stallStreams();
    await waitFor(
      async () => /total 1$/m.test(await metric(srv, 'mesodns_stream_watchdog_timeouts_total')),
      5000,
      'the watchdog',
      METRICS_POLL_MS,
    );
    cluster.launchTask({ name: 'after-stall', ip: '10.99.0.4', framework: 'marathon' });
    await within(2000, 'launch after the stall', async () =>
      (await addresses(srv, 'after-stall.marathon.mesos')).includes('10.99.0.4'),
    );
    t.pass();
  },
);

twoAtOnce(
  'a failover to a master with a partial snapshot never serves the partial zone',
  async (t) => {
    const cluster = await startCluster(t);
    const srv = await mesodns(t, cluster);
    const full = structuredClone(cluster.state);
    const seen = await watch(srv, 'probe.marathon.mesos', async () => {
      cluster.failover(1, recoveringState(full));
      await waitFor(
        async () => /total 1$/m.test(await metric(srv, 'mesodns_leader_changes_total')),
        5000,
        'the leader change',
        METRICS_POLL_MS,
      );
      // The agents come back with their tasks (AGENT_ADDED + TASK_ADDED), as after a real failover.
      for (const agent of (full as { slaves: { id: string }[] }).slaves) {
        cluster.reregisterAgent(agent.id, full);
      }
      cluster.launchTask({ name: 'after-failover', ip: '10.99.0.5', framework: 'marathon' });
      await within(3000, 'launch after the failover', async () =>
        (await addresses(srv, 'after-failover.marathon.mesos')).includes('10.99.0.5'),
      );
    });
    t.deepEqual([...seen], ['10.99.0.1'], 'the probe answered throughout');
    t.regex(srv.logs(), /does not list every agent yet/);
  },
);

twoAtOnce(
  'after a stream worked, a 404 from the master is retried, not a fallback to polling',
  async (t) => {
    const cluster = await startCluster(t, { size: 1 });
    const srv = await mesodns(t, cluster);
    t.deepEqual(await addresses(srv, 'probe.marathon.mesos'), ['10.99.0.1']);
    // The master answers 404 to everything, as another program on its port would, and its
    // stream is cut. (On the same port: closing it and binding it again raced other tests for
    // the port.)
    const master = cluster.master(0);
    const before = master.requestLog.length;
    master.fail(404, '404: Not Found');
    master.dropStreams();
    const notFound = (): number =>
      master.requestLog.slice(before).filter((r) => r.status === 404).length;
    await waitFor(() => notFound() >= 3, 10_000, 'three retries against the 404s');
    t.deepEqual(await addresses(srv, 'probe.marathon.mesos'), ['10.99.0.1'], 'the zone stays');
    t.notRegex(srv.logs(), /polling \/master\/state instead/, 'no fallback');
    const health = (await (await fetch(`${srv.httpUrl}/health`)).json()) as { source?: unknown };
    t.like(health.source, { mode: 'stream' });
    // The master is back: the stream is subscribed again.
    master.reset();
    cluster.addTask({ name: 'after', ip: '10.99.0.7', framework: 'marathon' });
    await within(10_000, 'the stream again', async () =>
      (await addresses(srv, 'after.marathon.mesos')).includes('10.99.0.7'),
    );
  },
);

twoAtOnce('a master without the v1 API is polled instead', async (t) => {
  const cluster = await startCluster(t, { v1: false });
  const srv = await mesodns(t, cluster, { refresh: '1s' });
  t.deepEqual(await addresses(srv, 'probe.marathon.mesos'), ['10.99.0.1']);
  t.regex(srv.logs(), /no v1 operator API: polling/);
  cluster.addTask({ name: 'polled', ip: '10.99.0.6', framework: 'marathon' });
  await within(5000, 'a polled task', async () =>
    (await addresses(srv, 'polled.marathon.mesos')).includes('10.99.0.6'),
  );
  t.pass();
});

twoAtOnce(
  'the resync finds a task the stream missed, counts the drift and repairs it',
  async (t) => {
    const cluster = await startCluster(t);
    const srv = await mesodns(t, cluster, { stream: { resync: '1s' } });
    // A change without events: as if the stream had lost them.
    const doc = structuredClone(cluster.state);
    addTask(doc, { name: 'missed', ip: '10.99.0.7', framework: 'marathon' });
    cluster.setState(doc);
    await within(5000, 'the missed task', async () =>
      (await addresses(srv, 'missed.marathon.mesos')).includes('10.99.0.7'),
    );
    await waitFor(
      async () => /kind="task"\} [1-9]/.test(await metric(srv, 'mesodns_stream_drift_total')),
      3000,
      'drift counted',
      METRICS_POLL_MS,
    );
    t.regex(srv.logs(), /drifted/);
    // Ending the stream to repair it is no failure: counted as a drift end, not a failed load.
    t.regex(await metric(srv, 'mesodns_stream_ends_total'), /reason="drift"\} [1-9]/);
    t.regex(await metric(srv, 'mesodns_state_loads_total'), /result="failed"\} 0$/m);
    t.notRegex(srv.logs(), /state load failed/);
  },
);

twoAtOnce(
  'records split across chunks at every boundary still decode; propagation and updates are measured',
  async (t) => {
    const cluster = await startCluster(t, { chunkBytes: 7 });
    const srv = await mesodns(t, cluster);
    t.deepEqual(await addresses(srv, 'probe.marathon.mesos'), ['10.99.0.1']);
    cluster.launchTask({ name: 'chunked', ip: '10.99.0.8', framework: 'marathon' });
    await within(2000, 'a chunked launch', async () =>
      (await addresses(srv, 'chunked.marathon.mesos')).includes('10.99.0.8'),
    );
    const text = await metric(srv, 'mesodns_stream_propagation_seconds_count');
    t.regex(text, /_count [1-9]/);
    // The launch was served by an incremental update, counted with what it changed.
    t.regex(await metric(srv, 'mesodns_zone_update_duration_seconds_count'), /_count [1-9]/);
    t.regex(await metric(srv, 'mesodns_zone_update_task_changes_total'), /_total [1-9]/);
    t.regex(await metric(srv, 'mesodns_zone_update_names_total'), /_total [1-9]/);
    t.regex(await metric(srv, 'mesodns_zone_changed_names'), /names [1-9]/);
    t.regex(await metric(srv, 'mesodns_zone_update_fallbacks_total'), /^(.* 0\n?){3}$/);
    await waitFor(
      async () =>
        / [1-9]\d*$/.test(await metric(srv, 'mesodns_pipeline_worker_heap_size_used_bytes')),
      3000,
      'the worker heap after the first load',
      METRICS_POLL_MS,
    );
  },
);

twoAtOnce('a malformed event is skipped and counted; the stream goes on', async (t) => {
  const cluster = await startCluster(t);
  const srv = await mesodns(t, cluster);
  const master = cluster.master(0);
  master.emitRaw('{"type":"TASK_ADDED","task_added":{"task":{"name":');
  master.emitRaw({ type: 'TASK_ADDED', task_added: { task: { name: 'no-ids' } } });
  master.emitRaw({ type: 'SOMETHING_NEW', something_new: {} });
  cluster.launchTask({ name: 'after-bad', ip: '10.99.0.9', framework: 'marathon' });
  await within(2000, 'launch after bad events', async () =>
    (await addresses(srv, 'after-bad.marathon.mesos')).includes('10.99.0.9'),
  );
  // Counters reach the main thread at most a second later.
  await waitFor(
    async () => /total 2$/m.test(await metric(srv, 'mesodns_stream_bad_events_total')),
    3000,
    'two bad events counted',
    METRICS_POLL_MS,
  );
  t.regex(await metric(srv, 'mesodns_stream_events_total'), /type="UNKNOWN"\} 1/);
  t.regex(await metric(srv, 'mesodns_stream_subscriptions_total'), /total 1$/m);
});

twoAtOnce('a malformed or cut snapshot keeps the last zone and is retried', async (t) => {
  const cluster = await startCluster(t);
  const srv = await mesodns(t, cluster);
  const master = cluster.master(0);
  const seen = await watch(srv, 'probe.marathon.mesos', async () => {
    // The metrics say when each bad snapshot was read and refused (they reach /metrics within a
    // second of the stream's counters).
    master.malformed();
    master.dropStreams();
    const badEvents = 'mesodns_stream_bad_events_total';
    await waitFor(
      async () => (await sample(srv, badEvents)) >= 1,
      5000,
      'the cut JSON skipped',
      METRICS_POLL_MS,
    );
    const cut = async (): Promise<number> =>
      (await sample(srv, 'mesodns_stream_ends_total{reason="closed"}')) +
      (await sample(srv, 'mesodns_stream_ends_total{reason="error"}'));
    const cutBefore = await cut();
    master.truncated();
    await waitFor(
      async () => (await cut()) > cutBefore,
      5000,
      'the cut snapshot ended',
      METRICS_POLL_MS,
    );
    master.reset();
    cluster.launchTask({ name: 'recovered', ip: '10.99.0.10', framework: 'marathon' });
    await within(5000, 'recovered', async () =>
      (await addresses(srv, 'recovered.marathon.mesos')).includes('10.99.0.10'),
    );
  });
  t.deepEqual([...seen], ['10.99.0.1']);
});

/** The SUBSCRIBE requests `master` received, oldest first. */
function subscribes(master: FakeMaster): RecordedRequest[] {
  return master.requestLog.filter((r) => r.callType === 'SUBSCRIBE');
}

/** The value of one series (`name{labels}` as exported), 0 while absent. */
async function sample(srv: Mesodns, series: string): Promise<number> {
  const value = await metricValue(srv, series);
  return Number.isNaN(value) ? 0 : value;
}

/** The fault lines in the logs (one per fault, not one per retry). */
function faultLines(srv: Mesodns): string[] {
  return srv
    .logs()
    .split('\n')
    .filter((l) => l.includes('Mesos event stream dropped; serving the last zone'));
}

twoAtOnce(
  'a stream trickling bytes after its snapshot is dropped after the missed heartbeats; the zone stays',
  async (t) => {
    // The fake's heartbeat interval is mesodns' smallest (1 s): two missed = a 2 s window.
    const cluster = await startCluster(t, { heartbeatSeconds: 1 });
    const master = cluster.master(0);
    master.afterSnapshot({ kind: 'trickle', everyMs: 100 });
    const srv = await mesodns(t, cluster, { stream: { missedHeartbeats: 2 } });
    const windowMs = 2 * 1000;
    const seen = await watch(srv, 'probe.marathon.mesos', async () => {
      await waitFor(
        async () => (await sample(srv, 'mesodns_stream_ends_total{reason="watchdog"}')) >= 2,
        30_000,
        'two streams ended by the watchdog',
        METRICS_POLL_MS,
      );
    });
    t.deepEqual([...seen], ['10.99.0.1'], 'the last zone answered throughout');
    const [first, second] = subscribes(master);
    const lifetime = (first?.endedAt ?? Number.POSITIVE_INFINITY) - (first?.at ?? 0);
    t.log(`the first trickling stream lived ${String(lifetime)} ms`);
    // Not before the window (the watchdog starts after the snapshot was loaded), and not much
    // after it: the trickle's bytes did not keep it alive.
    t.true(lifetime >= windowMs - 50, `dropped after ${String(lifetime)} ms, before the window`);
    t.true(lifetime <= windowMs + 5000, `dropped after ${String(lifetime)} ms`);
    t.truthy(second, 're-subscribed');
    t.true((await sample(srv, 'mesodns_stream_watchdog_timeouts_total')) >= 2);
    const faults = faultLines(srv);
    t.is(faults.length, 1, faults.join('\n'));
    t.regex(faults[0] ?? '', /reason[=":]+watchdog/);
    // A working stream again: the next subscription recovers and proves healthy.
    master.afterSnapshot(undefined);
    cluster.launchTask({ name: 'after-trickle', ip: '10.99.0.11', framework: 'marathon' });
    await within(30_000, 'launch after the trickle', async () =>
      (await addresses(srv, 'after-trickle.marathon.mesos')).includes('10.99.0.11'),
    );
    await waitFor(
      () => srv.logs().includes('Mesos event stream healthy again'),
      10_000,
      'the stream proves healthy',
    );
    t.is(faultLines(srv).length, 1);
  },
);

/** Most subscriptions `ms` can hold when the n-th retry waits at least `backoffMs(n)`'s lower half. */
function maxSubscriptions(ms: number): number {
  let count = 1;
  let spent = backoffMs(1, 30_000, () => 0);
  while (spent <= ms) {
    count++;
    spent += backoffMs(count, 30_000, () => 0);
  }
  return count;
}

twoAtOnce(
  'garbage after a good snapshot is re-subscribed with growing backoff; the zone stays',
  async (t) => {
    const cluster = await startCluster(t, { heartbeatSeconds: 1 });
    const master = cluster.master(0);
    master.afterSnapshot({ kind: 'garbage' });
    const srv = await mesodns(t, cluster);
    const seen = await watch(srv, 'probe.marathon.mesos', async () => {
      // Three re-subscriptions show the backoff growing (250, 500, 1000 ms); the exact series up
      // to its 30 s cap is test/mesos/stream.test.ts's, on fake time.
      await waitFor(() => subscribes(master).length >= 4, 30_000, 'three re-subscriptions');
    });
    t.deepEqual([...seen], ['10.99.0.1'], 'the last zone answered throughout');
    const times = subscribes(master)
      .slice(0, 4)
      .map((r) => r.at);
    t.log(`subscriptions at +${times.map((at) => String(at - (times[0] ?? 0))).join(', +')} ms`);
    // Before issue 14 a snapshot reset the failure count: a retry every ~0.2 s (51 in 30 s).
    // Now the n-th retry waits at least the lower half of its backoff (125 ms, 250 ms, ...).
    for (let n = 1; n < times.length; n++) {
      const gap = (times[n] ?? 0) - (times[n - 1] ?? 0);
      const least = backoffMs(n, 30_000, () => 0);
      t.true(
        gap >= least - 20,
        `retry ${String(n)} after ${String(gap)} ms, under ${String(least)}`,
      );
    }
    const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
    t.true(
      times.length <= maxSubscriptions(span + 20 * times.length),
      `${String(times.length)} in ${String(span)} ms`,
    );
    // Each of them loaded its snapshot, and ended on the garbage (counters lag up to 1 s).
    await waitFor(
      async () =>
        (await sample(srv, 'mesodns_stream_ends_total{reason="bad_data"}')) >= 3 &&
        (await sample(srv, 'mesodns_stream_subscriptions_total')) >= 3,
      5000,
      'three streams ended by garbage, three snapshots loaded',
      METRICS_POLL_MS,
    );
    const faults = faultLines(srv);
    t.is(faults.length, 1, faults.join('\n'));
    t.regex(faults[0] ?? '', /reason[=":]+bad_data/);
    // Healthy again once the master is: the backoff delays the recovery, it does not stop it.
    master.afterSnapshot(undefined);
    cluster.launchTask({ name: 'after-garbage', ip: '10.99.0.12', framework: 'marathon' });
    await within(30_000, 'launch after the garbage', async () =>
      (await addresses(srv, 'after-garbage.marathon.mesos')).includes('10.99.0.12'),
    );
    await waitFor(
      () => srv.logs().includes('Mesos event stream healthy again'),
      10_000,
      'the stream proves healthy',
    );
  },
);
