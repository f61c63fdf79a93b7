import { createSocket } from 'node:dgram';
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { RestartPolicy } from '../../src/pipeline/pipeline.js';
import { Pipeline, restartDelayMs, startPipelineWorker } from '../../src/pipeline/pipeline.js';
import type { Config } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';
import { DnsServer, findNode, nameKey } from '../../src/dns/index.js';
import type { LoadEvent } from '../../src/pipeline/loader.js';
import type { LogFields, Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { CompactRecordSet } from '../../src/records/index.js';
import { ZoneStore } from '../../src/store.js';
import { decodeMessage, encodeQuery } from '../../support/dns-message.js';
import type { Message } from '../../support/dns-message.js';
import { waitFor } from '../../support/mesodns.js';
import { parsePrometheusText } from '../../support/prometheus-text.js';

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

/** A pipeline on the test state (silent logs), started, its first zone installed. */
async function loaded(t: ExecutionContext): Promise<{
  dir: string;
  config: Config;
  configFile: string;
  store: ZoneStore;
  pipeline: Pipeline;
}> {
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
  return { dir, config, configFile, store, pipeline };
}

test('a commit applies the new config to a fresh load before it resolves', async (t) => {
  const { configFile, store, pipeline } = await loaded(t);
  const first = store.zone();
  await appendFile(configFile, 'records:\n  ttl: 7\n');
  const next = loadConfig(configFile);
  await pipeline.commit(next, ['127.0.0.1'], false);
  t.is(store.zone()?.ttl, 7);
  t.true((store.zone()?.serial ?? 0) > (first?.serial ?? 0));
  // Every RR's TTL changed: no difference, the journal starts again at the new serial.
  t.is(store.journal?.since(first?.serial ?? 0), undefined);
  t.deepEqual(store.journal?.since(store.zone()?.serial ?? 0), []);
});

test('the diff of a full build crosses to the main thread and into the journal', async (t) => {
  const { dir, config, store, pipeline } = await loaded(t);
  const first = store.zone()?.serial ?? 0;
  const statePath = join(dir, 'state.json');
  const doc = JSON.parse(await readFile(statePath, 'utf8')) as {
    frameworks: { name: string; tasks: { name: string }[] }[];
  };
  for (const fw of doc.frameworks) fw.tasks = fw.tasks.filter((task) => task.name !== 'car.store');
  await writeFile(statePath, JSON.stringify(doc));
  await pipeline.commit(config, ['127.0.0.1'], false);
  t.is(store.current?.records.a.get('car-store.marathon.mesos.'), undefined);
  const chain = store.journal?.since(first);
  t.is(chain?.length, 1);
  const diff = chain?.[0];
  if (diff === undefined) return t.fail('no diff journaled');
  t.is(diff.serialFrom, first);
  t.is(diff.serialTo, store.zone()?.serial ?? 0);
  t.deepEqual(new CompactRecordSet(diff.removed).a.get('car-store.marathon.mesos.'), ['1.2.3.11']);
  t.is(new CompactRecordSet(diff.added).a.size, 0);
  t.true((store.journal?.rrs ?? 0) > 0);
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

test('restart delays double from initialMs up to maxMs, jittered down to half a step', (t) => {
  const policy: RestartPolicy = { initialMs: 1000, maxMs: 120_000, resetAfterMs: 300_000 };
  const low = [1, 2, 3, 4, 8, 9, 50].map((n) => restartDelayMs(n, policy, 0));
  t.deepEqual(low, [500, 1000, 2000, 4000, 60_000, 60_000, 60_000]);
  const high = [1, 2, 3, 8, 50].map((n) => restartDelayMs(n, policy, 0.999_999));
  t.deepEqual(high, [1000, 2000, 4000, 120_000, 120_000]);
  t.is(restartDelayMs(2, policy, 0.5), 1500);
});

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: LogFields;
}

/** A logger that keeps each line with its level and fields. */
function fieldLogs(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const add =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields: fields ?? {} });
    };
  return {
    lines,
    logger: { error: add('error'), warn: add('warn'), info: add('info'), debug: add('debug') },
  };
}

const EXITED = 'pipeline worker exited; restarting it, serving the last zone';

/** Runs a pipeline whose workers die at once (`code`), until `exits` restarts were logged. */
async function dyingWorkers(
  code: string,
  policy: RestartPolicy,
  exits: number,
): Promise<LogLine[]> {
  const { dir, config, configFile } = await setup();
  const { logger, lines } = fieldLogs();
  const pipeline = new Pipeline({
    configFile,
    config,
    nsIps: [],
    version: 'test',
    store: new ZoneStore(),
    logger,
    restart: policy,
    random: () => 0,
    startWorker: () => new Worker(code, { eval: true }),
  });
  try {
    await waitFor(
      () => pipeline.workerStatus().restarts >= exits,
      20_000,
      `${String(exits)} exits`,
    );
  } finally {
    await pipeline.close();
    await rm(dir, { recursive: true, force: true });
  }
  const errors = lines.filter((l) => l.level === 'error');
  // Exactly one error line per exit, even for a worker that dies while it is being prepared.
  return errors.every((l) => l.message === EXITED) ? errors.slice(0, exits) : errors;
}

test('a worker that keeps dying is restarted with a growing delay, one error line per exit', async (t) => {
  const policy = { initialMs: 40, maxMs: 160, resetAfterMs: 60_000 };
  const exits = await dyingWorkers('process.exit(3)', policy, 4);
  t.deepEqual(
    exits.map((l) => l.fields.restartInMs),
    [20, 40, 80, 80],
  );
  t.deepEqual(
    exits.map((l) => l.fields.restarts),
    [1, 2, 3, 4],
  );
  t.like(exits[0]?.fields, { code: 3, reason: 'exited with code 3' });
});

test('a worker that ran resetAfterMs before dying starts a new series of delays', async (t) => {
  // Every worker has run at least 0 ms: each restart is the first of its series.
  const exits = await dyingWorkers(
    "throw new Error('boom')",
    { initialMs: 40, maxMs: 160, resetAfterMs: 0 },
    3,
  );
  t.deepEqual(
    exits.map((l) => l.fields.restartInMs),
    [20, 20, 20],
  );
  t.like(exits[0]?.fields, { code: 1, reason: 'Error: boom' });
});

/** Asks `port` on 127.0.0.1 for `name` A over UDP. */
async function askUdp(port: number, name: string): Promise<Message> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<Message>((resolveAnswer, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('no DNS answer within 2 s'));
      }, 2000);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolveAnswer(decodeMessage(msg));
      });
      socket.once('error', reject);
      socket.send(encodeQuery(name, 'A'), port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

test('a terminated worker is counted and restarted; DNS answers from the last zone meanwhile', async (t) => {
  const { dir, config, configFile } = await setup();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new ZoneStore();
  const workers: Worker[] = [];
  const { logger, lines } = fieldLogs();
  let loads = 0;
  // Long enough to query while the worker is down, even on a loaded machine.
  const policy = { initialMs: 3000, maxMs: 6000, resetAfterMs: 600_000 };
  const pipeline = new Pipeline({
    configFile,
    config,
    nsIps: ['127.0.0.1'],
    version: 'test',
    store,
    logger,
    restart: policy,
    random: () => 0,
    onLoad: () => {
      loads++;
    },
    startWorker: (init) => {
      const worker = startPipelineWorker(init);
      workers.push(worker);
      return worker;
    },
  });
  t.teardown(() => pipeline.close());
  const metrics = new Metrics({
    version: 'test',
    processMetrics: false,
    sources: { workerRestarts: () => pipeline.workerStatus().restarts },
  });
  const dns = new DnsServer({
    listen: { host: '127.0.0.1', port: 0 },
    settings: { domain: 'mesos', recursionAvailable: false, forwarder: undefined },
    zone: () => store.zone(),
    logger: silentLogger,
    batchedUdp: false,
  });
  await dns.start();
  t.teardown(() => dns.close());
  await pipeline.prepare(config);
  // Secondaries that hold a serial a day ahead of the clock: the zone goes beyond it.
  const floor = Math.floor(Date.now() / 1000) + 86_400;
  pipeline.start(floor);
  await waitFor(() => store.current !== undefined, 15_000, 'zone installed');
  await waitFor(() => pipeline.dataAgeMs() !== undefined, 5000, 'stats mirrored');
  t.is(store.zone()?.serial, floor + 1, 'past the floor given at start');
  const restartsMetric = async (): Promise<number | undefined> =>
    parsePrometheusText((await metrics.scrape()).body).get('mesodns_pipeline_worker_restarts_total')
      ?.samples[0]?.value;
  t.is(await restartsMetric(), 0);
  t.like(pipeline.workerStatus(), { running: true, restarts: 0, lastExit: undefined });

  await workers[0]?.terminate();
  const down = pipeline.workerStatus();
  t.false(down.running);
  t.is(down.restarts, 1);
  t.is(down.lastExit?.code, 1);
  t.is((down.nextRestartAt ?? 0) - (down.lastExit?.at ?? 0), 1500, 'the first delay');
  t.is(await restartsMetric(), 1);
  const answer = await askUdp(dns.port, 'car-store.marathon.mesos');
  t.is(answer.rcode, 'NOERROR', 'the last zone is served while the worker is down');
  t.deepEqual(
    answer.answers.map((r) => r.data),
    ['1.2.3.11'],
  );
  t.not(pipeline.dataAgeMs(), undefined, 'the data age survives the worker');

  // The new worker loads again; a second death waits twice as long.
  await waitFor(() => workers.length === 2 && pipeline.workerStatus().running, 15_000, 'restart');
  await waitFor(() => loads === 2, 15_000, 'the new worker loaded');
  // The new worker started from the clock, a day behind the zone served: it went beyond it.
  await waitFor(() => store.zone()?.serial === floor + 2, 5000, 'the next serial');
  await workers[1]?.terminate();
  const again = pipeline.workerStatus();
  t.is(again.restarts, 2);
  t.is((again.nextRestartAt ?? 0) - (again.lastExit?.at ?? 0), 3000, 'the second delay');
  t.is(await restartsMetric(), 2);
  t.is((await askUdp(dns.port, 'car-store.marathon.mesos')).rcode, 'NOERROR');
  t.deepEqual(
    lines.filter((l) => l.level === 'error').map((l) => l.message),
    [EXITED, EXITED],
    'one error line per exit',
  );
});
