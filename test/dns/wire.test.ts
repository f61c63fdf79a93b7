import test from 'ava';
import { encodeQuery } from '../../support/dns-message.js';
import {
  RCODE,
  encodeName,
  isProblem,
  keyToName,
  nameKey,
  parseQuery,
} from '../../src/dns/index.js';

function header(opts: {
  id?: number;
  flags1?: number;
  qd?: number;
  an?: number;
  ns?: number;
  ar?: number;
}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? 7, 0);
  h[2] = opts.flags1 ?? 0;
  h.writeUInt16BE(opts.qd ?? 1, 4);
  h.writeUInt16BE(opts.an ?? 0, 6);
  h.writeUInt16BE(opts.ns ?? 0, 8);
  h.writeUInt16BE(opts.ar ?? 0, 10);
  return h;
}
const question = Buffer.concat([encodeName('web.marathon.mesos.'), Buffer.from([0, 1, 0, 1])]);

test('encodes names and keys case-insensitively', (t) => {
  t.deepEqual(encodeName('a.bc.'), Buffer.from([1, 97, 2, 98, 99, 0]));
  t.is(nameKey('Web.Mesos.'), nameKey('web.mesos'));
  t.is(keyToName(nameKey('web.mesos.')), 'web.mesos.');
  t.throws(() => encodeName('a..b'));
  t.throws(() => encodeName('x'.repeat(64) + '.mesos'));
});

test('parses a plain query with its lower-case key', (t) => {
  const q = parseQuery(Buffer.concat([header({}), Buffer.from(question).fill(0x57, 1, 2)]));
  t.false(isProblem(q));
  if (!isProblem(q)) {
    t.is(q.id, 7);
    t.is(q.qtype, 1);
    t.is(q.key, nameKey('web.marathon.mesos.'));
    t.is(q.edns, undefined);
  }
});

test('reads EDNS0 size, version and DO', (t) => {
  const msg = encodeQuery('x.mesos', 'A', { edns: 4096 });
  msg[msg.length - 4] = 0x80; // DO bit
  const q = parseQuery(msg);
  if (isProblem(q)) return t.fail(q.reason);
  t.deepEqual(q.edns, { udpSize: 4096, version: 0, dnssecOk: true });
});

const bad: { name: string; msg: Buffer; action: 'drop' | number }[] = [
  { name: 'empty packet', msg: Buffer.alloc(0), action: 'drop' },
  { name: 'short header', msg: Buffer.alloc(11), action: 'drop' },
  {
    name: 'a response (QR=1)',
    msg: Buffer.concat([header({ flags1: 0x80 }), question]),
    action: 'drop',
  },
  {
    name: 'opcode STATUS',
    msg: Buffer.concat([header({ flags1: 2 << 3 }), question]),
    action: RCODE.NOTIMP,
  },
  { name: 'no question', msg: header({ qd: 0 }), action: RCODE.FORMERR },
  {
    name: 'two questions',
    msg: Buffer.concat([header({ qd: 2 }), question, question]),
    action: RCODE.FORMERR,
  },
  {
    name: 'truncated name',
    msg: Buffer.concat([header({}), Buffer.from([3, 119, 101])]),
    action: RCODE.FORMERR,
  },
  {
    name: 'missing qtype',
    msg: Buffer.concat([header({}), encodeName('a.mesos')]),
    action: RCODE.FORMERR,
  },
  {
    name: 'compression pointer in qname',
    msg: Buffer.concat([header({}), Buffer.from([0xc0, 12, 0, 1, 0, 1])]),
    action: RCODE.FORMERR,
  },
  {
    name: 'label over 63',
    msg: Buffer.concat([header({}), Buffer.from([64]), Buffer.alloc(70, 97)]),
    action: RCODE.FORMERR,
  },
  {
    name: 'answers in a query',
    msg: Buffer.concat([header({ an: 1 }), question]),
    action: RCODE.FORMERR,
  },
  {
    name: 'additional count without data',
    msg: Buffer.concat([header({ ar: 1 }), question]),
    action: RCODE.FORMERR,
  },
  {
    name: 'two OPT records',
    msg: Buffer.concat([
      header({ ar: 2 }),
      question,
      Buffer.from([0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]),
    ]),
    action: RCODE.FORMERR,
  },
  {
    name: 'EDNS version 1',
    msg: Buffer.concat([
      header({ ar: 1 }),
      question,
      Buffer.from([0, 0, 41, 16, 0, 0, 1, 0, 0, 0, 0]),
    ]),
    action: RCODE.BADVERS,
  },
  {
    name: 'name over 255 bytes',
    msg: Buffer.concat([
      header({}),
      Buffer.concat(
        Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([60]), Buffer.alloc(60, 97)])),
      ),
      Buffer.from([0, 0, 1, 0, 1]),
    ]),
    action: RCODE.FORMERR,
  },
];

for (const c of bad) {
  test(`rejects ${c.name}`, (t) => {
    const q = parseQuery(c.msg);
    t.true(isProblem(q));
    if (isProblem(q)) t.is(q.action, c.action);
  });
}
