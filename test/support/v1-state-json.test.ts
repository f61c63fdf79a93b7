// v1StateJson: the fake master's faster rendering of a v1 get_state is JSON.stringify(toV1State)
// byte for byte, with and without its task cache, also after the fake's own changes.
import test from 'ava';
import { syntheticState } from '../../support/cluster.js';
import { FakeMaster, addTask, killTask } from '../../support/fake-master.js';
import { readFixture } from '../../support/state-builder.js';
import { V1TaskTexts, v1StateJson } from '../../support/v1-state-json.js';
import { toV1State } from '../../support/v1-state.js';

function text(pieces: readonly Buffer[]): string {
  return Buffer.concat(pieces).toString('utf8');
}

test('v1StateJson is JSON.stringify(toV1State) on the fixture, a cluster and odd input', (t) => {
  const docs: unknown[] = [
    readFixture(),
    syntheticState({ tasks: 300 }),
    JSON.stringify(readFixture()),
    {},
    { frameworks: 'none', completed_frameworks: [{ id: 'old', tasks: [{ id: 'x' }, 5] }] },
    { frameworks: [{ tasks: [{ id: 'no-fw', state: 'TASK_UNREACHABLE' }, { name: 'no id' }] }] },
    null,
    [1, 2],
  ];
  for (const doc of docs) {
    t.is(text(v1StateJson(doc)), JSON.stringify(toV1State(doc)));
  }
});

test('with a cache, changed and new tasks are rendered again', (t) => {
  const doc = syntheticState({ tasks: 200 });
  const texts = new V1TaskTexts();
  t.is(text(v1StateJson(doc, texts)), JSON.stringify(toV1State(doc)));
  const id = addTask(doc, { name: 'late', ip: '10.9.9.9' });
  t.is(text(v1StateJson(doc, texts)), JSON.stringify(toV1State(doc)));
  t.true(killTask(doc, id));
  const killed = text(v1StateJson(doc, texts));
  t.is(killed, JSON.stringify(toV1State(doc)));
  const completed = (JSON.parse(killed) as { get_tasks: { completed_tasks: { name: string }[] } })
    .get_tasks.completed_tasks;
  t.true(completed.some((task) => task.name === 'late'));
});

test('a fake master with cacheTaskJson serves the snapshots of toV1State', async (t) => {
  const doc = syntheticState({ tasks: 50 });
  const master = new FakeMaster(doc, { cacheTaskJson: true });
  await master.start();
  t.teardown(() => master.close());
  const first = await subscribed(master.url);
  t.deepEqual(first, JSON.parse(JSON.stringify(toV1State(doc))) as unknown);
  const id = master.launchTask({ name: 'late', ip: '10.9.9.8' });
  master.killTask(id);
  master.dropStreams();
  const second = await subscribed(master.url);
  t.deepEqual(second, JSON.parse(JSON.stringify(toV1State(doc))) as unknown);
  t.notDeepEqual(second, first);
});

/** The `get_state` of the SUBSCRIBED record of a new SUBSCRIBE stream of `url`. */
async function subscribed(url: string): Promise<unknown> {
  const res = await fetch(`${url}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'SUBSCRIBE' }),
  });
  if (res.body === null) throw new Error('no body');
  let bytes = Buffer.alloc(0);
  for await (const chunk of res.body) {
    bytes = Buffer.concat([bytes, chunk]);
    const newline = bytes.indexOf(0x0a);
    const length = Number(bytes.subarray(0, newline).toString());
    if (newline < 0 || bytes.length < newline + 1 + length) continue;
    // Leaving the loop cancels the body: the stream is closed.
    const record = JSON.parse(bytes.subarray(newline + 1, newline + 1 + length).toString()) as {
      subscribed: { get_state: unknown };
    };
    return record.subscribed.get_state;
  }
  throw new Error('the stream ended before its SUBSCRIBED record');
}
