/**
 * Response rate limiting (src/dns/rrl.ts; issue 16): token buckets per client network and kind
 * of response, slip to TC, exemptions; and against a flood of `slave.mesos ANY` with EDNS 4096
 * from one spoofed source, the bytes sent stay under twice the bytes received (30-fold before).
 */
import { createSocket } from 'node:dgram';
import test from 'ava';
import { DnsServer, ResponseRateLimiter } from '../../src/dns/index.js';
import type { RrlSettings } from '../../src/dns/index.js';
import { silentLogger } from '../../src/log.js';
import { encodeQuery } from '../../support/dns-message.js';
import { zoneFromText } from '../../support/records-text.js';
import { FakeClock } from './cache-helpers.js';

const SETTINGS: RrlSettings = {
  responsesPerSecond: 5,
  slip: 2,
  ipv4Prefix: 24,
  ipv6Prefix: 56,
  exempt: ['192.0.2.0/24'],
};

function limiter(settings: Partial<RrlSettings> = {}): {
  rrl: ResponseRateLimiter;
  clock: FakeClock;
} {
  const clock = new FakeClock();
  return { rrl: new ResponseRateLimiter({ ...SETTINGS, ...settings }, clock), clock };
}

test('a burst of the rate is sent, then every slip-th response is truncated, the rest dropped', (t) => {
  const { rrl, clock } = limiter();
  const actions = Array.from({ length: 11 }, () => rrl.decide('10.1.2.3', 'A:web'));
  t.deepEqual(actions, [
    'send',
    'send',
    'send',
    'send',
    'send',
    'drop',
    'slip',
    'drop',
    'slip',
    'drop',
    'slip',
  ]);
  // Tokens come back at the rate.
  clock.advance(0.4);
  t.deepEqual(
    [1, 2, 3].map(() => rrl.decide('10.1.2.3', 'A:web')),
    ['send', 'send', 'drop'],
  );
});

test('buckets are per client network and kind; exempt networks are never limited', (t) => {
  const { rrl } = limiter({ responsesPerSecond: 1, slip: 0 });
  t.is(rrl.decide('10.1.2.3', 'A:web'), 'send');
  t.is(rrl.decide('10.1.2.99', 'A:web'), 'drop', 'the same /24');
  t.is(rrl.decide('10.1.3.1', 'A:web'), 'send', 'another /24');
  t.is(rrl.decide('10.1.2.3', 'nxdomain'), 'send', 'another kind');
  t.is(rrl.decide('fd00:1:2:3::1', 'A:web'), 'send');
  t.is(rrl.decide('fd00:1:2:ff::1', 'A:web'), 'drop', 'the same /56');
  t.is(rrl.decide('::ffff:10.1.2.7', 'A:web'), 'drop', 'an IPv4-mapped address is its IPv4 /24');
  for (let i = 0; i < 10; i++) t.is(rrl.decide('192.0.2.1', 'A:web'), 'send');
});

/** 70 agents under slave.mesos: its A RRset is about 1.1 KB (it fits in 1232), its query 40 bytes. */
const ZONE_TEXT = Array.from(
  { length: 70 },
  (_, i) => `slave.mesos. A 10.2.${String(i >> 8)}.${String(i & 255)}`,
).join('\n');

async function flood(
  t: { teardown: (fn: () => Promise<void> | void) => void },
  rrl: ResponseRateLimiter | undefined,
  count: number,
): Promise<{ sent: number; received: number; answers: number; truncated: number }> {
  const zone = zoneFromText(ZONE_TEXT, { minimum: 60, serial: 1 });
  const server = new DnsServer({
    listen: { host: '127.0.0.1', port: 0 },
    settings: { domain: 'mesos', recursionAvailable: false, forwarder: undefined, rrl },
    zone: () => zone,
    logger: silentLogger,
  });
  await server.start();
  t.teardown(() => server.close(0));
  const query = encodeQuery('slave.mesos', 'ANY', { edns: 4096 });
  const socket = createSocket('udp4');
  t.teardown(() => {
    socket.close();
  });
  const stats = { sent: 0, received: 0, answers: 0, truncated: 0 };
  socket.on('message', (msg) => {
    stats.received += msg.length;
    if (((msg[2] ?? 0) & 0x02) !== 0) stats.truncated++;
    else stats.answers++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<void>((resolve) => {
            stats.sent += query.length;
            socket.send(query, server.port, '127.0.0.1', () => {
              resolve();
            });
          }),
      ),
    );
    // Let the server keep up: the point is what it sends back, not what loopback drops.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  return stats;
}

test('a flood of slave.mesos ANY: amplification under 2x with RRL on', async (t) => {
  const off = await flood(t, undefined, 2000);
  const clock = new FakeClock();
  const on = await flood(
    t,
    new ResponseRateLimiter(
      { responsesPerSecond: 50, slip: 2, ipv4Prefix: 24, ipv6Prefix: 56, exempt: [] },
      clock,
    ),
    10_000,
  );
  const ratio = (s: { sent: number; received: number }): number => s.received / s.sent;
  t.log(
    `RRL off: ${ratio(off).toFixed(1)}x; on: ${ratio(on).toFixed(2)}x (${String(on.answers)} answers, ${String(on.truncated)} truncated of 10,000)`,
  );
  t.true(ratio(off) > 10, 'the flood amplifies without RRL');
  t.true(ratio(on) < 2);
  t.is(on.answers, 50, 'the burst');
  t.true(on.truncated > 4000, 'every second limited response slips');
});
