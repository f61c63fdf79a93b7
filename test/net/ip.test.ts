import { isIP } from 'node:net';
import test from 'ava';
import {
  formatIpv6,
  intToIpv4,
  ipFamily,
  ipv4Bytes,
  ipv4ToInt,
  ipv6Bytes,
  ipv6Groups,
  parsePrefix,
} from '../../src/net/ip.js';

test('IPv4: strict dotted quads only', (t) => {
  t.deepEqual([...(ipv4Bytes('10.0.255.1') ?? [])], [10, 0, 255, 1]);
  for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '10..0.1', '1.2.3.4.5', 'a.b.c.d', '']) {
    t.is(ipv4Bytes(bad), undefined, bad);
  }
  t.is(ipv4ToInt('250.1.2.3'), 0xfa010203);
  t.is(intToIpv4(0xfa010203), '250.1.2.3');
});

test('IPv6: `::`, an IPv4 tail, upper case, a zone; canonical text', (t) => {
  t.deepEqual(ipv6Groups('FD01::1'), [0xfd01, 0, 0, 0, 0, 0, 0, 1]);
  t.deepEqual(ipv6Groups('::ffff:10.1.2.3'), [0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203]);
  t.is(ipv6Bytes('fe80::1%eth0')?.toString('hex'), 'fe800000000000000000000000000001');
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '::1.2.3.256']) {
    t.is(ipv6Groups(bad), undefined, bad);
  }
  t.is(formatIpv6([0xfd01, 0, 0, 0, 0, 0, 0, 1]), 'fd01::1');
  t.is(formatIpv6([1, 0, 0, 2, 0, 0, 0, 3]), '1:0:0:2::3');
});

test('prefixes: a CIDR or a bare address; a problem in words otherwise', (t) => {
  t.like(parsePrefix('10.0.0.0/8'), { length: 8 });
  t.like(parsePrefix('fc00::/7'), { length: 7 });
  t.like(parsePrefix('192.0.2.1'), { length: 32 });
  t.like(parsePrefix('::1'), { length: 128 });
  t.deepEqual(parsePrefix('10.0.0.0/33'), {
    problem: "prefix length '33' must be a number from 0 to 32",
  });
  t.deepEqual(parsePrefix('example.com/8'), {
    problem: 'must be a CIDR such as 10.0.0.0/8 or fc00::/7, or an IP address',
  });
  t.like(parsePrefix('10.0.0.0/x'), { problem: "prefix length 'x' must be a number from 0 to 32" });
});

test('ipFamily says what net.isIP says', (t) => {
  const inputs = [
    ...[
      '10.0.0.1',
      '255.255.255.255',
      '0.0.0.0',
      '010.0.0.1',
      '10.0.0',
      '1.2.3.4.5',
      '1.2.3.4:53',
      'a:1',
    ],
    ...['::', '::1', 'fe80::1', 'fe80::1%eth0', '::ffff:10.0.0.1', '2001:db8::1/64', '[::1]'],
    ...['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', ':::', 'gg::1', '::1:53', '10.0.0.1%eth0'],
    ...['', 'localhost', 'agent-1.example.test', 'a:b', ' 10.0.0.1', '10.0.0.1 '],
  ];
  for (const input of inputs) {
    const family: number = ipFamily(input);
    t.is(family, isIP(input), JSON.stringify(input));
  }
});
