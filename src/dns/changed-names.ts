/**
 * The names changesets replaced since a zone's base was built, as a persistent map: adding a
 * name copies only the path to it (a hash array mapped trie, 32 slots a level, keyed by the
 * FNV-1a hash a query already carries), so that every applied changeset gives a new map and
 * the maps of earlier zones stay as they were. A lookup for a name that was never changed costs
 * one array read; a zone without changes has no map at all.
 *
 * Why not a `Map` copied per changeset: the map grows to hundreds of thousands of names before a
 * full rebuild starts over, and copying it on the thread that answers DNS would stall answers.
 */

/** Where a changed name's answers are written from: the changeset contents that hold it. */
export interface ChangedName<P> {
  /** FNV-1a of the name's text form (`Query.nameHash`). */
  readonly hash: number;
  /** The part (a changeset's contents) and the name's id in it. */
  readonly part: P;
  readonly id: number;
}

class Bucket<P> {
  constructor(
    readonly hash: number,
    readonly entries: readonly ChangedName<P>[],
  ) {}
}

type Slot<P> = Branch<P> | Bucket<P> | undefined;

class Branch<P> {
  constructor(readonly slots: readonly Slot<P>[]) {}
}

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

/** The persistent map; `undefined` is the empty map. */
export type ChangedNames<P> = Branch<P> | Bucket<P> | undefined;

/**
 * The entries whose hash is `hash` (names that differ but share a hash are told apart by the
 * caller), or undefined.
 */
export function changedWithHash<P>(
  map: ChangedNames<P>,
  hash: number,
): readonly ChangedName<P>[] | undefined {
  let node: Slot<P> = map;
  let shift = 0;
  while (node instanceof Branch) {
    node = node.slots[(hash >>> shift) & MASK];
    shift += BITS;
  }
  return node !== undefined && node.hash === hash ? node.entries : undefined;
}

/**
 * A new map with `entry` added, replacing the entry `same` says is the same name; `map` is left
 * as it was.
 */
export function withChanged<P>(
  map: ChangedNames<P>,
  entry: ChangedName<P>,
  same: (a: ChangedName<P>, b: ChangedName<P>) => boolean,
): ChangedNames<P> {
  return insert(map, 0, entry, same);
}

function insert<P>(
  node: Slot<P>,
  shift: number,
  entry: ChangedName<P>,
  same: (a: ChangedName<P>, b: ChangedName<P>) => boolean,
): Branch<P> | Bucket<P> {
  if (node === undefined) return new Bucket(entry.hash, [entry]);
  if (node instanceof Bucket) {
    if (node.hash === entry.hash) {
      return new Bucket(entry.hash, [...node.entries.filter((e) => !same(e, entry)), entry]);
    }
    // Two hashes differ in some bit below 32, so the split ends by the level of bits 30-31.
    const slots = new Array<Slot<P>>(WIDTH).fill(undefined);
    slots[(node.hash >>> shift) & MASK] = node;
    return insert(new Branch(slots), shift, entry, same);
  }
  const i = (entry.hash >>> shift) & MASK;
  const slots = node.slots.slice();
  slots[i] = insert(slots[i], shift + BITS, entry, same);
  return new Branch(slots);
}

/** Every entry of the map (in hash order, not insertion order). */
export function* changedEntries<P>(map: ChangedNames<P>): Generator<ChangedName<P>> {
  if (map === undefined) return;
  if (map instanceof Bucket) {
    yield* map.entries;
    return;
  }
  for (const slot of map.slots) yield* changedEntries(slot);
}
