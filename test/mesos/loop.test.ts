// The polling loop (never two runs at once), the retry backoff (pure) and the stream's wakeable
// wait between subscriptions, on fake time.
import test from 'ava';
import { backoffMs } from '../../src/mesos/index.js';
import { FIRST_RETRY_MS, Loop, WakeableSleep } from '../../src/mesos/loop.js';
import { FakeTimers, settle } from '../../support/fake-timers.js';

test('backoff doubles from 250 ms and stops at the refresh period', (t) => {
  const top = (): number => 0.999999;
  t.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, 30_000, top)),
    [250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000],
  );
  t.is(backoffMs(100, 30_000, top), 30_000);
  t.is(backoffMs(1, 100, top), 100, 'a refresh shorter than the first retry caps it');
  t.is(FIRST_RETRY_MS, 250);
});

test('backoff jitter stays within the upper half of the delay', (t) => {
  for (let failures = 1; failures < 12; failures++) {
    const full = backoffMs(failures, 60_000, () => 0.999999);
    t.is(
      backoffMs(failures, 60_000, () => 0),
      full / 2,
    );
    for (let i = 0; i < 20; i++) {
      const d = backoffMs(failures, 60_000, Math.random);
      t.true(d >= full / 2 && d <= full, `${String(d)} for ${String(failures)} failures`);
    }
  }
});

test('the loop never overlaps runs; a trigger during a run runs once more right after', async (t) => {
  const timers = new FakeTimers();
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const loop = new Loop(async () => {
    running++;
    runs++;
    maxRunning = Math.max(maxRunning, running);
    await timers.sleep(50);
    running--;
    return 60_000;
  }, timers.schedule);
  t.teardown(() => {
    loop.close();
  });
  loop.trigger();
  loop.trigger();
  loop.trigger();
  t.true(loop.running);
  await timers.runUntil(() => runs === 2 && !loop.running);
  t.is(runs, 2, 'the triggers during the run collapse into one more run');
  t.is(maxRunning, 1);
  t.is(timers.now, 100, 'the second run started right after the first');
  // Then the next run waits the 60 s the run asked for, to the millisecond.
  timers.advance(59_999);
  await settle();
  t.is(runs, 2);
  timers.advance(1);
  await settle();
  t.is(runs, 3);
});

test('the loop waits the delay its run returns, and stops when closed', async (t) => {
  const timers = new FakeTimers();
  const times: number[] = [];
  const loop = new Loop(() => {
    times.push(timers.now);
    return Promise.resolve(times.length === 1 ? 30 : 60_000);
  }, timers.schedule);
  loop.trigger();
  await timers.runUntil(() => times.length === 2);
  t.deepEqual(times, [0, 30]);
  loop.close();
  loop.trigger();
  await settle();
  t.is(timers.pending, 0, 'nothing scheduled after close()');
  t.is(times.length, 2);
});

test('a wakeable sleep ends after its delay, or at once when woken', async (t) => {
  const timers = new FakeTimers();
  const sleep = new WakeableSleep(timers.schedule);
  let isDone = false;
  void sleep.sleep(1000).then(() => {
    isDone = true;
  });
  timers.advance(999);
  await settle();
  t.false(isDone);
  timers.advance(1);
  await settle();
  t.true(isDone, 'ends after its delay');
  t.is(timers.pending, 0);

  isDone = false;
  void sleep.sleep(60_000).then(() => {
    isDone = true;
  });
  sleep.wake();
  await settle();
  t.true(isDone, 'a wake ends it at once');
  t.is(timers.pending, 0, 'and cancels its timer');
  sleep.wake(); // nothing to wake: no effect

  isDone = false;
  void sleep.sleep(1000).then(() => {
    isDone = true;
  });
  sleep.cancel();
  t.is(timers.pending, 0, 'cancel() drops the timer');
  timers.advance(5000);
  await settle();
  t.false(isDone, 'a cancelled sleep waits for wake()');
  sleep.wake();
  await settle();
  t.true(isDone);
});
