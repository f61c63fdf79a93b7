/**
 * Parsers of single values: addresses (listeners, upstreams, masters, ZooKeeper URLs), client
 * prefixes and domain names. They are pure: each returns a value or a problem, and the caller
 * reports the problem at its key.
 */
import { ipFamily, parsePrefix } from '../net/ip.js';
import { DEFAULT_UPSTREAM_PORT } from './defaults.js';
import type { HostPort } from './types.js';

const DOMAIN_RE = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;
/** SOA names (MNAME, RNAME) may also contain `_`. */
export const SOA_NAME_RE = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const HOSTNAME_RE =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** A parsed value, or why the text is not one (a message for the key's problem). */
export type Parsed<T> = { readonly value: T } | { readonly problem: string };

function splitHostPort(text: string): { host: string; port: string | undefined } | undefined {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1] ?? '';
    return ipFamily(host) === 6 ? { host, port: bracketed[2] } : undefined;
  }
  if (ipFamily(text) === 6) return { host: text, port: undefined };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text, port: undefined };
  const host = text.slice(0, colon);
  return host.includes(':') ? undefined : { host, port: text.slice(colon + 1) };
}

function parsePort(text: string, min: number): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= min && port <= 65535 ? port : undefined;
}

function isHost(host: string): boolean {
  return ipFamily(host) !== 0 || HOSTNAME_RE.test(host);
}

/** `host:port`, with brackets around an IPv6 host (`[::1]:53`). */
export function joinHostPort(host: string, port: number): string {
  return ipFamily(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A listen address: `host:port` / `[v6]:port`; port 0 lets the OS choose (tests). */
export function parseListen(text: string): Parsed<HostPort> {
  const split = splitHostPort(text);
  const problem = 'must be an address and port such as 0.0.0.0:53 or [::]:53';
  if (split?.port === undefined || split.host === '' || !isHost(split.host)) return { problem };
  const port = parsePort(split.port, 0);
  if (port === undefined)
    return { problem: `port '${split.port}' must be a number from 0 to 65535` };
  return { value: { host: split.host.toLowerCase(), port } };
}

/** An upstream resolver: `ip`, `ip:port` or `[v6]:port` (port 53 when absent). */
export function parseUpstream(text: string): Parsed<HostPort> {
  const split = splitHostPort(text);
  if (split === undefined || ipFamily(split.host) === 0) {
    return { problem: 'must be an IP address, ip:port or [ipv6]:port (the port defaults to 53)' };
  }
  if (split.port === undefined) return { value: { host: split.host, port: DEFAULT_UPSTREAM_PORT } };
  const port = parsePort(split.port, 1);
  if (port === undefined)
    return { problem: `port '${split.port}' must be a number from 1 to 65535` };
  return { value: { host: split.host, port } };
}

/** A client prefix of `forward.allowFrom`: `addr/len` or a bare address (a host prefix). */
export function parseCidr(text: string): Parsed<string> {
  const prefix = parsePrefix(text);
  return 'problem' in prefix ? { problem: prefix.problem } : { value: text };
}

/** A master: `http(s)://host[:port][/path]` or a bare `host:port` (`scheme`), as a base URL. */
export function parseMaster(text: string, scheme: 'http' | 'https'): Parsed<string> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const port = /^[a-z]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^/:]*):([^/]*)/i.exec(text)?.[1];
    if (port !== undefined && port !== '' && parsePort(port, 1) === undefined) {
      return { problem: `port '${port}' must be a number from 1 to 65535` };
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { problem: 'is not a valid URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { problem: `scheme '${url.protocol.slice(0, -1)}' is not http or https` };
    }
    if (url.username !== '' || url.password !== '') {
      return { problem: 'must not contain credentials (use mesos.auth)' };
    }
    if (url.search !== '' || url.hash !== '')
      return { problem: 'must not have a query or fragment' };
    if (url.hostname === '') return { problem: 'has no host' };
    return { value: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}` };
  }
  const split = splitHostPort(text);
  if (split?.port === undefined || split.host === '' || !isHost(split.host)) {
    return { problem: 'must be http(s)://host:port or host:port' };
  }
  const port = parsePort(split.port, 1);
  if (port === undefined)
    return { problem: `port '${split.port}' must be a number from 1 to 65535` };
  return { value: `${scheme}://${joinHostPort(split.host.toLowerCase(), port)}` };
}

/** A ZooKeeper URL `zk://[user:pass@]host[:port][,host[:port]...]/path`. */
export function checkZk(text: string): string | undefined {
  const match = /^zk:\/\/(?:[^@/]*@)?([^/]+)(\/.*)$/.exec(text);
  const hosts = match?.[1];
  const znode = match?.[2];
  if (hosts === undefined || znode === undefined || znode === '/') {
    return 'must be a ZooKeeper URL such as zk://10.0.0.1:2181,10.0.0.2:2181/mesos';
  }
  for (const entry of hosts.split(',')) {
    const split = splitHostPort(entry);
    if (split === undefined || split.host === '' || !isHost(split.host)) {
      return `'${entry}' is not a host or host:port`;
    }
    if (split.port !== undefined && parsePort(split.port, 1) === undefined) {
      return `port '${split.port}' of '${entry}' must be a number from 1 to 65535`;
    }
  }
  return undefined;
}

/** Lower-cases a domain name and removes one trailing dot. */
export function normalizeDomain(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Why `name` is not a domain name (its labels match `re`), or undefined when it is one. */
export function domainProblem(name: string, re: RegExp = DOMAIN_RE): string | undefined {
  if (!re.test(name)) return 'must be a domain name such as mesos or example.com';
  if (name.length > 253) return 'must be at most 253 characters long';
  const long = name.split('.').find((label) => label.length > 63);
  return long === undefined ? undefined : `label '${long}' is longer than 63 characters`;
}

/** Lower-case FQDN with one trailing dot; for RNAME `@` becomes `.` (`root@ns1.mesos`). */
export function normalizeSoaName(name: string, isMailbox: boolean): string {
  const dotted = isMailbox ? name.replaceAll('@', '.') : name;
  return `${dotted.toLowerCase().replace(/\.+$/, '')}.`;
}
