/**
 * The forwarding cache: a contract suite that every cache configuration must pass (keys, TTL
 * rewriting, RFC 2308 negative caching, what is never cached, OPT and truncation at serve time),
 * then the behaviour of serve-stale and of the capacity bounds.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { AnswerCache, STALE_ANSWER_TTL } from '../../src/dns/index.js';
import type { AnswerCacheOptions } from '../../src/dns/index.js';
import { decodeMessage } from '../../support/dns-message.js';
import { FakeClock, a, query, reply, soa } from './cache-helpers.js';
import type { TestQuery } from './cache-helpers.js';

const D = DEFAULT_CONFIG.forward.cache;

function make(over: Partial<AnswerCacheOptions> = {}): { cache: AnswerCache; clock: FakeClock } {
  const clock = new FakeClock();
  const cache = new AnswerCache({
    maxEntries: D.maxEntries,
    maxBytes: D.maxBytes,
    maxTtl: D.maxTtl,
    negativeMaxTtl: D.negativeMaxTtl,
    servfailTtl: D.servfailTtl,
    serveStale: D.serveStale,
    staleTtl: D.staleTtl,
    clock,
    ...over,
  });
  return { cache, clock };
}

function keyOf(q: TestQuery): number {
  const key = AnswerCache.keyOf(q.msg, q.query);
  if (key === undefined) throw new Error('query not cacheable');
  return key;
}

function get(
  cache: AnswerCache,
  q: TestQuery,
  transport: 'udp' | 'tcp' = 'udp',
): Buffer | undefined {
  return cache.get(keyOf(q), q.msg, q.query, transport);
}

/** Stores `r` as the answer to `q`. */
function put(cache: AnswerCache, q: TestQuery, r: Buffer): string | undefined {
  return cache.put(keyOf(q), r);
}

const www = query('www.example.test', 'A');
const wwwReply = reply(www, {
  answers: [a('www.example.test', '192.0.2.10', 300), a('www.example.test', '192.0.2.11', 120)],
  opt: true,
});

// ---------------------------------------------------------------------------------------------
// Contract: every configuration below behaves alike on these.

const CONFIGURATIONS: readonly (readonly [string, Partial<AnswerCacheOptions>])[] = [
  ['the defaults', {}],
  ['serve-stale on', { serveStale: true, staleTtl: 600 }],
  ['a small cache', { maxEntries: 8, maxBytes: 4096 }],
];

for (const [label, over] of CONFIGURATIONS) {
  const it = (title: string, fn: (t: ExecutionContext) => void): void => {
    test(`${label}: ${title}`, fn);
  };

  it('misses when empty, then serves the stored answer with the client ID and question', (t) => {
    const { cache } = make(over);
    t.is(get(cache, www), undefined);
    t.is(put(cache, www, wwwReply), 'positive');
    const other = query('WWW.Example.TEST', 'A', { id: 777 });
    const hit = get(cache, other);
    t.truthy(hit);
    if (hit === undefined) return;
    const m = decodeMessage(hit);
    t.is(m.id, 777);
    t.is(m.questions[0]?.name, 'WWW.Example.TEST');
    t.deepEqual(m.answers.map((r) => r.data).sort(), ['192.0.2.10', '192.0.2.11']);
    t.false(m.tc);
  });

  it('decrements every TTL by the whole seconds spent in the cache', (t) => {
    const { cache, clock } = make(over);
    put(cache, www, wwwReply);
    clock.advance(10.7);
    const m = decodeMessage(get(cache, www) ?? Buffer.alloc(0));
    t.deepEqual(m.answers.map((r) => r.ttl).sort(), [110, 290]);
  });

  it('ages the TTLs again on every later hit, whatever the transport asked before', (t) => {
    const { cache, clock } = make(over);
    put(cache, www, wwwReply);
    const ttls = (transport: 'udp' | 'tcp'): number[] =>
      decodeMessage(get(cache, www, transport) ?? Buffer.alloc(0))
        .answers.map((r) => r.ttl)
        .sort();
    t.deepEqual(ttls('udp'), [120, 300]);
    clock.advance(1);
    t.deepEqual(ttls('udp'), [119, 299]);
    t.deepEqual(ttls('tcp'), [119, 299]);
    clock.advance(2);
    t.deepEqual(ttls('tcp'), [117, 297]);
    t.deepEqual(ttls('udp'), [117, 297]);
  });

  it('keeps a positive answer for its smallest TTL', (t) => {
    const { cache, clock } = make(over);
    put(cache, www, wwwReply);
    clock.advance(119.9);
    t.truthy(get(cache, www));
    clock.advance(0.1);
    t.is(get(cache, www), undefined);
  });

  it('caps a positive lifetime at maxTtl', (t) => {
    const { cache, clock } = make({ ...over, maxTtl: 60 });
    put(cache, www, wwwReply);
    clock.advance(59);
    t.truthy(get(cache, www));
    clock.advance(1);
    t.is(get(cache, www), undefined);
  });

  it('keys on QNAME case-insensitively, QTYPE, QCLASS and the DO, CD and RD bits', (t) => {
    const base = keyOf(query('www.example.test', 'A'));
    t.is(keyOf(query('WWW.EXAMPLE.TEST', 'A', { id: 1 })), base);
    t.is(keyOf(query('www.example.test', 'A', { edns: 4096 })), base);
    const different = [
      query('www.example.test', 'AAAA'),
      query('www.example.test', 'A', { qclass: 'CH' }),
      query('www.example.test', 'A', { do: true }),
      query('www.example.test', 'A', { cd: true }),
      query('www.example.test', 'A', { rd: false }),
      query('mail.example.test', 'A'),
    ].map(keyOf);
    t.is(new Set([base, ...different]).size, 7);
  });

  it('checks a hit against the stored question: another name under the same key is a miss', (t) => {
    const { cache } = make(over);
    t.is(put(cache, www, wwwReply), 'positive');
    const mail = query('mail.example.test', 'A');
    // As if both names hashed to one key: the entry for www must not answer mail.
    t.is(cache.get(keyOf(www), mail.msg, mail.query, 'udp'), undefined);
    const aaaa = query('www.example.test', 'AAAA');
    t.is(cache.get(keyOf(www), aaaa.msg, aaaa.query, 'udp'), undefined);
    t.truthy(cache.get(keyOf(www), www.msg, www.query, 'udp'));
  });

  it('does not share answers to Client Subnet or zone-transfer queries', (t) => {
    const ecs = query('www.example.test', 'A', {
      options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 192, 0, 2]) }],
    });
    t.is(AnswerCache.keyOf(ecs.msg, ecs.query), undefined);
    const axfr = query('example.test', 'AXFR');
    t.is(AnswerCache.keyOf(axfr.msg, axfr.query), undefined);
    const cookie = query('www.example.test', 'A', {
      options: [{ code: 10, data: Buffer.alloc(8, 1) }],
    });
    t.is(AnswerCache.keyOf(cookie.msg, cookie.query), keyOf(www));
  });

  it('caches NXDOMAIN for min(SOA TTL, SOA minimum) (RFC 2308)', (t) => {
    const { cache, clock } = make(over);
    const nx = query('nope.example.test', 'A');
    t.is(
      put(cache, nx, reply(nx, { rcode: 3, authorities: [soa('example.test', 300, 60)] })),
      'negative',
    );
    clock.advance(30);
    const m = decodeMessage(get(cache, nx) ?? Buffer.alloc(0));
    t.is(m.rcode, 'NXDOMAIN');
    t.is(m.authorities[0]?.ttl, 270);
    clock.advance(30);
    t.is(get(cache, nx), undefined);
  });

  it('caches NODATA from the SOA too, capped at negativeMaxTtl', (t) => {
    const { cache, clock } = make({ ...over, negativeMaxTtl: 20 });
    const nodata = query('www.example.test', 'TXT');
    const r = reply(nodata, { authorities: [soa('example.test', 300, 600)] });
    t.is(put(cache, nodata, r), 'negative');
    clock.advance(19);
    t.is(decodeMessage(get(cache, nodata) ?? Buffer.alloc(0)).rcode, 'NOERROR');
    clock.advance(1);
    t.is(get(cache, nodata), undefined);
  });

  it('never caches a negative answer without SOA, a truncated answer, REFUSED, TTL 0 or no question', (t) => {
    const { cache } = make(over);
    const q = query('x.example.test', 'A');
    t.is(put(cache, q, reply(q, { rcode: 3 })), undefined);
    t.is(
      put(cache, q, reply(q, { tc: true, answers: [a('x.example.test', '192.0.2.1', 60)] })),
      undefined,
    );
    t.is(put(cache, q, reply(q, { rcode: 5 })), undefined);
    t.is(put(cache, q, reply(q, { answers: [a('x.example.test', '192.0.2.1', 0)] })), undefined);
    t.is(put(cache, q, Buffer.from('not a dns message')), undefined);
    const noQuestion = Buffer.from(reply(q, { rcode: 2 }).subarray(0, 12));
    noQuestion.writeUInt16BE(0, 4);
    t.is(put(cache, q, noQuestion), undefined, 'a reply without question');
    t.is(get(cache, q), undefined);
  });

  it('keeps SERVFAIL for servfailTtl seconds only', (t) => {
    const { cache, clock } = make(over);
    const q = query('broken.example.test', 'A');
    t.is(put(cache, q, reply(q, { rcode: 2 })), 'servfail');
    clock.advance(4);
    t.is(decodeMessage(get(cache, q) ?? Buffer.alloc(0)).rcode, 'SERVFAIL');
    clock.advance(1);
    t.is(get(cache, q), undefined);
    const off = make({ ...over, servfailTtl: 0 }).cache;
    t.is(put(off, q, reply(q, { rcode: 2 })), undefined);
  });

  it("answers with its own OPT for EDNS clients (DO copied), none for others, never the upstream's options", (t) => {
    const { cache } = make(over);
    put(cache, www, wwwReply);
    const plain = decodeMessage(get(cache, www) ?? Buffer.alloc(0));
    t.is(plain.optSize, undefined);
    t.is(plain.additionals.length, 0);
    const edns = query('www.example.test', 'A', { edns: 4096 });
    const withOpt = get(cache, edns) ?? Buffer.alloc(0);
    t.is(decodeMessage(withOpt).optSize, 1232);
    // Header, question, two A RRs and an OPT without options (no upstream cookie).
    t.is(withOpt.length, wwwReply.length - 28);
    const dnssec = query('www.example.test', 'A', { do: true });
    put(cache, dnssec, reply(dnssec, { answers: [a('www.example.test', '192.0.2.10', 300)] }));
    const out = get(cache, dnssec) ?? Buffer.alloc(0);
    t.is((out[out.length - 4] ?? 0) & 0x80, 0x80, 'DO bit echoed');
  });

  it('cuts a large answer to the UDP client size with TC, and serves it whole over TCP', (t) => {
    const { cache } = make({ ...over, maxBytes: Math.max(over.maxBytes ?? 0, 8192) });
    const many = query('many.example.test', 'A');
    // dns-packet does not compress: 30 A RRs make about 1 kB.
    const answers = Array.from({ length: 30 }, (_, i) =>
      a('many.example.test', `198.51.100.${String(i + 1)}`, 300),
    );
    t.is(put(cache, many, reply(many, { answers })), 'positive');
    const udp = get(cache, many, 'udp') ?? Buffer.alloc(0);
    t.true(udp.length <= 512);
    const cut = decodeMessage(udp);
    t.true(cut.tc);
    t.true(cut.answers.length > 0 && cut.answers.length < 30);
    const big = query('many.example.test', 'A', { edns: 1232 });
    const bigUdp = decodeMessage(get(cache, big, 'udp') ?? Buffer.alloc(0));
    t.false(bigUdp.tc);
    t.is(bigUdp.answers.length, 30);
    const tcp = decodeMessage(get(cache, many, 'tcp') ?? Buffer.alloc(0));
    t.false(tcp.tc);
    t.is(tcp.answers.length, 30);
  });
}

// ---------------------------------------------------------------------------------------------
// Serve-stale (RFC 8767) and capacity.

test('serve-stale: an expired answer is a miss for get() but served by getStale() with TTL 30', (t) => {
  const { cache, clock } = make({ serveStale: true, staleTtl: 600 });
  put(cache, www, wwwReply);
  clock.advance(500);
  t.is(get(cache, www), undefined);
  const stale = cache.getStale(keyOf(www), www.msg, www.query, 'udp');
  t.truthy(stale);
  const m = decodeMessage(stale ?? Buffer.alloc(0));
  t.deepEqual(
    m.answers.map((r) => r.ttl),
    [STALE_ANSWER_TTL, STALE_ANSWER_TTL],
  );
  clock.advance(220);
  t.is(cache.getStale(keyOf(www), www.msg, www.query, 'udp'), undefined, 'past staleTtl');
});

test('serve-stale: a fresh entry is served by getStale() as it is', (t) => {
  const { cache, clock } = make({ serveStale: true });
  put(cache, www, wwwReply);
  clock.advance(5);
  const m = decodeMessage(cache.getStale(keyOf(www), www.msg, www.query, 'udp') ?? Buffer.alloc(0));
  t.deepEqual(m.answers.map((r) => r.ttl).sort(), [115, 295]);
});

test('serve-stale: never for SERVFAIL, and never when off', (t) => {
  const on = make({ serveStale: true });
  const q = query('broken.example.test', 'A');
  put(on.cache, q, reply(q, { rcode: 2 }));
  on.clock.advance(6);
  t.is(on.cache.getStale(keyOf(q), q.msg, q.query, 'udp'), undefined);
  const off = make({ serveStale: false });
  put(off.cache, www, wwwReply);
  off.clock.advance(500);
  t.is(off.cache.getStale(keyOf(www), www.msg, www.query, 'udp'), undefined);
  t.is(get(off.cache, www), undefined);
  t.is(off.cache.size, 0, 'an expired entry is dropped when it cannot be served stale');
});

test('maxEntries evicts the least recently used entry', (t) => {
  const { cache } = make({ maxEntries: 2 });
  const q = ['a', 'b', 'c'].map((n) => query(`${n}.example.test`, 'A'));
  const [qa, qb, qc] = q;
  if (qa === undefined || qb === undefined || qc === undefined) return;
  put(cache, qa, reply(qa, { answers: [a('a.example.test', '192.0.2.1', 60)] }));
  put(cache, qb, reply(qb, { answers: [a('b.example.test', '192.0.2.2', 60)] }));
  t.truthy(get(cache, qa));
  put(cache, qc, reply(qc, { answers: [a('c.example.test', '192.0.2.3', 60)] }));
  t.is(cache.size, 2);
  t.truthy(get(cache, qa));
  t.is(get(cache, qb), undefined);
  t.truthy(get(cache, qc));
  t.is(cache.evictions, 1);
});

test('maxBytes bounds the bytes held, and an answer larger than the cache is not stored', (t) => {
  const { cache } = make({ maxBytes: 2048 });
  for (let i = 0; i < 50; i++) {
    const q = query(`host${String(i)}.example.test`, 'A');
    put(cache, q, reply(q, { answers: [a(`host${String(i)}.example.test`, '192.0.2.1', 60)] }));
    t.true(cache.bytes <= 2048);
  }
  t.true(cache.size < 50);
  const many = query('many.example.test', 'A');
  const answers = Array.from({ length: 200 }, (_, i) =>
    a('many.example.test', `198.51.${String(i >> 8)}.${String(i & 255)}`, 300),
  );
  t.is(put(cache, many, reply(many, { answers })), undefined);
});
