/**
 * Public surface of the records module: the pure record generator, the Mesos-DNS label
 * functions and task-id hash, and the zone-file renderer.
 */
export type {
  EnumeratedFramework,
  ChangedFramework,
  EnumeratedTaskKey,
  EnumerationChange,
  EnumeratedRecord,
  EnumeratedTask,
  GeneratorOptions,
  GeneratorStats,
  LazyFramework,
  RecordSet,
  RecordType,
  ReverseOptions,
  SrvTarget,
} from './types.js';
export type { LabelFunction } from './labels.js';
export {
  RFC1123_MAX,
  RFC952_MAX,
  domainFragment,
  labelFunction,
  rfc1123Label,
  rfc952Label,
} from './labels.js';
export { taskIdHash } from './hash.js';
export { appKey, generateRecords, generateTaskRecords } from './generator.js';
export { IncrementalRecords } from './incremental.js';
export type { ZoneUpdate } from './incremental.js';
export { isUnhealthy } from './health.js';
export type { HealthSettings, HealthStats } from './health.js';
export { diffRecords, recordSource } from './diff.js';
export type { RecordDiff, RecordSource, ReplacedName } from './diff.js';
export { reserveBuildMemory, shareBuildMemory, withoutReserve } from './arena.js';
export { RecordBuilder } from './builder.js';
export { formatIpv6, intToIpv4, ipv4ToInt, ipv6Groups } from '../net/ip.js';
export { KIND_A, KIND_AAAA, KIND_PTR, KIND_SRV } from './layout.js';
export type { EnumerationData, KindData, RecordData, RecordKind } from './layout.js';
export {
  FNV_OFFSET,
  FNV_PRIME,
  hashBytes,
  hashString,
  isValidName,
  tableSize,
} from './name-hash.js';
export {
  cloneRecordData,
  isSharedRecordData,
  recordDataBytes,
  recordTransferList,
  recordViews,
  toRecordData,
} from './transfer.js';
export { CompactRecordSet, ComputedMap, lazyEntries, lazyEnumeration } from './views.js';
export { toZoneFile } from './zone-file.js';
