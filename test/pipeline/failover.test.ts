// The failover rule (mesos.failover): the sanity guard's verdict and its hold.
import test from 'ava';
import type { Logger } from '../../src/log.js';
import { parseState } from '../../src/mesos/index.js';
import type { ParsedState } from '../../src/mesos/index.js';
import { sanityGuard, sanityVerdict } from '../../src/pipeline/failover.js';
import type {
  GuardInput,
  HoldStats,
  SanityInput,
  SanityVerdict,
} from '../../src/pipeline/failover.js';
import { generateRecords } from '../../src/records/index.js';
import type { RecordSet } from '../../src/records/index.js';
import { syntheticState } from '../../support/cluster.js';

const SOUND = { parsed: 10, skipped: 0 };
const BASE: SanityInput = {
  servedTasks: 100,
  tasks: 10,
  agents: SOUND,
  frameworks: SOUND,
  taskEntries: { parsed: 10, skipped: 90 },
  minRetained: 0.5,
  maxHoldMs: 600_000,
  heldForMs: undefined,
};

const VERDICTS: ReadonlyArray<readonly [string, Partial<SanityInput>, SanityVerdict]> = [
  ['a state whose tasks are mostly malformed and that lost most tasks is held', {}, 'hold'],
  [
    'so is one whose agents are malformed',
    {
      taskEntries: SOUND,
      agents: { parsed: 0, skipped: 3 },
    },
    'hold',
  ],
  [
    'or whose frameworks are',
    {
      taskEntries: SOUND,
      frameworks: { parsed: 1, skipped: 2 },
    },
    'hold',
  ],
  ['still held before maxHold', { heldForMs: 599_999 }, 'hold'],
  ['published at maxHold', { heldForMs: 600_000 }, 'publish-after-hold'],
  ['published once it keeps minRetained of the tasks', { tasks: 50 }, 'publish'],
  [
    'a cluster that really shrank (sound entries) is published',
    { taskEntries: { parsed: 10, skipped: 0 } },
    'publish',
  ],
  [
    'a few malformed entries in a shrinking cluster do not hold it',
    { taskEntries: { parsed: 10, skipped: 2 } },
    'publish',
  ],
  ['published on the first load', { servedTasks: undefined }, 'publish'],
  ['published when the served zone has no tasks', { servedTasks: 0, tasks: 0 }, 'publish'],
  ['minRetained 0 turns the guard off', { minRetained: 0 }, 'publish'],
];

for (const [title, over, want] of VERDICTS) {
  test(`sanityVerdict: ${title}`, (t) => {
    t.is(sanityVerdict({ ...BASE, ...over }), want);
  });
}

test('sanityGuard: running tasks on agents the state lacks count as broken; a hold is logged once', (t) => {
  const doc = syntheticState({ tasks: 40 });
  const sound = parseState(doc);
  const orphaned = parseState({ ...doc, slaves: doc.slaves.slice(0, 1) });
  const records = (parsed: ParsedState): RecordSet =>
    generateRecords(parsed.state, {
      domain: 'mesos',
      ipSources: ['netinfo', 'mesos', 'host'],
      enforceRFC952: false,
      nsName: 'ns1.mesos.',
      nsIps: ['127.0.0.1'],
      masters: [],
      hostIps: new Map(),
    });
  const lines: string[] = [];
  const logger: Logger = {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
    debug: (m) => lines.push(`debug ${m}`),
  };
  const hold: HoldStats = { heldLoads: 0, holdingSince: undefined };
  const servedTasks = records(sound).stats.tasks;
  const input = (parsed: ParsedState, now: number): GuardInput => ({
    parsed,
    records: records(parsed),
    info: { origin: 'test', bytes: 1, fetchMs: 1 },
    servedTasks,
    failover: { minRetained: 0.5, maxHoldMs: 60_000 },
    now,
  });
  t.false(sanityGuard(input(orphaned, 1000), hold, logger));
  t.false(sanityGuard(input(orphaned, 2000), hold, logger));
  t.deepEqual(hold, { heldLoads: 2, holdingSince: 1000 });
  t.is(lines.filter((l) => l.startsWith('error state held back')).length, 1);
  t.true(sanityGuard(input(sound, 3000), hold, logger));
  t.deepEqual(hold, { heldLoads: 2, holdingSince: undefined });
  t.true(lines.some((l) => l.startsWith('info the state is sound again')));
});
