/**
 * Growable typed lists for the builder, and the trimmed arrays a finished record set keeps. A
 * list starts from the build memory pool (arena.ts) under its role and reports the length it
 * reached, so that the next reservation fits.
 */
import { buildArena } from './arena.js';

/** A growable `Int32Array` (doubling), used while building. */
export class IntList {
  readonly #role: string;
  #items: Int32Array;
  length = 0;

  /** `role` names the list for `reserveBuildMemory`. */
  constructor(role: string, capacity: number) {
    this.#role = role;
    this.#items = buildArena.startInt32(role, capacity);
  }

  /** The backing array, longer than `length`; a push may replace it, so read it again after one. */
  get items(): Int32Array {
    return this.#items;
  }

  /** Appends `value`; returns its index. */
  push(value: number): number {
    if (this.length === this.#items.length) {
      const next = buildArena.int32(this.#items.length * 2);
      next.set(this.#items);
      this.#items = next;
    }
    this.#items[this.length] = value;
    return this.length++;
  }

  /** The filled part (see `finalInt32`); the list must not be used afterwards. */
  toInt32(): Int32Array {
    buildArena.noteSize(this.#role, this.length);
    return finalInt32(this.#items, this.length);
  }
}

/**
 * The first `length` items of `items` for a finished record set: a view when most of the
 * buffer is used (its untouched tail costs no resident memory), else an exact copy (in the
 * build's memory, arena.ts), so that a small set never carries a large reservation.
 */
export function finalInt32(items: Int32Array, length: number): Int32Array {
  if (length * 2 >= items.length) return items.subarray(0, length);
  const out = buildArena.int32(length);
  out.set(items.subarray(0, length));
  return out;
}

/** See `finalInt32`. */
export function finalUint8(items: Uint8Array, length: number): Uint8Array {
  if (length * 2 >= items.length) return items.subarray(0, length);
  const out = buildArena.uint8(length);
  out.set(items.subarray(0, length));
  return out;
}
