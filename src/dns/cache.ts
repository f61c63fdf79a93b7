/**
 * The cache of forwarded answers (lru-cache, bounded in entries and bytes). Entries are upstream
 * replies stored as wire messages without their OPT; serving one copies it, patches the ID and
 * the question's case, rewrites every TTL minus the time spent in the cache, truncates for the
 * client's transport and appends a fresh OPT. Positive answers live for their smallest TTL,
 * negative ones (NXDOMAIN, NODATA) for min(SOA TTL, SOA MINIMUM) (RFC 2308 5), SERVFAIL briefly;
 * with serve-stale, expired entries stay usable while every upstream fails (RFC 8767).
 * No sockets, no timers: time comes from the injected clock.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { ForwardCacheConfig } from '../config/index.js';
import type { Transport } from './response.js';
import { MAX_UDP_SIZE, sizeLimit } from './response.js';
import type { ReplyLayout } from './upstream-message.js';
import { isNegative, isShareableQuery, layoutOf, rrsFitting } from './upstream-message.js';
import type { Query } from './wire.js';
import {
  HEADER_SIZE,
  OPT_SIZE,
  RCODE,
  TYPE,
  copyBytes,
  lowerByte,
  setU16,
  u16,
  writeOpt,
} from './wire.js';

/** TTL of every record in a stale answer (RFC 8767 4 recommends 30 seconds). */
export const STALE_ANSWER_TTL = 30;

/** Bytes counted per entry on top of its message, for the `maxBytes` bound. */
const ENTRY_OVERHEAD = 160;

/** Bytes an entry is charged: the stored reply and its last rendering, the overhead. */
function entrySize(messageLength: number): number {
  return 2 * messageLength + ENTRY_OVERHEAD;
}

/** Murmur3's 32-bit finalizer: every input bit affects every output bit. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/**
 * True when the question in `stored` (a message whose question ends at `questionEnd`) is
 * `query`'s name (any case), type and class.
 */
function sameQuestion(stored: Buffer, questionEnd: number, msg: Buffer, query: Query): boolean {
  const end = questionEnd - 4;
  if (end !== query.qnameEnd) return false;
  for (let i = HEADER_SIZE; i < end; i++) {
    if (lowerByte(stored[i] ?? 0) !== lowerByte(msg[i] ?? 0)) return false;
  }
  return u16(stored, end) === query.qtype && u16(stored, end + 2) === query.qclass;
}

/** Settings of the cache: the `forward.cache` keys (TTLs in seconds) and a clock. */
export interface AnswerCacheOptions extends Omit<ForwardCacheConfig, 'enabled'> {
  readonly clock: Clock;
}

/** What an entry holds: a positive answer, a negative one, or a SERVFAIL. */
export type CacheEntryKind = 'positive' | 'negative' | 'servfail';

/**
 * A cached reply. A hit reads only the entry and its rendering (`body`), not `message`: few
 * objects, few cache lines, on the path that serves most forwarded queries.
 */
interface Entry {
  readonly kind: CacheEntryKind;
  /** The reply without OPT (ARCOUNT adjusted). */
  readonly message: Buffer;
  readonly rcode: number;
  readonly questionEnd: number;
  readonly counts: readonly [number, number, number];
  readonly rrEnds: Uint32Array;
  /** Pairs (offset of a TTL in `message`, the TTL as received). */
  readonly ttls: Uint32Array;
  readonly storedAtMs: number;
  readonly expiresAtMs: number;
  /**
   * The last rendering (see `render`): `message` cut for the size limit `budget` (minus the
   * OPT) with `arcount` additional RRs kept (the OPT not included), its TTLs showing `age`
   * whole seconds in the cache (-1: stale, 30 s). `budget` -1: none yet.
   */
  budget: number;
  age: number;
  body: Buffer;
  arcount: number;
}

/** `LRUCache.get` options, one object for every call (lru-cache writes `status` into it). */
const GET_OPTIONS: LRUCache.GetOptions<number, Entry, unknown> = {};

/** Lifetime in seconds of a reply in the cache, or 0 when it must not be cached. */
function lifetime(layout: ReplyLayout, options: AnswerCacheOptions): [number, CacheEntryKind] {
  if (layout.isTruncated) return [0, 'positive'];
  if (layout.rcode === RCODE.SERVFAIL) return [options.servfailTtl, 'servfail'];
  if (isNegative(layout)) {
    // RFC 2308 5: no SOA, no negative caching.
    if (layout.negativeTtl === undefined) return [0, 'negative'];
    const ttl = Math.min(layout.negativeTtl, layout.minTtl ?? Infinity, options.negativeMaxTtl);
    return [ttl, 'negative'];
  }
  if (layout.rcode !== RCODE.NOERROR) return [0, 'positive'];
  return [Math.min(layout.minTtl ?? 0, options.maxTtl), 'positive'];
}

/** Answers from upstreams, kept for their TTL. */
export class AnswerCache {
  readonly #options: AnswerCacheOptions;
  readonly #lru: LRUCache<number, Entry>;
  #evictions = 0;

  constructor(options: AnswerCacheOptions) {
    this.#options = options;
    this.#lru = new LRUCache<number, Entry>({
      max: Math.max(1, options.maxEntries),
      maxSize: Math.max(1, options.maxBytes),
      sizeCalculation: (entry) => entrySize(entry.message.length),
      dispose: (_entry, _key, reason) => {
        if (reason === 'evict') this.#evictions++;
      },
    });
  }

  /**
   * The cache key of a query: a 31-bit hash of the lower-cased QNAME (both `Query` hashes),
   * QTYPE, QCLASS and the DO, CD and RD bits; or undefined when its answer must not be shared
   * (zone transfers, TSIG or SIG(0), Client Subnet). A small integer keys the map several times
   * faster than a string (no string to build, hash or compare). A hit is checked against the
   * entry's question, so two questions under one key cost misses, never a wrong answer (among
   * 100k entries, about 5 such pairs).
   */
  static keyOf(msg: Buffer, query: Query): number | undefined {
    if (query.qtype === TYPE.AXFR || query.qtype === TYPE.IXFR) return undefined;
    if (!isShareableQuery(msg, query)) return undefined;
    const bits =
      (query.edns?.dnssecOk === true ? 1 : 0) |
      ((query.flags2 & 0x10) !== 0 ? 2 : 0) |
      ((query.flags1 & 0x01) !== 0 ? 4 : 0);
    const second = mix(query.nameHash2 ^ (bits << 16) ^ query.qclass);
    return mix(query.nameHash ^ Math.imul(second, 0x9e3779b1) ^ query.qtype) >> 1;
  }

  /** Number of entries, expired ones included. */
  get size(): number {
    return this.#lru.size;
  }

  /** Bytes accounted for the entries. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  /** Entries dropped to stay within `maxEntries`/`maxBytes` so far. */
  get evictions(): number {
    return this.#evictions;
  }

  /**
   * Serves a fresh entry for `query` (key from `keyOf`): the response to send, or undefined on
   * a miss. Expired entries are misses (and dropped unless they may still be served stale).
   */
  get(key: number, msg: Buffer, query: Query, transport: Transport): Buffer | undefined {
    const entry = this.#lru.get(key, GET_OPTIONS);
    if (entry === undefined) return undefined;
    const now = this.#options.clock.now();
    if (now < entry.expiresAtMs) return render(entry, msg, query, transport, now, false);
    if (!this.#isStaleUsable(entry, now)) this.#lru.delete(key);
    return undefined;
  }

  /**
   * Serves an expired (or fresh) answer for `query` with every TTL set to 30 s, when serve-stale
   * is on and the entry expired less than `staleTtl` ago. SERVFAIL entries are never served stale.
   */
  getStale(key: number, msg: Buffer, query: Query, transport: Transport): Buffer | undefined {
    if (!this.#options.serveStale) return undefined;
    const entry = this.#lru.get(key, GET_OPTIONS);
    if (entry === undefined || entry.kind === 'servfail') return undefined;
    const now = this.#options.clock.now();
    if (now < entry.expiresAtMs) return render(entry, msg, query, transport, now, false);
    if (!this.#isStaleUsable(entry, now)) return undefined;
    return render(entry, msg, query, transport, now, true);
  }

  #isStaleUsable(entry: Entry, now: number): boolean {
    return (
      this.#options.serveStale &&
      entry.kind !== 'servfail' &&
      now < entry.expiresAtMs + this.#options.staleTtl * 1000
    );
  }

  /**
   * Stores a reply under `key` if it may be cached (not truncated; NOERROR with a TTL above 0,
   * NXDOMAIN/NODATA with an SOA, or SERVFAIL) and returns what was stored, or undefined.
   */
  put(key: number, reply: Buffer, layout = layoutOf(reply)): CacheEntryKind | undefined {
    // Serving patches the client's question over the stored one: it must be there.
    if (layout === undefined || reply.readUInt16BE(4) !== 1) return undefined;
    const [ttl, kind] = lifetime(layout, this.#options);
    if (ttl <= 0) return undefined;
    const end = layout.opt === undefined ? reply.length : layout.opt.start;
    if (entrySize(end) > this.#options.maxBytes) return undefined;
    const message = Buffer.from(reply.subarray(0, end));
    const arcount = layout.counts[2] - (layout.opt === undefined ? 0 : 1);
    message.writeUInt16BE(arcount, 10);
    message.writeUInt16BE(0, 0);
    const ttls = new Uint32Array(layout.ttlOffsets.length * 2);
    for (let i = 0; i < layout.ttlOffsets.length; i++) {
      const off = layout.ttlOffsets[i] ?? 0;
      ttls[2 * i] = off;
      ttls[2 * i + 1] = reply.readUInt32BE(off) & 0x7fffffff;
    }
    const now = this.#options.clock.now();
    const entry: Entry = {
      kind,
      message,
      rcode: layout.rcode & 0x0f,
      questionEnd: layout.questionEnd,
      counts: [layout.counts[0], layout.counts[1], arcount],
      rrEnds: layout.rrEnds.slice(0, layout.counts[0] + layout.counts[1] + arcount),
      ttls,
      storedAtMs: now,
      expiresAtMs: now + ttl * 1000,
      budget: -1,
      age: 0,
      body: message,
      arcount,
    };
    this.#lru.set(key, entry);
    return kind;
  }

  /** Drops every entry. */
  clear(): void {
    this.#lru.clear();
  }
}

/**
 * Builds the response to `query` from an entry (see the module comment), or undefined when the
 * entry holds another question (a key collision). The cut for the client's size limit is kept
 * on the entry, and its TTLs are rewritten in place only when the entry's age in whole seconds
 * changed: a hit is then a copy and three patches (ID, question, OPT).
 */
function render(
  entry: Entry,
  msg: Buffer,
  query: Query,
  transport: Transport,
  now: number,
  isStale: boolean,
): Buffer | undefined {
  const optLength = query.edns === undefined ? 0 : OPT_SIZE;
  const budget = sizeLimit(transport, query.edns) - optLength;
  if (entry.budget !== budget) cut(entry, budget);
  const body = entry.body;
  if (!sameQuestion(body, entry.questionEnd, msg, query)) return undefined;
  const age = isStale ? -1 : Math.floor((now - entry.storedAtMs) / 1000);
  if (entry.age !== age) {
    const ttls = entry.ttls;
    for (let i = 0; i < ttls.length; i += 2) {
      const off = ttls[i] ?? 0;
      if (off >= body.length) break;
      const ttl = age < 0 ? STALE_ANSWER_TTL : Math.max(0, (ttls[i + 1] ?? 0) - age);
      body.writeUInt32BE(ttl, off);
    }
    entry.age = age;
  }
  const out = Buffer.allocUnsafe(body.length + optLength);
  out.set(body, 0);
  setU16(out, 0, query.id);
  // The question as this client sent it (same length: the key matched case-insensitively).
  copyBytes(msg, HEADER_SIZE, query.qnameEnd, out, HEADER_SIZE);
  setU16(out, 10, entry.arcount + (optLength > 0 ? 1 : 0));
  if (query.edns !== undefined) {
    writeOpt(out, body.length, MAX_UDP_SIZE, entry.rcode, query.edns.dnssecOk);
  }
  return out;
}

/** Renders the entry anew for `budget` bytes: a copy of the stored reply cut to whole RRs. */
function cut(entry: Entry, budget: number): void {
  const stored = entry.message;
  const total = entry.counts[0] + entry.counts[1] + entry.counts[2];
  let kept = total;
  let end = stored.length;
  if (end > budget) {
    kept = rrsFitting(entry.rrEnds, total, budget);
    end = kept === 0 ? entry.questionEnd : (entry.rrEnds[kept - 1] ?? entry.questionEnd);
  }
  const body = Buffer.from(stored.subarray(0, end));
  let arcount = entry.counts[2];
  if (kept < total) {
    const an = Math.min(kept, entry.counts[0]);
    const ns = Math.min(kept - an, entry.counts[1]);
    arcount = kept - an - ns;
    body.writeUInt16BE(an, 6);
    body.writeUInt16BE(ns, 8);
    // RFC 2181 9: TC only when required data (answer or authority) was left out.
    if (kept < entry.counts[0] + entry.counts[1]) body[2] = (body[2] ?? 0) | 0x02;
  }
  entry.budget = budget;
  entry.age = Number.NaN;
  entry.body = body;
  entry.arcount = arcount;
}
