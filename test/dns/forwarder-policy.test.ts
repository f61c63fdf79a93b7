/**
 * Upstream selection policies: a contract every policy keeps (each upstream once, healthy ones
 * first, down ones kept as a last resort), then what makes each policy what it is.
 */
import test from 'ava';
import { createPolicy } from '../../src/dns/index.js';
import type { PolicyName } from '../../src/dns/index.js';

interface Up {
  readonly name: string;
  isHealthy: boolean;
}

function ups(...names: string[]): Up[] {
  return names.map((name) => ({ name, isHealthy: true }));
}

const names = (list: readonly Up[]): string[] => list.map((u) => u.name);

/** A deterministic random source (a linear congruential generator). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const POLICIES: readonly PolicyName[] = ['sequential', 'random', 'round_robin'];

for (const name of POLICIES) {
  test(`${name}: returns every upstream exactly once`, (t) => {
    const policy = createPolicy(name, seeded(1));
    const list = ups('a', 'b', 'c', 'd');
    for (let i = 0; i < 20; i++)
      t.deepEqual(names(policy.order(list)).sort(), ['a', 'b', 'c', 'd']);
  });

  test(`${name}: puts healthy upstreams before those marked down`, (t) => {
    const policy = createPolicy(name, seeded(2));
    const list = ups('a', 'b', 'c', 'd');
    const [first, , third] = list;
    if (first === undefined || third === undefined) return;
    first.isHealthy = false;
    third.isHealthy = false;
    for (let i = 0; i < 20; i++) {
      const order = policy.order(list);
      t.deepEqual(
        order.map((u) => u.isHealthy),
        [true, true, false, false],
      );
    }
  });

  test(`${name}: still returns upstreams when all are down, and nothing for an empty list`, (t) => {
    const policy = createPolicy(name, seeded(3));
    const list = ups('a', 'b');
    for (const u of list) u.isHealthy = false;
    t.is(policy.order(list).length, 2);
    t.deepEqual(policy.order([]), []);
  });

  test(`${name}: does not modify the list it is given`, (t) => {
    const policy = createPolicy(name, seeded(4));
    const list = ups('a', 'b', 'c');
    policy.order(list);
    policy.order(list);
    t.deepEqual(names(list), ['a', 'b', 'c']);
  });
}

test('sequential keeps the configured order', (t) => {
  const policy = createPolicy('sequential');
  const list = ups('a', 'b', 'c');
  for (let i = 0; i < 5; i++) t.deepEqual(names(policy.order(list)), ['a', 'b', 'c']);
});

test('sequential skips an upstream marked down to the end, keeping the others in order', (t) => {
  const list = ups('a', 'b', 'c');
  const [first] = list;
  if (first !== undefined) first.isHealthy = false;
  t.deepEqual(names(createPolicy('sequential').order(list)), ['b', 'c', 'a']);
});

test('round_robin rotates the first upstream on every query', (t) => {
  const policy = createPolicy('round_robin');
  const list = ups('a', 'b', 'c');
  const firsts = Array.from({ length: 6 }, () => names(policy.order(list)).join(''));
  t.deepEqual(firsts, ['abc', 'bca', 'cab', 'abc', 'bca', 'cab']);
});

test('random puts every upstream first some of the time', (t) => {
  const policy = createPolicy('random', seeded(42));
  const list = ups('a', 'b', 'c');
  const firsts = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const first = policy.order(list)[0]?.name ?? '';
    firsts.set(first, (firsts.get(first) ?? 0) + 1);
  }
  t.deepEqual([...firsts.keys()].sort(), ['a', 'b', 'c']);
  for (const count of firsts.values()) t.true(count > 50, `${String(count)} of 300`);
});
