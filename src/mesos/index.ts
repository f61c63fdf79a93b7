/**
 * Public surface of the mesos module: the narrow state types and the state parsers (v0
 * `/master/state`, v1 operator API events and RecordIO framing), the state
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
  PortMapping,
  PortRange,
  State,
  Task,
  TaskChange,
  TaskStatus,
} from './types.js';
export { MAX_PROBLEMS, parsePid, parsePortRanges, parseState } from './parse.js';
export { EXPECTED_STATE, StateSyntaxError, parseJsonText, parseStateDocument } from './document.js';
export { DEFAULT_HEARTBEAT_SECONDS, parseV1Event, parseV1Master, parseV1State } from './v1.js';
export type { FrameworkInfo, MesosEvent, ParsedV1State, V1Master, V1Snapshot } from './v1.js';
export { RecordIoDecoder } from './recordio.js';
export type { RecordIoOptions } from './recordio.js';
export { StateFileSource, readStateFile } from './source.js';
export type {
  LoadInfo,
  SourceStats,
  StateListener,
  StateSource,
  StateFileOptions,
} from './source.js';
export { MasterPoller } from './poller.js';
export { MasterStream } from './stream.js';
export type { ApiClient, MasterStreamOptions } from './stream.js';
export type { StreamStats } from './stream-stats.js';
export { StreamModel } from './stream-model.js';
export { CarryOver, logCarry } from './carry-over.js';
export { PackedView } from './carry-pack.js';
export type { CarryEnd, CarryFacts, CarryReason, CarryResult } from './carry-over.js';
export type { Applied, Drift } from './stream-model.js';
export type { MasterPollerOptions, StateFetcher } from './poller.js';
export {
  API_PATH,
  ApiUnsupportedError,
  DEFAULT_MAX_STATE_BYTES,
  MAX_REDIRECTS,
  StateClient,
  readTlsFiles,
} from './client.js';
export type {
  ApiCall,
  EventStream,
  FetchedState,
  StateClientOptions,
  TlsMaterial,
} from './client.js';
export { StaticMasters, leaderFacts, leaderKey } from './leader.js';
export type { LeaderDetector, LeaderFacts } from './leader.js';
export { ZkLeaderDetector, parseZkUrl, redactZkUrl } from './zookeeper.js';
export type { ZkDetectorOptions, ZkUrl, ZooKeeperSession } from './zookeeper.js';
export { parseMasterInfo, parseMemberName } from './master-info.js';
export type { GroupMember, MasterAddress } from './master-info.js';
export { backoffMs } from './loop.js';
export { hostnamesOf, resolveHosts, systemLookup } from './hosts.js';
export type { HostLookup } from './hosts.js';
