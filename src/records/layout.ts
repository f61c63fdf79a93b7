/**
 * The layout of the compact record set: what the generator produces, stored as a few typed
 * arrays instead of millions of small objects (issue #6: a 100k-task cluster has about 1.1M
 * records and 500k names).
 *
 * - Names are interned: each distinct name has an id; the name texts sit back to back in one
 *   latin1 buffer (`names`, `nameEnd`) with an open-addressing hash index (`nameTable`).
 * - Each record kind (A, AAAA, SRV) keeps its owner names in first-insertion order (`keys`) and
 *   their values in CSR form (`start`, `values`, and `ports` for SRV): the values of key `k` are
 *   `values[start[k]..start[k+1])`, in insertion order. A values are the IPv4 address as an
 *   unsigned 32-bit integer; AAAA values index the 16-byte addresses in `v6`; SRV and PTR values
 *   are the name id of the target.
 * - The `/v1/enumerate` structure is a log of the records each task added, plus the task names
 *   and ids in one string.
 *
 * Every part is a typed array with its own ArrayBuffer, a string or a small array, so a
 * `RecordData` can be posted between threads with its buffers transferred, not copied
 * (transfer.ts). `RecordBuilder` (builder.ts) writes it; `CompactRecordSet` (views.ts) puts the
 * `RecordSet` interface (maps from name to values, the enumeration) on top; the DNS zone
 * (dns/zone.ts) reads the arrays directly.
 */
import type { GeneratorStats, RecordType } from './types.js';

/** Record kinds by number, the index into `RecordData.kinds`. */
export const KIND_A = 0;
/** See `KIND_A`. */
export const KIND_AAAA = 1;
/** See `KIND_A`. */
export const KIND_SRV = 2;
/**
 * PTR records of the reverse zones (`records.reverse`, reverse.ts): owners in `in-addr.arpa.` or
 * `ip6.arpa.`, values the target's name id (as SRV, without a port). Never in the forward zone's
 * transfers or differences.
 */
export const KIND_PTR = 3;

/** One of `KIND_A`, `KIND_AAAA`, `KIND_SRV`, `KIND_PTR`. */
export type RecordKind = typeof KIND_A | typeof KIND_AAAA | typeof KIND_SRV | typeof KIND_PTR;

/** The record type of each kind, by kind number. */
export const KIND_TYPES: readonly RecordType[] = ['A', 'AAAA', 'SRV'];

/** The records of one kind in CSR form (see the module comment). */
export interface KindData {
  /** Owner name ids, in the order their first value of this kind was inserted. */
  readonly keys: Int32Array;
  /** `keys.length + 1` offsets into `values`. */
  readonly start: Int32Array;
  readonly values: Int32Array;
  /** SRV ports, parallel to `values` (empty for A and AAAA). */
  readonly ports: Uint16Array;
  /** By name id: 1 + its index into `keys`, 0 when the name has no value of this kind. */
  readonly slot: Int32Array;
}

/** The `/v1/enumerate` data: frameworks, their running tasks, and each task's new records. */
export interface EnumerationData {
  readonly frameworks: readonly string[];
  /** Each framework's id (same-named frameworks are told apart by it). */
  readonly frameworkIds: readonly string[];
  /** Exclusive end (task index) of each framework's tasks. */
  readonly frameworkEnd: Int32Array;
  /** Every task's name then id, back to back. */
  readonly taskText: string;
  /** Two ends per task into `taskText`: of its name, then of its id. */
  readonly taskTextEnd: Int32Array;
  /** Exclusive end (log index) of each task's records. */
  readonly taskLogEnd: Int32Array;
  /** The record's kind and SRV port: `kind << 16 | port`. */
  readonly logKindPort: Int32Array;
  readonly logName: Int32Array;
  readonly logValue: Int32Array;
}

/** Everything a record set holds, as transferable parts (see the module comment). */
export interface RecordData {
  /** The zone apex, lower case, trailing dot. */
  readonly zone: string;
  /** Name texts (lower-case FQDNs with the trailing dot, printable ASCII) back to back. */
  readonly names: Uint8Array;
  /** Exclusive end of each name in `names`. */
  readonly nameEnd: Int32Array;
  /**
   * Hash index of the names, open addressing: slot `i` is the pair `nameTable[2i]` = name id + 1
   * (0 = empty) and `nameTable[2i + 1]` = the name's FNV-1a hash (compared before the name). The
   * number of slots is a power of two.
   */
  readonly nameTable: Int32Array;
  /** By kind: `[A, AAAA, SRV, PTR]`. */
  readonly kinds: readonly [KindData, KindData, KindData, KindData];
  /**
   * The reverse zones' apexes (`records.reverse.zones`, lower case, trailing dot): like the
   * apex, each and the ancestors of its PTR owners below it are empty non-terminals when they
   * have no records. Empty when reverse lookups are off.
   */
  readonly reverseZones: readonly string[];
  /** 16 bytes per AAAA value. */
  readonly v6: Uint8Array;
  /**
   * By name id, 1 for an empty non-terminal (RFC 8020): a name without records of its own that
   * is the apex or an ancestor of an owner below the apex (or the same for a reverse zone). Such names exist (NODATA, not
   * NXDOMAIN); `finish` interns them.
   */
  readonly emptyNonTerminal: Uint8Array;
  /**
   * With the health rule on only (`records.health: exclude-unhealthy`): by name id, the health of
   * the tasks whose records the name holds (health.ts `HEALTH_NONE` ... `HEALTH_MIXED`), for the
   * HTTP API's `healthy` field. DNS answers never read it.
   */
  readonly health?: Uint8Array;
  readonly enumeration: EnumerationData;
  readonly stats: GeneratorStats;
}
