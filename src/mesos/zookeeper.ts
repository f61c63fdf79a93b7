/**
 * Leader detection through ZooKeeper (`mesos.zk`), as Mesos' own detector does it
 * (docs/mesos-api.md 5): every master holds an ephemeral sequential znode in the group
 * (`/mesos/json.info_0000000012`); the member with the smallest sequence number leads. The
 * detector watches the group, reads the members' `MasterInfo` and reports the leader's address.
 * It survives ZooKeeper outages (the last known leader stays in use), reconnects, and starts a
 * new session when the old one expired.
 */
import type * as ZooKeeper from 'node-zookeeper-client';
import type { Client, Event } from 'node-zookeeper-client';
import { MesosDnsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LeaderDetector } from './leader.js';
import { originOf } from './leader.js';
import type { MasterAddress } from './master-info.js';
import { masterUrl, parseMasterInfo, parseMemberName } from './master-info.js';

/** Port of a ZooKeeper server written without one. */
export const DEFAULT_ZK_PORT = 2181;

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

/** Options of `ZkLeaderDetector`. */
export interface ZkDetectorOptions {
  /** `mesos.zk`. */
  readonly url: string;
  /** Scheme of the masters' HTTP API (`mesos.scheme`). */
  readonly scheme: 'http' | 'https';
  readonly logger: Logger;
  /** ZooKeeper session timeout; default 10 s. */
  readonly sessionTimeoutMs?: number;
  /**
   * Told each time the session connects, or is lost or expires: the URL (its credentials
   * redacted) and whether it is connected now.
   */
  readonly onConnection?: (zk: string, connected: boolean) => void;
}

/** The ZooKeeper session that finds the Mesos leader (`mesos.zk`), as the metrics show it. */
export interface ZooKeeperSession {
  /** `mesos.zk`, its credentials redacted (`zk://10.0.0.1:2181/mesos`). */
  readonly zk: string;
  readonly connected: boolean;
}

/** What this module uses of the ZooKeeper client. */
type ZooKeeperLib = Pick<typeof ZooKeeper, 'createClient' | 'Exception'>;
let zooKeeperLib: Promise<ZooKeeperLib> | undefined;

/**
 * Loads the ZooKeeper client on first use: configurations without `mesos.zk` never pay for it.
 * It is a CommonJS package: Node's own import lists its exports by name, the bundle in dist/
 * hands them over as `default`; either works.
 */
function loadZooKeeper(): Promise<ZooKeeperLib> {
  const loading =
    zooKeeperLib ??
    import('node-zookeeper-client').then((m): ZooKeeperLib =>
      typeof m.createClient === 'function' ? m : m.default,
    );
  zooKeeperLib = loading;
  return loading;
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
      this.#options.onConnection?.(redactZkUrl(this.#options.url), true);
      this.#list();
    });
    client.on('disconnected', () => {
      if (client !== this.#client || !this.#isConnected) return;
      this.#isConnected = false;
      this.#options.onConnection?.(redactZkUrl(this.#options.url), false);
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
      if (this.#isConnected) this.#options.onConnection?.(redactZkUrl(this.#options.url), false);
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
