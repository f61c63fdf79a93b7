/**
 * The batched UDP socket (src/dns/batch-udp.ts, native/udp_batch.c): built on Linux, answers
 * exactly as the dgram path does, keeps up with bursts larger than a batch, drops oversized
 * datagrams without stopping, serves IPv6, reports the client address, and copies a query that
 * outlives its batch (forwarding).
 */
import test from 'ava';
import { createSocket } from 'node:dgram';
import type { ExecutionContext } from 'ava';
import type { QueryEvent } from '../../src/dns/index.js';
import { DnsServer } from '../../src/dns/server.js';
import { loadBatchUdp, oversizedDatagrams } from '../../src/dns/batch-udp.js';
import { Metrics } from '../../src/metrics.js';
import { decodeMessage, encodeQuery } from '../../support/dns-message.js';
import { queryRaw } from '../../support/mesodns.js';
import { zoneFromText } from '../../support/records-text.js';

const ZONE = zoneFromText(
  [
    'web.marathon.mesos. A 10.0.0.1',
    'web.marathon.mesos. A 10.0.0.2',
    'web.marathon.mesos. AAAA fd00::1',
    '_web._tcp.marathon.mesos. SRV 31000 web-a1b2c-s1.marathon.mesos.',
    'web-a1b2c-s1.marathon.mesos. A 10.0.0.1',
    'big.marathon.mesos. A 10.0.1.1',
    ...Array.from({ length: 60 }, (_, i) => `big.marathon.mesos. A 10.0.2.${String(i + 1)}`),
  ].join('\n'),
);

const silent = { error() {}, warn() {}, info() {}, debug() {} };

async function serve(
  t: ExecutionContext,
  batchedUdp: boolean,
  host = '127.0.0.1',
  events?: QueryEvent[],
): Promise<DnsServer> {
  const server = new DnsServer({
    listen: { host, port: 0 },
    settings: { domain: 'mesos', recursionAvailable: false, forwarder: undefined },
    zone: () => ZONE,
    logger: silent,
    batchedUdp,
    ...(events === undefined ? {} : { onQuery: (e: QueryEvent) => events.push(e) }),
  });
  await server.start();
  t.teardown(() => server.close(0));
  return server;
}

/** A response with its answers sorted (answers are shuffled per response). */
function normalized(reply: Buffer | undefined): unknown {
  if (reply === undefined) return undefined;
  const m = decodeMessage(reply);
  const sort = (rs: readonly unknown[]): string[] => rs.map((r) => JSON.stringify(r)).sort();
  return { ...m, answers: sort(m.answers), additionals: sort(m.additionals) };
}

test('the addon is built on Linux (npm ci runs node-gyp)', (t) => {
  if (process.platform !== 'linux') return t.pass();
  const { binding, reason } = loadBatchUdp();
  t.truthy(binding, reason);
});

test('batched and dgram UDP give the same answers', async (t) => {
  const batched = await serve(t, true);
  const plain = await serve(t, false);
  t.is(batched.udpEngine.engine, 'batched');
  t.is(plain.udpEngine.engine, 'dgram');
  const response = Buffer.from(encodeQuery('web.marathon.mesos.', 'A'));
  response[2] = (response[2] ?? 0) | 0x80;
  const packets: [string, Buffer, boolean][] = [
    ['A', encodeQuery('web.marathon.mesos.', 'A', { rd: false }), true],
    ['AAAA', encodeQuery('web.marathon.mesos.', 'AAAA', { id: 7 }), true],
    ['SRV', encodeQuery('_web._tcp.marathon.mesos.', 'SRV', { edns: 1232 }), true],
    ['NXDOMAIN', encodeQuery('nope.marathon.mesos.', 'A'), true],
    ['NODATA', encodeQuery('web.marathon.mesos.', 'MX'), true],
    ['truncated', encodeQuery('big.marathon.mesos.', 'A'), true],
    ['outside the domain (REFUSED)', encodeQuery('example.com.', 'A'), true],
    ['FORMERR', Buffer.from([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]), true],
    ['a response is dropped', response, false],
  ];
  for (const [what, packet, answered] of packets) {
    const [a, b] = await Promise.all([
      queryRaw(batched.port, packet, 'udp', 1000),
      queryRaw(plain.port, packet, 'udp', 1000),
    ]);
    t.is(a !== undefined, answered, what);
    if (what === 'FORMERR') {
      t.deepEqual(a, b, what);
    } else if (what === 'truncated') {
      // Which answers a truncated reply keeps depends on the shuffle: compare how many, and TC.
      const [ma, mb] = [a, b].map((r) => decodeMessage(r ?? Buffer.alloc(0)));
      t.is(ma?.answers.length, mb?.answers.length, what);
      t.true(ma?.tc === true && mb?.tc === true, what);
    } else {
      t.deepEqual(normalized(a), normalized(b), what);
    }
  }
});

test('a burst of 1500 queries from one socket (many batches) is answered in full', async (t) => {
  const server = await serve(t, true);
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  const ids = new Set<number>();
  const done = new Promise<void>((resolve) => {
    socket.on('message', (reply) => {
      const m = decodeMessage(reply);
      if (m.rcode === 'NOERROR' && m.answers.length === 2) ids.add(m.id);
      if (ids.size === 1500) resolve();
    });
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  // A big receive buffer on our side, and sends in slices so the server's socket buffer
  // (not the batching) is never the limit.
  socket.setRecvBufferSize(4 << 20);
  for (let i = 0; i < 1500; i++) {
    socket.send(encodeQuery('web.marathon.mesos.', 'A', { id: i }), server.port, '127.0.0.1');
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  t.is(ids.size, 1500);
});

test.serial('a datagram longer than a slot is dropped, counted, and serving goes on', async (t) => {
  const server = await serve(t, true);
  const big = Buffer.alloc(5000);
  encodeQuery('web.marathon.mesos.', 'A').copy(big);
  const before = oversizedDatagrams();
  t.is(await queryRaw(server.port, big, 'udp', 300), undefined);
  t.is(oversizedDatagrams(), before + 1);
  const metrics = new Metrics({
    version: 'test',
    processMetrics: false,
    sources: { udpOversized: oversizedDatagrams },
  });
  t.regex(
    (await metrics.scrape()).body,
    new RegExp(`mesodns_dns_udp_oversized_total ${String(before + 1)}\\n`),
  );
  const reply = await queryRaw(server.port, encodeQuery('web.marathon.mesos.', 'A'), 'udp', 1000);
  t.truthy(reply);
});

test('IPv6: served on ::1, and the client address reaches the query event', async (t) => {
  const events: QueryEvent[] = [];
  let server: DnsServer;
  try {
    server = await serve(t, true, '::1', events);
  } catch (err) {
    // A machine without IPv6 on loopback cannot run this test.
    t.log(`::1 not available: ${String(err)}`);
    return t.pass();
  }
  const reply = await queryRaw(
    server.port,
    encodeQuery('web.marathon.mesos.', 'AAAA'),
    'udp',
    1000,
    '::1',
  );
  t.truthy(reply);
  t.is(decodeMessage(reply ?? Buffer.alloc(0)).answers[0]?.data, 'fd00::1');
  t.is(events[0]?.client, '::1');
  const v4 = await serve(t, true, '127.0.0.1', events);
  await queryRaw(v4.port, encodeQuery('web.marathon.mesos.', 'A'), 'udp', 1000);
  t.is(events[1]?.client, '127.0.0.1');
});

test('binding a port in use fails like dgram (EADDRINUSE), and TCP is left unbound', async (t) => {
  const first = await serve(t, true);
  const second = new DnsServer({
    listen: { host: '127.0.0.1', port: first.port },
    settings: { domain: 'mesos', recursionAvailable: false, forwarder: undefined },
    zone: () => ZONE,
    logger: silent,
    batchedUdp: true,
  });
  const err: NodeJS.ErrnoException = await t.throwsAsync(second.start());
  t.is(err.code, 'EADDRINUSE');
  t.regex(err.message, /bind EADDRINUSE 127\.0\.0\.1:\d+/);
});

test('[::] serves IPv4 and IPv6 clients over UDP and TCP, batched and with dgram', async (t) => {
  for (const batched of [true, false]) {
    const server = await serve(t, batched, '::');
    for (const host of ['127.0.0.1', '::1']) {
      for (const transport of ['udp', 'tcp'] as const) {
        const packet = encodeQuery('web.marathon.mesos.', 'A');
        const reply = await queryRaw(server.port, packet, transport, 2000, host);
        t.truthy(reply, `${server.udpEngine.engine} ${host} ${transport}`);
      }
    }
  }
});

test('close() stops answering and frees the port', async (t) => {
  const server = await serve(t, true);
  const port = server.port;
  await server.close(0);
  t.is(await queryRaw(port, encodeQuery('web.marathon.mesos.', 'A'), 'udp', 300), undefined);
  const again = new DnsServer({
    listen: { host: '127.0.0.1', port },
    settings: { domain: 'mesos', recursionAvailable: false, forwarder: undefined },
    zone: () => ZONE,
    logger: silent,
    batchedUdp: true,
  });
  await again.start();
  t.teardown(() => again.close(0));
  t.truthy(await queryRaw(port, encodeQuery('web.marathon.mesos.', 'A'), 'udp', 1000));
});
