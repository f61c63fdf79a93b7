// Reading and cutting upstream replies without decoding them (src/dns/upstream-message.ts).
import test from 'ava';
import {
  isNegative,
  isShareableQuery,
  layoutOf,
  truncateReply,
} from '../../src/dns/upstream-message.js';
import { decodeMessage } from '../../support/dns-message.js';
import { a, query, reply, soa } from './cache-helpers.js';

const www = query('www.example.test', 'A', { edns: 1232 });

test('layoutOf finds every RR, its TTL offset, the smallest TTL and the OPT', (t) => {
  const r = reply(www, {
    answers: [a('www.example.test', '192.0.2.10', 300), a('www.example.test', '192.0.2.11', 30)],
    additionals: [a('ns1.example.test', '192.0.2.1', 60)],
    opt: true,
  });
  const layout = layoutOf(r);
  if (layout === undefined) return t.fail('no layout');
  t.deepEqual(layout.counts, [2, 0, 2]);
  t.is(layout.rrEnds.length, 4);
  t.is(layout.rrEnds[3], r.length);
  t.is(layout.ttlOffsets.length, 3, 'no TTL for the OPT');
  t.is(layout.minTtl, 30);
  t.is(layout.opt?.end, r.length);
  t.is(layout.rcode, 0);
  t.false(layout.isTruncated);
  t.is(r.readUInt32BE(layout.ttlOffsets[0] ?? 0), 300);
});

test('layoutOf reads the negative TTL as min(SOA TTL, MINIMUM) from the authority section', (t) => {
  const nx = query('nope.example.test', 'A');
  const layout = layoutOf(reply(nx, { rcode: 3, authorities: [soa('example.test', 300, 60)] }));
  t.is(layout?.negativeTtl, 60);
  t.true(layout !== undefined && isNegative(layout));
  const low = layoutOf(reply(nx, { rcode: 3, authorities: [soa('example.test', 20, 60)] }));
  t.is(low?.negativeTtl, 20);
});

test('layoutOf rejects what is not a whole response', (t) => {
  const r = reply(www, { answers: [a('www.example.test', '192.0.2.10', 300)] });
  t.is(layoutOf(www.msg), undefined, 'a query');
  t.is(layoutOf(r.subarray(0, r.length - 1)), undefined, 'cut short');
  t.is(layoutOf(Buffer.concat([r, Buffer.from([0])])), undefined, 'trailing garbage');
  t.is(layoutOf(Buffer.alloc(5)), undefined, 'shorter than a header');
  // OPT before another additional record: not cut or cached.
  const optFirst = reply(www, { opt: true });
  const extra = Buffer.from(reply(www, { additionals: [a('x.test', '192.0.2.1', 5)] }));
  const rr = extra.subarray(extra.length - 20);
  const both = Buffer.concat([optFirst, rr]);
  both.writeUInt16BE(2, 10);
  t.is(layoutOf(both), undefined);
});

test('truncateReply keeps whole leading RRs, the OPT, fixes counts and sets TC', (t) => {
  const answers = Array.from({ length: 40 }, (_, i) =>
    a('many.example.test', `198.51.100.${String(i + 1)}`, 300),
  );
  const q = query('many.example.test', 'A', { edns: 512 });
  const r = reply(q, { answers, authorities: [soa('example.test', 300, 60)], opt: true });
  const layout = layoutOf(r);
  if (layout === undefined) return t.fail('no layout');
  const cut = truncateReply(r, layout, 512);
  t.true(cut.length <= 512);
  const m = decodeMessage(cut);
  t.true(m.tc);
  t.true(m.answers.length > 5 && m.answers.length < 40);
  t.is(m.authorities.length, 0);
  t.is(m.optSize, 4096, "the upstream's OPT is kept");
  t.is(truncateReply(r, layout, 65535), r, 'a reply that fits is returned as it is');
});

test('isShareableQuery: only an OPT without Client Subnet may be in the additional section', (t) => {
  t.true(isShareableQuery(www.msg, www.query));
  const plain = query('www.example.test', 'A');
  t.true(isShareableQuery(plain.msg, plain.query));
  const cookie = query('www.example.test', 'A', { options: [{ code: 10, data: Buffer.alloc(8) }] });
  t.true(isShareableQuery(cookie.msg, cookie.query));
  const ecs = query('www.example.test', 'A', {
    options: [
      { code: 10, data: Buffer.alloc(8) },
      { code: 8, data: Buffer.from([0, 1, 24, 0, 10, 0, 0]) },
    ],
  });
  t.false(isShareableQuery(ecs.msg, ecs.query));
});

test('truncateReply leaves TC clear when only additional records were left out (RFC 2181 9)', (t) => {
  const q = query('www.example.test', 'A');
  const glue = Array.from({ length: 30 }, (_, i) =>
    a(`ns${String(i)}.example.test`, `192.0.2.${String(i)}`, 60),
  );
  const r = reply(q, { answers: [a('www.example.test', '192.0.2.10', 300)], additionals: glue });
  const layout = layoutOf(r);
  if (layout === undefined) return t.fail('no layout');
  const cut = truncateReply(r, layout, 512);
  const m = decodeMessage(cut);
  t.false(m.tc);
  t.is(m.answers.length, 1);
  t.true(m.additionals.length > 0 && m.additionals.length < 30);
});
