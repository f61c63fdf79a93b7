import test from 'ava';
import type { ExecutionContext } from 'ava';
import { DEFAULT_CONFIG, parseConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import type { ConfigProblem, ErrorCode } from '../../src/errors.js';

const ZK = 'zk://10.0.0.1:2181/mesos';
/** Two lines that make a file valid (one master source); what follows starts on line 3. */
const HEAD = `mesos:\n  zk: ${ZK}\n`;

function lines(...text: string[]): string {
  return text.join('\n') + '\n';
}

/** The default config with ZooKeeper as source, i.e. what `HEAD` alone yields. */
function withDefaults(over: (c: Config) => Config = (c) => c): Config {
  return over({ ...DEFAULT_CONFIG, mesos: { ...DEFAULT_CONFIG.mesos, zk: ZK } });
}

function configError(t: ExecutionContext, fn: () => unknown): ConfigError {
  const error = t.throws(fn, { instanceOf: ConfigError });
  if (!(error instanceof ConfigError)) throw new Error('expected a ConfigError');
  return error;
}

function show(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n');
}

interface ExpectedProblem {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** A substring of the message. */
  readonly message: string;
}

/** A valid file: part of the config and its expected value. */
interface ValidCase {
  readonly title: string;
  readonly yaml: string;
  readonly pick: (c: Config) => unknown;
  readonly want: unknown;
}

/** An invalid file: the error code and the one problem reported. */
interface InvalidCase {
  readonly title: string;
  readonly yaml: string;
  readonly code: ErrorCode;
  readonly problem: ExpectedProblem;
}

type Case = ValidCase | InvalidCase;

const CASES: readonly Case[] = [
  // --- valid ---------------------------------------------------------------------------------
  {
    title: 'a bare master host:port becomes an http URL',
    yaml: lines('mesos:', '  masters: ["10.0.0.1:5050"]'),
    pick: (c) => c.mesos.masters,
    want: ['http://10.0.0.1:5050'],
  },
  {
    title: 'master URLs keep https, lose a trailing slash, and may be hostnames or IPv6',
    yaml: lines('mesos:', '  masters: ["https://M2.example:5050/", "[fd00::1]:5050", "m3:5050"]'),
    pick: (c) => c.mesos.masters,
    want: ['https://m2.example:5050', 'http://[fd00::1]:5050', 'http://m3:5050'],
  },
  {
    title: 'mesos.scheme https applies to bare masters, not to URLs that name their scheme',
    yaml: lines('mesos:', '  scheme: https', '  masters: ["10.0.0.1:5050", "http://m2:5050"]'),
    pick: (c) => [c.mesos.scheme, c.mesos.masters],
    want: ['https', ['https://10.0.0.1:5050', 'http://m2:5050']],
  },
  {
    title: 'mesos.failover takes a share and a duration',
    yaml: HEAD + lines('  failover: { minRetained: 0.8, maxHold: 2m }'),
    pick: (c) => c.mesos.failover,
    want: { minRetained: 0.8, maxHoldMs: 120_000 },
  },
  {
    title: 'minRetained 0 turns the sanity guard off',
    yaml: HEAD + lines('  failover:', '    minRetained: 0'),
    pick: (c) => c.mesos.failover,
    want: { minRetained: 0, maxHoldMs: 600_000 },
  },
  {
    title: 'the event stream is the default mode, with its defaults',
    yaml: HEAD,
    pick: (c) => [c.mesos.mode, c.mesos.stream],
    want: ['stream', { resyncMs: 600_000, batchMs: 50, missedHeartbeats: 3 }],
  },
  {
    title: 'mesos.mode poll',
    yaml: HEAD + lines('  mode: poll'),
    pick: (c) => c.mesos.mode,
    want: 'poll',
  },
  {
    title: 'the stream settings take durations and a count',
    yaml: HEAD + lines('  stream: { resync: 30m, batch: 1s, missedHeartbeats: 20 }'),
    pick: (c) => c.mesos.stream,
    want: { resyncMs: 1_800_000, batchMs: 1000, missedHeartbeats: 20 },
  },
  {
    title: 'stream.batch in milliseconds, missedHeartbeats at its minimum',
    yaml: HEAD + lines('  stream:', '    batch: 5ms', '    missedHeartbeats: 2'),
    pick: (c) => c.mesos.stream,
    want: { resyncMs: 600_000, batchMs: 5, missedHeartbeats: 2 },
  },
  {
    title: 'stream.resync 0 turns the resync off',
    yaml: HEAD + lines('  stream: { resync: 0 }'),
    pick: (c) => c.mesos.stream.resyncMs,
    want: 0,
  },
  {
    title: 'stream.resync 0s turns the resync off too',
    yaml: HEAD + lines('  stream: { resync: 0s }'),
    pick: (c) => c.mesos.stream.resyncMs,
    want: 0,
  },
  {
    title: 'an empty stream section means its defaults',
    yaml: HEAD + lines('  stream:'),
    pick: (c) => c.mesos.stream,
    want: { resyncMs: 600_000, batchMs: 50, missedHeartbeats: 3 },
  },
  {
    title: 'keys in seconds take durations: forward.cache TTLs',
    yaml:
      HEAD +
      lines(
        'forward:',
        '  cache: { maxTtl: 1h, negativeMaxTtl: 30m, servfailTtl: 5000ms, staleTtl: 168h }',
      ),
    pick: (c) => {
      const { maxTtl, negativeMaxTtl, servfailTtl, staleTtl } = c.forward.cache;
      return { maxTtl, negativeMaxTtl, servfailTtl, staleTtl };
    },
    want: { maxTtl: 3600, negativeMaxTtl: 1800, servfailTtl: 5, staleTtl: 604_800 },
  },
  {
    title: 'keys in seconds still take bare seconds',
    yaml: HEAD + lines('forward:', '  cache: { maxTtl: 90, servfailTtl: 0 }'),
    pick: (c) => [c.forward.cache.maxTtl, c.forward.cache.servfailTtl],
    want: [90, 0],
  },
  {
    title: 'records.ttl and the SOA timers take durations',
    yaml:
      HEAD +
      lines(
        'records: { ttl: 1m }',
        'dns:',
        '  soa: { refresh: 1m, retry: 10m, expire: 24h, minimum: 30s }',
      ),
    pick: (c) => {
      const { refresh, retry, expire, minimum } = c.dns.soa;
      return { ttl: c.records.ttl, refresh, retry, expire, minimum };
    },
    want: { ttl: 60, refresh: 60, retry: 600, expire: 86_400, minimum: 30 },
  },
  {
    title: 'a TTL of 0s is 0',
    yaml: HEAD + lines('records: { ttl: 0s }'),
    pick: (c) => c.records.ttl,
    want: 0,
  },
  {
    title: 'a state file is a master source',
    yaml: lines('mesos:', '  stateFile: state.json'),
    pick: (c) => c.mesos.stateFile,
    want: 'state.json',
  },
  {
    title: 'durations are read in their unit',
    yaml: HEAD + lines('  refresh: 500ms', '  timeout: 1h', 'forward:', '  timeout: 2m'),
    pick: (c) => [c.mesos.refreshMs, c.mesos.timeoutMs, c.forward.timeoutMs],
    want: [500, 3_600_000, 120_000],
  },
  {
    title: 'the domain is lower-cased without trailing dot, and SOA names follow it',
    yaml: HEAD + lines('domain: Example.COM.'),
    pick: (c) => [c.domain, c.dns.soa.mname, c.dns.soa.rname],
    want: ['example.com', 'ns1.example.com.', 'root.ns1.example.com.'],
  },
  {
    title: 'SOA names become lower-case FQDNs and @ in rname becomes a dot',
    yaml: HEAD + lines('dns:', '  soa: { mname: NS1.Mesos, rname: "Admin@Example.com." }'),
    pick: (c) => [c.dns.soa.mname, c.dns.soa.rname],
    want: ['ns1.mesos.', 'admin.example.com.'],
  },
  {
    title: 'upstreams take port 53 when none is given, IPv6 with or without brackets',
    yaml:
      HEAD +
      lines(
        'forward:',
        '  resolvers: [8.8.8.8, "1.1.1.1:5353", "[2001:db8::1]:54", "2001:db8::2"]',
      ),
    pick: (c) => c.forward.resolvers,
    want: [
      { host: '8.8.8.8', port: 53 },
      { host: '1.1.1.1', port: 5353 },
      { host: '2001:db8::1', port: 54 },
      { host: '2001:db8::2', port: 53 },
    ],
  },
  {
    title: 'zone names are lower-cased without trailing dot',
    yaml:
      HEAD +
      lines(
        'forward:',
        '  zones:',
        '    Consul.: ["10.0.0.5:8600"]',
        '    example.org: [10.0.0.6]',
      ),
    pick: (c) => c.forward.zones,
    want: {
      consul: [{ host: '10.0.0.5', port: 8600 }],
      'example.org': [{ host: '10.0.0.6', port: 53 }],
    },
  },
  {
    title: 'listen addresses accept IPv6, hostnames and port 0',
    yaml: HEAD + lines('dns:', '  listen: "[::]:8053"', 'http:', '  listen: localhost:0'),
    pick: (c) => [c.dns.listen, c.http.listen],
    want: [
      { host: '::', port: 8053 },
      { host: 'localhost', port: 0 },
    ],
  },
  {
    title: 'records keys are read',
    yaml:
      HEAD +
      lines(
        'records:',
        '  ttl: 0',
        '  ipSources: [docker, host]',
        '  enforceRFC952: true',
        '  srvWeight: 0',
        '  maxAddresses: 3',
        '  addressViews: true',
        '  health: exclude-unhealthy',
        '  healthFailOpen: false',
        '  reverse: { enabled: true, zones: [10.32.0.0/16, "fd01:b::/32", 9.0.0.0/8] }',
      ),
    pick: (c) => c.records,
    want: {
      ttl: 0,
      ipSources: ['docker', 'host'],
      enforceRFC952: true,
      srvWeight: 0,
      maxAddresses: 3,
      addressViews: true,
      health: 'exclude-unhealthy',
      healthFailOpen: false,
      reverse: { enabled: true, zones: ['10.32.0.0/16', 'fd01:b::/32', '9.0.0.0/8'] },
    },
  },
  {
    title: 'reverse lookups are off by default, with no zones',
    yaml: HEAD,
    pick: (c) => c.records.reverse,
    want: { enabled: false, zones: [] },
  },
  {
    title: 'an empty section means its defaults',
    yaml: HEAD + lines('forward:', '#  enabled: false', 'log:'),
    pick: (c) => [c.forward, c.log],
    want: [DEFAULT_CONFIG.forward, DEFAULT_CONFIG.log],
  },
  {
    title: 'log level, format and query logging are read',
    yaml: HEAD + lines('log: { level: debug, format: json, queries: true }'),
    pick: (c) => c.log,
    want: { level: 'debug', format: 'json', queries: true },
  },
  {
    title: 'http.readyMaxAge is a duration',
    yaml: HEAD + lines('http: { readyMaxAge: 90s }'),
    pick: (c) => c.http.readyMaxAgeMs,
    want: 90_000,
  },
  {
    title: 'http.readyMaxAge is off (0) by default',
    yaml: HEAD,
    pick: (c) => c.http.readyMaxAgeMs,
    want: 0,
  },
  {
    title: 'http.readyMaxAge 0 turns the age check off',
    yaml: HEAD + lines('http: { readyMaxAge: 0 }'),
    pick: (c) => c.http.readyMaxAgeMs,
    want: 0,
  },
  {
    title: 'TLS client certificate with its key, and a secret file',
    yaml:
      HEAD +
      lines(
        '  tls: { ca: ca.pem, cert: c.pem, key: k.pem, insecure: true }',
        '  auth: { principal: dns, secretFile: /run/secret }',
      ),
    pick: (c) => [c.mesos.tls, c.mesos.auth],
    want: [
      { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem', insecure: true },
      { principal: 'dns', secret: '', secretFile: '/run/secret' },
    ],
  },
  {
    title: 'transfer: allow, notify with default port, a key with its algorithm and secret',
    yaml:
      HEAD +
      lines(
        'transfer:',
        '  allow: [10.0.0.0/8, "::1"]',
        '  notify: [10.0.0.53, "[::1]:5300"]',
        '  tsig:',
        '    keys:',
        '      - { name: Xfr-Key., algorithm: hmac-sha512, secret: "c2VjcmV0" }',
        '      - { name: other, secretFile: /run/tsig }',
        '  journal: 50',
      ),
    pick: (c) => c.transfer,
    want: {
      allow: ['10.0.0.0/8', '::1'],
      notify: [
        { host: '10.0.0.53', port: 53 },
        { host: '::1', port: 5300 },
      ],
      tsig: {
        keys: [
          { name: 'xfr-key.', algorithm: 'hmac-sha512', secret: 'c2VjcmV0', secretFile: '' },
          { name: 'other.', algorithm: 'hmac-sha256', secret: '', secretFile: '/run/tsig' },
        ],
      },
      journal: 50,
      maxConcurrent: 4,
    },
  },
  {
    title: 'JSON-style flow YAML is YAML too',
    yaml: lines('{ "mesos": { "masters": ["10.0.0.1:5050"] } }'),
    pick: (c) => c.mesos.masters,
    want: ['http://10.0.0.1:5050'],
  },
  {
    title: 'anchors and aliases are resolved',
    yaml: HEAD + lines('forward:', '  resolvers: &dns [10.0.0.53]', '  zones:', '    consul: *dns'),
    pick: (c) => c.forward.zones,
    want: { consul: [{ host: '10.0.0.53', port: 53 }] },
  },
  {
    title: 'forward policy, limits, health and TCP fallback',
    yaml:
      HEAD +
      lines(
        'forward:',
        '  policy: round_robin',
        '  maxConcurrent: 20',
        '  tcpFallback: false',
        '  maxFails: 0',
        '  healthCheck: 2s',
      ),
    pick: (c) => [
      c.forward.policy,
      c.forward.maxConcurrent,
      c.forward.tcpFallback,
      c.forward.maxFails,
      c.forward.healthCheckMs,
    ],
    want: ['round_robin', 20, false, 0, 2000],
  },
  {
    title: 'forward.allowFrom takes CIDRs and bare addresses, IPv4 and IPv6; [] allows nobody',
    yaml: HEAD + lines('forward:', '  allowFrom: [10.0.0.0/8, "::1", "FD00::/8", 0.0.0.0/0]'),
    pick: (c) => c.forward.allowFrom,
    want: ['10.0.0.0/8', '::1', 'FD00::/8', '0.0.0.0/0'],
  },
  {
    title: 'an empty forward.allowFrom is kept empty',
    yaml: HEAD + lines('forward:', '  allowFrom: []'),
    pick: (c) => c.forward.allowFrom,
    want: [],
  },
  {
    title: 'forward.cache keys override their defaults one by one',
    yaml: HEAD + lines('forward:', '  cache:', '    serveStale: true', '    servfailTtl: 0'),
    pick: (c) => c.forward.cache,
    want: { ...DEFAULT_CONFIG.forward.cache, serveStale: true, servfailTtl: 0 },
  },
  // --- invalid -------------------------------------------------------------------------------
  {
    title: 'an unknown key gets a did-you-mean hint at the key',
    yaml: HEAD + lines('  refesh: 30s'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.refesh',
      line: 3,
      column: 3,
      message: "unknown key 'refesh' (did you mean 'refresh'?)",
    },
  },
  {
    title: 'a key at the wrong level names its place',
    yaml: HEAD + lines('ttl: 30'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'ttl', line: 3, column: 1, message: "did you mean 'records.ttl'?" },
  },
  {
    title: 'an unknown key with no close match lists the allowed keys',
    yaml: HEAD + lines('dns:', '  soa: { minttl: 60 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'dns.soa.minttl',
      line: 4,
      column: 10,
      message: 'allowed: mname, rname, refresh',
    },
  },
  {
    title: 'an empty file has no master source',
    yaml: '',
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos',
      line: 0,
      column: 0,
      message: 'one of mesos.masters, mesos.zk or mesos.stateFile must be set',
    },
  },
  {
    title: 'a mesos section without a source points at mesos',
    yaml: lines('domain: mesos', 'mesos:', '  refresh: 5s'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos', line: 2, column: 1, message: 'must be set' },
  },
  {
    title: 'two master sources are one too many',
    yaml: HEAD + lines('  masters: ["10.0.0.1:5050"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos', line: 1, column: 1, message: 'found mesos.masters and mesos.zk' },
  },
  {
    title: 'a bare number is not a duration',
    yaml: HEAD + lines('  refresh: 30'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.refresh', line: 3, column: 12, message: "with a unit such as '30s'" },
  },
  {
    title: 'a zero duration is rejected',
    yaml: HEAD + lines('  timeout: 0s'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.timeout', line: 3, column: 12, message: 'must be greater than 0' },
  },
  {
    title: 'an unknown duration unit is rejected',
    yaml: HEAD + lines('forward:', '  timeout: 2d'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.timeout',
      line: 4,
      column: 12,
      message: 'must be a duration such as 500ms',
    },
  },
  {
    title: 'a duration beyond a day is rejected',
    yaml: HEAD + lines('  refresh: 25h'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.refresh', line: 3, column: 12, message: 'must be at most 24h' },
  },
  {
    title: 'an empty value points at its key',
    yaml: HEAD + lines('  refresh:'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.refresh', line: 3, column: 3, message: 'must be a duration' },
  },
  {
    title: 'a negative TTL is rejected',
    yaml: HEAD + lines('records:', '  ttl: -1'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'records.ttl', line: 4, column: 8, message: 'must be at least 0' },
  },
  {
    title: 'a TTL must be whole seconds',
    yaml: HEAD + lines('records:', '  ttl: 1.5'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.ttl',
      line: 4,
      column: 8,
      message: 'must be a number of seconds or a duration such as 30s, 5m or 1h',
    },
  },
  {
    title: 'a TTL duration must be whole seconds',
    yaml: HEAD + lines('records:', '  ttl: 1500ms'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.ttl',
      line: 4,
      column: 8,
      message: "must be whole seconds ('1500ms' is not)",
    },
  },
  {
    title: 'a TTL without a known unit is rejected',
    yaml: HEAD + lines('forward:', '  cache: { maxTtl: 1d }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.cache.maxTtl',
      line: 4,
      column: 20,
      message: 'must be a number of seconds or a duration such as 30s, 5m or 1h',
    },
  },
  {
    title: 'a cache TTL duration is bounded as its number of seconds is',
    yaml: HEAD + lines('forward:', '  cache: { maxTtl: 169h }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.cache.maxTtl',
      line: 4,
      column: 20,
      message: 'must be at most 168h (604800 seconds)',
    },
  },
  {
    title: 'servfailTtl is at most 5 minutes, as a duration too',
    yaml: HEAD + lines('forward:', '  cache: { servfailTtl: 6m }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.cache.servfailTtl',
      line: 4,
      column: 25,
      message: 'must be at most 5m (300 seconds)',
    },
  },
  {
    title: 'a cache TTL in seconds keeps its bound',
    yaml: HEAD + lines('forward:', '  cache: { staleTtl: 604801 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.cache.staleTtl',
      line: 4,
      column: 22,
      message: 'must be at most 604800',
    },
  },
  {
    title: 'an SRV weight must fit 16 bits',
    yaml: HEAD + lines('records:', '  srvWeight: 70000'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'records.srvWeight', line: 4, column: 14, message: 'must be at most 65535' },
  },
  {
    title: 'records.maxAddresses cannot be negative',
    yaml: HEAD + lines('records:', '  maxAddresses: -1'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'records.maxAddresses', line: 4, column: 17, message: 'must be at least 0' },
  },
  {
    title: 'a reverse zone off an octet boundary is rejected with the enclosing choices',
    yaml: HEAD + lines('records:', '  reverse: { enabled: true, zones: [10.32.0.0/20] }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.reverse.zones[0]',
      line: 4,
      column: 37,
      message: 'prefix length 20 is not on an octet boundary: a reverse zone covers a /16 or a /24',
    },
  },
  {
    title: 'an IPv6 reverse zone off a nibble boundary is rejected',
    yaml: HEAD + lines('records:', '  reverse:', '    zones: ["fd01:b::/30"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.reverse.zones[0]',
      line: 5,
      column: 13,
      message: 'prefix length 30 is not on a nibble boundary: a reverse zone covers a /28 or a /32',
    },
  },
  {
    title: 'a reverse zone with host bits is rejected',
    yaml: HEAD + lines('records:', '  reverse:', '    zones: [10.32.1.0/16]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.reverse.zones[0]',
      line: 5,
      column: 13,
      message: 'has bits set past the prefix length 16',
    },
  },
  {
    title: 'a reverse zone inside another is rejected',
    yaml: HEAD + lines('records:', '  reverse:', '    zones: [10.0.0.0/8, 10.32.0.0/16]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.reverse.zones[1]',
      line: 5,
      column: 25,
      message: 'lies inside 10.0.0.0/8: list the enclosing zone only',
    },
  },
  {
    title: 'two spellings of one reverse zone are duplicates',
    yaml: HEAD + lines('records:', '  reverse:', '    zones: ["fd01:b::/32", "FD01:000B::/32"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.reverse.zones[1]',
      line: 5,
      column: 28,
      message: 'duplicate of records.reverse.zones[0]',
    },
  },
  {
    title: 'a reverse zone must be a CIDR',
    yaml: HEAD + lines('records:', '  reverse:', '    zones: [mesos]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.reverse.zones[0]',
      line: 5,
      column: 13,
      message: 'must be a CIDR such as 10.0.0.0/8 or fc00::/7, or an IP address',
    },
  },
  {
    title: 'an empty IP source list is rejected',
    yaml: HEAD + lines('records:', '  ipSources: []'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'records.ipSources', line: 4, column: 14, message: 'must not be empty' },
  },
  {
    title: 'a repeated IP source is rejected at the repetition',
    yaml: HEAD + lines('records:', '  ipSources: [host, mesos, host]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.ipSources[2]',
      line: 4,
      column: 28,
      message: 'duplicate of records.ipSources[0]',
    },
  },
  {
    title: 'an unknown IP source is rejected',
    yaml: HEAD + lines('records:', '  ipSources: [rkt]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.ipSources[0]',
      line: 4,
      column: 15,
      message: 'must be one of netinfo, mesos, docker, host',
    },
  },
  {
    title: 'an unknown health mode is rejected, with a hint',
    yaml: HEAD + lines('records:', '  health: exclude_unhealthy'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.health',
      line: 4,
      column: 11,
      message: "must be one of ignore, exclude-unhealthy (did you mean 'exclude-unhealthy'?)",
    },
  },
  {
    title: 'records.healthFailOpen is a boolean',
    yaml: HEAD + lines('records:', '  healthFailOpen: "no"'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.healthFailOpen',
      line: 4,
      column: 19,
      message: 'must be true or false',
    },
  },
  {
    title: 'a log level near a valid one gets a hint',
    yaml: HEAD + lines('log:', '  level: warning'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'log.level', line: 4, column: 10, message: "(did you mean 'warn'?)" },
  },
  {
    title: 'log.queries is a boolean',
    yaml: HEAD + lines('log:', '  queries: 1'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'log.queries', line: 4, column: 12, message: 'must be true or false' },
  },
  {
    title: 'http.readyMaxAge needs a unit',
    yaml: HEAD + lines('http:', '  readyMaxAge: 300'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'http.readyMaxAge',
      line: 4,
      column: 16,
      message: "with a unit such as '300s'",
    },
  },
  {
    title: 'an unknown log format is rejected',
    yaml: HEAD + lines('log:', '  format: xml'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'log.format', line: 4, column: 11, message: 'must be one of text, json' },
  },
  {
    title: 'yes is not a boolean in YAML 1.2',
    yaml: HEAD + lines('http:', '  enabled: yes'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'http.enabled',
      line: 4,
      column: 12,
      message: "must be true or false ('yes' is a string",
    },
  },
  {
    title: 'a number is not a boolean',
    yaml: HEAD + lines('records:', '  enforceRFC952: 1'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.enforceRFC952',
      line: 4,
      column: 18,
      message: 'must be true or false',
    },
  },
  {
    title: 'addressViews is a boolean',
    yaml: HEAD + lines('records:', '  addressViews: "on"'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'records.addressViews',
      line: 4,
      column: 17,
      message: 'must be true or false',
    },
  },
  {
    title: 'a section must be a mapping',
    yaml: lines('mesos: 5'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos', line: 1, column: 8, message: 'must be a mapping' },
  },
  {
    title: 'masters must be a list',
    yaml: lines('mesos:', '  masters: "10.0.0.1:5050"'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.masters', line: 2, column: 12, message: 'must be a list' },
  },
  {
    title: 'a listen port beyond 65535 is rejected',
    yaml: HEAD + lines('dns:', '  listen: "0.0.0.0:70000"'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'dns.listen',
      line: 4,
      column: 11,
      message: "port '70000' must be a number from 0 to 65535",
    },
  },
  {
    title: 'a listen address needs a port',
    yaml: HEAD + lines('dns:', '  listen: 0.0.0.0'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'dns.listen', line: 4, column: 11, message: 'must be an address and port' },
  },
  {
    title: 'a listen address needs a host',
    yaml: HEAD + lines('http:', '  listen: ":8123"'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'http.listen', line: 4, column: 11, message: 'must be an address and port' },
  },
  {
    title: 'an upstream must be an IP address',
    yaml: HEAD + lines('forward:', '  resolvers: [dns.google]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.resolvers[0]',
      line: 4,
      column: 15,
      message: 'must be an IP address',
    },
  },
  {
    title: 'an upstream port must be 1-65535',
    yaml: HEAD + lines('forward:', '  resolvers: ["8.8.8.8:0"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'forward.resolvers[0]', line: 4, column: 15, message: 'from 1 to 65535' },
  },
  {
    title: 'the same upstream written twice is a duplicate',
    yaml: HEAD + lines('forward:', '  resolvers: [8.8.8.8, "8.8.8.8:53"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.resolvers[1]',
      line: 4,
      column: 24,
      message: 'duplicate of forward.resolvers[0]',
    },
  },
  {
    title: 'a zone may not be the domain',
    yaml: HEAD + lines('forward:', '  zones: { mesos: [10.0.0.5] }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.zones.mesos',
      line: 4,
      column: 12,
      message: "is the Mesos domain 'mesos'",
    },
  },
  {
    title: 'a zone may not be inside the domain',
    yaml: HEAD + lines('forward:', '  zones: { a.mesos: [10.0.0.5] }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.zones.a.mesos',
      line: 4,
      column: 12,
      message: "is inside the Mesos domain 'mesos'",
    },
  },
  {
    title: 'a zone may not contain the domain',
    yaml: HEAD + lines('domain: dc1.example', 'forward:', '  zones: { example: [10.0.0.5] }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.zones.example',
      line: 5,
      column: 12,
      message: "contains the Mesos domain 'dc1.example'",
    },
  },
  {
    title: 'a zone may not be inside another zone',
    yaml:
      HEAD + lines('forward:', '  zones:', '    consul: [10.0.0.5]', '    dc1.consul: [10.0.0.6]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.zones.dc1.consul',
      line: 6,
      column: 5,
      message: "is inside zone 'consul'",
    },
  },
  {
    title: 'a zone needs at least one upstream',
    yaml: HEAD + lines('forward:', '  zones:', '    consul: []'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'forward.zones.consul', line: 5, column: 13, message: 'must not be empty' },
  },
  {
    title: 'a zone name must be a domain name',
    yaml: HEAD + lines('forward:', '  zones:', '    bad_zone: [10.0.0.5]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.zones.bad_zone',
      line: 5,
      column: 5,
      message: 'must be a domain name',
    },
  },
  {
    title: 'the same zone written twice is a duplicate',
    yaml: HEAD + lines('forward:', '  zones:', '    consul: [10.0.0.5]', '    Consul.: [10.0.0.6]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.zones.Consul.',
      line: 6,
      column: 5,
      message: 'duplicate of forward.zones.consul',
    },
  },
  {
    title: 'an unknown forward.policy gets a did-you-mean hint',
    yaml: HEAD + lines('forward:', '  policy: roundrobin'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.policy',
      line: 4,
      column: 11,
      message: "must be one of sequential, random, round_robin (did you mean 'round_robin'?)",
    },
  },
  {
    title: 'forward.maxConcurrent must be at least 1',
    yaml: HEAD + lines('forward:', '  maxConcurrent: 0'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'forward.maxConcurrent', line: 4, column: 18, message: 'at least 1' },
  },
  {
    title: 'a forward.allowFrom entry must be an address or CIDR',
    yaml: HEAD + lines('forward:', '  allowFrom: [10.0.0.0/8, example.com]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.allowFrom[1]',
      line: 4,
      column: 27,
      message: 'must be a CIDR such as 10.0.0.0/8',
    },
  },
  {
    title: 'a forward.allowFrom prefix length fits its family',
    yaml: HEAD + lines('forward:', '  allowFrom: [10.0.0.0/33]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.allowFrom[0]',
      line: 4,
      column: 15,
      message: "prefix length '33' must be a number from 0 to 32",
    },
  },
  {
    title: 'a forward.allowFrom entry is not repeated',
    yaml: HEAD + lines('forward:', '  allowFrom: [10.0.0.0/8, 10.0.0.0/8]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.allowFrom[1]',
      line: 4,
      column: 27,
      message: 'duplicate of forward.allowFrom[0]',
    },
  },
  {
    title: 'forward.healthCheck is a duration',
    yaml: HEAD + lines('forward:', '  healthCheck: 500'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'forward.healthCheck', line: 4, column: 16, message: "such as '500s'" },
  },
  {
    title: 'an unknown forward.cache key gets a hint',
    yaml: HEAD + lines('forward:', '  cache:', '    maxEntrys: 10'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'forward.cache.maxEntrys',
      line: 5,
      column: 5,
      message: "did you mean 'maxEntries'?",
    },
  },
  {
    title: 'forward.cache.servfailTtl is capped at 5 minutes',
    yaml: HEAD + lines('forward:', '  cache: { servfailTtl: 600 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'forward.cache.servfailTtl', line: 4, column: 25, message: 'at most 300' },
  },
  {
    title: 'the domain must be a domain name',
    yaml: HEAD + lines('domain: bad_domain'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'domain', line: 3, column: 9, message: 'must be a domain name' },
  },
  {
    title: 'a domain label longer than 63 characters is rejected',
    yaml: HEAD + lines(`domain: ${'a'.repeat(64)}.mesos`),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'domain', line: 3, column: 9, message: 'longer than 63 characters' },
  },
  {
    title: 'an SOA name must be a name',
    yaml: HEAD + lines('dns:', '  soa:', '    mname: "ns 1"'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'dns.soa.mname', line: 5, column: 12, message: 'must be a domain name' },
  },
  {
    title: 'SOA timers are unsigned 32-bit',
    yaml: HEAD + lines('dns:', '  soa: { refresh: -1 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'dns.soa.refresh', line: 4, column: 19, message: 'must be at least 0' },
  },
  {
    title: 'a client certificate needs its key',
    yaml: HEAD + lines('  tls: { cert: c.pem }'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.tls.cert', line: 3, column: 10, message: 'needs mesos.tls.key too' },
  },
  {
    title: 'a key needs its client certificate',
    yaml: HEAD + lines('  tls:', '    key: k.pem'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.tls.key', line: 4, column: 5, message: 'needs mesos.tls.cert too' },
  },
  {
    title: 'secret and secretFile are exclusive',
    yaml:
      HEAD + lines('  auth:', '    principal: dns', '    secret: s3cret', '    secretFile: /run/s'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.auth.secretFile', line: 6, column: 5, message: 'not both' },
  },
  {
    title: 'a TSIG key needs a secret or a secret file',
    yaml: HEAD + lines('transfer:', '  tsig:', '    keys:', '      - name: xfr'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'transfer.tsig.keys[0].name',
      line: 6,
      column: 15,
      message: 'needs transfer.tsig.keys[0].secret',
    },
  },
  {
    title: 'a TSIG secret must be base64',
    yaml:
      HEAD +
      lines('transfer:', '  tsig:', '    keys:', '      - { name: xfr, secret: "not base64!" }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'transfer.tsig.keys[0].secret',
      line: 6,
      column: 30,
      message: 'must be base64',
    },
  },
  {
    title: 'TSIG key names are unique, whatever their case',
    yaml:
      HEAD +
      lines(
        'transfer:',
        '  tsig:',
        '    keys:',
        '      - { name: xfr, secret: c2VjcmV0 }',
        '      - { name: XFR., secret: c2VjcmV0 }',
      ),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'transfer.tsig.keys[1].name', line: 7, column: 17, message: 'duplicate of' },
  },
  {
    title: 'an unknown TSIG algorithm is named',
    yaml:
      HEAD +
      lines(
        'transfer:',
        '  tsig:',
        '    keys:',
        '      - { name: x, algorithm: gost, secret: c2VjcmV0 }',
      ),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'transfer.tsig.keys[0].algorithm',
      line: 6,
      column: 31,
      message: 'hmac-sha256',
    },
  },
  {
    title: 'a NOTIFY target is an address',
    yaml: HEAD + lines('transfer:', '  notify: [secondary.example]'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'transfer.notify[0]', line: 4, column: 12, message: 'IP address' },
  },
  {
    title: 'a secret needs a principal',
    yaml: HEAD + lines('  auth:', '    secret: s3cret'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.auth.secret',
      line: 4,
      column: 5,
      message: 'needs mesos.auth.principal',
    },
  },
  {
    title: 'a master URL must be http or https',
    yaml: lines('mesos:', '  masters: ["ftp://m1:5050"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.masters[0]',
      line: 2,
      column: 13,
      message: 'must be http(s)://host:port or host:port',
    },
  },
  {
    title: 'a master URL carries no credentials',
    yaml: lines('mesos:', '  masters: ["http://u:p@m1:5050"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.masters[0]', line: 2, column: 13, message: 'use mesos.auth' },
  },
  {
    title: 'a bare master needs a port',
    yaml: lines('mesos:', '  masters: [m1]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.masters[0]',
      line: 2,
      column: 13,
      message: 'must be http(s)://host:port or host:port',
    },
  },
  {
    title: 'the same master written twice is a duplicate',
    yaml: lines('mesos:', '  masters: ["10.0.0.1:5050", "http://10.0.0.1:5050"]'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.masters[1]',
      line: 2,
      column: 30,
      message: 'duplicate of mesos.masters[0]',
    },
  },
  {
    title: 'minRetained is a share from 0 to 1',
    yaml: HEAD + lines('  failover: { minRetained: 50 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.failover.minRetained', line: 3, column: 28, message: 'at most 1' },
  },
  {
    title: 'mesos.mode is stream or poll, with a hint',
    yaml: HEAD + lines('  mode: steam'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.mode',
      line: 3,
      column: 9,
      message: "must be one of stream, poll (did you mean 'stream'?)",
    },
  },
  {
    title: 'stream.batch above 1s is rejected at its value',
    yaml: HEAD + lines('  stream:', '    batch: 1001ms'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.stream.batch', line: 4, column: 12, message: 'must be at most 1s' },
  },
  {
    title: 'stream.batch 0 is rejected',
    yaml: HEAD + lines('  stream: { batch: 0ms }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.stream.batch',
      line: 3,
      column: 20,
      message: 'must be greater than 0',
    },
  },
  {
    title: 'stream.resync needs a unit unless it is 0',
    yaml: HEAD + lines('  stream: { resync: 600 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.stream.resync',
      line: 3,
      column: 21,
      message: "must be a duration with a unit such as '600s'",
    },
  },
  {
    title: 'stream.resync is a duration',
    yaml: HEAD + lines('  stream: { resync: often }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.stream.resync',
      line: 3,
      column: 21,
      message: 'must be a duration such as 500ms',
    },
  },
  {
    title: 'stream.resync is at most a day',
    yaml: HEAD + lines('  stream: { resync: 25h }'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.stream.resync', line: 3, column: 21, message: 'must be at most 24h' },
  },
  {
    title: 'stream.missedHeartbeats is at least 2',
    yaml: HEAD + lines('  stream: { missedHeartbeats: 1 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.stream.missedHeartbeats',
      line: 3,
      column: 31,
      message: 'must be at least 2',
    },
  },
  {
    title: 'stream.missedHeartbeats is at most 20',
    yaml: HEAD + lines('  stream: { missedHeartbeats: 21 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.stream.missedHeartbeats',
      line: 3,
      column: 31,
      message: 'must be at most 20',
    },
  },
  {
    title: 'stream.missedHeartbeats is an integer',
    yaml: HEAD + lines('  stream: { missedHeartbeats: 2.5 }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.stream.missedHeartbeats',
      line: 3,
      column: 31,
      message: 'must be an integer',
    },
  },
  {
    title: 'a misspelt stream key gets a hint',
    yaml: HEAD + lines('  stream: { bacth: 10ms }'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.stream.bacth',
      line: 3,
      column: 13,
      message: "unknown key 'bacth' (did you mean 'batch'?)",
    },
  },
  {
    title: 'a stream key one level too high suggests its place',
    yaml: HEAD + lines('  resync: 5m'),
    code: 'ERR_CONFIG_INVALID',
    problem: {
      path: 'mesos.resync',
      line: 3,
      column: 3,
      message: "did you mean 'mesos.stream.resync'?",
    },
  },
  {
    title: 'mesos.scheme is http or https',
    yaml: HEAD + lines('  scheme: htps'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.scheme', line: 3, column: 11, message: "did you mean 'https'" },
  },
  {
    title: 'a ZooKeeper URL needs a path',
    yaml: lines('mesos:', '  zk: zk://10.0.0.1:2181/'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.zk', line: 2, column: 7, message: 'must be a ZooKeeper URL' },
  },
  {
    title: 'ZooKeeper ports are checked',
    yaml: lines('mesos:', '  zk: zk://10.0.0.1:2181,10.0.0.2:99999/mesos'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: 'mesos.zk', line: 2, column: 7, message: "port '99999'" },
  },
  {
    title: 'a YAML syntax error has its position',
    yaml: HEAD + lines('records:', '  ipSources: [host', 'log: {}'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: '', line: 5, column: 1, message: 'Flow sequence' },
  },
  {
    title: 'a repeated key is a YAML error',
    yaml: HEAD + lines('  zk: zk://10.0.0.2:2181/mesos'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: '', line: 3, column: 3, message: 'Map keys must be unique' },
  },
  {
    title: 'the document must be a mapping',
    yaml: lines('- mesos'),
    code: 'ERR_CONFIG_INVALID',
    problem: { path: '', line: 1, column: 1, message: 'must be a mapping' },
  },
];

for (const c of CASES) {
  test(`yaml: ${c.title}`, (t) => {
    if (!('problem' in c)) {
      t.deepEqual(c.pick(parseConfig(c.yaml, 'mesodns.yaml')), c.want);
      return;
    }
    const error = configError(t, () => parseConfig(c.yaml, 'mesodns.yaml'));
    t.is(error.code, c.code);
    t.is(error.problems.length, 1, show(error.problems));
    const [p] = error.problems;
    t.like(
      p,
      { path: c.problem.path, line: c.problem.line, column: c.problem.column },
      show(error.problems),
    );
    t.true(p?.message.includes(c.problem.message), show(error.problems));
  });
}

test('reports every problem of a file at once, in file order', (t) => {
  const yaml = lines(
    'domain: bad_domain', // 1
    'mesos:', // 2
    '  refesh: 30s', // 3
    '  timeout: 30', // 4
    'records:', // 5
    '  ttl: -1', // 6
    '  ipSources: [host, host]', // 7
    'dns:', // 8
    '  listen: nowhere', // 9
    'log: { level: loud }', // 10
  );
  const error = configError(t, () => parseConfig(yaml, 'all.yaml'));
  t.deepEqual(
    error.problems.map((p) => `${p.line}:${p.column} ${p.path}`),
    [
      '1:9 domain',
      '2:1 mesos',
      '3:3 mesos.refesh',
      '4:12 mesos.timeout',
      '6:8 records.ttl',
      '7:21 records.ipSources[1]',
      '9:11 dns.listen',
      '10:15 log.level',
    ],
  );
  t.true(error.message.includes('all.yaml:3:3: mesos.refesh: unknown key'));
});

test('suggests the closest key, ignoring case and transpositions', (t) => {
  const hint = (yaml: string): string | undefined =>
    configError(t, () => parseConfig(HEAD + yaml, 'h.yaml')).problems[0]?.message;
  t.regex(hint(lines('  timout: 5s')) ?? '', /did you mean 'timeout'\?/);
  t.regex(hint(lines('records:', '  enforceRfc952: true')) ?? '', /did you mean 'enforceRFC952'\?/);
  t.regex(hint(lines('records:', '  tll: 5')) ?? '', /did you mean 'ttl'\?/);
  t.regex(hint(lines('forwrd: {}')) ?? '', /did you mean 'forward'\?/);
  t.regex(hint(lines('level: debug')) ?? '', /did you mean 'log.level'\?/);
  t.regex(
    hint(lines('listen: "0.0.0.0:53"')) ?? '',
    /did you mean 'dns.listen' or 'http.listen'\?/,
  );
});

test('applies every default to a file that only names a master source', (t) => {
  t.deepEqual(parseConfig(HEAD, 'min.yaml'), withDefaults());
});

test('returns a deep-frozen config', (t) => {
  const config = parseConfig(
    HEAD + lines('forward:', '  resolvers: [8.8.8.8]', '  zones: { consul: [10.0.0.5] }'),
    'f.yaml',
  );
  for (const part of [
    config,
    config.mesos,
    config.mesos.masters,
    config.mesos.auth,
    config.records.ipSources,
    config.dns.soa,
    config.dns.listen,
    config.forward.resolvers,
    config.forward.resolvers[0],
    config.forward.zones,
    config.forward.zones['consul'],
  ]) {
    t.true(Object.isFrozen(part));
  }
  t.throws(() => Object.assign(config.mesos, { refreshMs: 1 }), { instanceOf: TypeError });
  t.throws(() => Object.assign(config.forward.zones, { other: [] }), { instanceOf: TypeError });
});

test('does not share or freeze the defaults it starts from', (t) => {
  parseConfig(HEAD + lines('records: { ipSources: [host] }'), 'a.yaml');
  t.deepEqual(parseConfig(HEAD, 'b.yaml').records.ipSources, ['netinfo', 'mesos', 'host']);
});

test('rejects an unknown file extension', (t) => {
  const error = configError(t, () => parseConfig(HEAD, 'mesodns.toml'));
  t.is(error.code, 'ERR_CONFIG_INVALID');
  t.regex(error.problems[0]?.message ?? '', /unsupported file type '\.toml'/);
});

test('accepts .yml and upper-case extensions', (t) => {
  t.is(parseConfig(HEAD, 'a.yml').mesos.zk, ZK);
  t.is(parseConfig(HEAD, 'A.YAML').mesos.zk, ZK);
});
