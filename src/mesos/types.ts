/**
 * Narrow types for the parts of the Mesos `/master/state` document (docs/mesos-api.md 2)
 * that DNS needs. Produced only by `parseState`, which validates untrusted JSON into these.
 */

/** A libprocess PID such as `slave(1)@10.0.1.21:5051`. `host` is an IP literal or a hostname. */
export interface Pid {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** A `{key, value}` label. */
export interface Label {
  readonly key: string;
  readonly value: string;
}

/** One container network: its IP addresses in order (`ip_addresses[].ip_address`, or the 0.25 `ip_address`). */
export interface NetworkInfo {
  readonly ipAddresses: readonly string[];
}

/** One entry of `tasks[].statuses`. */
export interface TaskStatus {
  readonly state: string;
  /** Seconds since the epoch (float), as Mesos sends it. */
  readonly timestamp: number;
  readonly labels: readonly Label[];
  readonly networkInfos: readonly NetworkInfo[];
  readonly healthy: boolean | undefined;
}

/** One DiscoveryInfo port. `protocol` and `name` are `''` when absent. */
export interface DiscoveryPort {
  readonly number: number;
  readonly protocol: string;
  readonly name: string;
}

/** A task's DiscoveryInfo (`tasks[].discovery`). */
export interface Discovery {
  readonly name: string;
  readonly ports: readonly DiscoveryPort[];
}

/** An inclusive port range from `resources.ports` (`"[31000-31001, 31005-31005]"`). */
export interface PortRange {
  readonly begin: number;
  readonly end: number;
}

/**
 * A port the container maps to a host port (`container.docker.port_mappings[]`,
 * `container.network_infos[].port_mappings[]`). `protocol` is as sent (`tcp`, `udp`,
 * `udp,tcp`), `''` when absent.
 */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: string;
}

/** What the task's container is, as far as DNS cares. */
export interface ContainerInfo {
  /** `DOCKER`, `MESOS`, ... as sent. */
  readonly type: string;
  /** Docker network mode (`HOST`, `BRIDGE`, `USER`, `NONE`), `''` when not Docker. */
  readonly dockerNetwork: string;
  /**
   * The container's port mappings: Docker's, then those of its network infos, in order
   * (the address views, records/address-views.ts); entries that are not valid are left out.
   */
  readonly portMappings: readonly PortMapping[];
}

/** A task of a framework. */
export interface Task {
  readonly id: string;
  readonly name: string;
  readonly frameworkId: string;
  readonly agentId: string;
  /** Top-level state, e.g. `TASK_RUNNING`. */
  readonly state: string;
  readonly statuses: readonly TaskStatus[];
  readonly ports: readonly PortRange[];
  readonly discovery: Discovery | undefined;
  readonly container: ContainerInfo | undefined;
}

/** A framework (`frameworks[]`; `completed_frameworks` are not read). */
export interface Framework {
  readonly id: string;
  readonly name: string;
  /** Absent for HTTP-API schedulers. */
  readonly pid: Pid | undefined;
  readonly hostname: string;
  readonly tasks: readonly Task[];
}

/** An agent (`slaves[]`). */
export interface Agent {
  readonly id: string;
  readonly hostname: string;
  readonly pid: Pid;
}

/** One task before and after a batch of streamed events (undefined: not there). */
export interface TaskChange {
  readonly before: Task | undefined;
  readonly after: Task | undefined;
}

/** The validated state document. */
export interface State {
  /** Parsed `leader` field, undefined when absent or not `master@host:port`. */
  readonly leader: Pid | undefined;
  readonly agents: readonly Agent[];
  readonly frameworks: readonly Framework[];
  /**
   * Agents the master knows from its registry that have not (re-)registered with it yet
   * (`recovered_slaves`, v1 `recovered_agents`): right after a failover, their tasks are missing.
   */
  readonly recoveredAgentIds?: readonly string[];
  /** Stream mode: agents the master removed since the last snapshot (`AGENT_REMOVED`). */
  readonly removedAgentIds?: readonly string[];
}

/** What was skipped while parsing: bad entries are dropped and counted, never fatal. */
export interface ParseReport {
  readonly skippedAgents: number;
  readonly skippedFrameworks: number;
  readonly skippedTasks: number;
  /** Human-readable reasons (capped), e.g. `frameworks[3].tasks[7]: resources.ports: bad range "31000"`. */
  readonly problems: readonly string[];
}

/** Result of `parseState`. */
export interface ParsedState {
  readonly state: State;
  readonly report: ParseReport;
}
