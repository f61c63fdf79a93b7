/**
 * What the masters write about themselves, as ZooKeeper and the v1 API hold it (docs/mesos-api.md
 * 5): the names of the group's member znodes, and `MasterInfo` in its three encodings (JSON,
 * protobuf, a bare pid), read into the address a master is reached at. Pure: the detector
 * (zookeeper.ts) does the I/O, and `GET_MASTER` (v1.ts) reads the same JSON `MasterInfo`, so
 * parsing it does not load the ZooKeeper detector.
 */
import { ipFamily } from '../net/ip.js';
import { hostPort } from './leader.js';
import { parsePid } from './parse.js';
import { isRecord } from '../is-record.js';

/** Port of a master whose legacy `MasterInfo` omits it (the proto default). */
const DEFAULT_MASTER_PORT = 5050;

/** How a member znode encodes its `MasterInfo`. */
export type MemberFormat = 'json' | 'protobuf' | 'pid';

/** A member of the masters' group. */
export interface GroupMember {
  readonly name: string;
  readonly sequence: number;
  readonly format: MemberFormat;
}

/**
 * Recognises a group member by its znode name: `json.info_<seq>` (Mesos >= 0.24),
 * `info_<seq>` (protobuf) and a bare `<seq>` (a pid string); anything else (`log_replicas`) is
 * not a member.
 */
export function parseMemberName(name: string): GroupMember | undefined {
  const match = /^(json\.info_|info_)?(\d+)$/.exec(name);
  const digits = match?.[2];
  if (match === null || digits === undefined) return undefined;
  const label = match[1];
  const format: MemberFormat =
    label === 'json.info_' ? 'json' : label === 'info_' ? 'protobuf' : 'pid';
  return { name, sequence: Number(digits), format };
}

/** A master's address as its `MasterInfo` gives it. */
export interface MasterAddress {
  /** IP literal, when known. */
  readonly ip: string | undefined;
  readonly hostname: string | undefined;
  readonly port: number;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function validPort(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 65535
    ? value
    : undefined;
}

/** The deprecated packed `ip`: IPv4 in network order read as a little-endian uint32. */
export function unpackIp(packed: number): string | undefined {
  if (!Number.isInteger(packed) || packed <= 0 || packed > 0xffffffff) return undefined;
  return [packed & 255, (packed >>> 8) & 255, (packed >>> 16) & 255, packed >>> 24].join('.');
}

function fromFields(fields: {
  address?: { ip?: string; hostname?: string; port?: number };
  ip?: number;
  port?: number;
  pid?: string;
  hostname?: string;
}): MasterAddress | undefined {
  const address = fields.address;
  const addressIp =
    address?.ip !== undefined && ipFamily(address.ip) !== 0 ? address.ip : undefined;
  const pid = fields.pid === undefined ? undefined : parsePid(fields.pid);
  const pidIp = pid !== undefined && ipFamily(pid.host) !== 0 ? pid.host : undefined;
  const ip = addressIp ?? (fields.ip === undefined ? undefined : unpackIp(fields.ip)) ?? pidIp;
  const hostname =
    address?.hostname ?? fields.hostname ?? (pidIp === undefined ? pid?.host : undefined);
  const port = address?.port ?? fields.port ?? pid?.port ?? DEFAULT_MASTER_PORT;
  if (ip === undefined && hostname === undefined) return undefined;
  return { ip, hostname, port };
}

/** Reads a `json.info_*` node: `address.ip`/`address.port` first, then the packed `ip`, then `pid`. */
export function parseJsonMasterInfo(text: string): MasterAddress | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  return masterInfoAddress(doc);
}

/**
 * Reads the address of a JSON `MasterInfo` (a ZooKeeper `json.info_*` node, the v1 `GET_MASTER`
 * `master_info`): `address.ip`/`address.port` first, then the packed `ip`, then `pid`.
 */
export function masterInfoAddress(doc: unknown): MasterAddress | undefined {
  if (!isRecord(doc)) return undefined;
  const address = isRecord(doc.address) ? doc.address : undefined;
  const ip = nonEmpty(address?.ip);
  const hostname = nonEmpty(address?.hostname);
  const port = validPort(address?.port);
  const packed = doc.ip;
  const fields = {
    ...(address === undefined
      ? {}
      : {
          address: {
            ...(ip === undefined ? {} : { ip }),
            ...(hostname === undefined ? {} : { hostname }),
            ...(port === undefined ? {} : { port }),
          },
        }),
    ...(typeof packed === 'number' ? { ip: packed } : {}),
    ...(validPort(doc.port) === undefined ? {} : { port: validPort(doc.port) ?? 0 }),
    ...(nonEmpty(doc.pid) === undefined ? {} : { pid: nonEmpty(doc.pid) ?? '' }),
    ...(nonEmpty(doc.hostname) === undefined ? {} : { hostname: nonEmpty(doc.hostname) ?? '' }),
  };
  return fromFields(fields);
}

/** Minimal protobuf reader: the fields of one message as (number, value) pairs. */
function protobufFields(buf: Uint8Array): Map<number, (number | Uint8Array)[]> | undefined {
  const out = new Map<number, (number | Uint8Array)[]>();
  let i = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let scale = 1;
    for (let n = 0; n < 10; n++) {
      const byte = buf[i++];
      if (byte === undefined) return undefined;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return value;
    }
    return undefined;
  };
  while (i < buf.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    const field = Math.floor(tag / 8);
    let value: number | Uint8Array;
    switch (tag % 8) {
      case 0: {
        const v = varint();
        if (v === undefined) return undefined;
        value = v;
        break;
      }
      case 1:
        i += 8;
        continue;
      case 2: {
        const length = varint();
        if (length === undefined || i + length > buf.length) return undefined;
        value = buf.subarray(i, i + length);
        i += length;
        break;
      }
      case 5:
        i += 4;
        continue;
      default:
        return undefined;
    }
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return i === buf.length ? out : undefined;
}

/** Reads a legacy `info_*` node: a protobuf `MasterInfo` (ip 2, port 3, pid 4, hostname 5, address 7). */
export function parseProtobufMasterInfo(buf: Uint8Array): MasterAddress | undefined {
  const fields = protobufFields(buf);
  if (fields === undefined) return undefined;
  const decoder = new TextDecoder();
  const str = (f: Map<number, (number | Uint8Array)[]>, n: number): string | undefined => {
    const v = f.get(n)?.[0];
    return v instanceof Uint8Array ? nonEmpty(decoder.decode(v)) : undefined;
  };
  const num = (f: Map<number, (number | Uint8Array)[]>, n: number): number | undefined => {
    const v = f.get(n)?.[0];
    return typeof v === 'number' ? v : undefined;
  };
  const rawAddress = fields.get(7)?.[0];
  const address = rawAddress instanceof Uint8Array ? protobufFields(rawAddress) : undefined;
  const aHostname = address === undefined ? undefined : str(address, 1);
  const aIp = address === undefined ? undefined : str(address, 2);
  const aPort = address === undefined ? undefined : validPort(num(address, 3));
  const ip = num(fields, 2);
  const port = validPort(num(fields, 3));
  const pid = str(fields, 4);
  const hostname = str(fields, 5);
  return fromFields({
    ...(address === undefined
      ? {}
      : {
          address: {
            ...(aHostname === undefined ? {} : { hostname: aHostname }),
            ...(aIp === undefined ? {} : { ip: aIp }),
            ...(aPort === undefined ? {} : { port: aPort }),
          },
        }),
    ...(ip === undefined ? {} : { ip }),
    ...(port === undefined ? {} : { port }),
    ...(pid === undefined ? {} : { pid }),
    ...(hostname === undefined ? {} : { hostname }),
  });
}

/** Reads a member's data in its format. */
export function parseMasterInfo(format: MemberFormat, data: Uint8Array): MasterAddress | undefined {
  switch (format) {
    case 'json':
      return parseJsonMasterInfo(new TextDecoder().decode(data));
    case 'protobuf':
      return parseProtobufMasterInfo(data);
    case 'pid': {
      const pid = parsePid(new TextDecoder().decode(data));
      if (pid === undefined) return undefined;
      return ipFamily(pid.host) !== 0
        ? { ip: pid.host, hostname: undefined, port: pid.port }
        : { ip: undefined, hostname: pid.host, port: pid.port };
    }
  }
}

/**
 * The base URL of a master: over http by IP (reaching the master needs no DNS, which may be
 * this very server), over https by hostname when known (certificates name hosts).
 */
export function masterUrl(address: MasterAddress, scheme: 'http' | 'https'): string {
  const host =
    scheme === 'https' ? (address.hostname ?? address.ip) : (address.ip ?? address.hostname);
  return `${scheme}://${hostPort(host ?? '', address.port)}`;
}
