/**
 * Leader detection through ZooKeeper (`mesos.zk`), as Mesos' own detector does it
 * (docs/mesos-api.md 5): every master holds an ephemeral sequential znode in the group
 * (`/mesos/json.info_0000000012`); the member with the smallest sequence number leads. The
 * detector watches the group, reads the members' `MasterInfo` and reports the leader's address.
 * It survives ZooKeeper outages (the last known leader stays in use), reconnects, and starts a
 * new session when the old one expired.
 */
import { isIP } from 'node:net';
import type * as ZooKeeper from 'node-zookeeper-client';
import type { Client, Event } from 'node-zookeeper-client';
import { MesosDnsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LeaderDetector } from './leader.js';
import { hostPort, originOf } from './leader.js';
import { parsePid } from './parse.js';
import { isRecord } from '../is-record.js';

/** Port of a ZooKeeper server written without one. */
export const DEFAULT_ZK_PORT = 2181;

/** Port of a master whose legacy `MasterInfo` omits it (the proto default). */
const DEFAULT_MASTER_PORT = 5050;

/** A parsed `zk://[user:password@]host[:port],.../path` URL. */
export interface ZkUrl {
  /** `host:port,host:port` for the ZooKeeper client (no chroot). */
  readonly servers: string;
  /** The masters' group znode, e.g. `/mesos`. */
  readonly path: string;
  /** `user:password` for the `digest` scheme, when the URL carries credentials. */
  readonly digest: string | undefined;
}

/** Parses a ZooKeeper URL; throws `ERR_CONFIG_INVALID` for a form the client cannot use. */
export function parseZkUrl(url: string): ZkUrl {
  const match = /^zk:\/\/(?:([^@/]*)@)?([^/]+)(\/.*)$/.exec(url.trim());
  const hosts = match?.[2];
  const path = match?.[3]?.replace(/\/+$/, '');
  if (hosts === undefined || path === undefined || path === '') {
    throw new MesosDnsError('ERR_CONFIG_INVALID', `mesos.zk: '${url}' is not zk://host:port/path`);
  }
  const servers = hosts.split(',').map((entry) => {
    if (entry.startsWith('[') || entry.split(':').length > 2) {
      throw new MesosDnsError(
        'ERR_CONFIG_INVALID',
        `mesos.zk: IPv6 server '${entry}' is not supported by the ZooKeeper client; use a hostname`,
      );
    }
    return entry.includes(':') ? entry : `${entry}:${String(DEFAULT_ZK_PORT)}`;
  });
  const digest = match?.[1];
  return { servers: servers.join(','), path, digest: digest === '' ? undefined : digest };
}

/** The URL with any password replaced, for logs. */
export function redactZkUrl(url: string): string {
  return url.replace(/^(zk:\/\/[^:@/]*:)[^@/]*@/, '$1******@');
}

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
  const addressIp = address?.ip !== undefined && isIP(address.ip) !== 0 ? address.ip : undefined;
  const pid = fields.pid === undefined ? undefined : parsePid(fields.pid);
  const pidIp = pid !== undefined && isIP(pid.host) !== 0 ? pid.host : undefined;
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
      return isIP(pid.host) !== 0
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

/** Options of `ZkLeaderDetector`. */
export interface ZkDetectorOptions {
  /** `mesos.zk`. */
  readonly url: string;
  /** Scheme of the masters' HTTP API (`mesos.scheme`). */
  readonly scheme: 'http' | 'https';
  readonly logger: Logger;
  /** ZooKeeper session timeout; default 10 s. */
  readonly sessionTimeoutMs?: number;
}

type ZooKeeperLib = typeof ZooKeeper;
let zooKeeperLib: Promise<ZooKeeperLib> | undefined;

/** Loads the ZooKeeper client on first use: configurations without `mesos.zk` never pay for it. */
function loadZooKeeper(): Promise<ZooKeeperLib> {
  zooKeeperLib ??= import('node-zookeeper-client');
  return zooKeeperLib;
}

/** Whether `err` is a ZooKeeper exception with `code` (e.g. NO_NODE). */
function isException(err: unknown, code: number): boolean {
  if (typeof err !== 'object' || err === null || !('getCode' in err)) return false;
  const getCode: unknown = err.getCode;
  return typeof getCode === 'function' && getCode.call(err) === code;
}

function getData(client: Client, path: string, noNode: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    client.getData(path, (err, data) => {
      if (err !== null) {
        if (isException(err, noNode)) resolve(undefined);
        else reject(err instanceof Error ? err : new Error(err.toString()));
        return;
      }
      resolve(data instanceof Uint8Array ? data : new Uint8Array());
    });
  });
}

interface Known {
  readonly leader: MasterAddress | undefined;
  readonly leaderUrl: string | undefined;
  readonly members: readonly MasterAddress[];
}

/**
 * Detects the leading master through ZooKeeper. Any change of the leader calls `onChange`
 * (the poller then fetches at once). While ZooKeeper is unreachable the last known leader stays
 * in use; a lost connection is resumed by the client, an expired session is replaced.
 */
export class ZkLeaderDetector implements LeaderDetector {
  readonly #options: ZkDetectorOptions;
  readonly #zk: ZkUrl;
  readonly #ready: Promise<void>;
  #resolveReady: () => void = () => undefined;
  #client: Client | undefined;
  #lib: ZooKeeperLib | undefined;
  #onChange: () => void = () => undefined;
  #known: Known = { leader: undefined, leaderUrl: undefined, members: [] };
  /** A base URL that served the state as leader since ZooKeeper last named one. */
  #preferred: string | undefined;
  #generation = 0;
  #isConnected = false;
  #hasConnected = false;
  #isClosed = false;
  #unreachableTimer: NodeJS.Timeout | undefined;
  #problem: string | undefined;
  readonly #watch = (event: Event): void => {
    this.#options.logger.debug('ZooKeeper watch fired', { event: event.getName() });
    this.#list();
  };

  /** Creates the detector; throws `ERR_CONFIG_INVALID` for a URL the client cannot use. */
  constructor(options: ZkDetectorOptions) {
    this.#options = options;
    this.#zk = parseZkUrl(options.url);
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  start(onChange: () => void): void {
    this.#onChange = onChange;
    void loadZooKeeper().then(
      (lib) => {
        this.#lib = lib;
        this.#connect();
      },
      (err: unknown) => {
        this.#options.logger.error('cannot load the ZooKeeper client', {
          error: err instanceof Error ? err.message : String(err),
        });
        this.#resolveReady();
      },
    );
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  candidates(): readonly string[] {
    const { leaderUrl, members } = this.#known;
    if (leaderUrl === undefined) return [];
    const urls = [this.#preferred, leaderUrl, ...members.map((m) => this.#url(m))];
    return [...new Set(urls.filter((u) => u !== undefined))];
  }

  noteLeader(url: string): void {
    this.#preferred = url === this.#known.leaderUrl ? undefined : url;
  }

  vouchesFor(origin: string): boolean {
    // Not `#preferred`: that is whoever last served the state, possibly through a redirect.
    const { leaderUrl, members } = this.#known;
    return [leaderUrl, ...members.map((m) => this.#url(m))].some(
      (u) => u !== undefined && originOf(u) === origin,
    );
  }

  masters(): readonly string[] | undefined {
    const hosts = this.#known.members.map((m) => m.ip ?? m.hostname).filter((h) => h !== undefined);
    return hosts.length > 0 ? hosts : undefined;
  }

  describe(): string {
    return `ZooKeeper ${redactZkUrl(this.#options.url)}`;
  }

  /** The leader's base URL as ZooKeeper last reported it. */
  get leaderUrl(): string | undefined {
    return this.#known.leaderUrl;
  }

  /** Whether the ZooKeeper session is connected now. */
  get connected(): boolean {
    return this.#isConnected;
  }

  close(): Promise<void> {
    this.#isClosed = true;
    clearTimeout(this.#unreachableTimer);
    this.#client?.close();
    this.#client = undefined;
    this.#resolveReady();
    return Promise.resolve();
  }

  #url(address: MasterAddress): string {
    return masterUrl(address, this.#options.scheme);
  }

  #connect(): void {
    const lib = this.#lib;
    if (this.#isClosed || lib === undefined) return;
    const { logger, sessionTimeoutMs = 10_000 } = this.#options;
    const client = lib.createClient(this.#zk.servers, {
      sessionTimeout: sessionTimeoutMs,
      spinDelay: 500,
      retries: 1,
    });
    this.#client = client;
    if (this.#zk.digest !== undefined) client.addAuthInfo('digest', Buffer.from(this.#zk.digest));
    client.on('connected', () => {
      if (client !== this.#client) return;
      clearTimeout(this.#unreachableTimer);
      if (this.#hasConnected && !this.#isConnected) {
        logger.info('ZooKeeper connection restored', { zk: this.describe() });
      }
      this.#isConnected = true;
      this.#hasConnected = true;
      this.#list();
    });
    client.on('disconnected', () => {
      if (client !== this.#client || !this.#isConnected) return;
      this.#isConnected = false;
      logger.warn('ZooKeeper connection lost; polling the last known leader meanwhile', {
        zk: this.describe(),
        leader: this.#known.leaderUrl ?? 'none',
      });
      // Past the session timeout the session is gone anyway; a server that lost its data even
      // refuses the old session forever ("client has seen zxid ..."): start a new one.
      clearTimeout(this.#unreachableTimer);
      this.#unreachableTimer = setTimeout(() => {
        if (client !== this.#client || this.#isConnected) return;
        logger.warn('ZooKeeper unreachable for the session timeout; starting a new session', {
          zk: this.describe(),
        });
        client.close();
        this.#connect();
      }, sessionTimeoutMs);
    });
    client.on('expired', () => {
      if (client !== this.#client) return;
      this.#isConnected = false;
      logger.warn('ZooKeeper session expired; starting a new session', { zk: this.describe() });
      client.close();
      this.#connect();
    });
    client.on('authenticationFailed', () => {
      if (client !== this.#client) return;
      logger.error('ZooKeeper authentication failed (check the credentials in mesos.zk)', {
        zk: this.describe(),
      });
    });
    clearTimeout(this.#unreachableTimer);
    this.#unreachableTimer = setTimeout(() => {
      if (client !== this.#client || this.#isConnected) return;
      logger.warn('cannot reach ZooKeeper yet; still trying', { zk: this.describe() });
      // Let the poller report "no leader" rather than wait for ZooKeeper forever.
      this.#resolveReady();
    }, sessionTimeoutMs);
    client.connect();
  }

  /** Lists the group and reads its members (a newer listing supersedes an older one). */
  #list(): void {
    const client = this.#client;
    const lib = this.#lib;
    if (client === undefined || lib === undefined || this.#isClosed) return;
    const generation = ++this.#generation;
    const { path } = this.#zk;
    client.getChildren(path, this.#watch, (err, children) => {
      if (generation !== this.#generation || client !== this.#client) return;
      if (err !== null) {
        if (isException(err, lib.Exception.NO_NODE)) {
          // The group does not exist (yet): wait for it to appear.
          client.exists(path, this.#watch, (existsErr, stat) => {
            // The typings say Stat, but a missing znode gives null.
            const found: unknown = stat;
            if (existsErr === null && found != null && generation === this.#generation) {
              this.#list();
            }
          });
          this.#update([], undefined, `znode ${path} does not exist`);
        } else {
          // Connection loss and the like: the 'connected' event lists again.
          this.#options.logger.debug('ZooKeeper listing failed', { error: err.toString() });
        }
        return;
      }
      void this.#readMembers(client, generation, children, lib.Exception.NO_NODE);
    });
  }

  async #readMembers(
    client: Client,
    generation: number,
    children: string[],
    noNode: number,
  ): Promise<void> {
    const members = children
      .map(parseMemberName)
      .filter((m) => m !== undefined)
      .sort((a, b) => a.sequence - b.sequence);
    const leader = members[0];
    if (leader === undefined) {
      this.#update([], undefined, 'no master is registered');
      return;
    }
    let datas: (Uint8Array | undefined)[];
    try {
      datas = await Promise.all(
        members.map((m) => getData(client, `${this.#zk.path}/${m.name}`, noNode)),
      );
    } catch (err) {
      this.#options.logger.debug('ZooKeeper read failed', {
        error: err instanceof Error ? err.message : String(err),
      });
      return; // connection trouble: 'connected' lists again
    }
    if (generation !== this.#generation || client !== this.#client) return;
    if (datas[0] === undefined) {
      this.#list(); // the leader's znode vanished between list and read: elect again
      return;
    }
    const addresses: MasterAddress[] = [];
    let leaderAddress: MasterAddress | undefined;
    members.forEach((m, i) => {
      const data = datas[i];
      const address = data === undefined ? undefined : parseMasterInfo(m.format, data);
      if (address !== undefined) addresses.push(address);
      if (i === 0) leaderAddress = address;
    });
    this.#update(
      addresses,
      leaderAddress,
      leaderAddress === undefined ? `the leader's znode ${leader.name} is unreadable` : undefined,
    );
  }

  #update(
    members: readonly MasterAddress[],
    leader: MasterAddress | undefined,
    problem: string | undefined,
  ): void {
    const { logger } = this.#options;
    const leaderUrl = leader === undefined ? undefined : this.#url(leader);
    const previous = this.#known.leaderUrl;
    this.#known = { leader, leaderUrl, members };
    if (leaderUrl !== previous) {
      this.#preferred = undefined;
      if (leaderUrl !== undefined) {
        logger.info('ZooKeeper names the Mesos leader', {
          leader: leaderUrl,
          masters: members.length,
        });
      } else {
        logger.warn('ZooKeeper names no Mesos leader', { zk: this.describe(), why: problem });
      }
      this.#onChange();
    } else if (problem !== undefined && problem !== this.#problem) {
      logger.warn('ZooKeeper names no Mesos leader', { zk: this.describe(), why: problem });
    }
    this.#problem = problem;
    this.#resolveReady();
  }
}
