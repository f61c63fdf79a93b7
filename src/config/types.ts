import type { LogLevel } from '../log.js';

/** Where a task's IP addresses may come from, in the order the operator lists them. */
export type IpSource = 'netinfo' | 'mesos' | 'docker' | 'host';

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

/** The validated, frozen configuration. Durations are milliseconds (`...Ms`), TTLs seconds. */
export interface Config {
  /** Zone served authoritatively, lower case, no trailing dot (`mesos`). */
  readonly domain: string;
  readonly mesos: {
    /** Master base URLs, e.g. `http://10.0.0.1:5050`; a bare `host:port` becomes `http://host:port`. */
    readonly masters: readonly string[];
    readonly zk: string;
    readonly stateFile: string;
    readonly refreshMs: number;
    readonly timeoutMs: number;
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
  };
  readonly dns: {
    readonly listen: HostPort;
    readonly recursionAvailable: boolean;
    readonly soa: SoaConfig;
  };
  readonly forward: {
    readonly enabled: boolean;
    /** Upstreams; empty means the host's /etc/resolv.conf. */
    readonly resolvers: readonly HostPort[];
    /** Per-zone upstreams, zone names lower case without trailing dot. */
    readonly zones: Readonly<Record<string, readonly HostPort[]>>;
    readonly timeoutMs: number;
  };
  readonly http: {
    readonly enabled: boolean;
    readonly listen: HostPort;
  };
  readonly log: {
    readonly level: LogLevel;
    readonly format: 'text' | 'json';
  };
}
