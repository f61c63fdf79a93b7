/**
 * Public surface of the records module: the pure record generator, the Mesos-DNS label
 * functions and task-id hash, and the zone-file renderer.
 */
export type {
  EnumeratedFramework,
  EnumeratedTaskKey,
  EnumerationChange,
  EnumeratedRecord,
  EnumeratedTask,
  GeneratorOptions,
  GeneratorStats,
  LazyFramework,
  RecordSet,
  RecordType,
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
export {
  CompactRecordSet,
  ComputedMap,
  KIND_A,
  KIND_AAAA,
  KIND_SRV,
  RecordBuilder,
  FNV_OFFSET,
  FNV_PRIME,
  hashBytes,
  hashString,
  intToIpv4,
  isValidName,
  lazyEntries,
  lazyEnumeration,
  ipv4ToInt,
  ipv6Groups,
  formatIpv6,
  cloneRecordData,
  recordDataBytes,
  recordTransferList,
  recordViews,
  reserveBuildMemory,
  tableSize,
  withoutReserve,
  toRecordData,
} from './record-set.js';
export type { EnumerationData, KindData, RecordData, RecordKind } from './record-set.js';
export { toZoneFile } from './zone-file.js';
