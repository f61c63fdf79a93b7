// Tasks known by the digest of their slice (task-digests.ts): a re-subscription's snapshot read
// with the model's index gives exactly the model, the touched tasks and the report that reading
// it without the index gives, and a task an event changed is parsed again.
import test from 'ava';
import type { SnapshotChanges } from '../../src/mesos/stream-model.js';
import { StreamModel } from '../../src/mesos/stream-model.js';
import type { KnownTasks } from '../../src/mesos/task-digests.js';
import { TaskDigests, sliceDigest } from '../../src/mesos/task-digests.js';
import type { Task } from '../../src/mesos/types.js';
import { V1EventReader } from '../../src/mesos/v1-state-reader.js';
import type { MesosEvent, V1Snapshot } from '../../src/mesos/v1.js';
import { parseV1Event } from '../../src/mesos/v1.js';
import { syntheticState } from '../../support/cluster.js';
import { readFixture, task } from '../../support/state-builder.js';
import type { V1State } from '../../support/v1-state.js';
import { toV1State } from '../../support/v1-state.js';

type Subscribed = Extract<MesosEvent, { type: 'SUBSCRIBED' }>;

function subscribedText(getState: V1State): string {
  return JSON.stringify({
    type: 'SUBSCRIBED',
    subscribed: { get_state: getState, heartbeat_interval_seconds: 15 },
  });
}

/** The model's index, counting the slices it knew (taken unparsed) and those it did not. */
class Counting implements KnownTasks {
  hits = 0;
  misses = 0;
  readonly #model: StreamModel;

  constructor(model: StreamModel) {
    this.#model = model;
  }

  knownTask(digest: string): Task | undefined {
    const task = this.#model.knownTask(digest);
    if (task === undefined) this.misses++;
    else this.hits++;
    return task;
  }
}

/** The SUBSCRIBED record read as the stream reads it, in chunks of `size` bytes. */
function read(text: string, known?: KnownTasks, size = 65536): Subscribed {
  const reader = new V1EventReader({
    compact: true,
    ...(known === undefined ? {} : { knownTasks: known }),
  });
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) reader.push(bytes.subarray(at, at + size));
  const event = reader.end();
  if (event.type !== 'SUBSCRIBED') throw new Error(`not SUBSCRIBED: ${event.type}`);
  return event;
}

/** The snapshot without its digests (what a read without the index gives). */
function plain(snapshot: V1Snapshot): V1Snapshot {
  const { agents, frameworks, tasks, recoveredAgentIds } = snapshot;
  return { agents, frameworks, tasks, recoveredAgentIds };
}

function copy(state: V1State): V1State {
  return JSON.parse(JSON.stringify(state)) as V1State;
}

/** The changes as plain data (key -> framework and task before), for deepEqual. */
function touched(changes: SnapshotChanges): Record<string, unknown> {
  return Object.fromEntries(changes.touched);
}

/** A model as its state, for deepEqual. */
function view(model: StreamModel): unknown {
  return model.toState(undefined);
}

const FIRST = toV1State(syntheticState({ tasks: 400 }));

/** The next snapshot: tasks 0-9 changed, 10-14 removed, two added, the rest byte for byte. */
function nextState(): V1State {
  const next = copy(FIRST);
  const tasks = next.get_tasks.tasks;
  for (const task of tasks.slice(0, 5)) task.state = 'TASK_KILLING';
  for (const task of tasks.slice(5, 10)) {
    for (const s of task.statuses) {
      for (const n of (s.container_status?.network_infos ?? []) as { ip_addresses?: unknown }[]) {
        n.ip_addresses = [{ ip_address: '10.99.0.1' }];
      }
      s.timestamp = (s.timestamp ?? 0) + 1;
    }
  }
  const added = [copy(FIRST).get_tasks.tasks[20], copy(FIRST).get_tasks.tasks[21]].map(
    (task, i) => {
      if (task === undefined) throw new Error('no task');
      return { ...task, task_id: { value: `added-${String(i)}` } };
    },
  );
  tasks.splice(10, 5);
  tasks.push(...added);
  return next;
}

test('read with the index: the model, changes and report of a full read', (t) => {
  const first = subscribedText(FIRST);
  const second = subscribedText(nextState());
  const tasks = FIRST.get_tasks.tasks.length;
  t.true(tasks > 350);

  // Without the index: every slice parsed.
  const full = new StreamModel();
  full.reset(read(first).snapshot);
  const fullRead = read(second);
  const fullChanges = full.resetWithChanges(fullRead.snapshot);

  // With it: the first read digests (knows nothing yet), the second skips the unchanged slices.
  const model = new StreamModel();
  const counting = new Counting(model);
  model.reset(read(first, counting).snapshot);
  t.is(counting.hits, 0);
  t.is(counting.misses, tasks);
  t.is(model.knownDigests, tasks);
  counting.misses = 0;
  // In small pieces: slices that span chunks are digested as whole slices.
  const indexed = read(second, counting, 777);
  t.is(counting.hits, tasks - 15, 'all but the 10 changed and 5 removed: not parsed');
  t.is(counting.misses, 10 + 2, 'the changed and the added: parsed');
  t.deepEqual(plain(indexed.snapshot), fullRead.snapshot, 'the same tasks as parsed ones');
  t.deepEqual(indexed.report, fullRead.report);
  t.deepEqual(indexed.snapshot.taskDigests?.length, indexed.snapshot.tasks.length);
  const changes = model.resetWithChanges(indexed.snapshot);

  t.true(changes.onlyTasks);
  t.is(changes.onlyTasks, fullChanges.onlyTasks);
  t.deepEqual(touched(changes), touched(fullChanges));
  // The 5 removed, the 2 added, the 5 killing; the 5 moved ones have addresses mostly.
  t.true(changes.touched.size >= 5 + 2 + 5);
  t.deepEqual(view(model), view(full));
  // And as a fresh parse of the record makes it.
  const fresh = new StreamModel();
  const whole = parseV1Event(JSON.parse(second));
  if (whole.type !== 'SUBSCRIBED') throw new Error('not SUBSCRIBED');
  fresh.reset(whole.snapshot);
  t.deepEqual(view(model), view(fresh));
  t.deepEqual(indexed.report, whole.report);
  // The index now describes the second snapshot.
  t.is(model.knownDigests, indexed.snapshot.tasks.length);
  counting.hits = counting.misses = 0;
  t.is(model.resetWithChanges(read(second, counting).snapshot).touched.size, 0);
  t.is(counting.hits, indexed.snapshot.tasks.length);
});

test('a task an event changed is parsed again, even when its bytes are the same as before', (t) => {
  const text = subscribedText(FIRST);
  const model = new StreamModel();
  const counting = new Counting(model);
  model.reset(read(text, counting).snapshot);
  const tasks = model.tasks;
  const [a, b, c, d] = read(text).snapshot.tasks;
  if (a === undefined || b === undefined || c === undefined || d === undefined) {
    throw new Error('too few tasks');
  }
  const update = (task: Task, state: string): MesosEvent => ({
    type: 'TASK_UPDATED',
    frameworkId: task.frameworkId,
    taskId: task.id,
    agentId: task.agentId,
    state,
    status: undefined,
    statusProblem: undefined,
  });
  // An update (the task is another object now), a kill (dropped), an add over a held task, and
  // an update for a task never seen (no change).
  model.apply(update(a, 'TASK_KILLING'), 1);
  model.apply(update(b, 'TASK_KILLED'), 1);
  model.apply({ type: 'TASK_ADDED', task: { ...c, state: 'TASK_STAGING' } }, 1);
  model.apply(update({ ...d, id: 'never-added' }, 'TASK_RUNNING'), 1);
  t.is(model.knownDigests, tasks - 3, 'their digests are forgotten');

  counting.hits = counting.misses = 0;
  const again = read(text, counting);
  t.is(counting.misses, 3, 'the three tasks are parsed');
  t.is(counting.hits, tasks - 3);
  const changes = model.resetWithChanges(again.snapshot);
  t.deepEqual(
    [...changes.touched.keys()].sort(),
    [a.id, b.id, c.id].sort(),
    'back as the snapshot says',
  );
  const fresh = new StreamModel();
  fresh.reset(read(text).snapshot);
  t.deepEqual(view(model), view(fresh));
  t.is(model.knownDigests, tasks);
});

test('FRAMEWORK_REMOVED forgets the digests of its tasks', (t) => {
  const text = subscribedText(FIRST);
  const model = new StreamModel();
  const snapshot = read(text, model).snapshot;
  model.reset(snapshot);
  const frameworkId = snapshot.tasks[0]?.frameworkId ?? '';
  const ofIt = snapshot.tasks.filter((x) => x.frameworkId === frameworkId).length;
  t.true(ofIt > 0);
  model.apply({ type: 'FRAMEWORK_REMOVED', frameworkId }, 1);
  t.is(model.knownDigests, snapshot.tasks.length - ofIt);
  const counting = new Counting(model);
  const again = read(text, counting);
  t.is(counting.misses, ofIt);
  // The framework is back in the snapshot: a whole delivery, and the model is a fresh parse's.
  t.false(model.resetWithChanges(again.snapshot).onlyTasks);
  const fresh = new StreamModel();
  fresh.reset(read(text).snapshot);
  t.deepEqual(view(model), view(fresh));
});

test('reset (another leader): known tasks as a fresh parse, the index rebuilt', (t) => {
  const model = new StreamModel();
  model.reset(read(subscribedText(FIRST), model).snapshot);
  // The leader-change path: the snapshot read with the index, then a plain reset.
  const second = subscribedText(nextState());
  const counting = new Counting(model);
  const snapshot = read(second, counting).snapshot;
  t.true(counting.hits > 0);
  model.reset(snapshot);
  const fresh = new StreamModel();
  fresh.reset(read(second).snapshot);
  t.deepEqual(view(model), view(fresh));
  t.is(model.knownDigests, snapshot.tasks.length);
  // A snapshot without digests (parsed whole: a small record) empties the index.
  const whole = parseV1Event(JSON.parse(second));
  if (whole.type !== 'SUBSCRIBED') throw new Error('not SUBSCRIBED');
  model.reset(whole.snapshot);
  t.is(model.knownDigests, 0);
  counting.hits = counting.misses = 0;
  read(second, counting);
  t.is(counting.hits, 0);
});

test('a snapshot that repeats a task keeps both copies, with or without the index', (t) => {
  // fake.json repeats a task id (and its bytes): one digest, two tasks.
  const text = subscribedText(toV1State(readFixture()));
  const model = new StreamModel();
  model.reset(read(text, model).snapshot);
  const counting = new Counting(model);
  const again = read(text, counting);
  t.true(counting.hits > 0);
  const changes = model.resetWithChanges(again.snapshot);
  t.is(changes.touched.size, 0);
  const fresh = new StreamModel();
  fresh.reset(read(text).snapshot);
  t.deepEqual(view(model), view(fresh));
});

test('TaskDigests: the first task of a digest stays; forget drops it both ways', (t) => {
  const digests = new TaskDigests();
  const one = task('web', 'ag-S0', { id: 'one' });
  const two = task('web', 'ag-S0', { id: 'two' });
  const d = sliceDigest(Buffer.from('{"a":1}'));
  t.is(d.length, 32);
  t.not(d, sliceDigest(Buffer.from('{"a":2}')));
  digests.add(d, one);
  digests.add(d, two);
  t.is(digests.get(d), one);
  digests.forget(two);
  t.is(digests.get(d), one);
  digests.forget(one);
  t.is(digests.get(d), undefined);
  t.is(digests.size, 0);
});
