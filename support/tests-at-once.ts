/**
 * `testsAtOnce`, apart from `Slots` because it imports ava: the benchmark imports the helpers
 * that use `Slots`, and ava refuses to be imported outside a test run.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Slots } from './slots.js';

/**
 * A `test` of which at most `limit` run at once, for files whose tests each start a few servers
 * and then mostly wait (timeouts, refreshes, failovers): one at a time wastes the waits, all at
 * once starves a 2-core machine.
 */
export function testsAtOnce(
  limit: number,
): (title: string, implementation: (t: ExecutionContext) => Promise<void>) => void {
  const slots = new Slots(limit);
  return (title, implementation) => {
    test(title, (t) => slots.run(() => implementation(t)));
  };
}
