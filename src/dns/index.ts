/** The DNS layer: wire codec, compiled zone, authoritative answers, forwarding, UDP/TCP server. */
export { DnsServer } from './server.js';
export { oversizedDatagrams } from './batch-udp.js';
export type { DnsServerOptions, DnsSettings, QueryEvent, TcpRefusal } from './server.js';
export { Forwarder, formatHostPort } from './forwarder.js';
export type { ForwarderOptions } from './forwarder.js';
export { AnswerCache, STALE_ANSWER_TTL } from './cache.js';
export type { AnswerCacheOptions, CacheEntryKind } from './cache.js';
export { Acl, PerClient, clientKey, parseCidr } from './acl.js';
export { ResponseRateLimiter } from './rrl.js';
export type { RrlAction, RrlSettings } from './rrl.js';
export { createPolicy } from './policy.js';
export type { Policy, PolicyName, Candidate } from './policy.js';
export { ForwardStats } from './upstream-stats.js';
export type {
  ForwardObserver,
  ExchangeEvent,
  ExchangeOutcome,
  RejectReason,
  UpstreamCounters,
} from './upstream-stats.js';
export {
  EMPTY_NODE,
  NO_NODE,
  compileZone,
  compileZoneImage,
  findNode,
  findNodeAt,
  findNameAt,
  classifyName,
  lookup,
  lookupAt,
  withSerial,
  zoneFromImage,
} from './zone.js';
export type { Found, Zone, ZoneImage, ZoneOptions, ZonePart } from './zone.js';
export { ChangesetMismatch, applyChangeset } from './changeset.js';
export type { Changeset, ZoneDiff } from './changeset.js';
export { fullBuildDiff, zoneSource } from './zone-diff.js';
export {
  JOURNAL_MAX_ENTRIES,
  JOURNAL_MAX_RRS,
  ZoneJournal,
  diffRRs,
  journalLimits,
} from './journal.js';
export type { JournalLimits } from './journal.js';
export { changedEntries } from './changed-names.js';
export { ZoneRecordSet } from './zone-records.js';
export { ZoneTransfers, isTransferRequest } from './transfer.js';
export { TransferOffload } from './transfer-offload.js';
export type { TransferDeps, TransferEvent, TransferResult, TransferSettings } from './transfer.js';
export { Notifier } from './notify.js';
export { isSerialAfter, laterSerial, peerSerials } from './serials.js';
export type { NotifyEvent, NotifyResult, NotifySettings } from './notify.js';
export { keyring } from './tsig.js';
export type { TsigKey, TsigKeyring } from './tsig.js';
export type { EnumerationLog } from './zone-records.js';
export { parseResolvConf, excludeSelf } from './resolv-conf.js';
export { answerAuthoritative, isInZone } from './authority.js';
export { answerReverse, reverseZones } from './reverse.js';
export type { ReverseZones } from './reverse.js';
export {
  errorResponse,
  negativeResponse,
  sizeLimit,
  zoneResponse,
  MAX_UDP_SIZE,
} from './response.js';
export type { Transport } from './response.js';
export {
  TYPE,
  CLASS,
  RCODE,
  RCODE_NAME,
  encodeName,
  nameKey,
  keyToName,
  parseQuery,
  isProblem,
} from './wire.js';
export type { Query, QueryProblem, Edns } from './wire.js';
