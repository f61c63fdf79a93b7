/**
 * Synthetic Mesos clusters: a deterministic generator of realistic `/master/state` documents
 * (docs/mesos-api.md 2), for the benchmark and for fake masters.
 *
 * The same options always give the same document (a seeded PRNG, a fixed clock), so two runs of a
 * benchmark, or a benchmark and a test, see the same cluster. Nothing here does I/O except
 * `writeState`.
 *
 * What a document holds, for `syntheticState({ tasks: N })`:
 *
 * - `agents` agents (default N / 25, at least 3): `slave(1)@10.a.b.c:5051`, most with a DNS-style
 *   `hostname` (`agent-00042.cluster.internal`), every 8th with its IP as hostname. Only the pid
 *   carries the IP, as on a real master.
 * - three frameworks: `marathon` (about 85 % of the app names), `metronome` (HTTP-API scheduler:
 *   no `pid`) and `spark`. Every framework `pid` host and `hostname` is an IP literal, so that a
 *   consumer never needs a DNS lookup to place them.
 * - about N / 3 app names (task `name`s) shared by 1 to ~100 instances each (a skewed
 *   distribution: most apps have 1-4 instances, a few have dozens). Marathon apps in a group have
 *   Marathon's reversed dotted task name (`/prod/web-7` -> `web-7.prod`, task id
 *   `prod_web-7.<uuid>`).
 * - every networking mode:
 *   - host networking: `resources.ports` ranges and DiscoveryInfo ports with `network-scope: host`;
 *     the RUNNING status carries the agent IP in `container_status.network_infos`;
 *   - Docker BRIDGE: `container.docker.port_mappings` host -> container port, host ports in
 *     `resources.ports` and in DiscoveryInfo; the RUNNING status carries the bridge IP
 *     `172.17.x.y` (not routable, which consumers must ignore);
 *   - CNI container network `dcos` (Mesos containerizer): DiscoveryInfo container ports with
 *     `network-scope: container`, an IPv4 `9.x.y.z` per task and, for about 40 % of these apps, an
 *     IPv6 `fd01:b::…` address with its `/64` suffix, as the CNI isolator reports it.
 * - some apps with no ports, some ports without a name, about 5 % UDP ports.
 * - about 2 % of the tasks not running (STAGING, STARTING, KILLING, or FAILED and not yet
 *   acknowledged), about 10 % of the status lists out of timestamp order, `healthy` on the RUNNING
 *   status of apps with a health check, and a `completed_tasks` ring (2 % of each framework's
 *   task count, at most 1000) of KILLED and FINISHED tasks.
 *
 * `tasks` counts the entries of all `frameworks[].tasks` (non-running ones included); completed
 * tasks come on top.
 */
import { writeFile } from 'node:fs/promises';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness.

/** A seeded pseudo-random source (mulberry32): the same seed gives the same sequence. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** Creates a `Random` from a 32-bit seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(list: readonly T[]): T => {
      const item = list[int(list.length)];
      if (item === undefined) throw new Error('Random.pick: empty list');
      return item;
    },
    chance: (p: number): boolean => next() < p,
  };
}

// ---------------------------------------------------------------------------------------------
// The JSON shapes emitted (a subset of what a Mesos 1.11 master sends, every value shape as sent).

/** `{key, value}` label. */
export interface StateLabel {
  key: string;
  value: string;
}

/** Summarised resources: scalars always present, port ranges as a string. */
export interface StateResources {
  cpus: number;
  disk: number;
  gpus: number;
  mem: number;
  ports?: string;
}

/** `statuses[].container_status.network_infos[]`. */
export interface StateNetworkInfo {
  name?: string;
  ip_addresses: { protocol: 'IPv4' | 'IPv6'; ip_address: string }[];
}

/** One entry of `tasks[].statuses`. */
export interface StateTaskStatus {
  state: string;
  timestamp: number;
  healthy?: boolean;
  container_status?: {
    container_id: { value: string };
    network_infos: StateNetworkInfo[];
  };
}

/** `tasks[].discovery` (protobuf JSON: nested labels as `{labels: [...]}`). */
export interface StateDiscovery {
  visibility: 'FRAMEWORK' | 'CLUSTER';
  name: string;
  ports: {
    ports: {
      number: number;
      name?: string;
      protocol: 'tcp' | 'udp';
      labels: { labels: StateLabel[] };
    }[];
  };
}

/** `tasks[].container` for the three networking modes generated. */
export interface StateContainer {
  type: 'DOCKER' | 'MESOS';
  docker?: {
    image: string;
    network: 'HOST' | 'BRIDGE';
    port_mappings?: { host_port: number; container_port: number; protocol: 'tcp' | 'udp' }[];
    privileged: boolean;
    force_pull_image: boolean;
  };
  mesos?: { image?: { type: 'DOCKER'; docker: { name: string }; cached: boolean } };
  network_infos?: { name: string; ip_addresses: { protocol: 'IPv4' | 'IPv6' }[] }[];
}

/** A task of `frameworks[].tasks` or `frameworks[].completed_tasks`. */
export interface StateTask {
  id: string;
  name: string;
  framework_id: string;
  executor_id: string;
  slave_id: string;
  state: string;
  resources: StateResources;
  role: string;
  statuses: StateTaskStatus[];
  labels?: StateLabel[];
  discovery?: StateDiscovery;
  container?: StateContainer;
  health_check?: {
    type: 'HTTP' | 'TCP';
    http?: { port: number; path: string };
    tcp?: { port: number };
    delay_seconds: number;
    interval_seconds: number;
    timeout_seconds: number;
    consecutive_failures: number;
    grace_period_seconds: number;
  };
}

/** An entry of `slaves[]`. */
export interface StateAgent {
  id: string;
  hostname: string;
  port: number;
  attributes: Record<string, string>;
  pid: string;
  registered_time: number;
  resources: StateResources;
  used_resources: StateResources;
  offered_resources: StateResources;
  reserved_resources: Record<string, StateResources>;
  unreserved_resources: StateResources;
  active: boolean;
  deactivated: boolean;
  version: string;
  capabilities: string[];
}

/** An entry of `frameworks[]`. */
export interface StateFramework {
  id: string;
  name: string;
  pid?: string;
  hostname: string;
  webui_url: string;
  active: boolean;
  connected: boolean;
  recovered: boolean;
  user: string;
  failover_timeout: number;
  checkpoint: boolean;
  registered_time: number;
  role: string;
  principal?: string;
  capabilities: string[];
  used_resources: StateResources;
  offered_resources: StateResources;
  resources: StateResources;
  tasks: StateTask[];
  unreachable_tasks: StateTask[];
  completed_tasks: StateTask[];
  offers: never[];
  executors: never[];
}

/** A `/master/state` document (v0) as produced by `syntheticState`. */
export interface MasterState {
  version: string;
  build_date: string;
  build_time: number;
  build_user: string;
  start_time: number;
  elected_time: number;
  id: string;
  pid: string;
  hostname: string;
  activated_slaves: number;
  deactivated_slaves: number;
  unreachable_slaves: number;
  leader: string;
  leader_info: { id: string; pid: string; port: number; hostname: string };
  cluster: string;
  capabilities: string[];
  slaves: StateAgent[];
  recovered_slaves: never[];
  frameworks: StateFramework[];
  completed_frameworks: never[];
  orphan_tasks: never[];
  unregistered_frameworks: never[];
}

// ---------------------------------------------------------------------------------------------
// Options.

/** Options of `syntheticState`. */
export interface ClusterOptions {
  /** Entries in all `frameworks[].tasks` together (non-running ones included). */
  readonly tasks: number;
  /** Number of agents; default `max(3, ceil(tasks / 25))`. */
  readonly agents?: number;
  /** PRNG seed; default 1. */
  readonly seed?: number;
  /**
   * The master's clock, in seconds since the epoch; task timestamps lie in the week before it.
   * Default 1717000000 (2024-05-29), so that documents do not depend on the wall clock.
   */
  readonly now?: number;
}

/** The leading master's IP and port (a loopback-free documentation value; nothing connects). */
export const MASTER_IP = '10.0.0.11';
const MASTER_PORT = 5050;
const MESOS_VERSION = '1.11.0';
const PORT_MIN = 31000;
const PORT_MAX = 32000;
const NON_RUNNING_SHARE = 0.02;
const COMPLETED_SHARE = 0.02;
const COMPLETED_MAX = 1000;

type Mode = 'host' | 'bridge' | 'cni';
type FrameworkKey = 'marathon' | 'metronome' | 'spark';

interface PortSpec {
  readonly name: string;
  readonly protocol: 'tcp' | 'udp';
  /** Container port (BRIDGE mapping target, CNI DiscoveryInfo number). */
  readonly containerPort: number;
}

interface App {
  readonly framework: FrameworkKey;
  /** Task `name` (Marathon's reversed dotted form for grouped apps). */
  readonly taskName: string;
  /** Task id prefix before the `.`/`_` and unique suffix. */
  readonly idPrefix: string;
  readonly mode: Mode;
  readonly ports: readonly PortSpec[];
  readonly hasIpv6: boolean;
  readonly healthCheck: 'HTTP' | 'TCP' | undefined;
  readonly image: string;
  readonly labels: readonly StateLabel[];
}

interface AgentSlot {
  readonly index: number;
  readonly id: string;
  readonly ip: string;
  nextPort: number;
  nextBridgeIp: number;
  nextCniIp: number;
}

const NOUNS = [
  'api',
  'web',
  'auth',
  'billing',
  'cart',
  'search',
  'ingest',
  'etl',
  'cache',
  'queue',
  'worker',
  'gateway',
  'metrics',
  'report',
  'notify',
  'media',
  'user',
  'order',
  'payment',
  'inventory',
  'pricing',
  'ledger',
  'session',
  'feed',
  'thumbnail',
  'geo',
  'fraud',
  'mailer',
  'audit',
  'catalog',
];
const GROUPS = ['prod', 'staging', 'data', 'infra', 'team-a', 'team-b'];
const JOBS = ['backup', 'cleanup', 'rollup', 'export', 'compact', 'reindex', 'snapshot', 'sync'];
const SPARK_JOBS = ['etl', 'sessionize', 'train', 'score', 'aggregate', 'dedupe'];
const PORT_NAMES = ['http', 'metrics', 'grpc', 'admin', 'debug', ''];
const CONTAINER_PORTS = [80, 8080, 9090, 9000, 5000, 6379, 5432, 8443];
const IMAGES = ['nginx:1.25', 'python:3.12-slim', 'openjdk:17', 'golang:1.22', 'node:20-slim'];

// ---------------------------------------------------------------------------------------------
// Small value helpers.

function hex(random: Random, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += random.int(16).toString(16);
  return s;
}

function uuid(random: Random): string {
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}`;
}

/** A Marathon-style version-1 UUID (time-based, same node suffix for the whole cluster). */
function timeUuid(random: Random): string {
  return `${hex(random, 8)}-${hex(random, 4)}-11ef-${hex(random, 4)}-0242ac11${hex(random, 4)}`;
}

/** Rounds to microseconds, as Mesos' float seconds look. */
function seconds(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

/** The IP of agent `i`: 10.(1+k).y.z with z in 1..254 (no network or broadcast addresses). */
function agentIp(i: number): string {
  const z = (i % 254) + 1;
  const rest = Math.floor(i / 254);
  return `10.${1 + Math.floor(rest / 256)}.${rest % 256}.${z}`;
}

function emptyResources(): StateResources {
  return { cpus: 0, disk: 0, gpus: 0, mem: 0 };
}

function portRangesText(ports: readonly number[]): string {
  const parts: string[] = [];
  let start: number | undefined;
  let prev: number | undefined;
  for (const p of [...ports].sort((a, b) => a - b)) {
    if (start !== undefined && prev !== undefined && p === prev + 1) {
      prev = p;
      continue;
    }
    if (start !== undefined && prev !== undefined) parts.push(`${start}-${prev}`);
    start = p;
    prev = p;
  }
  if (start !== undefined && prev !== undefined) parts.push(`${start}-${prev}`);
  return `[${parts.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Generation.

function makeApp(random: Random, index: number): App {
  const r = random.next();
  const framework: FrameworkKey = r < 0.85 ? 'marathon' : r < 0.9 ? 'metronome' : 'spark';
  if (framework === 'metronome') {
    const name = `${random.pick(JOBS)}-${index}`;
    return {
      framework,
      taskName: name,
      idPrefix: name,
      mode: 'host',
      ports: [],
      hasIpv6: false,
      healthCheck: undefined,
      image: random.pick(IMAGES),
      labels: [],
    };
  }
  if (framework === 'spark') {
    const name = `${random.pick(SPARK_JOBS)}-${index}`;
    return {
      framework,
      taskName: name,
      idPrefix: name,
      mode: random.chance(0.8) ? 'host' : 'cni',
      ports: [],
      hasIpv6: false,
      healthCheck: undefined,
      image: 'apache/spark:3.5.1',
      labels: [],
    };
  }
  const base = `${random.pick(NOUNS)}-${index}`;
  const group = random.chance(0.3) ? random.pick(GROUPS) : undefined;
  const m = random.next();
  const mode: Mode = m < 0.4 ? 'host' : m < 0.75 ? 'bridge' : 'cni';
  const portCount = random.chance(0.15) ? 0 : 1 + random.int(3);
  const ports: PortSpec[] = [];
  const usedNames = new Set<string>();
  for (let p = 0; p < portCount; p++) {
    let name = random.pick(PORT_NAMES);
    if (name !== '' && usedNames.has(name)) name = '';
    if (name !== '') usedNames.add(name);
    ports.push({
      name,
      protocol: random.chance(0.05) ? 'udp' : 'tcp',
      containerPort: (CONTAINER_PORTS[p] ?? 8000) + (p > 0 ? random.int(10) : 0),
    });
  }
  const hc = random.next();
  return {
    framework,
    taskName: group === undefined ? base : `${base}.${group}`,
    idPrefix: group === undefined ? base : `${group}_${base}`,
    mode,
    ports,
    hasIpv6: mode === 'cni' && random.chance(0.4),
    healthCheck: portCount === 0 || hc < 0.5 ? undefined : hc < 0.8 ? 'HTTP' : 'TCP',
    image: random.pick(IMAGES),
    labels: random.chance(0.3) ? [{ key: 'HAPROXY_GROUP', value: 'internal' }] : [],
  };
}

/**
 * Number of instances per app: every app has one, the remaining tasks go to apps drawn with a
 * skew towards low indices (index = floor(apps * r^1.6)), so most apps stay small and a few are
 * large.
 */
function instanceCounts(random: Random, apps: number, tasks: number): number[] {
  const counts = Array.from({ length: apps }, (): number => (tasks > 0 ? 1 : 0));
  for (let extra = Math.max(0, tasks - apps); extra > 0; extra--) {
    const i = Math.min(apps - 1, Math.floor(apps * Math.pow(random.next(), 1.6)));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

function allocatePorts(slot: AgentSlot, count: number): number[] {
  if (slot.nextPort + count - 1 > PORT_MAX) slot.nextPort = PORT_MIN;
  const ports = Array.from({ length: count }, (_, k) => slot.nextPort + k);
  slot.nextPort += count;
  return ports;
}

function nextBridgeIp(slot: AgentSlot): string {
  const n = slot.nextBridgeIp++ % 65000;
  return `172.17.${Math.floor(n / 254)}.${(n % 254) + 2}`;
}

function nextCniIps(slot: AgentSlot): { v4: string; v6: string } {
  const n = slot.nextCniIp++ % 253;
  const i = slot.index;
  return {
    v4: `9.${Math.floor(i / 256) % 256}.${i % 256}.${n + 2}`,
    v6: `fd01:b::${i.toString(16)}:8000:0:${(n + 2).toString(16)}/64`,
  };
}

interface TaskContext {
  readonly random: Random;
  readonly app: App;
  readonly frameworkId: string;
  readonly slot: AgentSlot;
  readonly id: string;
  readonly state: string;
  readonly startedAt: number;
}

function buildStatuses(
  ctx: TaskContext,
  runningInfos: StateNetworkInfo[],
  containerId: string,
): StateTaskStatus[] {
  const { random, app, slot, state, startedAt } = ctx;
  const agentInfo: StateNetworkInfo[] = [
    { ip_addresses: [{ protocol: 'IPv4', ip_address: slot.ip }] },
  ];
  const status = (name: string, t: number, infos: StateNetworkInfo[]): StateTaskStatus => ({
    state: name,
    timestamp: seconds(t),
    container_status: { container_id: { value: containerId }, network_infos: infos },
  });
  if (state === 'TASK_STAGING') return [];
  const statuses: StateTaskStatus[] = [status('TASK_STARTING', startedAt, agentInfo)];
  if (state === 'TASK_STARTING') return statuses;
  const running = status('TASK_RUNNING', startedAt + 1 + random.next() * 5, runningInfos);
  if (app.healthCheck !== undefined) running.healthy = !random.chance(0.01);
  statuses.push(running);
  const later = running.timestamp + 60 + random.next() * 3600;
  if (state === 'TASK_KILLING') statuses.push(status('TASK_KILLING', later, runningInfos));
  if (state === 'TASK_FAILED' || state === 'TASK_KILLED' || state === 'TASK_FINISHED') {
    statuses.push(status(state, later, agentInfo));
  }
  // Mesos does not promise any order; consumers must sort by timestamp.
  if (random.chance(0.1)) statuses.reverse();
  return statuses;
}

function buildTask(ctx: TaskContext): StateTask {
  const { random, app, frameworkId, slot, id, state } = ctx;
  const hostPorts = app.mode === 'cni' ? [] : allocatePorts(slot, app.ports.length);
  const containerId = uuid(random);
  const resources: StateResources = {
    cpus: app.framework === 'spark' ? 2 : random.pick([0.1, 0.25, 0.5, 1, 2]),
    disk: 0,
    gpus: 0,
    mem: app.framework === 'spark' ? 4096 : random.pick([128, 256, 512, 1024, 2048]),
  };
  if (hostPorts.length > 0) resources.ports = portRangesText(hostPorts);

  let runningInfos: StateNetworkInfo[];
  let container: StateContainer | undefined;
  if (app.mode === 'bridge') {
    runningInfos = [{ ip_addresses: [{ protocol: 'IPv4', ip_address: nextBridgeIp(slot) }] }];
    container = {
      type: 'DOCKER',
      docker: {
        image: app.image,
        network: 'BRIDGE',
        port_mappings: app.ports.map((p, k) => ({
          host_port: hostPorts[k] ?? 0,
          container_port: p.containerPort,
          protocol: p.protocol,
        })),
        privileged: false,
        force_pull_image: false,
      },
    };
  } else if (app.mode === 'cni') {
    const ips = nextCniIps(slot);
    const addresses: StateNetworkInfo['ip_addresses'] = [{ protocol: 'IPv4', ip_address: ips.v4 }];
    if (app.hasIpv6) addresses.push({ protocol: 'IPv6', ip_address: ips.v6 });
    runningInfos = [{ name: 'dcos', ip_addresses: addresses }];
    container = {
      type: 'MESOS',
      mesos: { image: { type: 'DOCKER', docker: { name: app.image }, cached: true } },
      network_infos: [
        {
          name: 'dcos',
          ip_addresses: app.hasIpv6
            ? [{ protocol: 'IPv4' }, { protocol: 'IPv6' }]
            : [{ protocol: 'IPv4' }],
        },
      ],
    };
  } else {
    runningInfos = [{ ip_addresses: [{ protocol: 'IPv4', ip_address: slot.ip }] }];
    if (app.framework !== 'spark' && random.chance(0.5)) {
      container = {
        type: 'DOCKER',
        docker: { image: app.image, network: 'HOST', privileged: false, force_pull_image: false },
      };
    } else if (app.framework !== 'spark') {
      container = { type: 'MESOS', mesos: {} };
    }
  }

  const task: StateTask = {
    id,
    name: app.taskName,
    framework_id: frameworkId,
    executor_id: app.framework === 'spark' ? id : '',
    slave_id: slot.id,
    state,
    resources,
    role: '*',
    statuses: buildStatuses(ctx, runningInfos, containerId),
  };
  if (app.labels.length > 0) task.labels = [...app.labels];
  if (app.framework === 'marathon') {
    task.discovery = {
      visibility: 'FRAMEWORK',
      name: app.taskName,
      ports: {
        ports: app.ports.map((p, k) => {
          const scope: StateLabel[] =
            app.mode === 'cni'
              ? [
                  { key: 'network-scope', value: 'container' },
                  { key: 'network-name', value: 'dcos' },
                ]
              : [{ key: 'network-scope', value: 'host' }];
          return {
            number: app.mode === 'cni' ? p.containerPort : (hostPorts[k] ?? 0),
            ...(p.name === '' ? {} : { name: p.name }),
            protocol: p.protocol,
            labels: { labels: scope },
          };
        }),
      },
    };
  }
  if (container !== undefined) task.container = container;
  const firstPort = app.mode === 'cni' ? app.ports[0]?.containerPort : hostPorts[0];
  if (app.healthCheck !== undefined && firstPort !== undefined) {
    const timings = {
      delay_seconds: 15,
      interval_seconds: 10,
      timeout_seconds: 20,
      consecutive_failures: 3,
      grace_period_seconds: 300,
    };
    task.health_check =
      app.healthCheck === 'HTTP'
        ? { type: 'HTTP', http: { port: firstPort, path: '/health' }, ...timings }
        : { type: 'TCP', tcp: { port: firstPort }, ...timings };
  }
  return task;
}

function taskId(random: Random, app: App, serial: number): string {
  switch (app.framework) {
    case 'marathon':
      return `${app.idPrefix}.${timeUuid(random)}`;
    case 'metronome':
      return `${app.idPrefix}_20240528${hex(random, 6)}.${timeUuid(random)}`;
    case 'spark':
      return String(serial);
  }
}

function pickRunState(random: Random): string {
  if (!random.chance(NON_RUNNING_SHARE)) return 'TASK_RUNNING';
  return random.pick(['TASK_STAGING', 'TASK_STARTING', 'TASK_KILLING', 'TASK_FAILED']);
}

function frameworkResources(): StateResources {
  return emptyResources();
}

/**
 * Generates a synthetic Mesos `/master/state` document (see the module comment for its content).
 * Pure and deterministic: the same options give a deep-equal document.
 *
 * @example
 * const doc = syntheticState({ tasks: 10_000, seed: 42 });
 * await writeState('/tmp/state.json', doc);
 */
export function syntheticState(options: ClusterOptions): MasterState {
  const taskCount = Math.max(0, Math.floor(options.tasks));
  const agentCount = Math.max(1, options.agents ?? Math.max(3, Math.ceil(taskCount / 25)));
  const random = createRandom(options.seed ?? 1);
  const now = options.now ?? 1717000000;
  const clusterId = uuid(random);
  const masterId = uuid(random);

  const slots: AgentSlot[] = [];
  const slaves: StateAgent[] = [];
  for (let i = 0; i < agentCount; i++) {
    const ip = agentIp(i);
    const id = `${clusterId}-S${i}`;
    slots.push({
      index: i,
      id,
      ip,
      nextPort: PORT_MIN + random.int(PORT_MAX - PORT_MIN),
      nextBridgeIp: 0,
      nextCniIp: 0,
    });
    const total: StateResources = {
      cpus: 16,
      disk: 204800,
      gpus: 0,
      mem: 63488,
      ports: `[${PORT_MIN}-${PORT_MAX}]`,
    };
    slaves.push({
      id,
      hostname: i % 8 === 0 ? ip : `agent-${String(i).padStart(5, '0')}.cluster.internal`,
      port: 5051,
      attributes: { rack: `r${i % 16}`, zone: `z${i % 3}` },
      pid: `slave(1)@${ip}:5051`,
      registered_time: seconds(now - 30 * 86400 + random.next() * 86400),
      resources: total,
      used_resources: emptyResources(),
      offered_resources: emptyResources(),
      reserved_resources: {},
      unreserved_resources: total,
      active: true,
      deactivated: false,
      version: MESOS_VERSION,
      capabilities: ['MULTI_ROLE', 'HIERARCHICAL_ROLE', 'RESERVATION_REFINEMENT'],
    });
  }

  const frameworkIds: Record<FrameworkKey, string> = {
    marathon: `${clusterId}-0001`,
    metronome: `${clusterId}-0002`,
    spark: `${clusterId}-0003`,
  };
  const base = (key: FrameworkKey): StateFramework => ({
    id: frameworkIds[key],
    name: key,
    hostname: MASTER_IP,
    webui_url: '',
    active: true,
    connected: true,
    recovered: false,
    user: 'root',
    failover_timeout: 604800,
    checkpoint: true,
    registered_time: seconds(now - 7 * 86400),
    role: '*',
    capabilities: ['PARTITION_AWARE', 'TASK_KILLING_STATE'],
    used_resources: frameworkResources(),
    offered_resources: frameworkResources(),
    resources: frameworkResources(),
    tasks: [],
    unreachable_tasks: [],
    completed_tasks: [],
    offers: [],
    executors: [],
  });
  const frameworks: Record<FrameworkKey, StateFramework> = {
    marathon: {
      ...base('marathon'),
      pid: `scheduler-${uuid(random)}@${MASTER_IP}:15101`,
      webui_url: `http://${MASTER_IP}:8080`,
    },
    // HTTP-API scheduler: no pid; its hostname is an IP so nothing has to be resolved.
    metronome: { ...base('metronome'), hostname: '10.0.0.12', principal: 'metronome' },
    spark: {
      ...base('spark'),
      pid: `${uuid(random)}-0000@10.0.0.13:37201`,
      hostname: '10.0.0.13',
      webui_url: 'http://10.0.0.13:4040',
    },
  };

  const appCount = Math.max(1, Math.round(taskCount / 3));
  const apps = Array.from({ length: appCount }, (_, i) => makeApp(random, i));
  const counts = instanceCounts(random, appCount, taskCount);
  let sparkSerial = 0;
  apps.forEach((app, a) => {
    const fw = frameworks[app.framework];
    for (let k = 0; k < (counts[a] ?? 0); k++) {
      const slot = slots[random.int(slots.length)] ?? slots[0];
      if (slot === undefined) throw new Error('syntheticState: no agents');
      fw.tasks.push(
        buildTask({
          random,
          app,
          frameworkId: fw.id,
          slot,
          id: taskId(random, app, sparkSerial++),
          state: pickRunState(random),
          startedAt: now - 7 * 86400 + random.next() * 7 * 86400 - 3600,
        }),
      );
    }
  });

  for (const key of Object.keys(frameworks) as FrameworkKey[]) {
    const fw = frameworks[key];
    const completed = Math.min(COMPLETED_MAX, Math.round(fw.tasks.length * COMPLETED_SHARE));
    const fwApps = apps.filter((app) => app.framework === key);
    for (let k = 0; k < completed && fwApps.length > 0; k++) {
      const app = random.pick(fwApps);
      const slot = slots[random.int(slots.length)] ?? slots[0];
      if (slot === undefined) throw new Error('syntheticState: no agents');
      fw.completed_tasks.push(
        buildTask({
          random,
          app,
          frameworkId: fw.id,
          slot,
          id: taskId(random, app, sparkSerial++),
          state: app.framework === 'marathon' ? 'TASK_KILLED' : 'TASK_FINISHED',
          startedAt: now - 14 * 86400 + random.next() * 7 * 86400,
        }),
      );
    }
  }

  const masterPid = `master@${MASTER_IP}:${MASTER_PORT}`;
  return {
    version: MESOS_VERSION,
    build_date: '2021-06-01 10:00:00',
    build_time: 1622541600,
    build_user: 'root',
    start_time: seconds(now - 30 * 86400),
    elected_time: seconds(now - 30 * 86400 + 3.3),
    id: masterId,
    pid: masterPid,
    hostname: MASTER_IP,
    activated_slaves: agentCount,
    deactivated_slaves: 0,
    unreachable_slaves: 0,
    leader: masterPid,
    leader_info: { id: masterId, pid: masterPid, port: MASTER_PORT, hostname: MASTER_IP },
    cluster: 'bench',
    capabilities: ['AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2'],
    slaves,
    recovered_slaves: [],
    frameworks: [frameworks.marathon, frameworks.metronome, frameworks.spark],
    completed_frameworks: [],
    orphan_tasks: [],
    unregistered_frameworks: [],
  };
}

/**
 * Writes a state document as compact JSON (as a master sends it) and resolves its size in bytes.
 */
export async function writeState(path: string, doc: object): Promise<number> {
  const text = JSON.stringify(doc);
  await writeFile(path, text);
  return Buffer.byteLength(text);
}
