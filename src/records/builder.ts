/**
 * Building a `RecordData` (layout.ts) in one pass over the generator's output, without creating
 * a string per name or an object per record (issue #6):
 *
 * - Names are assembled piece by piece (`part(...).intern()`), checked and hashed as they are
 *   copied (the rules of name-hash.ts, inlined), and interned into one latin1 buffer with an
 *   open-addressing index of (id + 1, hash) pairs.
 * - Each kind keeps a chain of records per owner name while building, and turns it into the CSR
 *   form at the end. De-duplication scans a name's chain up to `SCAN_MAX` values, then uses a
 *   set: almost every name has one to a few values, and a set per name would cost more than it
 *   saves.
 * - `finish()` interns the empty non-terminals (ancestors of owners up to the apex, and the
 *   apex; the same for each reverse zone) and marks them, so that the DNS zone needs no index
 *   of its own.
 *
 * The arrays start from the build memory pool (arena.ts), which they size for the next build.
 */
import type { GeneratorStats } from './types.js';
import { buildArena } from './arena.js';
import { IntList, finalInt32, finalUint8 } from './int-list.js';
import { KIND_A, KIND_AAAA, KIND_PTR, KIND_SRV } from './layout.js';
import type { KindData, RecordData, RecordKind } from './layout.js';
import { FNV_OFFSET, FNV_PRIME, MAX_LABEL, MAX_NAME_TEXT } from './name-hash.js';
import { HEALTH_NONE, combineHealth } from './health.js';

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
    const next = buildArena.int32(size);
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
    const ports = buildArena.uint16(this.ports === undefined ? 0 : total);
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
  readonly #reverseZones: readonly string[];
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
  readonly #kinds: readonly [KindBuilder, KindBuilder, KindBuilder, KindBuilder] = [
    new KindBuilder(KIND_A),
    new KindBuilder(KIND_AAAA),
    new KindBuilder(KIND_SRV),
    new KindBuilder(KIND_PTR),
  ];
  readonly #v6Ids = new Map<string, number>();
  #v6 = buildArena.uint8(1024);
  #v6Count = 0;
  #records = 0;
  // Enumeration.
  readonly #frameworks: string[] = [];
  readonly #frameworkIds: string[] = [];
  readonly #frameworkEnd = new IntList('frameworks', 16);
  readonly #taskText: string[] = [];
  readonly #taskTextEnd = new IntList('tasks.text', 1024);
  #taskTextLength = 0;
  readonly #taskLogEnd = new IntList('tasks.log', 1024);
  readonly #logKindPort = new IntList('log.kindPort', 4096);
  readonly #logName = new IntList('log.name', 4096);
  readonly #logValue = new IntList('log.value', 4096);
  // Health of the names (`RecordData.health`), when tracked: by name id, and the current task's.
  #nameHealth: Map<number, number> | undefined;
  #taskHealth = 0;

  /**
   * `zone`: the apex (lower case, trailing dot); `reverseZones`: the apexes of the reverse zones
   * (`RecordData.reverseZones`).
   */
  constructor(zone: string, reverseZones: readonly string[] = []) {
    this.#zone = zone;
    this.#reverseZones = reverseZones;
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
      const grown = buildArena.uint8(Math.max(bytes.length * 2, this.#nameLength + n));
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
    const [a, aaaa, srv, ptr] = this.#kinds;
    return (
      (a.slot[id] ?? 0) > 0 ||
      (aaaa.slot[id] ?? 0) > 0 ||
      (srv.slot[id] ?? 0) > 0 ||
      (ptr.slot[id] ?? 0) > 0
    );
  }

  /**
   * Interns the empty non-terminals: every ancestor of an owner up to its apex (the zone's or a
   * reverse zone's), and the apexes, when they have no records of their own. Returns their marks
   * by name id.
   */
  #addAncestors(): Uint8Array {
    const apexes = [this.#zone, ...this.#reverseZones];
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
    for (const zone of apexes) {
      const apex = this.id(zone);
      if (apex >= 0) mark(apex, VISITED | (this.#hasRecords(apex) ? 0 : 1));
    }
    // The last parent interned, as a slice of the name bytes (its text never moves within them).
    let lastStart = 0;
    let lastLength = -1;
    for (let id = 0; id < owners; id++) {
      if (!this.#hasRecords(id)) continue;
      const ends = this.#nameEnd.items;
      const start = id === 0 ? 0 : (ends[id - 1] ?? 0);
      const end = ends[id] ?? 0;
      const zone = this.#apexOf(start, end, apexes);
      if (zone === undefined) continue;
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
    const out = buildArena.uint8(this.#nameEnd.length);
    for (let id = 0; id < out.length; id++) out[id] = (marks[id] ?? 0) & 1;
    return out;
  }

  /** The apex of `apexes` that the name `#nameBytes[start..end)` is or is below, if any. */
  #apexOf(start: number, end: number, apexes: readonly string[]): string | undefined {
    for (const zone of apexes) if (this.#isBelowApex(start, end, zone)) return zone;
    return undefined;
  }

  /** Whether the name `#nameBytes[start..end)` is `zone` or below it. */
  #isBelowApex(start: number, end: number, zone: string): boolean {
    const skip = end - start - zone.length;
    if (skip < 0 || (skip > 0 && this.#nameBytes[start + skip - 1] !== 0x2e)) return false;
    for (let i = 0; i < zone.length; i++) {
      if (this.#nameBytes[start + skip + i] !== zone.charCodeAt(i)) return false;
    }
    return true;
  }

  /**
   * `kind` with each owner's targets in name order: the PTRs of an address shared by several
   * tasks then do not depend on the order their tasks were generated in (a full build follows
   * the state, a streamed update the apps it touched).
   */
  #sorted(kind: KindData): KindData {
    const { start, values } = kind;
    const bytes = this.#nameBytes;
    const ends = this.#nameEnd.items;
    const text = (id: number): string => {
      const from = id === 0 ? 0 : (ends[id - 1] ?? 0);
      return String.fromCharCode(...bytes.subarray(from, ends[id] ?? 0));
    };
    for (let k = 0; k + 1 < start.length; k++) {
      const from = start[k] ?? 0;
      const to = start[k + 1] ?? 0;
      if (to - from < 2) continue;
      const targets = [...values.subarray(from, to)].map((id) => ({ id, name: text(id) }));
      targets.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      targets.forEach((t, i) => (values[from + i] = t.id));
    }
    return kind;
  }

  #rehash(): void {
    const table = buildArena.int32(this.#nameTable.length * 2);
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
      const next = buildArena.uint8(this.#v6.length * 2);
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
   * an AAAA (`value` from `v6Index`), an SRV (`value` the target's name id, and `port`) or a PTR
   * (`value` the target's name id).
   * Returns whether it was new.
   */
  add(kind: RecordKind, nameId: number, value: number, port = 0): boolean {
    if (!this.#kinds[kind].add(nameId, value, port)) return false;
    this.#records++;
    return true;
  }

  /**
   * Keeps the health of the names (`RecordData.health`): each record `addForTask` adds marks its
   * name with the task's health (`setTaskHealth`), and `markHealth` marks one directly.
   */
  trackHealth(): void {
    this.#nameHealth ??= new Map();
  }

  /** The health code (health.ts) of the task whose records come next. */
  setTaskHealth(code: number): void {
    this.#taskHealth = code;
  }

  /** Name `nameId` holds records of a task of health `code` (with `trackHealth` only). */
  markHealth(nameId: number, code: number): void {
    const health = this.#nameHealth;
    if (health === undefined || nameId < 0) return;
    health.set(nameId, combineHealth(health.get(nameId) ?? HEALTH_NONE, code));
  }

  /** Like `add`, and a new record also goes into the enumeration of the current task. */
  addForTask(kind: RecordKind, nameId: number, value: number, port = 0): boolean {
    if (this.#nameHealth !== undefined) this.markHealth(nameId, this.#taskHealth);
    if (!this.add(kind, nameId, value, port)) return false;
    this.#logKindPort.push((kind << 16) | port);
    this.#logName.push(nameId);
    this.#logValue.push(value);
    return true;
  }

  /** Starts the next framework of the enumeration. */
  beginFramework(name: string, id: string): void {
    if (this.#frameworks.length > 0) this.#frameworkEnd.push(this.#taskLogEnd.length);
    this.#frameworks.push(name);
    this.#frameworkIds.push(id);
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

  /** `RecordData.health` of `count` names. */
  #healthArray(count: number): Uint8Array {
    const out = buildArena.uint8(count);
    for (const [id, code] of this.#nameHealth ?? []) if (id < count) out[id] = code;
    return out;
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
      emptyNonTerminal = buildArena.uint8(this.#nameEnd.length);
      for (const id of emptyNonTerminals) if (!this.#hasRecords(id)) emptyNonTerminal[id] = 1;
    }
    const count = this.#nameEnd.length;
    buildArena.noteSize('names.bytes', this.#nameLength);
    buildArena.noteSize('names.table', count);
    this.#nameHash.toInt32();
    const [a, aaaa, srv, ptr] = this.#kinds;
    return {
      zone: this.#zone,
      reverseZones: this.#reverseZones,
      names: finalUint8(this.#nameBytes, this.#nameLength),
      nameEnd: this.#nameEnd.toInt32(),
      nameTable: this.#nameTable,
      kinds: [
        a.finish(count),
        aaaa.finish(count),
        srv.finish(count),
        this.#sorted(ptr.finish(count)),
      ],
      v6: finalUint8(this.#v6, this.#v6Count * 16),
      emptyNonTerminal,
      ...(this.#nameHealth === undefined ? {} : { health: this.#healthArray(count) }),
      enumeration: {
        frameworks: this.#frameworks,
        frameworkIds: this.#frameworkIds,
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
