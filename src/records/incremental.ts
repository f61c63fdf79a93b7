/**
 * Incremental updates of a record set (issue #8: a streamed zone re-encodes only the names that
 * changed). Pure: a full record set (the base), the state it was built from and the generator
 * options in; for each batch of task changes, the new content of every name the batch touched
 * out, as a small `RecordData` (a zone update) or, when the batch cannot be applied safely, a
 * request for a full rebuild.
 *
 * How a batch is applied:
 * 1. Every task record's name is built from the task's app: its framework's fragment and task
 *    label (`appKey`). The tasks of each app a change touches are regenerated twice with
 *    `generateTaskRecords`: as they were before the batch and as they are after it. The health
 *    rule (health.ts) judges an app by all its tasks, so it is regenerated whole there too.
 * 2. The names whose values differ between the two generations are the touched names (a name
 *    the apps give the same values before and after keeps what is served, whoever else
 *    contributes to it). For each one, the served values (base, or an earlier update) must be
 *    exactly the app's old values: if anything else also contributes to the name (a framework
 *    or agent record, another app's contrived name such as a task literally called
 *    `web-abcde-s1`), the update would drop it, so the batch asks for a full rebuild instead.
 * 3. The touched names get the new values; value order is the order a full build would give
 *    (the app's tasks in state order). Names that come into or go out of existence change their
 *    ancestors' existence (RFC 8020 empty non-terminals); a count of existing children per name
 *    keeps that exact, and changed ancestors join the update as empty non-terminals or as
 *    removed names.
 *
 * Each update also carries its exact difference (the records removed and added, difference.ts),
 * which makes it a changeset (dns/changeset.ts). Changed names accumulate until the caller decides a full
 * rebuild is due (`changedNames`), which starts over from a new base.
 */
import type { State, Task, TaskChange } from '../mesos/index.js';
import { appKey, generateTaskRecords } from './generator.js';
import { domainFragment, labelFunction } from './labels.js';
import type { LabelFunction } from './labels.js';
import { withoutReserve } from './arena.js';
import { RecordBuilder } from './builder.js';
import { DifferenceBuilder, NO_STATS, NO_VALUES, addValues, srvText } from './difference.js';
import type { NameValues } from './difference.js';
import type { RecordData } from './layout.js';
import type { CompactRecordSet } from './views.js';
import { lazyEnumeration } from './views.js';
import { HEALTH_NONE } from './health.js';
import type { HealthStats } from './health.js';
import type {
  ChangedFramework,
  EnumeratedTaskKey,
  EnumerationChange,
  GeneratorOptions,
  RecordSet,
} from './types.js';

/** The new content of the names a batch touched. */
export interface ZoneUpdate {
  /**
   * The names, with their records; empty non-terminals marked; a name with neither no longer
   * exists. SRV targets are interned too (with their records when they were touched).
   */
  readonly records: RecordData;
  /** Ids (in `records`) of the names the update replaces; SRV-only targets are not listed. */
  readonly names: Int32Array;
  /** The records the update removes and adds (its difference, by owner name). */
  readonly removed: RecordData;
  readonly added: RecordData;
  /** The enumeration's change: the touched apps' tasks before and after. */
  readonly enumeration: EnumerationChange;
}

function valuesOf(set: CompactRecordSet, name: string): NameValues {
  const values = {
    a: set.a.get(name) ?? [],
    aaaa: set.aaaa.get(name) ?? [],
    srv: set.srv.get(name) ?? [],
    ptr: set.ptr.get(name) ?? [],
  };
  // With the health rule on, a name's health is part of it (the HTTP API shows it).
  return set.data.health === undefined ? values : { ...values, health: set.healthCode(name) };
}

function isEmpty(v: NameValues): boolean {
  return (
    v.a.length === 0 && v.aaaa.length === 0 && v.srv.length === 0 && (v.ptr ?? []).length === 0
  );
}

/** The same values in the same order. */
function sameOrder(x: NameValues, y: NameValues): boolean {
  const same = <T>(p: readonly T[], q: readonly T[], eq: (a: T, b: T) => boolean): boolean =>
    p.length === q.length && p.every((v, i) => eq(v, q[i] as T));
  const text = (a: string, b: string): boolean => a === b;
  return (
    (x.health ?? HEALTH_NONE) === (y.health ?? HEALTH_NONE) &&
    same(x.a, y.a, text) &&
    same(x.aaaa, y.aaaa, text) &&
    same(x.srv, y.srv, (a, b) => a.target === b.target && a.port === b.port) &&
    same(x.ptr ?? [], y.ptr ?? [], text)
  );
}

/** The values in a canonical order (SRV targets by their `target:port` text). */
function sorted(v: NameValues): NameValues {
  const srv = v.srv
    .map((t) => ({ t, text: srvText(t) }))
    .sort((p, q) => (p.text < q.text ? -1 : p.text > q.text ? 1 : 0))
    .map((x) => x.t);
  return {
    a: [...v.a].sort(),
    aaaa: [...v.aaaa].sort(),
    srv,
    health: v.health ?? HEALTH_NONE,
    ptr: [...(v.ptr ?? [])].sort(),
  };
}

/** The same values, in any order. */
function sameValues(x: NameValues, y: NameValues): boolean {
  return sameOrder(sorted(x), sorted(y));
}

/** The parent of a name (`a.b.mesos.` -> `b.mesos.`); the root has none. */
function parentOf(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot < 0 || dot === name.length - 1 ? undefined : name.slice(dot + 1);
}

/** Applies batches of task changes to a base record set (see the module comment). */
export class IncrementalRecords {
  readonly #base: CompactRecordSet;
  readonly #options: GeneratorOptions;
  readonly #label: LabelFunction;
  readonly #apex: string;
  /** The apexes: the zone's and the reverse zones' (`RecordData.reverseZones`). */
  readonly #apexes: ReadonlySet<string>;
  /** Frameworks and agents of the base's state (any change to them is a full rebuild). */
  readonly #frameworks: ReadonlyMap<string, State['frameworks'][number]>;
  /** Each framework's domain fragment (its tasks' apps, `appKey`) and place in the state. */
  readonly #fragments: ReadonlyMap<string, string>;
  readonly #frameworkOrder: ReadonlyMap<string, number>;
  readonly #agents: ReadonlyMap<string, State['agents'][number]>;
  /** Tasks by app, in state order (built on first use). */
  #apps: Map<string, Map<string, Task>> | undefined;
  readonly #state: State;
  /** Names changed since the base, with their values now. */
  readonly #changed = new Map<string, NameValues>();
  /** Existing children per base name id (built on first use), and the changes since the base. */
  #baseChildren: Int32Array | undefined;
  readonly #childDelta = new Map<string, number>();
  /** The health rule's counters now (`records.health` on only): the base's, then each batch's. */
  #excludedTasks: number;
  readonly #failOpen: Set<string> | undefined;

  /** Starts from `base`, generated from `state` with `options`. */
  constructor(base: CompactRecordSet, state: State, options: GeneratorOptions) {
    this.#base = base;
    this.#state = state;
    this.#options = options;
    this.#label = labelFunction(options.enforceRFC952);
    this.#apex = base.zone;
    this.#apexes = new Set([base.zone, ...base.reverseZones]);
    this.#frameworks = new Map(state.frameworks.map((fw) => [fw.id, fw]));
    this.#fragments = new Map(
      state.frameworks.map((fw) => [fw.id, domainFragment(fw.name, this.#label)]),
    );
    this.#frameworkOrder = new Map(state.frameworks.map((fw, i) => [fw.id, i]));
    const health = base.stats.health;
    this.#excludedTasks = health?.excludedTasks ?? 0;
    this.#failOpen = health === undefined ? undefined : new Set(health.failOpen);
    this.#agents = new Map(state.agents.map((a) => [a.id, a]));
  }

  /** Names of the base (owners, targets and empty non-terminals). */
  get baseNames(): number {
    return this.#base.nameCount;
  }

  /**
   * The health rule's counters of the zone as updated (`GeneratorStats.health` of a full build of
   * the state now), undefined when health is ignored. Batches that leave the records as they
   * were (an app's last healthy instance turning unhealthy, served whole) change them too.
   */
  get health(): HealthStats | undefined {
    const failOpen = this.#failOpen;
    if (failOpen === undefined) return undefined;
    return { excludedTasks: this.#excludedTasks, failOpen: [...failOpen] };
  }

  /** Names replaced since the base (a measure of when a full rebuild is due). */
  get changedNames(): number {
    return this.#changed.size;
  }

  /**
   * Applies a batch. Returns the zone update (undefined names: nothing changed), or `undefined`
   * when only a full rebuild can apply it (see the module comment). After `undefined` the
   * instance must not be used again.
   */
  apply(changes: readonly TaskChange[]): ZoneUpdate | 'unchanged' | undefined {
    const apps = this.#appsIndex();
    const touched = new Set<string>();
    for (const { before, after } of changes) {
      for (const task of [before, after]) {
        if (task === undefined) continue;
        if (!this.#frameworks.has(task.frameworkId)) continue; // no records either way
        touched.add(this.#appKey(task));
      }
    }
    if (touched.size === 0) return 'unchanged';
    const oldTasks = [...touched].flatMap((key) => [...(apps.get(key)?.values() ?? [])]);
    for (const { before, after } of changes) {
      const key = after === undefined ? undefined : this.#appKey(after);
      // An updated task keeps its place (state order); a task that left its app is removed.
      if (before !== undefined && (after === undefined || this.#appKey(before) !== key)) {
        apps.get(this.#appKey(before))?.delete(before.id);
      }
      if (after !== undefined && key !== undefined) {
        let app = apps.get(key);
        if (app === undefined) {
          app = new Map();
          apps.set(key, app);
        }
        app.set(after.id, after);
      }
    }
    const newTasks = [...touched].flatMap((key) => [...(apps.get(key)?.values() ?? [])]);
    const [oldSet, newSet] = withoutReserve(() => [
      generateTaskRecords(this.#subState(oldTasks), this.#options),
      generateTaskRecords(this.#subState(newTasks), this.#options),
    ]);
    this.#countHealth(oldSet, newSet);
    const names = new Set<string>();
    for (const set of [oldSet, newSet]) {
      for (const kind of [set.a, set.aaaa, set.srv, set.ptr])
        for (const name of kind.keys()) names.add(name);
    }
    // Names to which the apps contribute the same values before and after the batch keep what
    // is served (most names of a big app when one of its tasks changes): neither checked nor
    // re-encoded. The others may be replaced only when the apps are all they hold.
    const touchedNames: [string, NameValues][] = [];
    for (const name of names) {
      const before = valuesOf(oldSet, name);
      const after = valuesOf(newSet, name);
      if (sameOrder(before, after)) continue;
      if (!sameValues(this.#current(name), before)) return undefined;
      touchedNames.push([name, after]);
    }
    const changed = new Set<string>();
    const before = new Map<string, NameValues>();
    for (const [name, after] of touchedNames) {
      // The same values in the same order: nothing to re-encode.
      const now = this.#current(name);
      if (sameOrder(now, after)) continue;
      if (!before.has(name)) before.set(name, now);
      const existed = this.#exists(name);
      this.#changed.set(name, after);
      changed.add(name);
      const exists = this.#exists(name);
      if (existed !== exists) this.#propagate(name, exists, changed);
    }
    if (changed.size === 0) return 'unchanged';
    const removed: EnumeratedTaskKey[] = [];
    for (const fw of lazyEnumeration(oldSet)) {
      for (const task of fw.tasks) removed.push({ framework: fw.id ?? fw.name, id: task.id });
    }
    const added: ChangedFramework[] = [];
    for (const fw of lazyEnumeration(newSet)) {
      const tasks = [...fw.tasks];
      if (tasks.length > 0) added.push({ id: fw.id ?? fw.name, name: fw.name, tasks });
    }
    const enumeration: EnumerationChange = { removed, added };
    return { ...this.#update(changed, before), enumeration };
  }

  /** Moves the health counters from the touched apps' old generation to their new one. */
  #countHealth(oldSet: RecordSet, newSet: RecordSet): void {
    const was = oldSet.stats.health;
    const now = newSet.stats.health;
    const failOpen = this.#failOpen;
    if (was === undefined || now === undefined || failOpen === undefined) return;
    this.#excludedTasks += now.excludedTasks - was.excludedTasks;
    for (const name of was.failOpen) failOpen.delete(name);
    for (const name of now.failOpen) failOpen.add(name);
  }

  /** The app of a task (`appKey`: its framework's fragment and its task label). */
  #appKey(task: Task): string {
    return appKey(task, this.#label, this.#fragments.get(task.frameworkId) ?? '');
  }

  /** A state with only `tasks` (and the frameworks and agents they name). */
  #subState(tasks: readonly Task[]): State {
    const byFramework = new Map<string, Task[]>();
    const agents = new Map<string, State['agents'][number]>();
    for (const task of tasks) {
      let list = byFramework.get(task.frameworkId);
      if (list === undefined) {
        list = [];
        byFramework.set(task.frameworkId, list);
      }
      list.push(task);
      const agent = this.#agents.get(task.agentId);
      if (agent !== undefined) agents.set(agent.id, agent);
    }
    // In state order: two frameworks of one name share the app's names, in that order.
    const order = (id: string): number => this.#frameworkOrder.get(id) ?? -1;
    const frameworks = [...byFramework]
      .sort(([x], [y]) => order(x) - order(y))
      .flatMap(([id, list]) => {
        const fw = this.#frameworks.get(id);
        return fw === undefined ? [] : [{ ...fw, tasks: list }];
      });
    // With reverse lookups every agent counts: a task address that is any agent's has no PTR of
    // the task's (reverse.ts), as in a full build.
    const all = this.#options.reverse !== undefined;
    return {
      leader: undefined,
      agents: all ? this.#state.agents : [...agents.values()],
      frameworks,
    };
  }

  #appsIndex(): Map<string, Map<string, Task>> {
    if (this.#apps !== undefined) return this.#apps;
    const apps = new Map<string, Map<string, Task>>();
    for (const fw of this.#state.frameworks) {
      for (const task of fw.tasks) {
        const key = this.#appKey(task);
        let app = apps.get(key);
        if (app === undefined) {
          app = new Map();
          apps.set(key, app);
        }
        app.set(task.id, task);
      }
    }
    this.#apps = apps;
    return apps;
  }

  #current(name: string): NameValues {
    return this.#changed.get(name) ?? valuesOf(this.#base, name);
  }

  /**
   * Existing children of every base name, by id: each existing name (records or empty
   * non-terminal) counts once for its parent, found by its text's suffix in the name index.
   * Bytes only, no strings: the index of a large zone is built in a few tens of milliseconds.
   */
  #baseChildrenIndex(): Int32Array {
    if (this.#baseChildren !== undefined) return this.#baseChildren;
    const base = this.#base;
    const { names, nameEnd, kinds, emptyNonTerminal } = base.data;
    const [a, aaaa, srv, ptr] = kinds;
    const counts = new Int32Array(nameEnd.length);
    const apexLength = this.#apex.length;
    const reverseApexes = new Set(base.reverseZones.map((zone) => base.nameId(zone)));
    for (let id = 0; id < nameEnd.length; id++) {
      const exists =
        (a.slot[id] ?? 0) > 0 ||
        (aaaa.slot[id] ?? 0) > 0 ||
        (srv.slot[id] ?? 0) > 0 ||
        (ptr.slot[id] ?? 0) > 0 ||
        emptyNonTerminal[id] === 1;
      if (!exists) continue;
      const start = id === 0 ? 0 : (nameEnd[id - 1] ?? 0);
      const end = nameEnd[id] ?? 0;
      if (end - start <= apexLength) continue; // the apex (or outside the zone)
      if (reverseApexes.has(id)) continue;
      let dot = start;
      while (dot < end && names[dot] !== 0x2e) dot++;
      const parent = base.idOfRange(dot + 1, end);
      if (parent >= 0) counts[parent] = (counts[parent] ?? 0) + 1;
    }
    this.#baseChildren = counts;
    return counts;
  }

  /** Existing children of `name` now: the base's count plus the changes since. */
  #children(name: string): number {
    const id = this.#base.nameId(name);
    const base = id >= 0 ? (this.#baseChildrenIndex()[id] ?? 0) : 0;
    return base + (this.#childDelta.get(name) ?? 0);
  }

  /**
   * Builds the indexes the first batch needs (tasks by app, children per name), so that the
   * first batch after a full build does not pay for them.
   */
  prepare(): void {
    this.#appsIndex();
    this.#baseChildrenIndex();
  }

  #exists(name: string): boolean {
    return this.#apexes.has(name) || !isEmpty(this.#current(name)) || this.#children(name) > 0;
  }

  /** Whether `name` is an apex (the zone's or a reverse zone's) or below one. */
  #isInZones(name: string): boolean {
    for (const apex of this.#apexes) {
      if (name === apex || name.endsWith(`.${apex}`)) return true;
    }
    return false;
  }

  /** `name` came into (or went out of) existence: its parent gains (loses) a child. */
  #propagate(name: string, exists: boolean, changed: Set<string>): void {
    if (this.#apexes.has(name)) return;
    const parent = parentOf(name);
    if (parent === undefined || !this.#isInZones(parent)) return;
    const existed = this.#exists(parent);
    this.#childDelta.set(parent, (this.#childDelta.get(parent) ?? 0) + (exists ? 1 : -1));
    const nowExists = this.#exists(parent);
    if (existed === nowExists) return;
    changed.add(parent);
    if (!this.#changed.has(parent)) this.#changed.set(parent, NO_VALUES);
    this.#propagate(parent, nowExists, changed);
  }

  /**
   * The zone update carrying the current content of `names`, and the difference from `before`
   * (the values the names had, for those whose values changed).
   */
  #update(
    names: ReadonlySet<string>,
    before: ReadonlyMap<string, NameValues>,
  ): Omit<ZoneUpdate, 'enumeration'> {
    return withoutReserve(() => {
      const b = new RecordBuilder(this.#apex, this.#base.reverseZones);
      if (this.#base.data.health !== undefined) b.trackHealth();
      const ids: number[] = [];
      const empty: number[] = [];
      for (const name of names) {
        const id = b.id(name);
        if (id < 0) continue;
        ids.push(id);
        const v = this.#current(name);
        addValues(b, id, v);
        if (isEmpty(v) && this.#exists(name)) empty.push(id);
      }
      // SRV targets that did not change still need their addresses (additional section).
      const targets = new Set<string>();
      for (const name of names) for (const s of this.#current(name).srv) targets.add(s.target);
      for (const target of targets) {
        if (names.has(target)) continue;
        const id = b.id(target);
        if (id < 0) continue;
        const v = this.#current(target);
        addValues(b, id, { ...v, srv: [] }); // its health too: a target's health is read there
      }
      const records = b.finish(NO_STATS, empty);
      const difference = new DifferenceBuilder(this.#apex);
      for (const [name, was] of before) difference.replace(name, was, this.#current(name));
      return { records, names: Int32Array.from(ids), ...difference.finish() };
    });
  }
}
