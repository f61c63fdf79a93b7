/**
 * Leader detection: whom to ask for the state. `StaticMasters` works from the configured list
 * (the last master that served the state first); `ZkLeaderDetector` (zookeeper.ts) watches the
 * masters' ZooKeeper group. Both give the poller an ordered list of base URLs to try; redirects
 * and the state's own `leader` field do the rest (docs/mesos-api.md 1, 5).
 */
import { ipFamily } from '../net/ip.js';
import { parsePid } from './parse.js';
import { isRecord } from '../is-record.js';

/** Where the poller finds the leading master. */
export interface LeaderDetector {
  /** Starts detecting; `onChange` is called whenever the detected leader changes. */
  start(onChange: () => void): void;
  /** Resolves once a first answer is known (at once for a static list). */
  ready(): Promise<void>;
  /** Base URLs to try, in order (the presumed leader first); empty when no leader is known. */
  candidates(): readonly string[];
  /** Tells the detector which base URL just served the state as the leader. */
  noteLeader(url: string): void;
  /** Hosts of every known master for the master records, or undefined to use the config. */
  masters(): readonly string[] | undefined;
  /**
   * Whether the detector itself names `origin` (`scheme://host:port`) as a master: a configured
   * master, or one that ZooKeeper lists, over the configured scheme. Only those are sent the
   * credentials; a host named only by a redirect or by a state's `leader` field is not.
   */
  vouchesFor(origin: string): boolean;
  /** A short description for messages (`mesos.masters`, `ZooKeeper zk://.../mesos`). */
  describe(): string;
  close(): Promise<void>;
}

/** The origin (`http://10.0.0.1:5050`) of a base URL, undefined when it is not a URL. */
export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** What a state document says about leadership (all optional: old masters omit fields). */
export interface LeaderFacts {
  /** `leader`: the leading master's pid, `master@ip:port`. */
  readonly leader: string | undefined;
  /** `pid`: the answering master's own pid. */
  readonly self: string | undefined;
  /** `leader_info.id`: the leading master process's id (changes when it restarts). */
  readonly leaderId: string | undefined;
  /** `leader_info.hostname`. */
  readonly leaderHostname: string | undefined;
}

function stringField(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Reads the leadership fields of an untrusted state document. */
export function leaderFacts(doc: unknown): LeaderFacts {
  if (!isRecord(doc)) {
    return { leader: undefined, self: undefined, leaderId: undefined, leaderHostname: undefined };
  }
  const info = isRecord(doc.leader_info) ? doc.leader_info : {};
  return {
    leader: stringField(doc, 'leader'),
    self: stringField(doc, 'pid'),
    leaderId: stringField(info, 'id'),
    leaderHostname: stringField(info, 'hostname'),
  };
}

/**
 * Identity of the leading master process, for "did the leader change": its pid plus its id when
 * known (a master restarted on the same address gets a new id, and an empty state).
 */
export function leaderKey(facts: LeaderFacts): string | undefined {
  if (facts.leader === undefined) return undefined;
  return facts.leaderId === undefined ? facts.leader : `${facts.leader} ${facts.leaderId}`;
}

/** `host:port` with brackets around an IPv6 host. */
export function hostPort(host: string, port: number): string {
  return ipFamily(host) === 6 ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}

/**
 * The base URL of the leader named by `facts`, when the document came from another master
 * (`via` is the base URL that answered); undefined when the answering master leads or the
 * document does not say. Over http the leader is addressed by the IP of its pid (no DNS needed);
 * over https by `leader_info.hostname` when known, since certificates name hosts.
 */
export function otherLeaderUrl(facts: LeaderFacts, via: string): string | undefined {
  if (facts.leader === undefined) return undefined;
  const pid = parsePid(facts.leader);
  if (pid === undefined) return undefined;
  const viaUrl = new URL(via);
  if (facts.self !== undefined) {
    if (facts.self === facts.leader) return undefined;
  } else {
    // Old masters omit `pid`: compare the leader's address with the one we asked.
    const host = viaUrl.hostname.replace(/^\[|\]$/g, '');
    const port = viaUrl.port === '' ? (viaUrl.protocol === 'https:' ? 443 : 80) : +viaUrl.port;
    const isSameHost = host === pid.host || host === facts.leaderHostname;
    if (isSameHost && port === pid.port) return undefined;
    if (ipFamily(host) === 0 && facts.leaderHostname === undefined) return undefined; // cannot tell
  }
  const host =
    viaUrl.protocol === 'https:' && facts.leaderHostname !== undefined
      ? facts.leaderHostname
      : pid.host;
  return `${viaUrl.protocol}//${hostPort(host, pid.port)}`;
}

/**
 * Leader detection from `mesos.masters`: every configured master is a candidate, the one that
 * last served the state (possibly reached through a redirect) first.
 */
export class StaticMasters implements LeaderDetector {
  readonly #masters: readonly string[];
  readonly #origins: ReadonlySet<string>;
  #leader: string | undefined;

  /** Creates the detector for base URLs such as `http://10.0.0.1:5050`. */
  constructor(masters: readonly string[]) {
    this.#masters = masters;
    this.#origins = new Set(masters.map(originOf).filter((o) => o !== undefined));
  }

  start(): void {
    // Nothing to watch: a static list never changes by itself.
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  candidates(): readonly string[] {
    const leader = this.#leader;
    if (leader === undefined) return this.#masters;
    return [leader, ...this.#masters.filter((m) => m !== leader)];
  }

  noteLeader(url: string): void {
    this.#leader = url;
  }

  masters(): readonly string[] | undefined {
    return undefined;
  }

  vouchesFor(origin: string): boolean {
    return this.#origins.has(origin);
  }

  describe(): string {
    return 'mesos.masters';
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
