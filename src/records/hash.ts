import { hash } from 'node:crypto';

/** The z-base-32 alphabet (human-oriented base-32, as Mesos-DNS uses it). */
const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** Task ids up to this many characters are hashed in JavaScript when they are ASCII. */
const MAX_INLINE = 1000;

const block = new Uint8Array(Math.ceil((MAX_INLINE + 9) / 64) * 64);
const words = new Int32Array(80);

/**
 * The first 32 bits of the SHA-1 digest (FIPS 180-4) of an ASCII string, or -1 when the string
 * is not ASCII or too long. A hundred thousand task ids are hashed per state load: this avoids
 * one call into OpenSSL per id, which costs several times more than the arithmetic.
 */
function sha1Head(text: string): number {
  const n = text.length;
  if (n > MAX_INLINE) return -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    block[i] = c;
  }
  const blocks = ((n + 8) >>> 6) + 1;
  const end = blocks * 64;
  block[n] = 0x80;
  block.fill(0, n + 1, end - 4);
  const bits = n * 8;
  block[end - 4] = bits >>> 24;
  block[end - 3] = (bits >>> 16) & 255;
  block[end - 2] = (bits >>> 8) & 255;
  block[end - 1] = bits & 255;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const w = words;
  for (let b = 0; b < end; b += 64) {
    for (let i = 0; i < 16; i++) {
      const o = b + i * 4;
      w[i] =
        ((block[o] ?? 0) << 24) |
        ((block[o + 1] ?? 0) << 16) |
        ((block[o + 2] ?? 0) << 8) |
        (block[o + 3] ?? 0);
    }
    for (let i = 16; i < 80; i++) {
      const x = (w[i - 3] ?? 0) ^ (w[i - 8] ?? 0) ^ (w[i - 14] ?? 0) ^ (w[i - 16] ?? 0);
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let bb = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (bb & c) | (~bb & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = bb ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (bb & c) | (bb & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = bb ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] ?? 0)) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + bb) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  return h0 >>> 0;
}

/**
 * Returns the 5-character task-id hash of Mesos-DNS: sha1 of the UTF-8 bytes, z-base-32 encoded,
 * first 5 characters (the top 25 bits of the digest). `test` gives `iffe9`.
 */
export function taskIdHash(taskId: string): string {
  let top = sha1Head(taskId);
  if (top < 0) top = hash('sha1', taskId, 'buffer').readUInt32BE(0);
  let out = '';
  for (let shift = 27; shift >= 7; shift -= 5) {
    out += ZBASE32.charAt((top >>> shift) & 0x1f);
  }
  return out;
}
