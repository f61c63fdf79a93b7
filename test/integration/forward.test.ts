/**
 * Forwarding end to end (issue 4): the real mesodns process against knot serving test zones on
 * loopback, plus dead, slow and truncating upstreams. Policies, failover within forward.timeout,
 * health, SERVFAIL when all fail, the cache (decremented TTLs, negative answers, serve-stale),
 * allowFrom, maxConcurrent, TCP fallback and the loop guard. Two tests at a time: each runs up to
 * three servers, and a dozen of them at once starve a 2-core machine.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import type { Socket as TcpSocket } from 'node:net';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { dig } from '../../support/dig.js';
import type { DigResult } from '../../support/dig.js';
import {
  ask,
  buildQuery,
  metricValue,
  queryRaw,
  rcodeOf,
  startMesodns,
  waitFor,
} from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { freePort } from '../../support/ports.js';
import {
  EXAMPLE_TEST_ZONE,
  EXAMPLE_TEST_ZONE_NAME,
  startDeadUpstream,
  startKnot,
  startSlowUpstream,
} from '../../support/upstream.js';
import type { KnotUpstream, Upstream } from '../../support/upstream.js';
import { testsAtOnce } from '../../support/tests-at-once.js';

/** Each test starts its own servers and mostly waits: two run at once. */
const twoAtOnce = testsAtOnce(2);

const STATE = 'test/fixtures/fake.json';
const MESOS_NAME = 'car-store.marathon.mesos';

/** A zone whose answers expire after one second (serve-stale). */
const SHORT_TTL_ZONE = [
  '$ORIGIN short.test.',
  '$TTL 1',
  '@ IN SOA ns1.short.test. hostmaster.short.test. 1 3600 600 86400 1',
  '@ IN NS ns1.short.test.',
  'ns1 IN A 192.0.2.1',
  'www IN A 192.0.2.99',
  '',
].join('\n');

/**
 * One knot serving the default zone (`EXAMPLE_TEST_ZONE`) for every test that only reads it,
 * started by the first test that asks: a knot per test was ten starts. Tests that count queries
 * do it on their own relays in front of it; the serve-stale test, which stops its upstream,
 * starts its own.
 */
let sharedKnot: Promise<KnotUpstream> | undefined;

function knot(): Promise<KnotUpstream> {
  sharedKnot ??= startKnot({ [EXAMPLE_TEST_ZONE_NAME]: EXAMPLE_TEST_ZONE });
  return sharedKnot;
}

/**
 * One mesodns forwarding to the shared knot (timeout 2 s, the rest of `forward` as defaulted),
 * for the tests that only ask it through: each mesodns start costs about 0.45 s of CPU.
 */
let sharedForwarder: Promise<Mesodns> | undefined;

function forwarderToKnot(): Promise<Mesodns> {
  sharedForwarder ??= knot().then((k) =>
    startMesodns({
      stateFile: STATE,
      config: { forward: { resolvers: [k.address], timeout: '2s' } },
    }),
  );
  return sharedForwarder;
}

test.after.always(async () => {
  const [srv, k] = await Promise.allSettled([sharedForwarder, sharedKnot]);
  if (srv.status === 'fulfilled') await srv.value?.stop();
  if (k.status === 'fulfilled') await k.value?.stop();
});

async function mesodns(t: ExecutionContext, forward: Record<string, unknown>): Promise<Mesodns> {
  const srv = await startMesodns({ stateFile: STATE, config: { forward } });
  t.teardown(() => srv.stop());
  return srv;
}

function owned<T extends Upstream>(t: ExecutionContext, upstream: T): T {
  t.teardown(() => upstream.stop());
  return upstream;
}

function answers(r: DigResult): string[] {
  return r.answer.map((rr) => rr.data);
}

twoAtOnce(
  'policies: sequential uses the first upstream, round_robin and random spread the queries',
  async (t) => {
    const k = await knot();
    for (const policy of ['sequential', 'round_robin', 'random'] as const) {
      const first = owned(t, await startSlowUpstream(0, k.port));
      const second = owned(t, await startSlowUpstream(0, k.port));
      const srv = await mesodns(t, {
        resolvers: [first.address, second.address],
        policy,
        timeout: '3s',
      });
      // Twelve questions, one after the other, from one dig run.
      const r = await dig(
        srv.dnsPort,
        Array.from({ length: 12 }, (_, i) => [`q${String(i)}.${policy}.example.test`, 'A']).flat(),
      );
      t.is(r.messages.length, 12, r.raw);
      for (const m of r.messages) t.is(m.status, 'NXDOMAIN', r.raw);
      if (policy === 'sequential') {
        t.deepEqual([first.queries, second.queries], [12, 0]);
      } else if (policy === 'round_robin') {
        t.deepEqual([first.queries, second.queries], [6, 6]);
      } else {
        t.true(
          first.queries > 0 && second.queries > 0,
          `${String(first.queries)}/${String(second.queries)}`,
        );
        t.is(first.queries + second.queries, 12);
      }
    }
  },
);

twoAtOnce(
  'failover: a dead upstream costs part of forward.timeout, then is marked down and skipped',
  async (t) => {
    const k = await knot();
    const dead = owned(t, await startDeadUpstream());
    const srv = await mesodns(t, {
      resolvers: [dead.address, k.address],
      timeout: '1s',
      maxFails: 2,
      healthCheck: '1h',
    });
    for (const name of ['www', 'mail', 'ns1']) {
      const started = Date.now();
      const r = await dig(srv.dnsPort, [`${name}.example.test`, 'A', '+time=3']);
      t.is(r.status, 'NOERROR', r.raw);
      t.true(Date.now() - started < 1800, 'answered within forward.timeout');
    }
    t.is(dead.queries, 2, 'tried twice, then marked down');
    t.regex(srv.logs(), /upstream marked down/);
  },
);

twoAtOnce('a probe brings an upstream back once it answers again', async (t) => {
  const k = await knot();
  const flaky = owned(t, await startSlowUpstream(0, k.port));
  const srv = await mesodns(t, {
    resolvers: [flaky.address, k.address],
    timeout: '1s',
    maxFails: 1,
    healthCheck: '100ms',
    cache: { enabled: false },
  });
  flaky.setDelay(5000);
  t.is((await dig(srv.dnsPort, ['www.example.test', 'A', '+time=3'])).status, 'NOERROR');
  const healthy = `mesodns_upstream_healthy{upstream="${flaky.address}"}`;
  await waitFor(async () => (await metricValue(srv, healthy)) === 0, 10_000, 'marked down');
  flaky.setDelay(0);
  await waitFor(async () => (await metricValue(srv, healthy)) === 1, 10_000, 'probe succeeded');
  t.regex(srv.logs(), /upstream marked down/);
  const before = flaky.queries;
  t.is((await dig(srv.dnsPort, ['mail.example.test', 'A'])).status, 'NOERROR');
  t.true(flaky.queries > before, 'first in line again');
});

twoAtOnce(
  'SERVFAIL within forward.timeout when every upstream fails, then cached briefly',
  async (t) => {
    const d1 = owned(t, await startDeadUpstream());
    const d2 = owned(t, await startDeadUpstream());
    const srv = await mesodns(t, { resolvers: [d1.address, d2.address], timeout: '800ms' });
    const started = Date.now();
    const r = await dig(srv.dnsPort, ['www.example.test', 'A', '+time=3']);
    t.is(r.status, 'SERVFAIL', r.raw);
    t.true(Date.now() - started < 1500);
    t.is(d1.queries + d2.queries, 2);
    const again = await dig(srv.dnsPort, ['www.example.test', 'A', '+time=3']);
    t.is(again.status, 'SERVFAIL');
    t.is(d1.queries + d2.queries, 2, 'the second SERVFAIL came from the cache');
  },
);

twoAtOnce(
  'cache: a repeated query is answered from the cache with its TTL counting down',
  async (t) => {
    const k = await knot();
    const counter = owned(t, await startSlowUpstream(0, k.port));
    const srv = await mesodns(t, { resolvers: [counter.address] });
    const first = await dig(srv.dnsPort, ['www.example.test', 'A']);
    t.deepEqual(answers(first), ['192.0.2.10']);
    t.is(first.answer[0]?.ttl, 300);
    let last: DigResult | undefined;
    await waitFor(
      async () => {
        last = await dig(srv.dnsPort, ['WWW.Example.Test', 'A']);
        return (last.answer[0]?.ttl ?? 300) < 300;
      },
      10_000,
      'a decremented TTL',
      250,
    );
    t.is(last?.question[0]?.name, 'WWW.Example.Test.', 'the question as asked');
    t.deepEqual(last === undefined ? [] : answers(last), ['192.0.2.10']);
    t.false(last?.flags.has('aa'));
    t.is(counter.queries, 1, 'only the first query reached the upstream');
    const tcp = await dig(srv.dnsPort, ['www.example.test', 'A', '+tcp']);
    t.deepEqual(answers(tcp), ['192.0.2.10']);
    t.is(counter.queries, 1, 'TCP clients share the cache');
  },
);

twoAtOnce('negative caching: NXDOMAIN and NODATA are cached for the SOA minimum', async (t) => {
  const k = await knot();
  const counter = owned(t, await startSlowUpstream(0, k.port));
  const srv = await mesodns(t, { resolvers: [counter.address] });
  for (const [name, type, status] of [
    ['nope.example.test', 'A', 'NXDOMAIN'],
    ['mail.example.test', 'TXT', 'NOERROR'],
  ] as const) {
    const first = await dig(srv.dnsPort, [name, type]);
    t.is(first.status, status);
    t.is(first.authority[0]?.type, 'SOA');
    const second = await dig(srv.dnsPort, [name, type]);
    t.is(second.status, status);
    t.deepEqual(second.answer, []);
    t.true((second.authority[0]?.ttl ?? 99) <= 60, 'SOA TTL min(300, minimum 60)');
  }
  t.is(counter.queries, 2);
});

twoAtOnce(
  'serve-stale: when the upstream is gone, expired answers are served with TTL 30',
  async (t) => {
    const k = await startKnot({ 'short.test.': SHORT_TTL_ZONE });
    t.teardown(() => k.stop());
    const srv = await mesodns(t, {
      resolvers: [k.address],
      timeout: '500ms',
      healthCheck: '1h',
      cache: { serveStale: true, staleTtl: 600 },
    });
    const fresh = await dig(srv.dnsPort, ['www.short.test', 'A']);
    t.deepEqual(answers(fresh), ['192.0.2.99']);
    t.is(fresh.answer[0]?.ttl, 1);
    await k.stop();
    let stale: DigResult | undefined;
    await waitFor(
      async () => {
        stale = await dig(srv.dnsPort, ['www.short.test', 'A', '+time=3']);
        return stale.answer[0]?.ttl === 30;
      },
      15_000,
      'a stale answer',
      200,
    );
    t.is(stale?.status, 'NOERROR');
    t.deepEqual(stale === undefined ? [] : answers(stale), ['192.0.2.99']);
    // Without serve-stale, the same situation is a SERVFAIL.
    const none = await dig(srv.dnsPort, ['other.short.test', 'A', '+time=3']);
    t.is(none.status, 'SERVFAIL');
  },
);

twoAtOnce(
  'allowFrom: other clients get REFUSED for forwarded names, cluster names stay open',
  async (t) => {
    const k = await knot();
    const srv = await mesodns(t, { resolvers: [k.address], allowFrom: ['10.0.0.0/8', 'fc00::/7'] });
    for (const transport of [[], ['+tcp']]) {
      const refused = await dig(srv.dnsPort, ['www.example.test', 'A', ...transport]);
      t.is(refused.status, 'REFUSED', refused.raw);
      const cluster = await dig(srv.dnsPort, [MESOS_NAME, 'A', ...transport]);
      t.is(cluster.status, 'NOERROR', cluster.raw);
      t.true(cluster.answer.length > 0);
    }
    // The default (loopback and private ranges) lets the test client through.
    const open = await forwarderToKnot();
    t.is((await dig(open.dnsPort, ['www.example.test', 'A'])).status, 'NOERROR');
  },
);

twoAtOnce(
  'maxConcurrent: a query beyond the limit gets REFUSED while the others wait',
  async (t) => {
    const k = await knot();
    const slow = owned(t, await startSlowUpstream(1500, k.port));
    const srv = await mesodns(t, { resolvers: [slow.address], maxConcurrent: 1, timeout: '4s' });
    const pending = queryRaw(srv.dnsPort, buildQuery('www.example.test', 'A'), 'udp', 5000);
    await waitFor(() => slow.queries >= 1, 3000, 'the first query upstream');
    const refused = await queryRaw(srv.dnsPort, buildQuery('mail.example.test', 'A'), 'udp', 2000);
    t.is(refused === undefined ? -1 : rcodeOf(refused), 5, 'REFUSED');
    const first = await pending;
    t.is(first === undefined ? -1 : rcodeOf(first), 0, 'the waiting query is answered');
  },
);

/**
 * An upstream that answers every UDP query with TC and no records, and relays TCP queries to
 * knot: only a TCP retry gets the answer.
 */
async function startTruncatingUpstream(t: ExecutionContext, knotPort: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve) => {
      udp.bind(0, '127.0.0.1', () => {
        resolve(udp.address().port);
      });
    });
    const sockets = new Set<TcpSocket>();
    const tcp = createServer((client) => {
      sockets.add(client);
      const upstream = connect({ host: '127.0.0.1', port: knotPort });
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => {
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      if (attempt > 5) throw err;
      continue;
    }
    udp.on('message', (msg, rinfo) => {
      const end = questionEnd(msg);
      const out = Buffer.from(msg.subarray(0, end));
      out[2] = 0x80 | 0x02 | ((msg[2] ?? 0) & 0x01); // QR, TC, RD
      out[3] = 0;
      out.writeUInt16BE(0, 10);
      udp.send(out, rinfo.port, rinfo.address);
    });
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          udp.close(() => {
            tcp.close(() => {
              resolve();
            });
          });
        }),
    );
    return `127.0.0.1:${String(port)}`;
  }
}

/** Offset just past the question of a query (uncompressed QNAME). */
function questionEnd(msg: Buffer): number {
  let off = 12;
  while ((msg[off] ?? 0) !== 0) off += (msg[off] ?? 0) + 1;
  return off + 5;
}

twoAtOnce(
  'tcpFallback: a truncated UDP answer is fetched over TCP; off, it is passed through with TC',
  async (t) => {
    const k = await knot();
    const upstream = await startTruncatingUpstream(t, k.port);
    const on = await mesodns(t, { resolvers: [upstream], timeout: '2s' });
    const full = await dig(on.dnsPort, ['www.example.test', 'A', '+ignore']);
    t.is(full.status, 'NOERROR', full.raw);
    t.false(full.flags.has('tc'));
    t.deepEqual(answers(full), ['192.0.2.10']);
    const off = await mesodns(t, { resolvers: [upstream], timeout: '2s', tcpFallback: false });
    const passed = await dig(off.dnsPort, ['www.example.test', 'A', '+ignore']);
    t.true(passed.flags.has('tc'), passed.raw);
    t.deepEqual(passed.answer, []);
    // A client that follows TC retries over TCP and gets the answer through the TCP relay.
    const retried = await dig(off.dnsPort, ['www.example.test', 'A']);
    t.true(retried.retriedOverTcp);
    t.deepEqual(answers(retried), ['192.0.2.10']);
  },
);

twoAtOnce(
  'tcpFallback with knot: a 60-record answer is cut for a 512-byte client, whole over TCP',
  async (t) => {
    // The shared knot serves EXAMPLE_TEST_ZONE, with its 60-record many6.
    const k = await knot();
    // The slow relay answers UDP only (its TCP listener stays silent): there the TCP retry fails
    // and the truncated answer is passed through.
    const udpOnly = owned(t, await startSlowUpstream(0, k.port));
    const srv = await forwarderToKnot();
    const udp = await dig(srv.dnsPort, ['many6.example.test', 'AAAA', '+ignore', '+noedns']);
    t.true(udp.flags.has('tc'), udp.raw);
    t.true(udp.answer.length > 0 && udp.answer.length < 60);
    t.true((udp.msgSize ?? 9999) <= 512);
    const tcp = await dig(srv.dnsPort, ['many6.example.test', 'AAAA', '+tcp']);
    t.is(tcp.answer.length, 60);
    const viaRelay = await mesodns(t, { resolvers: [udpOnly.address], timeout: '1s' });
    const passed = await dig(viaRelay.dnsPort, [
      'many6.example.test',
      'AAAA',
      '+ignore',
      '+noedns',
    ]);
    t.true(passed.flags.has('tc'), 'TC passed through when the TCP retry fails');
  },
);

twoAtOnce(
  'loop guard: two mesodns forwarding to each other (IDs rewritten) find the loop with their probes',
  async (t) => {
    const [portA, portB] = [await freePort(), await freePort()];
    const start = (own: number, peer: number): ReturnType<typeof startMesodns> =>
      startMesodns({
        stateFile: STATE,
        config: {
          dns: { listen: `127.0.0.1:${String(own)}` },
          forward: { resolvers: [`127.0.0.1:${String(peer)}`], timeout: '2s' },
        },
      });
    const [a, b] = await Promise.all([start(portA, portB), start(portB, portA)]);
    t.teardown(() => Promise.all([a.stop(), b.stop()]));
    // Nothing is sent upstream before the first forwarded query.
    t.false(a.logs().includes('this upstream sends our queries back to us'));
    // That query starts the probes; the first probe to come back through the other server breaks
    // the loop there (the second server's probe then gets SERVFAIL from it).
    await dig(a.dnsPort, ['www.example.test', 'A', '+time=3', '+tries=1']);
    const found = (): number =>
      [a, b].filter((s) => s.logs().includes('this upstream sends our queries back to us')).length;
    await waitFor(() => found() > 0, 8000, 'the loop found');
    for (const srv of [a, b]) {
      // Timed from this process: a dig run's own start took a second on a loaded machine.
      const started = Date.now();
      const quick = await ask(srv.dnsPort, 'www.example.test', 'A', { timeoutMs: 5000 });
      const took = Date.now() - started;
      t.is(quick.rcode, 'SERVFAIL');
      t.true(took < 1000, `at once (${String(took)} ms), not after bouncing until forward.timeout`);
      const r = await dig(srv.dnsPort, ['www.example.test', 'A', '+time=5']);
      t.is(r.status, 'SERVFAIL', r.raw);
    }
    t.is((await dig(a.dnsPort, [MESOS_NAME, 'A'])).status, 'NOERROR');
  },
);

twoAtOnce(
  'loop guard: mesodns with itself as upstream answers SERVFAIL at once instead of looping',
  async (t) => {
    const port = await freePort();
    const srv = await startMesodns({
      stateFile: STATE,
      config: {
        dns: { listen: `127.0.0.1:${String(port)}` },
        forward: { resolvers: [`127.0.0.1:${String(port)}`], timeout: '3s' },
      },
    });
    t.teardown(() => srv.stop());
    // Timed from this process (a dig run's own start is no part of the answer's time).
    const started = Date.now();
    const first = await ask(srv.dnsPort, 'www.example.test', 'A', { timeoutMs: 5000 });
    const took = Date.now() - started;
    t.is(first.rcode, 'SERVFAIL');
    t.true(took < 2500, `before forward.timeout (${String(took)} ms)`);
    const r = await dig(srv.dnsPort, ['www.example.test', 'A', '+time=5']);
    t.is(r.status, 'SERVFAIL', r.raw);
    t.regex(srv.logs(), /is this server itself/);
    t.regex(srv.logs(), /forwarding loop: a query this server forwarded came back/);
    t.is((await dig(srv.dnsPort, [MESOS_NAME, 'A'])).status, 'NOERROR');
  },
);
