import type { Config, IpSource } from './types.js';

/** Recursively freezes a value built in this module (never remote data). */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) frozen(child);
    Object.freeze(value);
  }
  return value;
}

/** Port of an upstream resolver written without one (`8.8.8.8`). */
export const DEFAULT_UPSTREAM_PORT = 53;

/** IP sources in Mesos-DNS's default order (docs/mesos-dns-rules.md section 3). */
export const DEFAULT_IP_SOURCES: readonly IpSource[] = frozen(['netinfo', 'mesos', 'host']);

/**
 * Returns the default SOA MNAME and RNAME for a domain: `ns1.<domain>.` and `root.ns1.<domain>.`.
 *
 * Derived from the domain so that a YAML file that only changes `domain` keeps its NS target
 * inside the zone (docs/configuration.md shows the values for the default domain `mesos`).
 */
export function defaultSoaNames(domain: string): {
  readonly mname: string;
  readonly rname: string;
} {
  return { mname: `ns1.${domain}.`, rname: `root.ns1.${domain}.` };
}

/**
 * Defaults of the YAML configuration (docs/configuration.md), as a validated `Config`.
 *
 * No master source is set: a configuration must name exactly one of `mesos.masters`, `mesos.zk`
 * and `mesos.stateFile`. The SOA names are those of the default domain; a YAML file that sets
 * another domain gets `defaultSoaNames(domain)`. `config/mesodns.schema.json` repeats these values
 * as `default` annotations for editors; a test keeps them equal.
 */
export const DEFAULT_CONFIG: Config = frozen({
  domain: 'mesos',
  mesos: {
    masters: [],
    zk: '',
    stateFile: '',
    // The v1 event stream: changes within a second, and no full state serialized per poll.
    mode: 'stream',
    refreshMs: 30_000,
    timeoutMs: 10_000,
    scheme: 'http',
    // Mesos marks agents that did not re-register within 10 minutes of a failover unreachable
    // (--agent_reregister_timeout): carried agents are dropped after that. A state must keep half
    // the served tasks unless its entries are sound (the sanity guard).
    failover: { minRetained: 0.5, maxHoldMs: 600_000 },
    // Drift from the stream should never happen: a cheap check every 10 minutes. A 50 ms batch
    // turns a burst of events into one zone swap and stays well under the 1 s freshness goal.
    // Mesos sends a heartbeat every 15 s: three missed (45 s of silence, as dcos-net) = dead stream.
    stream: { resyncMs: 600_000, batchMs: 50, missedHeartbeats: 3 },
    auth: { principal: '', secret: '', secretFile: '' },
    tls: { ca: '', cert: '', key: '', insecure: false },
  },
  records: {
    ttl: 60,
    ipSources: DEFAULT_IP_SOURCES,
    enforceRFC952: false,
    srvWeight: 1,
    maxAddresses: 0,
    addressViews: false,
    health: 'ignore',
    healthFailOpen: true,
    reverse: { enabled: false, zones: [] },
  },
  dns: {
    listen: { host: '0.0.0.0', port: 53 },
    recursionAvailable: true,
    batchedUdp: true,
    tcp: {
      maxConnections: 1_000,
      maxConnectionsPerClient: 32,
      idleTimeoutMs: 10_000,
      ioTimeoutMs: 2_000,
    },
    // Off: a cluster puts many busy clients in one /24 (every agent of a rack behind one
    // resolver), and a default limit would truncate their traffic; turn it on where the DNS
    // port is reachable from networks that can spoof (docs/configuration.md).
    rrl: {
      enabled: false,
      responsesPerSecond: 50,
      slip: 2,
      ipv4Prefix: 24,
      ipv6Prefix: 56,
      exempt: ['127.0.0.0/8', '::1/128'],
    },
    soa: { ...defaultSoaNames('mesos'), refresh: 60, retry: 600, expire: 86400, minimum: 60 },
  },
  forward: {
    enabled: true,
    resolvers: [],
    zones: {},
    timeoutMs: 5_000,
    // Mesos-DNS tries its resolvers in list order; health tracking makes that cheap.
    policy: 'sequential',
    maxConcurrent: 1_000,
    // One client may not take every slot (a flood of names whose upstream never answers).
    maxConcurrentPerClient: 100,
    // Never an open resolver: loopback, RFC 1918, RFC 4193 and link-local clients only.
    allowFrom: [
      '127.0.0.0/8',
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '169.254.0.0/16',
      '::1/128',
      'fc00::/7',
      'fe80::/10',
    ],
    tcpFallback: true,
    // CoreDNS forward: max_fails 2, health_check 0.5s.
    maxFails: 2,
    healthCheckMs: 500,
    cache: {
      enabled: true,
      maxEntries: 10_000,
      maxBytes: 16 * 1024 * 1024,
      // CoreDNS cache caps: 3600 s success, 1800 s denial, 5 s SERVFAIL; serve_stale 1 h.
      maxTtl: 3600,
      negativeMaxTtl: 1800,
      servfailTtl: 5,
      serveStale: false,
      staleTtl: 3600,
    },
  },
  // Off: nobody may transfer the zone until `allow` names the secondaries.
  transfer: {
    allow: [],
    notify: [],
    tsig: { keys: [] },
    journal: 1_000,
    maxConcurrent: 4,
  },
  http: {
    enabled: true,
    listen: { host: '0.0.0.0', port: 8123 },
    // 0: off. /ready means "answers the cluster domain" (a zone loaded, listeners bound); data
    // age never takes an instance out of rotation unless an operator opts in, because every
    // replica ages together in a master outage and all would leave the Service at once.
    readyMaxAgeMs: 0,
    // The API shares its thread with DNS: a cap on what a flood of connections may hold.
    maxConnections: 256,
  },
  log: {
    level: 'info',
    format: 'text',
    queries: false,
  },
});

/**
 * Defaults of a Mesos-DNS `config.json` (docs/mesos-dns-rules.md section 4.2), applied to absent
 * keys so that a Mesos-DNS file means what it meant to Mesos-DNS (refresh 60 s, state timeout
 * 300 s, resolvers `8.8.8.8`, ...). Keys are the canonical Go field names.
 */
export const MESOS_DNS_DEFAULTS = frozen({
  Zk: '',
  Masters: [],
  ZkDetectionTimeout: 30,
  RefreshSeconds: 60,
  StateTimeoutSeconds: 300,
  TTL: 60,
  SRVRecordDefaultWeight: 1,
  Domain: 'mesos',
  Port: 53,
  Listener: '0.0.0.0',
  HTTPListener: '0.0.0.0',
  HttpPort: 8123,
  DnsOn: true,
  HttpOn: true,
  ExternalOn: true,
  Resolvers: ['8.8.8.8'],
  ZoneResolvers: {},
  Timeout: 5,
  RecurseOn: true,
  SOAMname: 'ns1.mesos',
  SOARname: 'root.ns1.mesos',
  SOARefresh: 60,
  SOARetry: 600,
  SOAExpire: 86400,
  SOAMinttl: 60,
  IPSources: DEFAULT_IP_SOURCES,
  EnforceRFC952: false,
  SetTruncateBit: true,
  EnumerationOn: true,
  MesosHTTPSOn: false,
  CACertFile: '',
  CertFile: '',
  KeyFile: '',
  MesosAuthentication: '',
  MesosCredentials: { Principal: '', Secret: '' },
  IAMConfigFile: '',
} as const);
