// The loader's sanity guard (mesos.failover): the loader holding a state whose entries are
// mostly malformed back while the served zone stays (the rule itself: failover.test.ts).
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import type { Config } from '../../src/config/index.js';
import { Loader } from '../../src/pipeline/loader.js';
import type { LoaderOptions } from '../../src/pipeline/loader.js';
import { recordingLogger } from '../../support/logs.js';
import { parseState } from '../../src/mesos/index.js';
import { CompactRecordSet, cloneRecordData } from '../../src/records/index.js';
import type { LoadInfo, ParsedState } from '../../src/mesos/index.js';
import { ZonePublisher } from '../../src/pipeline/publisher.js';
import { syntheticState } from '../../support/cluster.js';
import type { MasterState } from '../../support/cluster.js';

/** The full state, or one keeping only every `keepEvery`-th task (a cluster that shrank). */
function state(keepEvery = 1): ParsedState {
  const doc: MasterState = syntheticState({ tasks: 200 });
  for (const fw of doc.frameworks) fw.tasks = fw.tasks.filter((_, i) => i % keepEvery === 0);
  return parseState(doc);
}

/** The full state with every task (or every agent) malformed: a wrong type in a required field. */
function malformed(what: 'tasks' | 'agents'): ParsedState {
  const doc = JSON.parse(JSON.stringify(syntheticState({ tasks: 200 }))) as {
    slaves: Record<string, unknown>[];
    frameworks: { tasks: Record<string, unknown>[] }[];
  };
  if (what === 'agents') for (const agent of doc.slaves) agent['pid'] = 42;
  else for (const fw of doc.frameworks) for (const task of fw.tasks) task['slave_id'] = 42;
  return parseState(doc);
}

interface Harness {
  readonly loader: Loader;
  readonly store: ZonePublisher;
  readonly logs: string[];
  readonly clock: { now: number };
  load(parsed: ParsedState, leaderKey: string): Promise<void>;
}

function harness(
  t: ExecutionContext,
  failover: Partial<Config['mesos']['failover']> = {},
  onBase?: LoaderOptions['onBase'],
): Harness {
  const config: Config = {
    ...DEFAULT_CONFIG,
    mesos: { ...DEFAULT_CONFIG.mesos, failover: { ...DEFAULT_CONFIG.mesos.failover, ...failover } },
  };
  const { logger, logs } = recordingLogger();
  const clock = { now: 1_700_000_000_000 };
  const store = new ZonePublisher();
  const loader = new Loader({
    config: () => config,
    store,
    logger,
    clock: { now: () => clock.now },
    lookup: () => {
      t.fail('no DNS lookup is needed for this state');
      return Promise.resolve([]);
    },
    nsIps: () => ['127.0.0.1'],
    ...(onBase === undefined ? {} : { onBase }),
  });
  const load = (parsed: ParsedState, leaderKey: string): Promise<void> => {
    const info: LoadInfo = { origin: 'test', bytes: 1, fetchMs: 1, leader: leaderKey, leaderKey };
    return loader.onState(parsed, info);
  };
  return { loader, store, logs, clock, load };
}

const warnings = (h: Harness, text: string): number =>
  h.logs.filter((l) => l.startsWith('warn') && l.includes(text)).length;

for (const what of ['tasks', 'agents'] as const) {
  test(`holds a state whose ${what} are all malformed, logs an error once, publishes a sound one`, async (t) => {
    const h = harness(t);
    await h.load(state(), 'A');
    const served = h.store.current;
    t.truthy(served);
    t.is(h.loader.stats.loads, 1);

    await h.load(malformed(what), 'A');
    await h.load(malformed(what), 'A');
    t.is(h.store.current, served, 'the served zone stays');
    t.is(h.loader.stats.heldLoads, 2);
    t.is(h.loader.stats.holdingSince, h.clock.now);
    const errors = h.logs.filter((l) => l.startsWith('error') && l.includes('state held back'));
    t.is(errors.length, 1, 'logged once per hold, not per poll');
    t.regex(errors[0] ?? '', what === 'agents' ? /"skippedAgents":\d+/ : /"skippedTasks":200/);

    await h.load(state(2), 'A'); // a sound state, even a smaller one
    t.not(h.store.current, served);
    t.is(h.loader.stats.holdingSince, undefined);
    t.true(h.logs.some((l) => l.includes('sound again; publishing it')));
  });
}

test('a cluster that really shrinks is published at once', async (t) => {
  const h = harness(t);
  await h.load(state(), 'A');
  const shrunk = state(10);
  await h.load(shrunk, 'A');
  t.is(h.loader.stats.loads, 2);
  t.is(h.loader.stats.heldLoads, 0);
  const running = shrunk.state.frameworks.flatMap((fw) =>
    fw.tasks.filter((task) => task.state === 'TASK_RUNNING'),
  );
  t.true(running.length < 40);
  t.is(h.store.current?.records.stats.tasks, running.length);
});

test('publishes the malformed state after maxHold, with a warning', async (t) => {
  const h = harness(t, { maxHoldMs: 60_000 });
  await h.load(state(), 'A');
  await h.load(malformed('tasks'), 'A');
  t.is(h.loader.stats.loads, 1);
  h.clock.now += 59_000;
  await h.load(malformed('tasks'), 'A');
  t.is(h.loader.stats.loads, 1);
  h.clock.now += 1_000;
  await h.load(malformed('tasks'), 'A');
  t.is(h.loader.stats.loads, 2);
  t.is(warnings(h, 'after mesos.failover.maxHold'), 1);
  t.is(h.loader.dataAgeMs(), 0);
});

test('minRetained 0 publishes every state', async (t) => {
  const h = harness(t, { minRetained: 0 });
  await h.load(state(), 'A');
  await h.load(malformed('tasks'), 'A');
  t.is(h.loader.stats.loads, 2);
  t.is(h.loader.stats.heldLoads, 0);
});

test('the data age grows while a state is held back', async (t) => {
  const h = harness(t);
  t.is(h.loader.dataAgeMs(), undefined);
  await h.load(state(), 'A');
  h.clock.now += 5_000;
  await h.load(malformed('agents'), 'A');
  t.is(h.loader.dataAgeMs(), 5_000);
  t.is(h.loader.stats.lastPublishAt, h.clock.now - 5_000);
});

test('the carried agents and tasks a source reports are kept in the stats', async (t) => {
  const h = harness(t);
  await h.loader.onState(state(), {
    origin: 'test',
    bytes: 1,
    fetchMs: 1,
    carry: { agents: 2, tasks: 30, since: 5 },
  });
  t.is(h.loader.stats.carriedAgents, 2);
  t.is(h.loader.stats.carriedTasks, 30);
  t.is(h.loader.stats.carryingSince, 5);
  await h.load(state(), 'A');
  t.is(h.loader.stats.carriedAgents, 0);
  t.is(h.loader.stats.carryingSince, undefined);
});

test('onBase sees each state with its records, and the record set it returns is the one served', async (t) => {
  const bases: number[] = [];
  let copy: CompactRecordSet | undefined;
  const h = harness(t, {}, (parsed, records) => {
    bases.push(parsed.frameworks.reduce((n, fw) => n + fw.tasks.length, 0));
    if (!(records instanceof CompactRecordSet)) return undefined;
    copy = new CompactRecordSet(cloneRecordData(records.data, 'shared'));
    return copy;
  });
  await h.load(state(), 'A');
  t.is(bases.length, 1);
  t.truthy(copy);
  t.is(h.store.current?.records, copy, 'the returned set is published');
  await h.load(state(), 'A');
  t.is(bases.length, 2, 'every published state is a new base');
});
