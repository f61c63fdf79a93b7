/** What the loader reports for metrics: one `onLoad` event per state load, and the data age. */
import test from 'ava';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { StateFetchError } from '../../src/errors.js';
import { Loader } from '../../src/pipeline/loader.js';
import type { LoadEvent } from '../../src/pipeline/loader.js';
import { silentLogger } from '../../src/log.js';
import { parseState } from '../../src/mesos/index.js';
import type { ParsedState } from '../../src/mesos/index.js';
import { ZonePublisher } from '../../src/pipeline/publisher.js';
import { syntheticState } from '../../support/cluster.js';

function state(): ParsedState {
  return parseState(syntheticState({ tasks: 40 }));
}

function harness(): { loader: Loader; events: LoadEvent[]; clock: { now: number } } {
  const events: LoadEvent[] = [];
  const clock = { now: 1_000_000 };
  const loader = new Loader({
    config: () => DEFAULT_CONFIG,
    store: new ZonePublisher(),
    logger: silentLogger,
    clock: { now: () => clock.now },
    lookup: () => Promise.resolve([]),
    nsIps: () => ['127.0.0.1'],
    onLoad: (event) => events.push(event),
  });
  return { loader, events, clock };
}

test('a published state reports its fetch, size, build and zone figures', async (t) => {
  const { loader, events } = harness();
  await loader.onState(state(), { origin: 'm1', bytes: 1234, fetchMs: 12, leaderKey: 'a' });
  t.is(events.length, 1);
  const [event] = events;
  t.like(event, { result: 'published', fetchMs: 12, bytes: 1234, skippedTasks: 0 });
  t.true((event?.tasks ?? 0) > 0);
  t.true((event?.records ?? 0) > (event?.tasks ?? 0));
  t.true((event?.names ?? 0) > 0);
  t.is(typeof event?.buildMs, 'number');
});

test('a failure reports failed and keeps the data age', async (t) => {
  const { loader, events, clock } = harness();
  t.is(loader.dataAgeMs(), undefined, 'no data before the first load');
  await loader.onState(state(), { origin: 'm1', bytes: 1, fetchMs: 1 });
  clock.now += 5_000;
  loader.onFailure(new StateFetchError('m1', 'connection refused'));
  t.deepEqual(
    events.map((e) => e.result),
    ['published', 'failed'],
  );
  t.is(loader.dataAgeMs(), 5_000, 'a failure does not make old data new');
  await loader.onState(state(), { origin: 'm1', bytes: 1, fetchMs: 1 });
  t.is(loader.dataAgeMs(), 0);
});

test('a state held back by the sanity guard reports held, with the reason', async (t) => {
  const { loader, events } = harness();
  await loader.onState(state(), { origin: 'm1', bytes: 1, fetchMs: 1, leaderKey: 'a' });
  const doc = syntheticState({ tasks: 40 });
  for (const agent of doc.slaves) (agent as { pid: unknown }).pid = 'not a pid';
  await loader.onState(parseState(doc), { origin: 'm1', bytes: 2, fetchMs: 3, leaderKey: 'a' });
  t.deepEqual(events.at(-1), { result: 'held', reason: 'malformed', fetchMs: 3, bytes: 2 });
});
