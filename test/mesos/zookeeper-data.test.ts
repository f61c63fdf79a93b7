// Pure parts of ZooKeeper leader detection: URLs, member names, MasterInfo in its three forms.
import test from 'ava';
import {
  parseMasterInfo,
  parseMemberName,
  parseZkUrl,
  redactZkUrl,
} from '../../src/mesos/index.js';
import { masterUrl, unpackIp } from '../../src/mesos/master-info.js';

test('parseZkUrl: servers with default ports, the group path, digest credentials', (t) => {
  t.deepEqual(parseZkUrl('zk://10.0.0.1:2181,10.0.0.2,zk3.example:2182/mesos/'), {
    servers: '10.0.0.1:2181,10.0.0.2:2181,zk3.example:2182',
    path: '/mesos',
    digest: undefined,
  });
  t.deepEqual(parseZkUrl('zk://user:pw@z1/dcos/mesos'), {
    servers: 'z1:2181',
    path: '/dcos/mesos',
    digest: 'user:pw',
  });
  t.throws(() => parseZkUrl('zk://z1/'), { message: /is not zk:\/\/host:port\/path/ });
  t.throws(() => parseZkUrl('zk://[fd00::1]:2181/mesos'), { message: /IPv6/ });
  t.is(redactZkUrl('zk://user:pw@z1/mesos'), 'zk://user:******@z1/mesos');
});

test('parseMemberName knows the three member forms and skips other znodes', (t) => {
  t.deepEqual(parseMemberName('json.info_0000000012'), {
    name: 'json.info_0000000012',
    sequence: 12,
    format: 'json',
  });
  t.is(parseMemberName('info_0000000003')?.format, 'protobuf');
  t.is(parseMemberName('0000000007')?.format, 'pid');
  t.is(parseMemberName('log_replicas'), undefined);
  t.is(parseMemberName('json.info_abc'), undefined);
  t.is(parseMemberName('json.info_'), undefined);
});

test('unpackIp reads the packed ip as network-order bytes in a little-endian uint32', (t) => {
  // The examples of docs/mesos-api.md 5.
  t.is(unpackIp(184549386), '10.0.0.11');
  t.is(unpackIp(16842879), '127.0.1.1');
  t.is(unpackIp(0), undefined);
  t.is(unpackIp(-1), undefined);
});

const json = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));

test('json.info: address.ip/port first, then the packed ip, then the pid', (t) => {
  // The example of docs/mesos-api.md 5.
  const full = json({
    id: '6a4f',
    ip: 184549386,
    port: 5050,
    pid: 'master@10.0.0.11:5050',
    hostname: 'm1.cluster.internal',
    version: '1.11.0',
    address: { hostname: 'm1.cluster.internal', ip: '10.0.0.11', port: 5050 },
  });
  t.deepEqual(parseMasterInfo('json', full), {
    ip: '10.0.0.11',
    hostname: 'm1.cluster.internal',
    port: 5050,
  });
  t.deepEqual(parseMasterInfo('json', json({ ip: 184549386, port: 5051 })), {
    ip: '10.0.0.11',
    hostname: undefined,
    port: 5051,
  });
  t.deepEqual(parseMasterInfo('json', json({ pid: 'master@10.0.0.12:5052' })), {
    ip: '10.0.0.12',
    hostname: undefined,
    port: 5052,
  });
  t.deepEqual(parseMasterInfo('json', json({ address: { ip: 'fd00::1', port: 5050 } })), {
    ip: 'fd00::1',
    hostname: undefined,
    port: 5050,
  });
  t.is(parseMasterInfo('json', json({ version: '1.11.0' })), undefined);
  t.is(parseMasterInfo('json', new TextEncoder().encode('{not json')), undefined);
  t.is(parseMasterInfo('json', json([1, 2])), undefined);
});

/** Encodes protobuf fields (varint or length-delimited) by hand. */
function protobuf(
  fields: ReadonlyArray<readonly [number, number | Uint8Array | string]>,
): Uint8Array {
  const out: number[] = [];
  const varint = (n: number): void => {
    let v = n;
    while (v >= 128) {
      out.push((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  for (const [field, value] of fields) {
    if (typeof value === 'number') {
      varint(field * 8);
      varint(value);
    } else {
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
      varint(field * 8 + 2);
      varint(bytes.length);
      out.push(...bytes);
    }
  }
  return Uint8Array.from(out);
}

test('info_ (protobuf MasterInfo): address, packed ip, hostname, pid', (t) => {
  const address = protobuf([
    [1, 'm1.cluster.internal'],
    [2, '10.0.0.11'],
    [3, 5050],
  ]);
  const info = protobuf([
    [1, 'id-1'],
    [2, 184549386],
    [3, 5050],
    [4, 'master@10.0.0.11:5050'],
    [5, 'm1.cluster.internal'],
    [6, '1.11.0'],
    [7, address],
  ]);
  t.deepEqual(parseMasterInfo('protobuf', info), {
    ip: '10.0.0.11',
    hostname: 'm1.cluster.internal',
    port: 5050,
  });
  // Mesos 0.2x: no address, the proto default port.
  t.deepEqual(
    parseMasterInfo(
      'protobuf',
      protobuf([
        [1, 'id'],
        [2, 184549386],
      ]),
    ),
    {
      ip: '10.0.0.11',
      hostname: undefined,
      port: 5050,
    },
  );
  t.is(parseMasterInfo('protobuf', Uint8Array.from([0x0a, 0x10, 0x41])), undefined);
});

test('a bare member holds a pid string', (t) => {
  const data = new TextEncoder().encode('master@10.0.0.13:5050');
  t.deepEqual(parseMasterInfo('pid', data), { ip: '10.0.0.13', hostname: undefined, port: 5050 });
  t.deepEqual(parseMasterInfo('pid', new TextEncoder().encode('master@m3:5050')), {
    ip: undefined,
    hostname: 'm3',
    port: 5050,
  });
  t.is(parseMasterInfo('pid', new TextEncoder().encode('garbage')), undefined);
});

test('masterUrl: the IP over http, the hostname over https', (t) => {
  const address = { ip: '10.0.0.11', hostname: 'm1.example', port: 5050 };
  t.is(masterUrl(address, 'http'), 'http://10.0.0.11:5050');
  t.is(masterUrl(address, 'https'), 'https://m1.example:5050');
  t.is(
    masterUrl({ ip: 'fd00::1', hostname: undefined, port: 5050 }, 'https'),
    'https://[fd00::1]:5050',
  );
  t.is(masterUrl({ ip: undefined, hostname: 'm2', port: 5050 }, 'http'), 'http://m2:5050');
});
