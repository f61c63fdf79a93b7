import type { LogLevel } from '../log.js';

/** Where a task's IP addresses may come from, in the order the operator lists them. */
export type IpSource = 'netinfo' | 'mesos' | 'docker' | 'host';

/**
 * `records.health`: `ignore` serves every running task (Mesos-DNS); `exclude-unhealthy` leaves a
 * task whose latest running status says `healthy: false` out of its app's shared names.
 */
export type HealthMode = 'ignore' | 'exclude-unhealthy';

/** A host (IP literal or hostname) and a port, parsed from `host:port` / `[v6]:port`. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** SOA fields (RFC 1035 3.3.13); names are FQDNs, lower case, with the trailing dot. */
export interface SoaConfig {
  readonly mname: string;
  readonly rname: string;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

/** How the Mesos state is followed (`mesos.mode`): the v1 event stream, or polling. */
export type MesosMode = 'stream' | 'poll';

/** TSIG algorithms of `transfer.tsig.keys` (RFC 8945 6). */
export const TSIG_ALGORITHM_NAMES = [
  'hmac-md5',
  'hmac-sha1',
  'hmac-sha224',
  'hmac-sha256',
  'hmac-sha384',
  'hmac-sha512',
] as const;
export type TsigAlgorithmName = (typeof TSIG_ALGORITHM_NAMES)[number];

/** One key of `transfer.tsig.keys`. */
export interface TsigKeyConfig {
  /** The key name, lower case, with the trailing dot. */
  readonly name: string;
  readonly algorithm: TsigAlgorithmName;
  /** The base64 secret, or '' with `secretFile`. */
  readonly secret: string;
  /** A file holding the base64 secret, or ''. */
  readonly secretFile: string;
}

/** `transfer`: zone transfers to DNS secondaries. */
export interface TransferConfig {
  /** CIDRs (or addresses) of clients that may transfer the zone; empty: nobody. */
  readonly allow: readonly string[];
  /** Secondaries sent a NOTIFY at every new serial. */
  readonly notify: readonly HostPort[];
  readonly tsig: { readonly keys: readonly TsigKeyConfig[] };
  /** Zone changes kept for IXFR. */
  readonly journal: number;
  /** Transfers served at once at most. */
  readonly maxConcurrent: number;
}

/** Upstream selection of `forward.policy`. */
export type ForwardPolicy = 'sequential' | 'random' | 'round_robin';

/** `forward.cache`: the cache of forwarded answers; TTLs in seconds. */
export interface ForwardCacheConfig {
  readonly enabled: boolean;
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Cap on how long a positive answer is kept. */
  readonly maxTtl: number;
  /** Cap on how long a negative answer (NXDOMAIN, NODATA) is kept. */
  readonly negativeMaxTtl: number;
  /** How long a SERVFAIL is kept; 0: never. */
  readonly servfailTtl: number;
  /** Serve expired answers while every upstream fails (RFC 8767). */
  readonly serveStale: boolean;
  /** How long after expiry an answer may still be served stale. */
  readonly staleTtl: number;
}

/** The validated, frozen configuration. Durations are milliseconds (`...Ms`), TTLs seconds. */
/** Limits of DNS over TCP. */
export interface TcpLimits {
  /** Connections open at once at most; more are closed at once. */
  readonly maxConnections: number;
  /** Connections open at once from one client (an address; a /64 for IPv6). */
  readonly maxConnectionsPerClient: number;
  /**
   * A connection without a whole query for this long, and none being answered, is closed: bytes
   * that do not complete a message do not count (a slow drip cannot keep it open).
   */
  readonly idleTimeoutMs: number;
  /** A query whose first bytes arrived must be whole within this long (knot's tcp-io-timeout). */
  readonly ioTimeoutMs: number;
}

/** Response rate limiting of authoritative UDP answers (src/dns/rrl.ts). */
export interface RrlConfig {
  readonly enabled: boolean;
  /** Responses per second to one client network for one kind of response (also the burst). */
  readonly responsesPerSecond: number;
  /** Every `slip`-th limited response is sent truncated (TC=1); 0 drops them all. */
  readonly slip: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** CIDRs never limited. */
  readonly exempt: readonly string[];
}

export interface Config {
  /** Zone served authoritatively, lower case, no trailing dot (`mesos`). */
  readonly domain: string;
  readonly mesos: {
    /** Master base URLs, e.g. `http://10.0.0.1:5050`; a bare `host:port` becomes `http://host:port`. */
    readonly masters: readonly string[];
    readonly zk: string;
    readonly stateFile: string;
    /**
     * How the state of a master is followed: `stream` subscribes to the v1 operator API event
     * stream (polling when the master has no v1 API), `poll` asks for `/master/state` every
     * `refreshMs`. Ignored with `stateFile`.
     */
    readonly mode: MesosMode;
    readonly refreshMs: number;
    readonly timeoutMs: number;
    /** Scheme for masters found through `zk` (and bare `host:port` masters, already applied). */
    readonly scheme: 'http' | 'https';
    /**
     * What a master fault may not take away: agents a new leader has not registered yet are
     * carried for up to `maxHoldMs` (mesos/carry-over.ts); a state whose entries are mostly
     * malformed and that keeps less than `minRetained` of the served zone's running tasks is
     * held back for up to `maxHoldMs` (the loader's sanity guard).
     */
    readonly failover: {
      /** 0 to 1; 0 turns the sanity guard off. */
      readonly minRetained: number;
      readonly maxHoldMs: number;
    };
    /** The event stream (`mode: stream`). */
    readonly stream: {
      /** Period of the comparison of the streamed view with GET_STATE; 0 turns it off. */
      readonly resyncMs: number;
      /** How long events are collected before one zone update (at most 1 s). */
      readonly batchMs: number;
      /** Heartbeat intervals without any data after which the stream is re-subscribed (2..20). */
      readonly missedHeartbeats: number;
    };
    readonly auth: {
      readonly principal: string;
      readonly secret: string;
      readonly secretFile: string;
    };
    readonly tls: {
      readonly ca: string;
      readonly cert: string;
      readonly key: string;
      readonly insecure: boolean;
    };
  };
  readonly records: {
    readonly ttl: number;
    readonly ipSources: readonly IpSource[];
    readonly enforceRFC952: boolean;
    readonly srvWeight: number;
    /** At most this many A and AAAA records per answer (a random choice); 0: all. */
    readonly maxAddresses: number;
    /** The dcos-net address views (`agentip`, `containerip`, `autoip` names); off by default. */
    readonly addressViews: boolean;
    readonly health: HealthMode;
    /** With `exclude-unhealthy`: an app whose instances are all unhealthy is served whole. */
    readonly healthFailOpen: boolean;
    /** Reverse lookups (PTR); `zones`: CIDRs on octet (IPv4) or nibble (IPv6) boundaries. */
    readonly reverse: { readonly enabled: boolean; readonly zones: readonly string[] };
  };
  readonly dns: {
    readonly listen: HostPort;
    readonly recursionAvailable: boolean;
    /** Serve UDP in batches through the native addon when it is built (else Node's dgram). */
    readonly batchedUdp: boolean;
    readonly soa: SoaConfig;
    readonly tcp: TcpLimits;
    readonly rrl: RrlConfig;
  };
  readonly forward: {
    readonly enabled: boolean;
    /** Upstreams; empty means the host's /etc/resolv.conf. */
    readonly resolvers: readonly HostPort[];
    /** Per-zone upstreams, zone names lower case without trailing dot. */
    readonly zones: Readonly<Record<string, readonly HostPort[]>>;
    readonly timeoutMs: number;
    /** Order in which a query tries its upstreams. */
    readonly policy: ForwardPolicy;
    /** Forwarded queries in flight at most; more get REFUSED. */
    readonly maxConcurrent: number;
    /** Forwarded queries in flight at most for one client (an address; a /64 for IPv6). */
    readonly maxConcurrentPerClient: number;
    /** CIDRs (`10.0.0.0/8`, `fc00::/7`, or a bare address) of clients that may use forwarding. */
    readonly allowFrom: readonly string[];
    /** Retry a truncated UDP upstream reply over TCP (else pass it through with TC). */
    readonly tcpFallback: boolean;
    /** Consecutive failures that mark an upstream down; 0 never marks one down. */
    readonly maxFails: number;
    /** Probe period of an upstream marked down. */
    readonly healthCheckMs: number;
    readonly cache: ForwardCacheConfig;
  };
  readonly transfer: TransferConfig;
  readonly http: {
    readonly enabled: boolean;
    readonly listen: HostPort;
    /** `/ready` fails once the data served is older than this (a master source only). */
    readonly readyMaxAgeMs: number;
    /** Connections open at once at most; more are closed at once. */
    readonly maxConnections: number;
  };
  readonly log: {
    readonly level: LogLevel;
    readonly format: 'text' | 'json';
    /** One log line per DNS query (info level). */
    readonly queries: boolean;
  };
}
