/**
 * Upstream selection policies (`forward.policy`): the order in which a query tries its
 * upstreams. Healthy upstreams come first in policy order; upstreams marked down follow, in the
 * same order, as a last resort. Pure apart from the injected random source.
 */

/** The policies `forward.policy` accepts. */
export type PolicyName = 'sequential' | 'random' | 'round_robin';

/** Something a policy can order: it only needs to know whether it is healthy. */
export interface Candidate {
  readonly isHealthy: boolean;
}

/** Orders the upstreams of one query. */
export interface Policy {
  readonly name: PolicyName;
  /** Returns every item of `list` once, healthy ones first, in the order to try them. */
  order<T extends Candidate>(list: readonly T[]): T[];
}

/** Healthy items first, each group in the order given (stable). */
function healthyFirst<T extends Candidate>(items: readonly T[]): T[] {
  const healthy: T[] = [];
  const down: T[] = [];
  for (const item of items) (item.isHealthy ? healthy : down).push(item);
  return down.length === 0 ? healthy : healthy.concat(down);
}

/**
 * Creates a policy. `sequential`: list order (Mesos-DNS). `random`: a fresh shuffle per query.
 * `round_robin`: list order rotated by one more position on every query. One policy instance per
 * upstream list, so that each list rotates on its own.
 */
export function createPolicy(name: PolicyName, random: () => number = Math.random): Policy {
  switch (name) {
    case 'sequential':
      return { name, order: (list) => healthyFirst(list) };
    case 'random':
      return {
        name,
        order: (list) => {
          const copy = list.slice();
          for (let i = copy.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            const t = copy[i];
            const u = copy[j];
            if (t === undefined || u === undefined) continue;
            copy[i] = u;
            copy[j] = t;
          }
          return healthyFirst(copy);
        },
      };
    case 'round_robin': {
      let next = 0;
      return {
        name,
        order: (list) => {
          if (list.length === 0) return [];
          const start = next % list.length;
          next = (start + 1) % list.length;
          return healthyFirst(list.slice(start).concat(list.slice(0, start)));
        },
      };
    }
  }
}
