/**
 * DNS label functions, byte-for-byte as Mesos-DNS computes them (docs/mesos-dns-rules.md 1).
 *
 * These reproduce upstream exactly, including the "refill" quirk that can leave a trailing dash.
 * The generator is what guarantees that no emitted name has an empty label or one over 63 bytes.
 */

/** A label function: maps an arbitrary string to a DNS label (possibly empty). */
export type LabelFunction = (name: string) => string;

/** Maximum label length of RFC 1123 labels (RFC 1035 2.3.4). */
export const RFC1123_MAX = 63;

/** Maximum label length of RFC 952 labels. */
export const RFC952_MAX = 24;

const DASH = 0x2d;

/**
 * Maps every character to its label counterpart: `A-Z` lower-cased, `a-z0-9` kept, `-._` become
 * `-`, anything else (including every non-ASCII character) dropped.
 */
function mapChars(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
      out += name.charAt(i);
    } else if (c >= 0x41 && c <= 0x5a) {
      out += String.fromCharCode(c + 0x20);
    } else if (c === DASH || c === 0x2e || c === 0x5f) {
      out += '-';
    }
  }
  return out;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Index of the first character at or after `from` that is not a dash. */
function skipDashes(s: string, from: number): number {
  let i = from;
  while (i < s.length && s.charCodeAt(i) === DASH) i++;
  return i;
}

/**
 * Trims the left cutset, cuts at `max`, trims trailing dashes, then refills the removed dashes
 * from the text after the cut (skipping its leading dashes), as upstream `trimCut` does.
 */
function trimCut(mapped: string, max: number, trimDigitsLeft: boolean): string {
  let start = 0;
  while (start < mapped.length) {
    const c = mapped.charCodeAt(start);
    if (c === DASH || (trimDigitsLeft && isDigit(c))) start++;
    else break;
  }
  const trimmed = mapped.slice(start);
  const size = Math.min(trimmed.length, max);
  let headEnd = size;
  while (headEnd > 0 && trimmed.charCodeAt(headEnd - 1) === DASH) headEnd--;
  const head = trimmed.slice(0, headEnd);
  if (headEnd === size) return head;
  const tailStart = skipDashes(trimmed, size);
  return head + trimmed.slice(tailStart, tailStart + (size - headEnd));
}

/**
 * Returns the RFC 1123 label of `name` (Mesos-DNS default): at most 63 characters of
 * `[a-z0-9-]`, never starting with `-`.
 */
export const rfc1123Label: LabelFunction = (name) => trimCut(mapChars(name), RFC1123_MAX, false);

/**
 * Returns the RFC 952 label of `name` (`EnforceRFC952`): at most 24 characters of `[a-z0-9-]`,
 * never starting with `-` or a digit.
 */
export const rfc952Label: LabelFunction = (name) => trimCut(mapChars(name), RFC952_MAX, true);

/** Returns the label function selected by the `enforceRFC952` option. */
export function labelFunction(enforceRFC952: boolean): LabelFunction {
  return enforceRFC952 ? rfc952Label : rfc1123Label;
}

/**
 * Returns the domain fragment of a framework name: split on `.`, apply `label` to each part,
 * drop empty parts, join with `.` (so `marathon-0.6.0-dev` stays several labels).
 */
export function domainFragment(name: string, label: LabelFunction): string {
  const parts: string[] = [];
  for (const part of name.split('.')) {
    const l = label(part);
    if (l !== '') parts.push(l);
  }
  return parts.join('.');
}
