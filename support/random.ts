/**
 * Deterministic randomness for the benchmark: the synthetic cluster, the query file and the
 * stream section's event generator draw from it, so that two runs with the same seed see the
 * same cluster, the same queries and the same churn.
 */

/** A seeded pseudo-random source (mulberry32): the same seed gives the same sequence. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** Creates a `Random` from a 32-bit seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(list: readonly T[]): T => {
      const item = list[int(list.length)];
      if (item === undefined) throw new Error('Random.pick: empty list');
      return item;
    },
    chance: (p: number): boolean => next() < p,
  };
}
