import test from 'ava';
import {
  REDACTED,
  configToYaml,
  loadConfig,
  parseConfig,
  redactConfig,
} from '../../src/config/index.js';
import { fixturePath } from '../../support/paths.js';
import type { Config } from '../../src/config/index.js';

const SAMPLE = fixturePath('mesos-dns-config.json');

const RICH = `
domain: dc1.Example.org
mesos:
  masters: ["https://m1.example.org:5050", "[fd00::2]:5050", "10.0.0.3:5050"]
  mode: poll
  refresh: 1500ms
  timeout: 90s
  scheme: https
  failover: { minRetained: 0.25, maxHold: 90s }
  stream: { resync: 0, batch: 1s, missedHeartbeats: 20 }
  auth: { principal: dns, secret: "p@ss: word" }
  tls: { ca: /etc/ca.pem, cert: c.pem, key: k.pem, insecure: false }
records:
  ttl: 5
  ipSources: [docker, netinfo]
  enforceRFC952: true
  srvWeight: 0
  maxAddresses: 2
  addressViews: true
  health: exclude-unhealthy
  healthFailOpen: false
  reverse: { enabled: true, zones: [10.32.0.0/16, "fd01:b::/32"] }
dns:
  listen: "[::]:8053"
  recursionAvailable: false
  soa: { mname: ns.dc1.example.org, rname: hostmaster@example.org, refresh: 1, retry: 2, expire: 3, minimum: 4 }
forward:
  enabled: true
  resolvers: [10.0.0.53, "10.0.0.54:5353", "[2001:db8::1]:5353", "2001:db8::2"]
  zones:
    consul: ["10.0.0.5:8600", "[fd00::5]:8600"]
    corp.example.com: [10.1.0.53]
  timeout: 2h
  policy: round_robin
  maxConcurrent: 50
  allowFrom: [10.0.0.0/8, "::1", "fd00::/8", 192.0.2.7]
  tcpFallback: false
  maxFails: 0
  healthCheck: 2s
  cache:
    enabled: false
    maxEntries: 100
    maxBytes: 65536
    maxTtl: 60
    negativeMaxTtl: 30
    servfailTtl: 0
    serveStale: true
    staleTtl: 86400
transfer:
  allow: [10.0.0.0/8]
  notify: ["[fd00::53]:5353", 10.0.0.53]
  tsig:
    keys: [{ name: xfr-key, algorithm: hmac-sha512, secret: c2VjcmV0 }, { name: k2, secretFile: /run/k2 }]
  journal: 10
  maxConcurrent: 2
http:
  enabled: false
  listen: "localhost:9000"
log: { level: debug, format: json }
`;

const ROUND_TRIPS: ReadonlyArray<readonly [string, () => Config]> = [
  ['the Mesos-DNS sample config.json', () => loadConfig(SAMPLE)],
  ['a YAML file using every key', () => parseConfig(RICH, 'rich.yaml')],
  [
    'a state-file config with defaults',
    () => parseConfig('mesos: { stateFile: s.json }', 'a.yaml'),
  ],
];

for (const [name, make] of ROUND_TRIPS) {
  test(`configToYaml round-trips ${name} through parseConfig`, (t) => {
    const config = make();
    const yaml = configToYaml(config);
    t.deepEqual(parseConfig(yaml, 'converted.yaml'), config, yaml);
  });
}

test('configToYaml uses the documented key layout and human durations', (t) => {
  const yaml = configToYaml(loadConfig(SAMPLE));
  t.is(
    yaml,
    [
      'domain: mesos',
      'mesos:',
      '  masters: []',
      '  zk: zk://127.0.0.1:2181/mesos',
      '  stateFile: ""',
      '  mode: stream',
      '  refresh: 1m',
      '  timeout: 5m',
      '  scheme: http',
      '  failover: {minRetained: 0.5, maxHold: 10m}',
      '  stream: {resync: 10m, batch: 50ms, missedHeartbeats: 3}',
      '  auth: {principal: "", secret: "", secretFile: ""}',
      '  tls: {ca: "", cert: "", key: "", insecure: false}',
      'records:',
      '  ttl: 60',
      '  ipSources: [mesos, host]',
      '  enforceRFC952: false',
      '  srvWeight: 1',
      '  maxAddresses: 0',
      '  addressViews: false',
      '  health: ignore',
      '  healthFailOpen: true',
      '  reverse: {enabled: false, zones: []}',
      'dns:',
      '  listen: 0.0.0.0:8053',
      '  recursionAvailable: true',
      '  batchedUdp: true',
      '  tcp: {maxConnections: 1000, maxConnectionsPerClient: 32, idleTimeout: 10s, ioTimeout: 2s}',
      '  rrl: {enabled: false, responsesPerSecond: 50, slip: 2, ipv4Prefix: 24, ipv6Prefix: 56, exempt: [127.0.0.0/8, ::1/128]}',
      '  soa: {mname: ns1.mesos., rname: root.ns1.mesos., refresh: 60, retry: 600, expire: 86400, minimum: 60}',
      'forward:',
      '  enabled: true',
      '  resolvers: [8.8.8.8]',
      '  zones: {}',
      '  timeout: 5s',
      '  policy: sequential',
      '  maxConcurrent: 1000',
      '  maxConcurrentPerClient: 100',
      '  allowFrom: [127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, ::1/128, fc00::/7, fe80::/10]',
      '  tcpFallback: true',
      '  maxFails: 2',
      '  healthCheck: 500ms',
      '  cache:',
      '    enabled: true',
      '    maxEntries: 10000',
      '    maxBytes: 16777216',
      '    maxTtl: 3600',
      '    negativeMaxTtl: 1800',
      '    servfailTtl: 5',
      '    serveStale: false',
      '    staleTtl: 3600',
      'transfer:',
      '  allow: []',
      '  notify: []',
      '  tsig:',
      '    keys: []',
      '  journal: 1000',
      '  maxConcurrent: 4',
      'http:',
      '  enabled: true',
      '  listen: 0.0.0.0:8123',
      '  readyMaxAge: 0s',
      '  maxConnections: 256',
      'log:',
      '  level: info',
      '  format: text',
      '  queries: false',
      '',
    ].join('\n'),
  );
});

test('redactConfig hides the Basic auth secret and a ZooKeeper password', (t) => {
  const config = parseConfig(
    'mesos:\n  zk: zk://dns:zkpass@10.0.0.1:2181/mesos\n  auth: { principal: dns, secret: s3cret }\n',
    'a.yaml',
  );
  const redacted = redactConfig(config);
  t.is(redacted.mesos.auth.secret, REDACTED);
  t.is(redacted.mesos.auth.principal, 'dns');
  t.is(redacted.mesos.zk, `zk://dns:${REDACTED}@10.0.0.1:2181/mesos`);
  t.false(JSON.stringify(redacted).includes('s3cret'));
  t.false(JSON.stringify(redacted).includes('zkpass'));
  // The original is untouched, the copy is a plain object.
  t.is(config.mesos.auth.secret, 's3cret');
  t.false(Object.isFrozen(redacted));
  t.deepEqual({ ...redacted, mesos: config.mesos }, { ...config });
});

test('redactConfig hides TSIG secrets and keeps key names and files', (t) => {
  const config = parseConfig(
    [
      'mesos: { masters: ["m:5050"] }',
      'transfer:',
      '  tsig: { keys: [{ name: a, secret: c2VjcmV0c2VjcmV0 }, { name: b, secretFile: /run/b }] }',
    ].join('\n'),
    'a.yaml',
  );
  const keys = redactConfig(config).transfer.tsig.keys;
  t.deepEqual(
    keys.map((k) => [k.name, k.secret, k.secretFile]),
    [
      ['a.', REDACTED, ''],
      ['b.', '', '/run/b'],
    ],
  );
  t.false(JSON.stringify(redactConfig(config)).includes('c2VjcmV0c2VjcmV0'));
});

test('redactConfig leaves an unset secret empty', (t) => {
  const redacted = redactConfig(parseConfig('mesos: { masters: ["m:5050"] }', 'a.yaml'));
  t.is(redacted.mesos.auth.secret, '');
});
