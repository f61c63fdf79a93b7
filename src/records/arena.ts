/**
 * The build memory pool: typed arrays reserved for the next full build, by role, and the lengths
 * the last build reached. The builder (builder.ts) and its growable lists (int-list.ts) take their
 * first arrays here and report the lengths they reached. The pool is per thread: a worker thread
 * loads its own copy of this module.
 */
import { tableSize } from './name-hash.js';

/**
 * What a build of a 100k-task cluster uses, in items per role: the reservation before the first
 * build (later ones follow the previous build).
 */
const FIRST_BUILD_PER_TASK: Readonly<Record<string, number>> = {
  'names.bytes': 200,
  'names.end': 5,
  'names.hash': 5,
  'names.table': 5,
  'log.kindPort': 12,
  'log.name': 12,
  'log.value': 12,
  'tasks.text': 2,
  'tasks.log': 1,
  ...Object.fromEntries(
    [0, 1, 2].flatMap((k) => [
      [`k${String(k)}.keys`, 3],
      [`k${String(k)}.head`, 3],
      [`k${String(k)}.tail`, 3],
      [`k${String(k)}.count`, 3],
      [`k${String(k)}.values`, k === 1 ? 1 : 7],
      [`k${String(k)}.next`, k === 1 ? 1 : 7],
      [`k${String(k)}.ports`, k === 2 ? 7 : 0],
      [`k${String(k)}.slot`, 5],
      [`k${String(k)}.start`, 3],
      [`k${String(k)}.csr`, k === 1 ? 1 : 7],
    ]),
  ),
};

/**
 * Initial capacity of the growable arrays of a small build (`withoutReserve`): an incremental
 * update has a few dozen names; the full build's starting sizes (up to 64 KiB per array) would
 * make every update allocate a megabyte.
 */
const SMALL_CAPACITY = 64;

/**
 * Typed arrays reserved in advance for the next build, by role. Allocating a build's arrays while
 * a large state is on the heap makes V8 run full collections (external memory pressure), each a
 * pause of a few hundred milliseconds with a 100k-task state. A thread that builds repeatedly
 * (the pipeline worker) reserves them with `reserveBuildMemory` while its heap is small; pages
 * of a reservation that a build does not touch cost no resident memory.
 */
export class BuildArena {
  /** The reserved arrays, by role; a build takes each at most once. */
  readonly #reserved = new Map<string, Int32Array | Uint8Array>();
  /** Lengths the last build reached, by role. */
  readonly #lastSizes = new Map<string, number>();
  /** False while `withoutReserve` runs: small builds neither take nor size the reservation. */
  #isPooled = true;
  /** Whether pooled builds put their arrays on SharedArrayBuffers (`shareBuildMemory`). */
  #isShared = false;

  /** Records the length list `role` reached in a build, to size the next reservation after it. */
  noteSize(role: string, used: number): void {
    if (this.#isPooled) this.#lastSizes.set(role, used);
  }

  /** See the exported `withoutReserve`. */
  withoutReserve<T>(build: () => T): T {
    const was = this.#isPooled;
    this.#isPooled = false;
    try {
      return build();
    } finally {
      this.#isPooled = was;
    }
  }

  /** See the exported `shareBuildMemory`. */
  share(): void {
    if (this.#isShared) return;
    this.#isShared = true;
    this.#reserved.clear();
  }

  /**
   * A new (zeroed) array of `length` items for a build: on a SharedArrayBuffer when pooled builds
   * are shared (`shareBuildMemory`), else on its own ArrayBuffer.
   */
  int32(length: number): Int32Array {
    return this.#isPooled && this.#isShared
      ? new Int32Array(new SharedArrayBuffer(length * 4))
      : new Int32Array(length);
  }

  /** See `int32`. */
  uint8(length: number): Uint8Array {
    return this.#isPooled && this.#isShared
      ? new Uint8Array(new SharedArrayBuffer(length))
      : new Uint8Array(length);
  }

  /** See `int32`. */
  uint16(length: number): Uint16Array {
    return this.#isPooled && this.#isShared
      ? new Uint16Array(new SharedArrayBuffer(length * 2))
      : new Uint16Array(length);
  }

  /** The first array of a growable list (small for a small build, see `SMALL_CAPACITY`). */
  startInt32(role: string, capacity: number): Int32Array {
    return this.#isPooled
      ? this.takeInt32(role, capacity)
      : new Int32Array(Math.min(capacity, SMALL_CAPACITY));
  }

  /** An array of at least `capacity` items for `role`: the reserved one when it is large enough. */
  takeInt32(role: string, capacity: number): Int32Array {
    if (!this.#isPooled) return new Int32Array(capacity);
    const reserved = this.#reserved.get(role);
    if (reserved instanceof Int32Array && reserved.length >= capacity) {
      this.#reserved.delete(role);
      return reserved;
    }
    return this.int32(capacity);
  }

  /** See `takeInt32` (bytes; small outside the pool, like `startInt32`). */
  takeUint8(role: string, capacity: number): Uint8Array {
    if (!this.#isPooled) return new Uint8Array(Math.min(capacity, SMALL_CAPACITY * 16));
    const reserved = this.#reserved.get(role);
    if (reserved instanceof Uint8Array && reserved.length >= capacity) {
      this.#reserved.delete(role);
      return reserved;
    }
    return this.uint8(capacity);
  }

  /** See the exported `reserveBuildMemory`. */
  reserve(tasks: number): void {
    this.#reserved.clear();
    const sizes: [string, number][] =
      this.#lastSizes.size > 0
        ? [...this.#lastSizes]
        : Object.entries(FIRST_BUILD_PER_TASK).map(([role, perTask]) => [role, perTask * tasks]);
    for (const [role, used] of sizes) {
      if (used <= 0) continue;
      let length = Math.ceil(used * 1.25) + 1024;
      if (role === 'names.table') length = tableSize(length) * 2;
      this.#reserved.set(role, role.endsWith('.bytes') ? this.uint8(length) : this.int32(length));
    }
  }
}

/**
 * This thread's pool: the one every builder in the thread draws from, so that the reservation
 * made between loads is found by the next build.
 */
export const buildArena = new BuildArena();

/**
 * Runs `build` (small record sets, e.g. the incremental updates of a streamed zone) without
 * touching the memory reserved for the next full build, and without sizing the next
 * reservation after it.
 */
export function withoutReserve<T>(build: () => T): T {
  return buildArena.withoutReserve(build);
}

/**
 * Reserves the typed arrays of the next `generateRecords` in this thread: a quarter more than
 * the last build used, or, before any build, enough for `tasks` tasks. Replaces any earlier
 * reservation. Output never depends on it; only the time a build spends collecting garbage does.
 */
export function reserveBuildMemory(tasks = 100_000): void {
  buildArena.reserve(tasks);
}

/**
 * Makes this thread's full builds write their arrays on SharedArrayBuffers (the pipeline worker:
 * its records are posted to the main thread, which then shares them instead of taking them, and
 * the worker keeps reading them; no copy either way). Small builds (`withoutReserve`) stay
 * private. The first call drops the current reservation, which was not shared.
 */
export function shareBuildMemory(): void {
  buildArena.share();
}
