// MasterStream's reconnect rules (issue 14) on fake time, against an in-memory master: a stream
// that sends a good snapshot and then garbage (or a trickle) is retried with growing backoff,
// the failures are forgotten only once a stream proved healthy, and each fault is logged once.
import test from 'ava';
import { StateFetchError } from '../../src/errors.js';
import type { LogFields, Logger } from '../../src/log.js';
import { StaticMasters } from '../../src/mesos/leader.js';
import { MasterStream } from '../../src/mesos/stream.js';
import type { ApiClient } from '../../src/mesos/stream.js';
import type { EventStream } from '../../src/mesos/client.js';
import type { StateSource } from '../../src/mesos/source.js';
import { StreamModel } from '../../src/mesos/stream-model.js';
import type { ParsedState } from '../../src/mesos/types.js';
import { parseV1State } from '../../src/mesos/v1.js';
import { syntheticState } from '../../support/cluster.js';
import { systemClock } from '../../src/clock.js';
import { FakeTimers } from '../../support/fake-timers.js';
import { toV1State } from '../../support/v1-state.js';

const URL_ = 'http://127.0.0.1:5050';

function recordIo(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return Buffer.concat([Buffer.from(`${String(body.length)}\n`, 'ascii'), body]);
}

const SUBSCRIBED = recordIo({
  type: 'SUBSCRIBED',
  subscribed: {
    get_state: toV1State({ slaves: [], frameworks: [] }),
    heartbeat_interval_seconds: 1,
  },
});
const HEARTBEAT = recordIo({ type: 'HEARTBEAT' });

/** What one subscription sends: chunks, with fake-time pauses (`wait`) between them. */
type Step = Buffer | { readonly wait: number };

/** A master whose n-th subscription (from 0) plays `script(n)`, then leaves the stream open. */
function fakeMaster(
  timers: FakeTimers,
  script: (n: number) => readonly Step[],
): { client: ApiClient; subscribedAt: number[] } {
  const subscribedAt: number[] = [];
  const client: ApiClient = {
    fetchSummary: () => Promise.reject(new StateFetchError(URL_, 'no summary here')),
    callApi: () => Promise.reject(new StateFetchError(URL_, 'no GET_MASTER here')),
    readGetState: () => Promise.reject(new StateFetchError(URL_, 'no GET_STATE here')),
    subscribe: (base): Promise<EventStream> => {
      const steps = script(subscribedAt.length);
      subscribedAt.push(timers.now);
      // As the real client's: close() aborts the read in progress at once.
      let abort = (): void => undefined;
      const aborted = new Promise<'aborted'>((resolve) => {
        abort = () => {
          resolve('aborted');
        };
      });
      const wait = async (ms: number): Promise<void> => {
        const why = await Promise.race([aborted, timers.sleep(ms)]);
        if (why === 'aborted') throw new Error('aborted');
      };
      async function* body(): AsyncGenerator<Buffer> {
        for (const step of steps) {
          if (Buffer.isBuffer(step)) yield step;
          else await wait(step.wait);
        }
        // Then nothing: an open connection that never sends again.
        for (;;) await wait(60_000);
      }
      return Promise.resolve({ url: base, body: body(), close: abort });
    },
    close: () => undefined,
  };
  return { client, subscribedAt };
}

interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields | undefined;
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields });
    };
  return {
    lines,
    logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') },
  };
}

function start(
  t: { teardown: (fn: () => Promise<void>) => void },
  timers: FakeTimers,
  script: (n: number) => readonly Step[],
): {
  stream: MasterStream;
  subscribedAt: number[];
  lines: Line[];
  states: () => number;
  lastState: () => ParsedState | undefined;
  snapshotReads: number[];
} {
  const master = fakeMaster(timers, script);
  const { logger, lines } = recordingLogger();
  let states = 0;
  let lastState: ParsedState | undefined;
  const snapshotReads: number[] = [];
  const stream = new MasterStream({
    detector: new StaticMasters([URL_]),
    client: master.client,
    listener: {
      onState: (parsed) => {
        states++;
        lastState = parsed;
      },
      onFailure: () => undefined,
      onSnapshotRead: (bytes) => snapshotReads.push(bytes),
    },
    logger,
    clock: systemClock,
    batchMs: 50,
    missedHeartbeats: 3,
    resyncMs: 0,
    maxHoldMs: 600_000,
    maxBackoffMs: 30_000,
    fallback: (): StateSource => {
      throw new Error('no fallback in this test');
    },
    // The top of the jitter range: the delays are exactly 250, 500, 1000, ... ms.
    random: () => 0.999_999,
    timers,
  });
  t.teardown(() => stream.close());
  stream.start();
  return {
    stream,
    subscribedAt: master.subscribedAt,
    lines,
    states: () => states,
    lastState: () => lastState,
    snapshotReads,
  };
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((at, i) => at - (times[i] ?? 0));
}

const GARBAGE = Buffer.from('garbage\n', 'ascii');

test('a good snapshot then garbage is re-subscribed with growing backoff, not in a loop', async (t) => {
  const timers = new FakeTimers();
  const { stream, subscribedAt, lines, states, snapshotReads } = start(t, timers, () => [
    SUBSCRIBED,
    GARBAGE,
  ]);
  await timers.runUntil(() => subscribedAt.length >= 7);
  t.deepEqual(gaps(subscribedAt), [250, 500, 1000, 2000, 4000, 8000]);
  // The same snapshot from the same master again changes nothing: only the first is delivered
  // (the zone stays served; StreamModel.resetWithChanges). The listener still hears of each
  // snapshot read, to collect its garbage.
  t.is(states(), 1, 'one delivery for seven equal snapshots');
  await timers.runUntil(() => snapshotReads.length >= 6);
  t.is(snapshotReads.length, 6, 'each re-subscription read a snapshot');
  t.true(snapshotReads.every((bytes) => bytes === stream.stats().lastFetchBytes));
  const stats = stream.streamStats();
  t.is(stats.ends.bad_data, 7, 'the seventh stream ended too');
  t.is(stats.subscriptions, 7);
  const faults = lines.filter((l) => l.message.startsWith('Mesos event stream dropped'));
  t.is(faults.length, 7);
  const warned = faults.filter((l) => l.level === 'warn');
  t.is(warned.length, 1, 'one warning for the fault, not one per retry');
  t.is(warned[0]?.fields?.['reason'], 'bad_data');
  t.regex(String(warned[0]?.fields?.['why']), /not a digit/);
  t.is(
    lines.filter((l) => l.level === 'info' && l.message === 'Mesos event stream: subscribed')
      .length,
    1,
    'the retries of a fault subscribe quietly',
  );
});

test('a SUBSCRIBED over 1 MiB in 64 KiB chunks is read as they come, as a whole one', async (t) => {
  const timers = new FakeTimers();
  const doc = syntheticState({ tasks: 1000 });
  const getState = toV1State(doc);
  const record = recordIo({
    type: 'SUBSCRIBED',
    subscribed: { get_state: getState, heartbeat_interval_seconds: 1 },
  });
  const header = record.indexOf(0x0a) + 1;
  t.true(record.length - header > 2 ** 20, 'long enough to be read as it arrives');
  const chunks: Buffer[] = [];
  for (let i = 0; i < record.length; i += 65536) chunks.push(record.subarray(i, i + 65536));
  const { stream, states, lastState } = start(t, timers, (n) =>
    n === 0 ? [...chunks, HEARTBEAT] : [],
  );
  await timers.runUntil(() => states() >= 1);
  const model = new StreamModel();
  model.reset(parseV1State(getState).state);
  const taskIds = (parsed: ParsedState | undefined): string[] =>
    (parsed?.state.frameworks ?? []).flatMap((fw) => fw.tasks.map((task) => task.id)).sort();
  const expected = taskIds({ state: model.toState(undefined), report: NO_PROBLEMS });
  t.true(expected.length > 900);
  t.deepEqual(taskIds(lastState()), expected);
  t.is(stream.stats().lastFetchBytes, record.length - header);
  t.is(stream.streamStats().badEvents, 0);
});

const NO_PROBLEMS = { skippedAgents: 0, skippedFrameworks: 0, skippedTasks: 0, problems: [] };

test('the backoff stops growing at maxBackoffMs', async (t) => {
  const timers = new FakeTimers();
  const { subscribedAt } = start(t, timers, () => [SUBSCRIBED, GARBAGE]);
  await timers.runUntil(() => subscribedAt.length >= 11);
  t.deepEqual(gaps(subscribedAt).slice(-3), [30_000, 30_000, 30_000]);
});

test('the failures are forgotten once a stream stayed up for a heartbeat interval', async (t) => {
  const timers = new FakeTimers();
  const { subscribedAt, lines } = start(t, timers, (n) =>
    n === 2
      ? // Heartbeats at 1 s and 2 s after the snapshot (the interval is 1 s), then garbage.
        [SUBSCRIBED, { wait: 1000 }, HEARTBEAT, { wait: 1000 }, HEARTBEAT, GARBAGE]
      : [SUBSCRIBED, GARBAGE],
  );
  await timers.runUntil(() => subscribedAt.length >= 5);
  // 250, 500: failures 1 and 2; the third stream proved healthy, so its end is failure 1 again.
  t.deepEqual(gaps(subscribedAt), [250, 500, 2000 + 250, 500]);
  t.is(lines.filter((l) => l.message === 'Mesos event stream healthy again').length, 1);
  t.is(
    lines.filter((l) => l.level === 'warn' && l.message.startsWith('Mesos event stream dropped'))
      .length,
    2,
    'the fault after the recovery is a new fault',
  );
});

test('a heartbeat within the first interval does not prove the stream', async (t) => {
  const timers = new FakeTimers();
  const { subscribedAt } = start(t, timers, () => [SUBSCRIBED, { wait: 500 }, HEARTBEAT, GARBAGE]);
  await timers.runUntil(() => subscribedAt.length >= 4);
  t.deepEqual(gaps(subscribedAt), [500 + 250, 500 + 500, 500 + 1000]);
});

test('a byte trickle after the snapshot is dropped after missedHeartbeats intervals', async (t) => {
  const timers = new FakeTimers();
  const trickle: Step[] = [SUBSCRIBED, Buffer.from('1000000\n', 'ascii')];
  for (let i = 0; i < 1000; i++) trickle.push({ wait: 100 }, Buffer.from(' '));
  const { stream, subscribedAt, lines } = start(t, timers, () => trickle);
  await timers.runUntil(() => subscribedAt.length >= 3, 10_000);
  // 3 intervals of 1 s after each snapshot, then the backoff of failure 1 and 2.
  t.deepEqual(gaps(subscribedAt), [3000 + 250, 3000 + 500]);
  const stats = stream.streamStats();
  t.is(stats.ends.watchdog, 2);
  t.is(stats.watchdogTimeouts, 2);
  const warned = lines.filter(
    (l) => l.level === 'warn' && l.message.startsWith('Mesos event stream dropped'),
  );
  t.is(warned.length, 1);
  t.is(warned[0]?.fields?.['reason'], 'watchdog');
  t.regex(String(warned[0]?.fields?.['why']), /no event or heartbeat for 3000 ms/);
});

test('a master that sends headers and then nothing is dropped after missedHeartbeats x 15 s', async (t) => {
  const timers = new FakeTimers();
  const { stream, subscribedAt } = start(t, timers, () => []);
  await timers.runUntil(() => subscribedAt.length >= 2);
  t.deepEqual(gaps(subscribedAt), [45_000 + 250]);
  t.is(stream.streamStats().ends.watchdog, 1);
});
