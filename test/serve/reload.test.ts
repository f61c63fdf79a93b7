/**
 * The reload transaction without processes (issue #17): each step's failure leaves what ran
 * before it as it was, and SIGHUPs during a reload fold into one more run.
 */
import test from 'ava';
import type { ReloadOutcome, ReloadSteps } from '../../src/serve/reload.js';
import { Reloader } from '../../src/serve/reload.js';

interface Config {
  readonly name: string;
}

/** Fake steps that record the calls; a step named in `fail` throws. */
function harness(fail: readonly string[] = []): {
  calls: string[];
  outcomes: ReloadOutcome[];
  reloader: Reloader<Config, string, string>;
  running: { config: Config };
  gate: { open: () => void; wait: Promise<void> | undefined };
} {
  const calls: string[] = [];
  const outcomes: ReloadOutcome[] = [];
  const running = { config: { name: 'v0' } };
  let version = 0;
  const gate: { open: () => void; wait: Promise<void> | undefined } = {
    open: () => undefined,
    wait: undefined,
  };
  const step = (name: string): void => {
    calls.push(name);
    if (fail.includes(name)) throw new Error(`${name} failed`);
  };
  const steps: ReloadSteps<Config, string, string> = {
    current: () => running.config,
    read: () => {
      step('read');
      version++;
      return { name: `v${String(version)}` };
    },
    prepare: (previous, next) => {
      step(`prepare ${previous.name}->${next.name}`);
      return Promise.resolve(`source ${next.name}`);
    },
    rebind: (_previous, next) => {
      step(`rebind ${next.name}`);
      return Promise.resolve(`listeners ${next.name}`);
    },
    discard: (prepared) => {
      calls.push(`discard ${prepared}`);
    },
    commit: async (_previous, next, prepared, rebound) => {
      step(`commit ${next.name} with ${prepared}, ${rebound}`);
      if (gate.wait !== undefined) await gate.wait;
      running.config = next;
    },
  };
  const reloader = new Reloader(steps, (o) => outcomes.push(o));
  return { calls, outcomes, reloader, running, gate };
}

test('a reload reads, prepares, binds, then commits', async (t) => {
  const h = harness();
  h.reloader.request();
  await h.reloader.idle();
  t.deepEqual(h.calls, [
    'read',
    'prepare v0->v1',
    'rebind v1',
    'commit v1 with source v1, listeners v1',
  ]);
  t.deepEqual(h.outcomes, [{ result: 'applied' }]);
  t.is(h.running.config.name, 'v1');
});

test('a config that does not read is rejected before anything is prepared', async (t) => {
  const h = harness(['read']);
  h.reloader.request();
  await h.reloader.idle();
  t.deepEqual(h.calls, ['read']);
  t.like(h.outcomes[0], { result: 'rejected', stage: 'config' });
  t.is(h.running.config.name, 'v0');
});

test('a failed preparation rejects the reload; nothing is bound', async (t) => {
  const h = harness(['prepare v0->v1']);
  h.reloader.request();
  await h.reloader.idle();
  t.deepEqual(h.calls, ['read', 'prepare v0->v1']);
  t.like(h.outcomes[0], { result: 'rejected', stage: 'config' });
  t.is(h.running.config.name, 'v0');
});

test('listeners that cannot bind reject the reload and discard what was prepared', async (t) => {
  const h = harness(['rebind v1']);
  h.reloader.request();
  await h.reloader.idle();
  t.deepEqual(h.calls, ['read', 'prepare v0->v1', 'rebind v1', 'discard source v1']);
  const outcome = h.outcomes[0];
  t.like(outcome, { result: 'rejected', stage: 'listeners' });
  if (outcome?.result === 'rejected') t.regex(String(outcome.error), /rebind v1 failed/);
  t.is(h.running.config.name, 'v0');
});

test('a commit that throws is reported as failed, and the next reload still runs', async (t) => {
  const h = harness(['commit v1 with source v1, listeners v1']);
  h.reloader.request();
  await h.reloader.idle();
  t.like(h.outcomes[0], { result: 'failed' });
  h.reloader.request();
  await h.reloader.idle();
  t.deepEqual(h.outcomes[1], { result: 'applied' });
  t.is(h.running.config.name, 'v2');
});

test('signals during a reload fold into one more reload, from the config it left', async (t) => {
  const h = harness();
  h.gate.wait = new Promise<void>((resolve) => {
    h.gate.open = resolve;
  });
  h.reloader.request();
  // Three more SIGHUPs while the first reload waits in its commit.
  h.reloader.request();
  h.reloader.request();
  h.reloader.request();
  h.gate.open();
  await h.reloader.idle();
  t.deepEqual(
    h.calls.filter((c) => c.startsWith('prepare')),
    ['prepare v0->v1', 'prepare v1->v2'],
  );
  t.deepEqual(h.outcomes, [{ result: 'applied' }, { result: 'applied' }]);
  t.is(h.running.config.name, 'v2');
});
