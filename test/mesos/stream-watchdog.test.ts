// The stream watchdog's rules (issue 14) on fake time: progress is whole records, not bytes; the
// snapshot wait is bounded by a minimum rate; mesodns' own snapshot handling does not count; and
// a stream proves healthy one heartbeat interval after its snapshot.
import test from 'ava';
import {
  DEFAULT_HEARTBEAT_MS,
  MIN_SNAPSHOT_BYTES_PER_WINDOW,
  StreamWatchdog,
} from '../../src/mesos/stream-watchdog.js';
import type { StreamStall } from '../../src/mesos/stream-watchdog.js';
import { FakeTimers } from '../../support/fake-timers.js';

function watchdog(missedHeartbeats = 3): {
  timers: FakeTimers;
  dog: StreamWatchdog;
  stalls: (StreamStall & { at: number })[];
} {
  const timers = new FakeTimers();
  const stalls: (StreamStall & { at: number })[] = [];
  const dog = new StreamWatchdog({
    missedHeartbeats,
    timers,
    onStall: (stall) => stalls.push({ ...stall, at: timers.now }),
  });
  return { timers, dog, stalls };
}

/** Runs `step` every `everyMs` for `ms` of fake time. */
function every(timers: FakeTimers, everyMs: number, ms: number, step: () => void): void {
  for (let t = 0; t < ms; t += everyMs) {
    timers.advance(everyMs);
    step();
  }
}

test('after the snapshot a byte trickle is no progress: dropped after missedHeartbeats intervals', (t) => {
  const { timers, dog, stalls } = watchdog(3);
  dog.subscribed(1000);
  t.is(dog.windowMs, 3000);
  every(timers, 100, 2900, () => {
    dog.received(1);
  });
  t.deepEqual(stalls, [], 'not before the window');
  timers.advance(100);
  t.is(stalls.length, 1);
  t.is(stalls[0]?.phase, 'events');
  t.is(stalls[0]?.at, 3000, 'exactly one window after the snapshot, whatever the bytes');
  t.regex(stalls[0]?.description ?? '', /no event or heartbeat for 3000 ms/);
  timers.advance(60_000);
  t.is(stalls.length, 1, 'reported once');
});

test('whole records are progress: heartbeats every interval keep the stream for ever', (t) => {
  const { timers, dog, stalls } = watchdog(2);
  dog.subscribed(1000);
  every(timers, 1000, 60_000, () => {
    dog.record();
  });
  t.deepEqual(stalls, []);
  // The last record came at 60 s: silence from then on ends it one window (2 s) later.
  timers.advance(1999);
  t.deepEqual(stalls, []);
  timers.advance(1);
  t.is(stalls[0]?.at, 62_000);
});

test('a late record moves the deadline: the window counts from the last record', (t) => {
  const { timers, dog, stalls } = watchdog(3);
  dog.subscribed(1000);
  timers.advance(2500);
  dog.record();
  timers.advance(2999);
  t.deepEqual(stalls, []);
  timers.advance(1);
  t.is(stalls[0]?.at, 5500);
});

test('headers and then nothing: the snapshot wait ends after missedHeartbeats x 15 s', (t) => {
  const { timers, stalls } = watchdog(3);
  timers.advance(3 * DEFAULT_HEARTBEAT_MS - 1);
  t.deepEqual(stalls, []);
  timers.advance(1);
  t.is(stalls[0]?.phase, 'snapshot');
  t.is(stalls[0]?.at, 45_000);
});

test('a snapshot arriving under 1 MiB per window is dropped; a faster one goes on', (t) => {
  const slow = watchdog(3);
  // 64 KiB every 5 s: 576 KiB per 45 s window.
  every(slow.timers, 5000, 45_000, () => {
    slow.dog.received(64 * 1024);
  });
  t.is(slow.stalls[0]?.phase, 'snapshot');
  t.is(slow.stalls[0]?.at, 45_000);

  const steady = watchdog(3);
  // 1 MiB every 40 s, for ten windows (a slow link; a LAN brings 100 MB in seconds).
  const perStep = Math.ceil(MIN_SNAPSHOT_BYTES_PER_WINDOW / 8);
  every(steady.timers, 5000, 450_000, () => {
    steady.dog.received(perStep);
  });
  t.deepEqual(steady.stalls, []);
});

test("mesodns' own handling of the snapshot does not count as the master's silence", (t) => {
  const { timers, dog, stalls } = watchdog(3);
  timers.advance(40_000);
  dog.record(); // the SUBSCRIBED record
  dog.pause();
  timers.advance(600_000); // GET_MASTER, state-summary, the zone build of a huge cluster
  t.deepEqual(stalls, []);
  dog.subscribed(1000);
  timers.advance(2999);
  t.deepEqual(stalls, []);
  timers.advance(1);
  t.is(stalls[0]?.at, 643_000);
});

test('a pause keeps the idle time counted before it', (t) => {
  const { timers, dog, stalls } = watchdog(2);
  dog.subscribed(1000);
  timers.advance(1500);
  dog.pause();
  timers.advance(10_000);
  t.deepEqual(stalls, []);
  // Resumed by another snapshot handled on the same stream: the window restarts.
  dog.subscribed(1000);
  timers.advance(1999);
  t.deepEqual(stalls, []);
  timers.advance(1);
  t.is(stalls.length, 1);
});

test('a stream proves healthy with the first record one heartbeat interval after its snapshot', (t) => {
  const { timers, dog } = watchdog(3);
  t.false(dog.record(), 'records before the snapshot prove nothing');
  dog.subscribed(1000);
  timers.advance(999);
  t.false(dog.record());
  t.false(dog.isHealthy);
  timers.advance(1);
  t.true(dog.record(), 'one interval after the snapshot');
  t.true(dog.isHealthy);
  timers.advance(1000);
  t.false(dog.record(), 'reported once');
  t.true(dog.isHealthy);
});

test('no record after the snapshot: never healthy, dropped', (t) => {
  const { timers, dog, stalls } = watchdog(3);
  dog.subscribed(1000);
  timers.advance(10_000);
  t.false(dog.isHealthy);
  t.is(stalls.length, 1);
});

test('stop ends the watch', (t) => {
  const { timers, dog, stalls } = watchdog(3);
  dog.subscribed(1000);
  dog.stop();
  timers.advance(60_000);
  t.deepEqual(stalls, []);
  t.is(timers.pending, 0);
});
