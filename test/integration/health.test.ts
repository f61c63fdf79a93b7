/**
 * End to end, issue #19: health-aware answers (`records.health: exclude-unhealthy`). The real
 * mesodns follows the fake master's event stream; a TASK_RUNNING update whose status says
 * `healthy: false` takes the task out of its app's A and SRV answers within a second and a
 * healthy one brings it back within a second, while its own name answers throughout; an app
 * whose instances are all unhealthy answers with all of them. dig and Node's resolver are the
 * clients. Poll mode follows a flip at its next refresh, and a reload to `ignore` rebuilds.
 */
import { promises as dnsPromises } from 'node:dns';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { syntheticState } from '../../support/cluster.js';
import { dig } from '../../support/dig.js';
import { FakeMasterCluster, addTask } from '../../support/fake-master.js';
import { answerData, ask, metricValue, startMesodns, waitFor } from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { isRecord } from '../../src/is-record.js';
import { taskIdHash } from '../../src/records/index.js';

const APP = 'web.marathon.mesos';
const SRV = '_web._tcp.marathon.mesos';
const IPS = ['10.99.1.1', '10.99.1.2', '10.99.1.3'];

interface Instance {
  readonly id: string;
  readonly ip: string;
  /** `web-{hash}-{agent}.marathon.mesos`, its own A name. */
  readonly name: string;
  /** Its `.slave` name, the target of the app's SRV records. */
  readonly target: string;
}

interface Setup {
  readonly cluster: FakeMasterCluster;
  readonly srv: Mesodns;
  readonly web: readonly Instance[];
}

/** A synthetic cluster plus `web`: three instances on three agents, one port each. */
function clusterWithWeb(): { doc: unknown; web: Instance[] } {
  const doc = syntheticState({ tasks: 20, agents: 3 });
  const slaves = isRecord(doc) && Array.isArray(doc['slaves']) ? doc['slaves'] : [];
  const web = IPS.map((ip, i) => {
    const slave: unknown = slaves[i];
    const agentId = isRecord(slave) && typeof slave['id'] === 'string' ? slave['id'] : '';
    const id = addTask(doc, {
      name: 'web',
      ip,
      framework: 'marathon',
      agentId,
      ports: [31000 + i],
    });
    const instance = `web-${taskIdHash(id)}-${agentId.slice(agentId.lastIndexOf('-') + 1).toLowerCase()}`;
    return {
      id,
      ip,
      name: `${instance}.marathon.mesos`,
      target: `${instance}.marathon.slave.mesos.`,
    };
  });
  return { doc, web };
}

async function setUp(t: ExecutionContext, mesos: Record<string, unknown>): Promise<Setup> {
  const { doc, web } = clusterWithWeb();
  const cluster = new FakeMasterCluster({ size: 1, state: doc, heartbeatSeconds: 0.5 });
  await cluster.start();
  t.teardown(() => cluster.close());
  const srv = await startMesodns({
    config: {
      mesos: { masters: cluster.urls, ...mesos },
      records: { health: 'exclude-unhealthy' },
      log: { level: 'debug' },
    },
    readiness: 'soa',
  });
  t.teardown(() => srv.stop());
  return { cluster, srv, web };
}

/** The app's addresses (sorted), or the RCODE. */
async function appAddresses(srv: Mesodns): Promise<string[]> {
  const r = await ask(srv.dnsPort, APP, 'A');
  return r.rcode === 'NOERROR' ? answerData(r).sort() : [r.rcode];
}

/** The app's SRV targets (sorted). */
async function appTargets(srv: Mesodns): Promise<string[]> {
  const r = await ask(srv.dnsPort, SRV, 'SRV');
  return r.answers
    .map((rr) =>
      isRecord(rr.data) && typeof rr.data['target'] === 'string' ? rr.data['target'] : '',
    )
    .map((target) => `${target}.`)
    .sort();
}

/** Node's resolver (c-ares) on mesodns. */
function nodeResolver(srv: Mesodns): dnsPromises.Resolver {
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`127.0.0.1:${String(srv.dnsPort)}`]);
  return resolver;
}

/**
 * What dig and Node's resolver see of the app: its A answer and its SRV targets, each sorted,
 * and each client's view must be the same.
 */
async function clientsSee(
  t: ExecutionContext,
  srv: Mesodns,
): Promise<{ addresses: string[]; targets: string[] }> {
  const a = await dig(srv.dnsPort, [APP, 'A']);
  const srvAnswer = await dig(srv.dnsPort, [SRV, 'SRV']);
  const addresses = a.answer.map((rr) => rr.data).sort();
  const targets = srvAnswer.answer.map((rr) => rr.data.split(' ').at(-1) ?? '').sort();
  const resolver = nodeResolver(srv);
  t.deepEqual((await resolver.resolve4(APP)).sort(), addresses, 'Node agrees with dig (A)');
  const nodeTargets = (await resolver.resolveSrv(SRV)).map((s) => `${s.name}.`).sort();
  t.deepEqual(nodeTargets, targets, 'Node agrees with dig (SRV)');
  return { addresses, targets };
}

/**
 * Polls every 20 ms until `check` holds (at most `ms`), asking each time that every instance's
 * own name still answers with its address; returns the milliseconds it took.
 */
async function within(
  setup: Setup,
  ms: number,
  what: string,
  check: () => Promise<boolean>,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    for (const w of setup.web) {
      const own = await ask(setup.srv.dnsPort, w.name, 'A');
      if (answerData(own).join() !== w.ip) throw new Error(`${w.name} stopped answering`);
    }
    if (await check()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${String(ms)} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ALL = [...IPS].sort();

test('stream mode: health flips leave and rejoin the app within a second; all unhealthy answer whole', async (t) => {
  const setup = await setUp(t, { refresh: '5m' });
  const { cluster, srv, web } = setup;
  const [w0, w1, w2] = web;
  if (w0 === undefined || w1 === undefined || w2 === undefined) return t.fail('no web');
  t.deepEqual(await appAddresses(srv), ALL);

  // w1 fails its health check.
  t.true(cluster.updateTask(w1.id, 'TASK_RUNNING', { healthy: false }));
  const leftMs = await within(setup, 1000, 'unhealthy instance leaves', async () => {
    const addresses = await appAddresses(srv);
    const targets = await appTargets(srv);
    return !addresses.includes(w1.ip) && !targets.includes(w1.target) && addresses.length === 2;
  });
  t.log(`unhealthy instance left the app's answers after ${String(leftMs)} ms`);
  t.deepEqual(await clientsSee(t, srv), {
    addresses: [w0.ip, w2.ip].sort(),
    targets: [w0.target, w2.target].sort(),
  });
  const own = await dig(srv.dnsPort, [w1.name, 'A']);
  t.deepEqual(
    own.answer.map((rr) => rr.data),
    [w1.ip],
    'its own name answers',
  );
  t.deepEqual(await nodeResolver(srv).resolve4(w1.name), [w1.ip]);
  const hosts = await fetch(`${srv.httpUrl}/v1/hosts/${w1.name}`);
  t.deepEqual(await hosts.json(), [{ host: `${w1.name}.`, ip: w1.ip, healthy: false }]);
  await waitFor(
    async () => (await metricValue(srv, 'mesodns_zone_health_excluded_tasks')) === 1,
    5000,
    'one task counted as excluded',
  );

  // Healthy again: back within a second.
  t.true(cluster.updateTask(w1.id, 'TASK_RUNNING', { healthy: true }));
  const backMs = await within(setup, 1000, 'healthy instance returns', async () => {
    const targets = await appTargets(srv);
    return (await appAddresses(srv)).length === 3 && targets.includes(w1.target);
  });
  t.log(`healthy instance came back after ${String(backMs)} ms`);
  t.deepEqual((await clientsSee(t, srv)).addresses, ALL);
  const services = await fetch(`${srv.httpUrl}/v1/services/${SRV}`);
  const entries = (await services.json()) as { host: string; healthy?: boolean }[];
  t.deepEqual(
    entries.map((e) => `${e.host} ${String(e.healthy)}`).sort(),
    // w1 reported healthy; the others have not reported any health (no field).
    web.map((w) => `${w.target} ${w === w1 ? 'true' : 'undefined'}`).sort(),
  );

  // Every instance unhealthy: the app answers with all of them (fail-open), counted.
  for (const w of web) t.true(cluster.updateTask(w.id, 'TASK_RUNNING', { healthy: false }));
  await waitFor(
    async () => (await metricValue(srv, 'mesodns_zone_health_fail_open_apps')) === 1,
    5000,
    'the app counted as served whole',
  );
  t.deepEqual(await appAddresses(srv), ALL);
  const whole = await clientsSee(t, srv);
  t.deepEqual(whole, { addresses: ALL, targets: web.map((w) => w.target).sort() });
  t.is(await metricValue(srv, 'mesodns_zone_health_excluded_tasks'), 0);
  t.regex(srv.logs(), /every instance of an app is unhealthy; serving all of them/);

  // One recovers: only it answers, within a second.
  t.true(cluster.updateTask(w2.id, 'TASK_RUNNING', { healthy: true }));
  await within(setup, 1000, 'only the healthy instance', async () => {
    return (await appAddresses(srv)).join() === w2.ip;
  });
  t.deepEqual((await clientsSee(t, srv)).targets, [w2.target]);
  await waitFor(
    async () => (await metricValue(srv, 'mesodns_zone_health_fail_open_apps')) === 0,
    5000,
    'no app served whole',
  );
});

test('poll mode: a health flip is answered at the next refresh', async (t) => {
  const setup = await setUp(t, { mode: 'poll', refresh: '500ms' });
  const { cluster, srv, web } = setup;
  const w0 = web[0];
  if (w0 === undefined) return t.fail('no web');
  t.deepEqual(await appAddresses(srv), ALL);
  t.true(cluster.updateTask(w0.id, 'TASK_RUNNING', { healthy: false }));
  await within(setup, 5000, 'the next refresh', async () => {
    return !(await appAddresses(srv)).includes(w0.ip);
  });
  t.deepEqual((await clientsSee(t, srv)).addresses, IPS.filter((ip) => ip !== w0.ip).sort());
  // A reload back to `ignore` rebuilds the zone: every instance answers again, as Mesos-DNS.
  await srv.rewriteConfig({ ...srv.config, records: { health: 'ignore' } });
  srv.reload();
  await within(setup, 5000, 'the reload', async () => (await appAddresses(srv)).length === 3);
  const hosts = await fetch(`${srv.httpUrl}/v1/hosts/${w0.name}`);
  t.deepEqual(await hosts.json(), [{ host: `${w0.name}.`, ip: w0.ip }], 'no healthy field');
});
