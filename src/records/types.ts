import type { IpSource } from '../config/types.js';
import type { HealthSettings, HealthStats } from './health.js';

/** An SRV value: priority is always 0 and weight comes from config, so only target and port vary. */
export interface SrvTarget {
  /** FQDN, lower case, trailing dot. */
  readonly target: string;
  readonly port: number;
}

/** Record kinds of the enumeration (`/v1/enumerate` lists task records only, never PTR). */
export type RecordType = 'A' | 'AAAA' | 'SRV';

/** One enumerated task record, as `/v1/enumerate` lists it. */
export interface EnumeratedRecord {
  readonly name: string;
  /** IP for A/AAAA, `target:port` for SRV (Mesos-DNS shape). */
  readonly host: string;
  readonly rtype: RecordType;
}

/** One task in the enumeration. */
export interface EnumeratedTask {
  readonly name: string;
  readonly id: string;
  readonly records: readonly EnumeratedRecord[];
}

/** One framework in the enumeration (every framework of the state, in order). */
export interface EnumeratedFramework {
  readonly name: string;
  readonly tasks: readonly EnumeratedTask[];
}

/**
 * A task of the enumeration, named by its framework and its id: the framework's id (two
 * frameworks may share a name), or its name for a set that keeps no ids.
 */
export interface EnumeratedTaskKey {
  readonly framework: string;
  readonly id: string;
}

/** A framework of a streamed enumeration change, with the id that tells it from its namesakes. */
export interface ChangedFramework extends EnumeratedFramework {
  readonly id: string;
}

/**
 * A streamed change of the enumeration (`/v1/enumerate`): the tasks of the apps a batch touched,
 * as they were (removed) and as they are (added, by framework).
 */
export interface EnumerationChange {
  readonly removed: readonly EnumeratedTaskKey[];
  readonly added: readonly ChangedFramework[];
}

/**
 * A framework of the enumeration read one task at a time: each task and its records are built
 * when the iteration reaches them and kept by nothing, so that rendering a 100k-task enumeration
 * holds one task at a time rather than all of them.
 */
export interface LazyFramework {
  readonly name: string;
  /** The framework's id, where the set keeps it (not part of `/v1/enumerate`). */
  readonly id?: string;
  readonly tasks: Iterable<EnumeratedTask>;
}

/** Counters from one generation. */
export interface GeneratorStats {
  readonly frameworks: number;
  readonly agents: number;
  /** TASK_RUNNING tasks on known agents that produced records. */
  readonly tasks: number;
  /** Tasks skipped because of bad data (e.g. a label that came out empty). */
  readonly skippedTasks: number;
  /** Names skipped because a label was empty or over 63 bytes, or the name over 255 bytes. */
  readonly skippedNames: number;
  /** Distinct (name, value) records. */
  readonly records: number;
  /** What the health rule did (`records.health: exclude-unhealthy` only). */
  readonly health?: HealthStats;
}

/**
 * The records a state produces: name -> values, insertion-ordered and de-duplicated. Names are
 * lower-case FQDNs with the trailing dot. Immutable once built.
 */
export interface RecordSet {
  /** The zone apex, lower case, trailing dot (`mesos.`). */
  readonly zone: string;
  readonly a: ReadonlyMap<string, readonly string[]>;
  readonly aaaa: ReadonlyMap<string, readonly string[]>;
  readonly srv: ReadonlyMap<string, readonly SrvTarget[]>;
  /** PTR records by reverse name (`records.reverse`): the target names; absent when off. */
  readonly ptr?: ReadonlyMap<string, readonly string[]>;
  /** The reverse zones' apexes (`RecordData.reverseZones`); absent when off. */
  readonly reverseZones?: readonly string[];
  readonly enumeration: readonly EnumeratedFramework[];
  /**
   * With the health rule on: true when every task whose records `name` holds reported healthy,
   * false when every one reported unhealthy, else (or without the rule) undefined.
   */
  healthOf?(name: string): boolean | undefined;
  /** The enumeration read lazily (see `LazyFramework`); `enumeration` is read when absent. */
  lazyEnumeration?(): Iterable<LazyFramework>;
  readonly stats: GeneratorStats;
}

/** Inputs of the generator besides the state. Everything the generator would otherwise look up is passed in. */
export interface GeneratorOptions {
  /** Lower case, no trailing dot (`mesos`). */
  readonly domain: string;
  readonly ipSources: readonly IpSource[];
  readonly enforceRFC952: boolean;
  /**
   * The address views (`records.addressViews`, address-views.ts): every task also named under
   * `agentip`, `containerip` and `autoip`. Absent or false: the Mesos-DNS names only.
   */
  readonly addressViews?: boolean;
  /** The health rule (health.ts); absent: `ignore`, every running task is served. */
  readonly health?: HealthSettings;
  /** SOA MNAME as an FQDN (`ns1.mesos.`): the name of record N1. */
  readonly nsName: string;
  /** Addresses for N1 (the DNS listener's addresses). */
  readonly nsIps: readonly string[];
  /**
   * The masters list for M2/M3 (`host` or `host:port`, IPs or hostnames), in configured order.
   * Hostnames are looked up in `hostIps`.
   */
  readonly masters: readonly string[];
  /**
   * Pre-resolved addresses of hostnames found in the state (agent/framework pid hosts, framework
   * hostnames, masters) that are not IP literals. The generator never does DNS lookups itself:
   * a hostname missing here simply yields no addresses.
   */
  readonly hostIps: ReadonlyMap<string, readonly string[]>;
  /** Reverse lookups (`records.reverse`, reverse.ts); undefined when off. */
  readonly reverse?: ReverseOptions | undefined;
}

/** What the generator needs of `records.reverse` when it is on. */
export interface ReverseOptions {
  /** The reverse zones' apexes (`10.in-addr.arpa.`), lower case, trailing dot; may be empty. */
  readonly zones: readonly string[];
}
