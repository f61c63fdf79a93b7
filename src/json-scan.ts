/**
 * The native byte scanner of json-slices.ts (native/json_scan.c): the same loop in C, jumping
 * over strings with `memchr`, for the bytes of the slices a large state document is cut into (a
 * re-subscription's 178 MB snapshot at 100k tasks is read in about half the time). Optional,
 * like every addon (src/native.ts): without it the JavaScript loop does the work.
 */
import { loadAddon } from './native.js';

/**
 * `scan(buf, start, state, brackets)`: see native/json_scan.c. `state` is
 * [inString, escaped, depth, newlines, last newline, stopped at].
 */
export type NativeScan = (
  buf: Uint8Array,
  start: number,
  state: Int32Array,
  brackets: Uint8Array,
) => number;

/** Length of the scanner's `state`. */
export const SCAN_STATE_LENGTH = 6;

let scan: NativeScan | null | undefined;

/** The native scanner, or undefined when the addon cannot be loaded. */
export function nativeScan(): NativeScan | undefined {
  if (scan === undefined) {
    const { module } = loadAddon('json_scan');
    scan =
      typeof module === 'object' &&
      module !== null &&
      'scan' in module &&
      typeof module.scan === 'function'
        ? (module.scan as NativeScan)
        : null;
  }
  return scan ?? undefined;
}
