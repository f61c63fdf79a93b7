/**
 * The record set of a zone (`Zone`: a base and the changesets applied since), for the HTTP API
 * (`/v1/hosts`, `/v1/services`, `/v1/axfr`, `/v1/enumerate`): a name a changeset replaced is read
 * from that changeset's contents, every other name from the base records. The enumeration is
 * the base's with the tasks of the apps each streamed batch touched replaced (their entries move
 * to the end of their framework's list); the generator's counters are the base's.
 */
import type { RecordData, RecordSet } from '../records/index.js';
import { CompactRecordSet, ComputedMap, lazyEntries, lazyEnumeration } from '../records/index.js';
import type {
  EnumeratedFramework,
  EnumeratedTask,
  EnumerationChange,
  GeneratorStats,
  LazyFramework,
  SrvTarget,
} from '../records/types.js';
import { changedEntries } from './changed-names.js';
import { nameKey } from './wire.js';
import type { Zone } from './zone.js';
import { lookup } from './zone.js';

const NO_PTR: ReadonlyMap<string, readonly string[]> = new Map();

/** Record sets of changeset contents, made once per changeset. */
const partSets = new WeakMap<RecordData, CompactRecordSet>();

function setOf(records: RecordData): CompactRecordSet {
  let set = partSets.get(records);
  if (set === undefined) {
    set = new CompactRecordSet(records);
    partSets.set(records, set);
  }
  return set;
}

type Pick<V> = (set: RecordSet) => ReadonlyMap<string, readonly V[]>;

/** One record kind of the zone: where `lookup` finds a name, its values are read. */
class ZoneKind<V> extends ComputedMap<V> {
  readonly #base: RecordSet;
  readonly #zone: Zone;
  readonly #pick: Pick<V>;

  constructor(base: RecordSet, zone: Zone, pick: Pick<V>) {
    super();
    this.#base = base;
    this.#zone = zone;
    this.#pick = pick;
  }

  #changed(name: string): boolean {
    return (
      this.#zone.changes !== undefined && lookup(this.#zone, nameKey(name)).part !== this.#zone
    );
  }

  get(name: string): readonly V[] | undefined {
    if (this.#zone.changes === undefined) return this.#pick(this.#base).get(name);
    const { part } = lookup(this.#zone, nameKey(name));
    const values = this.#pick(part === this.#zone ? this.#base : setOf(part.records)).get(name);
    return values === undefined || values.length === 0 ? undefined : values;
  }

  protected entryList(): [string, readonly V[]][] {
    return [...this.lazyEntries()];
  }

  override *lazyEntries(): Generator<[string, readonly V[]]> {
    for (const [name, values] of lazyEntries(this.#pick(this.#base))) {
      if (!this.#changed(name)) yield [name, values];
    }
    for (const { part, id } of changedEntries(this.#zone.changes)) {
      const set = setOf(part.records);
      const name = set.name(id);
      const values = this.#pick(set).get(name);
      if (values !== undefined && values.length > 0) yield [name, values];
    }
  }
}

/** The enumeration changes since the base, newest first (a persistent list). */
export interface EnumerationLog {
  readonly change: EnumerationChange;
  readonly previous: EnumerationLog | undefined;
}

/** The base's enumeration with the logged changes (see the module comment). */
function* changedEnumeration(base: RecordSet, log: EnumerationLog): Generator<LazyFramework> {
  const changes: EnumerationChange[] = [];
  for (let l: EnumerationLog | undefined = log; l !== undefined; l = l.previous) {
    changes.push(l.change);
  }
  const key = (framework: string, id: string): string => `${framework}\0${id}`;
  /** Each task a change touched: its entry now, undefined when it is gone. */
  const latest = new Map<string, { framework: string; task: EnumeratedTask } | undefined>();
  for (const change of changes.reverse()) {
    for (const r of change.removed) latest.set(key(r.framework, r.id), undefined);
    for (const fw of change.added) {
      for (const task of fw.tasks) {
        const k = key(fw.id, task.id);
        latest.delete(k);
        latest.set(k, { framework: fw.id, task });
      }
    }
  }
  for (const fw of lazyEnumeration(base)) {
    // Frameworks are told apart by id (two may share a name); a set without ids by name.
    const framework = fw.id ?? fw.name;
    yield {
      name: fw.name,
      ...(fw.id === undefined ? {} : { id: fw.id }),
      tasks: (function* tasks(): Generator<EnumeratedTask> {
        for (const task of fw.tasks) if (!latest.has(key(framework, task.id))) yield task;
        for (const entry of latest.values()) {
          if (entry !== undefined && entry.framework === framework) yield entry.task;
        }
      })(),
    };
  }
}

/** The records a zone answers with (see the module comment). */
export class ZoneRecordSet implements RecordSet {
  readonly zone: string;
  readonly a: ReadonlyMap<string, readonly string[]>;
  readonly aaaa: ReadonlyMap<string, readonly string[]>;
  readonly srv: ReadonlyMap<string, readonly SrvTarget[]>;
  readonly ptr: ReadonlyMap<string, readonly string[]>;
  readonly reverseZones: readonly string[];
  /** The enumeration changes applied since the base. */
  readonly enumerationLog: EnumerationLog | undefined;
  readonly #base: RecordSet;
  readonly #zone: Zone;

  /** `base` is the record set of `zone.records`. */
  constructor(base: RecordSet, zone: Zone, enumerationLog?: EnumerationLog) {
    this.#base = base;
    this.#zone = zone;
    this.enumerationLog = enumerationLog;
    this.zone = base.zone;
    this.a = new ZoneKind(base, zone, (s) => s.a);
    this.aaaa = new ZoneKind(base, zone, (s) => s.aaaa);
    this.srv = new ZoneKind(base, zone, (s) => s.srv);
    this.ptr = new ZoneKind(base, zone, (s) => s.ptr ?? NO_PTR);
    this.reverseZones = base.reverseZones ?? [];
  }

  get enumeration(): readonly EnumeratedFramework[] {
    if (this.enumerationLog === undefined) return this.#base.enumeration;
    return [...this.lazyEnumeration()].map((fw) => ({ name: fw.name, tasks: [...fw.tasks] }));
  }

  lazyEnumeration(): Iterable<LazyFramework> {
    const log = this.enumerationLog;
    return log === undefined ? lazyEnumeration(this.#base) : changedEnumeration(this.#base, log);
  }

  /** A name's health (`RecordSet.healthOf`), from the changeset that holds it or the base. */
  healthOf(name: string): boolean | undefined {
    const zone = this.#zone;
    if (zone.changes === undefined) return this.#base.healthOf?.(name);
    const { part } = lookup(zone, nameKey(name));
    return part === zone ? this.#base.healthOf?.(name) : setOf(part.records).healthOf(name);
  }

  /** The base's (the last full build). */
  get stats(): GeneratorStats {
    return this.#base.stats;
  }
}
