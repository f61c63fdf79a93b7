import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config/index.js';
import type { FromWorker, SnapshotMessage } from '../../src/pipeline/messages.js';
import { PipelineWorker } from '../../src/pipeline/worker.js';
import { CompactRecordSet, isSharedRecordData } from '../../src/records/index.js';
import type { RecordData } from '../../src/records/index.js';
import { waitFor } from '../../support/mesodns.js';

test('in-thread: prepare and start post a snapshot, close answers done', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-worker-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await copyFile(resolve('test/fixtures/fake.json'), join(dir, 'state.json'));
  const configFile = join(dir, 'mesodns.yaml');
  await writeFile(
    configFile,
    'mesos:\n  stateFile: state.json\n  refresh: 60s\nforward:\n  enabled: false\n',
  );
  const config = loadConfig(configFile);
  const posted: FromWorker[] = [];
  const transfers: (ArrayBuffer[] | undefined)[] = [];
  const worker = new PipelineWorker({
    init: { configFile, config, nsIps: ['127.0.0.1'], version: 'test' },
    post: (message, transfer) => {
      posted.push(message);
      transfers.push(transfer);
    },
    logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
  });
  let closed = false;
  t.teardown(async () => {
    if (!closed) await worker.handle({ type: 'close', id: 99 });
  });

  await worker.handle({ type: 'prepare', id: 1, config });
  t.deepEqual(posted.at(-1), { type: 'done', id: 1 });

  await worker.handle({ type: 'start' });
  await waitFor(() => posted.some((m) => m.type === 'snapshot'), 10_000, 'snapshot posted');
  const index = posted.findIndex((m) => m.type === 'snapshot');
  const snapshot = posted[index];
  if (snapshot?.type !== 'snapshot') return t.fail('no snapshot');
  t.true(snapshot.serial > 0);
  t.true(snapshot.image.names > 0);
  t.deepEqual(transfers[index] ?? [], [], 'nothing transferred');
  t.true(isSharedRecordData(snapshot.records), 'the record data is shared with the worker');
  await waitFor(() => posted.some((m) => m.type === 'stats'), 5000, 'stats posted');
  t.like(
    posted.find((m) => m.type === 'load'),
    { type: 'load', event: { result: 'published', tasks: 9 } },
  );
  // Once the load's garbage is collected, the stats carry the heap (for the metrics).
  await waitFor(
    () => posted.some((m) => m.type === 'stats' && (m.heap?.usedBytes ?? 0) > 0),
    5000,
    'stats with the heap after the load',
  );
  const stats = posted.filter((m) => m.type === 'stats').at(-1);
  const heap = stats?.type === 'stats' ? stats.heap : undefined;
  t.true(heap !== undefined && heap.totalBytes >= heap.usedBytes);

  await worker.handle({ type: 'close', id: 2 });
  closed = true;
  t.deepEqual(posted.at(-1), { type: 'done', id: 2 });
});

/** Every RR of record data as text. */
function rrTexts(data: RecordData): Set<string> {
  const set = new CompactRecordSet(data);
  const out = new Set<string>();
  for (const [name, ips] of set.a) for (const ip of ips) out.add(`${name} A ${ip}`);
  for (const [name, ips] of set.aaaa) for (const ip of ips) out.add(`${name} AAAA ${ip}`);
  for (const [name, targets] of set.srv) {
    for (const s of targets) out.add(`${name} SRV ${s.target}:${String(s.port)}`);
  }
  return out;
}

test('in-thread, poll mode: a changed full build posts its diff from the zone before', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-worker-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const statePath = join(dir, 'state.json');
  await copyFile(resolve('test/fixtures/fake.json'), statePath);
  const configFile = join(dir, 'mesodns.yaml');
  await writeFile(
    configFile,
    'mesos:\n  stateFile: state.json\n  refresh: 1h\nforward:\n  enabled: false\n',
  );
  const config = loadConfig(configFile);
  const posted: { message: FromWorker; transfer: ArrayBuffer[] | undefined }[] = [];
  const worker = new PipelineWorker({
    init: { configFile, config, nsIps: ['127.0.0.1'], version: 'test' },
    post: (message, transfer) => posted.push({ message, transfer }),
    logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
  });
  t.teardown(() => worker.handle({ type: 'close', id: 99 }));
  const snapshots = (): { message: SnapshotMessage; transfer: ArrayBuffer[] | undefined }[] =>
    posted.flatMap(({ message, transfer }) =>
      message.type === 'snapshot' ? [{ message, transfer }] : [],
    );
  await worker.handle({ type: 'prepare', id: 1, config });
  await worker.handle({ type: 'start' });
  await waitFor(() => snapshots().length === 1, 10_000, 'first snapshot');
  const first = snapshots()[0]?.message;
  if (first === undefined) return t.fail();
  t.is(first.diff, undefined, 'the first zone has nothing to differ from');

  // One task goes, another moves to a new port.
  const doc = JSON.parse(await readFile(statePath, 'utf8')) as {
    frameworks: { tasks: { resources: { ports?: string } }[] }[];
  };
  const marathon = doc.frameworks[3];
  if (marathon === undefined) return t.fail();
  marathon.tasks = marathon.tasks.slice(1);
  const moved = marathon.tasks[0];
  if (moved?.resources.ports === undefined) return t.fail('a task with ports');
  moved.resources.ports = '[41000-41000]';
  await writeFile(statePath, JSON.stringify(doc));
  await worker.handle({ type: 'commit', id: 2, config, nsIps: ['127.0.0.1'], switchSource: false });
  const second = snapshots()[1];
  if (second === undefined) return t.fail('no second snapshot');
  const { diff } = second.message;
  if (diff === undefined) return t.fail('no diff');
  t.is(diff.serialFrom, first.serial);
  t.is(diff.serialTo, second.message.serial);
  // Exactly the RRs that went and came.
  const before = rrTexts(first.records);
  const after = rrTexts(second.message.records);
  const removed = rrTexts(diff.removed);
  const added = rrTexts(diff.added);
  t.deepEqual([...removed].sort(), [...before].filter((rr) => !after.has(rr)).sort());
  t.deepEqual([...added].sort(), [...after].filter((rr) => !before.has(rr)).sort());
  t.true(removed.size > 0 && added.size > 0);
  t.true([...added].some((rr) => rr.endsWith(':41000')));
  // The diff's buffers move to the main thread; the record data is shared.
  t.true((second.transfer ?? []).length > 0);
  t.true(isSharedRecordData(second.message.records));

  // The same state again: nothing changed, no diff.
  await worker.handle({ type: 'commit', id: 3, config, nsIps: ['127.0.0.1'], switchSource: false });
  const third = snapshots()[2]?.message;
  t.false(third?.changed);
  t.is(third?.serial, second.message.serial);
  t.is(third?.diff, undefined);
});

test('a snapshot read without a build has its garbage collected as after a load', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-worker-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'mesodns.yaml');
  await writeFile(
    configFile,
    'mesos:\n  masters: ["http://127.0.0.1:9"]\nforward:\n  enabled: false\n',
  );
  const config = loadConfig(configFile);
  const collected: (boolean | undefined)[] = [];
  const posted: FromWorker[] = [];
  const worker = new PipelineWorker({
    init: { configFile, config, nsIps: ['127.0.0.1'], version: 'test' },
    post: (message) => posted.push(message),
    logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} },
    collect: (compact) => collected.push(compact),
  });
  // A re-subscription that read 178 MB and delivered only the tasks that differ.
  worker.listener.onSnapshotRead?.(178 * 1024 * 1024, 3000);
  await waitFor(() => collected.length >= 2, 5000, 'two collections');
  t.deepEqual(collected, [undefined, true], 'one collection, then a compacting one');
  await waitFor(() => posted.some((m) => m.type === 'stats' && m.heap !== undefined), 5000);
});
