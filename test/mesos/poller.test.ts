// MasterPoller against a fake master cluster in this process: leader following, failover,
// backoff, timeouts, detector-triggered polls, stats. The real process is tested in
// test/integration/master-*.test.ts.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock } from '../../src/clock.js';
import type { MesosDnsError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { MasterPoller, StateClient, StaticMasters } from '../../src/mesos/index.js';
import type {
  LeaderDetector,
  LoadInfo,
  ParsedState,
  StateListener,
} from '../../src/mesos/index.js';
import { FakeMasterCluster } from '../../support/fake-master.js';
import { waitFor } from '../../support/mesodns.js';
import { syntheticState } from '../../support/cluster.js';

class Recorder implements StateListener {
  readonly states: { parsed: ParsedState; info: LoadInfo; at: number }[] = [];
  readonly failures: { error: MesosDnsError; at: number }[] = [];

  onState(parsed: ParsedState, info: LoadInfo): void {
    this.states.push({ parsed, info, at: Date.now() });
  }

  onFailure(error: MesosDnsError): void {
    this.failures.push({ error, at: Date.now() });
  }

  get last(): LoadInfo | undefined {
    return this.states.at(-1)?.info;
  }
}

function memoryLogger(lines: string[]): Logger {
  const log =
    (level: string) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

async function cluster(t: ExecutionContext, tasks = 30): Promise<FakeMasterCluster> {
  const c = new FakeMasterCluster({ state: syntheticState({ tasks }) });
  await c.start();
  t.teardown(() => c.close());
  return c;
}

interface Polling {
  readonly poller: MasterPoller;
  readonly recorder: Recorder;
  readonly logs: string[];
}

function poll(
  t: ExecutionContext,
  detector: LeaderDetector,
  options: { refreshMs?: number; timeoutMs?: number; random?: () => number } = {},
): Polling {
  const recorder = new Recorder();
  const logs: string[] = [];
  const poller = new MasterPoller({
    detector,
    client: new StateClient({ timeoutMs: options.timeoutMs ?? 2000, clock: systemClock }),
    refreshMs: options.refreshMs ?? 100,
    maxHoldMs: 600_000,
    listener: recorder,
    logger: memoryLogger(logs),
    clock: systemClock,
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  t.teardown(() => poller.close());
  poller.start();
  return { poller, recorder, logs };
}

test('reaches the leader through a follower, then asks the leader directly', async (t) => {
  const c = await cluster(t);
  const follower = c.master(2);
  const p = poll(t, new StaticMasters([follower.url, c.master(1).url]));
  await waitFor(() => p.recorder.states.length >= 3, 5000, 'three loads');
  t.is(p.recorder.last?.origin, c.master(0).url);
  t.is(p.recorder.last?.leader, c.master(0).pid);
  t.is(follower.requests, 1, 'the follower was asked once, then the leader directly');
  t.is(c.master(1).requests, 0);
  t.is(p.recorder.states[0]?.parsed.state.frameworks.length, 3);
  t.is(c.maxInFlight, 1, 'never two requests at once');
});

test('follows a failover at the next poll and counts the leader change', async (t) => {
  const c = await cluster(t);
  const p = poll(t, new StaticMasters(c.urls));
  await waitFor(() => p.recorder.states.length >= 1, 5000, 'first load');
  const firstKey = p.recorder.last?.leaderKey;
  c.failover(1);
  await waitFor(() => p.recorder.last?.leader === c.master(1).pid, 5000, 'new leader');
  t.not(p.recorder.last?.leaderKey, firstKey);
  t.is(p.poller.stats().leaderChanges, 1);
  t.is(p.poller.stats().leaderUrl, c.master(1).url);
  const changes = p.logs.filter((l) => l.includes('Mesos leader changed'));
  t.is(changes.length, 1, 'logged once per change, not per poll');
  t.is(p.logs.filter((l) => l.includes('Mesos leader found')).length, 1);
  await waitFor(() => p.recorder.states.length >= 6, 5000, 'more loads');
  t.is(p.poller.stats().leaderChanges, 1);
  t.is(c.maxInFlight, 1);
});

test('a restarted leader on the same address is a leader change (new process id)', async (t) => {
  const c = await cluster(t);
  const p = poll(t, new StaticMasters(c.urls));
  await waitFor(() => p.recorder.states.length >= 1, 5000, 'first load');
  const firstKey = p.recorder.last?.leaderKey;
  c.master(0).restartProcess();
  await waitFor(() => p.recorder.last?.leaderKey !== firstKey, 5000, 'new key');
  t.is(p.recorder.last?.leader, c.master(0).pid);
  t.is(p.poller.stats().leaderChanges, 1);
  t.true(p.logs.some((l) => l.includes('the leading master restarted')));
});

test('503s from every master back off exponentially, bounded by the refresh period', async (t) => {
  const c = await cluster(t);
  c.noLeader();
  const p = poll(t, new StaticMasters([c.master(0).url]), {
    refreshMs: 600,
    random: () => 0.999999,
  });
  await waitFor(() => p.recorder.failures.length >= 5, 10_000, 'five failures');
  const times = c.master(0).requestLog.map((r) => r.at);
  const gaps = times.slice(1, 5).map((at, i) => at - (times[i] ?? 0));
  // Delays 250, 500, 600 (capped), 600: each at least that, none much longer than the refresh.
  const expected = [250, 500, 600, 600];
  gaps.forEach((gap, i) => {
    t.true(gap >= (expected[i] ?? 0) - 5, `gap ${String(i)}: ${String(gap)} ms`);
    t.true(gap < 600 + 800, `gap ${String(i)}: ${String(gap)} ms is bounded by the refresh`);
  });
  t.is(p.recorder.failures[0]?.error.code, 'ERR_NO_LEADER');
  t.is(p.poller.stats().consecutiveFailures, p.recorder.failures.length);
  c.failover(0);
  await waitFor(() => p.recorder.states.length >= 1, 5000, 'a load once elected');
  t.is(p.poller.stats().consecutiveFailures, 0);
  t.is(p.poller.stats().lastError, undefined);
});

test('a hung master costs one timeout; the next master answers', async (t) => {
  const c = await cluster(t);
  c.failover(1);
  c.master(0).hang();
  const started = Date.now();
  // The timeout also bounds the answering master: on a loaded machine 300 ms was too short for
  // it (a failure instead of a load), so it is a second.
  const p = poll(t, new StaticMasters(c.urls), { timeoutMs: 1000 });
  await waitFor(() => p.recorder.states.length >= 1, 5000, 'a load');
  t.true(Date.now() - started < 1000 + 1500, `${String(Date.now() - started)} ms`);
  t.is(p.recorder.failures.length, 0);
  t.is(p.recorder.last?.leader, c.master(1).pid);
  // Remembered: the hung master is not asked again.
  await waitFor(() => p.recorder.states.length >= 3, 5000, 'more loads');
  t.is(c.master(0).requests, 1);
});

test('when every master hangs, each poll ends after the timeouts and reports the failure', async (t) => {
  const c = await cluster(t);
  for (const m of c.masters) m.hang();
  const p = poll(t, new StaticMasters([c.master(0).url]), { timeoutMs: 200 });
  await waitFor(() => p.recorder.failures.length >= 2, 5000, 'two failures');
  t.regex(p.recorder.failures[0]?.error.message ?? '', /within 200 ms \(mesos\.timeout\)/);
});

test('a master that answers with another leader in its state: the leader is asked', async (t) => {
  const c = await cluster(t);
  c.master(1).answerAsFollower();
  const p = poll(t, new StaticMasters([c.master(1).url]));
  await waitFor(() => p.recorder.states.length >= 1, 5000, 'a load');
  t.is(p.recorder.last?.origin, c.master(0).url);
  t.is(c.master(1).requestLog[0]?.status, 200);
  t.is(c.master(0).requests >= 1, true);
});

test('malformed and truncated states are failures; the next good one loads', async (t) => {
  const c = await cluster(t);
  c.master(0).malformed();
  const p = poll(t, new StaticMasters([c.master(0).url]));
  await waitFor(() => p.recorder.failures.length >= 1, 5000, 'a failure');
  t.is(p.recorder.failures[0]?.error.code, 'ERR_STATE_PARSE');
  c.master(0).truncated();
  await waitFor(
    () => p.recorder.failures.some((f) => f.error.code === 'ERR_STATE_FETCH'),
    5000,
    'a fetch failure',
  );
  c.master(0).reset();
  await waitFor(() => p.recorder.states.length >= 1, 5000, 'a load');
  t.is(p.recorder.states.length >= 1, true);
});

/** A detector under the test's control. */
class StubDetector implements LeaderDetector {
  urls: string[] = [];
  onChange: () => void = () => undefined;
  mastersList: string[] | undefined;
  start(onChange: () => void): void {
    this.onChange = onChange;
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  candidates(): readonly string[] {
    return this.urls;
  }
  noteLeader(): void {
    // The stub's list is fixed by the test.
  }
  masters(): readonly string[] | undefined {
    return this.mastersList;
  }
  vouchesFor(origin: string): boolean {
    return this.urls.some((u) => new URL(u).origin === origin);
  }
  describe(): string {
    return 'stub';
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

test('no leader known is a NoLeaderError naming the detector', async (t) => {
  const p = poll(t, new StubDetector());
  await waitFor(() => p.recorder.failures.length >= 1, 5000, 'a failure');
  t.is(p.recorder.failures[0]?.error.code, 'ERR_NO_LEADER');
  t.regex(p.recorder.failures[0]?.error.message ?? '', /no Mesos leader known \(stub\)/);
});

test('a leader change from the detector polls at once, not at the next refresh', async (t) => {
  const c = await cluster(t);
  const detector = new StubDetector();
  detector.urls = [c.master(0).url];
  detector.mastersList = ['10.0.0.1', '10.0.0.2'];
  const p = poll(t, detector, { refreshMs: 60_000 });
  await waitFor(() => p.recorder.states.length === 1, 5000, 'first load');
  t.deepEqual(p.recorder.last?.masters, ['10.0.0.1', '10.0.0.2']);
  c.failover(1);
  detector.urls = [c.master(1).url];
  const changed = Date.now();
  detector.onChange();
  await waitFor(() => p.recorder.states.length === 2, 2000, 'second load at once');
  t.true((p.recorder.states[1]?.at ?? 0) - changed < 1000);
  t.is(p.recorder.last?.leader, c.master(1).pid);
});

test('close() aborts the request in flight and stops polling', async (t) => {
  const c = await cluster(t);
  c.master(0).hang();
  const p = poll(t, new StaticMasters([c.master(0).url]), { timeoutMs: 30_000 });
  await waitFor(() => c.master(0).requests === 1, 5000, 'a request');
  const started = Date.now();
  await p.poller.close();
  await delay(100);
  t.true(Date.now() - started < 1000);
  t.is(c.master(0).requests, 1);
  t.is(p.recorder.states.length, 0);
});

test('stats: loads, bytes, duration, leader and the time of the last success', async (t) => {
  const c = await cluster(t, 200);
  const p = poll(t, new StaticMasters(c.urls));
  await waitFor(() => p.recorder.states.length >= 2, 5000, 'two loads');
  const stats = p.poller.stats();
  t.true(stats.loadsOk >= 2);
  t.is(stats.loadsFailed, 0);
  t.true((stats.lastFetchBytes ?? 0) > 100_000);
  t.true((stats.lastFetchMs ?? -1) >= 0);
  t.is(stats.leader, c.master(0).pid);
  t.true(Date.now() - (stats.lastSuccessAt ?? 0) < 5000);
  t.is(p.recorder.last?.bytes, stats.lastFetchBytes);
});
