/**
 * The record set of a zone with streamed updates (`Zone.overlay`), for the HTTP API
 * (`/v1/hosts`, `/v1/services`, `/v1/axfr`): names an update replaced are read from the update,
 * every other name from the base records. The `/v1/enumerate` structure and the counters are
 * the base's (the last full build), since updates carry names, not tasks.
 */
import type { OverlayNode } from '../dns/index.js';
import { keyToName, nameKey } from '../dns/index.js';
import type { RecordData, RecordSet } from '../records/index.js';
import { CompactRecordSet, ComputedMap, lazyEntries, lazyEnumeration } from '../records/index.js';
import type {
  EnumeratedFramework,
  GeneratorStats,
  LazyFramework,
  SrvTarget,
} from '../records/types.js';

/** Record sets of the update zones, made once per update. */
const updateSets = new WeakMap<RecordData, CompactRecordSet>();

function setOf(records: RecordData): CompactRecordSet {
  let set = updateSets.get(records);
  if (set === undefined) {
    set = new CompactRecordSet(records);
    updateSets.set(records, set);
  }
  return set;
}

type Pick<V> = (set: RecordSet) => ReadonlyMap<string, readonly V[]>;

/** One record kind: the overlay's names first consulted, then the base. */
class OverlayKind<V> extends ComputedMap<V> {
  readonly #base: RecordSet;
  readonly #overlay: ReadonlyMap<string, OverlayNode>;
  readonly #pick: Pick<V>;

  constructor(base: RecordSet, overlay: ReadonlyMap<string, OverlayNode>, pick: Pick<V>) {
    super();
    this.#base = base;
    this.#overlay = overlay;
    this.#pick = pick;
  }

  get(name: string): readonly V[] | undefined {
    const node = this.#overlay.get(nameKey(name));
    if (node === undefined) return this.#pick(this.#base).get(name);
    return this.#pick(setOf(node.zone.records)).get(name);
  }

  protected entryList(): [string, readonly V[]][] {
    return [...this.lazyEntries()];
  }

  override *lazyEntries(): Generator<[string, readonly V[]]> {
    for (const [name, values] of lazyEntries(this.#pick(this.#base))) {
      if (!this.#overlay.has(nameKey(name))) yield [name, values];
    }
    for (const [key, node] of this.#overlay) {
      const name = keyToName(key);
      const values = this.#pick(setOf(node.zone.records)).get(name);
      if (values !== undefined) yield [name, values];
    }
  }
}

/** A base record set with the streamed updates of a zone on top (see the module comment). */
export class OverlayRecordSet implements RecordSet {
  readonly zone: string;
  readonly a: ReadonlyMap<string, readonly string[]>;
  readonly aaaa: ReadonlyMap<string, readonly string[]>;
  readonly srv: ReadonlyMap<string, readonly SrvTarget[]>;
  readonly #base: RecordSet;

  constructor(base: RecordSet, overlay: ReadonlyMap<string, OverlayNode>) {
    this.#base = base;
    this.zone = base.zone;
    this.a = new OverlayKind(base, overlay, (s) => s.a);
    this.aaaa = new OverlayKind(base, overlay, (s) => s.aaaa);
    this.srv = new OverlayKind(base, overlay, (s) => s.srv);
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
