import test from 'ava';
import { generateRecords, toZoneFile } from '../../src/records/index.js';
import type { RecordSet } from '../../src/records/index.js';
import { agent, framework, options, state, task } from '../../support/state-builder.js';

function recordSet(parts: Partial<RecordSet>): RecordSet {
  return {
    zone: 'mesos.',
    a: new Map(),
    aaaa: new Map(),
    srv: new Map(),
    enumeration: [],
    stats: { frameworks: 0, agents: 0, tasks: 0, skippedTasks: 0, skippedNames: 0, records: 0 },
    ...parts,
  };
}

test('toZoneFile renders one master-file line per record, sorted by name, type and value', (t) => {
  const rs = recordSet({
    a: new Map([
      ['web.marathon.mesos.', ['10.0.0.9', '10.0.0.10']],
      ['slave.mesos.', ['1.2.3.4']],
    ]),
    aaaa: new Map([['web.marathon.mesos.', ['fd00::1']]]),
    srv: new Map([
      [
        '_web._tcp.marathon.mesos.',
        [
          { target: 'web-b.marathon.slave.mesos.', port: 31000 },
          { target: 'web-a.marathon.slave.mesos.', port: 31001 },
          { target: 'web-a.marathon.slave.mesos.', port: 9000 },
        ],
      ],
    ]),
  });
  t.deepEqual(toZoneFile(rs, { ttl: 60, srvWeight: 1 }), [
    '_web._tcp.marathon.mesos. 60 IN SRV 0 1 9000 web-a.marathon.slave.mesos.',
    '_web._tcp.marathon.mesos. 60 IN SRV 0 1 31001 web-a.marathon.slave.mesos.',
    '_web._tcp.marathon.mesos. 60 IN SRV 0 1 31000 web-b.marathon.slave.mesos.',
    'slave.mesos. 60 IN A 1.2.3.4',
    'web.marathon.mesos. 60 IN A 10.0.0.10',
    'web.marathon.mesos. 60 IN A 10.0.0.9',
    'web.marathon.mesos. 60 IN AAAA fd00::1',
  ]);
});

test('toZoneFile uses the configured TTL and SRV weight', (t) => {
  const rs = recordSet({ srv: new Map([['_x._udp.mesos.', [{ target: 'x.mesos.', port: 53 }]]]) });
  t.deepEqual(toZoneFile(rs, { ttl: 5, srvWeight: 0 }), [
    '_x._udp.mesos. 5 IN SRV 0 0 53 x.mesos.',
  ]);
});

test('toZoneFile escapes master-file special characters in names (RFC 1035 5.1)', (t) => {
  const rs = recordSet({ a: new Map([['a(b);c$.mesos.', ['10.0.0.1']]]) });
  t.deepEqual(toZoneFile(rs, { ttl: 60, srvWeight: 1 }), [
    'a\\(b\\)\\;c\\$.mesos. 60 IN A 10.0.0.1',
  ]);
});

test('toZoneFile returns nothing for an empty record set', (t) => {
  t.deepEqual(toZoneFile(recordSet({}), { ttl: 60, srvWeight: 1 }), []);
});

test('toZoneFile lists every generated record exactly once', (t) => {
  const a0 = agent('agent-S0', '10.0.1.1');
  const rs = generateRecords(
    state({
      agents: [a0],
      frameworks: [framework('marathon', [task('web', a0.id, { ports: [{ begin: 1, end: 2 }] })])],
    }),
    options(),
  );
  const lines = toZoneFile(rs, { ttl: 60, srvWeight: 1 });
  t.is(lines.length, rs.stats.records);
  t.is(new Set(lines).size, lines.length);
});

test('toZoneFile gives the same lines for the compact set as for plain maps of it', (t) => {
  const rs = generateRecords(
    state({
      agents: [agent('a1-S1', '10.1.0.1'), agent('a2-S2', '10.1.0.2')],
      frameworks: [
        framework('marathon', [
          task('web', 'a1-S1', { id: 'web.1', ports: [{ begin: 31000, end: 31002 }] }),
          task('web', 'a2-S2', { id: 'web.2', ports: [{ begin: 31005, end: 31005 }] }),
          task('api', 'a2-S2', { id: 'api.1' }),
        ]),
      ],
    }),
    options(),
  );
  const plain = recordSet({
    a: new Map([...rs.a]),
    aaaa: new Map([...rs.aaaa]),
    srv: new Map([...rs.srv]),
  });
  const opts = { ttl: 60, srvWeight: 1 };
  t.true(toZoneFile(rs, opts).length > 10);
  t.deepEqual(toZoneFile(rs, opts), toZoneFile(plain, opts));
});
