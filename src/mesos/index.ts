/**
 * Public surface of the mesos module: the narrow state types and the state parser.
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
export { StateFileSource, MasterPoller } from './source.js';
export type {
  LoadInfo,
  StateListener,
  StateSource,
  StateFileOptions,
  MasterPollerOptions,
} from './source.js';
export { hostnamesOf, resolveHosts, systemLookup } from './hosts.js';
export type { HostLookup } from './hosts.js';
