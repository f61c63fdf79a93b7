// Cheap checks of the test helpers that other suites build on: the fake master's API shapes
// and failure modes, the port finder, the dig output parser and the network-safety guard.
import test from 'ava';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dig, parseDigOutput } from '../../support/dig.js';
import { FakeMaster } from '../../support/fake-master.js';
import { buildQuery, startMesodns, waitFor } from '../../support/mesodns.js';
import { freePort } from '../../support/ports.js';
import { decode } from 'dns-packet';

const FIXTURE = {
  version: '1.11.0',
  hostname: 'm1.cluster.internal',
  pid: 'master@1.2.3.4:5050',
  leader: 'master@1.2.3.4:5050',
  leader_info: { id: 'x', pid: 'master@1.2.3.4:5050', port: 5050, hostname: 'm1' },
  slaves: [],
  frameworks: [],
};

async function startMaster(t: {
  teardown: (fn: () => Promise<void>) => void;
}): Promise<FakeMaster> {
  const master = new FakeMaster(FIXTURE);
  await master.start();
  t.teardown(() => master.close());
  return master;
}

test('fake master serves the state on /master/state and /state with itself as leader', async (t) => {
  const master = await startMaster(t);
  for (const path of ['/master/state', '/state']) {
    const res = await fetch(`${master.url}${path}`);
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /application\/json/);
    const body: unknown = await res.json();
    t.like(body, {
      version: '1.11.0',
      leader: `master@127.0.0.1:${master.port}`,
      pid: `master@127.0.0.1:${master.port}`,
      hostname: '127.0.0.1',
      leader_info: { id: master.id, pid: master.pid, port: master.port, hostname: '127.0.0.1' },
    });
  }
  t.is((await fetch(`${master.url}/master/state.json`)).status, 404);
  t.is(master.requests, 3);
  t.deepEqual(
    master.requestLog.map((r) => `${r.method} ${r.url}`),
    ['GET /master/state', 'GET /state', 'GET /master/state.json'],
  );
});

test('fake master failure modes: status, malformed, delay, hang, reset', async (t) => {
  const master = await startMaster(t);
  master.fail(503);
  const unavailable = await fetch(`${master.url}/master/state`);
  t.is(unavailable.status, 503);
  t.is(await unavailable.text(), 'No leader elected');

  master.malformed();
  const truncated = await fetch(`${master.url}/master/state`);
  t.is(truncated.status, 200);
  const text = await truncated.text();
  t.throws(() => JSON.parse(text) as unknown);

  master.reset();
  master.delay(150);
  const started = Date.now();
  t.is((await fetch(`${master.url}/master/state`)).status, 200);
  t.true(Date.now() - started >= 140);

  master.reset();
  master.hang();
  await t.throwsAsync(fetch(`${master.url}/master/state`, { signal: AbortSignal.timeout(200) }), {
    any: true,
  });

  master.reset();
  master.setState({ leader: 'master@1.2.3.4:5050', frameworks: [{ name: 'x' }] });
  t.like(await (await fetch(`${master.url}/state`)).json(), {
    leader: master.pid,
    frameworks: [{ name: 'x' }],
  });
  master.setState('not json at all');
  t.is(await (await fetch(`${master.url}/state`)).text(), 'not json at all');
  t.is(master.requests, 6);
});

test('freePort returns a port that TCP and UDP can both bind, below the ephemeral range', async (t) => {
  const port = await freePort();
  const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).split(/\s+/);
  t.true(port >= 10_000 && port < Number(low), `${String(port)} below ${String(low)}`);
  const tcp = createServer();
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  t.is(udp.address().port, port);
  udp.close();
  await new Promise<void>((resolve) => {
    tcp.close(() => {
      resolve();
    });
  });
});

test('parseDigOutput reads a SERVFAIL reply without OPT and a no-reply run', (t) => {
  const servfail = parseDigOutput(
    [
      ';; Got answer:',
      ';; ->>HEADER<<- opcode: QUERY, status: SERVFAIL, id: 7',
      ';; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0',
      '',
      ';; QUESTION SECTION:',
      ';web.marathon.mesos.\t\tIN\tA',
      '',
      ';; SERVER: 127.0.0.1#5300(127.0.0.1) (UDP)',
      ';; MSG SIZE  rcvd: 36',
      '',
    ].join('\n'),
  );
  t.is(servfail.status, 'SERVFAIL');
  t.deepEqual([...servfail.flags], ['qr', 'rd', 'ra']);
  t.is(servfail.ednsUdpSize, undefined);
  t.is(servfail.msgSize, 36);
  t.is(servfail.id, 7);
  t.deepEqual(servfail.question, [{ name: 'web.marathon.mesos.', class: 'IN', type: 'A' }]);

  const none = parseDigOutput(
    ';; communications error to 127.0.0.1#9: timed out\n;; no servers could be reached\n',
    '',
    9,
  );
  t.is(none.status, 'NOREPLY');
  t.is(none.warnings.length, 2);
});

test('buildQuery sets RD, ID and an OPT record with the DO bit', (t) => {
  const packet = decode(buildQuery('Web.Marathon.Mesos', 'SRV', { id: 99, edns: 4096, do: true }));
  t.is(packet.id, 99);
  t.true(packet.flag_rd);
  t.deepEqual(packet.questions, [{ name: 'Web.Marathon.Mesos', type: 'SRV', class: 'IN' }]);
  t.like(packet.additionals?.[0], { type: 'OPT', udpPayloadSize: 4096, flag_do: true });
  t.false(decode(buildQuery('a.mesos', 'A', { rd: false })).flag_rd);
  t.is(decode(buildQuery('a.mesos', 'A')).additionals?.length, 0);
});

test('startMesodns refuses configs that would leave the machine', async (t) => {
  await t.throwsAsync(startMesodns({ config: { forward: { enabled: true } } }), {
    message: /network safety/,
  });
  await t.throwsAsync(
    startMesodns({
      config: { mesos: { masters: ['http://1.2.3.4:5050'] }, forward: { enabled: false } },
    }),
    { message: /is not loopback/ },
  );
});

test('waitFor resolves once the predicate holds and rejects after the timeout', async (t) => {
  let n = 0;
  await waitFor(() => ++n >= 3, 1000);
  t.true(n >= 3);
  await t.throwsAsync(
    waitFor(() => false, 120, 'never'),
    { message: /never not met within 120 ms/ },
  );
});

test('startMesodns serves the demo state and stops cleanly on SIGTERM', async (t) => {
  const srv = await startMesodns({ stateFile: 'config/demo-state.json' });
  t.teardown(() => srv.stop());
  const soa = await dig(srv.dnsPort, ['mesos', 'SOA']);
  t.is(soa.status, 'NOERROR', `${soa.raw}\n${srv.logs()}`);
  t.is((await dig(srv.dnsPort, ['example.test', 'A'])).status, 'REFUSED');
  t.is(await srv.stop(), 0, srv.logs());
});
