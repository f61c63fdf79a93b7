/**
 * Name text rules shared by the builder and every lookup: the FNV-1a hash of a name's bytes, the
 * size of a hash table of names, and name validity (RFC 1035 2.3.4). `RecordBuilder.part`
 * (builder.ts) applies the hash and the validity check inline, in the one pass that copies a
 * name; these functions are the reference for both.
 *
 * The hash is shared with the zone index of dns/zone.ts, which hashes wire-format keys the same
 * way (dns/wire.ts computes it while parsing a query), so a name hashes alike wherever it is read.
 */

/** FNV-1a offset basis and prime (32-bit). */
export const FNV_OFFSET = 0x811c9dc5 | 0;
/** See `FNV_OFFSET`. */
export const FNV_PRIME = 0x01000193;

/** FNV-1a over `length` bytes of `bytes` from `offset`. */
export function hashBytes(bytes: Uint8Array, offset: number, length: number): number {
  let h = FNV_OFFSET;
  for (let i = offset; i < offset + length; i++) h = Math.imul(h ^ (bytes[i] ?? 0), FNV_PRIME);
  return h;
}

/** FNV-1a over the char codes (all below 256) of `text`; equals `hashBytes` of its latin1 bytes. */
export function hashString(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** Smallest power of two >= 2n (a load factor of at most one half), at least 16. */
export function tableSize(n: number): number {
  let size = 16;
  while (size < n * 2) size *= 2;
  return size;
}

/** Longest name text: 255 bytes on the wire are 254 characters with the trailing dot. */
export const MAX_NAME_TEXT = 254;
/** Longest label (RFC 1035 2.3.4). */
export const MAX_LABEL = 63;

/**
 * Checks a lower-case FQDN with the trailing dot: every label non-empty, at most 63 bytes and of
 * printable ASCII other than space, the whole name at most 255 bytes on the wire (RFC 1035 2.3.4).
 */
export function isValidName(name: string): boolean {
  // Wire length is the text length plus one (a length byte per label plus the root byte).
  if (name.length > MAX_NAME_TEXT || !name.endsWith('.')) return false;
  let labelLength = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      if (labelLength === 0 || labelLength > MAX_LABEL) return false;
      labelLength = 0;
    } else if (c < 0x21 || c > 0x7e) {
      return false;
    } else {
      labelLength++;
    }
  }
  return true;
}
