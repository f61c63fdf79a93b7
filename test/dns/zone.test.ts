import test from 'ava';
import {
  EMPTY_NODE,
  NO_NODE,
  findNode,
  findNodeAt,
  nameKey,
  parseQuery,
} from '../../src/dns/index.js';
import { askZone, zoneFromText } from '../../support/records-text.js';
import { decodeMessage, srvData } from '../../support/dns-message.js';

const zone = zoneFromText(`
  web.marathon.mesos.                 A    10.0.0.1
  web.marathon.mesos.                 AAAA fd01::1
  web-a-s1.marathon.slave.mesos.      A    10.0.1.1
  web-a-s1.marathon.slave.mesos.      AAAA fd01::2
  web-b-s2.marathon.slave.mesos.      A    10.0.1.2
  _web._tcp.marathon.mesos.           SRV  31000 web-a-s1.marathon.slave.mesos.
  _web._tcp.marathon.mesos.           SRV  31001 web-a-s1.marathon.slave.mesos.
  _web._tcp.marathon.mesos.           SRV  31002 web-b-s2.marathon.slave.mesos.
  _gone._tcp.marathon.mesos.          SRV  31003 gone-x-s3.marathon.slave.mesos.
`);

test('findNode tells owners, empty non-terminals and missing names apart', (t) => {
  t.true(findNode(zone, nameKey('web.marathon.mesos.')) >= 0);
  t.true(findNode(zone, nameKey('_web._tcp.marathon.mesos.')) >= 0);
  for (const ent of ['marathon.mesos.', '_tcp.marathon.mesos.', 'slave.mesos.', 'mesos.']) {
    t.is(findNode(zone, nameKey(ent)), EMPTY_NODE, ent);
  }
  t.is(findNode(zone, nameKey('nope.marathon.mesos.')), NO_NODE);
  t.is(findNode(zone, nameKey('eb.marathon.mesos.')), NO_NODE);
  t.is(findNode(zone, nameKey('xweb.marathon.mesos.')), NO_NODE);
  // A name that is only an SRV target, without records of its own, does not exist.
  t.is(findNode(zone, nameKey('gone-x-s3.marathon.slave.mesos.')), NO_NODE);
  t.is(decodeMessage(askZone(zone, 'gone-x-s3.marathon.slave.mesos', 'A')).rcode, 'NXDOMAIN');
});

/** A query packet for the wire-format name `wire` (labels and root), type A. */
function packet(wire: readonly number[]): Buffer {
  const header = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, Buffer.from(wire), Buffer.from([0, 1, 0, 1])]);
}

function labels(...parts: string[]): number[] {
  return [...parts.flatMap((p) => [p.length, ...Buffer.from(p, 'latin1')]), 0];
}

test('findNodeAt looks names up on the packet: any case, a dot inside a label never matches', (t) => {
  const find = (msg: Buffer): number => {
    const q = parseQuery(msg);
    if ('action' in q) throw new Error(q.reason);
    return findNodeAt(zone, msg, 12, q.qnameEnd - 1, q.nameHash);
  };
  const web = findNode(zone, nameKey('web.marathon.mesos.'));
  t.is(find(packet(labels('WEB', 'Marathon', 'MESOS'))), web);
  // One label `web.marathon` (an escaped dot) is not the two labels `web` and `marathon`.
  t.is(find(packet(labels('web.marathon', 'mesos'))), NO_NODE);
});

test('SRV answers carry the A and AAAA records of each distinct target, owners compressed', (t) => {
  const raw = askZone(zone, '_web._tcp.marathon.mesos', 'SRV', { edns: 1232 });
  const r = decodeMessage(raw);
  t.is(r.answers.length, 3);
  t.deepEqual(r.additionals.map((a) => `${a.name} ${a.type} ${String(a.data)}`).sort(), [
    'web-a-s1.marathon.slave.mesos A 10.0.1.1',
    'web-a-s1.marathon.slave.mesos AAAA fd01::2',
    'web-b-s2.marathon.slave.mesos A 10.0.1.2',
  ]);
  // Each additional owner is a 2-byte pointer to the target name inside its SRV answer.
  const answerBytes = r.answers.reduce((n, a) => n + 18 + srvData(a).target.length + 2, 0);
  const question = '_web._tcp.marathon.mesos'.length + 2 + 4;
  t.is(raw.length, 12 + question + answerBytes + 16 + 28 + 16 + 11);
});

test('an SRV target without addresses adds nothing to the additional section', (t) => {
  const r = decodeMessage(askZone(zone, '_gone._tcp.marathon.mesos', 'SRV'));
  t.is(r.answers.length, 1);
  t.is(r.additionals.length, 0);
});

test('ANY over TCP: the SOA and the NS at the apex; elsewhere every record of the name', (t) => {
  const tcp = { transport: 'tcp' as const };
  const apex = decodeMessage(askZone(zone, 'mesos', 'ANY', tcp));
  t.deepEqual(apex.answers.map((a) => a.type).sort(), ['NS', 'SOA']);
  const web = decodeMessage(askZone(zone, 'web.marathon.mesos', 'ANY', tcp));
  t.deepEqual(web.answers.map((a) => a.type).sort(), ['A', 'AAAA']);
  const srv = decodeMessage(askZone(zone, '_web._tcp.marathon.mesos', 'ANY', tcp));
  t.is(srv.answers.length, 3);
  t.is(srv.additionals.length, 3);
});

test('ANY over UDP (RFC 8482): one RRset, A before AAAA before SRV, the SOA at the apex', (t) => {
  const apex = decodeMessage(askZone(zone, 'mesos', 'ANY'));
  t.deepEqual(
    apex.answers.map((a) => a.type),
    ['SOA'],
  );
  const web = decodeMessage(askZone(zone, 'web.marathon.mesos', 'ANY'));
  t.deepEqual(
    web.answers.map((a) => a.type),
    ['A'],
  );
  const srv = decodeMessage(askZone(zone, '_web._tcp.marathon.mesos', 'ANY', { edns: 1232 }));
  t.deepEqual(
    srv.answers.map((a) => a.type),
    ['SRV', 'SRV', 'SRV'],
  );
  t.is(srv.additionals.filter((a) => a.type !== 'OPT').length, 0, 'no additional records');
  t.is(decodeMessage(askZone(zone, 'nothing.marathon.mesos', 'ANY')).rcode, 'NXDOMAIN');
});

test('a TCP answer stops its additional section at 16 KiB as a client re-encodes it', (t) => {
  // 250 dual-stack targets: the SRV answers take 15.5 KiB, their addresses another 11 KiB.
  let text = '';
  for (let i = 0; i < 250; i++) {
    const target = `task-${String(i).padStart(4, '0')}-abcde-s1.marathon.slave.mesos.`;
    text += `${target} A 10.3.${String(i >> 8)}.${String(i & 255)}\n`;
    text += `${target} AAAA fd03::${i.toString(16)}\n`;
    text += `_big._tcp.marathon.mesos. SRV ${String(31000 + i)} ${target}\n`;
  }
  const big = zoneFromText(text);
  const ownerInFull = 'task-0000-abcde-s1.marathon.slave.mesos'.length + 2;
  for (const opts of [{}, { edns: 4096 }]) {
    const raw = askZone(big, '_big._tcp.marathon.mesos', 'SRV', { transport: 'tcp', ...opts });
    const r = decodeMessage(raw);
    t.false(r.tc);
    t.is(r.answers.length, 250);
    t.true(r.additionals.length > 10, `${String(r.additionals.length)} additional records`);
    t.true(r.additionals.length < 500);
    // Re-encoded by a client that writes the first owner of each target in full (c-ares), the
    // message stays within 16 KiB, and has no room for another record.
    const owners = new Set(r.additionals.map((a) => a.name)).size;
    const reencoded = raw.length + owners * (ownerInFull - 2);
    t.true(reencoded <= 0x4000, `${String(reencoded)} bytes re-encoded`);
    t.true(reencoded + 16 + ownerInFull - 2 > 0x4000, `${String(reencoded)} bytes re-encoded`);
    const v4 = new Map<string, string>();
    for (const a of r.additionals) if (a.type === 'A') v4.set(a.name, String(a.data));
    for (const a of r.answers) {
      const target = srvData(a).target;
      const i = Number(target.slice(5, 9));
      const address = v4.get(target);
      if (address !== undefined) t.is(address, `10.3.${String(i >> 8)}.${String(i & 255)}`);
    }
  }
  // Every additional owner mesodns writes is a 2-byte pointer: the records are 16 and 28 bytes.
  const raw = askZone(big, '_big._tcp.marathon.mesos', 'SRV', { transport: 'tcp' });
  const r = decodeMessage(raw);
  const answerBytes = r.answers.reduce((n, a) => n + 18 + srvData(a).target.length + 2, 0);
  const v6 = r.additionals.filter((a) => a.type === 'AAAA').length;
  const question = '_big._tcp.marathon.mesos'.length + 2 + 4;
  t.is(raw.length, 12 + question + answerBytes + (r.additionals.length - v6) * 16 + v6 * 28);
});
