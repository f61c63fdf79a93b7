/**
 * The exact difference between the records a zone serves and a new full build: for every owner
 * name, the RRs only the old side has (removed) and those only the new one has (added), as a
 * changeset carries them (difference.ts) and an IXFR sends them (RFC 1995). RRs are compared by
 * owner name, type and rdata: A and AAAA addresses, SRV port and target. The SRV priority and
 * weight and every TTL are the zone's settings, the same for every RR and not part of record
 * data: when the settings change, every RR changes, which the caller has to tell (it is no
 * difference of records).
 *
 * The old side is a base and the names replaced since (`RecordSource`: a zone and the
 * changesets applied to it, dns/zone-diff.ts; `recordSource(data)` for plain record data).
 * Linear in the sizes: every base name is joined once with the new side's name index (the new
 * side's ids mostly follow the base's order, so the id the last match suggests is tried before
 * the FNV-1a hash index), which maps each name both ways; owners
 * are then compared in one pass over each side, values as integers (an SRV target by the id of
 * its name on the new side). Text is made only for the names whose RRs differ.
 */
import { formatIpv6, intToIpv4 } from '../net/ip.js';
import { withoutReserve } from './arena.js';
import { DifferenceBuilder, NO_VALUES } from './difference.js';
import type { NameValues } from './difference.js';
import { KIND_A, KIND_AAAA, KIND_SRV } from './layout.js';
import type { KindData, RecordData, RecordKind } from './layout.js';
import { hashBytes } from './name-hash.js';
import type { SrvTarget } from './types.js';

/** A name replaced since the base: the data that holds it now, its id and its hash there. */
export interface ReplacedName {
  readonly data: RecordData;
  readonly id: number;
  readonly hash: number;
}

/** The old side of a diff (see the module comment). */
export interface RecordSource {
  /** The record data every name not replaced is read from. */
  readonly base: RecordData;
  /** The names replaced since the base, once each (without records: the name went away). */
  replaced(): Iterable<ReplacedName>;
}

/** The RRs removed and added, and how many (`removed` and `added` together). */
export interface RecordDiff {
  readonly removed: RecordData;
  readonly added: RecordData;
  readonly rrs: number;
}

/** Value lists up to this long are compared by scanning; longer ones through a set. */
const SCAN_MAX = 16;

const KINDS: readonly RecordKind[] = [KIND_A, KIND_AAAA, KIND_SRV];

/** Values being collected, as text. */
interface NameLists {
  readonly a: string[];
  readonly aaaa: string[];
  readonly srv: SrvTarget[];
}

/** Start of name `id` in `data.names`. */
function startOf(data: RecordData, id: number): number {
  return id === 0 ? 0 : (data.nameEnd[id - 1] ?? 0);
}

/** Whether name `id` of `data` owns records of any kind. */
function ownsRecords(data: RecordData, id: number): boolean {
  const kinds = data.kinds;
  return (
    (kinds[KIND_A].slot[id] ?? 0) > 0 ||
    (kinds[KIND_AAAA].slot[id] ?? 0) > 0 ||
    (kinds[KIND_SRV].slot[id] ?? 0) > 0
  );
}

/**
 * The id in `data` of the name whose text is `bytes[start..end)` and whose hash is `hash`, or -1
 * (whether or not the name owns records).
 */
function findName(
  data: RecordData,
  bytes: Uint8Array,
  start: number,
  end: number,
  hash: number,
): number {
  const { nameTable, nameEnd, names } = data;
  if (nameTable.length === 0) return -1;
  const mask = (nameTable.length >>> 1) - 1;
  const length = end - start;
  for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
    const entry = nameTable[slot * 2] ?? 0;
    if (entry === 0) return -1;
    if (nameTable[slot * 2 + 1] !== hash) continue;
    const id = entry - 1;
    const from = startOf(data, id);
    if ((nameEnd[id] ?? 0) - from !== length) continue;
    let i = 0;
    while (i < length && names[from + i] === bytes[start + i]) i++;
    if (i === length) return id;
  }
}

/** Plain record data as the old side of a diff. */
export function recordSource(data: RecordData): RecordSource {
  return { base: data, replaced: () => [] };
}

/**
 * The RRs `after` has and `before` lacks (added) and those `before` has and `after` lacks
 * (removed); undefined once they number more than `maxRRs`, where the work stops.
 */
export function diffRecords(
  before: RecordSource,
  after: RecordData,
  maxRRs: number,
): RecordDiff | undefined {
  return withoutReserve(() => new Diff(before, after, maxRRs).run());
}

/** One diff's state (see `diffRecords`). */
class Diff {
  readonly #base: RecordData;
  readonly #replaced: Iterable<ReplacedName>;
  readonly #after: RecordData;
  readonly #maxRRs: number;
  readonly #out: DifferenceBuilder;
  /** By base name id: the id of the same name in `after`, or -1. */
  readonly #baseToAfter: Int32Array;
  /** By `after` name id: the id of the same name in the base, or -1. */
  readonly #afterToBase: Int32Array;
  /**
   * By old data other than the base (a changeset's contents): name id -> 2 + the id of the same
   * name in `after`, 1 when it has none, 0 not looked up yet.
   */
  readonly #partToAfter = new Map<RecordData, Int32Array>();
  /** By data: its name and AAAA bytes as Buffers (for text). */
  readonly #buffers = new Map<RecordData, { names: Buffer; v6: Buffer }>();

  constructor(before: RecordSource, after: RecordData, maxRRs: number) {
    this.#base = before.base;
    this.#replaced = before.replaced();
    this.#after = after;
    this.#maxRRs = maxRRs;
    this.#out = new DifferenceBuilder(after.zone);
    this.#baseToAfter = new Int32Array(this.#base.nameEnd.length);
    this.#afterToBase = new Int32Array(after.nameEnd.length).fill(-1);
  }

  run(): RecordDiff | undefined {
    const base = this.#base;
    const after = this.#after;
    const out = this.#out;
    this.#join();
    // The names replaced since the base: their base names are not served; each is compared
    // with the new side's name, or removed when that has no records.
    const replaced = new Uint8Array(base.nameEnd.length);
    const afterReplaced = new Map<number, ReplacedName>();
    for (const name of this.#replaced) {
      const { data, id, hash } = name;
      const start = startOf(data, id);
      const end = data.nameEnd[id] ?? 0;
      const inBase = findName(base, data.names, start, end, hash);
      if (inBase >= 0) replaced[inBase] = 1;
      const now = inBase >= 0 ? (this.#baseToAfter[inBase] ?? -1) : this.#toAfter(data, id);
      if (now >= 0 && ownsRecords(after, now)) afterReplaced.set(now, name);
      else if (ownsRecords(data, id))
        out.change(this.#name(data, id), this.#values(data, id), NO_VALUES);
    }
    if (out.rrs > this.#maxRRs) return undefined;
    // The new side's owners: added, or compared with the old side's values.
    for (let id = 0; id < after.nameEnd.length; id++) {
      if (!ownsRecords(after, id)) continue;
      let data = base;
      let old = -1;
      const name = afterReplaced.size === 0 ? undefined : afterReplaced.get(id);
      if (name !== undefined) {
        data = name.data;
        old = name.id;
      } else {
        old = this.#afterToBase[id] ?? -1;
        if (old >= 0 && replaced[old] === 1) old = -1;
      }
      if (old < 0 || !ownsRecords(data, old)) {
        out.change(this.#name(after, id), NO_VALUES, this.#values(after, id));
      } else if (!this.#same(data, old, id)) {
        const { removed, added } = this.#change(data, old, id);
        out.change(this.#name(after, id), removed, added);
      } else {
        continue;
      }
      if (out.rrs > this.#maxRRs) return undefined;
    }
    // The base's owners the new side lacks: removed.
    for (let id = 0; id < base.nameEnd.length; id++) {
      if (replaced[id] === 1 || !ownsRecords(base, id)) continue;
      const now = this.#baseToAfter[id] ?? -1;
      if (now >= 0 && ownsRecords(after, now)) continue;
      out.change(this.#name(base, id), this.#values(base, id), NO_VALUES);
      if (out.rrs > this.#maxRRs) return undefined;
    }
    return { ...out.finish(), rrs: out.rrs };
  }

  /**
   * Maps every base name to the same name of the new side and back (`#baseToAfter`,
   * `#afterToBase`): the id the previous match suggests first, else the new side's index.
   */
  #join(): void {
    const base = this.#base;
    const after = this.#after;
    const { names, nameEnd } = base;
    const afterNames = after.names;
    const afterEnd = after.nameEnd;
    let shift = 0;
    let start = 0;
    for (let id = 0; id < nameEnd.length; id++) {
      const end = nameEnd[id] ?? 0;
      const length = end - start;
      const guess = id + shift;
      let now = -1;
      if (guess < afterEnd.length) {
        const at = guess === 0 ? 0 : (afterEnd[guess - 1] ?? 0);
        if ((afterEnd[guess] ?? 0) - at === length) {
          let i = 0;
          while (i < length && names[start + i] === afterNames[at + i]) i++;
          if (i === length) now = guess;
        }
      }
      if (now < 0) {
        now = findName(after, names, start, end, hashBytes(names, start, length));
        if (now >= 0) shift = now - id;
      }
      this.#baseToAfter[id] = now;
      if (now >= 0) this.#afterToBase[now] = id;
      start = end;
    }
  }

  /** The id in the new side of name `id` of old data `data` (an SRV target), or -1. */
  #toAfter(data: RecordData, id: number): number {
    if (data === this.#base) return this.#baseToAfter[id] ?? -1;
    let ids = this.#partToAfter.get(data);
    if (ids === undefined) {
      ids = new Int32Array(data.nameEnd.length);
      this.#partToAfter.set(data, ids);
    }
    const known = ids[id] ?? 0;
    if (known !== 0) return known - 2;
    const start = startOf(data, id);
    const end = data.nameEnd[id] ?? 0;
    const hash = hashBytes(data.names, start, end - start);
    const now = findName(this.#after, data.names, start, end, hash);
    ids[id] = now + 2;
    return now;
  }

  /** Whether name `old` of `data` has exactly the RRs of name `id` of the new side. */
  #same(data: RecordData, old: number, id: number): boolean {
    return (
      this.#sameKind(data, old, id, KIND_A) &&
      this.#sameKind(data, old, id, KIND_AAAA) &&
      this.#sameKind(data, old, id, KIND_SRV)
    );
  }

  #sameKind(data: RecordData, old: number, id: number, kind: RecordKind): boolean {
    const was = data.kinds[kind];
    const now = this.#after.kinds[kind];
    const wasSlot = (was.slot[old] ?? 0) - 1;
    const nowSlot = (now.slot[id] ?? 0) - 1;
    if (wasSlot < 0 || nowSlot < 0) return wasSlot === nowSlot;
    const from = was.start[wasSlot] ?? 0;
    const to = was.start[wasSlot + 1] ?? 0;
    const nowFrom = now.start[nowSlot] ?? 0;
    const nowTo = now.start[nowSlot + 1] ?? 0;
    if (to - from !== nowTo - nowFrom) return false;
    // Values are distinct within a name: the same count and each old value among the new ones
    // (most often at the same place).
    if (to - from <= SCAN_MAX) {
      next: for (let i = from; i < to; i++) {
        if (this.#sameValue(data, was, i, now, nowFrom + i - from, kind)) continue;
        for (let j = nowFrom; j < nowTo; j++) {
          if (this.#sameValue(data, was, i, now, j, kind)) continue next;
        }
        return false;
      }
      return true;
    }
    const keys = new Set<number | string>();
    for (let j = nowFrom; j < nowTo; j++) keys.add(this.#key(this.#after, now, j, kind));
    for (let i = from; i < to; i++) {
      if (!keys.has(this.#key(data, was, i, kind))) return false;
    }
    return true;
  }

  /** Whether value `i` of `was` (in `data`) is value `j` of `now` (the new side's). */
  #sameValue(
    data: RecordData,
    was: KindData,
    i: number,
    now: KindData,
    j: number,
    kind: RecordKind,
  ): boolean {
    if (kind === KIND_A) return was.values[i] === now.values[j];
    if (kind === KIND_SRV) {
      return (
        was.ports[i] === now.ports[j] && this.#toAfter(data, was.values[i] ?? 0) === now.values[j]
      );
    }
    const x = (was.values[i] ?? 0) * 16;
    const y = (now.values[j] ?? 0) * 16;
    const v6 = this.#after.v6;
    for (let b = 0; b < 16; b++) if (data.v6[x + b] !== v6[y + b]) return false;
    return true;
  }

  /**
   * A key of value `i` of `kind` in `data` that equals the key of the same RR on the other side:
   * A the address, SRV the target's id on the new side and the port, AAAA the address bytes.
   */
  #key(data: RecordData, k: KindData, i: number, kind: RecordKind): number | string {
    const value = k.values[i] ?? 0;
    if (kind === KIND_A) return value;
    if (kind === KIND_SRV) {
      const target = data === this.#after ? value : this.#toAfter(data, value);
      return target * 65536 + (k.ports[i] ?? 0);
    }
    return this.#buffersOf(data).v6.toString('latin1', value * 16, value * 16 + 16);
  }

  #buffersOf(data: RecordData): { names: Buffer; v6: Buffer } {
    let buffers = this.#buffers.get(data);
    if (buffers === undefined) {
      const { names, v6 } = data;
      buffers = {
        names: Buffer.from(names.buffer, names.byteOffset, names.byteLength),
        v6: Buffer.from(v6.buffer, v6.byteOffset, v6.byteLength),
      };
      this.#buffers.set(data, buffers);
    }
    return buffers;
  }

  /** The text of name `id` of `data`. */
  #name(data: RecordData, id: number): string {
    return this.#buffersOf(data).names.toString('latin1', startOf(data, id), data.nameEnd[id] ?? 0);
  }

  /** The values of name `id` of `data`, as text. */
  #values(data: RecordData, id: number): NameValues {
    const lists: NameLists = { a: [], aaaa: [], srv: [] };
    for (const kind of KINDS) {
      const k = data.kinds[kind];
      const slot = (k.slot[id] ?? 0) - 1;
      if (slot < 0) continue;
      const end = k.start[slot + 1] ?? 0;
      for (let i = k.start[slot] ?? 0; i < end; i++) this.#push(lists, data, kind, i);
    }
    return lists;
  }

  /**
   * The values name `old` of `data` has and name `id` of the new side lacks (removed), and
   * those the new side has and `old` lacks (added), as text.
   */
  #change(data: RecordData, old: number, id: number): { removed: NameValues; added: NameValues } {
    const removed: NameLists = { a: [], aaaa: [], srv: [] };
    const added: NameLists = { a: [], aaaa: [], srv: [] };
    for (const kind of KINDS) {
      const was = data.kinds[kind];
      const now = this.#after.kinds[kind];
      const wasSlot = (was.slot[old] ?? 0) - 1;
      const nowSlot = (now.slot[id] ?? 0) - 1;
      const from = wasSlot < 0 ? 0 : (was.start[wasSlot] ?? 0);
      const to = wasSlot < 0 ? 0 : (was.start[wasSlot + 1] ?? 0);
      const nowFrom = nowSlot < 0 ? 0 : (now.start[nowSlot] ?? 0);
      const nowTo = nowSlot < 0 ? 0 : (now.start[nowSlot + 1] ?? 0);
      if (to - from <= SCAN_MAX && nowTo - nowFrom <= SCAN_MAX) {
        // At most 16 new values: a bit each for those matched.
        let matched = 0;
        next: for (let i = from; i < to; i++) {
          for (let j = nowFrom; j < nowTo; j++) {
            const bit = 1 << (j - nowFrom);
            if ((matched & bit) === 0 && this.#sameValue(data, was, i, now, j, kind)) {
              matched |= bit;
              continue next;
            }
          }
          this.#push(removed, data, kind, i);
        }
        for (let j = nowFrom; j < nowTo; j++) {
          if ((matched & (1 << (j - nowFrom))) === 0) this.#push(added, this.#after, kind, j);
        }
      } else {
        const wasKeys = new Set<number | string>();
        const nowKeys = new Set<number | string>();
        for (let j = nowFrom; j < nowTo; j++) nowKeys.add(this.#key(this.#after, now, j, kind));
        for (let i = from; i < to; i++) {
          const key = this.#key(data, was, i, kind);
          wasKeys.add(key);
          if (!nowKeys.has(key)) this.#push(removed, data, kind, i);
        }
        for (let j = nowFrom; j < nowTo; j++) {
          if (!wasKeys.has(this.#key(this.#after, now, j, kind)))
            this.#push(added, this.#after, kind, j);
        }
      }
    }
    return { removed, added };
  }

  /** Adds value `i` of `kind` in `data` to `lists`, as text. */
  #push(lists: NameLists, data: RecordData, kind: RecordKind, i: number): void {
    const k = data.kinds[kind];
    const value = k.values[i] ?? 0;
    if (kind === KIND_A) {
      lists.a.push(intToIpv4(value));
    } else if (kind === KIND_SRV) {
      lists.srv.push({ target: this.#name(data, value), port: k.ports[i] ?? 0 });
    } else {
      const v6 = data.v6;
      const groups: number[] = [];
      for (let g = 0; g < 16; g += 2) {
        groups.push(((v6[value * 16 + g] ?? 0) << 8) | (v6[value * 16 + g + 1] ?? 0));
      }
      lists.aaaa.push(formatIpv6(groups));
    }
  }
}
