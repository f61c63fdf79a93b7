// The upstream test fixtures (knotd, dead and slow upstreams) and the dig helper, checked against
// each other: later forwarding tests rely on both behaving exactly as asserted here.
import test from 'ava';
import { decode } from 'dns-packet';
import { dig, digShort } from '../../support/dig.js';
import { buildQuery, queryRaw, rcodeOf } from '../../support/mesodns.js';
import {
  EXAMPLE_TEST_MANY_COUNT,
  startDeadUpstream,
  startKnot,
  startSlowUpstream,
  type KnotUpstream,
} from '../../support/upstream.js';

let knot: KnotUpstream | undefined;

function knotPort(): number {
  if (knot === undefined) {
    throw new Error('knot not started');
  }
  return knot.port;
}

test.before(async () => {
  knot = await startKnot();
});

test.after.always(async () => {
  await knot?.stop();
});

test('knot answers A for www.example.test authoritatively over UDP with EDNS', async (t) => {
  const r = await dig(knotPort(), ['www.example.test', 'A']);
  t.is(r.status, 'NOERROR', r.raw);
  t.true(r.flags.has('qr') && r.flags.has('aa'));
  t.false(r.flags.has('tc'));
  t.is(r.transport, 'udp');
  t.is(r.ednsUdpSize, 1232);
  t.deepEqual(r.question, [{ name: 'www.example.test.', class: 'IN', type: 'A' }]);
  t.deepEqual(r.answer, [
    { name: 'www.example.test.', ttl: 300, class: 'IN', type: 'A', data: '192.0.2.10' },
  ]);
  t.is(r.counts.answer, 1);
  t.true(r.msgSize !== undefined && r.msgSize > 0);
});

test('dig keeps the owner name as printed and parses TXT data verbatim', async (t) => {
  const r = await dig(knotPort(), ['TXT.Example.TEST', 'TXT']);
  t.is(r.status, 'NOERROR', r.raw);
  t.deepEqual(
    r.answer.map((rr) => rr.name),
    ['TXT.Example.TEST.', 'TXT.Example.TEST.'],
  );
  t.deepEqual(r.answer.map((rr) => rr.data).sort(), [
    '"hello world" "second string"',
    '"v=spf1 -all"',
  ]);
});

test('knot answers NXDOMAIN with the SOA in the authority section', async (t) => {
  const r = await dig(knotPort(), ['nope.example.test', 'A']);
  t.is(r.status, 'NXDOMAIN', r.raw);
  t.deepEqual(r.answer, []);
  t.is(r.authority.length, 1);
  t.like(r.authority[0], { name: 'example.test.', type: 'SOA', ttl: 60 });
  t.regex(
    r.authority[0]?.data ?? '',
    /^ns1\.example\.test\. hostmaster\.example\.test\. 2024060101 /,
  );
});

test('the 60-A name is truncated over UDP with +ignore and complete over TCP', async (t) => {
  const udp = await dig(knotPort(), ['many.example.test', 'A', '+bufsize=512', '+ignore']);
  t.is(udp.status, 'NOERROR', udp.raw);
  t.true(udp.flags.has('tc'), udp.raw);
  t.false(udp.retriedOverTcp);
  t.is(udp.transport, 'udp');
  t.true(udp.answer.length < EXAMPLE_TEST_MANY_COUNT);

  const tcp = await dig(knotPort(), ['many.example.test', 'A', '+tcp']);
  t.is(tcp.status, 'NOERROR', tcp.raw);
  t.false(tcp.flags.has('tc'));
  t.is(tcp.transport, 'tcp');
  t.is(tcp.answer.length, EXAMPLE_TEST_MANY_COUNT);
});

test('dig retries a truncated UDP answer over TCP unless +ignore is given', async (t) => {
  const r = await dig(knotPort(), ['many.example.test', 'A', '+noedns']);
  t.true(r.retriedOverTcp, r.raw);
  t.is(r.transport, 'tcp');
  t.is(r.answer.length, EXAMPLE_TEST_MANY_COUNT);
  t.is(r.ednsUdpSize, undefined);
});

test('the 60-AAAA name does not fit the default 1232-byte EDNS size', async (t) => {
  const r = await dig(knotPort(), ['many6.example.test', 'AAAA', '+ignore']);
  t.true(r.flags.has('tc'), r.raw);
});

test('dig reports header flags: +norecurse clears rd, knot never sets ra', async (t) => {
  const r = await dig(knotPort(), ['www.example.test', 'AAAA', '+norecurse']);
  t.deepEqual([...r.flags].sort(), ['aa', 'qr']);
  t.deepEqual(
    r.answer.map((rr) => rr.data),
    ['2001:db8::10'],
  );
});

test('dig parses the additional section and EDNS flags', async (t) => {
  const r = await dig(knotPort(), ['example.test', 'NS', '+dnssec']);
  t.deepEqual(
    r.answer.map((rr) => rr.data),
    ['ns1.example.test.'],
  );
  t.deepEqual(r.additional.map((rr) => `${rr.type} ${rr.data}`).sort(), [
    'A 192.0.2.1',
    'AAAA 2001:db8::1',
  ]);
  t.deepEqual(r.ednsFlags, ['do']);
});

test('digShort returns rdata lines only', async (t) => {
  t.deepEqual(await digShort(knotPort(), ['www.example.test', 'A']), ['192.0.2.10']);
  t.deepEqual(await digShort(knotPort(), ['nope.example.test', 'A']), []);
});

test('queryRaw gets the same answer over UDP and TCP', async (t) => {
  for (const transport of ['udp', 'tcp'] as const) {
    // Over UDP a query may go unanswered on a busy machine (a full socket buffer drops it): asked
    // again, as a resolver would.
    let response: Buffer | undefined;
    for (let attempt = 0; attempt < 3 && response === undefined; attempt++) {
      response = await queryRaw(
        knotPort(),
        buildQuery('mail.example.test', 'A', { id: 4242 }),
        transport,
        2000,
      );
    }
    if (response === undefined) {
      t.fail(`no ${transport} answer`);
      return;
    }
    const packet = decode(response);
    t.is(packet.id, 4242);
    t.is(rcodeOf(response), 0);
    t.deepEqual(
      packet.answers?.map((a) => (a.type === 'A' ? a.data : a.type)),
      ['192.0.2.20'],
    );
  }
});

test('a dead upstream answers nothing over UDP or TCP and counts what it got', async (t) => {
  const dead = await startDeadUpstream();
  t.teardown(() => dead.stop());
  const [udp, tcp] = await Promise.all([
    dig(dead.port, ['www.example.test', 'A', '+time=1']),
    dig(dead.port, ['www.example.test', 'A', '+time=1', '+tcp']),
  ]);
  t.is(udp.status, 'NOREPLY', udp.raw);
  t.is(tcp.status, 'NOREPLY', tcp.raw);
  t.is(udp.exitCode, 9);
  t.true(dead.queries >= 2);
  t.is(await queryRaw(dead.port, buildQuery('www.example.test', 'A'), 'udp', 200), undefined);
});

test('a slow upstream relays the real answer after its delay', async (t) => {
  const slow = await startSlowUpstream(300, knotPort());
  t.teardown(() => slow.stop());
  const started = Date.now();
  const r = await dig(slow.port, ['www.example.test', 'A']);
  t.true(Date.now() - started >= 290, `answered after ${Date.now() - started} ms`);
  t.is(r.status, 'NOERROR', r.raw);
  t.deepEqual(
    r.answer.map((rr) => rr.data),
    ['192.0.2.10'],
  );
  t.is(slow.queries, 1);

  slow.setDelay(0);
  t.is((await dig(slow.port, ['nope.example.test', 'A'])).status, 'NXDOMAIN');
});

test('knot serves several zones given as zone-file text', async (t) => {
  const extra = await startKnot({
    'one.test.':
      '$TTL 30\n@ SOA ns.one.test. h.one.test. 1 60 60 600 30\n@ NS ns\nns A 192.0.2.53\na A 192.0.2.1\n',
    'two.test':
      '$TTL 30\n@ SOA ns.two.test. h.two.test. 1 60 60 600 30\n@ NS ns.one.test.\nb AAAA 2001:db8::2\n',
  });
  t.teardown(() => extra.stop());
  t.deepEqual(await digShort(extra.port, ['a.one.test', 'A']), ['192.0.2.1']);
  t.deepEqual(await digShort(extra.port, ['b.two.test', 'AAAA']), ['2001:db8::2']);
  t.is((await dig(extra.port, ['www.example.test', 'A'])).status, 'REFUSED');
});
