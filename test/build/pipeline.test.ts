import { appendFile, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { Pipeline } from '../../src/build/pipeline.js';
import type { Config } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';
import { findNode, nameKey } from '../../src/dns/index.js';
import type { LoadEvent } from '../../src/loader.js';
import type { Logger } from '../../src/log.js';
import { ZoneStore } from '../../src/store.js';
import { waitFor } from '../helpers/mesodns.js';

interface Setup {
  readonly dir: string;
  readonly config: Config;
  readonly configFile: string;
}

async function setup(extra = ''): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-pipeline-'));
  await copyFile(resolve('test/fixtures/fake.json'), join(dir, 'state.json'));
  const configFile = join(dir, 'mesodns.yaml');
  await writeFile(
    configFile,
    `mesos:\n  stateFile: state.json\n  refresh: 60s\nforward:\n  enabled: false\n${extra}`,
  );
  return { dir, configFile, config: loadConfig(configFile) };
}

function logs(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return {
    lines,
    logger: { error: add('error'), warn: add('warn'), info: add('info'), debug: add('debug') },
  };
}

test('the worker loads the state and the zone is installed in the main thread store', async (t) => {
  const { dir, config, configFile } = await setup();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new ZoneStore();
  const { logger, lines } = logs();
  const events: LoadEvent[] = [];
  const pipeline = new Pipeline({
    configFile,
    config,
    nsIps: ['127.0.0.1'],
    version: 'test',
    store,
    logger,
    onLoad: (e) => events.push(e),
  });
  t.teardown(() => pipeline.close());
  await pipeline.prepare(config);
  pipeline.start();
  await waitFor(() => store.current !== undefined, 10_000, 'zone installed');
  const zone = store.zone();
  t.truthy(zone);
  if (zone === undefined) return;
  t.true(findNode(zone, nameKey('car-store.marathon.mesos.')) >= 0);
  t.deepEqual(store.current?.records.a.get('car-store.marathon.mesos.'), ['1.2.3.11']);
  t.is(store.current?.records.stats.tasks, 9);
  await waitFor(() => pipeline.stats.loads === 1, 5000, 'stats mirrored');
  t.true(lines.some((l) => l.startsWith('info zone published')));
  t.like(events[0], { result: 'published', tasks: 9 });
  t.true((pipeline.dataAgeMs() ?? -1) >= 0);
  t.is(pipeline.sourceStats()?.loadsOk, 1);
});

test('a commit applies the new config to a fresh load before it resolves', async (t) => {
  const { dir, config, configFile } = await setup();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new ZoneStore();
  const pipeline = new Pipeline({
    configFile,
    config,
    nsIps: ['127.0.0.1'],
    version: 'test',
    store,
    logger: logs().logger,
  });
  t.teardown(() => pipeline.close());
  await pipeline.prepare(config);
  pipeline.start();
  await waitFor(() => store.current !== undefined, 10_000, 'zone installed');
  const first = store.zone();
  await appendFile(configFile, 'records:\n  ttl: 7\n');
  const next = loadConfig(configFile);
  await pipeline.commit(next, ['127.0.0.1'], false);
  t.is(store.zone()?.ttl, 7);
  t.true((store.zone()?.serial ?? 0) > (first?.serial ?? 0));
});

test('prepare rejects a source that cannot be built, with its error code', async (t) => {
  const { dir, config, configFile } = await setup();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pipeline = new Pipeline({
    configFile,
    config,
    nsIps: [],
    version: 'test',
    store: new ZoneStore(),
    logger: logs().logger,
  });
  t.teardown(() => pipeline.close());
  const broken: Config = {
    ...config,
    mesos: {
      ...config.mesos,
      stateFile: '',
      masters: ['http://127.0.0.1:1'],
      auth: { ...config.mesos.auth, secretFile: join(dir, 'missing') },
    },
  };
  await t.throwsAsync(pipeline.prepare(broken), { code: 'ERR_CONFIG_READ' });
});
