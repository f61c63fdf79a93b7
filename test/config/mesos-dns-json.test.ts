// A Mesos-DNS config.json is read as Mesos-DNS reads it (docs/mesos-dns-rules.md section 4).
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_CONFIG,
  checkConfig,
  configFormat,
  loadConfig,
  parseConfigWithWarnings,
} from '../../src/config/index.js';
import { fixturePath } from '../../support/paths.js';
import type { Config, ParsedConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const SAMPLE = fixturePath('mesos-dns-config.json');

function parse(json: unknown): ParsedConfig {
  return parseConfigWithWarnings(JSON.stringify(json, null, 2), 'config.json');
}

function configError(t: ExecutionContext, text: string): ConfigError {
  const error = t.throws(() => parseConfigWithWarnings(text, 'config.json'), {
    instanceOf: ConfigError,
  });
  if (!(error instanceof ConfigError)) throw new Error('expected a ConfigError');
  return error;
}

const SAMPLE_CONFIG: Config = {
  domain: 'mesos',
  mesos: {
    masters: [],
    zk: 'zk://127.0.0.1:2181/mesos',
    stateFile: '',
    // Mesos-DNS has no event stream: a converted file streams, with the mesodns defaults.
    mode: 'stream',
    refreshMs: 60_000,
    timeoutMs: 300_000,
    scheme: 'http',
    failover: { minRetained: 0.5, maxHoldMs: 600_000 },
    stream: { resyncMs: 600_000, batchMs: 50, missedHeartbeats: 3 },
    auth: { principal: '', secret: '', secretFile: '' },
    tls: { ca: '', cert: '', key: '', insecure: false },
  },
  records: {
    ttl: 60,
    ipSources: ['mesos', 'host'],
    enforceRFC952: false,
    srvWeight: 1,
    maxAddresses: 0,
    addressViews: false,
    health: 'ignore',
    healthFailOpen: true,
    reverse: { enabled: false, zones: [] },
  },
  dns: {
    listen: { host: '0.0.0.0', port: 8053 },
    recursionAvailable: true,
    batchedUdp: true,
    tcp: DEFAULT_CONFIG.dns.tcp,
    rrl: DEFAULT_CONFIG.dns.rrl,
    soa: {
      mname: 'ns1.mesos.',
      rname: 'root.ns1.mesos.',
      refresh: 60,
      retry: 600,
      expire: 86400,
      minimum: 60,
    },
  },
  forward: {
    enabled: true,
    resolvers: [{ host: '8.8.8.8', port: 53 }],
    zones: {},
    timeoutMs: 5000,
    // Keys Mesos-DNS does not have take the mesodns defaults.
    policy: 'sequential',
    maxConcurrent: 1000,
    maxConcurrentPerClient: 100,
    allowFrom: DEFAULT_CONFIG.forward.allowFrom,
    tcpFallback: true,
    maxFails: 2,
    healthCheckMs: 500,
    cache: DEFAULT_CONFIG.forward.cache,
  },
  transfer: DEFAULT_CONFIG.transfer,
  http: {
    enabled: true,
    listen: { host: '0.0.0.0', port: 8123 },
    readyMaxAgeMs: 0,
    maxConnections: 256,
  },
  log: { level: 'info', format: 'text', queries: false },
};

test('maps the Mesos-DNS sample config.json; zk wins over masters', (t) => {
  const config = loadConfig(SAMPLE);
  t.deepEqual(config, SAMPLE_CONFIG);
  t.true(Object.isFrozen(config.mesos));
});

test('warns that the sample drops masters for zk and ignores ns, with positions', (t) => {
  const { warnings } = parseConfigWithWarnings(readFileSync(SAMPLE, 'utf8'), SAMPLE);
  t.deepEqual(
    warnings.map((w) => `${w.line}:${w.column} ${w.path}`),
    ['3:3 Masters', '8:3 ns'],
  );
  t.regex(warnings[0]?.message ?? '', /Zk is also set/);
  t.is(warnings[1]?.message, "unknown key 'ns' ignored, as Mesos-DNS does");
});

for (const name of ['config.json.sample', 'mesos-dns.conf', 'config']) {
  test(`reads the Mesos-DNS sample named ${name} by its content`, (t) => {
    const text = readFileSync(SAMPLE, 'utf8');
    t.is(configFormat(text, name), 'mesos-dns-json');
    t.deepEqual(parseConfigWithWarnings(text, name).config, SAMPLE_CONFIG);
  });
}

test('a file without a telling extension is YAML unless it is JSON with Mesos-DNS keys', (t) => {
  t.is(configFormat('mesos:\n  zk: zk://h:2181/mesos\n', 'mesodns.conf'), 'yaml');
  // JSON is YAML: a JSON object with mesodns keys is a mesodns file.
  t.is(configFormat('{"mesos": {"zk": "zk://h:2181/mesos"}}', 'mesodns.conf'), 'yaml');
  // `domain` is a key of both formats: it decides nothing.
  t.is(configFormat('{"domain": "mesos"}', 'x.conf'), 'yaml');
  t.is(configFormat('{"Domain": "mesos", "ttl": 5}', 'x.conf'), 'mesos-dns-json');
  t.is(configFormat('[1, 2]', 'x.conf'), 'yaml');
  // The extension still wins when it says something.
  t.is(configFormat('{"zk": "zk://h:2181/mesos"}', 'x.yaml'), 'yaml');
  t.is(configFormat('zk: x', 'x.json'), 'mesos-dns-json');
  t.is(configFormat('zk = "x"', 'x.toml'), 'foreign');
  const config = parseConfigWithWarnings(
    'mesos:\n  zk: zk://h:2181/mesos\n',
    'mesodns.conf',
  ).config;
  t.is(config.mesos.zk, 'zk://h:2181/mesos');
});

test('check-config on the sample is ok and prints the warnings', (t) => {
  const result = checkConfig(SAMPLE);
  t.true(result.ok);
  t.deepEqual(result.messages, [
    `${SAMPLE}:3:3: Masters: warning: ignored: Zk is also set and mesodns uses one master source (the leader is found through Zk)`,
    `${SAMPLE}:8:3: ns: warning: unknown key 'ns' ignored, as Mesos-DNS does`,
  ]);
});

test('matches keys case-insensitively, as Go does', (t) => {
  const { config, warnings } = parse({
    ZK: 'zk://10.0.0.1:2181/mesos',
    refreshseconds: 5,
    STATETIMEOUTSECONDS: 7,
    ttl: 30,
    ipsources: ['host'],
    soaminttl: 10,
    soaRNAME: 'admin@example.org',
    HTTPPORT: 9000,
    httplistener: '127.0.0.1',
    port: 5353,
    LISTENER: '::1',
    enforcerfc952: true,
    srvrecorddefaultweight: 0,
    mesoscredentials: { principal: 'p', SECRET: 's' },
    mesosauthentication: 'basic',
  });
  t.deepEqual(warnings, []);
  t.like(config, {
    mesos: { zk: 'zk://10.0.0.1:2181/mesos', refreshMs: 5000, timeoutMs: 7000 },
    records: { ttl: 30, ipSources: ['host'], enforceRFC952: true, srvWeight: 0 },
    dns: { listen: { host: '::1', port: 5353 }, soa: { minimum: 10, rname: 'admin.example.org.' } },
    http: { listen: { host: '127.0.0.1', port: 9000 } },
  });
  t.deepEqual(config.mesos.auth, { principal: 'p', secret: 's', secretFile: '' });
});

test('takes the last of keys repeated in another case, with a warning', (t) => {
  const { config, warnings } = parseConfigWithWarnings(
    '{"masters": ["10.0.0.1:5050"], "ttl": 1, "TTL": 2}',
    'config.json',
  );
  t.is(config.records.ttl, 2);
  t.deepEqual(
    warnings.map((w) => [w.path, w.message]),
    [['TTL', "'TTL' is given more than once; the last value is used"]],
  );
});

test('applies Mesos-DNS defaults to absent keys', (t) => {
  const { config } = parse({ Masters: ['10.0.0.1:5050'] });
  t.deepEqual(config, {
    ...SAMPLE_CONFIG,
    mesos: { ...SAMPLE_CONFIG.mesos, zk: '', masters: ['http://10.0.0.1:5050'] },
    records: { ...SAMPLE_CONFIG.records, ipSources: ['netinfo', 'mesos', 'host'] },
    dns: { ...SAMPLE_CONFIG.dns, listen: { host: '0.0.0.0', port: 53 } },
  });
});

test('uses https for masters with MesosHTTPSOn and, like Mesos-DNS, skips verification without a CA', (t) => {
  const insecure = parse({ Masters: ['10.0.0.1:5050', 'm2:5050'], MesosHTTPSOn: true });
  t.deepEqual(insecure.config.mesos.masters, ['https://10.0.0.1:5050', 'https://m2:5050']);
  t.true(insecure.config.mesos.tls.insecure);
  t.regex(insecure.warnings[0]?.message ?? '', /not verified/);

  const verified = parse({ Masters: ['10.0.0.1:5050'], MesosHTTPSOn: true, CACertFile: 'ca.pem' });
  t.deepEqual(verified.config.mesos.tls, { ca: 'ca.pem', cert: '', key: '', insecure: false });
  t.deepEqual(verified.warnings, []);
});

test('MesosHTTPSOn with Zk fetches from the detected leader over https (mesos.scheme)', (t) => {
  const zk = parse({ Zk: 'zk://10.0.0.1:2181/mesos', MesosHTTPSOn: true, CACertFile: 'ca.pem' });
  t.is(zk.config.mesos.scheme, 'https');
  t.false(zk.config.mesos.tls.insecure);
  t.deepEqual(zk.warnings, []);
  const plain = parse({ Zk: 'zk://10.0.0.1:2181/mesos' });
  t.is(plain.config.mesos.scheme, 'http');
});

test('maps forwarding keys; Timeout 0 means 5 seconds', (t) => {
  const { config } = parse({
    Masters: ['10.0.0.1:5050'],
    Resolvers: ['10.0.0.53', '10.0.0.54:5353'],
    ZoneResolvers: { Consul: ['10.0.0.5:8600'] },
    Timeout: 0,
    RecurseOn: false,
  });
  t.deepEqual(config.forward, {
    enabled: true,
    resolvers: [
      { host: '10.0.0.53', port: 53 },
      { host: '10.0.0.54', port: 5353 },
    ],
    zones: { consul: [{ host: '10.0.0.5', port: 8600 }] },
    timeoutMs: 5000,
    policy: 'sequential',
    maxConcurrent: 1000,
    maxConcurrentPerClient: 100,
    allowFrom: DEFAULT_CONFIG.forward.allowFrom,
    tcpFallback: true,
    maxFails: 2,
    healthCheckMs: 500,
    cache: DEFAULT_CONFIG.forward.cache,
  });
  t.false(config.dns.recursionAvailable);
});

test('null resolvers mean the host resolvers; with ExternalOn false they are not checked', (t) => {
  t.deepEqual(parse({ Masters: ['10.0.0.1:5050'], Resolvers: null }).config.forward.resolvers, []);
  const off = parse({ Masters: ['10.0.0.1:5050'], ExternalOn: false, Resolvers: ['not-an-ip'] });
  t.false(off.config.forward.enabled);
  t.deepEqual(off.config.forward.resolvers, []);
});

test('ignores File and SOASerial silently and warns about settings mesodns does not have', (t) => {
  const { warnings } = parse({
    Masters: ['10.0.0.1:5050'],
    File: '/etc/mesos-dns/config.json',
    SOASerial: 7,
    ZkDetectionTimeout: 10,
    SetTruncateBit: false,
    EnumerationOn: false,
    DnsOn: false,
    MesosCredentials: { Principal: 'p', Secret: 's' },
  });
  t.deepEqual(warnings.map((w) => w.path).sort(), [
    'DnsOn',
    'EnumerationOn',
    'MesosCredentials',
    'SetTruncateBit',
    'ZkDetectionTimeout',
  ]);
});

interface JsonCase {
  readonly title: string;
  readonly json: string;
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

const INVALID: readonly JsonCase[] = [
  {
    title: 'needs Zk or Masters',
    json: '{"domain": "mesos"}',
    path: '',
    line: 0,
    column: 0,
    message: 'one of Zk or Masters must be set',
  },
  {
    title: 'rejects a wrong JSON type, as Go does',
    json: '{\n  "Masters": ["10.0.0.1:5050"],\n  "RefreshSeconds": "60"\n}',
    path: 'RefreshSeconds',
    line: 3,
    column: 21,
    message: 'must be an integer',
  },
  {
    title: 'rejects a refresh of 0 seconds',
    json: '{"Masters": ["10.0.0.1:5050"], "refreshSeconds": 0}',
    path: 'RefreshSeconds',
    line: 1,
    column: 50,
    message: 'must be at least 1',
  },
  {
    title: 'reports a bad master at its index',
    json: '{"Masters": ["10.0.0.1:5050", "m2"]}',
    path: 'Masters[1]',
    line: 1,
    column: 31,
    message: 'must be http(s)://host:port or host:port',
  },
  {
    title: 'reports a bad master port, https or not',
    json: '{"Masters": ["m1:99999"], "MesosHTTPSOn": true, "CACertFile": "ca.pem"}',
    path: 'Masters[0]',
    line: 1,
    column: 14,
    message: "port '99999' must be a number from 1 to 65535",
  },
  {
    title: 'reports a bad IP source',
    json: '{"Masters": ["10.0.0.1:5050"], "IPSources": ["rkt"]}',
    path: 'IPSources[0]',
    line: 1,
    column: 46,
    message: 'must be one of netinfo, mesos, docker, host',
  },
  {
    title: 'applies the ZoneResolvers rules',
    json: '{"Masters": ["10.0.0.1:5050"], "ZoneResolvers": {"a.mesos": ["10.0.0.5"]}}',
    path: 'ZoneResolvers.a.mesos',
    line: 1,
    column: 50,
    message: "is inside the Mesos domain 'mesos'",
  },
  {
    title: 'rejects IAM authentication',
    json: '{"Masters": ["10.0.0.1:5050"], "MesosAuthentication": "iam"}',
    path: 'MesosAuthentication',
    line: 1,
    column: 55,
    message: "'iam' (DC/OS service accounts) is not supported",
  },
  {
    title: 'requires credentials for basic authentication',
    json: '{"Masters": ["10.0.0.1:5050"], "MesosAuthentication": "basic"}',
    path: 'MesosCredentials',
    line: 0,
    column: 0,
    message: "Principal and Secret are required when MesosAuthentication is 'basic'",
  },
  {
    title: 'needs DNS or HTTP on',
    json: '{"Masters": ["10.0.0.1:5050"], "DnsOn": false, "HttpOn": false}',
    path: 'DnsOn',
    line: 1,
    column: 41,
    message: 'DnsOn or HttpOn must be true',
  },
  {
    title: 'reports invalid JSON at its position',
    json: '{\n  "Masters": ["10.0.0.1:5050"]\n  "TTL": 5\n}',
    path: '',
    line: 3,
    column: 3,
    message: 'invalid JSON',
  },
  {
    title: 'needs an object',
    json: '["10.0.0.1:5050"]',
    path: '',
    line: 1,
    column: 1,
    message: 'must be a JSON object',
  },
];

for (const c of INVALID) {
  test(`json: ${c.title}`, (t) => {
    const error = configError(t, c.json);
    t.is(error.code, 'ERR_CONFIG_INVALID');
    const shown = error.problems
      .map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)
      .join('\n');
    t.is(error.problems.length, 1, shown);
    t.like(error.problems[0], { path: c.path, line: c.line, column: c.column }, shown);
    t.true(error.problems[0]?.message.includes(c.message), shown);
  });
}
