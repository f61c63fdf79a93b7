// forward.allowFrom: which clients may use forwarding.
import test from 'ava';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { Acl, parseCidr } from '../../src/dns/index.js';

const defaults = new Acl(DEFAULT_CONFIG.forward.allowFrom);

const CASES: readonly (readonly [string, boolean])[] = [
  ['127.0.0.1', true],
  ['127.255.0.9', true],
  ['10.1.2.3', true],
  ['172.16.0.1', true],
  ['172.31.255.255', true],
  ['172.32.0.1', false],
  ['192.168.7.7', true],
  ['169.254.1.1', true],
  ['8.8.8.8', false],
  ['192.0.2.1', false],
  ['::1', true],
  ['::2', false],
  ['fd12:3456::1', true],
  ['fc00::1', true],
  ['fe80::1%eth0', true],
  ['2001:db8::1', false],
  ['::ffff:10.0.0.1', true],
  ['::ffff:8.8.8.8', false],
  ['', false],
  ['not-an-address', false],
];

for (const [address, allowed] of CASES) {
  test(`the default allowFrom ${allowed ? 'allows' : 'refuses'} '${address}'`, (t) => {
    t.is(defaults.allows(address), allowed);
    t.is(defaults.allows(address), allowed, 'the remembered decision is the same');
  });
}

test('prefixes that do not end on a byte boundary match on their bits only', (t) => {
  const acl = new Acl(['192.0.2.64/26', '2001:db8:8000::/33']);
  t.true(acl.allows('192.0.2.64'));
  t.true(acl.allows('192.0.2.127'));
  t.false(acl.allows('192.0.2.63'));
  t.false(acl.allows('192.0.2.128'));
  t.true(acl.allows('2001:db8:ffff::1'));
  t.false(acl.allows('2001:db8:7fff::1'));
});

test('a bare address is a host prefix; /0 matches its whole family', (t) => {
  const acl = new Acl(['192.0.2.7', '::/0']);
  t.true(acl.allows('192.0.2.7'));
  t.false(acl.allows('192.0.2.8'));
  t.true(acl.allows('2001:db8::1'));
  t.false(acl.allows('198.51.100.1'));
});

test('an empty list allows nobody', (t) => {
  t.false(new Acl([]).allows('127.0.0.1'));
});

test('parseCidr rejects what is not an address or prefix', (t) => {
  for (const bad of ['10.0.0.0/33', '::/129', 'example.com', '10.0.0/8', '10.0.0.0/', '/8']) {
    t.is(parseCidr(bad), undefined, bad);
  }
  t.throws(() => new Acl(['10.0.0.0/40']), { instanceOf: RangeError });
});
