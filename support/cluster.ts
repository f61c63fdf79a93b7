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
import {
  PORT_MAX,
  PORT_MIN,
  buildTask,
  instanceCounts,
  makeApp,
  pickRunState,
  seconds,
  taskId,
  uuid,
  type AgentSlot,
  type FrameworkKey,
} from './cluster-tasks.js';
import type { MasterState, StateAgent, StateFramework, StateResources } from './cluster-types.js';
import { createRandom } from './random.js';

// The PRNG and the document shapes have their own modules; the tests and the benchmark import
// them from here, as they did before the split, so they are re-exported.
export type {
  MasterState,
  StateAgent,
  StateContainer,
  StateDiscovery,
  StateFramework,
  StateLabel,
  StateNetworkInfo,
  StateResources,
  StateTask,
  StateTaskStatus,
} from './cluster-types.js';
export { createRandom, type Random } from './random.js';

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
const COMPLETED_SHARE = 0.02;
const COMPLETED_MAX = 1000;

/** The IP of agent `i`: 10.(1+k).y.z with z in 1..254 (no network or broadcast addresses). */
function agentIp(i: number): string {
  const z = (i % 254) + 1;
  const rest = Math.floor(i / 254);
  return `10.${1 + Math.floor(rest / 256)}.${rest % 256}.${z}`;
}

function emptyResources(): StateResources {
  return { cpus: 0, disk: 0, gpus: 0, mem: 0 };
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
