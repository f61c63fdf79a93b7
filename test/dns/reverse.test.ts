import test from 'ava';
import type { Zone } from '../../src/dns/index.js';
import {
  answerReverse,
  compileZone,
  isProblem,
  parseQuery,
  reverseZones,
} from '../../src/dns/index.js';
import type { Transport } from '../../src/dns/index.js';
import { generateRecords, taskIdHash } from '../../src/records/index.js';
import { decodeMessage, encodeQuery } from '../../support/dns-message.js';
import type { Message } from '../../support/dns-message.js';
import { testSoa } from '../../support/records-text.js';
import {
  agent,
  framework,
  netinfoStatus,
  options,
  state,
  task,
} from '../../support/state-builder.js';

const APEXES = ['8.10.in-addr.arpa.'];
const REVERSE = reverseZones(APEXES);

/** A zone with 40 tasks sharing 10.8.0.1 (a big PTR RRset) and one on 10.8.0.2. */
function zone(): Zone {
  const pod = Array.from({ length: 40 }, (_, i) =>
    task(`member-${String(i)}`, 'ag-S0', {
      id: `pod.${String(i)}`,
      statuses: [netinfoStatus(['10.8.0.1'])],
    }),
  );
  const web = task('web', 'ag-S0', { id: 'web.1', statuses: [netinfoStatus(['10.8.0.2'])] });
  const s = state({
    agents: [{ ...agent('ag-S0', '10.0.0.1'), hostname: 'node-0.example.org' }],
    frameworks: [framework('marathon', [...pod, web])],
  });
  const records = generateRecords(s, options({ reverse: { zones: APEXES } }));
  return compileZone(records, { ttl: 60, srvWeight: 1, soa: testSoa(), serial: 7 });
}

const ZONE = zone();

function ask(
  name: string,
  type: string,
  opts: { transport?: Transport; edns?: number; qclass?: 'CH' } = {},
  z: Zone | 'not loaded' = ZONE,
): Message | undefined {
  const query = encodeQuery(name, type, opts);
  if (opts.qclass === 'CH')
    query.writeUInt16BE(3, query.length - (opts.edns === undefined ? 2 : 13));
  const parsed = parseQuery(query);
  if (isProblem(parsed)) throw new Error(parsed.reason);
  const loaded = z === 'not loaded' ? undefined : z;
  const result = answerReverse(query, parsed, loaded, REVERSE, true, opts.transport ?? 'udp');
  return result === undefined ? undefined : decodeMessage(result.response);
}

test('a PTR answer, in any letter case, is authoritative', (t) => {
  const m = ask('2.0.8.10.IN-ADDR.ARPA', 'PTR');
  t.is(m?.rcode, 'NOERROR');
  t.true(m?.aa);
  t.deepEqual(
    m?.answers.map((r) => r.data),
    [`web-${taskIdHash('web.1')}-s0.marathon.mesos`],
  );
});

test('an RRset that does not fit 512 bytes is truncated with TC; TCP gets all of it', (t) => {
  const udp = ask('1.0.8.10.in-addr.arpa', 'PTR');
  t.true(udp?.tc);
  t.true((udp?.answers.length ?? 0) < 40);
  const tcp = ask('1.0.8.10.in-addr.arpa', 'PTR', { transport: 'tcp' });
  t.false(tcp?.tc);
  t.is(tcp?.answers.length, 40);
});

test('ANY: the PTRs; at the apex SOA and NS over TCP, the SOA alone over UDP (RFC 8482)', (t) => {
  t.deepEqual(
    ask('2.0.8.10.in-addr.arpa', 'ANY')?.answers.map((r) => r.type),
    ['PTR'],
  );
  t.deepEqual(
    ask('8.10.in-addr.arpa', 'ANY', { transport: 'tcp' })
      ?.answers.map((r) => r.type)
      .sort(),
    ['NS', 'SOA'],
  );
  t.deepEqual(
    ask('8.10.in-addr.arpa', 'ANY')?.answers.map((r) => r.type),
    ['SOA'],
  );
});

test('negative answers carry the reverse zone SOA with the zone serial; other types get NODATA', (t) => {
  const miss = ask('9.0.8.10.in-addr.arpa', 'PTR');
  t.is(miss?.rcode, 'NXDOMAIN');
  t.deepEqual(
    miss?.authorities.map((r) => [r.name, r.type]),
    [['8.10.in-addr.arpa', 'SOA']],
  );
  t.like(miss?.authorities[0]?.data, { serial: 7 });
  const txt = ask('2.0.8.10.in-addr.arpa', 'TXT');
  t.is(txt?.rcode, 'NOERROR');
  t.is(txt?.answers.length, 0);
  const ent = ask('0.8.10.in-addr.arpa', 'PTR');
  t.is(ent?.rcode, 'NOERROR');
  t.is(ent?.authorities[0]?.type, 'SOA');
  t.is(ask('8.10.in-addr.arpa', 'PTR')?.rcode, 'NOERROR', 'the apex exists');
});

test('outside the zones only a known PTR is answered; before the first load SERVFAIL inside', (t) => {
  t.deepEqual(
    ask('1.0.0.10.in-addr.arpa', 'PTR')?.answers.map((r) => r.data),
    ['node-0.example.org'],
  );
  t.is(ask('9.0.0.10.in-addr.arpa', 'PTR'), undefined, 'unknown: forwarded');
  t.is(ask('1.0.0.10.in-addr.arpa', 'TXT'), undefined, 'other types: forwarded');
  t.is(ask('web.marathon.mesos', 'PTR'), undefined, 'not a reverse name');
  t.is(ask('9.0.8.10.in-addr.arpa', 'PTR', {}, 'not loaded')?.rcode, 'SERVFAIL');
  t.is(ask('9.0.0.10.in-addr.arpa', 'PTR', {}, 'not loaded'), undefined);
});

test('zone transfers and other classes are refused inside the zones', (t) => {
  t.is(ask('8.10.in-addr.arpa', 'AXFR')?.rcode, 'REFUSED');
  t.is(ask('2.0.8.10.in-addr.arpa', 'PTR', { qclass: 'CH' })?.rcode, 'REFUSED');
});

test('a reverse zone the served build lacks (a reload turned it on) is forwarded, not NXDOMAIN', (t) => {
  // Built without reverse lookups; the settings already name the zone (the reload came first).
  const s = state({
    agents: [agent('ag-S0', '10.0.0.1')],
    frameworks: [framework('marathon', [task('web', 'ag-S0', { id: 'web.1' })])],
  });
  const plain = compileZone(generateRecords(s, options()), {
    ttl: 60,
    srvWeight: 1,
    soa: testSoa(),
    serial: 8,
  });
  t.is(ask('2.0.8.10.in-addr.arpa', 'PTR', {}, plain), undefined, 'forwarded until the rebuild');
  t.is(ask('8.10.in-addr.arpa', 'SOA', {}, plain), undefined);
  // A zone the build has but the settings dropped is not authoritative any more: an unknown
  // address there is forwarded (a PTR the zone holds is still answered, as outside any zone).
  const query = encodeQuery('9.0.8.10.in-addr.arpa', 'PTR', {});
  const parsed = parseQuery(query);
  if (isProblem(parsed)) throw new Error(parsed.reason);
  const other = reverseZones(['9.10.in-addr.arpa.']);
  t.is(answerReverse(query, parsed, ZONE, other, true, 'udp'), undefined);
  // The rebuilt zone answers; before the first load the configured zone is SERVFAIL.
  t.is(ask('2.0.8.10.in-addr.arpa', 'PTR')?.rcode, 'NOERROR');
  t.is(ask('2.0.8.10.in-addr.arpa', 'PTR', {}, 'not loaded')?.rcode, 'SERVFAIL');
});
