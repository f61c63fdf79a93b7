/**
 * The `RecordSet` interface over a `RecordData` (layout.ts). `CompactRecordSet`'s `a`, `aaaa`
 * and `srv` are `ReadonlyMap` views whose `get` looks the name up in the hash index and builds
 * the (small) value array; iteration builds entries on demand; the `/v1/enumerate` objects are
 * built on first read and kept while referenced (`WeakRef`). Holding a set thus costs only its
 * typed arrays, however many names it has. HTTP, `mesodns records` and the tests use it like
 * any other `RecordSet`; the DNS answers read the arrays directly (dns/zone.ts).
 */
import type {
  EnumeratedFramework,
  EnumeratedRecord,
  EnumeratedTask,
  GeneratorStats,
  LazyFramework,
  RecordSet,
  SrvTarget,
} from './types.js';
import { formatIpv6, intToIpv4 } from '../net/ip.js';
import { KIND_A, KIND_AAAA, KIND_TYPES } from './layout.js';
import type { KindData, RecordData, RecordKind } from './layout.js';
import { hashBytes, hashString } from './name-hash.js';
import { HEALTH_NONE, healthField } from './health.js';

/**
 * A read-only map from names to value lists whose entries are computed on demand: subclasses
 * give `get` and the entry list; iteration, `has`, `size` and `forEach` follow from them.
 */
export abstract class ComputedMap<V> implements ReadonlyMap<string, readonly V[]> {
  abstract get(name: string): readonly V[] | undefined;

  /** Every entry, in the order iteration gives them. */
  protected abstract entryList(): [string, readonly V[]][];

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    return this.entryList().length;
  }

  forEach(
    callback: (value: readonly V[], key: string, map: ReadonlyMap<string, readonly V[]>) => void,
  ): void {
    for (const [k, v] of this.entryList()) callback(v, k, this);
  }

  entries(): MapIterator<[string, readonly V[]]> {
    return this.entryList().values();
  }

  /**
   * The entries one at a time, in iteration order, without the whole list at once (a large
   * zone's HTTP rendering reads them so). By default the list, for subclasses that have nothing
   * cheaper.
   */
  *lazyEntries(): Generator<[string, readonly V[]]> {
    yield* this.entryList();
  }

  keys(): MapIterator<string> {
    return this.entryList()
      .map(([k]) => k)
      .values();
  }

  values(): MapIterator<readonly V[]> {
    return this.entryList()
      .map(([, v]) => v)
      .values();
  }

  [Symbol.iterator](): MapIterator<[string, readonly V[]]> {
    return this.entries();
  }
}

/** A `ReadonlyMap` from owner name to the values of one kind, read from the compact data. */
class KindView<V> extends ComputedMap<V> {
  readonly #set: CompactRecordSet;
  readonly #kind: KindData;
  readonly #value: (k: KindData, i: number) => V;

  constructor(set: CompactRecordSet, kind: KindData, value: (k: KindData, i: number) => V) {
    super();
    this.#set = set;
    this.#kind = kind;
    this.#value = value;
  }

  override get size(): number {
    return this.#kind.keys.length;
  }

  #valuesOf(slot: number): V[] {
    const kind = this.#kind;
    const out: V[] = [];
    const end = kind.start[slot + 1] ?? 0;
    for (let i = kind.start[slot] ?? 0; i < end; i++) out.push(this.#value(kind, i));
    return out;
  }

  get(name: string): readonly V[] | undefined {
    const id = this.#set.nameId(name);
    const slot = id < 0 ? -1 : (this.#kind.slot[id] ?? 0) - 1;
    return slot < 0 ? undefined : this.#valuesOf(slot);
  }

  override has(name: string): boolean {
    const id = this.#set.nameId(name);
    return id >= 0 && (this.#kind.slot[id] ?? 0) > 0;
  }

  protected entryList(): [string, readonly V[]][] {
    const out: [string, readonly V[]][] = [];
    const keys = this.#kind.keys;
    for (let k = 0; k < keys.length; k++) {
      out.push([this.#set.name(keys[k] ?? 0), this.#valuesOf(k)]);
    }
    return out;
  }

  override keys(): MapIterator<string> {
    return Array.from(this.#kind.keys, (id) => this.#set.name(id)).values();
  }

  override *lazyEntries(): Generator<[string, readonly V[]]> {
    const keys = this.#kind.keys;
    for (let k = 0; k < keys.length; k++) {
      yield [this.#set.name(keys[k] ?? 0), this.#valuesOf(k)];
    }
  }
}

/** The entries of `map` one at a time: lazily for the record sets' own maps (`lazyEntries`). */
export function lazyEntries<V>(
  map: ReadonlyMap<string, readonly V[]>,
): Iterable<[string, readonly V[]]> {
  return map instanceof ComputedMap ? (map as ComputedMap<V>).lazyEntries() : map.entries();
}

/** The enumeration of `records` one task at a time where the set can (see `LazyFramework`). */
export function lazyEnumeration(records: RecordSet): Iterable<LazyFramework> {
  return records.lazyEnumeration?.() ?? records.enumeration;
}

/**
 * A `RecordSet` over a `RecordData`. Lookups by name use the hash index; the values and the
 * enumeration objects are built when read, so holding one costs only the typed arrays.
 */
export class CompactRecordSet implements RecordSet {
  readonly data: RecordData;
  readonly zone: string;
  readonly stats: GeneratorStats;
  readonly a: ReadonlyMap<string, readonly string[]>;
  readonly aaaa: ReadonlyMap<string, readonly string[]>;
  readonly srv: ReadonlyMap<string, readonly SrvTarget[]>;
  readonly ptr: ReadonlyMap<string, readonly string[]>;
  readonly reverseZones: readonly string[];
  readonly #nameBuffer: Buffer;
  #enumeration: WeakRef<readonly EnumeratedFramework[]> | undefined;

  constructor(data: RecordData) {
    this.data = data;
    this.zone = data.zone;
    this.stats = data.stats;
    this.#nameBuffer = Buffer.from(data.names.buffer, data.names.byteOffset, data.names.length);
    const [a, aaaa, srv, ptr] = data.kinds;
    this.reverseZones = data.reverseZones;
    this.a = new KindView(this, a, (k, i) => intToIpv4(k.values[i] ?? 0));
    this.aaaa = new KindView(this, aaaa, (k, i) => this.v6Text(k.values[i] ?? 0));
    this.srv = new KindView(this, srv, (k, i) => ({
      target: this.name(k.values[i] ?? 0),
      port: k.ports[i] ?? 0,
    }));
    this.ptr = new KindView(this, ptr, (k, i) => this.name(k.values[i] ?? 0));
  }

  /** Number of interned names (owners and SRV targets). */
  get nameCount(): number {
    return this.data.nameEnd.length;
  }

  /** The text of name id `id`. */
  name(id: number): string {
    const start = id === 0 ? 0 : (this.data.nameEnd[id - 1] ?? 0);
    return this.#nameBuffer.toString('latin1', start, this.data.nameEnd[id] ?? 0);
  }

  /** The health code (health.ts) of a name: `HEALTH_NONE` without the health rule. */
  healthCode(name: string): number {
    const health = this.data.health;
    if (health === undefined) return HEALTH_NONE;
    const id = this.nameId(name);
    return id < 0 ? HEALTH_NONE : (health[id] ?? HEALTH_NONE);
  }

  /** Whether every task behind a name's records reported healthy (false: unhealthy). */
  healthOf(name: string): boolean | undefined {
    return healthField(this.healthCode(name));
  }

  /** The id of a name (lower case, trailing dot), or -1. */
  nameId(name: string): number {
    const { nameTable, nameEnd } = this.data;
    const bytes = this.#nameBuffer;
    const mask = (nameTable.length >>> 1) - 1;
    const hash = hashString(name);
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = nameTable[slot * 2] ?? 0;
      if (entry === 0) return -1;
      if (nameTable[slot * 2 + 1] !== hash) continue;
      const id = entry - 1;
      const start = id === 0 ? 0 : (nameEnd[id - 1] ?? 0);
      const end = nameEnd[id] ?? 0;
      if (end - start !== name.length) continue;
      let i = 0;
      while (i < name.length && bytes[start + i] === name.charCodeAt(i)) i++;
      if (i === name.length) return id;
    }
  }

  /** The id of the name whose text is `names[start..end)` (e.g. a suffix of another name), or -1. */
  idOfRange(start: number, end: number): number {
    const { nameTable, nameEnd, names } = this.data;
    const mask = (nameTable.length >>> 1) - 1;
    const length = end - start;
    const hash = hashBytes(names, start, length);
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = nameTable[slot * 2] ?? 0;
      if (entry === 0) return -1;
      if (nameTable[slot * 2 + 1] !== hash) continue;
      const id = entry - 1;
      const from = id === 0 ? 0 : (nameEnd[id - 1] ?? 0);
      if ((nameEnd[id] ?? 0) - from !== length) continue;
      let i = 0;
      while (i < length && names[from + i] === names[start + i]) i++;
      if (i === length) return id;
    }
  }

  /** The canonical text of AAAA value `index`. */
  v6Text(index: number): string {
    const groups: number[] = [];
    const v6 = this.data.v6;
    for (let g = 0; g < 8; g++) {
      groups.push(((v6[index * 16 + g * 2] ?? 0) << 8) | (v6[index * 16 + g * 2 + 1] ?? 0));
    }
    return formatIpv6(groups);
  }

  /** The value of a record as `/v1/enumerate` shows it: the address, or `target:port`. */
  valueText(kind: RecordKind, value: number, port: number): string {
    if (kind === KIND_A) return intToIpv4(value);
    if (kind === KIND_AAAA) return this.v6Text(value);
    return `${this.name(value)}:${String(port)}`;
  }

  /**
   * The `/v1/enumerate` frameworks (every framework of the state, in order, with its running
   * tasks). Built on first read and kept while anything references it.
   */
  get enumeration(): readonly EnumeratedFramework[] {
    const cached = this.#enumeration?.deref();
    if (cached !== undefined) return cached;
    const built = this.#buildEnumeration();
    this.#enumeration = new WeakRef(built);
    return built;
  }

  /** The enumeration one task at a time, nothing cached (see `LazyFramework`). */
  *lazyEnumeration(): Generator<LazyFramework> {
    const e = this.data.enumeration;
    for (let f = 0; f < e.frameworks.length; f++) {
      const start = f === 0 ? 0 : (e.frameworkEnd[f - 1] ?? 0);
      yield {
        name: e.frameworks[f] ?? '',
        id: e.frameworkIds[f] ?? '',
        tasks: this.#lazyTasks(start, e.frameworkEnd[f] ?? 0),
      };
    }
  }

  *#lazyTasks(from: number, end: number): Generator<EnumeratedTask> {
    const e = this.data.enumeration;
    for (let task = from; task < end; task++) {
      const textStart = task === 0 ? 0 : (e.taskTextEnd[task * 2 - 1] ?? 0);
      const nameEnd = e.taskTextEnd[task * 2] ?? 0;
      const idEnd = e.taskTextEnd[task * 2 + 1] ?? 0;
      const logStart = task === 0 ? 0 : (e.taskLogEnd[task - 1] ?? 0);
      yield {
        name: e.taskText.slice(textStart, nameEnd),
        id: e.taskText.slice(nameEnd, idEnd),
        records: this.#taskRecords(logStart, e.taskLogEnd[task] ?? 0),
      };
    }
  }

  #buildEnumeration(): EnumeratedFramework[] {
    const e = this.data.enumeration;
    const out: EnumeratedFramework[] = [];
    let task = 0;
    e.frameworks.forEach((name, f) => {
      const tasks: EnumeratedTask[] = [];
      const end = e.frameworkEnd[f] ?? 0;
      for (; task < end; task++) {
        const textStart = task === 0 ? 0 : (e.taskTextEnd[task * 2 - 1] ?? 0);
        const nameEnd = e.taskTextEnd[task * 2] ?? 0;
        const idEnd = e.taskTextEnd[task * 2 + 1] ?? 0;
        const logStart = task === 0 ? 0 : (e.taskLogEnd[task - 1] ?? 0);
        tasks.push(
          this.#enumeratedTask(
            e.taskText.slice(textStart, nameEnd),
            e.taskText.slice(nameEnd, idEnd),
            logStart,
            e.taskLogEnd[task] ?? 0,
          ),
        );
      }
      // Key order as Mesos-DNS serialises it: tasks, then name.
      out.push({ tasks, name });
    });
    return out;
  }

  /** The enumerated records of log entries `start..end` (one task's). */
  #taskRecords(start: number, end: number): EnumeratedRecord[] {
    const e = this.data.enumeration;
    const out: EnumeratedRecord[] = [];
    for (let i = start; i < end; i++) {
      const kindPort = e.logKindPort[i] ?? 0;
      const kind = (kindPort >>> 16) as RecordKind;
      out.push({
        name: this.name(e.logName[i] ?? 0),
        host: this.valueText(kind, e.logValue[i] ?? 0, kindPort & 0xffff),
        rtype: KIND_TYPES[kind] ?? 'A',
      });
    }
    return out;
  }

  /** An enumerated task whose `records` (an own enumerable getter, so JSON sees it) is lazy. */
  #enumeratedTask(name: string, id: string, start: number, end: number): EnumeratedTask {
    let built: EnumeratedRecord[] | undefined;
    const taskRecords = (): EnumeratedRecord[] => this.#taskRecords(start, end);
    return {
      name,
      id,
      get records(): EnumeratedRecord[] {
        built ??= taskRecords();
        return built;
      },
    };
  }
}
