/**
 * The app and task builders of the synthetic cluster (support/cluster.ts): what an app looks like
 * (framework, name, networking mode, ports, health check), and the `frameworks[].tasks` entries
 * built from it on an agent, with their statuses. `syntheticState` places the agents and
 * frameworks and calls these; every builder draws from its PRNG, so the order of the calls is
 * part of the document and must not change.
 */
import type {
  StateContainer,
  StateLabel,
  StateNetworkInfo,
  StateResources,
  StateTask,
  StateTaskStatus,
} from './cluster-types.js';
import type { Random } from './random.js';

/** The first host port of every agent (`resources.ports`). */
export const PORT_MIN = 31000;
/** The last host port of every agent. */
export const PORT_MAX = 32000;
const NON_RUNNING_SHARE = 0.02;

type Mode = 'host' | 'bridge' | 'cni';
/** The three frameworks of the cluster. */
export type FrameworkKey = 'marathon' | 'metronome' | 'spark';

interface PortSpec {
  readonly name: string;
  readonly protocol: 'tcp' | 'udp';
  /** Container port (BRIDGE mapping target, CNI DiscoveryInfo number). */
  readonly containerPort: number;
}

/** An app: what its instances (tasks) share. */
export interface App {
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

/** An agent as the builders see it: its ports and container IPs are handed out in turn. */
export interface AgentSlot {
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

/** A random (version 4) UUID, as Mesos ids carry them. */
export function uuid(random: Random): string {
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}`;
}

/** A Marathon-style version-1 UUID (time-based, same node suffix for the whole cluster). */
function timeUuid(random: Random): string {
  return `${hex(random, 8)}-${hex(random, 4)}-11ef-${hex(random, 4)}-0242ac11${hex(random, 4)}`;
}

/** Rounds to microseconds, as Mesos' float seconds look. */
export function seconds(t: number): number {
  return Math.round(t * 1e6) / 1e6;
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

/** The app of the given index, drawn from `random` (the module comment of cluster.ts). */
export function makeApp(random: Random, index: number): App {
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
export function instanceCounts(random: Random, apps: number, tasks: number): number[] {
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

/** What `buildTask` needs to build one task. */
export interface TaskContext {
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

/** One `frameworks[].tasks` or `completed_tasks` entry of `ctx.app` on `ctx.slot`. */
export function buildTask(ctx: TaskContext): StateTask {
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

/** A task id as its framework makes them (Spark: a serial number). */
export function taskId(random: Random, app: App, serial: number): string {
  switch (app.framework) {
    case 'marathon':
      return `${app.idPrefix}.${timeUuid(random)}`;
    case 'metronome':
      return `${app.idPrefix}_20240528${hex(random, 6)}.${timeUuid(random)}`;
    case 'spark':
      return String(serial);
  }
}

/** A task's state: about `NON_RUNNING_SHARE` of the tasks are not running. */
export function pickRunState(random: Random): string {
  if (!random.chance(NON_RUNNING_SHARE)) return 'TASK_RUNNING';
  return random.pick(['TASK_STAGING', 'TASK_STARTING', 'TASK_KILLING', 'TASK_FAILED']);
}
