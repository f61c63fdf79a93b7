/**
 * Response rate limiting for authoritative answers over UDP, after BIND's and knot's RRL: a
 * spoofed flood of queries turns this server into an amplifier aimed at the forged source (an
 * ANY or SRV answer is tens of times larger than its query). Responses are counted per client
 * network (a /24 for IPv4, a /56 for IPv6) and per kind of response in token buckets of
 * `responsesPerSecond`; beyond it, every `slip`-th response is sent truncated and empty (TC=1:
 * a real client retries over TCP, which cannot be spoofed) and the rest are dropped. TCP is never
 * limited, nor are the `exempt` networks.
 */
import type { Clock } from '../clock.js';
import { monotonicClock } from '../clock.js';
import { Acl, addressBytes } from './acl.js';

/** What `dns.rrl` configures (`enabled` aside). */
export interface RrlSettings {
  /** Responses per second to one client network for one kind of response; also the burst. */
  readonly responsesPerSecond: number;
  /** Every `slip`-th limited response is sent truncated; 0: none (all dropped). */
  readonly slip: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** CIDRs never limited (monitoring, the resolvers in front). */
  readonly exempt: readonly string[];
}

/** What to do with a response: send it, send it truncated instead, or send nothing. */
export type RrlAction = 'send' | 'slip' | 'drop';

interface Bucket {
  tokens: number;
  /** When the tokens were last refilled (ms). */
  at: number;
  /** Responses limited so far (for the slip count). */
  limited: number;
}

/** Buckets kept at most; the oldest are forgotten first (a flood of fresh sources). */
const MAX_BUCKETS = 100_000;

/** The client network of `address` for the prefix lengths, as a short key. */
function networkOf(address: string, v4Prefix: number, v6Prefix: number): string {
  const bytes = addressBytes(address);
  if (bytes === undefined) return address;
  const bits = bytes.length === 4 ? v4Prefix : v6Prefix;
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = (out[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out.toString('latin1');
}

/** Token buckets per client network and kind of response (see the module comment). */
export class ResponseRateLimiter {
  readonly #settings: RrlSettings;
  readonly #exempt: Acl;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(settings: RrlSettings, clock: Clock = monotonicClock) {
    this.#settings = settings;
    this.#exempt = new Acl(settings.exempt);
    this.#clock = clock;
  }

  /**
   * The action for one UDP response to `client`. `kind` groups the responses that share a
   * bucket: the name and type of an answer, every NXDOMAIN of the zone together (a flood of
   * random names is one flood), each name's NODATA, and errors.
   */
  decide(client: string, kind: string): RrlAction {
    if (this.#exempt.allows(client)) return 'send';
    const { responsesPerSecond: rate, slip } = this.#settings;
    const key = `${networkOf(client, this.#settings.ipv4Prefix, this.#settings.ipv6Prefix)}|${kind}`;
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
      bucket = { tokens: rate, at: now, limited: 0 };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'send';
    }
    bucket.limited++;
    return slip > 0 && bucket.limited % slip === 0 ? 'slip' : 'drop';
  }

  /** Client networks and kinds tracked now. */
  get size(): number {
    return this.#buckets.size;
  }
}
