/**
 * The record set of a zone (`Zone`: a base and the changesets applied since), for the HTTP API
 * (`/v1/hosts`, `/v1/services`, `/v1/axfr`, `/v1/enumerate`): a name a changeset replaced is read
 * from that changeset's contents, every other name from the base records. The enumeration and
 * the generator's counters are the base's (the last full build): changesets carry names, not
 * tasks.
 */
import type { RecordData, RecordSet } from '../records/index.js';
import { CompactRecordSet, ComputedMap, lazyEntries, lazyEnumeration } from '../records/index.js';
import type {
  EnumeratedFramework,
  GeneratorStats,
  LazyFramework,
  SrvTarget,
} from '../records/types.js';
import { changedEntries } from './changed-names.js';
import { nameKey } from './wire.js';
import type { Zone } from './zone.js';
import { lookup } from './zone.js';

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

/** The records a zone answers with (see the module comment). */
export class ZoneRecordSet implements RecordSet {
  readonly zone: string;
  readonly a: ReadonlyMap<string, readonly string[]>;
  readonly aaaa: ReadonlyMap<string, readonly string[]>;
  readonly srv: ReadonlyMap<string, readonly SrvTarget[]>;
  readonly #base: RecordSet;

  /** `base` is the record set of `zone.records`. */
  constructor(base: RecordSet, zone: Zone) {
    this.#base = base;
    this.zone = base.zone;
    this.a = new ZoneKind(base, zone, (s) => s.a);
    this.aaaa = new ZoneKind(base, zone, (s) => s.aaaa);
    this.srv = new ZoneKind(base, zone, (s) => s.srv);
  }

  /** The base's (the last full build). */
  get enumeration(): readonly EnumeratedFramework[] {
    return this.#base.enumeration;
  }

  /** The base's (the last full build). */
  lazyEnumeration(): Iterable<LazyFramework> {
    return lazyEnumeration(this.#base);
  }

  /** The base's (the last full build). */
  get stats(): GeneratorStats {
    return this.#base.stats;
  }
}
