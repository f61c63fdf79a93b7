import { MessageChannel } from 'node:worker_threads';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import {
  CompactRecordSet,
  KIND_A,
  KIND_AAAA,
  KIND_SRV,
  RecordBuilder,
  cloneRecordData,
  generateRecords,
  intToIpv4,
  ipv4ToInt,
  recordTransferList,
  recordViews,
  toRecordData,
} from '../../src/records/index.js';
import type { RecordSet } from '../../src/records/index.js';
import { readFixture, options } from '../../support/state-builder.js';
import { parseState } from '../../src/mesos/index.js';
import { recordsFromText } from '../../support/records-text.js';

function built(): CompactRecordSet {
  const b = new RecordBuilder('mesos.');
  const web = b.id('web.marathon.mesos.');
  const target = b.part('web-abcde-s1').part('.marathon.slave.mesos.').intern();
  b.add(KIND_A, web, ipv4ToInt('10.0.0.1'));
  b.add(KIND_A, web, ipv4ToInt('250.1.2.3'));
  b.add(KIND_A, web, ipv4ToInt('10.0.0.1'));
  b.add(KIND_AAAA, web, b.v6Index('fd01::1', [0xfd01, 0, 0, 0, 0, 0, 0, 1]));
  b.add(KIND_A, target, ipv4ToInt('10.0.1.1'));
  const srv = b.id('_web._tcp.marathon.mesos.');
  b.add(KIND_SRV, srv, target, 31000);
  b.add(KIND_SRV, srv, target, 31001);
  b.add(KIND_SRV, srv, target, 31000);
  return new CompactRecordSet(b.finish({ frameworks: 0, agents: 0, tasks: 0, skippedTasks: 0 }));
}

test('interning a name built from pieces gives the same id as the whole name', (t) => {
  const b = new RecordBuilder('mesos.');
  const whole = b.id('a-b.marathon.mesos.');
  t.is(b.part('a').part('-b').part('.marathon.mesos.').intern(), whole);
  t.not(b.id('c.marathon.mesos.'), whole);
});

test('invalid names get -1 and are counted once per distinct name', (t) => {
  const b = new RecordBuilder('mesos.');
  t.is(b.id('has space.mesos.'), -1);
  t.is(b.part('has').part(' space.mesos.').intern(), -1);
  t.is(b.id('empty..mesos.'), -1);
  t.is(b.id(`${'x'.repeat(64)}.mesos.`), -1);
  t.is(b.id(`${'abcdefgh.'.repeat(28)}mesos.`), -1, 'over 255 bytes on the wire');
  t.is(b.id('no-trailing-dot.mesos'), -1);
  t.is(b.id('ünïcode.mesos.'), -1);
  t.is(b.rejected, 6);
  t.true(b.id(`${'x'.repeat(63)}.mesos.`) >= 0);
});

test('the map views list values per name in insertion order, de-duplicated', (t) => {
  const rs = built();
  t.deepEqual(rs.a.get('web.marathon.mesos.'), ['10.0.0.1', '250.1.2.3']);
  t.deepEqual(rs.aaaa.get('web.marathon.mesos.'), ['fd01::1']);
  t.deepEqual(rs.srv.get('_web._tcp.marathon.mesos.'), [
    { target: 'web-abcde-s1.marathon.slave.mesos.', port: 31000 },
    { target: 'web-abcde-s1.marathon.slave.mesos.', port: 31001 },
  ]);
  t.is(rs.a.get('nope.mesos.'), undefined);
  t.is(rs.srv.get('web.marathon.mesos.'), undefined);
  t.true(rs.a.has('web-abcde-s1.marathon.slave.mesos.'));
  t.false(rs.aaaa.has('web-abcde-s1.marathon.slave.mesos.'));
  t.is(rs.a.size, 2);
  t.deepEqual([...rs.a.keys()], ['web.marathon.mesos.', 'web-abcde-s1.marathon.slave.mesos.']);
  t.deepEqual(
    [...rs.a].map(([k, v]) => `${k}=${v.join(',')}`),
    ['web.marathon.mesos.=10.0.0.1,250.1.2.3', 'web-abcde-s1.marathon.slave.mesos.=10.0.1.1'],
  );
  const seen: string[] = [];
  rs.aaaa.forEach((v, k) => seen.push(`${k}=${v.join(',')}`));
  t.deepEqual(seen, ['web.marathon.mesos.=fd01::1']);
  t.is(rs.stats.records, 6);
});

test('IPv4 integers round-trip, high addresses included', (t) => {
  for (const ip of ['0.0.0.0', '10.1.2.3', '127.0.0.1', '255.255.255.255', '192.168.100.200']) {
    t.is(intToIpv4(ipv4ToInt(ip)), ip);
    t.is(intToIpv4(ipv4ToInt(ip) | 0), ip, 'stored as a signed 32-bit integer');
  }
});

test('toRecordData converts plain maps and keeps only valid names', (t) => {
  const plain = recordsFromText(`
    web.marathon.mesos. A 10.0.0.1
    web.marathon.mesos. A 10.0.0.1
    web.marathon.mesos. AAAA FD01:0:0:0:0:0:0:1
    _web._tcp.marathon.mesos. SRV 31000 web.marathon.mesos.
  `);
  const rs = new CompactRecordSet(toRecordData(plain));
  t.deepEqual(rs.a.get('web.marathon.mesos.'), ['10.0.0.1']);
  t.deepEqual(rs.aaaa.get('web.marathon.mesos.'), ['fd01::1']);
  t.deepEqual(rs.srv.get('_web._tcp.marathon.mesos.'), [
    { target: 'web.marathon.mesos.', port: 31000 },
  ]);
  t.is(toRecordData(rs), rs.data, 'a compact set is used as is');
});

/** A MessageChannel closed when the test ends. */
function channel(t: ExecutionContext): MessageChannel {
  const ports = new MessageChannel();
  t.teardown(() => {
    ports.port1.close();
    ports.port2.close();
  });
  return ports;
}

test('the data survives a structured clone with its buffers transferred', (t) => {
  const rs = generateRecords(parseState(readFixture()).state, options());
  const { port1, port2 } = channel(t);
  return new Promise<void>((resolve) => {
    port2.once('message', (data: { records: CompactRecordSet['data'] }) => {
      const copy: RecordSet = new CompactRecordSet(data.records);
      t.deepEqual([...copy.a], [...rs.a]);
      t.deepEqual([...copy.srv], [...rs.srv]);
      t.deepEqual(JSON.stringify(copy.enumeration), JSON.stringify(rs.enumeration));
      resolve();
    });
    const snapshot = {
      a: [...rs.a],
      srv: [...rs.srv],
      enumeration: JSON.stringify(rs.enumeration),
    };
    const clone = structuredClone(rs.data);
    port1.postMessage({ records: clone }, recordTransferList(clone));
    t.is(clone.names.byteLength, 0, 'transferred, not copied');
    t.deepEqual([...rs.a], snapshot.a);
  });
});

test('a shared copy is one copy for both threads: posted, it is shared, not copied or moved', (t) => {
  const rs = generateRecords(parseState(readFixture()).state, options());
  const shared = cloneRecordData(rs.data, 'shared');
  t.true(recordViews(shared).every((v) => v.buffer instanceof SharedArrayBuffer));
  t.deepEqual(recordTransferList(shared), [], 'nothing to transfer');
  const copy: RecordSet = new CompactRecordSet(shared);
  t.deepEqual([...copy.a], [...rs.a]);
  t.deepEqual([...copy.aaaa], [...rs.aaaa]);
  t.deepEqual([...copy.srv], [...rs.srv]);
  const { port1, port2 } = channel(t);
  return new Promise<void>((resolve) => {
    port2.once('message', (data: { records: CompactRecordSet['data'] }) => {
      // The same memory: a byte written on this side is seen through the posted copy.
      const before = data.records.names[0];
      shared.names[0] = 0x7a;
      t.is(data.records.names[0], 0x7a);
      shared.names[0] = before ?? 0;
      t.deepEqual([...new CompactRecordSet(data.records).a], [...rs.a]);
      resolve();
    });
    port1.postMessage({ records: shared }, recordTransferList(shared));
    t.true(shared.names.byteLength > 0, 'still readable here');
  });
});

test('the enumeration is built once and stays the same object while referenced', (t) => {
  const rs = generateRecords(parseState(readFixture()).state, options());
  const first = rs.enumeration;
  t.is(rs.enumeration, first);
  const task = first.find((f) => f.name === 'marathon')?.tasks[0];
  t.truthy(task);
  t.is(task?.records, task?.records, 'records are built once per task');
});
