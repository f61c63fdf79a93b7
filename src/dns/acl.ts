/**
 * Client access control for forwarding (`forward.allowFrom`): a list of CIDR prefixes, IPv4 and
 * IPv6. An IPv4-mapped IPv6 client (`::ffff:10.1.2.3`, from a dual-stack listener) is matched as
 * IPv4. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Prefix } from '../net/ip.js';
import { ipv4Bytes, ipv6Bytes, parsePrefix } from '../net/ip.js';

/** Remembered decisions per client address, cleared when it grows past this. */
const MEMO_LIMIT = 4096;

/** Parses `addr/len` or a bare address (a host prefix); undefined when invalid. */
export function parseCidr(text: string): Prefix | undefined {
  const prefix = parsePrefix(text);
  return 'problem' in prefix ? undefined : prefix;
}

function matches(prefix: Prefix, bytes: Buffer): boolean {
  if (prefix.bytes.length !== bytes.length) return false;
  const whole = prefix.length >> 3;
  for (let i = 0; i < whole; i++) if (prefix.bytes[i] !== bytes[i]) return false;
  const rest = prefix.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((prefix.bytes[whole] ?? 0) & mask) === ((bytes[whole] ?? 0) & mask);
}

/** Client address bytes, IPv4-mapped IPv6 as IPv4; undefined when not an IP literal. */
export function addressBytes(address: string): Buffer | undefined {
  if (isIPv4(address)) return ipv4Bytes(address);
  const v6 = isIPv6(address) ? ipv6Bytes(address) : undefined;
  if (v6 === undefined) return undefined;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.subarray(12) : v6;
}

/** Decides which client addresses may use forwarding. */
export class Acl {
  readonly #prefixes: readonly Prefix[];
  readonly #memo = new Map<string, boolean>();
  #lastAddress = '';
  #lastAllowed = false;

  /** Throws a RangeError on an invalid CIDR (the config loader has checked them already). */
  constructor(cidrs: readonly string[]) {
    this.#prefixes = cidrs.map((c) => {
      const p = parseCidr(c);
      if (p === undefined) throw new RangeError(`invalid CIDR: ${c}`);
      return p;
    });
  }

  /** True when `address` (an IP literal, as a socket reports it) is inside one of the prefixes. */
  allows(address: string): boolean {
    // Most queries come from the same few resolvers: the last answer first (comparing two short
    // strings is cheaper than hashing the fresh one a socket hands over for every packet).
    if (address === this.#lastAddress) return this.#lastAllowed;
    const allowed = this.#lookup(address);
    this.#lastAddress = address;
    this.#lastAllowed = allowed;
    return allowed;
  }

  #lookup(address: string): boolean {
    const known = this.#memo.get(address);
    if (known !== undefined) return known;
    const bytes = addressBytes(address);
    const allowed = bytes !== undefined && this.#prefixes.some((p) => matches(p, bytes));
    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
    this.#memo.set(address, allowed);
    return allowed;
  }
}

/**
 * Who a client is for the per-client limits: its IPv4 address (an IPv4-mapped IPv6 address
 * counts as the IPv4 one), or the /64 of an IPv6 address, which one host usually has whole and
 * could otherwise rotate through. '' for no address.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] ?? address;
  if (!address.includes(':')) return address;
  const bytes = ipv6Bytes(address.replace(/%.*$/, ''));
  return bytes === undefined ? address : `${bytes.subarray(0, 8).toString('hex')}/64`;
}

/** Counts of things held per client (`clientKey`), for the per-client limits. */
export class PerClient {
  readonly #counts = new Map<string, number>();

  /** Takes one for `key` when it holds fewer than `limit`; false when it is at the limit. */
  take(key: string, limit: number): boolean {
    const held = this.#counts.get(key) ?? 0;
    if (held >= limit) return false;
    this.#counts.set(key, held + 1);
    return true;
  }

  /** Gives one back for `key`. */
  give(key: string): void {
    const held = (this.#counts.get(key) ?? 1) - 1;
    if (held > 0) this.#counts.set(key, held);
    else this.#counts.delete(key);
  }

  /** What `key` holds now. */
  held(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}
