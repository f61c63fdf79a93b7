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
import { buildArena } from './arena.js';
import { IntList, finalInt32, finalUint8 } from './int-list.js';
import { formatIpv6, intToIpv4, ipv4ToInt, ipv6Groups } from './ip-text.js';
import { KIND_A, KIND_AAAA, KIND_SRV, KIND_TYPES } from './layout.js';
import type { KindData, RecordData, RecordKind } from './layout.js';
import {
  FNV_OFFSET,
  FNV_PRIME,
  MAX_LABEL,
  MAX_NAME_TEXT,
  hashBytes,
  hashString,
} from './name-hash.js';

export { reserveBuildMemory, withoutReserve } from './arena.js';
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

/** Lists of at most this many values are de-duplicated by scanning; longer ones get a Set. */
const SCAN_MAX = 16;

/** One kind's records while building: a chain of records per owner name. */
class KindBuilder {
  readonly #kind: number;
  readonly keys: IntList;
  readonly head: IntList;
  readonly tail: IntList;
  readonly count: IntList;
  readonly values: IntList;
  /** SRV ports; A and AAAA records have none (port 0). */
  readonly ports: IntList | undefined;
  readonly next: IntList;
  /** Name id -> 1 + slot in `keys`, 0 when none; grown with the names. */
  slot: Int32Array;
  /** Sets of the long value lists, by slot. */
  readonly sets = new Map<number, Set<number>>();

  constructor(kind: number) {
    this.#kind = kind;
    const role = (name: string): string => `k${String(kind)}.${name}`;
    this.keys = new IntList(role('keys'), 1024);
    this.head = new IntList(role('head'), 1024);
    this.tail = new IntList(role('tail'), 1024);
    this.count = new IntList(role('count'), 1024);
    this.values = new IntList(role('values'), 4096);
    this.next = new IntList(role('next'), 4096);
    this.ports = kind === KIND_SRV ? new IntList(role('ports'), 4096) : undefined;
    this.slot = buildArena.startInt32(role('slot'), 1024);
  }

  ensureNames(n: number): void {
    if (n <= this.slot.length) return;
    let size = this.slot.length;
    while (size < n) size *= 2;
    const next = new Int32Array(size);
    next.set(this.slot);
    this.slot = next;
  }

  /** Appends a value to its name's chain unless it is there already; returns whether it was new. */
  add(nameId: number, rawValue: number, port: number): boolean {
    // A values are unsigned 32-bit; the Int32Array holds them as signed.
    const value = rawValue | 0;
    const slot = (this.slot[nameId] ?? 0) - 1;
    const values = this.values;
    if (slot < 0) {
      const record = values.push(value);
      this.ports?.push(port);
      this.next.push(-1);
      this.slot[nameId] = this.keys.push(nameId) + 1;
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
    const role = (name: string): string => `k${String(this.#kind)}.${name}`;
    const keyCount = this.keys.length;
    const total = this.values.length;
    const start = buildArena.takeInt32(role('start'), keyCount + 1);
    const values = buildArena.takeInt32(role('csr'), total);
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
    for (const list of [this.head, this.tail, this.count, this.values, this.next, this.ports]) {
      list?.toInt32(); // records the size the next reservation needs
    }
    buildArena.noteSize(role('slot'), nameCount);
    buildArena.noteSize(role('start'), keyCount + 1);
    buildArena.noteSize(role('csr'), total);
    return {
      keys: this.keys.toInt32(),
      start: finalInt32(start, keyCount + 1),
      values: finalInt32(values, total),
      ports,
      slot: finalInt32(this.slot, nameCount),
    };
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
  #nameBytes = buildArena.takeUint8('names.bytes', 1 << 16);
  #nameLength = 0;
  readonly #nameEnd = new IntList('names.end', 4096);
  readonly #nameHash = new IntList('names.hash', 4096);
  /** Slot pairs (id + 1, hash), see `RecordData.nameTable`. */
  #nameTable = buildArena.startInt32('names.table', 16384);
  // The name being assembled by `part`: its bytes, FNV-1a hash and current label length.
  readonly #scratch = new Uint8Array(MAX_NAME_TEXT + 1);
  #scratchLength = 0;
  #scratchHash = FNV_OFFSET;
  #label = 0;
  #isBad = false;
  readonly #pieces: string[] = [];
  #pieceCount = 0;
  readonly #rejected = new Set<string>();
  readonly #kinds: readonly [KindBuilder, KindBuilder, KindBuilder] = [
    new KindBuilder(KIND_A),
    new KindBuilder(KIND_AAAA),
    new KindBuilder(KIND_SRV),
  ];
  readonly #v6Ids = new Map<string, number>();
  #v6 = new Uint8Array(1024);
  #v6Count = 0;
  #records = 0;
  // Enumeration.
  readonly #frameworks: string[] = [];
  readonly #frameworkEnd = new IntList('frameworks', 16);
  readonly #taskText: string[] = [];
  readonly #taskTextEnd = new IntList('tasks.text', 1024);
  #taskTextLength = 0;
  readonly #taskLogEnd = new IntList('tasks.log', 1024);
  readonly #logKindPort = new IntList('log.kindPort', 4096);
  readonly #logName = new IntList('log.name', 4096);
  readonly #logValue = new IntList('log.value', 4096);

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
      // Copy, hash and check the labels in one pass (see `isValidName`).
      let hash = this.#scratchHash;
      let label = this.#label;
      let isBad = this.#isBad;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x2e) {
          if (label === 0 || label > MAX_LABEL) isBad = true;
          label = 0;
        } else {
          if (c < 0x21 || c > 0x7e) isBad = true;
          label++;
        }
        scratch[n++] = c;
        hash = Math.imul(hash ^ c, FNV_PRIME);
      }
      this.#scratchLength = n;
      this.#scratchHash = hash;
      this.#label = label;
      this.#isBad = isBad;
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
    const hash = this.#scratchHash;
    const pieceCount = this.#pieceCount;
    // Every label was checked at its dot; the name must end with one (the root).
    const isValid = !this.#isBad && n > 0 && this.#scratch[n - 1] === 0x2e;
    this.#scratchLength = 0;
    this.#scratchHash = FNV_OFFSET;
    this.#label = 0;
    this.#isBad = false;
    this.#pieceCount = 0;
    if (!isValid) {
      let name = '';
      for (let i = 0; i < pieceCount; i++) name += this.#pieces[i] ?? '';
      this.#rejected.add(name);
      return -1;
    }
    return this.#internScratch(n, hash);
  }

  /** Finds or adds the (valid) name `#scratch[0..n)` whose hash is `hash`. */
  #internScratch(n: number, hash: number): number {
    const scratch = this.#scratch;
    const table = this.#nameTable;
    const mask = (table.length >>> 1) - 1;
    const bytes = this.#nameBytes;
    const ends = this.#nameEnd.items;
    let slot = hash & mask;
    for (;;) {
      const entry = table[slot * 2] ?? 0;
      if (entry === 0) break;
      if (table[slot * 2 + 1] === hash) {
        const id = entry - 1;
        const start = id === 0 ? 0 : (ends[id - 1] ?? 0);
        if ((ends[id] ?? 0) - start === n) {
          let i = 0;
          while (i < n && bytes[start + i] === scratch[i]) i++;
          if (i === n) return id;
        }
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
    table[slot * 2] = id + 1;
    table[slot * 2 + 1] = hash;
    if ((id + 1) * 4 > table.length) this.#rehash();
    if ((id & 1023) === 0) for (const k of this.#kinds) k.ensureNames(id + 1024);
    return id;
  }

  /** The id of `name` (see `intern`). */
  id(name: string): number {
    return this.part(name).intern();
  }

  #hasRecords(id: number): boolean {
    const [a, aaaa, srv] = this.#kinds;
    return (a.slot[id] ?? 0) > 0 || (aaaa.slot[id] ?? 0) > 0 || (srv.slot[id] ?? 0) > 0;
  }

  /**
   * Interns the empty non-terminals: every ancestor of an owner up to the apex, and the apex,
   * when they have no records of their own. Returns their marks by name id.
   */
  #addAncestors(): Uint8Array {
    const zone = this.#zone;
    const owners = this.#nameEnd.length;
    let marks = new Uint8Array(owners + 1024);
    const mark = (id: number, value: number): void => {
      if (id >= marks.length) {
        const grown = new Uint8Array(Math.max(marks.length * 2, id + 1));
        grown.set(marks);
        marks = grown;
      }
      marks[id] = value;
    };
    const VISITED = 2;
    const apex = this.id(zone);
    if (apex >= 0) mark(apex, VISITED | (this.#hasRecords(apex) ? 0 : 1));
    // The last parent interned, as a slice of the name bytes (its text never moves within them).
    let lastStart = 0;
    let lastLength = -1;
    for (let id = 0; id < owners; id++) {
      if (!this.#hasRecords(id)) continue;
      const ends = this.#nameEnd.items;
      const start = id === 0 ? 0 : (ends[id - 1] ?? 0);
      const end = ends[id] ?? 0;
      if (!this.#isBelowApex(start, end)) continue;
      let at = start;
      while (end - at > zone.length) {
        let bytes = this.#nameBytes;
        while (bytes[at] !== 0x2e) at++;
        at++;
        // Most owners share their parent with the previous one: compare before hashing.
        if (end - at === lastLength) {
          let i = 0;
          while (i < lastLength && bytes[at + i] === bytes[lastStart + i]) i++;
          if (i === lastLength) break;
        }
        // Copy the suffix into the scratch and intern it (the name bytes may move meanwhile).
        let hash = FNV_OFFSET;
        for (let i = at; i < end; i++) {
          const c = bytes[i] ?? 0;
          this.#scratch[i - at] = c;
          hash = Math.imul(hash ^ c, FNV_PRIME);
        }
        const parent = this.#internScratch(end - at, hash);
        bytes = this.#nameBytes;
        const ends = this.#nameEnd.items;
        lastStart = parent === 0 ? 0 : (ends[parent - 1] ?? 0);
        lastLength = end - at;
        if (((marks[parent] ?? 0) & VISITED) !== 0) break;
        mark(parent, VISITED | (this.#hasRecords(parent) ? 0 : 1));
      }
    }
    const out = new Uint8Array(this.#nameEnd.length);
    for (let id = 0; id < out.length; id++) out[id] = (marks[id] ?? 0) & 1;
    return out;
  }

  /** Whether the name `#nameBytes[start..end)` is the apex or below it. */
  #isBelowApex(start: number, end: number): boolean {
    const zone = this.#zone;
    const skip = end - start - zone.length;
    if (skip < 0 || (skip > 0 && this.#nameBytes[start + skip - 1] !== 0x2e)) return false;
    for (let i = 0; i < zone.length; i++) {
      if (this.#nameBytes[start + skip + i] !== zone.charCodeAt(i)) return false;
    }
    return true;
  }

  #rehash(): void {
    const table = new Int32Array(this.#nameTable.length * 2);
    const mask = (table.length >>> 1) - 1;
    const hashes = this.#nameHash.items;
    for (let id = 0; id < this.#nameEnd.length; id++) {
      const hash = hashes[id] ?? 0;
      let slot = hash & mask;
      while (table[slot * 2] !== 0) slot = (slot + 1) & mask;
      table[slot * 2] = id + 1;
      table[slot * 2 + 1] = hash;
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
    this.#logKindPort.push((kind << 16) | port);
    this.#logName.push(nameId);
    this.#logValue.push(value);
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
    this.#taskLogEnd.push(this.#logName.length);
  }

  /**
   * The finished data; the builder must not be used afterwards. The empty non-terminals are the
   * ancestors of the owners (see `#addAncestors`), or exactly the names `emptyNonTerminals`
   * lists when given (a partial record set, such as a zone update, has no ancestors of its own).
   */
  finish(
    stats: Omit<GeneratorStats, 'records' | 'skippedNames'>,
    emptyNonTerminals?: readonly number[],
  ): RecordData {
    if (this.#frameworks.length > 0) this.#frameworkEnd.push(this.#taskLogEnd.length);
    let emptyNonTerminal: Uint8Array;
    if (emptyNonTerminals === undefined) {
      emptyNonTerminal = this.#addAncestors();
    } else {
      emptyNonTerminal = new Uint8Array(this.#nameEnd.length);
      for (const id of emptyNonTerminals) if (!this.#hasRecords(id)) emptyNonTerminal[id] = 1;
    }
    const count = this.#nameEnd.length;
    buildArena.noteSize('names.bytes', this.#nameLength);
    buildArena.noteSize('names.table', count);
    this.#nameHash.toInt32();
    const [a, aaaa, srv] = this.#kinds;
    return {
      zone: this.#zone,
      names: finalUint8(this.#nameBytes, this.#nameLength),
      nameEnd: this.#nameEnd.toInt32(),
      nameTable: this.#nameTable,
      kinds: [a.finish(count), aaaa.finish(count), srv.finish(count)],
      v6: this.#v6.slice(0, this.#v6Count * 16),
      emptyNonTerminal,
      enumeration: {
        frameworks: this.#frameworks,
        frameworkEnd: this.#frameworkEnd.toInt32(),
        taskText: this.#taskText.join(''),
        taskTextEnd: this.#taskTextEnd.toInt32(),
        taskLogEnd: this.#taskLogEnd.toInt32(),
        logKindPort: this.#logKindPort.toInt32(),
        logName: this.#logName.toInt32(),
        logValue: this.#logValue.toInt32(),
      },
      stats: { ...stats, skippedNames: this.#rejected.size, records: this.#records },
    };
  }
}

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
