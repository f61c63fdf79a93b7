/**
 * The compact record set: what the generator produces, stored as a few typed arrays instead of
 * millions of small objects (issue #6: a 100k-task cluster has about 1.1M records and 500k names).
 *
 * - Names are interned: each distinct name has an id; the name texts sit back to back in one
 *   latin1 buffer (`names`, `nameEnd`) with an open-addressing hash index (`nameTable`).
 * - Each record kind (A, AAAA, SRV) keeps its owner names in first-insertion order (`keys`) and
 *   their values in CSR form (`start`, `values`, and `ports` for SRV): the values of key `k` are
 *   `values[start[k]..start[k+1])`, in insertion order. A values are the IPv4 address as an
 *   unsigned 32-bit integer; AAAA values index the 16-byte addresses in `v6`; SRV values are the
 *   name id of the target.
 * - The `/v1/enumerate` structure is a log of the records each task added, plus the task names
 *   and ids in one string.
 *
 * Every part is a typed array with its own ArrayBuffer, a string or a small array, so a
 * `RecordData` can be posted between threads with its buffers transferred, not copied.
 * `CompactRecordSet` puts the `RecordSet` interface (maps from name to values, the enumeration)
 * on top; its views build their small arrays on demand.
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
import { RecordBuilder } from './builder.js';
import { formatIpv6, intToIpv4, ipv4ToInt, ipv6Groups } from './ip-text.js';
import { KIND_A, KIND_AAAA, KIND_SRV, KIND_TYPES } from './layout.js';
import type { KindData, RecordData, RecordKind } from './layout.js';
import { hashBytes, hashString } from './name-hash.js';

export { reserveBuildMemory, withoutReserve } from './arena.js';
export { RecordBuilder } from './builder.js';
export { formatIpv6, intToIpv4, ipv4ToInt, ipv6Groups } from './ip-text.js';
export { KIND_A, KIND_AAAA, KIND_SRV } from './layout.js';
export type { EnumerationData, KindData, RecordData, RecordKind } from './layout.js';
export {
  FNV_OFFSET,
  FNV_PRIME,
  hashBytes,
  hashString,
  isValidName,
  tableSize,
} from './name-hash.js';

/** The ArrayBuffers of a `RecordData`, to transfer it with `postMessage`. */
export function recordTransferList(data: RecordData): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const v of recordViews(data)) {
    if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) buffers.add(v.buffer);
  }
  return [...buffers];
}

/** Every typed array of a `RecordData`. */
export function recordViews(data: RecordData): ArrayBufferView[] {
  const e = data.enumeration;
  const views: ArrayBufferView[] = [
    data.names,
    data.nameEnd,
    data.nameTable,
    data.v6,
    data.emptyNonTerminal,
    e.frameworkEnd,
    e.taskTextEnd,
    e.taskLogEnd,
    e.logKindPort,
    e.logName,
    e.logValue,
  ];
  for (const k of data.kinds) views.push(k.keys, k.start, k.values, k.ports, k.slot);
  return views;
}

/**
 * A copy of `data` that owns exactly its bytes (each typed array sliced: `structuredClone` would
 * copy whole underlying buffers, reserved tails included, and took 10x longer at 100k tasks).
 * `memory: 'shared'` puts every array on a SharedArrayBuffer: posted to another thread, such a
 * copy is shared, not copied or moved, so two threads can read one copy (stream mode: the
 * worker's incremental updater and the main thread's served records). Nobody writes to it.
 */
export function cloneRecordData(
  data: RecordData,
  memory: 'private' | 'shared' = 'private',
): RecordData {
  const copy = <T extends Int32Array | Uint8Array | Uint16Array>(a: T): T =>
    memory === 'shared' ? sharedCopy(a) : (a.slice() as T);
  const e = data.enumeration;
  return {
    ...data,
    names: copy(data.names),
    nameEnd: copy(data.nameEnd),
    nameTable: copy(data.nameTable),
    v6: copy(data.v6),
    emptyNonTerminal: copy(data.emptyNonTerminal),
    kinds: [
      cloneKind(data.kinds[0], copy),
      cloneKind(data.kinds[1], copy),
      cloneKind(data.kinds[2], copy),
    ],
    enumeration: {
      ...e,
      frameworks: [...e.frameworks],
      frameworkEnd: copy(e.frameworkEnd),
      taskTextEnd: copy(e.taskTextEnd),
      taskLogEnd: copy(e.taskLogEnd),
      logKindPort: copy(e.logKindPort),
      logName: copy(e.logName),
      logValue: copy(e.logValue),
    },
    stats: { ...data.stats },
  };
}

/** A copy of `a` of the same type, on a SharedArrayBuffer of exactly its size. */
function sharedCopy<T extends Int32Array | Uint8Array | Uint16Array>(a: T): T {
  const Type = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const out = new Type(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

function cloneKind(
  k: KindData,
  copy: <T extends Int32Array | Uint8Array | Uint16Array>(a: T) => T,
): KindData {
  return {
    keys: copy(k.keys),
    start: copy(k.start),
    values: copy(k.values),
    ports: copy(k.ports),
    slot: copy(k.slot),
  };
}

/** Bytes held by a `RecordData` (for logs and the benchmark). */
export function recordDataBytes(data: RecordData): number {
  let total = data.enumeration.taskText.length * 2;
  const buffers = new Set<ArrayBufferLike>();
  for (const v of recordViews(data)) buffers.add(v.buffer);
  for (const b of buffers) total += b.byteLength;
  return total;
}

// ---------------------------------------------------------------------------------------------
// The RecordSet view.

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
  readonly #nameBuffer: Buffer;
  #enumeration: WeakRef<readonly EnumeratedFramework[]> | undefined;

  constructor(data: RecordData) {
    this.data = data;
    this.zone = data.zone;
    this.stats = data.stats;
    this.#nameBuffer = Buffer.from(data.names.buffer, data.names.byteOffset, data.names.length);
    const [a, aaaa, srv] = data.kinds;
    this.a = new KindView(this, a, (k, i) => intToIpv4(k.values[i] ?? 0));
    this.aaaa = new KindView(this, aaaa, (k, i) => this.v6Text(k.values[i] ?? 0));
    this.srv = new KindView(this, srv, (k, i) => ({
      target: this.name(k.values[i] ?? 0),
      port: k.ports[i] ?? 0,
    }));
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
      yield { name: e.frameworks[f] ?? '', tasks: this.#lazyTasks(start, e.frameworkEnd[f] ?? 0) };
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

/**
 * The compact data of any `RecordSet`: a `CompactRecordSet`'s own, else built from its maps
 * (invalid names, see `isValidName`, are left out). The enumeration is not carried over.
 */
export function toRecordData(records: RecordSet): RecordData {
  if (records instanceof CompactRecordSet) return records.data;
  const builder = new RecordBuilder(records.zone);
  for (const [name, ips] of records.a) {
    const id = builder.id(name);
    if (id < 0) continue;
    for (const ip of ips) builder.add(KIND_A, id, ipv4ToInt(ip));
  }
  for (const [name, ips] of records.aaaa) {
    const id = builder.id(name);
    if (id < 0) continue;
    for (const ip of ips) {
      const groups = ipv6Groups(ip);
      if (groups !== undefined)
        builder.add(KIND_AAAA, id, builder.v6Index(formatIpv6(groups), groups));
    }
  }
  for (const [name, targets] of records.srv) {
    const id = builder.id(name);
    if (id < 0) continue;
    for (const t of targets) {
      const target = builder.id(t.target);
      if (target >= 0) builder.add(KIND_SRV, id, target, t.port);
    }
  }
  const { stats } = records;
  return builder.finish({
    frameworks: stats.frameworks,
    agents: stats.agents,
    tasks: stats.tasks,
    skippedTasks: stats.skippedTasks,
  });
}
