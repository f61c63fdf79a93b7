/**
 * The record generator: a pure function from a validated Mesos state to the Mesos-DNS record set
 * (docs/mesos-dns-rules.md sections 2 and 3). No I/O, no DNS lookups, no clock, no logging:
 * everything it would otherwise look up (listener IPs, masters, hostnames) is in the options.
 *
 * Records go straight into a `RecordBuilder` (builder.ts): names are interned once, values are
 * integers in typed arrays, so a 100k-task state produces a handful of buffers rather than
 * millions of strings, arrays and objects.
 */
import type { IpSource } from '../config/types.js';
import type { State, Task, TaskStatus } from '../mesos/index.js';
import { taskIdHash } from './hash.js';
import { domainFragment, labelFunction } from './labels.js';
import type { LabelFunction } from './labels.js';
import { RecordBuilder } from './builder.js';
import { parseIp, parseMasterEntry } from './addresses.js';
import type { Ip } from './addresses.js';
import { KIND_SRV } from './layout.js';
import { CompactRecordSet } from './views.js';
import { FrameworkViews } from './address-views.js';
import { HEALTH_NONE, HEALTH_UNHEALTHY, healthRule } from './health.js';
import type { HealthRule } from './health.js';
import { addAgentPtrs, addPtr, addressSet } from './reverse.js';

export { isValidName } from './name-hash.js';
import type { GeneratorOptions, RecordSet } from './types.js';

/** The only task state that produces records (exact string, docs/mesos-dns-rules.md 2.3). */
const TASK_RUNNING = 'TASK_RUNNING';
/** Status label read by the `mesos` IP source. */
const MESOS_IP_LABEL = 'MesosContainerizer.NetworkSettings.IPAddress';
/** Status label read by the `docker` IP source. */
const DOCKER_IP_LABEL = 'Docker.NetworkSettings.IPAddress';
/** DiscoveryInfo ports without a protocol get both (docs/mesos-dns-rules.md 2.1). */
const BOTH_PROTOCOLS: readonly string[] = ['tcp', 'udp'];

/** The last `-`-separated field of an agent id, lower-cased (`...-S12` gives `s12`). */
function agentTail(agentId: string): string {
  return agentId.slice(agentId.lastIndexOf('-') + 1).toLowerCase();
}

/** The TASK_RUNNING status with the greatest timestamp; the first one wins ties. */
function latestRunningStatus(statuses: readonly TaskStatus[]): TaskStatus | undefined {
  let latest: TaskStatus | undefined;
  for (const s of statuses) {
    if (s.state === TASK_RUNNING && (latest === undefined || s.timestamp > latest.timestamp)) {
      latest = s;
    }
  }
  return latest;
}

/** Docker bridge IPs are not routable: their `netinfo` source counts as empty (issue #426). */
function isDockerBridge(task: Task): boolean {
  return task.container !== undefined && task.container.dockerNetwork.toUpperCase() === 'BRIDGE';
}

/** Per-generation context shared by the record families. */
class Generation {
  readonly b: RecordBuilder;
  readonly zone: string;
  readonly label: LabelFunction;
  readonly #options: GeneratorOptions;
  /** Parsed IP literals, with an IPv6 prefix allowed (task addresses) and without (hosts). */
  readonly #ipCache = new Map<string, Ip | null>();
  readonly #strictIpCache = new Map<string, Ip | null>();
  readonly #labelCache = new Map<string, string>();
  readonly #v6Index: (text: string, groups: readonly number[]) => number;

  constructor(options: GeneratorOptions) {
    this.#options = options;
    this.zone = `${options.domain.toLowerCase()}.`;
    this.label = labelFunction(options.enforceRFC952);
    this.b = new RecordBuilder(this.zone, options.reverse?.zones);
    this.#v6Index = (text, groups) => this.b.v6Index(text, groups);
  }

  /** Whether reverse lookups are on (`records.reverse`, reverse.ts). */
  get hasReverse(): boolean {
    return this.#options.reverse !== undefined;
  }

  /** Inserts an A or AAAA record (not part of a task); returns whether it was new. */
  addIp(name: string, ip: Ip): boolean {
    const id = this.b.id(name);
    return id >= 0 && this.b.add(ip.kind, id, ip.v);
  }

  /** Inserts an SRV record (not part of a task) to a target already known to be valid. */
  addSrv(name: string, targetId: number, port: number): boolean {
    const id = this.b.id(name);
    return id >= 0 && this.b.add(KIND_SRV, id, targetId, port);
  }

  /** Label of a task/DI name, cached: instances of an app share their name. */
  taskLabel(name: string): string {
    let l = this.#labelCache.get(name);
    if (l === undefined) {
      l = this.label(name);
      this.#labelCache.set(name, l);
    }
    return l;
  }

  /** Canonical IP of a literal (cached: agent and container IPs repeat across tasks). */
  ip(raw: string, allowPrefix: boolean): Ip | undefined {
    const cache = allowPrefix ? this.#ipCache : this.#strictIpCache;
    let ip = cache.get(raw);
    if (ip === undefined) {
      ip = parseIp(raw, allowPrefix, this.#v6Index) ?? null;
      cache.set(raw, ip);
    }
    return ip ?? undefined;
  }

  /** IPs of a host: the literal itself, else only what `options.hostIps` holds for it. */
  hostIps(rawHost: string): Ip[] {
    const host = rawHost.trim();
    const literal = this.ip(host, false);
    if (literal !== undefined) return [literal];
    const hostIps = this.#options.hostIps;
    const listed = hostIps.get(host) ?? hostIps.get(host.toLowerCase()) ?? [];
    return this.ips(listed, false);
  }

  /** Valid IPs of a list of strings, in order, without duplicates. */
  ips(values: readonly string[], allowPrefix: boolean): Ip[] {
    const out: Ip[] = [];
    for (const v of values) this.#addIp(out, v, allowPrefix);
    return out;
  }

  /** Appends the IP of `raw` to `out` unless it is not one or `out` has it already. */
  #addIp(out: Ip[], raw: string, allowPrefix: boolean): void {
    const ip = this.ip(raw, allowPrefix);
    if (ip === undefined) return;
    for (const o of out) if (o.value === ip.value) return;
    out.push(ip);
  }

  /** Task addresses from the network infos of a status (`netinfo`), in order, de-duplicated. */
  networkIps(status: TaskStatus): Ip[] {
    const out: Ip[] = [];
    for (const n of status.networkInfos) for (const a of n.ipAddresses) this.#addIp(out, a, true);
    return out;
  }

  /** Task addresses from the status labels named `key` (`mesos`, `docker`), de-duplicated. */
  labelIps(status: TaskStatus, key: string): Ip[] {
    const out: Ip[] = [];
    for (const l of status.labels) if (l.key === key) this.#addIp(out, l.value, true);
    return out;
  }
}

/** F1-F2 for every framework with a non-empty fragment; returns the fragments by index. */
function frameworkRecords(g: Generation, state: State): string[] {
  return state.frameworks.map((fw) => {
    const fragment = domainFragment(fw.name, g.label);
    if (fragment === '') return fragment;
    const host = fw.pid !== undefined ? fw.pid.host : fw.hostname;
    const ips = host === '' ? [] : g.hostIps(host);
    if (ips.length === 0) return fragment;
    const name = `${fragment}.${g.zone}`;
    for (const ip of ips) g.addIp(name, ip);
    if (fw.pid !== undefined) {
      const target = g.b.id(name);
      if (target >= 0) g.addSrv(`_framework._tcp.${name}`, target, fw.pid.port);
    }
    return fragment;
  });
}

/** S1-S2; returns each agent's IPs by agent id (for T3/T4 and the `host` source). */
function agentRecords(g: Generation, state: State): Map<string, Ip[]> {
  const byId = new Map<string, Ip[]>();
  const name = `slave.${g.zone}`;
  const target = g.b.id(name);
  for (const agent of state.agents) {
    const ips = g.hostIps(agent.pid.host);
    for (const ip of ips) g.addIp(name, ip);
    if (ips.length > 0 && target >= 0) g.addSrv(`_slave._tcp.${g.zone}`, target, agent.pid.port);
    byId.set(agent.id, ips);
    if (g.hasReverse) addAgentPtrs(g.b, agent.hostname, ips);
  }
  return byId;
}

/** N1: the SOA MNAME resolves to the listener's addresses. */
function nsRecords(g: Generation, options: GeneratorOptions): void {
  const lower = options.nsName.toLowerCase();
  const name = lower.endsWith('.') ? lower : `${lower}.`;
  for (const ip of g.ips(options.nsIps, false)) g.addIp(name, ip);
}

/**
 * M1-M5. `master{N}` numbers the masters list in order, skipping entries that add no new address
 * to `master.` (duplicates); the leader keeps its list position, or takes the next free N when it
 * is not listed. An entry is the leader when it shares an address with it and its port, if given,
 * is the leader's.
 */
function masterRecords(g: Generation, state: State, masters: readonly string[]): void {
  const leader = state.leader;
  if (leader === undefined) return;
  const leaderIps = g.hostIps(leader.host);
  const leaderName = `leader.${g.zone}`;
  const allName = `master.${g.zone}`;
  for (const ip of leaderIps) {
    g.addIp(leaderName, ip);
    g.addIp(allName, ip);
  }
  if (leaderIps.length > 0) {
    const target = g.b.id(leaderName);
    if (target >= 0) {
      g.addSrv(`_leader._tcp.${g.zone}`, target, leader.port);
      g.addSrv(`_leader._udp.${g.zone}`, target, leader.port);
    }
  }
  let index = 0;
  let isLeaderNumbered = false;
  for (const entry of masters) {
    const parsed = parseMasterEntry(entry);
    if (parsed === undefined) continue;
    const ips = g.hostIps(parsed.host);
    const isLeader =
      (parsed.port === undefined || parsed.port === leader.port) &&
      ips.some((ip) => leaderIps.some((l) => l.value === ip.value));
    if (isLeader) {
      if (isLeaderNumbered) continue;
      isLeaderNumbered = true;
      for (const ip of ips) g.addIp(allName, ip);
    } else {
      let isAdded = false;
      for (const ip of ips) isAdded = g.addIp(allName, ip) || isAdded;
      if (!isAdded) continue;
    }
    const numbered = `master${index}.${g.zone}`;
    for (const ip of ips) g.addIp(numbered, ip);
    index++;
  }
  if (!isLeaderNumbered) {
    for (const ip of leaderIps) g.addIp(`master${index}.${g.zone}`, ip);
  }
}

/** T1/T2 addresses: all valid IPs of the first source, in `ipSources` order, that has any. */
function taskIps(
  g: Generation,
  task: Task,
  sources: readonly IpSource[],
  agentIps: readonly Ip[],
): readonly Ip[] {
  const latest = latestRunningStatus(task.statuses);
  for (const source of sources) {
    let ips: readonly Ip[] = [];
    switch (source) {
      case 'netinfo':
        if (latest !== undefined && !isDockerBridge(task)) ips = g.networkIps(latest);
        break;
      case 'mesos':
      case 'docker': {
        const key = source === 'mesos' ? MESOS_IP_LABEL : DOCKER_IP_LABEL;
        if (latest !== undefined) ips = g.labelIps(latest, key);
        break;
      }
      case 'host':
        ips = agentIps;
        break;
    }
    if (ips.length > 0) return ips;
  }
  return [];
}

/**
 * Name ids shared by every instance of an app (one task label in one framework), computed on
 * first use: interning a name means hashing it, and most task names repeat across instances.
 * -2 means not computed yet; -1 is an invalid name.
 */
class AppNames {
  short = -2;
  slaveShort = -2;
  slaveTcp = -2;
  slaveUdp = -2;
  tcp = -2;
  udp = -2;
  /** T7/T8 names by `<port name>/<protocol>` (`/<protocol>` for T7). */
  readonly discovery = new Map<string, number>();
}

/** What one task contributes, shared by its (one or two) naming passes. */
interface TaskContext {
  readonly task: Task;
  readonly hash: string;
  readonly tail: string;
  /** `.<framework fragment>.<zone>` */
  readonly fwTail: string;
  /** `.<framework fragment>.slave.<zone>` */
  readonly slaveTail: string;
  readonly ips: readonly Ip[];
  readonly agentIps: readonly Ip[];
  readonly hasDiscovery: boolean;
  /** The app names of this framework, by task label. */
  readonly apps: Map<string, AppNames>;
  /** The health rule (health.ts), with `records.health: exclude-unhealthy` only. */
  readonly health: HealthRule | undefined;
  readonly unhealthy: boolean;
}

/** Adds an address record of a task under name id `id` (skipped when the name is invalid). */
function addTaskIp(b: RecordBuilder, id: number, ip: Ip): void {
  if (id >= 0) b.addForTask(ip.kind, id, ip.v);
}

/** Starts the canonical name `{name}-{hash}-{agent}` of a task in `b` (see `part`). */
function canonical(b: RecordBuilder, name: string, ctx: TaskContext): RecordBuilder {
  return b.part(name).part('-').part(ctx.hash).part('-').part(ctx.tail);
}

/**
 * T1-T8 for one task under one task label, in Mesos-DNS insertion order; only T2 and T4 when the
 * health rule leaves the task out of the app's shared names (returns true then).
 */
function taskPass(g: Generation, ctx: TaskContext, name: string): boolean {
  const { b } = g;
  const { fwTail, slaveTail } = ctx;
  let app = ctx.apps.get(name);
  if (app === undefined) {
    app = new AppNames();
    ctx.apps.set(name, app);
  }
  const isShared = ctx.health?.excludes(name, fwTail, ctx.unhealthy) !== true;

  if (ctx.ips.length > 0) {
    if (isShared && app.short === -2) app.short = b.part(name).part(fwTail).intern();
    const short = isShared ? app.short : -1;
    const long = canonical(b, name, ctx).part(fwTail).intern();
    for (const ip of ctx.ips) {
      addTaskIp(b, short, ip); // T1
      addTaskIp(b, long, ip); // T2
    }
  }
  let slaveTargetId = -2;
  if (ctx.agentIps.length > 0) {
    if (isShared && app.slaveShort === -2) app.slaveShort = b.part(name).part(slaveTail).intern();
    const short = isShared ? app.slaveShort : -1;
    slaveTargetId = canonical(b, name, ctx).part(slaveTail).intern();
    for (const ip of ctx.agentIps) {
      addTaskIp(b, short, ip); // T3
      addTaskIp(b, slaveTargetId, ip); // T4
    }
  }

  if (!isShared) return true;
  if (ctx.task.ports.length > 0) {
    const target =
      slaveTargetId === -2 ? canonical(b, name, ctx).part(slaveTail).intern() : slaveTargetId;
    if (target >= 0) {
      if (app.slaveTcp === -2)
        app.slaveTcp = b.part('_').part(name).part('._tcp').part(slaveTail).intern();
      if (app.slaveUdp === -2)
        app.slaveUdp = b.part('_').part(name).part('._udp').part(slaveTail).intern();
      if (!ctx.hasDiscovery) {
        if (app.tcp === -2) app.tcp = b.part('_').part(name).part('._tcp').part(fwTail).intern();
        if (app.udp === -2) app.udp = b.part('_').part(name).part('._udp').part(fwTail).intern();
      }
      const { slaveTcp, slaveUdp, tcp, udp } = app;
      for (const range of ctx.task.ports) {
        for (let port = range.begin; port <= range.end; port++) {
          if (slaveTcp >= 0) b.addForTask(KIND_SRV, slaveTcp, target, port); // T5
          if (slaveUdp >= 0) b.addForTask(KIND_SRV, slaveUdp, target, port);
          if (!ctx.hasDiscovery) {
            if (tcp >= 0) b.addForTask(KIND_SRV, tcp, target, port); // T6
            if (udp >= 0) b.addForTask(KIND_SRV, udp, target, port);
          }
        }
      }
    }
  }

  const discovery = ctx.task.discovery;
  if (!ctx.hasDiscovery || discovery === undefined || discovery.ports.length === 0) return false;
  const target = canonical(b, name, ctx).part(fwTail).intern();
  if (target < 0) return false;
  const srvName = (portName: string, protocol: string): number => {
    const key = `${portName}/${protocol}`;
    let id = app.discovery.get(key);
    if (id === undefined) {
      if (portName !== '') b.part('_').part(portName).part('.');
      id = b.part('_').part(name).part('._').part(protocol).part(fwTail).intern();
      app.discovery.set(key, id);
    }
    return id;
  };
  for (const port of discovery.ports) {
    const protocol = g.label(port.protocol);
    const protocols = protocol === '' ? BOTH_PROTOCOLS : [protocol];
    for (const p of protocols) {
      const id = srvName('', p);
      if (id >= 0) b.addForTask(KIND_SRV, id, target, port.number); // T7
    }
    const portName = g.label(port.name);
    if (portName === '') continue;
    for (const p of protocols) {
      const id = srvName(portName, p);
      if (id >= 0) b.addForTask(KIND_SRV, id, target, port.number); // T8
    }
  }
  return false;
}

/**
 * Builds the Mesos-DNS record set of a state: framework (F1-F2), agent (S1-S2), SOA MNAME (N1),
 * master (M1-M5) and task (T1-T8) records, in Mesos-DNS insertion order, plus the `/v1/enumerate`
 * structure. Pure and deterministic: hostnames are looked up only in `options.hostIps`. With
 * `options.addressViews`, each task's address views follow its T1-T8 (address-views.ts).
 *
 * Deliberate differences from Mesos-DNS: all names are lower case (the verbatim DiscoveryInfo pass
 * included); a name with an empty label, a label over 63 bytes or bytes outside printable ASCII, or
 * over 255 bytes on the wire, is skipped and counted in `stats.skippedNames`; IPv6 task addresses
 * with a `/prefix` are used without it; Docker BRIDGE tasks get nothing from `netinfo`; tasks whose
 * framework fragment or task label is empty are skipped and counted in `stats.skippedTasks`.
 *
 * The result is a `CompactRecordSet` (views.ts); its `data` can be posted to another thread.
 */
export function generateRecords(state: State, options: GeneratorOptions): CompactRecordSet {
  const g = new Generation(options);
  const fragments = frameworkRecords(g, state);
  const agentIpsById = agentRecords(g, state);
  nsRecords(g, options);
  masterRecords(g, state, options.masters);
  return taskRecords(g, state, fragments, agentIpsById, options);
}

/**
 * The task records (T1-T8) of `state` alone, as `generateRecords` would make them: no framework,
 * agent, SOA MNAME or master records, and no empty non-terminals. For the incremental updates of
 * a streamed zone, which regenerate the tasks of a few apps (records/incremental.ts).
 */
export function generateTaskRecords(state: State, options: GeneratorOptions): CompactRecordSet {
  const g = new Generation(options);
  const fragments = state.frameworks.map((fw) => domainFragment(fw.name, g.label));
  const agentIpsById = new Map<string, Ip[]>();
  for (const agent of state.agents) agentIpsById.set(agent.id, g.hostIps(agent.pid.host));
  return taskRecords(g, state, fragments, agentIpsById, options, []);
}

/**
 * The app a task belongs to: its framework's domain fragment and its task label (of the
 * DiscoveryInfo name when it has one, else of the task name). Every task record's name is built
 * from these two, so tasks of different apps share no name (except through contrived names,
 * which the incremental updater detects); two frameworks of one name make one app, as their
 * tasks share names (and the health rule's fail-open, health.ts, counts them together).
 */
export function appKey(task: Task, label: LabelFunction, fragment: string): string {
  const discovery = task.discovery;
  const base = discovery !== undefined && discovery.name !== '' ? discovery.name : task.name;
  return `${fragment}\n${label(base)}`;
}

/** T1-T8 of every running task of `state` on a known agent, then the finished record set. */
function taskRecords(
  g: Generation,
  state: State,
  fragments: readonly string[],
  agentIpsById: ReadonlyMap<string, Ip[]>,
  options: GeneratorOptions,
  emptyNonTerminals?: readonly number[],
): CompactRecordSet {
  const { b } = g;
  let tasks = 0;
  let skippedTasks = 0;
  let excludedTasks = 0;
  const health = healthRule(options.health, state, {
    fragments,
    zone: g.zone,
    hasAgent: (id) => agentIpsById.has(id),
    label: (name) => g.taskLabel(name),
    latest: latestRunningStatus,
    builder: b,
  });
  // Reverse lookups: an agent's address has the agent's PTR, not its tasks' (reverse.ts).
  const agentAddresses = g.hasReverse ? addressSet(agentIpsById.values()) : undefined;
  state.frameworks.forEach((fw, i) => {
    b.beginFramework(fw.name, fw.id);
    const apps = new Map<string, AppNames>();
    const fragment = fragments[i] ?? '';
    const fwTail = `.${fragment}.${g.zone}`;
    const slaveTail = `.${fragment}.slave.${g.zone}`;
    const views =
      options.addressViews === true ? new FrameworkViews(b, g.label, fragment, g.zone) : undefined;
    for (const task of fw.tasks) {
      if (task.state !== TASK_RUNNING) continue;
      const agentIps = agentIpsById.get(task.agentId);
      if (agentIps === undefined) continue;
      const discovery = task.discovery;
      const hasDiscovery = discovery !== undefined && discovery.name !== '';
      const baseName = hasDiscovery ? discovery.name : task.name;
      const labelled = g.taskLabel(baseName);
      if (fragment === '' || labelled === '') {
        skippedTasks++;
        continue;
      }
      tasks++;
      const healthCode = health?.beginTask(task) ?? HEALTH_NONE;
      const ctx: TaskContext = {
        task,
        hash: taskIdHash(task.id),
        tail: agentTail(task.agentId),
        fwTail,
        slaveTail,
        ips: taskIps(g, task, options.ipSources, agentIps),
        agentIps,
        hasDiscovery,
        apps,
        health,
        unhealthy: healthCode === HEALTH_UNHEALTHY,
      };
      // With DiscoveryInfo, Mesos-DNS names the task twice: verbatim (the "legacy" pass, which we
      // lower-case), then labelled. An identical verbatim name would only repeat the same inserts.
      const verbatim = baseName.toLowerCase();
      const isExcluded = hasDiscovery && verbatim !== labelled && taskPass(g, ctx, verbatim);
      const isLabelledExcluded = taskPass(g, ctx, labelled);
      if (isLabelledExcluded || isExcluded) excludedTasks++;
      if (agentAddresses !== undefined && ctx.ips.length > 0) {
        const instance = canonical(b, labelled, ctx).part(fwTail).intern(); // T2
        for (const ip of ctx.ips) if (!agentAddresses.has(ip.value)) addPtr(b, ip, instance);
      }
      if (views !== undefined) {
        // The address views (address-views.ts), under the labelled name only.
        const latest = latestRunningStatus(task.statuses);
        const containerIps = latest === undefined ? [] : g.networkIps(latest);
        const instance = `${labelled}-${ctx.hash}-${ctx.tail}`;
        views.add(task, labelled, instance, agentIps, containerIps, !isLabelledExcluded);
      }
      b.endTask(task.name, task.id);
    }
  });

  return new CompactRecordSet(
    b.finish(
      {
        frameworks: state.frameworks.length,
        agents: state.agents.length,
        tasks,
        skippedTasks,
        ...(health === undefined ? {} : { health: health.stats(excludedTasks) }),
      },
      emptyNonTerminals,
    ),
  );
}

/** Re-exported for callers that hold a plain `RecordSet`. */
export type { RecordSet };
