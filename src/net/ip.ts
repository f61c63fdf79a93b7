/**
 * IP addresses as text, numbers and bytes, and CIDR prefixes: the one parser every layer uses
 * (config checks `allowFrom` and `rrl.exempt`, records store A and AAAA values, dns matches
 * clients and upstream replies). An A value is the IPv4 address as an unsigned 32-bit integer,
 * an AAAA value indexes 16 bytes (its 8 groups). Writing IPv6 in canonical form (RFC 5952, as Go
 * prints it) is what makes two spellings of one address a single record. Imports only
 * node:net's validators.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * `net.isIP` (4, 6 or 0), without testing a string against the IPv6 pattern unless it has two
 * colons: Node compiles that pattern at its first use, about 10 ms of CPU in every thread that
 * meets a hostname, an IPv4 address or a `host:port` first (each start paid it twice). An IPv6
 * address always has two colons at least (`::` or seven), an IPv4 one none.
 */
export function ipFamily(text: string): 4 | 6 | 0 {
  const colon = text.indexOf(':');
  if (colon < 0) return isIPv4(text) ? 4 : 0;
  return text.indexOf(':', colon + 1) > 0 && isIPv6(text) ? 6 : 0;
}

/** Dotted IPv4 (already validated) as an unsigned 32-bit integer. */
export function ipv4ToInt(text: string): number {
  let value = 0;
  let part = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      value = value * 256 + part;
      part = 0;
    } else {
      part = part * 10 + (c - 0x30);
    }
  }
  return value * 256 + part;
}

/** An IPv4 address held as an integer, in dotted form. */
export function intToIpv4(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Formats 8 IPv6 groups as Go's `net.IP.String` does (RFC 5952: longest zero run of 2+ is `::`). */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The 8 groups of an IPv6 address in text form (with `::` and an IPv4 tail), or undefined. */
export function ipv6Groups(text: string): number[] | undefined {
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      if (i === pieces.length - 1 && piece.includes('.')) {
        const octets = piece.split('.').map(Number);
        if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
          return undefined;
        }
        const [a = 0, b = 0, c = 0, d = 0] = octets;
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf('::');
  if (gap >= 0 && text.indexOf('::', gap + 1) >= 0) return undefined;
  const head = toGroups(gap < 0 ? text : text.slice(0, gap));
  const tail = gap < 0 ? [] : toGroups(text.slice(gap + 2));
  if (head === undefined || tail === undefined) return undefined;
  if (gap < 0) return head.length === 8 ? head : undefined;
  if (head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Dotted IPv4 (four decimal numbers 0-255, no leading zeros) as 4 bytes, or undefined. */
export function ipv4Bytes(ip: string): Buffer | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
    out[i] = Number(part);
  }
  return out;
}

/** An IPv6 address (with `::`, an IPv4 tail, a `%zone` ignored) as 16 bytes, or undefined. */
export function ipv6Bytes(ip: string): Buffer | undefined {
  const zone = ip.indexOf('%');
  const groups = ipv6Groups(zone >= 0 ? ip.slice(0, zone) : ip);
  if (groups === undefined) return undefined;
  const out = Buffer.allocUnsafe(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** A CIDR prefix: the address bytes (4 or 16) and the prefix length in bits. */
export interface Prefix {
  readonly bytes: Buffer;
  readonly length: number;
}

/**
 * Parses `addr/len` or a bare address (a host prefix). Returns the prefix, or a problem in words
 * (for the config's error messages).
 */
export function parsePrefix(text: string): Prefix | { readonly problem: string } {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = addr.includes(':') ? ipv6Bytes(addr) : ipv4Bytes(addr);
  if (bytes === undefined) {
    return { problem: 'must be a CIDR such as 10.0.0.0/8 or fc00::/7, or an IP address' };
  }
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, length: max };
  const length = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(length) || Number(length) > max) {
    return { problem: `prefix length '${length}' must be a number from 0 to ${String(max)}` };
  }
  return { bytes, length: Number(length) };
}
