import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

const HOST = '127.0.0.1';

/** A request the fake master received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/master/state`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** When it arrived (ms since the epoch). */
  readonly at: number;
  /** The status answered (undefined while hanging or delayed). */
  status?: number;
}

/** What the master does with the next requests (set by `fail`, `malformed`, `hang`, `reset`). */
type Mode =
  | { readonly kind: 'serve' }
  | { readonly kind: 'status'; readonly status: number; readonly body: string }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'truncated' }
  | { readonly kind: 'hang' };

/** A complete HTTP reply, a reply cut off half-way, or `hang` (never answer). */
type Reply =
  | {
      readonly kind: 'reply';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string;
      /** Send the headers and half the body, then drop the connection. */
      readonly isTruncated?: boolean;
    }
  | { readonly kind: 'hang' };

const SERVE: Mode = { kind: 'serve' };

/** Paths that serve the state document (libprocess delegate: `/state` ≡ `/master/state`). */
const STATE_PATHS: ReadonlySet<string> = new Set(['/master/state', '/state']);
/** Paths that always redirect to the leader's base URL. */
const REDIRECT_PATHS: ReadonlySet<string> = new Set(['/master/redirect', '/redirect']);

/** A minimal valid state document: a leader and nothing else. */
const EMPTY_STATE = {
  version: '1.11.0',
  leader: 'master@127.0.0.1:5050',
  pid: 'master@127.0.0.1:5050',
  slaves: [],
  frameworks: [],
  completed_frameworks: [],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textReply(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return {
    kind: 'reply',
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
    body,
  };
}

/** TLS settings of an HTTPS fake master (PEM text). */
export interface FakeMasterTls {
  readonly key: string;
  readonly cert: string;
  /** CA for client certificates; with `requestCert` a client without a valid one is refused. */
  readonly ca?: string;
  readonly requestCert?: boolean;
}

/** Options of `FakeMaster` (all optional). */
export interface FakeMasterOptions {
  /** Serve HTTPS with this key and certificate. */
  readonly tls?: FakeMasterTls;
  /** Require HTTP Basic auth with these credentials (401 otherwise, as Mesos does). */
  readonly auth?: { readonly principal: string; readonly secret: string };
  /** Gzip state replies for clients that accept it (default true, as libprocess does). */
  readonly gzip?: boolean;
  /** Host name used in `Location` headers and `leader_info.hostname` (default 127.0.0.1). */
  readonly hostname?: string;
}

/** Requests being answered at the same time, and the most seen at once. */
interface Concurrency {
  now: number;
  max: number;
}

/** The cluster a master belongs to (set by `FakeMasterCluster`). */
interface ClusterView {
  /** The elected leader, undefined when none is. */
  leader(): FakeMaster | undefined;
  /** Shared by the masters of the cluster. */
  readonly concurrency: Concurrency;
}

/**
 * A fake Mesos master: a node:http(s) server on 127.0.0.1 (kernel-chosen port) serving the v0
 * state API the way Mesos 1.x does (reference/mesos-api.md 1.1, 1.3).
 *
 * - `GET /master/state` and `GET /state` return the current state document as JSON, with
 *   `leader`, `pid`, `hostname` and `leader_info.{id,pid,port,hostname}` rewritten to point at
 *   the leader (`master@127.0.0.1:<port>`), so a client never follows a fixture's outside address
 *   (1.2.3.4, 10.0.0.11). A string state is served verbatim (no rewriting).
 * - In a `FakeMasterCluster`, a master that does not lead answers the read endpoints with
 *   **307** and a protocol-relative `Location: //<leader>:<port><path>`, and **503** `No leader
 *   elected` when there is no leader. `/master/redirect` (and `/redirect`) always answers 307 to
 *   the leader's base URL, also on the leader; 503 without a leader. A single master leads itself.
 * - `/master/state.json` and `/state.json` answer 404 (removed in Mesos 1.8); other paths 404;
 *   other methods on the state paths 405.
 * - Options: HTTPS (`tls`), Basic auth (`auth`, 401 otherwise), gzip for clients that accept it.
 * - Failure modes for tests: `fail(status)`, `malformed()`, `truncated()`, `delay(ms)`, `hang()`,
 *   `reset()`.
 *
 * Every request is counted (`requests`) and recorded (`requestLog`), whatever the mode.
 *
 * @example
 * const master = new FakeMaster(fixture);
 * await master.start();
 * t.teardown(() => master.close());
 * const srv = await startMesodns({ config: { mesos: { masters: [master.url] } } });
 */
export class FakeMaster {
  readonly #server: Server;
  readonly #options: FakeMasterOptions;
  readonly #log: RecordedRequest[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #state: unknown;
  #mode: Mode = SERVE;
  #delayMs = 0;
  #port: number | undefined;
  #id = randomUUID();
  #cluster: ClusterView | undefined;
  /** A stale follower's idea of the leader (overrides the cluster's), see `believeLeader`. */
  #believed: FakeMaster | undefined;
  #gzipped = 0;
  #isOldStyleFollower = false;
  #connections = 0;
  #concurrency: Concurrency = { now: 0, max: 0 };

  /** Creates a master that will serve `state` (default: an empty cluster). Call `start()`. */
  constructor(state: unknown = EMPTY_STATE, options: FakeMasterOptions = {}) {
    this.#state = state;
    this.#options = options;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.#handle(req, res);
    };
    const tls = options.tls;
    this.#server =
      tls === undefined
        ? createHttpServer(handler)
        : createHttpsServer(
            {
              key: tls.key,
              cert: tls.cert,
              ...(tls.ca === undefined ? {} : { ca: tls.ca }),
              requestCert: tls.requestCert === true,
              rejectUnauthorized: tls.requestCert === true,
            },
            handler,
          );
    this.#server.on(tls === undefined ? 'connection' : 'secureConnection', () => {
      this.#connections++;
    });
  }

  /** Listens on 127.0.0.1 with a kernel-chosen port (or `port`, e.g. to come back after `close`). */
  start(port = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, HOST, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** The listening port; throws before `start()`. */
  get port(): number {
    if (this.#port === undefined) {
      throw new Error('FakeMaster: not started');
    }
    return this.#port;
  }

  /** Base URL for `mesos.masters`, e.g. `http://127.0.0.1:41234` (`https://` with `tls`). */
  get url(): string {
    return `${this.scheme}://${HOST}:${this.port}`;
  }

  /** `http` or `https`. */
  get scheme(): 'http' | 'https' {
    return this.#options.tls === undefined ? 'http' : 'https';
  }

  /** The host name this master advertises (`Location`, `leader_info.hostname`). */
  get hostname(): string {
    return this.#options.hostname ?? HOST;
  }

  /** This master's libprocess PID, `master@127.0.0.1:<port>`. */
  get pid(): string {
    return `master@${HOST}:${this.port}`;
  }

  /** This master process's id (`leader_info.id`); `restartProcess()` gives a new one. */
  get id(): string {
    return this.#id;
  }

  /** Number of HTTP requests received so far (any path, any mode). */
  get requests(): number {
    return this.#log.length;
  }

  /** Every request received so far, oldest first (e.g. to check an Authorization header). */
  get requestLog(): readonly RecordedRequest[] {
    return this.#log;
  }

  /** Connections accepted so far (keep-alive reuses them). */
  get connections(): number {
    return this.#connections;
  }

  /** Most requests in progress at once (across the cluster when in one). */
  get maxInFlight(): number {
    return this.#concurrency.max;
  }

  /** State replies sent gzip-compressed so far. */
  get gzipped(): number {
    return this.#gzipped;
  }

  /** Whether this master leads: it does alone, or when its cluster elected it. */
  get isLeader(): boolean {
    return this.#leader() === this;
  }

  /** Replaces the state document served from now on (an object, or a string served verbatim). */
  setState(doc: unknown): void {
    this.#state = doc;
  }

  /** The state document served (the object itself: mutate it to change what is served). */
  get state(): unknown {
    return this.#state;
  }

  /** Answers every request with `status` (e.g. 500, or 503 as a master with no leader does). */
  fail(status = 503, body = status === 503 ? 'No leader elected' : 'Internal Server Error'): void {
    this.#mode = { kind: 'status', status, body };
  }

  /** Answers 200 with a truncated JSON body (a complete HTTP response that is not valid JSON). */
  malformed(): void {
    this.#mode = { kind: 'malformed' };
  }

  /** Sends the state's headers and half its body, then drops the connection. */
  truncated(): void {
    this.#mode = { kind: 'truncated' };
  }

  /** Delays every reply by `ms` (combines with the other modes; 0 turns it off). */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Accepts requests and never answers them (until `reset()` for new requests, or `close()`). */
  hang(): void {
    this.#mode = { kind: 'hang' };
  }

  /** Back to normal serving without delay. The state and the request log are kept. */
  reset(): void {
    this.#mode = SERVE;
    this.#delayMs = 0;
  }

  /**
   * Makes this master redirect to `leader` whatever the cluster says (a follower that has not
   * noticed a newer election yet); `undefined` follows the cluster again.
   */
  believeLeader(leader: FakeMaster | undefined): void {
    this.#believed = leader;
  }

  /**
   * Makes this master, when it does not lead, answer the state itself with `leader` naming the
   * leader instead of redirecting (masters before Mesos 0.27 did; clients follow the field).
   */
  answerAsFollower(on = true): void {
    this.#isOldStyleFollower = on;
  }

  /** Gives this master a new process id, as a restart of the master process does. */
  restartProcess(): void {
    this.#id = randomUUID();
  }

  /** Joins a cluster (used by `FakeMasterCluster`). */
  joinCluster(cluster: ClusterView): void {
    this.#cluster = cluster;
    this.#concurrency = cluster.concurrency;
  }

  /** Stops listening, drops open connections (hung requests included) and pending delays. */
  async close(): Promise<void> {
    for (const timer of this.#timers) {
      clearTimeout(timer);
    }
    this.#timers.clear();
    if (!this.#server.listening) {
      return;
    }
    const closed = new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
    this.#server.closeAllConnections();
    await closed;
  }

  #leader(): FakeMaster | undefined {
    if (this.#believed !== undefined) return this.#believed;
    return this.#cluster === undefined ? this : this.#cluster.leader();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const entry: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      at: Date.now(),
    };
    this.#log.push(entry);
    const concurrency = this.#concurrency;
    concurrency.now++;
    concurrency.max = Math.max(concurrency.max, concurrency.now);
    let isDone = false;
    const done = (): void => {
      if (!isDone) {
        isDone = true;
        concurrency.now--;
      }
    };
    res.once('finish', done);
    res.once('close', done);
    // Drain the request body so keep-alive connections stay usable.
    req.resume();
    const reply = this.#reply(req);
    if (reply.kind === 'hang') {
      return;
    }
    const send = (): void => {
      if (res.destroyed) {
        return;
      }
      entry.status = reply.status;
      let body: Buffer = Buffer.from(reply.body);
      const headers: Record<string, string> = { ...reply.headers };
      const accepts = req.headers['accept-encoding'] ?? '';
      if (
        reply.status === 200 &&
        this.#options.gzip !== false &&
        /\bgzip\b/.test(accepts) &&
        headers['content-type'] === 'application/json'
      ) {
        body = gzipSync(body);
        headers['content-encoding'] = 'gzip';
        this.#gzipped++;
      }
      res.writeHead(reply.status, { ...headers, 'content-length': String(body.length) });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      if (reply.isTruncated === true) {
        res.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))), () => {
          res.destroy();
        });
        return;
      }
      res.end(body);
    };
    if (this.#delayMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      send();
    }, this.#delayMs);
    this.#timers.add(timer);
  }

  /** Decides the reply: failure modes, auth, leadership (503/307), then the routes. */
  #reply(req: IncomingMessage): Reply {
    switch (this.#mode.kind) {
      case 'hang':
        return { kind: 'hang' };
      case 'status':
        return textReply(this.#mode.status, this.#mode.body);
      case 'malformed':
      case 'truncated':
      case 'serve':
        break;
    }
    const auth = this.#options.auth;
    if (auth !== undefined) {
      const expected = `Basic ${Buffer.from(`${auth.principal}:${auth.secret}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        return textReply(401, '', { 'www-authenticate': 'Basic realm="mesos"' });
      }
    }
    const target = new URL(req.url ?? '/', 'http://fake');
    const path = target.pathname;
    const isState = STATE_PATHS.has(path);
    const isRedirect = REDIRECT_PATHS.has(path);
    if (!isState && !isRedirect) {
      return textReply(404, '');
    }
    const leader = this.#leader();
    if (leader === undefined) {
      return textReply(503, 'No leader elected');
    }
    if (isRedirect) {
      // Always 307 to the base URL, also on the leader (no path: avoids loops).
      return textReply(307, '', { location: `//${leader.hostname}:${leader.port}` });
    }
    if (leader !== this && !this.#isOldStyleFollower) {
      return textReply(307, '', {
        location: `//${leader.hostname}:${leader.port}${path}${target.search}`,
      });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return textReply(405, '');
    }
    const json = this.#renderState(leader);
    if (this.#mode.kind === 'truncated') {
      return {
        kind: 'reply',
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: json,
        isTruncated: true,
      };
    }
    const body =
      this.#mode.kind === 'malformed'
        ? json.slice(0, Math.max(1, Math.floor(json.length / 2)))
        : json;
    return { kind: 'reply', status: 200, headers: { 'content-type': 'application/json' }, body };
  }

  /** The state as JSON text, with `pid` naming this master and the leader fields `leader`. */
  #renderState(leader: FakeMaster): string {
    const state = this.#state;
    if (typeof state === 'string') {
      return state;
    }
    if (!isRecord(state)) {
      return JSON.stringify(state);
    }
    const rewritten: Record<string, unknown> = {
      ...state,
      id: this.#id,
      leader: leader.pid,
      pid: this.pid,
    };
    if ('hostname' in state) {
      rewritten['hostname'] = this.hostname;
    }
    rewritten['leader_info'] = {
      ...(isRecord(state['leader_info']) ? state['leader_info'] : {}),
      id: leader.id,
      pid: leader.pid,
      port: leader.port,
      hostname: leader.hostname,
    };
    return JSON.stringify(rewritten);
  }
}

/** A task to add with `FakeMasterCluster.addTask`: what matters for DNS. */
export interface FakeTask {
  /** Task name (the DNS label). */
  readonly name: string;
  /** Task id; default `<name>.<uuid>`. */
  readonly id?: string;
  /** Agent id (`slaves[].id`); default the first agent. */
  readonly agentId?: string;
  /** Framework name; default the first framework. */
  readonly framework?: string;
  /** Container IP reported in the RUNNING status; default none (the agent's address is used). */
  readonly ip?: string;
  /** Host ports, e.g. `[31000]`. */
  readonly ports?: readonly number[];
}

/** Options of `FakeMasterCluster`. */
export interface FakeClusterOptions extends FakeMasterOptions {
  /** Number of masters; default 3. */
  readonly size?: number;
  /** The state document (an object, shared by every master); default an empty cluster. */
  readonly state?: unknown;
  /** Index of the first leader; default 0; `null`: no leader at start. */
  readonly leader?: number | null;
}

/**
 * Several fake masters forming one Mesos cluster: one leader (or none), followers answering 307
 * to it, one shared state document. Tests fail the leader over, take the leader away, add and
 * kill tasks; each master keeps its own failure modes (`cluster.masters[i].hang()`).
 *
 * @example
 * const cluster = new FakeMasterCluster({ state: syntheticState({ tasks: 100 }) });
 * await cluster.start();
 * t.teardown(() => cluster.close());
 * cluster.failover(1);
 */
export class FakeMasterCluster {
  /** The masters, in creation order. */
  readonly masters: readonly FakeMaster[];
  #leader: FakeMaster | undefined;
  #state: unknown;
  readonly #concurrency: Concurrency = { now: 0, max: 0 };

  /** Creates the masters (call `start()`). */
  constructor(options: FakeClusterOptions = {}) {
    const size = options.size ?? 3;
    this.#state = options.state ?? structuredClone(EMPTY_STATE);
    const view: ClusterView = { leader: () => this.#leader, concurrency: this.#concurrency };
    this.masters = Array.from({ length: size }, () => {
      const master = new FakeMaster(this.#state, options);
      master.joinCluster(view);
      return master;
    });
    const first = options.leader === undefined ? 0 : options.leader;
    this.#leader = first === null ? undefined : this.masters[first];
  }

  /** Starts every master. */
  async start(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.start()));
  }

  /** Base URLs of all masters, for `mesos.masters`. */
  get urls(): string[] {
    return this.masters.map((m) => m.url);
  }

  /** Most requests in progress at once on all masters together. */
  get maxInFlight(): number {
    return this.#concurrency.max;
  }

  /** Every request received by any master, oldest first, with the master's index. */
  requestsOf(): { readonly master: number; readonly request: RecordedRequest }[] {
    return this.masters
      .flatMap((m, master) => m.requestLog.map((request) => ({ master, request })))
      .sort((a, b) => a.request.at - b.request.at);
  }

  /** The leader, undefined when there is none. */
  get leader(): FakeMaster | undefined {
    return this.#leader;
  }

  /** The master at `index` (throws when out of range). */
  master(index: number): FakeMaster {
    const m = this.masters[index];
    if (m === undefined) throw new Error(`FakeMasterCluster: no master ${String(index)}`);
    return m;
  }

  /**
   * Elects another leader: `to` (an index), or the next master after the current leader. With
   * `state`, the new leader serves that document (e.g. a partial one, as a freshly elected
   * master whose agents have not re-registered yet).
   */
  failover(to?: number, state?: unknown): FakeMaster {
    const current = this.#leader === undefined ? -1 : this.masters.indexOf(this.#leader);
    const next = this.master(to ?? (current + 1) % this.masters.length);
    this.#leader = next;
    if (state !== undefined) this.setState(state);
    return next;
  }

  /** No leader at all: every master answers 503 "No leader elected". */
  noLeader(): void {
    this.#leader = undefined;
  }

  /** Replaces the state document of every master. */
  setState(doc: unknown): void {
    this.#state = doc;
    for (const m of this.masters) m.setState(doc);
  }

  /** The shared state document (mutable). */
  get state(): unknown {
    return this.#state;
  }

  /** Adds a TASK_RUNNING task to the shared state; returns its id (see `addTask`). */
  addTask(task: FakeTask): string {
    return addTask(this.#state, task);
  }

  /** Marks a task of the shared state TASK_KILLED (see `killTask`). */
  killTask(id: string): boolean {
    return killTask(this.#state, id);
  }

  /** Closes every master. */
  async close(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.close()));
  }
}

function stateRecord(doc: unknown): Record<string, unknown> {
  if (!isRecord(doc)) throw new Error('fake master: the state is not an object');
  return doc;
}

/**
 * Adds a TASK_RUNNING task to a state document (mutated in place) and returns its id: on the
 * named framework (default the first) and agent (default the first), with the container IP in
 * the RUNNING status when `ip` is given.
 */
export function addTask(doc: unknown, task: FakeTask): string {
  const state = stateRecord(doc);
  const frameworks = Array.isArray(state['frameworks']) ? state['frameworks'] : [];
  const framework = frameworks.find(
    (f): f is Record<string, unknown> =>
      isRecord(f) && (task.framework === undefined || f['name'] === task.framework),
  );
  if (framework === undefined) throw new Error(`FakeMasterCluster: no framework to add to`);
  const agents = Array.isArray(state['slaves']) ? state['slaves'] : [];
  const firstAgent: unknown = agents[0];
  const agentId =
    task.agentId ??
    (isRecord(firstAgent) && typeof firstAgent['id'] === 'string' ? firstAgent['id'] : 'S0');
  const id = task.id ?? `${task.name}.${randomUUID()}`;
  const ports = task.ports ?? [];
  const tasks = Array.isArray(framework['tasks']) ? framework['tasks'] : [];
  tasks.push({
    id,
    name: task.name,
    framework_id: framework['id'],
    executor_id: '',
    slave_id: agentId,
    state: 'TASK_RUNNING',
    resources: {
      cpus: 0.1,
      disk: 0,
      gpus: 0,
      mem: 32,
      ...(ports.length > 0 ? { ports: `[${ports.map((p) => `${p}-${p}`).join(', ')}]` } : {}),
    },
    role: '*',
    statuses: [
      {
        state: 'TASK_RUNNING',
        timestamp: Date.now() / 1000,
        ...(task.ip === undefined
          ? {}
          : {
              container_status: {
                network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: task.ip }] }],
              },
            }),
      },
    ],
  });
  framework['tasks'] = tasks;
  return id;
}

/** Marks a task TASK_KILLED (it stays listed until acknowledged, as in Mesos); false if absent. */
export function killTask(doc: unknown, id: string): boolean {
  const state = stateRecord(doc);
  const frameworks = Array.isArray(state['frameworks']) ? state['frameworks'] : [];
  for (const framework of frameworks) {
    if (!isRecord(framework) || !Array.isArray(framework['tasks'])) continue;
    for (const task of framework['tasks']) {
      if (!isRecord(task) || task['id'] !== id) continue;
      task['state'] = 'TASK_KILLED';
      const statuses = Array.isArray(task['statuses']) ? task['statuses'] : [];
      statuses.push({ state: 'TASK_KILLED', timestamp: Date.now() / 1000 });
      task['statuses'] = statuses;
      return true;
    }
  }
  return false;
}
