import test from 'ava';
import { excludeSelf, parseResolvConf } from '../../src/dns/index.js';

test('parseResolvConf reads nameserver lines, IPv4 and IPv6, ignoring comments and zone ids', (t) => {
  const text =
    '# generated\nsearch example.com\nnameserver 10.0.0.2\nnameserver fe80::1%eth0 ; x\nnameserver bogus\noptions ndots:5\n';
  t.deepEqual(parseResolvConf(text), [
    { host: '10.0.0.2', port: 53 },
    { host: 'fe80::1', port: 53 },
  ]);
});

test('excludeSelf drops this server but keeps local stub resolvers on other loopback addresses', (t) => {
  const ups = ['127.0.0.1', '127.0.0.53', '127.0.0.11', '::1', '10.1.1.1', '10.0.0.2'].map(
    (host) => ({ host, port: 53 }),
  );
  t.deepEqual(
    excludeSelf(ups, { host: '0.0.0.0', port: 53 }, ['10.1.1.1']).map((u) => u.host),
    ['127.0.0.53', '127.0.0.11', '10.0.0.2'],
  );
  t.deepEqual(
    excludeSelf(ups, { host: '10.1.1.1', port: 53 }, ['10.1.1.1']).map((u) => u.host),
    ['127.0.0.1', '127.0.0.53', '127.0.0.11', '::1', '10.0.0.2'],
  );
  t.is(excludeSelf(ups, { host: '0.0.0.0', port: 8053 }, ['10.1.1.1']).length, 6);
});
