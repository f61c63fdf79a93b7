/** The DNS layer: wire codec, compiled zone, authoritative answers, forwarding, UDP/TCP server. */
export { DnsServer } from './server.js';
export type { DnsServerOptions, DnsSettings, QueryEvent } from './server.js';
export { Forwarder, formatHostPort } from './forwarder.js';
export type { ForwarderOptions } from './forwarder.js';
export { compileZone, withSerial } from './zone.js';
export type { Zone, ZoneNode, ZoneOptions, RRSet } from './zone.js';
export { parseResolvConf, excludeSelf } from './resolv-conf.js';
export { answerAuthoritative, isInZone } from './authority.js';
export { buildResponse, errorResponse, sizeLimit, MAX_UDP_SIZE } from './response.js';
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
