import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { EnumerationLog, Zone } from '../../src/dns/index.js';
import {
  EMPTY_NODE,
  NO_NODE,
  ZoneRecordSet,
  answerReverse,
  applyChangeset,
  compileZone,
  findNode,
  fullBuildDiff,
  isProblem,
  nameKey,
  parseQuery,
  reverseZones,
} from '../../src/dns/index.js';
import type { State, Task, TaskChange } from '../../src/mesos/index.js';
import type { GeneratorOptions, RecordSet, ZoneUpdate } from '../../src/records/index.js';
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
  docker,
  framework,
  mesosContainer,
  netinfoStatus,
  options,
  prng,
  state,
  task,
} from '../../support/state-builder.js';
import { decodeMessage, encodeQuery } from '../../support/dns-message.js';
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
/** Reverse lookups on: two reverse zones; 172.18/172.19 and the agents' 10/8 lie outside them. */
const REVERSE_ZONES = ['17.172.in-addr.arpa.', '0.0.d.f.ip6.arpa.'];
const REVERSE = options({ hostIps: new Map(), reverse: { zones: REVERSE_ZONES } });
const APEXES = ['mesos.', ...REVERSE_ZONES];
/** The address views on (records/address-views.ts). */
const VIEWS = options({ hostIps: new Map(), addressViews: true });
/** The health rule on (records/health.ts). */
const HEALTH_OPTIONS = options({
  hostIps: new Map(),
  health: { mode: 'exclude-unhealthy', failOpen: true },
});

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
  const ptr = set.ptr?.get(name) ?? [];
  return JSON.stringify({ a, aaaa, srv, ptr });
}

/** Every name of a record set and its ancestors (for comparing existence). */
function namesOf(set: RecordSet): Set<string> {
  const out = new Set<string>();
  for (const kind of [set.a, set.aaaa, set.srv, set.ptr ?? new Map<string, string[]>()]) {
    for (const [name, values] of kind) {
      out.add(name);
      let n: string | undefined = name;
      while (n !== undefined && APEXES.some((apex) => n?.endsWith(apex))) {
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
 * The served view (base zone + updates) must answer every name exactly as a full build: its
 * records, and its DNS answers. The DNS answers (a dozen encoded and decoded messages per name)
 * are checked for every name unless `seen` is given: then only for the names whose records
 * differ from those in `seen` (what the batch changed), and `seen` is brought up to date.
 */
function assertSame(
  t: ExecutionContext,
  served: Zone,
  servedSet: RecordSet,
  current: State,
  label: string,
  opts: GeneratorOptions = OPTIONS,
  seen?: Map<string, string>,
  built?: { readonly full: CompactRecordSet; readonly fullZone: Zone },
): void {
  const full = built?.full ?? generateRecords(current, opts);
  const fullZone = built?.fullZone ?? compileZone(full, { ...SETTINGS, serial: 1 });
  const names = new Set([
    ...namesOf(full),
    ...namesOf(servedSet),
    'nothing.mesos.',
    '9.9.9.17.172.in-addr.arpa.',
  ]);
  for (const name of names) {
    const want = `${lookup(fullZone, full, name)} ${String(full.healthOf(name))}`;
    const got = `${lookup(served, servedSet, name)} ${String(servedSet.healthOf?.(name))}`;
    if (want !== got) {
      t.fail(`${label}: ${name}: full build ${want}, updates ${got}`);
      return;
    }
    if (seen !== undefined) {
      if (seen.get(name) === want) continue;
      seen.set(name, want);
    }
    // The DNS answers too (the authority step finds updated names through the overlay's
    // hashes), asked in upper case as well.
    for (const asked of [name, name.toUpperCase()]) {
      const wantAnswer = answered(fullZone, asked);
      const gotAnswer = answered(served, asked);
      if (wantAnswer !== gotAnswer) {
        t.fail(`${label}: ${asked}: full build ${wantAnswer}, updates ${gotAnswer}`);
        return;
      }
    }
  }
  t.pass();
}

/**
 * RCODE and sorted answers of A, AAAA and SRV queries for `name`, from the authority step (PTR
 * queries from the reverse zones' for reverse names: `forwarded` when it leaves them).
 */
function answered(zone: Zone, name: string): string {
  if (name.toLowerCase().endsWith('.arpa.')) {
    const query = encodeQuery(name, 'PTR', { edns: 4096 });
    const parsed = parseQuery(query);
    if (isProblem(parsed)) throw new Error(parsed.reason);
    const result = answerReverse(query, parsed, zone, reverseZones(REVERSE_ZONES), true, 'tcp');
    if (result === undefined) return 'forwarded';
    const m = decodeMessage(result.response);
    const data = m.answers.map((r) => JSON.stringify(r.data)).sort();
    return `PTR ${m.rcode} ${data.join(',')} ${m.authorities.map((r) => r.name).join(',')}`;
  }
  return ['A', 'AAAA', 'SRV']
    .map((type) => {
      const m = decodeMessage(askZone(zone, name, type, { edns: 4096, transport: 'tcp' }));
      const data = m.answers.map((r) => JSON.stringify(r.data)).sort();
      return `${type} ${m.rcode} ${data.join(',')}`;
    })
    .join('; ');
}

// Agent hostnames are only read for reverse lookups (PTR); ag-S3's is its IP (no PTR).
const AGENTS = [0, 1, 2, 3].map((i) => ({
  ...agent(`ag-S${String(i)}`, `10.0.0.${String(i + 1)}`),
  hostname: i === 3 ? '10.0.0.4' : `node-${String(i)}.example.org`,
}));
const APPS = ['web', 'api', 'db', 'cache', 'worker'];

/**
 * A random task. With `views` (the address-views run), it may also be a Docker bridge task with a
 * port mapping or a Mesos container, or have no address at all.
 */
function randomTask(
  rand: () => number,
  n: number,
  views = false,
  withHealth = false,
  shared = false,
): Task {
  const app = APPS[Math.floor(rand() * APPS.length)] ?? 'web';
  const r = rand();
  // With health, a second framework named `Marathon` shares the apps of the first.
  const fw = r < 0.7 ? 'fw-marathon' : withHealth && r < 0.8 ? 'fw-marathon-2' : 'fw-chronos';
  const withPorts = rand() < 0.6;
  const withDiscovery = rand() < 0.25;
  let ip =
    rand() < 0.15 ? `fd00::${String(n)}` : `172.17.${String(n % 200)}.${String(1 + (n % 250))}`;
  if (shared) {
    // Reverse lookups: a few tasks take an agent's address (no PTR of their own) or one of three
    // addresses that tasks of several apps share (a PTR per task).
    const s = rand();
    if (s < 0.08) ip = `10.0.0.${String(1 + (n % 4))}`;
    else if (s < 0.14) ip = `172.19.0.${String(1 + (n % 3))}`;
  }
  const shape = views ? rand() : 1;
  return task(app, AGENTS[Math.floor(rand() * AGENTS.length)]?.id ?? 'ag-S0', {
    id: `${app}.${String(n)}`,
    frameworkId: fw,
    statuses:
      shape < 0.1
        ? []
        : [{ ...netinfoStatus([ip], n), healthy: withHealth ? randomHealth(rand) : undefined }],
    ports: withPorts ? [{ begin: 31000 + n, end: 31000 + n + (n % 2) }] : [],
    discovery: withDiscovery
      ? discovery(app === 'db' ? 'DB.Main' : app, [
          { number: 8000 + (n % 3), protocol: 'tcp', name: 'http' },
        ])
      : undefined,
    container:
      shape < 0.4
        ? docker('BRIDGE', withPorts ? [{ host: 31000 + n, container: 80 + (n % 2) }] : [])
        : shape < 0.6
          ? mesosContainer()
          : undefined,
  });
}

/** Health values a random task may report (health on: about a third unhealthy). */
const HEALTH: readonly (boolean | undefined)[] = [true, false, undefined];

function randomHealth(rand: () => number): boolean | undefined {
  return HEALTH[Math.floor(rand() * HEALTH.length)];
}

/**
 * The task with other port mappings, as a re-sent `TASK_ADDED` may bring (address views only:
 * mapping or unmapping host ports moves autoip between the agent and the container).
 */
function remapped(old: Task, n: number): Task {
  const mapped = (old.container?.portMappings.length ?? 0) > 0;
  return {
    ...old,
    container: mapped
      ? mesosContainer()
      : docker('BRIDGE', [{ host: 32000 + (n % 100), container: 80, protocol: 'udp' }]),
  };
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

/**
 * Random batches of launches, kills, address changes and state flips (with the address views,
 * port mapping changes too), applied as updates to a full build, must answer every name like a
 * full build of the new state.
 */
function randomBatches(
  t: ExecutionContext,
  seeds: readonly number[],
  opts: GeneratorOptions,
): void {
  const views = opts.addressViews === true;
  const withHealth = opts.health !== undefined;
  const shared = opts.reverse !== undefined;
  let flips = 0;
  let failOpen = 0;
  for (const seed of seeds) {
    const rand = prng(seed);
    const empty = state({
      agents: AGENTS,
      frameworks: [
        framework('marathon', [], { id: 'fw-marathon' }),
        framework('chronos', [], { id: 'fw-chronos' }),
        // Another framework of the same name (the same records; the enumeration tells the two
        // apart by id).
        ...(withHealth ? [framework('marathon', [], { id: 'fw-marathon-2' })] : []),
      ],
    });
    let tasks: Task[] = [];
    let n = 0;
    for (let i = 0; i < 30; i++) tasks.push(randomTask(rand, n++, views, withHealth, shared));
    let current = withTasks(empty, tasks);
    const rebuild = (): { engine: IncrementalRecords; zone: Zone; base: CompactRecordSet } => {
      const { full, engine } = engineOver(current, opts);
      return { engine, zone: compileZone(full, { ...SETTINGS, serial: 1 }), base: full };
    };
    let { engine, zone, base } = rebuild();
    let log: EnumerationLog | undefined;
    const seen = new Map<string, string>();
    /** The served zone's RRs as text, from the batch before (undefined: to be read). */
    let served: Set<string> | undefined;
    let rebuilds = 0;
    let updates = 0;
    let diffs = 0;
    for (let batch = 0; batch < 40; batch++) {
      const before = new Map(tasks.map((x) => [x.id, x]));
      const touched = new Set<string>();
      const events = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < events; e++) {
        const r = rand();
        if (withHealth && r < 0.3 && tasks.length > 0) {
          // A health flip: a new TASK_RUNNING status with another `healthy`, same address.
          const i = Math.floor(rand() * tasks.length);
          const old = tasks[i];
          const last = old?.statuses.at(-1);
          if (old === undefined || last === undefined) continue;
          const healthy = randomHealth(rand);
          const flipped = {
            ...old,
            statuses: [{ ...last, timestamp: last.timestamp + 1, healthy }],
          };
          if (healthy !== last.healthy) flips++;
          tasks = tasks.map((x, j) => (j === i ? flipped : x));
          touched.add(old.id);
        } else if (r < 0.35 || tasks.length === 0) {
          const added = randomTask(rand, n++, views, withHealth, shared);
          tasks.push(added);
          touched.add(added.id);
        } else if (r < 0.65) {
          const i = Math.floor(rand() * tasks.length);
          const gone = tasks[i];
          if (gone === undefined) continue;
          tasks = tasks.filter((_, j) => j !== i);
          touched.add(gone.id);
        } else if (views && r < 0.75) {
          const i = Math.floor(rand() * tasks.length);
          const old = tasks[i];
          if (old === undefined) continue;
          const changed = remapped(old, n++);
          tasks = tasks.map((x, j) => (j === i ? changed : x));
          touched.add(old.id);
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
      const fullRecords = generateRecords(current, opts);
      if (update === undefined) {
        rebuilds++;
        ({ engine, zone, base } = rebuild());
        log = undefined;
        served = undefined;
      } else if (update !== 'unchanged') {
        updates++;
        const rrsBefore = served ?? rrTexts(new ZoneRecordSet(base, zone));
        const previous = zone;
        zone = applied(zone, update);
        t.is(zone.serial, previous.serial + 1);
        // The changeset's difference is exact: removed RRs were served, added ones were not,
        // and the served RRs moved by exactly that.
        const removed = rrTexts(new CompactRecordSet(update.removed));
        const added = rrTexts(new CompactRecordSet(update.added));
        const rrsAfter = rrTexts(new ZoneRecordSet(base, zone));
        served = rrsAfter;
        const expected = new Set([...rrsBefore].filter((rr) => !removed.has(rr)));
        for (const rr of added) expected.add(rr);
        t.true([...removed].every((rr) => rrsBefore.has(rr)));
        t.false([...added].some((rr) => rrsBefore.has(rr)));
        t.deepEqual([...rrsAfter].sort(), [...expected].sort());
        // A full build of the new state, diffed against the zone served before the update
        // (base and earlier updates), has the update's exact difference.
        const rebuilt = compileZone(fullRecords, { ...SETTINGS, serial: zone.serial });
        const diff = fullBuildDiff(previous, rebuilt);
        if (diff !== undefined) {
          t.deepEqual([...rrTexts(new CompactRecordSet(diff.removed))].sort(), [...removed].sort());
          t.deepEqual([...rrTexts(new CompactRecordSet(diff.added))].sort(), [...added].sort());
          diffs++;
        }
        // The zone applied to is left as it was (an HTTP response may still be reading it).
        if (batch % 10 === 9) {
          t.deepEqual(
            [...rrTexts(new ZoneRecordSet(base, previous))].sort(),
            [...rrsBefore].sort(),
          );
        }
        log = { change: update.enumeration, previous: log };
      }
      const servedSet = new ZoneRecordSet(base, zone, log);
      const label = `seed ${String(seed)} batch ${String(batch)}`;
      // Every name's DNS answers every tenth batch and after a rebuild; those of the names the
      // batch changed always (the answers of the others cannot move: the test runs in ~1/5 of
      // the time; it was the suite's second-costliest file).
      if (batch % 10 === 9 || update === undefined) seen.clear();
      const fullZone = compileZone(fullRecords, { ...SETTINGS, serial: 1 });
      assertSame(t, zone, servedSet, current, label, opts, seen, { full: fullRecords, fullZone });
      // /v1/enumerate follows too: the same tasks with the same records per framework.
      t.deepEqual(enumerationText(servedSet), enumerationText(fullRecords), label);
      // The counts (the zone gauges) follow every change.
      t.is(zone.names, fullZone.names, label);
      t.is(zone.rrs, fullZone.rrs, label);
      if (withHealth) {
        const health = fullRecords.stats.health;
        // The updater's counters (the metrics) follow every batch, unchanged records or not.
        t.is(engine.health?.excludedTasks, health?.excludedTasks, label);
        t.deepEqual(
          [...(engine.health?.failOpen ?? [])].sort(),
          [...(health?.failOpen ?? [])].sort(),
          label,
        );
        failOpen += health?.failOpen.length ?? 0;
      }
    }
    t.true(
      updates > 20,
      `seed ${String(seed)}: ${String(updates)} updates, ${String(rebuilds)} rebuilds`,
    );
    t.true(diffs > updates / 2, `seed ${String(seed)}: ${String(diffs)} diffs`);
  }
  if (withHealth) {
    t.true(flips > 30, `${String(flips)} health flips`);
    t.true(failOpen > 0, 'some app was all unhealthy');
  }
}

test('random batches of task changes, applied as updates, answer like a full build', (t) => {
  randomBatches(t, [1, 2, 3, 4, 5], OPTIONS);
});

test('with the address views on, random batches applied as updates answer like a full build', (t) => {
  randomBatches(t, [6, 7], VIEWS);
});

test('with reverse lookups, random batches answer PTR queries like a full build too', (t) => {
  // Fewer seeds: the batches are the same kind; seed 3 shares an address between two apps.
  randomBatches(t, [3, 6], REVERSE);
});

test('with records.health: exclude-unhealthy, random batches with health flips answer like a full build', (t) => {
  randomBatches(t, [6, 9, 10], HEALTH_OPTIONS);
});

test('with the health rule and the address views on, random batches answer like a full build', (t) => {
  randomBatches(
    t,
    [11, 12],
    options({
      hostIps: new Map(),
      addressViews: true,
      health: { mode: 'exclude-unhealthy', failOpen: true },
    }),
  );
});

/** A full build of `s` and an updater over a copy of it (the pipeline worker's setup). */
function engineOver(
  s: State,
  opts: GeneratorOptions = OPTIONS,
): { full: CompactRecordSet; engine: IncrementalRecords } {
  const full = generateRecords(s, opts);
  return {
    full,
    engine: new IncrementalRecords(new CompactRecordSet(cloneRecordData(full.data)), s, opts),
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
