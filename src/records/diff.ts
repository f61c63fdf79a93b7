/**
 * The exact difference between the records a zone serves and a new full build: for every owner
 * name, the RRs only the old side has (removed) and those only the new one has (added), as a
 * changeset carries them (difference.ts) and an IXFR sends them (RFC 1995). RRs are compared by
 * owner name, type and rdata: A and AAAA addresses, SRV port and target. The SRV priority and
 * weight and every TTL are the zone's settings, the same for every RR and not part of record
 * data: when the settings change, every RR changes, which the caller has to tell (it is no
 * difference of records).
 *
 * Linear in the sizes of both sides: each side's owners are joined with the other side's name
 * index by the FNV-1a hashes the indexes already hold; values are compared as integers (an SRV
 * target by its id on the new side, looked up once per target); text is made only for the names
 * whose RRs differ. The old side is a `RecordSource`, so that it can be a zone's base with the
 * changesets applied since (dns/zone-diff.ts); `recordSource(data)` is a plain record data set.
 */
import { formatIpv6, intToIpv4 } from '../net/ip.js';
import { withoutReserve } from './arena.js';
import { DifferenceBuilder, NO_VALUES } from './difference.js';
import type { NameValues } from './difference.js';
import { KIND_A, KIND_AAAA, KIND_SRV } from './layout.js';
import type { KindData, RecordData, RecordKind } from './layout.js';
import { hashBytes } from './name-hash.js';
import type { SrvTarget } from './types.js';

/** A name of a record source: the data that holds it and its id there (-1: none). */
export interface NameRef {
  data: RecordData;
  id: number;
}

/** The old side of a diff: record data, or a zone's base and changesets (see the module comment). */
export interface RecordSource {
  /**
   * Where the name whose text is `bytes[start..end)` and whose FNV-1a hash is `hash` is held (id
   * -1 when nowhere, whatever the data). May return one object reused by every call.
   */
  find(bytes: Uint8Array, start: number, end: number, hash: number): Readonly<NameRef>;
  /**
   * Calls `visit` with every name that owns records: the data holding it, its id there and its
   * hash, until `visit` returns false.
   */
  forEachOwner(visit: (data: RecordData, id: number, hash: number) => boolean): void;
}

/** The RRs removed and added, and how many (`removed` and `added` together). */
export interface RecordDiff {
  readonly removed: RecordData;
  readonly added: RecordData;
  readonly rrs: number;
}

/** Value lists up to this long are compared by scanning; longer ones through a set. */
const SCAN_MAX = 16;

/** Start of name `id` in `data.names`. */
function startOf(data: RecordData, id: number): number {
  return id === 0 ? 0 : (data.nameEnd[id - 1] ?? 0);
}

/** Whether name `id` of `data` owns records of any kind. */
export function ownsRecords(data: RecordData, id: number): boolean {
  const [a, aaaa, srv] = data.kinds;
  return (a.slot[id] ?? 0) > 0 || (aaaa.slot[id] ?? 0) > 0 || (srv.slot[id] ?? 0) > 0;
}

/** The hash of every name of `data`, by id, read from its index. */
export function nameHashes(data: RecordData): Int32Array {
  const table = data.nameTable;
  const out = new Int32Array(data.nameEnd.length);
  for (let slot = 0; slot < table.length; slot += 2) {
    const entry = table[slot] ?? 0;
    if (entry > 0) out[entry - 1] = table[slot + 1] ?? 0;
  }
  return out;
}

/**
 * The id in `data` of the name whose text is `bytes[start..end)` and whose hash is `hash`, or -1
 * (whether or not the name owns records).
 */
export function findName(
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

/** A plain record data set as the old side of a diff. */
export function recordSource(data: RecordData): RecordSource {
  const found: NameRef = { data, id: -1 };
  return {
    find(bytes, start, end, hash) {
      found.id = findName(data, bytes, start, end, hash);
      return found;
    },
    forEachOwner(visit) {
      const hashes = nameHashes(data);
      for (let id = 0; id < hashes.length; id++) {
        if (ownsRecords(data, id) && !visit(data, id, hashes[id] ?? 0)) return;
      }
    },
  };
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
  readonly #before: RecordSource;
  readonly #after: RecordData;
  readonly #maxRRs: number;
  readonly #out: DifferenceBuilder;
  /** By old data: name id -> 2 + the id of the same name in `after`, 1 when it has none, 0 unknown. */
  readonly #targets = new Map<RecordData, Int32Array>();
  /** By data: its name and AAAA bytes as Buffers (for text). */
  readonly #buffers = new Map<RecordData, { names: Buffer; v6: Buffer }>();

  constructor(before: RecordSource, after: RecordData, maxRRs: number) {
    this.#before = before;
    this.#after = after;
    this.#maxRRs = maxRRs;
    this.#out = new DifferenceBuilder(after.zone);
  }

  run(): RecordDiff | undefined {
    const after = this.#after;
    const out = this.#out;
    const hashes = nameHashes(after);
    // The new side's owners: added, or compared with the old side's values.
    for (let id = 0; id < hashes.length; id++) {
      if (!ownsRecords(after, id)) continue;
      const ref = this.#before.find(
        after.names,
        startOf(after, id),
        after.nameEnd[id] ?? 0,
        hashes[id] ?? 0,
      );
      const data = ref.data;
      const old = ref.id;
      if (old < 0 || !ownsRecords(data, old)) {
        out.change(this.#name(after, id), NO_VALUES, this.#values(after, id));
      } else if (!this.#same(data, old, id)) {
        out.replace(this.#name(after, id), this.#values(data, old), this.#values(after, id));
      } else {
        continue;
      }
      if (out.rrs > this.#maxRRs) return undefined;
    }
    // The old side's owners the new side lacks: removed.
    this.#before.forEachOwner((data, id, hash) => {
      const now = findName(after, data.names, startOf(data, id), data.nameEnd[id] ?? 0, hash);
      if (now >= 0 && ownsRecords(after, now)) return true;
      out.change(this.#name(data, id), this.#values(data, id), NO_VALUES);
      return out.rrs <= this.#maxRRs;
    });
    if (out.rrs > this.#maxRRs) return undefined;
    return { ...out.finish(), rrs: out.rrs };
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
    // Values are distinct within a name: the same count and each old value among the new ones.
    if (to - from <= SCAN_MAX) {
      next: for (let i = from; i < to; i++) {
        for (let j = nowFrom; j < nowTo; j++) {
          if (this.#sameValue(data, was, i, now, j, kind)) continue next;
        }
        return false;
      }
      return true;
    }
    const keys = new Set<number | string>();
    for (let j = nowFrom; j < nowTo; j++) keys.add(this.#key(this.#after, now, j, kind, false));
    for (let i = from; i < to; i++) {
      if (!keys.has(this.#key(data, was, i, kind, true))) return false;
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
        was.ports[i] === now.ports[j] && this.#target(data, was.values[i] ?? 0) === now.values[j]
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
  #key(
    data: RecordData,
    k: KindData,
    i: number,
    kind: RecordKind,
    isOld: boolean,
  ): number | string {
    const value = k.values[i] ?? 0;
    if (kind === KIND_A) return value;
    if (kind === KIND_SRV) {
      const target = isOld ? this.#target(data, value) : value;
      return target * 65536 + (k.ports[i] ?? 0);
    }
    return this.#buffersOf(data).v6.toString('latin1', value * 16, value * 16 + 16);
  }

  /** The id in the new side of name `id` of old data `data` (an SRV target), or -1. */
  #target(data: RecordData, id: number): number {
    let ids = this.#targets.get(data);
    if (ids === undefined) {
      ids = new Int32Array(data.nameEnd.length);
      this.#targets.set(data, ids);
    }
    const known = ids[id] ?? 0;
    if (known !== 0) return known - 2;
    const start = startOf(data, id);
    const end = data.nameEnd[id] ?? 0;
    const now = findName(
      this.#after,
      data.names,
      start,
      end,
      hashBytes(data.names, start, end - start),
    );
    ids[id] = now + 2;
    return now;
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
    const list = <T>(k: KindData, value: (i: number) => T): T[] => {
      const slot = (k.slot[id] ?? 0) - 1;
      if (slot < 0) return [];
      const out: T[] = [];
      for (let i = k.start[slot] ?? 0; i < (k.start[slot + 1] ?? 0); i++) out.push(value(i));
      return out;
    };
    const [a, aaaa, srv] = data.kinds;
    const v6 = data.v6;
    return {
      a: list(a, (i) => intToIpv4(a.values[i] ?? 0)),
      aaaa: list(aaaa, (i) => {
        const at = (aaaa.values[i] ?? 0) * 16;
        const groups: number[] = [];
        for (let g = 0; g < 16; g += 2)
          groups.push(((v6[at + g] ?? 0) << 8) | (v6[at + g + 1] ?? 0));
        return formatIpv6(groups);
      }),
      srv: list(srv, (i): SrvTarget => ({
        target: this.#name(data, srv.values[i] ?? 0),
        port: srv.ports[i] ?? 0,
      })),
    };
  }
}
