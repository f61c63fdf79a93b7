/**
 * The difference of a change, as a changeset carries it (dns/changeset.ts): the RRs removed and
 * the RRs added, each as a small `RecordData` by owner name. Built from the values of each name
 * before and after, as text; the streamed updates (incremental.ts) and the diff of two full
 * builds (diff.ts) both build theirs here. Run it inside `withoutReserve` (arena.ts): a
 * difference is small next to a full build and must not take the memory reserved for the next.
 */
import { ipv4ToInt, ipv6Groups } from '../net/ip.js';
import { RecordBuilder } from './builder.js';
import { KIND_A, KIND_AAAA, KIND_PTR, KIND_SRV } from './layout.js';
import type { RecordData } from './layout.js';
import type { GeneratorStats, SrvTarget } from './types.js';

/**
 * The values of one name, as text. `ptr` (reverse lookups, the target names) is content only:
 * the reverse zones are not the zone whose differences a changeset carries, so `minus` and
 * `valueCount` leave it out.
 */
export interface NameValues {
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  readonly srv: readonly SrvTarget[];
  /** The name's health code (health.ts; `RecordData.health`), with the health rule on only. */
  readonly health?: number;
  readonly ptr?: readonly string[];
}

/** A name without values. */
export const NO_VALUES: NameValues = { a: [], aaaa: [], srv: [] };

/** The counters of a partial record set (a difference or a zone update). */
export const NO_STATS: Omit<GeneratorStats, 'records' | 'skippedNames'> = {
  frameworks: 0,
  agents: 0,
  tasks: 0,
  skippedTasks: 0,
};

/** How many values (RRs) `v` holds. */
export function valueCount(v: NameValues): number {
  return v.a.length + v.aaaa.length + v.srv.length;
}

/** An SRV value as `target:port` text (how two are compared). */
export function srvText(t: SrvTarget): string {
  return `${t.target}:${String(t.port)}`;
}

/** The values of `x` that `y` does not have. */
export function minus(x: NameValues, y: NameValues): NameValues {
  const srv = new Set(y.srv.map(srvText));
  const a = new Set(y.a);
  const aaaa = new Set(y.aaaa);
  return {
    a: x.a.filter((ip) => !a.has(ip)),
    aaaa: x.aaaa.filter((ip) => !aaaa.has(ip)),
    srv: x.srv.filter((t) => !srv.has(srvText(t))),
  };
}

/** Adds the values of name `id` to a builder (nothing when the name was rejected). */
export function addValues(b: RecordBuilder, id: number, v: NameValues): void {
  if (id < 0) return;
  if (v.health !== undefined) b.markHealth(id, v.health);
  for (const ip of v.a) b.add(KIND_A, id, ipv4ToInt(ip));
  for (const ip of v.aaaa) {
    const groups = ipv6Groups(ip);
    if (groups !== undefined) b.add(KIND_AAAA, id, b.v6Index(ip, groups));
  }
  for (const s of v.srv) {
    const target = b.id(s.target);
    if (target >= 0) b.add(KIND_SRV, id, target, s.port);
  }
  for (const name of v.ptr ?? []) {
    const target = b.id(name);
    if (target >= 0) b.add(KIND_PTR, id, target);
  }
}

/** The RRs a change removes and adds (see the module comment). */
export class DifferenceBuilder {
  readonly #removed: RecordBuilder;
  readonly #added: RecordBuilder;
  #rrs = 0;

  /** `apex`: the zone's (lower case, trailing dot). */
  constructor(apex: string) {
    this.#removed = new RecordBuilder(apex);
    this.#added = new RecordBuilder(apex);
  }

  /** RRs removed and added so far. */
  get rrs(): number {
    return this.#rrs;
  }

  /** Name `name` loses the values `removed` and gains the values `added`. */
  change(name: string, removed: NameValues, added: NameValues): void {
    if (valueCount(removed) > 0) addValues(this.#removed, this.#removed.id(name), removed);
    if (valueCount(added) > 0) addValues(this.#added, this.#added.id(name), added);
    this.#rrs += valueCount(removed) + valueCount(added);
  }

  /** Name `name` goes from the values `before` to the values `after`. */
  replace(name: string, before: NameValues, after: NameValues): void {
    this.change(name, minus(before, after), minus(after, before));
  }

  /** The difference; the builder must not be used afterwards. */
  finish(): { readonly removed: RecordData; readonly added: RecordData } {
    return { removed: this.#removed.finish(NO_STATS, []), added: this.#added.finish(NO_STATS, []) };
  }
}
