/**
 * The reload transaction (SIGHUP): read the config file, prepare what the new config needs (the
 * new state source), bind the listeners whose address changed, then commit. Everything that can
 * fail happens before anything running is touched, so a reload is applied whole or not at all:
 * a bad file or a failed preparation leaves everything as it was, and a listener that cannot
 * bind undoes what the preparation made. Reloads run one at a time; requests that arrive during
 * one are folded into one more run.
 *
 * The steps are injected (serve.ts wires the real ones), so that the transaction is tested
 * without processes, sockets or signals (test/serve/reload.test.ts).
 */

/** The steps of one reload, in order. */
export interface ReloadSteps<C, P, R> {
  /** The config running now. */
  readonly current: () => C;
  /** Reads and checks the config file; throws to reject it. */
  readonly read: () => C;
  /** Makes what the new config needs before commit; throws to reject the reload. */
  readonly prepare: (previous: C, next: C) => Promise<P>;
  /** Binds the listeners that change; throws (having undone its own binds) to reject. */
  readonly rebind: (previous: C, next: C) => Promise<R>;
  /** Undoes `prepare` after a later step rejected the reload. */
  readonly discard: (prepared: P) => void;
  /** Applies the new config; from here on the reload is not undone. */
  readonly commit: (previous: C, next: C, prepared: P, rebound: R) => Promise<void>;
}

/** How one reload ended. */
export type ReloadOutcome =
  | { readonly result: 'applied' }
  /** Rejected before anything changed: at `read`/`prepare` ('config') or `rebind` ('listeners'). */
  | { readonly result: 'rejected'; readonly stage: 'config' | 'listeners'; readonly error: unknown }
  /** `commit` threw: the new config is partly applied. */
  | { readonly result: 'failed'; readonly error: unknown };

/** Runs reload transactions one at a time (see the module comment). */
export class Reloader<C, P, R> {
  readonly #steps: ReloadSteps<C, P, R>;
  readonly #onOutcome: (outcome: ReloadOutcome) => void;
  #isRunning = false;
  #isPending = false;
  #idle: Promise<void> = Promise.resolve();

  constructor(steps: ReloadSteps<C, P, R>, onOutcome: (outcome: ReloadOutcome) => void) {
    this.#steps = steps;
    this.#onOutcome = onOutcome;
  }

  /** Asks for a reload: runs one now, or one more after the running one. */
  request(): void {
    this.#isPending = true;
    if (this.#isRunning) return;
    this.#isRunning = true;
    this.#idle = (async () => {
      while (this.#isPending) {
        this.#isPending = false;
        this.#onOutcome(await this.#once());
      }
      this.#isRunning = false;
    })();
  }

  /** Resolves when no reload runs or waits. */
  idle(): Promise<void> {
    return this.#idle;
  }

  async #once(): Promise<ReloadOutcome> {
    const steps = this.#steps;
    const previous = steps.current();
    let next: C;
    let prepared: P;
    try {
      next = steps.read();
      prepared = await steps.prepare(previous, next);
    } catch (error) {
      return { result: 'rejected', stage: 'config', error };
    }
    let rebound: R;
    try {
      rebound = await steps.rebind(previous, next);
    } catch (error) {
      steps.discard(prepared);
      return { result: 'rejected', stage: 'listeners', error };
    }
    try {
      await steps.commit(previous, next, prepared, rebound);
    } catch (error) {
      return { result: 'failed', error };
    }
    return { result: 'applied' };
  }
}
