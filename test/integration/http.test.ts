/** The HTTP API of the running server, and Node's own resolver as a DNS client. */
import { Resolver } from 'node:dns/promises';
import test from 'ava';
import { startMesodns } from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';

let srv: Mesodns;

test.before(async () => {
  srv = await startMesodns({
    stateFile: 'test/fixtures/fake.json',
    config: { mesos: { auth: { principal: 'dns', secret: 'hunter2' } } },
  });
});

test.after.always(async () => {
  await srv.stop();
});

async function get(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown; type: string }> {
  const res = await fetch(`${srv.httpUrl}${path}`, init);
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return {
    status: res.status,
    body: type.startsWith('application/json') ? (JSON.parse(text) as unknown) : text,
    type,
  };
}

test('Node.js dns.Resolver resolves A, AAAA, SRV and SOA', async (t) => {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${String(srv.dnsPort)}`]);
  t.deepEqual(await resolver.resolve4('car-store.marathon.mesos'), ['1.2.3.11']);
  t.deepEqual(await resolver.resolve6('toy-store.ipv6-framework.slave.mesos'), ['2001:db8::1']);
  const srvs = await resolver.resolveSrv('_car-store._tcp.marathon.mesos');
  t.deepEqual(srvs.map((s) => s.port).sort(), [31364, 31365]);
  t.true(
    srvs.every(
      (s) =>
        s.name === 'car-store-zinaz-0.marathon.slave.mesos' && s.priority === 0 && s.weight === 1,
    ),
  );
  const soa = await resolver.resolveSoa('mesos');
  t.is(soa.nsname, 'ns1.mesos');
  t.is(soa.minttl, 60);
  await t.throwsAsync(resolver.resolve4('nope.marathon.mesos'), { code: 'ENOTFOUND' });
  await t.throwsAsync(resolver.resolve6('car-store.marathon.mesos'), { code: 'ENODATA' });
});

test('/health and /ready answer 200 once loaded', async (t) => {
  t.is((await get('/health')).status, 200);
  const ready = await get('/ready');
  t.is(ready.status, 200);
  t.like(ready.body, { ready: true });
});

test('/v1/hosts returns A then AAAA values, and the Mesos-DNS empty shape on a miss', async (t) => {
  const hit = await get('/v1/hosts/liquor-store.marathon.mesos');
  t.is(hit.type, 'application/json');
  t.deepEqual(hit.body, [
    { host: 'liquor-store.marathon.mesos.', ip: '1.2.3.11' },
    { host: 'liquor-store.marathon.mesos.', ip: '1.2.3.12' },
  ]);
  t.deepEqual((await get('/v1/hosts/nope.mesos')).body, [{ host: '', ip: '' }]);
});

test('/v1/services returns one entry per SRV with the target address', async (t) => {
  const r = await get('/v1/services/_car-store._tcp.marathon.mesos');
  t.deepEqual(r.body, [
    {
      service: '_car-store._tcp.marathon.mesos',
      host: 'car-store-zinaz-0.marathon.slave.mesos.',
      ip: '1.2.3.11',
      port: '31364',
    },
    {
      service: '_car-store._tcp.marathon.mesos',
      host: 'car-store-zinaz-0.marathon.slave.mesos.',
      ip: '1.2.3.11',
      port: '31365',
    },
  ]);
  t.deepEqual((await get('/v1/services/_nope._tcp.mesos')).body, [
    { service: '', host: '', ip: '', port: '' },
  ]);
});

test('/v1/enumerate lists every framework with its running tasks and their records', async (t) => {
  const r = await get('/v1/enumerate');
  const body = r.body as {
    frameworks: {
      name: string;
      tasks: {
        name: string;
        id: string;
        records: { name: string; host: string; rtype: string }[];
      }[];
    }[];
  };
  t.deepEqual(
    body.frameworks.map((f) => f.name),
    ['ipv6-framework', 'chronos with a space AND MIXED CASE-2.0.1', 'no pid', 'marathon'],
  );
  const marathon = body.frameworks[3];
  t.false(
    marathon?.tasks.some((task) => task.name === 'poseidon.bc4e3796-2d7a-11e4-b8df-d43d7edb01cd'),
    'killed task listed',
  );
  const car = marathon?.tasks.find((task) => task.name === 'car.store');
  t.deepEqual(car?.records[0], { name: 'car-store.marathon.mesos.', host: '1.2.3.11', rtype: 'A' });
});

test('/v1/axfr returns the whole zone', async (t) => {
  const r = await get('/v1/axfr');
  const body = r.body as {
    Domain: string;
    Records: { As: Record<string, string[]>; SRVs: Record<string, string[]> };
  };
  t.is(body.Domain, 'mesos');
  t.deepEqual(body.Records.As['car-store.marathon.mesos.'], ['1.2.3.11']);
  t.true(
    body.Records.SRVs['_car-store._tcp.marathon.mesos.']?.includes(
      'car-store-zinaz-0.marathon.slave.mesos.:31364',
    ),
  );
});

test('/v1/config never shows secrets', async (t) => {
  const r = await get('/v1/config');
  t.is(r.status, 200);
  const text = JSON.stringify(r.body);
  t.false(text.includes('hunter2'));
  t.true(text.includes('******'));
});

test('/v1/version, 404 for unknown paths, 405 for other methods', async (t) => {
  t.like((await get('/v1/version')).body, { Service: 'mesodns' });
  const missing = await get('/v1/nope');
  t.is(missing.status, 404);
  t.is(missing.body, '404: Page Not Found');
  t.is((await get('/v1/version', { method: 'POST' })).status, 405);
});
