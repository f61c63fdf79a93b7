/**
 * The record generator: a pure function from a validated Mesos state to the Mesos-DNS record set
 * (reference/mesos-dns.md sections 2 and 3). No I/O, no DNS lookups, no clock, no logging:
 * everything it would otherwise look up (listener IPs, masters, hostnames) is in the options.
 */
import { isIP } from 'node:net';
import type { IpSource } from '../config/types.js';
import type { State, Task, TaskStatus } from '../mesos/index.js';
import { taskIdHash } from './hash.js';
import { domainFragment, labelFunction } from './labels.js';
import type { LabelFunction } from './labels.js';
import type {
  EnumeratedFramework,
  EnumeratedRecord,
  EnumeratedTask,
  GeneratorOptions,
  RecordSet,
  SrvTarget,
} from './types.js';

/** The only task state that produces records (exact string, reference/mesos-dns.md 2.4). */
const TASK_RUNNING = 'TASK_RUNNING';
/** Status label read by the `mesos` IP source. */
const MESOS_IP_LABEL = 'MesosContainerizer.NetworkSettings.IPAddress';
/** Status label read by the `docker` IP source. */
const DOCKER_IP_LABEL = 'Docker.NetworkSettings.IPAddress';
/** RFC 1035 2.3.4: at most 63 octets per label and 255 octets per name on the wire. */
const MAX_LABEL = 63;
const MAX_WIRE_NAME = 255;
/** Value lists up to this length are de-duplicated by scanning; longer ones get a Set. */
const SCAN_MAX = 16;
/** DiscoveryInfo ports without a protocol get both (reference/mesos-dns.md 2.2). */
const BOTH_PROTOCOLS: readonly string[] = ['tcp', 'udp'];

/** An address with the record type it belongs in; `value` is in canonical text form. */
interface Ip {
  readonly value: string;
  readonly type: 'A' | 'AAAA';
}

/**
 * Checks a lower-case FQDN with the trailing dot: every label non-empty, at most 63 bytes and of
 * printable ASCII other than space, the whole name at most 255 bytes on the wire (RFC 1035 2.3.4).
 */
function isValidName(name: string): boolean {
  // Wire length is the text length plus one (a length byte per label plus the root byte).
  if (name.length + 1 > MAX_WIRE_NAME || !name.endsWith('.')) return false;
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

/** Formats 8 IPv6 groups as Go's `net.IP.String` does (RFC 5952: longest zero run of 2+ is `::`). */
function formatIpv6(groups: readonly number[]): string {
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

/** Splits an IPv6 address that `isIP` accepted into its 8 groups. */
function ipv6Groups(text: string): number[] {
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf('::');
  if (gap < 0) return toGroups(text);
  const head = toGroups(text.slice(0, gap));
  const tail = toGroups(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * Parses an IP literal into canonical form, or undefined when it is not one (node:net isIP; zone
 * indexes rejected). IPv4-mapped IPv6 becomes IPv4 (as Go does). With `allowPrefix`, an IPv6
 * `/len` suffix (CNI reports IPv6 with its prefix length) is stripped: a deliberate difference.
 */
function parseIp(raw: string, allowPrefix: boolean): Ip | undefined {
  let text = raw;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    if (!allowPrefix) return undefined;
    const prefix = text.slice(slash + 1);
    text = text.slice(0, slash);
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > 128 || isIP(text) !== 6) return undefined;
  }
  const family = isIP(text);
  if (family === 4) return { value: text, type: 'A' };
  if (family !== 6 || text.includes('%')) return undefined;
  const groups = ipv6Groups(text.toLowerCase());
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return { value: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`, type: 'A' };
  }
  return { value: formatIpv6(groups), type: 'AAAA' };
}

/**
 * Parses a masters-list entry: `host`, `host:port`, `[v6]:port`, bare IPv6, a URL of those, or a
 * pid (`master@host:port`; anything up to the last `@` is dropped).
 */
function parseMasterEntry(entry: string): { host: string; port: number | undefined } | undefined {
  let text = entry.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = text.indexOf('/');
  if (slash >= 0) text = text.slice(0, slash);
  text = text.slice(text.lastIndexOf('@') + 1);
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0 && colon === text.lastIndexOf(':')) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  if (host === '') return undefined;
  if (portText === undefined) return { host, port: undefined };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return undefined;
  return { host, port: Number(portText) };
}

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

/** Insertion-ordered, de-duplicated record maps plus the bookkeeping of one generation. */
class RecordStore {
  readonly a = new Map<string, string[]>();
  readonly aaaa = new Map<string, string[]>();
  readonly srv = new Map<string, SrvTarget[]>();
  /** Names refused by `isValidName` (distinct). */
  readonly rejected = new Set<string>();
  records = 0;
  /** Companion sets of long address lists (keyed by the list itself). */
  readonly #ipSets = new Map<readonly string[], Set<string>>();
  /** Companion indexes of long SRV lists: target -> ports. */
  readonly #srvSets = new Map<readonly SrvTarget[], Map<string, PortSet>>();

  #checkNew(name: string): boolean {
    if (isValidName(name)) return true;
    this.rejected.add(name);
    return false;
  }

  /** Inserts an A or AAAA value; returns whether it was new. */
  addIp(name: string, ip: Ip): boolean {
    const map = ip.type === 'A' ? this.a : this.aaaa;
    const list = map.get(name);
    if (list === undefined) {
      if (!this.#checkNew(name)) return false;
      map.set(name, [ip.value]);
    } else if (list.length < SCAN_MAX) {
      if (list.includes(ip.value)) return false;
      list.push(ip.value);
    } else {
      let set = this.#ipSets.get(list);
      if (set === undefined) {
        set = new Set(list);
        this.#ipSets.set(list, set);
      }
      if (set.has(ip.value)) return false;
      set.add(ip.value);
      list.push(ip.value);
    }
    this.records++;
    return true;
  }

  /** Whether an SRV target is a valid name; an invalid one is counted as a skipped name. */
  isValidTarget(target: string): boolean {
    return this.#checkNew(target);
  }

  /**
   * Inserts an SRV value (shared, immutable); returns whether it was new. The caller has checked
   * the target with `isValidTarget` (once per target, not once per port).
   */
  addSrv(name: string, value: SrvTarget): boolean {
    const list = this.srv.get(name);
    if (list === undefined) {
      if (!this.#checkNew(name)) return false;
      this.srv.set(name, [value]);
    } else if (list.length < SCAN_MAX) {
      for (const v of list) {
        if (v === value || (v.port === value.port && v.target === value.target)) return false;
      }
      list.push(value);
    } else {
      let index = this.#srvSets.get(list);
      if (index === undefined) {
        index = new Map();
        for (const v of list) addPort(index, v);
        this.#srvSets.set(list, index);
      }
      if (!addPort(index, value)) return false;
      list.push(value);
    }
    this.records++;
    return true;
  }
}

/** The ports of one target in an SRV index: a single port until a second one arrives. */
type PortSet = number | Set<number>;

/** Adds a (target, port) pair to an SRV index; returns whether it was new. */
function addPort(index: Map<string, PortSet>, value: SrvTarget): boolean {
  const ports = index.get(value.target);
  if (ports === undefined) {
    index.set(value.target, value.port);
  } else if (typeof ports === 'number') {
    if (ports === value.port) return false;
    index.set(value.target, new Set([ports, value.port]));
  } else {
    if (ports.has(value.port)) return false;
    ports.add(value.port);
  }
  return true;
}

/** Per-generation context shared by the record families. */
class Generation {
  readonly store = new RecordStore();
  readonly zone: string;
  readonly label: LabelFunction;
  readonly #options: GeneratorOptions;
  readonly #ipCache = new Map<string, Ip | null>();
  readonly #labelCache = new Map<string, string>();

  constructor(options: GeneratorOptions) {
    this.#options = options;
    this.zone = `${options.domain.toLowerCase()}.`;
    this.label = labelFunction(options.enforceRFC952);
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
    const key = allowPrefix ? raw : `!${raw}`;
    let ip = this.#ipCache.get(key);
    if (ip === undefined) {
      ip = parseIp(raw, allowPrefix) ?? null;
      this.#ipCache.set(key, ip);
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
    for (const v of values) {
      const ip = this.ip(v, allowPrefix);
      if (ip !== undefined && !out.some((o) => o.value === ip.value)) out.push(ip);
    }
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
    for (const ip of ips) g.store.addIp(name, ip);
    if (fw.pid !== undefined && g.store.isValidTarget(name)) {
      g.store.addSrv(`_framework._tcp.${name}`, { target: name, port: fw.pid.port });
    }
    return fragment;
  });
}

/** S1-S2; returns each agent's IPs by agent id (for T3/T4 and the `host` source). */
function agentRecords(g: Generation, state: State): Map<string, Ip[]> {
  const byId = new Map<string, Ip[]>();
  const name = `slave.${g.zone}`;
  const isValidTarget = g.store.isValidTarget(name);
  for (const agent of state.agents) {
    const ips = g.hostIps(agent.pid.host);
    for (const ip of ips) g.store.addIp(name, ip);
    if (ips.length > 0 && isValidTarget) {
      g.store.addSrv(`_slave._tcp.${g.zone}`, { target: name, port: agent.pid.port });
    }
    byId.set(agent.id, ips);
  }
  return byId;
}

/** N1: the SOA MNAME resolves to the listener's addresses. */
function nsRecords(g: Generation, options: GeneratorOptions): void {
  const lower = options.nsName.toLowerCase();
  const name = lower.endsWith('.') ? lower : `${lower}.`;
  for (const ip of g.ips(options.nsIps, false)) g.store.addIp(name, ip);
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
    g.store.addIp(leaderName, ip);
    g.store.addIp(allName, ip);
  }
  if (leaderIps.length > 0 && g.store.isValidTarget(leaderName)) {
    const value: SrvTarget = { target: leaderName, port: leader.port };
    g.store.addSrv(`_leader._tcp.${g.zone}`, value);
    g.store.addSrv(`_leader._udp.${g.zone}`, value);
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
      for (const ip of ips) g.store.addIp(allName, ip);
    } else {
      let isAdded = false;
      for (const ip of ips) isAdded = g.store.addIp(allName, ip) || isAdded;
      if (!isAdded) continue;
    }
    const numbered = `master${index}.${g.zone}`;
    for (const ip of ips) g.store.addIp(numbered, ip);
    index++;
  }
  if (!isLeaderNumbered) {
    for (const ip of leaderIps) g.store.addIp(`master${index}.${g.zone}`, ip);
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
        if (latest !== undefined && !isDockerBridge(task)) {
          ips = g.ips(
            latest.networkInfos.flatMap((n) => n.ipAddresses),
            true,
          );
        }
        break;
      case 'mesos':
      case 'docker': {
        const key = source === 'mesos' ? MESOS_IP_LABEL : DOCKER_IP_LABEL;
        if (latest !== undefined) {
          ips = g.ips(
            latest.labels.filter((l) => l.key === key).map((l) => l.value),
            true,
          );
        }
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
 * Every task record in insertion order, kept as references into the store (one log for the whole
 * generation; a task owns a contiguous slice). `/v1/enumerate` objects are built lazily from it.
 */
class TaskRecordLog {
  readonly names: string[] = [];
  readonly values: (Ip | SrvTarget)[] = [];

  /** Materialises the enumeration records of the slice [start, end). */
  build(start: number, end: number): EnumeratedRecord[] {
    const out: EnumeratedRecord[] = [];
    for (let i = start; i < end; i++) {
      const name = this.names[i] ?? '';
      const v = this.values[i];
      if (v === undefined) continue;
      out.push(
        'target' in v
          ? { name, host: `${v.target}:${v.port}`, rtype: 'SRV' }
          : { name, host: v.value, rtype: v.type },
      );
    }
    return out;
  }
}

/** An enumerated task whose `records` (an own enumerable getter, so JSON sees it) is lazy. */
function enumeratedTask(
  name: string,
  id: string,
  log: TaskRecordLog,
  start: number,
  end: number,
): EnumeratedTask {
  let built: EnumeratedRecord[] | undefined;
  return {
    name,
    id,
    get records(): EnumeratedRecord[] {
      built ??= log.build(start, end);
      return built;
    },
  };
}

/** What one task contributes, shared by its (one or two) naming passes. */
interface TaskContext {
  readonly task: Task;
  readonly fragment: string;
  readonly hash: string;
  readonly tail: string;
  readonly ips: readonly Ip[];
  readonly agentIps: readonly Ip[];
  readonly hasDiscovery: boolean;
  readonly records: TaskRecordLog;
}

function addTaskIp(store: RecordStore, records: TaskRecordLog, name: string, ip: Ip): void {
  if (store.addIp(name, ip)) {
    records.names.push(name);
    records.values.push(ip);
  }
}

function addTaskSrv(
  store: RecordStore,
  records: TaskRecordLog,
  name: string,
  value: SrvTarget,
): void {
  if (store.addSrv(name, value)) {
    records.names.push(name);
    records.values.push(value);
  }
}

/** T1-T8 for one task under one task label, in Mesos-DNS insertion order. */
function taskPass(g: Generation, ctx: TaskContext, name: string): void {
  const { store } = g;
  const { records } = ctx;
  const canonical = `${name}-${ctx.hash}-${ctx.tail}`;
  const fwTail = `.${ctx.fragment}.${g.zone}`;
  const slaveTail = `.${ctx.fragment}.slave.${g.zone}`;

  if (ctx.ips.length > 0) {
    const short = name + fwTail;
    const long = canonical + fwTail;
    for (const ip of ctx.ips) {
      addTaskIp(store, records, short, ip); // T1
      addTaskIp(store, records, long, ip); // T2
    }
  }
  const slaveTarget = canonical + slaveTail;
  if (ctx.agentIps.length > 0) {
    const short = name + slaveTail;
    for (const ip of ctx.agentIps) {
      addTaskIp(store, records, short, ip); // T3
      addTaskIp(store, records, slaveTarget, ip); // T4
    }
  }

  if (ctx.task.ports.length > 0 && store.isValidTarget(slaveTarget)) {
    const slaveTcp = `_${name}._tcp${slaveTail}`;
    const slaveUdp = `_${name}._udp${slaveTail}`;
    const tcp = `_${name}._tcp${fwTail}`;
    const udp = `_${name}._udp${fwTail}`;
    for (const range of ctx.task.ports) {
      for (let port = range.begin; port <= range.end; port++) {
        // One immutable value shared by the (up to) four names that point at it.
        const value: SrvTarget = { target: slaveTarget, port };
        addTaskSrv(store, records, slaveTcp, value); // T5
        addTaskSrv(store, records, slaveUdp, value);
        if (!ctx.hasDiscovery) {
          addTaskSrv(store, records, tcp, value); // T6
          addTaskSrv(store, records, udp, value);
        }
      }
    }
  }

  const discovery = ctx.task.discovery;
  if (!ctx.hasDiscovery || discovery === undefined || discovery.ports.length === 0) return;
  const target = canonical + fwTail;
  if (!store.isValidTarget(target)) return;
  for (const port of discovery.ports) {
    const value: SrvTarget = { target, port: port.number };
    const protocol = g.label(port.protocol);
    const protocols = protocol === '' ? BOTH_PROTOCOLS : [protocol];
    for (const p of protocols) addTaskSrv(store, records, `_${name}._${p}${fwTail}`, value); // T7
    const portName = g.label(port.name);
    if (portName === '') continue;
    for (const p of protocols) {
      addTaskSrv(store, records, `_${portName}._${name}._${p}${fwTail}`, value); // T8
    }
  }
}

/**
 * Builds the Mesos-DNS record set of a state: framework (F1-F2), agent (S1-S2), SOA MNAME (N1),
 * master (M1-M5) and task (T1-T8) records, in Mesos-DNS insertion order, plus the `/v1/enumerate`
 * structure. Pure and deterministic: hostnames are looked up only in `options.hostIps`.
 *
 * Deliberate differences from Mesos-DNS: all names are lower case (the verbatim DiscoveryInfo pass
 * included); a name with an empty label, a label over 63 bytes or bytes outside printable ASCII, or
 * over 255 bytes on the wire, is skipped and counted in `stats.skippedNames`; IPv6 task addresses
 * with a `/prefix` are used without it; Docker BRIDGE tasks get nothing from `netinfo`; tasks whose
 * framework fragment or task label is empty are skipped and counted in `stats.skippedTasks`.
 */
export function generateRecords(state: State, options: GeneratorOptions): RecordSet {
  const g = new Generation(options);
  const fragments = frameworkRecords(g, state);
  const agentIpsById = agentRecords(g, state);
  nsRecords(g, options);
  masterRecords(g, state, options.masters);

  const enumeration: EnumeratedFramework[] = [];
  const log = new TaskRecordLog();
  let tasks = 0;
  let skippedTasks = 0;
  state.frameworks.forEach((fw, i) => {
    const enumTasks: EnumeratedTask[] = [];
    // Key order as Mesos-DNS serialises it: tasks, then name.
    enumeration.push({ tasks: enumTasks, name: fw.name });
    const fragment = fragments[i] ?? '';
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
      const start = log.names.length;
      const ctx: TaskContext = {
        task,
        fragment,
        hash: taskIdHash(task.id),
        tail: agentTail(task.agentId),
        ips: taskIps(g, task, options.ipSources, agentIps),
        agentIps,
        hasDiscovery,
        records: log,
      };
      // With DiscoveryInfo, Mesos-DNS names the task twice: verbatim (the "legacy" pass, which we
      // lower-case), then labelled. An identical verbatim name would only repeat the same inserts.
      const verbatim = baseName.toLowerCase();
      if (hasDiscovery && verbatim !== labelled) taskPass(g, ctx, verbatim);
      taskPass(g, ctx, labelled);
      enumTasks.push(enumeratedTask(task.name, task.id, log, start, log.names.length));
    }
  });

  const { store } = g;
  return {
    zone: g.zone,
    a: store.a,
    aaaa: store.aaaa,
    srv: store.srv,
    enumeration,
    stats: {
      frameworks: state.frameworks.length,
      agents: state.agents.length,
      tasks,
      skippedTasks,
      skippedNames: store.rejected.size,
      records: store.records,
    },
  };
}
