import test from 'ava';
import type { Transport, Zone } from '../../src/dns/index.js';
import { askZone, zoneFromText } from '../../support/records-text.js';
import type { Message } from '../../support/dns-message.js';
import { decodeMessage, soaData, srvData } from '../../support/dns-message.js';

const zone: Zone = zoneFromText(
  `
    ns1.mesos.                       A    127.0.0.1
    web.marathon.mesos.              A    10.0.0.1
    web.marathon.mesos.              A    10.0.0.2
    web.marathon.mesos.              AAAA fd01::1
    web-abcde-0.marathon.slave.mesos. A   10.0.1.1
    _web._tcp.marathon.mesos.        SRV  31000 web-abcde-0.marathon.slave.mesos.
    _web._tcp.marathon.mesos.        SRV  31001 web-abcde-0.marathon.slave.mesos.
  `,
  { minimum: 30, serial: 42 },
);

function ask(
  name: string,
  type: string,
  opts: { edns?: number; transport?: Transport; id?: number } = {},
): Message {
  return decodeMessage(askZone(zone, name, type, opts));
}

test('answers A records with AA, RA, RD and the question echoed as sent', (t) => {
  const r = ask('Web.Marathon.MESOS', 'A');
  t.is(r.id, 4242);
  t.is(r.rcode, 'NOERROR');
  t.true(r.aa);
  t.true(r.ra);
  t.true(r.rd);
  t.is(r.questions[0]?.name, 'Web.Marathon.MESOS');
  t.deepEqual(r.answers.map((a) => a.data).sort(), ['10.0.0.1', '10.0.0.2']);
  t.true(r.answers.every((a) => a.ttl === 60 && a.name === 'Web.Marathon.MESOS'));
});

test('answers AAAA records', (t) => {
  const r = ask('web.marathon.mesos', 'AAAA');
  t.deepEqual(
    r.answers.map((a) => a.data),
    ['fd01::1'],
  );
});

test('answers SRV with the targets addresses in the additional section', (t) => {
  const r = ask('_web._tcp.marathon.mesos', 'SRV');
  t.is(r.answers.length, 2);
  const ports = r.answers.map((a) => srvData(a).port).sort();
  t.deepEqual(ports, [31000, 31001]);
  for (const a of r.answers) {
    t.deepEqual(srvData(a), {
      priority: 0,
      weight: 1,
      port: srvData(a).port,
      target: 'web-abcde-0.marathon.slave.mesos',
    });
  }
  t.deepEqual(
    r.additionals.map((a) => [a.name, a.type, a.data]),
    [['web-abcde-0.marathon.slave.mesos', 'A', '10.0.1.1']],
  );
});

test('returns NXDOMAIN with the SOA in authority, TTL min(ttl, minimum)', (t) => {
  const r = ask('nope.marathon.mesos', 'A');
  t.is(r.rcode, 'NXDOMAIN');
  t.is(r.answers.length, 0);
  const soa = r.authorities[0];
  t.is(soa?.type, 'SOA');
  t.is(soa?.name, 'mesos');
  t.is(soa?.ttl, 30);
  if (soa !== undefined) {
    t.like(soaData(soa), { mname: 'ns1.mesos', serial: 42, minimum: 30 });
  }
});

test('returns NODATA with SOA for an existing name and another type', (t) => {
  const r = ask('web-abcde-0.marathon.slave.mesos', 'AAAA');
  t.is(r.rcode, 'NOERROR');
  t.is(r.answers.length, 0);
  t.is(r.authorities[0]?.type, 'SOA');
});

test('returns NODATA for empty non-terminals and the apex (RFC 8020)', (t) => {
  for (const name of ['marathon.slave.mesos', '_tcp.marathon.mesos', 'slave.mesos', 'mesos']) {
    const r = ask(name, 'A');
    t.is(r.rcode, 'NOERROR', name);
    t.is(r.authorities[0]?.type, 'SOA', name);
  }
});

test('answers SOA and NS at the apex in the answer section', (t) => {
  const soa = ask('MESOS', 'SOA');
  t.is(soa.answers[0]?.type, 'SOA');
  t.is(soa.answers[0]?.name, 'MESOS');
  const ns = ask('mesos', 'NS');
  t.deepEqual(
    ns.answers.map((a) => a.data),
    ['ns1.mesos'],
  );
});

test('answers SOA below the apex with NODATA', (t) => {
  const r = ask('web.marathon.mesos', 'SOA');
  t.is(r.rcode, 'NOERROR');
  t.is(r.answers.length, 0);
  t.is(r.authorities[0]?.type, 'SOA');
});

test('answers ANY with every record of the name over TCP, one RRset over UDP', (t) => {
  t.is(ask('web.marathon.mesos', 'ANY', { transport: 'tcp' }).answers.length, 3);
  t.deepEqual(
    ask('web.marathon.mesos', 'ANY').answers.map((a) => a.type),
    ['A', 'A'],
  );
});

test('echoes an OPT with our UDP size when the query has EDNS0', (t) => {
  const r = ask('web.marathon.mesos', 'A', { edns: 4096 });
  t.is(r.optSize, 1232);
  t.is(ask('web.marathon.mesos', 'A').optSize, undefined);
});

test('shuffles answers across queries', (t) => {
  const orders = new Set<string>();
  for (let i = 0; i < 50; i++)
    orders.add(
      ask('web.marathon.mesos', 'A')
        .answers.map((a) => a.data)
        .join(),
    );
  t.is(orders.size, 2);
});

test('answers REFUSED for AXFR and for classes other than IN', (t) => {
  t.is(ask('mesos', 'AXFR').rcode, 'REFUSED');
});

/** A zone with a 3-instance app (A and AAAA) and a 5-port SRV set. */
const shaped: Zone = zoneFromText(
  `
    ns1.mesos.                 A    127.0.0.1
    app.marathon.mesos.        A    10.0.0.1
    app.marathon.mesos.        A    10.0.0.2
    app.marathon.mesos.        A    10.0.0.3
    app.marathon.mesos.        AAAA fd01::1
    app.marathon.mesos.        AAAA fd01::2
    app.marathon.mesos.        AAAA fd01::3
    app-1.marathon.slave.mesos. A   10.0.1.1
    _app._tcp.marathon.mesos.  SRV  31000 app-1.marathon.slave.mesos.
    _app._tcp.marathon.mesos.  SRV  31001 app-1.marathon.slave.mesos.
    _app._tcp.marathon.mesos.  SRV  31002 app-1.marathon.slave.mesos.
    _app._tcp.marathon.mesos.  SRV  31003 app-1.marathon.slave.mesos.
    _app._tcp.marathon.mesos.  SRV  31004 app-1.marathon.slave.mesos.
  `,
  { minimum: 30, serial: 1 },
);

function askShaped(name: string, type: string, maxAddresses: number, transport?: Transport) {
  const opts = transport === undefined ? { maxAddresses } : { maxAddresses, transport };
  return decodeMessage(askZone(shaped, name, type, opts));
}

test('maxAddresses: 1 spreads the answers over every address, one at a time', (t) => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const r = askShaped('app.marathon.mesos', 'A', 1);
    t.is(r.answers.length, 1);
    const address = String(r.answers[0]?.data);
    counts.set(address, (counts.get(address) ?? 0) + 1);
  }
  t.deepEqual([...counts.keys()].sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  // A third of 3,000 is 1,000 with a standard deviation of 26: 850..1150 is beyond 5 of them.
  for (const [address, n] of counts) t.true(n > 850 && n < 1150, `${address}: ${String(n)}`);
});

test('maxAddresses caps each address family and leaves SRV answers whole', (t) => {
  const two = askShaped('app.marathon.mesos', 'A', 2);
  t.is(two.answers.length, 2);
  t.is(new Set(two.answers.map((a) => a.data)).size, 2);
  t.is(askShaped('app.marathon.mesos', 'AAAA', 2).answers.length, 2);
  t.is(askShaped('app.marathon.mesos', 'A', 3).answers.length, 3);
  t.is(askShaped('app.marathon.mesos', 'A', 0).answers.length, 3);
  const any = askShaped('app.marathon.mesos', 'ANY', 1, 'tcp');
  t.deepEqual(any.answers.map((a) => a.type).sort(), ['A', 'AAAA']);
  const srv = askShaped('_app._tcp.marathon.mesos', 'SRV', 1);
  t.is(srv.answers.length, 5);
  t.deepEqual(
    srv.additionals.map((a) => a.data),
    ['10.0.1.1'],
  );
});
