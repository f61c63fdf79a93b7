/**
 * The addresses the generator reads: IP literals into canonical form and record values
 * (`parseIp`), and the entries of the masters list (`parseMasterEntry`). Pure.
 */
import { formatIpv6, ipFamily, ipv4ToInt, ipv6Groups } from '../net/ip.js';
import { KIND_A, KIND_AAAA } from './layout.js';
import type { RecordKind } from './layout.js';

/**
 * An address: its canonical text, its record kind and its value in the record set (the IPv4
 * integer, or the index of the IPv6 address).
 */
export interface Ip {
  readonly value: string;
  readonly kind: RecordKind;
  readonly v: number;
}

/**
 * Parses an IP literal into canonical form, or undefined when it is not one (node:net's rules; zone
 * indexes rejected). IPv4-mapped IPv6 becomes IPv4 (as Go does). With `allowPrefix`, an IPv6
 * `/len` suffix (CNI reports IPv6 with its prefix length) is stripped: a deliberate difference.
 */
export function parseIp(
  raw: string,
  allowPrefix: boolean,
  v6Index: (text: string, groups: readonly number[]) => number,
): Ip | undefined {
  let text = raw;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    if (!allowPrefix) return undefined;
    const prefix = text.slice(slash + 1);
    text = text.slice(0, slash);
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > 128 || ipFamily(text) !== 6) return undefined;
  }
  const family = ipFamily(text);
  if (family === 4) return { value: text, kind: KIND_A, v: ipv4ToInt(text) };
  if (family !== 6 || text.includes('%')) return undefined;
  const groups = ipv6Groups(text.toLowerCase());
  if (groups === undefined) return undefined;
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    const value = `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    return { value, kind: KIND_A, v: ipv4ToInt(value) };
  }
  const value = formatIpv6(groups);
  return { value, kind: KIND_AAAA, v: v6Index(value, groups) };
}

/**
 * Parses a masters-list entry: `host`, `host:port`, `[v6]:port`, bare IPv6, a URL of those, or a
 * pid (`master@host:port`; anything up to the last `@` is dropped).
 */
export function parseMasterEntry(
  entry: string,
): { host: string; port: number | undefined } | undefined {
  let text = entry.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = text.indexOf('/');
  if (slash >= 0) text = text.slice(0, slash);
  text = text.slice(text.lastIndexOf('@') + 1);
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0 && colon === text.lastIndexOf(':')) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  if (host === '') return undefined;
  if (portText === undefined) return { host, port: undefined };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return undefined;
  return { host, port: Number(portText) };
}
