/**
 * The JSON bodies of Mesos-DNS's `/v1` endpoints, built from the config and the record set
 * (pure functions). Field names, nesting and order are Mesos-DNS's (docs/mesos-dns-rules.md
 * section 5.2, `records/config.go`, `models/models.go`, `records/generator.go`); values come from
 * mesodns's own configuration and records.
 */
import { ipFamily } from '../net/ip.js';
import type { Config, HostPort } from '../config/index.js';
import { REDACTED, redactConfig } from '../config/index.js';
import type { RecordSet } from '../records/index.js';
import { lazyEntries, lazyEnumeration } from '../records/index.js';
import { LazyArray, LazyObject } from './json-stream.js';

/** Body of `/v1/version`: Go's map[string]string, keys sorted. */
export interface VersionView {
  readonly Service: string;
  readonly URL: string;
  readonly Version: string;
}

/** Facts about the running server that the config alone does not hold. */
export interface ConfigFacts {
  /** Absolute path of the configuration file (Mesos-DNS `File`). */
  readonly file: string;
  /** The upstream resolvers in use (the configured ones, or those of /etc/resolv.conf). */
  readonly resolvers: readonly HostPort[];
  /** SOA serial served now; undefined before the first load. */
  readonly serial: number | undefined;
}

/**
 * Body of `/v1/config`: Mesos-DNS's `records.Config` with its Go field names in its order.
 * Keys that mesodns does not have report what mesodns does instead (docs/operations.md).
 */
export interface MesosDnsConfigView {
  readonly RefreshSeconds: number;
  readonly Port: number;
  readonly Timeout: number;
  readonly StateTimeoutSeconds: number;
  readonly ZkDetectionTimeout: number;
  readonly HttpPort: number;
  readonly TTL: number;
  readonly SRVRecordDefaultWeight: number;
  readonly SOASerial: number;
  readonly SOARefresh: number;
  readonly SOARetry: number;
  readonly SOAExpire: number;
  readonly SOAMinttl: number;
  readonly SOAMname: string;
  readonly SOARname: string;
  readonly Masters: readonly string[];
  readonly ZoneResolvers: Readonly<Record<string, readonly string[]>>;
  readonly Resolvers: readonly string[];
  readonly IPSources: readonly string[];
  readonly Zk: string;
  readonly Domain: string;
  readonly File: string;
  readonly Listener: string;
  readonly HTTPListener: string;
  readonly RecurseOn: boolean;
  readonly DnsOn: boolean;
  readonly HttpOn: boolean;
  readonly ExternalOn: boolean;
  readonly EnforceRFC952: boolean;
  readonly SetTruncateBit: boolean;
  readonly EnumerationOn: boolean;
  readonly MesosHTTPSOn: boolean;
  readonly CACertFile: string;
  readonly CertFile: string;
  readonly KeyFile: string;
  readonly MesosCredentials: { readonly Principal: string; readonly Secret: string };
  readonly IAMConfigFile: string;
  readonly MesosAuthentication: string;
}

/**
 * One entry of `/v1/hosts/{host}`. `healthy` (after Mesos-DNS's fields) only with
 * `records.health: exclude-unhealthy`, when every task behind the name reported the same health.
 */
export interface HostView {
  readonly host: string;
  readonly ip: string;
  readonly healthy?: boolean;
}

/** One entry of `/v1/services/{service}`; `healthy`: the target's, as in `HostView`. */
export interface ServiceView {
  readonly service: string;
  readonly host: string;
  readonly ip: string;
  readonly port: string;
  readonly healthy?: boolean;
}

/** `{ healthy }` of a name when known (`RecordSet.healthOf`), else nothing (Mesos-DNS's shape). */
function healthOf(records: RecordSet | undefined, name: string): { healthy?: boolean } {
  const healthy = records?.healthOf?.(name);
  return healthy === undefined ? {} : { healthy };
}

/** Body of `/v1/enumerate` (Go field order: a framework's `tasks` come before its `name`). */
export interface EnumerateView {
  readonly frameworks: readonly {
    readonly tasks: readonly {
      readonly name: string;
      readonly id: string;
      readonly records: readonly {
        readonly name: string;
        readonly host: string;
        readonly rtype: string;
      }[];
    }[];
    readonly name: string;
  }[];
}

/** Body of `/v1/axfr` (`models.AXFR`). */
export interface AxfrView {
  readonly TTL: number;
  readonly Serial: number;
  readonly RefreshSeconds: number;
  readonly Mname: string;
  readonly Rname: string;
  readonly Domain: string;
  readonly Records: {
    readonly As: Readonly<Record<string, readonly string[]>>;
    readonly AAAAs: Readonly<Record<string, readonly string[]>>;
    readonly SRVs: Readonly<Record<string, readonly string[]>>;
    /** With `records.reverse` on only (Mesos-DNS has no PTR): reverse name -> target names. */
    readonly PTRs?: Readonly<Record<string, readonly string[]>>;
  };
}

/** Where mesodns points `/v1/version`'s `URL`. */
export const PROJECT_URL = 'https://github.com/mesodns/mesodns';

/** Builds the `/v1/version` body. */
export function versionView(version: string): VersionView {
  return { Service: 'mesodns', URL: PROJECT_URL, Version: version };
}

/** Whole seconds of a duration, rounded up (Mesos-DNS keeps durations as integer seconds). */
function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/** `ip` for port 53, else `ip:port` / `[v6]:port`, as Mesos-DNS lists resolvers. */
function resolverText(hp: HostPort): string {
  if (hp.port === 53) return hp.host;
  return ipFamily(hp.host) === 6
    ? `[${hp.host}]:${String(hp.port)}`
    : `${hp.host}:${String(hp.port)}`;
}

/** A master base URL as Mesos-DNS's `host:port` (the scheme goes to `MesosHTTPSOn`). */
function masterText(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
    return `${u.hostname}:${port}`; // an IPv6 hostname keeps its brackets
  } catch {
    return url;
  }
}

/**
 * Builds the `/v1/config` body from the running config: the Mesos-DNS fields in Mesos-DNS's
 * order, secrets replaced by `******` (Mesos-DNS shows the Basic auth secret in clear).
 */
export function mesosDnsConfigView(config: Config, facts: ConfigFacts): MesosDnsConfigView {
  const c = redactConfig(config);
  const { mesos, records, dns, forward, http } = c;
  const hasSecret = config.mesos.auth.secret !== '' || config.mesos.auth.secretFile !== '';
  return {
    RefreshSeconds: seconds(mesos.refreshMs),
    Port: dns.listen.port,
    Timeout: seconds(forward.timeoutMs),
    StateTimeoutSeconds: seconds(mesos.timeoutMs),
    // mesodns never exits for want of a leader: detection never times out (0 in Mesos-DNS terms).
    ZkDetectionTimeout: 0,
    HttpPort: http.listen.port,
    TTL: records.ttl,
    SRVRecordDefaultWeight: records.srvWeight,
    SOASerial: facts.serial ?? 0,
    SOARefresh: dns.soa.refresh,
    SOARetry: dns.soa.retry,
    SOAExpire: dns.soa.expire,
    SOAMinttl: dns.soa.minimum,
    SOAMname: dns.soa.mname,
    SOARname: dns.soa.rname,
    Masters: mesos.masters.map(masterText),
    ZoneResolvers: Object.fromEntries(
      Object.entries(forward.zones).map(([zone, ups]) => [zone, ups.map(resolverText)]),
    ),
    Resolvers: forward.enabled ? facts.resolvers.map(resolverText) : [],
    IPSources: [...records.ipSources],
    Zk: mesos.zk,
    Domain: c.domain,
    File: facts.file,
    Listener: dns.listen.host,
    HTTPListener: http.listen.host,
    RecurseOn: dns.recursionAvailable,
    DnsOn: true,
    HttpOn: http.enabled,
    ExternalOn: forward.enabled,
    EnforceRFC952: records.enforceRFC952,
    // Truncated answers always carry TC, and /v1/enumerate and /v1/axfr are always served.
    SetTruncateBit: true,
    EnumerationOn: true,
    MesosHTTPSOn: mesos.scheme === 'https' || mesos.masters.some((m) => m.startsWith('https://')),
    CACertFile: mesos.tls.ca,
    CertFile: mesos.tls.cert,
    KeyFile: mesos.tls.key,
    MesosCredentials: { Principal: mesos.auth.principal, Secret: hasSecret ? REDACTED : '' },
    IAMConfigFile: '',
    MesosAuthentication: mesos.auth.principal !== '' ? 'basic' : '',
  };
}

/**
 * Normalises a name from a URL path as Mesos-DNS does: lower case, `.*` removed, trailing dot
 * added. Undefined when the percent-encoding is malformed.
 */
export function pathName(segment: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  const lower = decoded.toLowerCase().replaceAll('.*', '');
  return lower.endsWith('.') ? lower : lower + '.';
}

/** Builds `/v1/hosts/{host}`: every A then every AAAA value; Mesos-DNS's empty entry on a miss. */
export function hostsView(records: RecordSet | undefined, name: string): HostView[] {
  const out: HostView[] = [];
  const health = healthOf(records, name);
  for (const ip of records?.a.get(name) ?? []) out.push({ host: name, ip, ...health });
  for (const ip of records?.aaaa.get(name) ?? []) out.push({ host: name, ip, ...health });
  return out.length > 0 ? out : [{ host: '', ip: '' }];
}

/**
 * Builds `/v1/services/{service}`: per SRV value, the target with its first A, then with its
 * first AAAA; targets without addresses are left out. `service` is echoed as given.
 */
export function servicesView(
  records: RecordSet | undefined,
  name: string,
  service: string,
): ServiceView[] {
  const out: ServiceView[] = [];
  for (const srv of records?.srv.get(name) ?? []) {
    const port = String(srv.port);
    const a = records?.a.get(srv.target)?.[0];
    const aaaa = records?.aaaa.get(srv.target)?.[0];
    const health = healthOf(records, srv.target);
    if (a !== undefined) out.push({ service, host: srv.target, ip: a, port, ...health });
    if (aaaa !== undefined) out.push({ service, host: srv.target, ip: aaaa, port, ...health });
  }
  return out.length > 0 ? out : [{ service: '', host: '', ip: '', port: '' }];
}

/** Builds `/v1/enumerate` from the record set's enumeration (empty before the first load). */
export function enumerateView(records: RecordSet | undefined): EnumerateView {
  return {
    frameworks: (records?.enumeration ?? []).map((f) => ({
      tasks: f.tasks.map((t) => ({
        name: t.name,
        id: t.id,
        records: t.records.map((r) => ({ name: r.name, host: r.host, rtype: r.rtype })),
      })),
      name: f.name,
    })),
  };
}

/** The fields of `/v1/axfr` before `Records`, in models.AXFR's order. */
function axfrHeader(config: Config, serial: number | undefined): Omit<AxfrView, 'Records'> {
  return {
    TTL: config.records.ttl,
    Serial: serial ?? 0,
    RefreshSeconds: seconds(config.mesos.refreshMs),
    Mname: config.dns.soa.mname,
    Rname: config.dns.soa.rname,
    Domain: config.domain,
  };
}

/** Builds `/v1/axfr`: the whole record set, SRV values as `target:port`. */
export function axfrView(
  config: Config,
  records: RecordSet | undefined,
  serial: number | undefined,
): AxfrView {
  const srvs: Record<string, string[]> = {};
  for (const [name, targets] of records?.srv ?? []) {
    srvs[name] = targets.map((t) => `${t.target}:${String(t.port)}`);
  }
  return {
    ...axfrHeader(config, serial),
    Records: {
      As: Object.fromEntries(records?.a ?? []),
      AAAAs: Object.fromEntries(records?.aaaa ?? []),
      SRVs: srvs,
      ...(config.records.reverse.enabled ? { PTRs: Object.fromEntries(records?.ptr ?? []) } : {}),
    },
  };
}

/** `items` mapped one at a time. */
function* mapped<T, U>(items: Iterable<T>, fn: (item: T) => U): Generator<U> {
  for (const item of items) yield fn(item);
}

/**
 * `/v1/enumerate` as a body to render in pieces (http/json-stream.ts): the same text as
 * `enumerateView`, read one task at a time.
 */
export function enumerateBody(records: RecordSet | undefined): unknown {
  if (records === undefined) return { frameworks: [] };
  return {
    frameworks: new LazyArray(
      mapped(lazyEnumeration(records), (f) => ({
        tasks: new LazyArray(
          mapped(f.tasks, (t) => ({
            name: t.name,
            id: t.id,
            records: t.records.map((r) => ({ name: r.name, host: r.host, rtype: r.rtype })),
          })),
        ),
        name: f.name,
      })),
    ),
  };
}

/**
 * `/v1/axfr` as a body to render in pieces (http/json-stream.ts): the same text as `axfrView`,
 * read one name at a time.
 */
export function axfrBody(
  config: Config,
  records: RecordSet | undefined,
  serial: number | undefined,
): unknown {
  const none: readonly [string, readonly string[]][] = [];
  return {
    ...axfrHeader(config, serial),
    Records: {
      As: new LazyObject(records === undefined ? none : lazyEntries(records.a)),
      AAAAs: new LazyObject(records === undefined ? none : lazyEntries(records.aaaa)),
      SRVs: new LazyObject(
        records === undefined
          ? none
          : mapped(lazyEntries(records.srv), ([name, targets]) => [
              name,
              targets.map((t) => `${t.target}:${String(t.port)}`),
            ]),
      ),
      ...(config.records.reverse.enabled
        ? { PTRs: new LazyObject(records?.ptr === undefined ? none : lazyEntries(records.ptr)) }
        : {}),
    },
  };
}
