/**
 * TSIG (RFC 8945): shared-secret signatures on zone transfers and NOTIFY. A signed message ends
 * with one TSIG RR (owner the key name, class ANY, TTL 0) whose MAC is an HMAC over
 *
 * - the request's MAC (MAC size and MAC), when the message answers a signed request;
 * - the message as it was before signing (TSIG removed, ARCOUNT one less, the original ID);
 * - the TSIG variables: key name and algorithm name in canonical form (lower case, uncompressed),
 *   class, TTL, time signed, fudge, error and other data.
 *
 * In a multi-message answer (a zone transfer over TCP) each later message is signed over the
 * previous message's MAC, the message and the timers (time signed, fudge) only (RFC 8945
 * 5.3.1). This module signs every message of such an answer, which every verifier accepts.
 *
 * Pure: no sockets; the time comes from the caller (seconds since the epoch).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TsigAlgorithmName } from '../config/index.js';
import {
  CLASS,
  HEADER_SIZE,
  MAX_NAME_WIRE,
  TYPE_TSIG,
  encodeName,
  lowerByte,
  setU16,
  u16,
} from './wire.js';

/** NOTAUTH: the rcode of a request whose TSIG did not verify (RFC 8945 5.2). */
export const RCODE_NOTAUTH = 9;

/** TSIG error codes (RFC 8945 3). */
export const TSIG_ERROR = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

/** Hash and MAC length of each algorithm (RFC 8945 6). */
const HASHES: Readonly<Record<TsigAlgorithm, { readonly hash: string; readonly size: number }>> = {
  'hmac-md5': { hash: 'md5', size: 16 },
  'hmac-sha1': { hash: 'sha1', size: 20 },
  'hmac-sha224': { hash: 'sha224', size: 28 },
  'hmac-sha256': { hash: 'sha256', size: 32 },
  'hmac-sha384': { hash: 'sha384', size: 48 },
  'hmac-sha512': { hash: 'sha512', size: 64 },
};

/** Algorithm names as configured (`hmac-md5` is short for its long wire name). */
export type TsigAlgorithm = TsigAlgorithmName;

/** Fudge of the messages mesodns signs: how far clocks may differ (RFC 8945 10 suggests 300). */
export const DEFAULT_FUDGE = 300;

/** A shared key. */
export interface TsigKey {
  /** The key name, lower case, with the trailing dot. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** The keys a server accepts, by name. */
export type TsigKeyring = ReadonlyMap<string, TsigKey>;

/** A keyring of `keys` (the names are folded to their canonical form). */
export function keyring(keys: readonly TsigKey[]): TsigKeyring {
  return new Map(keys.map((k) => [canonicalName(k.name), { ...k, name: canonicalName(k.name) }]));
}

/** `name` lower case with one trailing dot. */
function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** The wire name of an algorithm (`hmac-sha256.`). */
function algorithmWireName(algorithm: TsigAlgorithm): string {
  return algorithm === 'hmac-md5' ? 'hmac-md5.sig-alg.reg.int.' : `${algorithm}.`;
}

function hashOf(algorithm: TsigAlgorithm): string {
  return HASHES[algorithm].hash;
}

/** The TSIG RR of a message, as read. */
export interface TsigRecord {
  /** Offset of the RR in the message (where the unsigned message ends). */
  readonly start: number;
  /** Key and algorithm names in canonical text form (`key.`, `hmac-sha256.`). */
  readonly keyName: string;
  readonly algorithmName: string;
  /** Canonical wire forms of the same (what the MAC covers). */
  readonly keyWire: Buffer;
  readonly algorithmWire: Buffer;
  /** Time signed, seconds since the epoch (48 bits). */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

/**
 * Reads a name at `off` (compression pointers followed, at most 255 bytes) into its canonical
 * wire form. Returns the name and the offset after it in place, or undefined when malformed.
 */
export function readCanonicalName(
  msg: Uint8Array,
  off: number,
): { readonly wire: Buffer; readonly text: string; readonly end: number } | undefined {
  const out: number[] = [];
  let text = '';
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    if (off >= msg.length) return undefined;
    const len = msg[off] ?? 0;
    if ((len & 0xc0) === 0xc0) {
      if (off + 2 > msg.length) return undefined;
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | (msg[off + 1] ?? 0);
      continue;
    }
    if ((len & 0xc0) !== 0) return undefined;
    if (len === 0) {
      out.push(0);
      if (end < 0) end = off + 1;
      if (out.length > MAX_NAME_WIRE) return undefined;
      return { wire: Buffer.from(out), text: text === '' ? '.' : text, end };
    }
    if (off + 1 + len > msg.length) return undefined;
    out.push(len);
    for (let i = off + 1; i <= off + len; i++) {
      const c = lowerByte(msg[i] ?? 0);
      out.push(c);
      text += String.fromCharCode(c);
    }
    text += '.';
    off += len + 1;
    if (out.length > MAX_NAME_WIRE) return undefined;
  }
  return undefined;
}

/**
 * Walks the question and the RRs before the last one: where the last RR starts, and whether an
 * RR before it is a TSIG; undefined when the message does not add up.
 */
function lastRR(
  msg: Uint8Array,
  total: number,
): { readonly start: number; readonly tsigBefore: boolean } | undefined {
  let off = HEADER_SIZE;
  const qdcount = u16(msg, 4);
  for (let i = 0; i < qdcount; i++) {
    const name = readCanonicalName(msg, off);
    if (name === undefined || name.end + 4 > msg.length) return undefined;
    off = name.end + 4;
  }
  let tsigBefore = false;
  for (let i = 0; i < total - 1; i++) {
    const name = readCanonicalName(msg, off);
    if (name === undefined || name.end + 10 > msg.length) return undefined;
    if (u16(msg, name.end) === TYPE_TSIG) tsigBefore = true;
    off = name.end + 10 + u16(msg, name.end + 8);
    if (off > msg.length) return undefined;
  }
  return { start: off, tsigBefore };
}

/**
 * The message's TSIG: `undefined` when it has none, `'malformed'` when a TSIG is not the last
 * RR, is not of class ANY, or its RDATA does not add up (FORMERR, RFC 8945 5.2).
 */
export function readTsig(msg: Uint8Array): TsigRecord | 'malformed' | undefined {
  if (msg.length < HEADER_SIZE) return 'malformed';
  const total = u16(msg, 6) + u16(msg, 8) + u16(msg, 10);
  if (total === 0) return undefined;
  // Any TSIG but the last RR of the additional section makes the message malformed.
  const last = lastRR(msg, total);
  if (last === undefined) return 'malformed';
  const { start, tsigBefore } = last;
  const owner = readCanonicalName(msg, start);
  if (owner === undefined || owner.end + 10 > msg.length) return 'malformed';
  if (u16(msg, owner.end) !== TYPE_TSIG) return tsigBefore ? 'malformed' : undefined;
  if (u16(msg, 10) === 0 || tsigBefore) return 'malformed';
  if (u16(msg, owner.end + 2) !== CLASS.ANY) return 'malformed';
  const rdStart = owner.end + 10;
  const rdEnd = rdStart + u16(msg, owner.end + 8);
  if (rdEnd !== msg.length) return 'malformed';
  const algorithm = readCanonicalName(msg, rdStart);
  if (algorithm === undefined) return 'malformed';
  let off = algorithm.end;
  if (off + 10 > rdEnd) return 'malformed';
  const timeSigned = u16(msg, off) * 2 ** 32 + u16(msg, off + 2) * 65536 + u16(msg, off + 4);
  const fudge = u16(msg, off + 6);
  const macSize = u16(msg, off + 8);
  off += 10;
  if (off + macSize + 6 > rdEnd) return 'malformed';
  const mac = Buffer.from(msg.subarray(off, off + macSize));
  off += macSize;
  const originalId = u16(msg, off);
  const error = u16(msg, off + 2);
  const otherLen = u16(msg, off + 4);
  off += 6;
  if (off + otherLen !== rdEnd) return 'malformed';
  return {
    start,
    keyName: owner.text,
    algorithmName: algorithm.text,
    keyWire: owner.wire,
    algorithmWire: algorithm.wire,
    timeSigned,
    fudge,
    mac,
    originalId,
    error,
    other: Buffer.from(msg.subarray(off, rdEnd)),
  };
}

/** The message as it was before `tsig` was added: TSIG cut off, ARCOUNT less one, original ID. */
function unsigned(msg: Uint8Array, tsig: TsigRecord): Buffer {
  const out = Buffer.from(msg.subarray(0, tsig.start));
  setU16(out, 0, tsig.originalId);
  setU16(out, 10, u16(out, 10) - 1);
  return out;
}

/** 48-bit time signed and 16-bit fudge. */
function timers(timeSigned: number, fudge: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUIntBE(timeSigned, 0, 6);
  out.writeUInt16BE(fudge, 6);
  return out;
}

/** MAC size and MAC, as a request MAC or prior MAC enters a digest. */
function sizedMac(mac: Buffer): Buffer {
  const out = Buffer.alloc(2 + mac.length);
  out.writeUInt16BE(mac.length, 0);
  mac.copy(out, 2);
  return out;
}

/** The TSIG variables (RFC 8945 4.3.3). */
function variables(
  keyWire: Buffer,
  algorithmWire: Buffer,
  timeSigned: number,
  fudge: number,
  error: number,
  other: Buffer,
): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(CLASS.ANY, 0); // class, then TTL 0
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(error, 0);
  tail.writeUInt16BE(other.length, 2);
  return Buffer.concat([keyWire, fixed, algorithmWire, timers(timeSigned, fudge), tail, other]);
}

/** Why a signed message was not accepted; `rcode` is what to answer. */
export interface TsigFailure {
  readonly ok: false;
  /** FORMERR for a malformed TSIG, else NOTAUTH. */
  readonly rcode: number;
  /** The TSIG error to put in the answer's TSIG (0 with FORMERR). */
  readonly error: number;
  readonly reason: string;
  /** The request's TSIG, when it could be read (the answer echoes its key and algorithm). */
  readonly tsig: TsigRecord | undefined;
  /** The key, when known (a BADTIME answer is signed with it). */
  readonly key: TsigKey | undefined;
}

/** A verified message: its key and its MAC (the request MAC of the answer). */
export interface TsigSuccess {
  readonly ok: true;
  readonly key: TsigKey;
  readonly tsig: TsigRecord;
}

/**
 * Verifies the TSIG of `msg` (RFC 8945 5.2 for requests, 5.3 for answers to `requestMac`):
 * the key must be in `keys` with the same algorithm (BADKEY), the MAC must match in full
 * (BADSIG; a truncated MAC is refused with BADTRUNC), and `nowSeconds` must lie within fudge of
 * the time signed (BADTIME).
 */
export function verifyTsig(
  msg: Uint8Array,
  tsig: TsigRecord,
  keys: TsigKeyring,
  nowSeconds: number,
  requestMac?: Buffer,
): TsigSuccess | TsigFailure {
  const key = keys.get(tsig.keyName);
  const fail = (rcode: number, error: number, reason: string, k?: TsigKey): TsigFailure => ({
    ok: false,
    rcode,
    error,
    reason,
    tsig,
    key: k,
  });
  if (key === undefined)
    return fail(RCODE_NOTAUTH, TSIG_ERROR.BADKEY, `unknown key ${tsig.keyName}`);
  if (algorithmWireName(key.algorithm) !== tsig.algorithmName) {
    return fail(
      RCODE_NOTAUTH,
      TSIG_ERROR.BADKEY,
      `key ${tsig.keyName} is not ${tsig.algorithmName}`,
    );
  }
  const full = HASHES[key.algorithm].size;
  if (tsig.mac.length > full || tsig.mac.length < Math.max(10, full / 2)) {
    return fail(1, 0, `MAC of ${String(tsig.mac.length)} bytes`);
  }
  if (tsig.mac.length < full) {
    return fail(RCODE_NOTAUTH, TSIG_ERROR.BADTRUNC, 'truncated MAC', key);
  }
  const expected = createHmac(hashOf(key.algorithm), key.secret)
    .update(requestMac === undefined ? Buffer.alloc(0) : sizedMac(requestMac))
    .update(unsigned(msg, tsig))
    .update(
      variables(
        tsig.keyWire,
        tsig.algorithmWire,
        tsig.timeSigned,
        tsig.fudge,
        tsig.error,
        tsig.other,
      ),
    )
    .digest();
  if (!timingSafeEqual(expected, tsig.mac)) {
    return fail(RCODE_NOTAUTH, TSIG_ERROR.BADSIG, `bad signature with key ${tsig.keyName}`);
  }
  if (Math.abs(nowSeconds - tsig.timeSigned) > tsig.fudge) {
    return fail(
      RCODE_NOTAUTH,
      TSIG_ERROR.BADTIME,
      `signed at ${String(tsig.timeSigned)}, now ${String(nowSeconds)} (fudge ${String(tsig.fudge)})`,
      key,
    );
  }
  return { ok: true, key, tsig };
}

/** Builds a TSIG RR. */
function tsigRR(
  keyWire: Buffer,
  algorithmWire: Buffer,
  timeSigned: number,
  fudge: number,
  mac: Buffer,
  originalId: number,
  error: number,
  other: Buffer,
): Buffer {
  const rdata = Buffer.concat([
    algorithmWire,
    timers(timeSigned, fudge),
    sizedMac(mac),
    Buffer.from([originalId >>> 8, originalId & 255, error >>> 8, error & 255]),
    sizedMac(other),
  ]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(TYPE_TSIG, 0);
  head.writeUInt16BE(CLASS.ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([keyWire, head, rdata]);
}

/** `msg` with `rr` appended to its additional section. */
function appendRR(msg: Uint8Array, rr: Buffer): Buffer {
  const out = Buffer.concat([msg, rr]);
  setU16(out, 10, u16(out, 10) + 1);
  return out;
}

/**
 * Signs the messages of one exchange with one key: a request (no request MAC), or the answer
 * to a verified request (its MAC), in as many messages as it takes. The first message is signed
 * over the TSIG variables, every later one over the previous MAC and the timers (RFC 8945
 * 5.3.1).
 */
export class TsigSigner {
  readonly #key: TsigKey;
  readonly #keyWire: Buffer;
  readonly #algorithmWire: Buffer;
  readonly #now: () => number;
  #previous: Buffer | undefined;
  #first = true;

  /** `now` gives seconds since the epoch. */
  constructor(key: TsigKey, now: () => number, requestMac?: Buffer) {
    this.#key = key;
    this.#keyWire = encodeName(key.name);
    this.#algorithmWire = encodeName(algorithmWireName(key.algorithm));
    this.#now = now;
    this.#previous = requestMac;
  }

  /** The MAC of the last message signed (to verify the answer to a signed request). */
  get lastMac(): Buffer | undefined {
    return this.#previous;
  }

  /** `msg` (complete but for the TSIG) with its TSIG appended; `error` for a BADTIME answer. */
  sign(msg: Uint8Array, error = 0): Buffer {
    const timeSigned = Math.floor(this.#now());
    const other =
      error === TSIG_ERROR.BADTIME ? timers(timeSigned, 0).subarray(0, 6) : Buffer.alloc(0);
    const hmac = createHmac(hashOf(this.#key.algorithm), this.#key.secret);
    if (this.#previous !== undefined) hmac.update(sizedMac(this.#previous));
    hmac.update(msg);
    hmac.update(
      this.#first
        ? variables(this.#keyWire, this.#algorithmWire, timeSigned, DEFAULT_FUDGE, error, other)
        : timers(timeSigned, DEFAULT_FUDGE),
    );
    const mac = hmac.digest();
    this.#first = false;
    this.#previous = mac;
    const rr = tsigRR(
      this.#keyWire,
      this.#algorithmWire,
      timeSigned,
      DEFAULT_FUDGE,
      mac,
      u16(msg, 0),
      error,
      other,
    );
    return appendRR(msg, rr);
  }
}

/**
 * `msg` with an unsigned TSIG that reports `error` (BADKEY, BADSIG: the answer cannot be signed,
 * RFC 8945 5.2): the request's key and algorithm names, an empty MAC.
 */
export function unsignedTsigError(
  msg: Uint8Array,
  request: TsigRecord,
  error: number,
  nowSeconds: number,
): Buffer {
  const rr = tsigRR(
    request.keyWire,
    request.algorithmWire,
    Math.floor(nowSeconds),
    DEFAULT_FUDGE,
    Buffer.alloc(0),
    u16(msg, 0),
    error,
    Buffer.alloc(0),
  );
  return appendRR(msg, rr);
}

/**
 * The answer to a message whose TSIG did not verify (RFC 8945 5.2): `answer` (the error
 * response with the failure's rcode) and a TSIG saying why: signed with the key for BADTIME, so
 * that the sender can trust the server's time in it; unsigned otherwise.
 */
export function tsigRefusal(
  answer: Uint8Array,
  request: TsigRecord,
  failure: TsigFailure,
  nowSeconds: () => number,
): Buffer {
  return failure.error === TSIG_ERROR.BADTIME && failure.key !== undefined
    ? new TsigSigner(failure.key, nowSeconds, request.mac).sign(answer, failure.error)
    : unsignedTsigError(answer, request, failure.error, nowSeconds());
}

/**
 * Verifies the messages of a multi-message answer in turn (a TSIG-signed transfer read by a
 * client, or a test): the first against the request MAC with the full variables, the rest
 * against the previous MAC with the timers only. Every message must be signed.
 */
export class TsigVerifier {
  readonly #keys: TsigKeyring;
  readonly #now: () => number;
  #previous: Buffer;
  #first = true;

  constructor(keys: TsigKeyring, now: () => number, requestMac: Buffer) {
    this.#keys = keys;
    this.#now = now;
    this.#previous = requestMac;
  }

  /** Verifies the next message; a failure says why. */
  verify(msg: Uint8Array): TsigSuccess | TsigFailure | 'unsigned' | 'malformed' {
    const tsig = readTsig(msg);
    if (tsig === undefined) return 'unsigned';
    if (tsig === 'malformed') return 'malformed';
    if (this.#first) {
      const result = verifyTsig(msg, tsig, this.#keys, this.#now(), this.#previous);
      if (result.ok) {
        this.#first = false;
        this.#previous = tsig.mac;
      }
      return result;
    }
    const key = this.#keys.get(tsig.keyName);
    if (key === undefined) {
      return {
        ok: false,
        rcode: RCODE_NOTAUTH,
        error: TSIG_ERROR.BADKEY,
        reason: 'key changed',
        tsig,
        key,
      };
    }
    const expected = createHmac(hashOf(key.algorithm), key.secret)
      .update(sizedMac(this.#previous))
      .update(unsigned(msg, tsig))
      .update(timers(tsig.timeSigned, tsig.fudge))
      .digest();
    if (expected.length !== tsig.mac.length || !timingSafeEqual(expected, tsig.mac)) {
      return {
        ok: false,
        rcode: RCODE_NOTAUTH,
        error: TSIG_ERROR.BADSIG,
        reason: 'bad signature',
        tsig,
        key,
      };
    }
    this.#previous = tsig.mac;
    return { ok: true, key, tsig };
  }
}
