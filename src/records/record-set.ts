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
  RecordSet,
  RecordType,
  SrvTarget,
} from './types.js';

/** Record kinds by number, the index into `RecordData.kinds`. */
export const KIND_A = 0;
/** See `KIND_A`. */
export const KIND_AAAA = 1;
/** See `KIND_A`. */
export const KIND_SRV = 2;

/** One of `KIND_A`, `KIND_AAAA`, `KIND_SRV`. */
export type RecordKind = typeof KIND_A | typeof KIND_AAAA | typeof KIND_SRV;

const KIND_TYPES: readonly RecordType[] = ['A', 'AAAA', 'SRV'];

/** The records of one kind in CSR form (see the module comment). */
export interface KindData {
  /** Owner name ids, in the order their first value of this kind was inserted. */
  readonly keys: Int32Array;
  /** `keys.length + 1` offsets into `values`. */
  readonly start: Int32Array;
  readonly values: Int32Array;
  /** SRV ports, parallel to `values` (empty for A and AAAA). */
  readonly ports: Uint16Array;
  /** Index into `keys` by name id, -1 when the name has no value of this kind. */
  readonly slot: Int32Array;
}

/** The `/v1/enumerate` data: frameworks, their running tasks, and each task's new records. */
export interface EnumerationData {
  readonly frameworks: readonly string[];
  /** Exclusive end (task index) of each framework's tasks. */
  readonly frameworkEnd: Int32Array;
  /** Every task's name then id, back to back. */
  readonly taskText: string;
  /** Two ends per task into `taskText`: of its name, then of its id. */
  readonly taskTextEnd: Int32Array;
  /** Exclusive end (log index) of each task's records. */
  readonly taskLogEnd: Int32Array;
  readonly logKind: Uint8Array;
  readonly logName: Int32Array;
  readonly logValue: Int32Array;
  readonly logPort: Uint16Array;
}

/** Everything a record set holds, as transferable parts (see the module comment). */
export interface RecordData {
  /** The zone apex, lower case, trailing dot. */
  readonly zone: string;
  /** Name texts (lower-case FQDNs with the trailing dot, printable ASCII) back to back. */
  readonly names: Uint8Array;
  /** Exclusive end of each name in `names`. */
  readonly nameEnd: Int32Array;
  /** Hash index of the names: slot -> name id + 1 (0 = empty); the length is a power of two. */
  readonly nameTable: Int32Array;
  /** By kind: `[A, AAAA, SRV]`. */
  readonly kinds: readonly [KindData, KindData, KindData];
  /** 16 bytes per AAAA value. */
  readonly v6: Uint8Array;
  readonly enumeration: EnumerationData;
  readonly stats: GeneratorStats;
}

// ---------------------------------------------------------------------------------------------
// Hashing (shared with the zone index of dns/zone.ts, which hashes wire-format keys the same way).

/** FNV-1a over `length` bytes of `bytes` from `offset`. */
export function hashBytes(bytes: Uint8Array, offset: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = offset; i < offset + length; i++) h = Math.imul(h ^ (bytes[i] ?? 0), 0x01000193);
  return h;
}

/** FNV-1a over the char codes (all below 256) of `text`; equals `hashBytes` of its latin1 bytes. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Smallest power of two >= 2n (a load factor of at most one half), at least 16. */
export function tableSize(n: number): number {
  let size = 16;
  while (size < n * 2) size *= 2;
  return size;
}

// ---------------------------------------------------------------------------------------------
// Name validity (RFC 1035 2.3.4).

/** Longest name text: 255 bytes on the wire are 254 characters with the trailing dot. */
const MAX_NAME_TEXT = 254;
const MAX_LABEL = 63;

/**
 * Checks a lower-case FQDN with the trailing dot: every label non-empty, at most 63 bytes and of
 * printable ASCII other than space, the whole name at most 255 bytes on the wire (RFC 1035 2.3.4).
 */
export function isValidName(name: string): boolean {
  // Wire length is the text length plus one (a length byte per label plus the root byte).
  if (name.length > MAX_NAME_TEXT || !name.endsWith('.')) return false;
  let labelLength = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      if (labelLength === 0 || labelLength > MAX_LABEL) return false;
      labelLength = 0;
    } else if (c < 0x21 || c > 0x7e) {
      return false;
    } else {
      labelLength++;
    }
  }
  return true;
}

/** `isValidName` over `bytes[0..length)`, whose bytes are known to be printable ASCII. */
function isValidNameBytes(bytes: Uint8Array, length: number): boolean {
  if (length === 0 || length > MAX_NAME_TEXT || bytes[length - 1] !== 0x2e) return false;
  let labelLength = 0;
  for (let i = 0; i < length; i++) {
    if (bytes[i] === 0x2e) {
      if (labelLength === 0 || labelLength > MAX_LABEL) return false;
      labelLength = 0;
    } else {
      labelLength++;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Addresses.

/** Dotted IPv4 (already validated) as an unsigned 32-bit integer. */
export function ipv4ToInt(text: string): number {
  let value = 0;
  let part = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      value = value * 256 + part;
      part = 0;
    } else {
      part = part * 10 + (c - 0x30);
    }
  }
  return value * 256 + part;
}

/** An IPv4 address held as an integer, in dotted form. */
export function intToIpv4(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Formats 8 IPv6 groups as Go's `net.IP.String` does (RFC 5952: longest zero run of 2+ is `::`). */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

// ---------------------------------------------------------------------------------------------
// Growable typed lists, used while building.

class IntList {
  #items: Int32Array;
  length = 0;

  constructor(capacity = 256) {
    this.#items = new Int32Array(capacity);
  }

  get items(): Int32Array {
    return this.#items;
  }

  push(value: number): number {
    if (this.length === this.#items.length) {
      const next = new Int32Array(this.#items.length * 2);
      next.set(this.#items);
      this.#items = next;
    }
    this.#items[this.length] = value;
    return this.length++;
  }

  /** A copy of the filled part, with its own exactly sized buffer. */
  toInt32(): Int32Array {
    return this.#items.slice(0, this.length);
  }

  toUint16(): Uint16Array {
    return Uint16Array.from(this.#items.subarray(0, this.length));
  }

  toUint8(): Uint8Array {
    return Uint8Array.from(this.#items.subarray(0, this.length));
  }
}

/** Lists of at most this many values are de-duplicated by scanning; longer ones get a Set. */
const SCAN_MAX = 16;

/** One kind's records while building: a chain of records per owner name. */
class KindBuilder {
  readonly keys = new IntList(1024);
  readonly head = new IntList(1024);
  readonly tail = new IntList(1024);
  readonly count = new IntList(1024);
  readonly values = new IntList(4096);
  /** SRV ports; A and AAAA records have none (port 0). */
  readonly ports: IntList | undefined;
  readonly next = new IntList(4096);
  /** Name id -> slot in `keys`, -1 when none; grown with the names. */
  slot = new Int32Array(1024).fill(-1);
  /** Sets of the long value lists, by slot. */
  readonly sets = new Map<number, Set<number>>();

  constructor(withPorts: boolean) {
    this.ports = withPorts ? new IntList(4096) : undefined;
  }

  ensureNames(n: number): void {
    if (n <= this.slot.length) return;
    let size = this.slot.length;
    while (size < n) size *= 2;
    const next = new Int32Array(size).fill(-1);
    next.set(this.slot);
    this.slot = next;
  }

  /** Appends a value to its name's chain unless it is there already; returns whether it was new. */
  add(nameId: number, rawValue: number, port: number): boolean {
    // A values are unsigned 32-bit; the Int32Array holds them as signed.
    const value = rawValue | 0;
    const slot = this.slot[nameId] ?? -1;
    const values = this.values;
    if (slot < 0) {
      const record = values.push(value);
      this.ports?.push(port);
      this.next.push(-1);
      this.slot[nameId] = this.keys.push(nameId);
      this.head.push(record);
      this.tail.push(record);
      this.count.push(1);
      return true;
    }
    const count = this.count.items[slot] ?? 0;
    if (count < SCAN_MAX) {
      const vs = values.items;
      const ps = this.ports?.items;
      const next = this.next.items;
      for (let r = this.head.items[slot] ?? -1; r >= 0; r = next[r] ?? -1) {
        if (vs[r] === value && (ps === undefined || ps[r] === port)) return false;
      }
    } else {
      let set = this.sets.get(slot);
      if (set === undefined) {
        set = new Set();
        const next = this.next.items;
        for (let r = this.head.items[slot] ?? -1; r >= 0; r = next[r] ?? -1) {
          set.add((values.items[r] ?? 0) * 65536 + (this.ports?.items[r] ?? 0));
        }
        this.sets.set(slot, set);
      }
      const key = value * 65536 + port;
      if (set.has(key)) return false;
      set.add(key);
    }
    const record = values.push(value);
    this.ports?.push(port);
    this.next.push(-1);
    this.next.items[this.tail.items[slot] ?? 0] = record;
    this.tail.items[slot] = record;
    this.count.items[slot] = count + 1;
    return true;
  }

  /** The CSR form: values grouped by key in key order, each group in insertion order. */
  finish(nameCount: number): KindData {
    const keyCount = this.keys.length;
    const total = this.values.length;
    const start = new Int32Array(keyCount + 1);
    const values = new Int32Array(total);
    const ports = new Uint16Array(this.ports === undefined ? 0 : total);
    const vs = this.values.items;
    const ps = this.ports?.items;
    const next = this.next.items;
    const heads = this.head.items;
    let out = 0;
    for (let k = 0; k < keyCount; k++) {
      start[k] = out;
      for (let r = heads[k] ?? -1; r >= 0; r = next[r] ?? -1) {
        values[out] = vs[r] ?? 0;
        if (ps !== undefined) ports[out] = ps[r] ?? 0;
        out++;
      }
    }
    start[keyCount] = out;
    return { keys: this.keys.toInt32(), start, values, ports, slot: this.slot.slice(0, nameCount) };
  }
}

/**
 * Builds a `RecordData`: interns names, de-duplicates values per name (keeping the first
 * insertion order), logs each task's new records for the enumeration. Used by the generator and
 * to convert any other `RecordSet`.
 */
export class RecordBuilder {
  readonly #zone: string;
  // Interned names: their text back to back, their ends, and a hash index (id + 1).
  #nameBytes = new Uint8Array(1 << 16);
  #nameLength = 0;
  readonly #nameEnd = new IntList(4096);
  readonly #nameHash = new IntList(4096);
  #nameTable = new Int32Array(8192);
  // The name being assembled by `part`.
  readonly #scratch = new Uint8Array(MAX_NAME_TEXT + 1);
  #scratchLength = 0;
  #isBad = false;
  readonly #pieces: string[] = [];
  #pieceCount = 0;
  readonly #rejected = new Set<string>();
  readonly #kinds: readonly [KindBuilder, KindBuilder, KindBuilder] = [
    new KindBuilder(false),
    new KindBuilder(false),
    new KindBuilder(true),
  ];
  readonly #v6Ids = new Map<string, number>();
  #v6 = new Uint8Array(1024);
  #v6Count = 0;
  #records = 0;
  // Enumeration.
  readonly #frameworks: string[] = [];
  readonly #frameworkEnd = new IntList(16);
  readonly #taskText: string[] = [];
  readonly #taskTextEnd = new IntList(1024);
  #taskTextLength = 0;
  readonly #taskLogEnd = new IntList(1024);
  readonly #logKind = new IntList(4096);
  readonly #logName = new IntList(4096);
  readonly #logValue = new IntList(4096);
  readonly #logPort = new IntList(4096);

  /** `zone`: the apex (lower case, trailing dot). */
  constructor(zone: string) {
    this.#zone = zone;
  }

  /** Distinct (name, value) records so far. */
  get records(): number {
    return this.#records;
  }

  /** Distinct names refused by `isValidName`. */
  get rejected(): number {
    return this.#rejected.size;
  }

  /**
   * Appends `text` to the name being assembled (ended by `intern`). Building a name from its
   * pieces this way never creates the whole name as a string: interning hashes the bytes.
   */
  part(text: string): this {
    const scratch = this.#scratch;
    let n = this.#scratchLength;
    if (n + text.length > MAX_NAME_TEXT) {
      this.#isBad = true;
    } else {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c < 0x21 || c > 0x7e) this.#isBad = true;
        scratch[n++] = c;
      }
      this.#scratchLength = n;
    }
    this.#pieces[this.#pieceCount++] = text;
    return this;
  }

  /**
   * Ends the name assembled by `part`: returns its id, interning it on first sight, or -1 when it
   * is not a valid name (`isValidName`; counted once per distinct name).
   */
  intern(): number {
    const n = this.#scratchLength;
    const scratch = this.#scratch;
    const pieceCount = this.#pieceCount;
    const isValid = !this.#isBad && isValidNameBytes(scratch, n);
    this.#scratchLength = 0;
    this.#isBad = false;
    this.#pieceCount = 0;
    if (!isValid) {
      let name = '';
      for (let i = 0; i < pieceCount; i++) name += this.#pieces[i] ?? '';
      this.#rejected.add(name);
      return -1;
    }
    const hash = hashBytes(scratch, 0, n);
    const table = this.#nameTable;
    const mask = table.length - 1;
    const bytes = this.#nameBytes;
    const ends = this.#nameEnd.items;
    let slot = hash & mask;
    for (;;) {
      const entry = table[slot] ?? 0;
      if (entry === 0) break;
      const id = entry - 1;
      const start = id === 0 ? 0 : (ends[id - 1] ?? 0);
      if ((ends[id] ?? 0) - start === n) {
        let i = 0;
        while (i < n && bytes[start + i] === scratch[i]) i++;
        if (i === n) return id;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.#nameEnd.length;
    if (this.#nameLength + n > bytes.length) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, this.#nameLength + n));
      grown.set(bytes.subarray(0, this.#nameLength));
      this.#nameBytes = grown;
    }
    const into = this.#nameBytes;
    const at = this.#nameLength;
    for (let i = 0; i < n; i++) into[at + i] = scratch[i] ?? 0;
    this.#nameLength += n;
    this.#nameEnd.push(this.#nameLength);
    this.#nameHash.push(hash);
    table[slot] = id + 1;
    if ((id + 1) * 2 > table.length) this.#rehash();
    if ((id & 1023) === 0) for (const k of this.#kinds) k.ensureNames(id + 1024);
    return id;
  }

  /** The id of `name` (see `intern`). */
  id(name: string): number {
    return this.part(name).intern();
  }

  #rehash(): void {
    const table = new Int32Array(this.#nameTable.length * 2);
    const mask = table.length - 1;
    const hashes = this.#nameHash.items;
    for (let id = 0; id < this.#nameEnd.length; id++) {
      let slot = (hashes[id] ?? 0) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.#nameTable = table;
  }

  /** The index of an IPv6 address (canonical text and its 8 groups) in the AAAA table. */
  v6Index(text: string, groups: readonly number[]): number {
    const known = this.#v6Ids.get(text);
    if (known !== undefined) return known;
    const index = this.#v6Count++;
    if (index * 16 + 16 > this.#v6.length) {
      const next = new Uint8Array(this.#v6.length * 2);
      next.set(this.#v6);
      this.#v6 = next;
    }
    for (let g = 0; g < 8; g++) {
      const word = groups[g] ?? 0;
      this.#v6[index * 16 + g * 2] = word >>> 8;
      this.#v6[index * 16 + g * 2 + 1] = word & 255;
    }
    this.#v6Ids.set(text, index);
    return index;
  }

  /**
   * Inserts a record for name id `nameId` (from `id`, not -1): an A (`value` the IPv4 integer),
   * an AAAA (`value` from `v6Index`) or an SRV (`value` the target's name id, and `port`).
   * Returns whether it was new.
   */
  add(kind: RecordKind, nameId: number, value: number, port = 0): boolean {
    if (!this.#kinds[kind].add(nameId, value, port)) return false;
    this.#records++;
    return true;
  }

  /** Like `add`, and a new record also goes into the enumeration of the current task. */
  addForTask(kind: RecordKind, nameId: number, value: number, port = 0): boolean {
    if (!this.add(kind, nameId, value, port)) return false;
    this.#logKind.push(kind);
    this.#logName.push(nameId);
    this.#logValue.push(value);
    this.#logPort.push(port);
    return true;
  }

  /** Starts the next framework of the enumeration. */
  beginFramework(name: string): void {
    if (this.#frameworks.length > 0) this.#frameworkEnd.push(this.#taskLogEnd.length);
    this.#frameworks.push(name);
  }

  /** Ends a task of the current framework: its records are those `addForTask` added since the last. */
  endTask(name: string, id: string): void {
    this.#taskText.push(name, id);
    this.#taskTextLength += name.length;
    this.#taskTextEnd.push(this.#taskTextLength);
    this.#taskTextLength += id.length;
    this.#taskTextEnd.push(this.#taskTextLength);
    this.#taskLogEnd.push(this.#logKind.length);
  }

  /** The finished data; the builder must not be used afterwards. */
  finish(stats: Omit<GeneratorStats, 'records' | 'skippedNames'>): RecordData {
    if (this.#frameworks.length > 0) this.#frameworkEnd.push(this.#taskLogEnd.length);
    const count = this.#nameEnd.length;
    const nameBytes = Buffer.allocUnsafeSlow(this.#nameLength);
    nameBytes.set(this.#nameBytes.subarray(0, this.#nameLength));
    const [a, aaaa, srv] = this.#kinds;
    return {
      zone: this.#zone,
      names: nameBytes,
      nameEnd: this.#nameEnd.toInt32(),
      nameTable: this.#nameTable,
      kinds: [a.finish(count), aaaa.finish(count), srv.finish(count)],
      v6: this.#v6.slice(0, this.#v6Count * 16),
      enumeration: {
        frameworks: this.#frameworks,
        frameworkEnd: this.#frameworkEnd.toInt32(),
        taskText: this.#taskText.join(''),
        taskTextEnd: this.#taskTextEnd.toInt32(),
        taskLogEnd: this.#taskLogEnd.toInt32(),
        logKind: this.#logKind.toUint8(),
        logName: this.#logName.toInt32(),
        logValue: this.#logValue.toInt32(),
        logPort: this.#logPort.toUint16(),
      },
      stats: { ...stats, skippedNames: this.#rejected.size, records: this.#records },
    };
  }
}

/** The ArrayBuffers of a `RecordData`, to transfer it with `postMessage`. */
export function recordTransferList(data: RecordData): ArrayBuffer[] {
  const e = data.enumeration;
  const views: ArrayBufferView[] = [
    data.names,
    data.nameEnd,
    data.nameTable,
    data.v6,
    e.frameworkEnd,
    e.taskTextEnd,
    e.taskLogEnd,
    e.logKind,
    e.logName,
    e.logValue,
    e.logPort,
  ];
  for (const k of data.kinds) views.push(k.keys, k.start, k.values, k.ports, k.slot);
  const buffers = new Set<ArrayBuffer>();
  for (const v of views) {
    if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) buffers.add(v.buffer);
  }
  return [...buffers];
}

/** Bytes held by a `RecordData` (for logs and the benchmark). */
export function recordDataBytes(data: RecordData): number {
  let total = data.enumeration.taskText.length * 2;
  for (const b of recordTransferList(data)) total += b.byteLength;
  return total;
}

// ---------------------------------------------------------------------------------------------
// The RecordSet view.

/** A `ReadonlyMap` from owner name to the values of one kind, read from the compact data. */
class KindView<V> implements ReadonlyMap<string, readonly V[]> {
  readonly #set: CompactRecordSet;
  readonly #kind: KindData;
  readonly #value: (k: KindData, i: number) => V;

  constructor(set: CompactRecordSet, kind: KindData, value: (k: KindData, i: number) => V) {
    this.#set = set;
    this.#kind = kind;
    this.#value = value;
  }

  get size(): number {
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
    const slot = id < 0 ? -1 : (this.#kind.slot[id] ?? -1);
    return slot < 0 ? undefined : this.#valuesOf(slot);
  }

  has(name: string): boolean {
    const id = this.#set.nameId(name);
    return id >= 0 && (this.#kind.slot[id] ?? -1) >= 0;
  }

  #entries(): [string, readonly V[]][] {
    const out: [string, readonly V[]][] = [];
    const keys = this.#kind.keys;
    for (let k = 0; k < keys.length; k++) {
      out.push([this.#set.name(keys[k] ?? 0), this.#valuesOf(k)]);
    }
    return out;
  }

  forEach(
    callback: (value: readonly V[], key: string, map: ReadonlyMap<string, readonly V[]>) => void,
  ): void {
    for (const [k, v] of this.#entries()) callback(v, k, this);
  }

  entries(): MapIterator<[string, readonly V[]]> {
    return this.#entries().values();
  }

  keys(): MapIterator<string> {
    return Array.from(this.#kind.keys, (id) => this.#set.name(id)).values();
  }

  values(): MapIterator<readonly V[]> {
    return this.#entries()
      .map(([, v]) => v)
      .values();
  }

  [Symbol.iterator](): MapIterator<[string, readonly V[]]> {
    return this.entries();
  }
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
    const mask = nameTable.length - 1;
    for (let slot = hashString(name) & mask; ; slot = (slot + 1) & mask) {
      const entry = nameTable[slot] ?? 0;
      if (entry === 0) return -1;
      const id = entry - 1;
      const start = id === 0 ? 0 : (nameEnd[id - 1] ?? 0);
      const end = nameEnd[id] ?? 0;
      if (end - start !== name.length) continue;
      let i = 0;
      while (i < name.length && bytes[start + i] === name.charCodeAt(i)) i++;
      if (i === name.length) return id;
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

  /** An enumerated task whose `records` (an own enumerable getter, so JSON sees it) is lazy. */
  #enumeratedTask(name: string, id: string, start: number, end: number): EnumeratedTask {
    let built: EnumeratedRecord[] | undefined;
    const build = (): EnumeratedRecord[] => {
      const e = this.data.enumeration;
      const out: EnumeratedRecord[] = [];
      for (let i = start; i < end; i++) {
        const kind = (e.logKind[i] ?? 0) as RecordKind;
        out.push({
          name: this.name(e.logName[i] ?? 0),
          host: this.valueText(kind, e.logValue[i] ?? 0, e.logPort[i] ?? 0),
          rtype: KIND_TYPES[kind] ?? 'A',
        });
      }
      return out;
    };
    return {
      name,
      id,
      get records(): EnumeratedRecord[] {
        built ??= build();
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

/** The 8 groups of an IPv6 address in text form (with `::` and an IPv4 tail), or undefined. */
export function ipv6Groups(text: string): number[] | undefined {
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      if (i === pieces.length - 1 && piece.includes('.')) {
        const octets = piece.split('.').map(Number);
        if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
          return undefined;
        }
        const [a = 0, b = 0, c = 0, d = 0] = octets;
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf('::');
  if (gap >= 0 && text.indexOf('::', gap + 1) >= 0) return undefined;
  const head = toGroups(gap < 0 ? text : text.slice(0, gap));
  const tail = gap < 0 ? [] : toGroups(text.slice(gap + 2));
  if (head === undefined || tail === undefined) return undefined;
  if (gap < 0) return head.length === 8 ? head : undefined;
  if (head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
