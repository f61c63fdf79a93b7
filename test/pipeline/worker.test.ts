import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config/index.js';
import type { FromWorker } from '../../src/pipeline/messages.js';
import { PipelineWorker } from '../../src/pipeline/worker.js';
import { isSharedRecordData } from '../../src/records/index.js';
import { waitFor } from '../helpers/mesodns.js';

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

  await worker.handle({ type: 'close', id: 2 });
  closed = true;
  t.deepEqual(posted.at(-1), { type: 'done', id: 2 });
});
