/**
 * Small builders for the narrow Mesos state types and generator options, so that tests state
 * only what matters to them. Everything has a harmless default.
 */
import { readFileSync } from 'node:fs';
import { fixturePath } from './paths.js';
import type {
  Agent,
  ContainerInfo,
  Discovery,
  Framework,
  Label,
  Pid,
  PortRange,
  State,
  Task,
  TaskStatus,
} from '../src/mesos/index.js';
import type { GeneratorOptions } from '../src/records/index.js';

/** Reads the Mesos-DNS fixture `test/fixtures/fake.json` as untrusted JSON. */
export function readFixture(name = 'fake.json'): unknown {
  const text = readFileSync(fixturePath(name), 'utf8');
  const doc: unknown = JSON.parse(text);
  return doc;
}

/** Builds a pid; `host` may be an IP literal or a hostname. */
export function pid(host: string, port: number, id = 'slave(1)'): Pid {
  return { id, host, port };
}

/** Builds an agent with id `agent-<n>` style ids left to the caller. */
export function agent(id: string, host: string, port = 5051): Agent {
  return { id, hostname: host, pid: pid(host, port) };
}

/** Builds a task status; TASK_RUNNING at timestamp 1 unless told otherwise. */
export function status(overrides: Partial<TaskStatus> = {}): TaskStatus {
  return {
    state: 'TASK_RUNNING',
    timestamp: 1,
    labels: [],
    networkInfos: [],
    healthy: undefined,
    ...overrides,
  };
}

/** A TASK_RUNNING status whose container reports the given netinfo addresses (one network). */
export function netinfoStatus(ips: readonly string[], timestamp = 1): TaskStatus {
  return status({ timestamp, networkInfos: [{ ipAddresses: ips }] });
}

/** A TASK_RUNNING status carrying labels (e.g. the Docker/Mesos IP labels). */
export function labelStatus(labels: readonly Label[], timestamp = 1): TaskStatus {
  return status({ timestamp, labels });
}

/** Builds a running task on `agentId` with no ports, statuses or discovery unless overridden. */
export function task(
  name: string,
  agentId: string,
  overrides: Partial<Omit<Task, 'ports'>> & { ports?: readonly PortRange[] } = {},
): Task {
  return {
    id: `${name}.00000000-0000-0000-0000-000000000000`,
    name,
    frameworkId: 'fw-0',
    agentId,
    state: 'TASK_RUNNING',
    statuses: [],
    ports: [],
    discovery: undefined,
    container: undefined,
    ...overrides,
  };
}

/** Builds DiscoveryInfo. */
export function discovery(
  name: string,
  ports: readonly { number: number; protocol?: string; name?: string }[] = [],
): Discovery {
  return {
    name,
    ports: ports.map((p) => ({ number: p.number, protocol: p.protocol ?? '', name: p.name ?? '' })),
  };
}

/**
 * A Docker container in the given network mode (`BRIDGE`, `HOST`, ...), with port mappings
 * (`protocol` `tcp` unless told).
 */
export function docker(
  network: string,
  mappings: readonly { host: number; container: number; protocol?: string }[] = [],
): ContainerInfo {
  return {
    type: 'DOCKER',
    dockerNetwork: network,
    portMappings: mappings.map((m) => ({
      hostPort: m.host,
      containerPort: m.container,
      protocol: m.protocol ?? 'tcp',
    })),
  };
}

/** A Mesos containerizer container (on a CNI network, say), with no port mappings. */
export function mesosContainer(): ContainerInfo {
  return { type: 'MESOS', dockerNetwork: '', portMappings: [] };
}

/** Builds a framework; `pid` undefined means an HTTP-API scheduler (then `hostname` is used). */
export function framework(
  name: string,
  tasks: readonly Task[] = [],
  overrides: Partial<Framework> = {},
): Framework {
  return { id: `fw-${name}`, name, pid: undefined, hostname: '', tasks, ...overrides };
}

/** Builds a state. */
export function state(overrides: Partial<State> = {}): State {
  return { leader: undefined, agents: [], frameworks: [], ...overrides };
}

/** Generator options: domain `mesos`, default IP sources, RFC 1123, no NS/master/host data. */
export function options(overrides: Partial<GeneratorOptions> = {}): GeneratorOptions {
  return {
    domain: 'mesos',
    ipSources: ['netinfo', 'mesos', 'host'],
    enforceRFC952: false,
    nsName: 'ns1.mesos.',
    nsIps: [],
    masters: [],
    hostIps: new Map(),
    ...overrides,
  };
}

/** Deterministic PRNG (mulberry32) for property tests: same seed, same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
