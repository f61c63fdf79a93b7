/**
 * The JSON shapes of a synthetic `/master/state` document (support/cluster.ts): a subset of what
 * a Mesos 1.11 master sends, every value shape as sent. They have a module of their own so that
 * both parts of the generator (cluster.ts, cluster-tasks.ts) can use them; cluster.ts re-exports
 * them for the modules that read a document.
 */

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
