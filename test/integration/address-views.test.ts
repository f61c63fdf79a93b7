/**
 * End to end, issue #19 part 4: the address views (`records.addressViews`) of the real mesodns
 * following a fake master's event stream, asked with dig and over the /v1 API. One server for the
 * whole file: it starts with the views off (the Mesos-DNS names only), a reload turns them on
 * (a rebuild), then streamed launches and kills change them like every other name, and so do
 * polled states after a reload to `mesos.mode: poll`.
 */
import test from 'ava';
import { taskIdHash } from '../../src/records/index.js';
import { dig } from '../../support/dig.js';
import type { DigMessage } from '../../support/dig.js';
import { FakeMaster } from '../../support/fake-master.js';
import {
  answerData,
  ask,
  metricValue,
  reloadCounts,
  startMesodns,
  waitFor,
  waitForReload,
} from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';

const AGENT_ID = 'b1e0c7d2-4b1a-4e36-9f0e-2c8a5d7f1a10-S0';
const AGENT_IP = '10.0.1.21';

/** A running task's status with these container addresses. */
function running(ips: readonly string[]): Record<string, unknown> {
  return {
    state: 'TASK_RUNNING',
    timestamp: 1717000102.73,
    container_status: {
      network_infos: [{ ip_addresses: ips.map((ip) => ({ ip_address: ip })) }],
    },
  };
}

/**
 * One agent and marathon with two tasks: `web`, Docker BRIDGE with 31001 mapped to 80 (bridge
 * address 172.17.0.3), and `db`, on a CNI network (9.0.2.5 and an IPv6 with its prefix, as the
 * CNI isolator reports it) with DiscoveryInfo port 5432.
 */
function stateDoc(): Record<string, unknown> {
  const task = (id: string, more: Record<string, unknown>): Record<string, unknown> => ({
    id,
    name: id.split('.')[0],
    framework_id: 'fw-marathon',
    executor_id: '',
    slave_id: AGENT_ID,
    state: 'TASK_RUNNING',
    ...more,
  });
  return {
    version: '1.11.0',
    leader: 'master@127.0.0.1:5050',
    pid: 'master@127.0.0.1:5050',
    slaves: [{ id: AGENT_ID, hostname: AGENT_IP, port: 5051, pid: `slave(1)@${AGENT_IP}:5051` }],
    frameworks: [
      {
        id: 'fw-marathon',
        name: 'marathon',
        hostname: '127.0.0.1',
        tasks: [
          task('web.1', {
            resources: { cpus: 0.5, mem: 256, disk: 0, gpus: 0, ports: '[31001-31001]' },
            statuses: [running(['172.17.0.3'])],
            container: {
              type: 'DOCKER',
              docker: {
                image: 'nginx:1.25',
                network: 'BRIDGE',
                port_mappings: [{ host_port: 31001, container_port: 80, protocol: 'tcp' }],
              },
            },
          }),
          task('db.1', {
            resources: { cpus: 1, mem: 1024, disk: 0, gpus: 0 },
            statuses: [running(['9.0.2.5', 'fd01:b::2:8000:0:2/64'])],
            discovery: {
              visibility: 'FRAMEWORK',
              name: 'db',
              ports: { ports: [{ number: 5432, name: 'pg', protocol: 'tcp' }] },
            },
            container: { type: 'MESOS', network_infos: [{ name: 'dcos6' }] },
          }),
        ],
      },
    ],
    completed_frameworks: [],
  };
}

/** The instance label of a task on the agent (`...-S0`). */
function instance(name: string, id: string): string {
  return `${name}-${taskIdHash(id)}-s0`;
}

interface Served {
  readonly master: FakeMaster;
  readonly srv: Mesodns;
}

let served: Served | undefined;

test.before(async () => {
  const master = new FakeMaster(stateDoc(), { heartbeatSeconds: 0.5 });
  await master.start();
  // A poll period far beyond every wait below: after the first load only the stream and the
  // reload change the zone.
  const srv = await startMesodns({ config: { mesos: { masters: [master.url], refresh: '5m' } } });
  served = { master, srv };
});

test.after.always(async () => {
  await served?.srv.stop();
  await served?.master.close();
});

function server(): Served {
  if (served === undefined) throw new Error('the server did not start');
  return served;
}

/** One dig run asking every `[name, type]`; the answers' rdata by question (`status` on a miss). */
async function digAll(
  srv: Mesodns,
  questions: readonly (readonly [string, string])[],
): Promise<Map<string, string[]>> {
  const r = await dig(srv.dnsPort, questions.flat());
  const out = new Map<string, string[]>();
  r.messages.forEach((m: DigMessage, i) => {
    const [name, type] = questions[i] ?? ['', ''];
    const data = m.answer.filter((rr) => rr.type === type).map((rr) => rr.data);
    out.set(`${name} ${type}`, m.status === 'NOERROR' ? data.sort() : [m.status]);
  });
  return out;
}

test.serial('views off: the Mesos-DNS names only', async (t) => {
  const { srv } = server();
  const got = await digAll(srv, [
    ['web.marathon.mesos', 'A'],
    ['db.marathon.mesos', 'A'],
    ['web.marathon.autoip.mesos', 'A'],
    ['_web._tcp.marathon.agentip.mesos', 'SRV'],
  ]);
  // The bridge address is skipped by netinfo: the agent's (the host source).
  t.deepEqual(got.get('web.marathon.mesos A'), [AGENT_IP]);
  t.deepEqual(got.get('db.marathon.mesos A'), ['9.0.2.5']);
  t.deepEqual(got.get('web.marathon.autoip.mesos A'), ['NXDOMAIN']);
  t.deepEqual(got.get('_web._tcp.marathon.agentip.mesos SRV'), ['NXDOMAIN']);
});

test.serial(
  'a reload turns the views on: bridge and container-network tasks answer as dcos-net',
  async (t) => {
    const { master, srv } = server();
    await srv.rewriteConfig({
      mesos: { masters: [master.url], refresh: '5m' },
      records: { addressViews: true },
    });
    srv.reload();
    // In stream mode a reload ends the stream and the zone is rebuilt from the next snapshot,
    // after the reload is logged: wait for the first view name.
    await waitFor(
      async () => (await ask(srv.dnsPort, 'web.marathon.agentip.mesos.', 'A')).rcode === 'NOERROR',
      10_000,
      'the views after the reload',
    );
    const web = instance('web', 'web.1');
    const db = instance('db', 'db.1');
    const got = await digAll(srv, [
      ['web.marathon.agentip.mesos', 'A'],
      ['web.marathon.autoip.mesos', 'A'],
      ['web.marathon.containerip.mesos', 'A'],
      [`${web}.marathon.containerip.mesos`, 'A'],
      ['_web._tcp.marathon.agentip.mesos', 'SRV'],
      ['_web._tcp.marathon.autoip.mesos', 'SRV'],
      ['_web._tcp.marathon.containerip.mesos', 'SRV'],
      ['db.marathon.containerip.mesos', 'A'],
      ['db.marathon.containerip.mesos', 'AAAA'],
      ['db.marathon.autoip.mesos', 'A'],
      ['db.marathon.autoip.mesos', 'AAAA'],
      ['db.marathon.agentip.mesos', 'A'],
      ['_db._tcp.marathon.autoip.mesos', 'SRV'],
      ['_db._tcp.marathon.agentip.mesos', 'SRV'],
      ['web.marathon.mesos', 'A'],
      ['db.marathon.mesos', 'A'],
    ]);
    // Docker bridge with a port mapping: the agent under agentip and autoip, the bridge address
    // under containerip; host port where the agent is, container port at the bridge.
    t.deepEqual(got.get('web.marathon.agentip.mesos A'), [AGENT_IP]);
    t.deepEqual(got.get('web.marathon.autoip.mesos A'), [AGENT_IP]);
    t.deepEqual(got.get('web.marathon.containerip.mesos A'), ['172.17.0.3']);
    t.deepEqual(got.get(`${web}.marathon.containerip.mesos A`), ['172.17.0.3']);
    t.deepEqual(got.get('_web._tcp.marathon.agentip.mesos SRV'), [
      `0 1 31001 ${web}.marathon.agentip.mesos.`,
    ]);
    t.deepEqual(got.get('_web._tcp.marathon.autoip.mesos SRV'), [
      `0 1 31001 ${web}.marathon.autoip.mesos.`,
    ]);
    t.deepEqual(got.get('_web._tcp.marathon.containerip.mesos SRV'), [
      `0 1 80 ${web}.marathon.containerip.mesos.`,
    ]);
    // Container network: its addresses under containerip and autoip, the agent under agentip.
    t.deepEqual(got.get('db.marathon.containerip.mesos A'), ['9.0.2.5']);
    t.deepEqual(got.get('db.marathon.containerip.mesos AAAA'), ['fd01:b::2:8000:0:2']);
    t.deepEqual(got.get('db.marathon.autoip.mesos A'), ['9.0.2.5']);
    t.deepEqual(got.get('db.marathon.autoip.mesos AAAA'), ['fd01:b::2:8000:0:2']);
    t.deepEqual(got.get('db.marathon.agentip.mesos A'), [AGENT_IP]);
    t.deepEqual(got.get('_db._tcp.marathon.autoip.mesos SRV'), [
      `0 1 5432 ${db}.marathon.autoip.mesos.`,
    ]);
    // No host port: the agent's view has its name and no SRV.
    t.deepEqual(got.get('_db._tcp.marathon.agentip.mesos SRV'), ['NXDOMAIN']);
    // The Mesos-DNS names are as they were.
    t.deepEqual(got.get('web.marathon.mesos A'), [AGENT_IP]);
    t.deepEqual(got.get('db.marathon.mesos A'), ['9.0.2.5']);
    // The SRV answer carries its target's address.
    const srvAnswer = await dig(srv.dnsPort, ['_web._tcp.marathon.autoip.mesos', 'SRV']);
    t.deepEqual(
      srvAnswer.additional.filter((rr) => rr.type === 'A').map((rr) => [rr.name, rr.data]),
      [[`${web}.marathon.autoip.mesos.`, AGENT_IP]],
    );
  },
);

test.serial('the /v1 API answers the view names', async (t) => {
  const { srv } = server();
  const get = async (path: string): Promise<unknown> =>
    (await fetch(`${srv.httpUrl}${path}`)).json();
  const web = instance('web', 'web.1');
  t.deepEqual(await get('/v1/hosts/web.marathon.containerip.mesos'), [
    { host: 'web.marathon.containerip.mesos.', ip: '172.17.0.3' },
  ]);
  t.deepEqual(await get('/v1/services/_web._tcp.marathon.autoip.mesos'), [
    {
      service: '_web._tcp.marathon.autoip.mesos',
      host: `${web}.marathon.autoip.mesos.`,
      ip: AGENT_IP,
      port: '31001',
    },
  ]);
  const enumeration = JSON.stringify(await get('/v1/enumerate'));
  t.true(enumeration.includes('"name":"web.marathon.autoip.mesos.","host":"10.0.1.21"'));
  t.true(enumeration.includes(`"host":"${web}.marathon.containerip.mesos.:80"`));
});

test.serial('streamed launches and kills change the views like every other name', async (t) => {
  const { master, srv } = server();
  const changesBefore = await metricValue(srv, 'mesodns_zone_update_task_changes_total');
  const api = master.launchTask({
    name: 'api',
    ip: '9.0.3.7',
    portMappings: [{ host: 31050, container: 8080 }],
  });
  const cache = master.launchTask({ name: 'cache', ip: '9.0.3.8' });
  const addresses = async (name: string): Promise<string[]> => {
    const r = await ask(srv.dnsPort, name, 'A');
    return r.rcode === 'NOERROR' ? answerData(r).sort() : [r.rcode];
  };
  await waitFor(
    async () => (await addresses('cache.marathon.autoip.mesos.'))[0] === '9.0.3.8',
    10_000,
    'the launched tasks',
  );
  const got = await digAll(srv, [
    ['api.marathon.autoip.mesos', 'A'],
    ['api.marathon.containerip.mesos', 'A'],
    ['_api._tcp.marathon.autoip.mesos', 'SRV'],
    ['_api._tcp.marathon.containerip.mesos', 'SRV'],
    ['cache.marathon.autoip.mesos', 'A'],
    ['cache.marathon.agentip.mesos', 'A'],
  ]);
  const a = instance('api', api);
  t.deepEqual(got.get('api.marathon.autoip.mesos A'), [AGENT_IP]);
  t.deepEqual(got.get('api.marathon.containerip.mesos A'), ['9.0.3.7']);
  t.deepEqual(got.get('_api._tcp.marathon.autoip.mesos SRV'), [
    `0 1 31050 ${a}.marathon.autoip.mesos.`,
  ]);
  t.deepEqual(got.get('_api._tcp.marathon.containerip.mesos SRV'), [
    `0 1 8080 ${a}.marathon.containerip.mesos.`,
  ]);
  t.deepEqual(got.get('cache.marathon.autoip.mesos A'), ['9.0.3.8']);
  t.deepEqual(got.get('cache.marathon.agentip.mesos A'), [AGENT_IP]);
  // They came as streamed zone updates, not rebuilds.
  t.true((await metricValue(srv, 'mesodns_zone_update_task_changes_total')) > changesBefore);

  master.killTask(api);
  master.killTask(cache);
  await waitFor(
    async () => (await addresses('cache.marathon.autoip.mesos.'))[0] === 'NXDOMAIN',
    10_000,
    'the killed tasks gone',
  );
  const gone = await digAll(srv, [
    ['api.marathon.autoip.mesos', 'A'],
    ['api.marathon.containerip.mesos', 'A'],
    ['_api._tcp.marathon.agentip.mesos', 'SRV'],
    ['web.marathon.autoip.mesos', 'A'],
  ]);
  t.deepEqual(gone.get('api.marathon.autoip.mesos A'), ['NXDOMAIN']);
  t.deepEqual(gone.get('api.marathon.containerip.mesos A'), ['NXDOMAIN']);
  t.deepEqual(gone.get('_api._tcp.marathon.agentip.mesos SRV'), ['NXDOMAIN']);
  t.deepEqual(gone.get('web.marathon.autoip.mesos A'), [AGENT_IP], 'the others stay');
});

test.serial('polled states rebuild the views like every other name', async (t) => {
  const { master, srv } = server();
  const before = await reloadCounts(srv);
  await srv.rewriteConfig({
    mesos: { masters: [master.url], mode: 'poll', refresh: '200ms' },
    records: { addressViews: true },
  });
  srv.reload();
  // The poller replaces the stream (its first poll is loaded) before the task is added.
  await waitForReload(srv, before);
  const cached = master.addTask({
    name: 'cached',
    ip: '9.0.3.9',
    portMappings: [{ host: 31060, container: 6379 }],
  });
  const rcode = async (name: string): Promise<string> => (await ask(srv.dnsPort, name, 'A')).rcode;
  await waitFor(
    async () => (await rcode('cached.marathon.containerip.mesos.')) === 'NOERROR',
    10_000,
    'a polled task',
  );
  const c = instance('cached', cached);
  const got = await digAll(srv, [
    ['cached.marathon.autoip.mesos', 'A'],
    ['cached.marathon.containerip.mesos', 'A'],
    ['_cached._tcp.marathon.containerip.mesos', 'SRV'],
    ['cached.marathon.mesos', 'A'],
  ]);
  t.deepEqual(got.get('cached.marathon.autoip.mesos A'), [AGENT_IP]);
  t.deepEqual(got.get('cached.marathon.containerip.mesos A'), ['9.0.3.9']);
  t.deepEqual(got.get('_cached._tcp.marathon.containerip.mesos SRV'), [
    `0 1 6379 ${c}.marathon.containerip.mesos.`,
  ]);
  t.deepEqual(got.get('cached.marathon.mesos A'), [AGENT_IP], 'a bridge task: host wins');
  master.killTask(cached);
  await waitFor(
    async () => (await rcode('cached.marathon.autoip.mesos.')) === 'NXDOMAIN',
    10_000,
    'the killed task gone',
  );
  t.is(await rcode('web.marathon.containerip.mesos.'), 'NOERROR', 'the others stay');
});
