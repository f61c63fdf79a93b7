/**
 * Reverse names (RFC 1035 3.5, RFC 3596 2.5): of an address, and of the zone of a CIDR prefix.
 * Shared by the config check (`records.reverse.zones`), the generator's PTR records and the DNS
 * server's reverse zones.
 */
import { ipv4Bytes, ipv6Bytes, parsePrefix } from './ip.js';
import type { Prefix } from './ip.js';

/** The IPv4 reverse tree (RFC 1035 3.5). */
export const IN_ADDR_ARPA = 'in-addr.arpa.';
/** The IPv6 reverse tree, one label per nibble (RFC 3596 2.5). */
export const IP6_ARPA = 'ip6.arpa.';

const HEX = '0123456789abcdef';

/** The reverse name of an address's bytes (4 or 16): `4.3.2.1.in-addr.arpa.`, nibbles for v6. */
export function reverseNameOfBytes(bytes: Uint8Array, prefixBits = bytes.length * 8): string {
  let out = '';
  if (bytes.length === 4) {
    for (let i = prefixBits / 8 - 1; i >= 0; i--) out += `${String(bytes[i] ?? 0)}.`;
    return out + IN_ADDR_ARPA;
  }
  for (let n = prefixBits / 4 - 1; n >= 0; n--) {
    const byte = bytes[n >> 1] ?? 0;
    out += `${HEX[(n & 1) === 0 ? byte >> 4 : byte & 15] ?? '0'}.`;
  }
  return out + IP6_ARPA;
}

/** The reverse name of an address in canonical text form, or undefined when it is not one. */
export function reverseName(address: string): string | undefined {
  const bytes = address.includes(':') ? ipv6Bytes(address) : ipv4Bytes(address);
  return bytes === undefined ? undefined : reverseNameOfBytes(bytes);
}

/**
 * The apex of the reverse zone of a CIDR prefix (`10.0.0.0/8` gives `10.in-addr.arpa.`,
 * `fd00::/8` gives `d.f.ip6.arpa.`), or a problem when the prefix is not on a label boundary
 * (octets for IPv4, nibbles for IPv6): such a network has no zone of its own (RFC 2317 would
 * need CNAMEs from the enclosing zone's owner), and the enclosing zone would make mesodns
 * authoritative for addresses outside the network. The host bits must be zero.
 */
export function reverseZoneOf(prefix: Prefix): { apex: string } | { problem: string } {
  const { bytes, length } = prefix;
  const step = bytes.length === 4 ? 8 : 4;
  if (length % step !== 0) {
    const below = length - (length % step);
    const above = below + step;
    return {
      problem:
        `prefix length ${String(length)} is not on ${step === 8 ? 'an octet' : 'a nibble'} ` +
        `boundary: a reverse zone covers a /${String(below)} or a /${String(above)}`,
    };
  }
  for (let bit = length; bit < bytes.length * 8; bit++) {
    if (((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0) {
      return { problem: `has bits set past the prefix length ${String(length)}` };
    }
  }
  return { apex: reverseNameOfBytes(bytes, length) };
}

/** The apexes of the reverse zones of CIDRs (`records.reverse.zones`, checked by the config). */
export function reverseApexes(cidrs: readonly string[]): string[] {
  const out: string[] = [];
  for (const cidr of cidrs) {
    const prefix = parsePrefix(cidr);
    if ('problem' in prefix) continue;
    const zone = reverseZoneOf(prefix);
    if ('apex' in zone) out.push(zone.apex);
  }
  return out;
}
