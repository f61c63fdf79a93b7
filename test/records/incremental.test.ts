import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { EnumerationLog, Zone } from '../../src/dns/index.js';
import {
  EMPTY_NODE,
  NO_NODE,
  ZoneRecordSet,
  applyChangeset,
  compileZone,
  findNode,
  fullBuildDiff,
  nameKey,
} from '../../src/dns/index.js';
import type { State, Task, TaskChange } from '../../src/mesos/index.js';
import type { RecordSet, ZoneUpdate } from '../../src/records/index.js';
import {
  CompactRecordSet,
  IncrementalRecords,
  cloneRecordData,
  generateRecords,
  taskIdHash,
} from '../../src/records/index.js';
import {
  agent,
  discovery,
  framework,
  netinfoStatus,
  options,
  prng,
  state,
  task,
} from '../../support/state-builder.js';
import { decodeMessage } from '../../support/dns-message.js';
import { askZone } from '../../support/records-text.js';

const SOA = {
  mname: 'ns1.mesos.',
  rname: 'root.ns1.mesos.',
  refresh: 60,
  retry: 600,
  expire: 86400,
  minimum: 60,
};
const SETTINGS = { ttl: 60, srvWeight: 1, soa: SOA };
const OPTIONS = options({ hostIps: new Map() });

/** The zone an update gives, applied as the pipeline does (a changeset to the next serial). */
function applied(zone: Zone, update: ZoneUpdate): Zone {
  return applyChangeset(zone, {
    serialFrom: zone.serial,
    serialTo: zone.serial + 1,
    contents: update.records,
    names: update.names,
    removed: update.removed,
    added: update.added,
  });
}

/** Every RR of a record set as text (`name A 1.2.3.4`, `name SRV target:port`). */
function rrTexts(set: RecordSet): Set<string> {
  const out = new Set<string>();
  for (const [name, ips] of set.a) for (const ip of ips) out.add(`${name} A ${ip}`);
  for (const [name, ips] of set.aaaa) for (const ip of ips) out.add(`${name} AAAA ${ip}`);
  for (const [name, targets] of set.srv) {
    for (const s of targets) out.add(`${name} SRV ${s.target}:${String(s.port)}`);
  }
  return out;
}

/** The enumeration as sorted text per framework (the order of tasks aside). */
function enumerationText(set: RecordSet): string[] {
  return set.enumeration.map(
    (fw) =>
      `${fw.name}: ${fw.tasks
        .map((task) => JSON.stringify(task))
        .sort()
        .join(' ')}`,
  );
}

/** What a name is in a zone: records (their text), an empty non-terminal, or nothing. */
function lookup(zone: Zone, set: RecordSet, name: string): string {
  const node = findNode(zone, nameKey(name));
  if (node === NO_NODE) return 'NXDOMAIN';
  if (node === EMPTY_NODE) return 'ENT';
  const a = set.a.get(name) ?? [];
  const aaaa = set.aaaa.get(name) ?? [];
  const srv = (set.srv.get(name) ?? []).map((s) => `${s.target}:${String(s.port)}`);
  return JSON.stringify({ a, aaaa, srv });
}

/** Every name of a record set and its ancestors (for comparing existence). */
function namesOf(set: RecordSet): Set<string> {
  const out = new Set<string>();
  for (const kind of [set.a, set.aaaa, set.srv]) {
    for (const [name, values] of kind) {
      let n: string | undefined = name;
      while (n !== undefined && n.endsWith('mesos.')) {
        out.add(n);
        const dot: number = n.indexOf('.');
        n = dot < 0 || dot === n.length - 1 ? undefined : n.slice(dot + 1);
      }
      for (const v of values) if (typeof v !== 'string') out.add(v.target);
    }
  }
  return out;
}

/**
 * The served view (base zone + updates) must answer every name exactly as a full build of the
 * same state (`full`, compiled into `fullZone`).
 */
function assertSame(
  t: ExecutionContext,
  served: Zone,
  servedSet: RecordSet,
  full: RecordSet,
  fullZone: Zone,
  label: string,
): void {
  const names = new Set([...namesOf(full), ...namesOf(servedSet), 'nothing.mesos.']);
  for (const name of names) {
    const want = lookup(fullZone, full, name);
    const got = lookup(served, servedSet, name);
    if (want !== got) {
      t.fail(`${label}: ${name}: full build ${want}, updates ${got}`);
      return;
    }
    // The DNS answers too (the authority step finds updated names through the overlay's
    // hashes), asked in upper case as well.
    for (const asked of [name, name.toUpperCase()]) {
      for (const type of ['A', 'AAAA', 'SRV']) {
        const wantAnswer = askZone(fullZone, asked, type, ASKED);
        const gotAnswer = askZone(served, asked, type, ASKED);
        // The same bytes are the same answer; other bytes are compared by their meaning (the
        // order of the records may differ).
        if (wantAnswer.equals(gotAnswer)) continue;
        const [wantText, gotText] = [answerText(wantAnswer), answerText(gotAnswer)];
        if (wantText !== gotText) {
          t.fail(`${label}: ${asked} ${type}: full build ${wantText}, updates ${gotText}`);
          return;
        }
      }
    }
  }
  t.pass();
}

const ASKED = { edns: 4096, transport: 'tcp' } as const;

/** RCODE and sorted answers of a response from the authority step. */
function answerText(response: Buffer): string {
  const m = decodeMessage(response);
  const data = m.answers.map((r) => JSON.stringify(r.data)).sort();
  return `${m.rcode} ${data.join(',')}`;
}

const AGENTS = [0, 1, 2, 3].map((i) => agent(`ag-S${String(i)}`, `10.0.0.${String(i + 1)}`));
const APPS = ['web', 'api', 'db', 'cache', 'worker'];

function randomTask(rand: () => number, n: number): Task {
  const app = APPS[Math.floor(rand() * APPS.length)] ?? 'web';
  const fw = rand() < 0.7 ? 'fw-marathon' : 'fw-chronos';
  const withPorts = rand() < 0.6;
  const withDiscovery = rand() < 0.25;
  const ip =
    rand() < 0.15 ? `fd00::${String(n)}` : `172.17.${String(n % 200)}.${String(1 + (n % 250))}`;
  return task(app, AGENTS[Math.floor(rand() * AGENTS.length)]?.id ?? 'ag-S0', {
    id: `${app}.${String(n)}`,
    frameworkId: fw,
    statuses: [netinfoStatus([ip], n)],
    ports: withPorts ? [{ begin: 31000 + n, end: 31000 + n + (n % 2) }] : [],
    discovery: withDiscovery
      ? discovery(app === 'db' ? 'DB.Main' : app, [
          { number: 8000 + (n % 3), protocol: 'tcp', name: 'http' },
        ])
      : undefined,
  });
}

function withTasks(base: State, tasks: readonly Task[]): State {
  return {
    ...base,
    frameworks: base.frameworks.map((fw) => ({
      ...fw,
      tasks: tasks.filter((x) => x.frameworkId === fw.id),
    })),
  };
}

test('random batches of task changes, applied as updates, answer like a full build', (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rand = prng(seed);
    const empty = state({
      agents: AGENTS,
      frameworks: [
        framework('marathon', [], { id: 'fw-marathon' }),
        framework('chronos', [], { id: 'fw-chronos' }),
      ],
    });
    let tasks: Task[] = [];
    let n = 0;
    for (let i = 0; i < 30; i++) tasks.push(randomTask(rand, n++));
    let current = withTasks(empty, tasks);
    const rebuild = (): { engine: IncrementalRecords; zone: Zone; base: CompactRecordSet } => {
      const { full, engine } = engineOver(current);
      return { engine, zone: compileZone(full, { ...SETTINGS, serial: 1 }), base: full };
    };
    let { engine, zone, base } = rebuild();
    let log: EnumerationLog | undefined;
    let rebuilds = 0;
    let updates = 0;
    let diffs = 0;
    for (let batch = 0; batch < 40; batch++) {
      const before = new Map(tasks.map((x) => [x.id, x]));
      const touched = new Set<string>();
      const events = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < events; e++) {
        const r = rand();
        if (r < 0.35 || tasks.length === 0) {
          const added = randomTask(rand, n++);
          tasks.push(added);
          touched.add(added.id);
        } else if (r < 0.65) {
          const i = Math.floor(rand() * tasks.length);
          const gone = tasks[i];
          if (gone === undefined) continue;
          tasks = tasks.filter((_, j) => j !== i);
          touched.add(gone.id);
        } else if (r < 0.85) {
          const i = Math.floor(rand() * tasks.length);
          const old = tasks[i];
          if (old === undefined) continue;
          const moved = {
            ...old,
            statuses: [...old.statuses, netinfoStatus([`172.18.0.${String(n++ % 250)}`], n)],
          };
          tasks = tasks.map((x, j) => (j === i ? moved : x));
          touched.add(old.id);
        } else {
          const i = Math.floor(rand() * tasks.length);
          const old = tasks[i];
          if (old === undefined) continue;
          const flipped = {
            ...old,
            state: old.state === 'TASK_RUNNING' ? 'TASK_UNREACHABLE' : 'TASK_RUNNING',
          };
          tasks = tasks.map((x, j) => (j === i ? flipped : x));
          touched.add(old.id);
        }
      }
      current = withTasks(empty, tasks);
      const after = new Map(tasks.map((x) => [x.id, x]));
      const changes: TaskChange[] = [...touched].map((id) => ({
        before: before.get(id),
        after: after.get(id),
      }));
      const update = engine.apply(changes);
      // One full build of the new state serves every comparison below.
      const fullRecords = generateRecords(current, OPTIONS);
      let rebuilt: Zone | undefined;
      if (update === undefined) {
        rebuilds++;
        ({ engine, zone, base } = rebuild());
        log = undefined;
      } else if (update !== 'unchanged') {
        updates++;
        const rrsBefore = rrTexts(new ZoneRecordSet(base, zone));
        const previous = zone;
        zone = applied(zone, update);
        t.is(zone.serial, previous.serial + 1);
        // The changeset's difference is exact: removed RRs were served, added ones were not,
        // and the served RRs moved by exactly that.
        const removed = rrTexts(new CompactRecordSet(update.removed));
        const added = rrTexts(new CompactRecordSet(update.added));
        const rrsAfter = rrTexts(new ZoneRecordSet(base, zone));
        const expected = new Set([...rrsBefore].filter((rr) => !removed.has(rr)));
        for (const rr of added) expected.add(rr);
        t.true([...removed].every((rr) => rrsBefore.has(rr)));
        t.false([...added].some((rr) => rrsBefore.has(rr)));
        t.deepEqual([...rrsAfter].sort(), [...expected].sort());
        // A full build of the new state, diffed against the zone served before the update
        // (base and earlier updates), has the update's exact difference.
        rebuilt = compileZone(fullRecords, { ...SETTINGS, serial: zone.serial });
        const diff = fullBuildDiff(previous, rebuilt);
        if (diff !== undefined) {
          t.deepEqual([...rrTexts(new CompactRecordSet(diff.removed))].sort(), [...removed].sort());
          t.deepEqual([...rrTexts(new CompactRecordSet(diff.added))].sort(), [...added].sort());
          diffs++;
        }
        // The zone applied to is left as it was (an HTTP response may still be reading it).
        t.deepEqual([...rrTexts(new ZoneRecordSet(base, previous))].sort(), [...rrsBefore].sort());
        log = { change: update.enumeration, previous: log };
      }
      const servedSet = new ZoneRecordSet(base, zone, log);
      const label = `seed ${String(seed)} batch ${String(batch)}`;
      // The full build compiled at the served serial, so that equal answers are equal bytes.
      const fullZone = rebuilt ?? compileZone(fullRecords, { ...SETTINGS, serial: zone.serial });
      assertSame(t, zone, servedSet, fullRecords, fullZone, label);
      // /v1/enumerate follows too: the same tasks with the same records per framework.
      t.deepEqual(enumerationText(servedSet), enumerationText(fullRecords), label);
      // The counts (the zone gauges) follow every change.
      t.is(zone.names, fullZone.names, label);
      t.is(zone.rrs, fullZone.rrs, label);
    }
    t.true(
      updates > 20,
      `seed ${String(seed)}: ${String(updates)} updates, ${String(rebuilds)} rebuilds`,
    );
    t.true(diffs > updates / 2, `seed ${String(seed)}: ${String(diffs)} diffs`);
  }
});

/** A full build of `s` and an updater over a copy of it (the pipeline worker's setup). */
function engineOver(s: State): { full: CompactRecordSet; engine: IncrementalRecords } {
  const full = generateRecords(s, OPTIONS);
  return {
    full,
    engine: new IncrementalRecords(new CompactRecordSet(cloneRecordData(full.data)), s, OPTIONS),
  };
}

/**
 * web.1 of app `web`, and a task of another app whose name is web.1's canonical name: its T1 is
 * web.1's T2 (`web-<hash>-s0.marathon.mesos.`).
 */
function sharedNameTasks(): { web: Task; contrived: Task } {
  return {
    web: task('web', 'ag-S0', {
      id: 'web.1',
      frameworkId: 'fw-marathon',
      statuses: [netinfoStatus(['172.17.0.1'])],
    }),
    contrived: task(`web-${taskIdHash('web.1')}-s0`, 'ag-S0', {
      id: 'x.1',
      frameworkId: 'fw-marathon',
      statuses: [netinfoStatus(['172.17.0.9'])],
    }),
  };
}

test('a name another app also owns makes the batch a full rebuild', (t) => {
  const { web, contrived } = sharedNameTasks();
  const s = state({
    agents: AGENTS,
    frameworks: [framework('marathon', [web, contrived], { id: 'fw-marathon' })],
  });
  const { engine } = engineOver(s);
  t.is(engine.apply([{ before: web, after: undefined }]), undefined);
});

test('the last task of an app going away removes its names and the empty non-terminals above them', (t) => {
  const web = task('web', 'ag-S0', {
    id: 'web.1',
    frameworkId: 'fw-marathon',
    statuses: [netinfoStatus(['172.17.0.1'])],
    ports: [{ begin: 31000, end: 31000 }],
  });
  const s = state({
    agents: AGENTS,
    frameworks: [framework('marathon', [web], { id: 'fw-marathon' })],
  });
  const { full, engine } = engineOver(s);
  const update = engine.apply([{ before: web, after: undefined }]);
  if (update === undefined || update === 'unchanged') return t.fail('expected an update');
  const zone = applied(compileZone(full, { ...SETTINGS, serial: 1 }), update);
  const set = new ZoneRecordSet(full, zone);
  t.is(lookup(zone, set, 'web.marathon.mesos.'), 'NXDOMAIN');
  t.is(lookup(zone, set, '_web._tcp.marathon.mesos.'), 'NXDOMAIN');
  t.is(lookup(zone, set, '_tcp.marathon.mesos.'), 'NXDOMAIN');
  t.is(lookup(zone, set, 'marathon.mesos.'), 'NXDOMAIN');
  t.is(lookup(zone, set, 'slave.mesos.') !== 'NXDOMAIN', true, 'agent records stay');
  t.is(zone.serial, 2);
});

test('a name another app also owns does not stop a batch that leaves it alone', (t) => {
  // Launching web.2 changes `web.marathon.mesos.`, not web.1's canonical name.
  const { web: web1, contrived } = sharedNameTasks();
  const web2 = task('web', 'ag-S0', {
    id: 'web.2',
    frameworkId: 'fw-marathon',
    statuses: [netinfoStatus(['172.17.0.2'])],
  });
  const before = state({
    agents: AGENTS,
    frameworks: [framework('marathon', [web1, contrived], { id: 'fw-marathon' })],
  });
  const after = state({
    agents: AGENTS,
    frameworks: [framework('marathon', [web1, contrived, web2], { id: 'fw-marathon' })],
  });
  const { engine } = engineOver(before);
  const update = engine.apply([{ before: undefined, after: web2 }]);
  if (update === undefined || update === 'unchanged') {
    t.fail(`expected an update, got ${String(update)}`);
    return;
  }
  const updated = new CompactRecordSet(update.records);
  const names = [...update.names].map((id) => updated.name(id));
  t.true(names.includes('web.marathon.mesos.'));
  t.false(
    names.includes(`web-${taskIdHash('web.1')}-s0.marathon.mesos.`),
    'the shared name is kept',
  );
  const expected = generateRecords(after, OPTIONS);
  for (const name of names) {
    t.deepEqual(updated.a.get(name) ?? [], expected.a.get(name) ?? [], name);
  }
});
