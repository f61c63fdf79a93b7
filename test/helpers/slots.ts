/** Bounds how many tasks of a test file run at once (process starts, CLI runs). */
import test from 'ava';
import type { ExecutionContext } from 'ava';

/** Runs at most `limit` tasks at once; the others wait in order. */
export class Slots {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

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
