/**
 * Public surface of the mesos module: the narrow state types and the state parser, the state
 * sources (file, master poller), the master HTTP client and leader detection (static list,
 * ZooKeeper).
 */
export type {
  Agent,
  ContainerInfo,
  Discovery,
  DiscoveryPort,
  Framework,
  Label,
  NetworkInfo,
  ParseReport,
  ParsedState,
  Pid,
  PortRange,
  State,
  Task,
  TaskStatus,
} from './types.js';
export { MAX_PROBLEMS, parsePid, parsePortRanges, parseState } from './parse.js';
export { StateFileSource } from './source.js';
export type {
  LoadInfo,
  SourceStats,
  StateListener,
  StateSource,
  StateFileOptions,
} from './source.js';
export { MasterPoller } from './poller.js';
export type { MasterPollerOptions, StateFetcher } from './poller.js';
export { DEFAULT_MAX_STATE_BYTES, MAX_REDIRECTS, StateClient, readTlsFiles } from './client.js';
export type { FetchedState, StateClientOptions, TlsMaterial } from './client.js';
export { StaticMasters, leaderFacts, leaderKey } from './leader.js';
export type { LeaderDetector, LeaderFacts } from './leader.js';
export {
  ZkLeaderDetector,
  parseMasterInfo,
  parseMemberName,
  parseZkUrl,
  redactZkUrl,
} from './zookeeper.js';
export type { GroupMember, MasterAddress, ZkDetectorOptions, ZkUrl } from './zookeeper.js';
export { backoffMs } from './loop.js';
export { hostnamesOf, resolveHosts, systemLookup } from './hosts.js';
export type { HostLookup } from './hosts.js';
