import test from 'ava';
import type { Transport } from '../../src/dns/index.js';
import { askZone, zoneFromText } from '../../support/records-text.js';
import { decodeMessage } from '../../support/dns-message.js';

let text = '';
for (let i = 0; i < 80; i++) {
  text += `big.marathon.mesos. A 10.1.0.${String(i)}\n`;
  text += `t${String(i)}-abcde-0.marathon.slave.mesos. A 10.2.0.${String(i)}\n`;
  text += `_big._tcp.marathon.mesos. SRV ${String(31000 + i)} t${String(i)}-abcde-0.marathon.slave.mesos.\n`;
}
const zone = zoneFromText(text);

function ask(
  name: string,
  type: 'A' | 'SRV',
  transport: Transport,
  edns?: number,
): { raw: Buffer; size: number } {
  const raw = askZone(zone, name, type, edns === undefined ? { transport } : { transport, edns });
  return { raw, size: raw.length };
}

const cases: {
  name: string;
  type: 'A' | 'SRV';
  transport: Transport;
  edns?: number;
  limit: number;
  tc: boolean;
}[] = [
  { name: 'big.marathon.mesos', type: 'A', transport: 'udp', limit: 512, tc: true },
  { name: 'big.marathon.mesos', type: 'A', transport: 'udp', edns: 4096, limit: 1232, tc: true },
  { name: 'big.marathon.mesos', type: 'A', transport: 'udp', edns: 1400, limit: 1232, tc: true },
  { name: 'big.marathon.mesos', type: 'A', transport: 'udp', edns: 100, limit: 512, tc: true },
  { name: 'big.marathon.mesos', type: 'A', transport: 'tcp', limit: 65535, tc: false },
  { name: '_big._tcp.marathon.mesos', type: 'SRV', transport: 'udp', limit: 512, tc: true },
  { name: '_big._tcp.marathon.mesos', type: 'SRV', transport: 'tcp', limit: 65535, tc: false },
];

for (const c of cases) {
  test(`fits ${c.type} ${c.name} over ${c.transport} (EDNS ${String(c.edns ?? 'none')}) in ${String(c.limit)} bytes`, (t) => {
    const { raw, size } = ask(c.name, c.type, c.transport, c.edns);
    t.true(size <= c.limit, `size ${String(size)}`);
    const r = decodeMessage(raw);
    t.is(r.tc, c.tc);
    if (c.tc) {
      // Additional records go first; answers that remain are whole and valid.
      t.is(r.additionals.length, 0);
      t.true(r.answers.length > 0);
      t.true(r.answers.length < 80);
      // The message is full: one more 16-byte A RR would not have fitted.
      if (c.type === 'A') t.true(size + 16 > c.limit);
    } else {
      t.is(r.answers.length, 80);
      if (c.type === 'SRV') t.is(r.additionals.length, 80);
    }
    if (c.edns !== undefined) t.is(r.optSize, 1232);
  });
}

test('a 512-byte UDP reply holds as many A records as Mesos-DNS fits (29 of 80, 500 bytes)', (t) => {
  const r = decodeMessage(ask('big.marathon.mesos', 'A', 'udp').raw);
  t.is(r.answers.length, 29);
});

test('keeps the whole answer without TC when only additional records do not fit (RFC 2181 9)', (t) => {
  let text = '';
  for (let i = 0; i < 60; i++) text += `fat-abcde-0.marathon.slave.mesos. A 10.5.0.${String(i)}\n`;
  for (const port of [31000, 31001, 31002]) {
    text += `_fat._tcp.marathon.mesos. SRV ${String(port)} fat-abcde-0.marathon.slave.mesos.\n`;
  }
  const fat = zoneFromText(text);
  const udp = askZone(fat, '_fat._tcp.marathon.mesos', 'SRV');
  const r = decodeMessage(udp);
  t.true(udp.length <= 512);
  t.false(r.tc);
  t.is(r.answers.length, 3);
  // As many whole additional records as fit, each a valid A of the target.
  t.true(r.additionals.length > 0 && r.additionals.length < 60, String(r.additionals.length));
  t.true(
    r.additionals.every((a) => a.name === 'fat-abcde-0.marathon.slave.mesos' && a.type === 'A'),
  );
  t.true(udp.length + 16 > 512, 'one more additional A would not have fitted');
  const tcp = decodeMessage(askZone(fat, '_fat._tcp.marathon.mesos', 'SRV', { transport: 'tcp' }));
  t.is(tcp.additionals.length, 60);
});
