// The fake master cluster behaves like real Mesos masters (docs/mesos-api.md 1): checks of
// the test helper that the master client tests rely on.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { request } from 'node:http';
import { FakeMasterCluster } from '../../support/fake-master.js';

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One raw GET (no redirect following, no decompression), headers as given. */
function get(url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('latin1'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function cluster(t: ExecutionContext, state?: unknown): Promise<FakeMasterCluster> {
  const c = new FakeMasterCluster(state === undefined ? {} : { state });
  await c.start();
  t.teardown(() => c.close());
  return c;
}

test('followers answer 307 with a protocol-relative Location keeping path and query', async (t) => {
  const c = await cluster(t);
  const leader = c.master(0);
  for (const path of ['/master/state', '/state?jsonp=x']) {
    const r = await get(`${c.master(1).url}${path}`);
    t.is(r.status, 307);
    t.is(r.headers.location, `//127.0.0.1:${String(leader.port)}${path}`);
  }
  const ok = await get(`${leader.url}/master/state`);
  t.is(ok.status, 200);
  t.like(JSON.parse(ok.body), { leader: leader.pid, pid: leader.pid });
});

test('/master/redirect always answers 307 to the leader base URL, also on the leader', async (t) => {
  const c = await cluster(t);
  for (const m of c.masters) {
    for (const path of ['/master/redirect', '/redirect']) {
      const r = await get(`${m.url}${path}`);
      t.is(r.status, 307);
      t.is(r.headers.location, `//127.0.0.1:${String(c.master(0).port)}`);
    }
  }
  t.is((await get(`${c.master(0).url}/master/redirect/x`)).status, 404);
});

test('no leader: 503 "No leader elected" everywhere; failover elects the next master', async (t) => {
  const c = await cluster(t);
  c.noLeader();
  for (const m of c.masters) {
    const r = await get(`${m.url}/master/state`);
    t.is(r.status, 503);
    t.is(r.body, 'No leader elected');
    t.is((await get(`${m.url}/master/redirect`)).status, 503);
  }
  t.is(c.failover(), c.master(0));
  t.is(c.failover(), c.master(1));
  t.true(c.master(1).isLeader);
  t.false(c.master(0).isLeader);
  t.is(
    (await get(`${c.master(0).url}/master/state`)).headers.location,
    `//127.0.0.1:${String(c.master(1).port)}/master/state`,
  );
});

test('addTask and killTask change what the leader serves', async (t) => {
  const c = await cluster(t, {
    leader: 'x',
    slaves: [{ id: 'S0', hostname: 'a1', pid: 'slave(1)@10.0.0.1:5051' }],
    frameworks: [{ id: 'F0', name: 'marathon', tasks: [] }],
  });
  const id = c.addTask({ name: 'web', ip: '10.9.0.1', ports: [31000, 31001] });
  t.like(JSON.parse((await get(`${c.master(0).url}/master/state`)).body), {
    frameworks: [
      {
        tasks: [
          {
            id,
            name: 'web',
            slave_id: 'S0',
            framework_id: 'F0',
            state: 'TASK_RUNNING',
            resources: { ports: '[31000-31000, 31001-31001]' },
          },
        ],
      },
    ],
  });
  t.true(c.killTask(id));
  t.false(c.killTask('nope'));
  const body = JSON.parse((await get(`${c.master(0).url}/master/state`)).body) as {
    frameworks: { tasks: { state: string; statuses: { state: string }[] }[] }[];
  };
  t.is(body.frameworks[0]?.tasks[0]?.state, 'TASK_KILLED');
  t.is(body.frameworks[0]?.tasks[0]?.statuses.at(-1)?.state, 'TASK_KILLED');
});

test('gzip only for clients that accept it; truncated replies stop half-way', async (t) => {
  const c = await cluster(t);
  const leader = c.master(0);
  const plain = await get(`${leader.url}/master/state`);
  t.is(plain.headers['content-encoding'], undefined);
  const gz = await get(`${leader.url}/master/state`, { 'accept-encoding': 'gzip' });
  t.is(gz.headers['content-encoding'], 'gzip');
  t.is(leader.gzipped, 1);
  leader.truncated();
  await t.throwsAsync(get(`${leader.url}/master/state`), {
    message: /aborted|socket hang up|ECONNRESET/,
  });
});

test('Basic auth: 401 with a challenge without the right credentials', async (t) => {
  const c = new FakeMasterCluster({ size: 1, auth: { principal: 'p', secret: 's' } });
  await c.start();
  t.teardown(() => c.close());
  const denied = await get(`${c.master(0).url}/master/state`);
  t.is(denied.status, 401);
  t.is(denied.headers['www-authenticate'], 'Basic realm="mesos"');
  const ok = await get(`${c.master(0).url}/master/state`, {
    authorization: `Basic ${Buffer.from('p:s').toString('base64')}`,
  });
  t.is(ok.status, 200);
});

test('the cluster request log has statuses and times; concurrency is tracked', async (t) => {
  const c = await cluster(t);
  await get(`${c.master(2).url}/master/state`);
  const log = c.requestsOf();
  t.is(log.length, 1);
  t.is(log[0]?.master, 2);
  t.is(log[0]?.request.status, 307);
  t.true((log[0]?.request.at ?? 0) > 0);
  t.is(c.maxInFlight, 1);
});
