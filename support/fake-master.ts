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
import {
  isTerminalState,
  toV1Agent,
  toV1Framework,
  toV1FrameworkInfo,
  toV1State,
  toV1Task,
  toV1TaskStatus,
  type TaskState,
} from './v1-state.js';
import { isRecord } from '../src/is-record.js';
import { onFreshPort } from './daemon.js';
import { V1TaskTexts, v1StateJson } from './v1-state-json.js';

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
  /** The v1 call type of a `POST /api/v1` with a readable body (`SUBSCRIBE`, `GET_STATE`, ...). */
  callType?: string;
  /** A SUBSCRIBE stream: when its connection closed (ms since the epoch). */
  endedAt?: number;
}

/**
 * What SUBSCRIBE streams send after their SUBSCRIBED record (`FakeMaster.afterSnapshot`):
 * `trickle`, one byte every `everyMs` of a record that never completes (never silent, never
 * progressing); `garbage`, bytes that are not RecordIO, sent once the client asked `GET_MASTER`
 * (mesodns does right after reading SUBSCRIBED), so that they never share a read with the
 * snapshot. Neither sends heartbeats or events.
 */
export type AfterSnapshot =
  { readonly kind: 'trickle'; readonly everyMs: number } | { readonly kind: 'garbage' };

/** What the master does with the next requests (set by `fail`, `malformed`, `hang`, `reset`). */
type Mode =
  | { readonly kind: 'serve' }
  | { readonly kind: 'status'; readonly status: number; readonly body: string }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'truncated' }
  | { readonly kind: 'hang' };

/** A complete HTTP reply (or one cut off half-way). */
interface HttpReply {
  readonly kind: 'reply';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Send the headers and half the body, then drop the connection. */
  readonly isTruncated?: boolean;
}

/** A reply, `hang` (never answer), or `v1` (checks passed: read the body and answer the call). */
type Reply = HttpReply | { readonly kind: 'hang' } | { readonly kind: 'v1' };

const SERVE: Mode = { kind: 'serve' };

/** Paths that serve the state document (libprocess delegate: `/state` ≡ `/master/state`). */
const STATE_PATHS: ReadonlySet<string> = new Set(['/master/state', '/state']);
const SUMMARY_PATHS: ReadonlySet<string> = new Set(['/master/state-summary', '/state-summary']);
/** Paths that always redirect to the leader's base URL. */
const REDIRECT_PATHS: ReadonlySet<string> = new Set(['/master/redirect', '/redirect']);
/** Paths of the v1 operator API (libprocess delegate: `/api/v1` ≡ `/master/api/v1`). */
const V1_PATHS: ReadonlySet<string> = new Set(['/master/api/v1', '/api/v1']);
/** The path a follower redirects v1 calls to (the delegate-rewritten one, reference 1.4). */
const V1_REDIRECT_PATH = '/master/api/v1';
/** Mesos' `DEFAULT_HEARTBEAT_INTERVAL` for operator event streams. */
const DEFAULT_HEARTBEAT_SECONDS = 15;
/** `MasterInfo.ip` of 127.0.0.1: the address bytes in network order read as a uint32. */
const PACKED_HOST_IP = Buffer.from([127, 0, 0, 1]).readUInt32LE(0);

/** A minimal valid state document: a leader and nothing else. */
const EMPTY_STATE = {
  version: '1.11.0',
  leader: 'master@127.0.0.1:5050',
  pid: 'master@127.0.0.1:5050',
  slaves: [],
  frameworks: [],
  completed_frameworks: [],
};

function textReply(status: number, body: string, headers: Record<string, string> = {}): HttpReply {
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
  /** Serve the v1 operator API on `/api/v1` (default true); false answers 404 (Mesos < 1.0). */
  readonly v1?: boolean;
  /** Interval of HEARTBEAT records on SUBSCRIBE streams, in seconds (default 15, as Mesos). */
  readonly heartbeatSeconds?: number;
  /**
   * Write every stream record in pieces of this many bytes, one per event-loop turn, so that
   * record boundaries fall inside length prefixes, JSON and UTF-8 sequences (default: whole).
   */
  readonly chunkBytes?: number;
  /**
   * Keep each task's v1 JSON for the next SUBSCRIBED snapshot while the task keeps its state
   * and statuses (support/v1-state-json.ts `V1TaskTexts`): for benchmarks that subscribe again
   * and again to a large cluster they change only through the fake's methods. Default false.
   */
  readonly cacheTaskJson?: boolean;
}

/** Options of `FakeMaster.updateTask`. */
export interface FakeTaskUpdate {
  /**
   * Container IP of the new status; `null`: no container status; default: the previous
   * status's `container_status` again (the agent fills it on every update of a live container).
   */
  readonly ip?: string | null;
  /** Health check result carried by the status. */
  readonly healthy?: boolean;
  /**
   * State of the TASK_UPDATED event's `status` (the last one the scheduler acknowledged) when it
   * lags behind the event's `state` (reference 1.4); default the same state.
   */
  readonly statusState?: TaskState;
}

/** An agent to add with `FakeMaster.addAgent` (every field optional). */
export interface FakeAgent {
  /** Agent id; default `<uuid>-S<n>`. An id of `slaves` or `recovered_slaves` re-registers it. */
  readonly id?: string;
  /** Host name; default the IP (or the known agent's host name). */
  readonly hostname?: string;
  /** IP in the agent `pid`; default 127.0.0.1 (or the known agent's). */
  readonly ip?: string;
  /** Agent port; default 5051 (or the known agent's). */
  readonly port?: number;
  /** Attributes (`{rack: "r1"}`). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A framework to add with `FakeMaster.addFramework`. */
export interface FakeFramework {
  /** Framework name (the DNS label). */
  readonly name: string;
  /** Framework id; default `<uuid>-0000`. */
  readonly id?: string;
  /** Scheduler host name; default 127.0.0.1. */
  readonly hostname?: string;
  /** Web UI URL. */
  readonly webuiUrl?: string;
  /** libprocess pid of a driver-based scheduler (v0 only; HTTP schedulers have none). */
  readonly pid?: string;
}

/** Changes made by `FakeMaster.updateFramework` (fields left out stay as they are). */
export interface FakeFrameworkChanges {
  readonly name?: string;
  readonly hostname?: string;
  readonly webuiUrl?: string;
  readonly active?: boolean;
  readonly connected?: boolean;
}

/** One open SUBSCRIBE stream. */
interface Subscriber {
  readonly res: ServerResponse;
  /** Byte pieces waiting to be written (RecordIO frames, possibly split). */
  readonly queue: Buffer[];
  heartbeat: NodeJS.Timeout | undefined;
  /** Writes nothing (records queue up, heartbeats are skipped) while set. */
  isStalled: boolean;
  /** A split write is scheduled for the next event-loop turn. */
  isPumping: boolean;
}

/** Receives the v1 events of a state change (a master's streams, or nobody). */
type Emit = (event: object) => void;

const NO_EMIT: Emit = () => undefined;

/** One RecordIO record: `<decimal byte length>\n<bytes>` (reference 1.4, docs/recordio.md). */
function recordIo(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from(`${String(body.length)}\n`, 'ascii'), body]);
}

const HEARTBEAT_RECORD = recordIo(JSON.stringify({ type: 'HEARTBEAT' }));
/** The SUBSCRIBED record's text before its `get_state`. */
const SUBSCRIBED_HEAD = Buffer.from('{"type":"SUBSCRIBED","subscribed":{"get_state":');
/** The length header a trickle announces (then spaces follow, a byte at a time, for ever). */
const TRICKLE_HEADER = Buffer.from('1000000\n', 'ascii');
const TRICKLE_BODY_BYTE = Buffer.from(' ', 'ascii');
/** Not a RecordIO length header: the framing is lost at its first byte. */
const GARBAGE = Buffer.from('garbage, not a RecordIO length\n', 'ascii');

/** The `type` of a v1 call body; undefined when the body is not JSON. */
function parseCall(body: string): { readonly type: string | undefined } | undefined {
  let call: unknown;
  try {
    call = JSON.parse(body);
  } catch {
    return undefined;
  }
  return { type: isRecord(call) && typeof call['type'] === 'string' ? call['type'] : undefined };
}

/** Whether an `Accept` header allows JSON (absent: anything). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept
    .split(',')
    .map((part) => (part.split(';')[0] ?? '').trim().toLowerCase())
    .some((type) => type === 'application/json' || type === 'application/*' || type === '*/*');
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
 * state API and the v1 operator API the way Mesos 1.x does (docs/mesos-api.md 1, 2, 3).
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
 * - `POST /api/v1` and `/master/api/v1` (unless `v1: false` / `enableV1(false)`: 404): the same
 *   auth, failure modes and 503/307 as the state (a follower redirects to
 *   `//<leader>:<port>/master/api/v1`), then 405 for other methods, 400 without `Content-Type`,
 *   415 unless it is exactly `application/json` (Mesos compares the header as a whole; the fake
 *   speaks no protobuf), 406 when `Accept` rules JSON out, 400 for a body that is not a call.
 *   Calls: `GET_STATE` (`toV1State` of the document), `GET_MASTER`, and `SUBSCRIBE`: 200,
 *   `Content-Type: application/json`, chunked, kept open, RecordIO records: SUBSCRIBED with the
 *   state, HEARTBEAT every `heartbeatSeconds`, then the events of the mutation methods.
 *   `malformed()` cuts the SUBSCRIBED JSON in half (framed with its true length); `truncated()`
 *   sends half of the SUBSCRIBED record and drops the connection.
 * - Mutations change the v0 document (so a poller sees them) and emit the matching v1 events:
 *   `addTask`, `launchTask`, `updateTask`, `killTask`, `addAgent`, `removeAgent`,
 *   `reregisterAgent`, `addFramework`, `updateFramework`, `removeFramework` (and `launchTaskAt`
 *   and `updateTaskAt` with `taskPlaces`, for many changes to a large document); `setState`
 *   changes the document without events (a master that lost them). Stream scripting: `emitRaw`,
 *   `dropStreams`, `stallStreams`, `afterSnapshot` (trickle, garbage), option `chunkBytes`.
 *
 * Every request is counted (`requests`) and recorded (`requestLog`, with the v1 `callType`),
 * whatever the mode.
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
  /**
   * The last JSON body sent gzip-compressed, and its compressed bytes: polls of an unchanged
   * state send them again instead of compressing megabytes once a second (a 2,000-task state
   * took about 60 ms a poll).
   */
  #lastGzip: { readonly text: string; readonly bytes: Buffer } | undefined;
  #isOldStyleFollower = false;
  #connections = 0;
  #concurrency: Concurrency = { now: 0, max: 0 };
  readonly #subscribers = new Set<Subscriber>();
  #afterSnapshot: AfterSnapshot | undefined;
  /** Writes waiting for the next GET_MASTER call (the garbage after a snapshot). */
  #onGetMaster: (() => void)[] = [];
  #isV1: boolean;
  readonly #startedAt = Date.now() / 1000;
  /** The tasks' JSON kept between snapshots (`cacheTaskJson`). */
  readonly #taskTexts: V1TaskTexts | undefined;

  /** Creates a master that will serve `state` (default: an empty cluster). Call `start()`. */
  constructor(state: unknown = EMPTY_STATE, options: FakeMasterOptions = {}) {
    this.#state = state;
    this.#options = options;
    this.#taskTexts = options.cacheTaskJson === true ? new V1TaskTexts() : undefined;
    this.#isV1 = options.v1 !== false;
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

  /**
   * Listens on 127.0.0.1 on a free port (`freePort`: never one a client's socket can be given, so
   * that the master can come back on it after `close`), or on `port`.
   */
  start(port?: number): Promise<void> {
    // Again on another port when another test bound it between freePort() and here (`listen
    // EADDRINUSE: address already in use`).
    return onFreshPort('fake master', (p) => this.#listen(p), port);
  }

  #listen(port: number): Promise<void> {
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

  /** Serves the v1 API (`true`) or answers 404 on `/api/v1` as a master before Mesos 1.0 does. */
  enableV1(on = true): void {
    this.#isV1 = on;
  }

  /**
   * How long the last SUBSCRIBED snapshot took to render here (the fake's own cost, which a
   * benchmark subtracts: seconds at 100k tasks, the event loop blocked meanwhile).
   */
  lastSnapshotRenderMs = 0;

  /** Number of SUBSCRIBE streams open on this master. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /**
   * Adds a TASK_RUNNING task (see the free `addTask`) and emits TASK_ADDED carrying it, as a
   * re-registering agent reports its running tasks; returns the task id.
   */
  addTask(task: FakeTask): string {
    return addTaskTo(this.#state, task, this.#emit);
  }

  /**
   * Launches a task as Mesos does: adds it in TASK_STAGING without statuses (TASK_ADDED), then
   * makes it TASK_RUNNING with a status carrying the container IP in
   * `container_status.network_infos` when `task.ip` is given, timestamp now (TASK_UPDATED);
   * returns the task id.
   */
  launchTask(task: FakeTask): string {
    return stringField(this.launchTaskAt(task).task, 'id') ?? '';
  }

  /**
   * `launchTask`, returning where the task is in the document (for `updateTaskAt`) instead of
   * its id.
   */
  launchTaskAt(task: FakeTask): TaskPlace {
    return launchTaskIn(this.#state, task, this.#emit);
  }

  /**
   * Moves a task of `frameworks[].tasks` to `state` with a new status (TASK_UPDATED); a terminal
   * task stays listed in v0 (until acknowledged) and moves to `completed_tasks` in v1
   * (`toV1State`). False when no such task.
   */
  updateTask(id: string, state: TaskState, update: FakeTaskUpdate = {}): boolean {
    return updateTaskIn(this.#state, id, state, update, this.#emit);
  }

  /** Marks a task TASK_KILLED (see the free `killTask`) and emits TASK_UPDATED; false if absent. */
  killTask(id: string): boolean {
    return updateTaskIn(this.#state, id, 'TASK_KILLED', { ip: null }, this.#emit);
  }

  /**
   * `updateTask` for a task the caller has found (`taskPlaces`, `launchTaskAt`), without looking
   * its id up; `killTask` is `updateTaskAt(place, 'TASK_KILLED', { ip: null })`.
   */
  updateTaskAt(place: TaskPlace, state: TaskState, update: FakeTaskUpdate = {}): void {
    updateTaskAt(place, state, update, this.#emit);
  }

  /**
   * Adds (or re-registers, by id, from `slaves` or `recovered_slaves`) an agent in `slaves` and
   * emits AGENT_ADDED; returns its id.
   */
  addAgent(agent: FakeAgent = {}): string {
    return addAgentTo(this.#state, agent, this.#emit);
  }

  /**
   * Removes an agent from `slaves` and emits AGENT_REMOVED; first its live tasks go to
   * `taskState` (TASK_UPDATED each; default TASK_LOST; `null` leaves them alone). False if absent.
   */
  removeAgent(id: string, taskState: TaskState | null = 'TASK_LOST'): boolean {
    return removeAgentFrom(this.#state, id, taskState, this.#emit);
  }

  /**
   * Re-registers agent `id` after a failover: copies it and its tasks from `from` (the state
   * before, e.g. the fixture) into this master's document, emitting AGENT_ADDED, FRAMEWORK_ADDED
   * for a framework the document lacks, and TASK_ADDED per task. False if `from` lacks the agent.
   */
  reregisterAgent(id: string, from: unknown): boolean {
    return reregisterAgentIn(this.#state, id, from, this.#emit);
  }

  /** Adds an active framework without tasks and emits FRAMEWORK_ADDED; returns its id. */
  addFramework(framework: FakeFramework): string {
    return addFrameworkTo(this.#state, framework, this.#emit);
  }

  /** Changes a framework (by id or name) and emits FRAMEWORK_UPDATED; false if absent. */
  updateFramework(idOrName: string, changes: FakeFrameworkChanges): boolean {
    return updateFrameworkIn(this.#state, idOrName, changes, this.#emit);
  }

  /**
   * Tears a framework (by id or name) down as Mesos does: TASK_UPDATED TASK_KILLED for each live
   * task, then it moves to `completed_frameworks` with its tasks in `completed_tasks`, and
   * FRAMEWORK_REMOVED. False if absent.
   */
  removeFramework(idOrName: string): boolean {
    return removeFrameworkFrom(this.#state, idOrName, this.#emit);
  }

  /**
   * Sends one record to every open stream: an object as JSON, a string as the payload as is
   * (e.g. malformed JSON, an unknown event type), framed as RecordIO with its byte length;
   * `framing: 'none'` writes the string's bytes verbatim (to corrupt the framing itself).
   */
  emitRaw(record: string | object, framing: 'recordio' | 'none' = 'recordio'): void {
    const text = typeof record === 'string' ? record : JSON.stringify(record);
    this.#broadcast(framing === 'none' ? Buffer.from(text, 'utf8') : recordIo(text));
  }

  /**
   * Ends every open stream: abruptly (socket destroyed, as when the master process dies), or
   * with `graceful` by finishing the chunked response after the records still queued.
   */
  dropStreams(graceful = false): void {
    for (const sub of [...this.#subscribers]) {
      this.#subscribers.delete(sub);
      clearInterval(sub.heartbeat);
      if (!graceful) {
        sub.res.destroy();
        continue;
      }
      if (!sub.res.destroyed && !sub.res.writableEnded) {
        for (const piece of sub.queue.splice(0)) sub.res.write(piece);
        sub.res.end();
      }
    }
  }

  /**
   * Scripts the SUBSCRIBE streams opened from now on: after their SUBSCRIBED record they do what
   * `script` says (see `AfterSnapshot`) and nothing else; `undefined` serves them normally
   * again. Streams open now are not changed.
   */
  afterSnapshot(script: AfterSnapshot | undefined): void {
    this.#afterSnapshot = script;
  }

  /**
   * Stalls (`true`) the streams open now: nothing more is written, heartbeats are skipped, events
   * queue up, the socket stays open (a silently dead connection, for watchdog tests). Streams
   * opened later are not stalled. `false` resumes them and flushes what queued up.
   */
  stallStreams(on = true): void {
    for (const sub of this.#subscribers) {
      sub.isStalled = on;
      if (!on) this.#pump(sub);
    }
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
    for (const sub of this.#subscribers) {
      clearInterval(sub.heartbeat);
    }
    this.#subscribers.clear();
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

  /** Sends a v1 event to every open stream (bound: passed to the state mutations). */
  readonly #emit: Emit = (event) => {
    this.#broadcast(recordIo(JSON.stringify(event)));
  };

  #broadcast(record: Buffer): void {
    for (const sub of this.#subscribers) this.#enqueue(sub, record);
  }

  /** Queues a record on a stream, split into `chunkBytes` pieces, and writes what it can. */
  #enqueue(sub: Subscriber, record: Buffer): void {
    const size = this.#options.chunkBytes ?? 0;
    if (size > 0) {
      for (let i = 0; i < record.length; i += size) sub.queue.push(record.subarray(i, i + size));
    } else {
      sub.queue.push(record);
    }
    this.#pump(sub);
  }

  /** Writes the queue: all at once, or with `chunkBytes` one piece per event-loop turn. */
  #pump(sub: Subscriber): void {
    if (sub.isPumping || sub.isStalled) return;
    const res = sub.res;
    if (res.destroyed || res.writableEnded) {
      sub.queue.length = 0;
      return;
    }
    if ((this.#options.chunkBytes ?? 0) <= 0) {
      for (const piece of sub.queue.splice(0)) res.write(piece);
      return;
    }
    const piece = sub.queue.shift();
    if (piece === undefined) return;
    res.write(piece);
    if (sub.queue.length > 0) {
      sub.isPumping = true;
      setImmediate(() => {
        sub.isPumping = false;
        this.#pump(sub);
      });
    }
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
    const reply = this.#reply(req);
    if (V1_PATHS.has(new URL(req.url ?? '/', 'http://fake').pathname)) {
      // Read the body of every v1 request, answered or not, to record its call type.
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.once('end', () => {
        const call = parseCall(Buffer.concat(chunks).toString('utf8'));
        if (call?.type !== undefined) entry.callType = call.type;
        if (reply.kind === 'v1') this.#answerCall(req, res, entry, call);
      });
    } else {
      // Drain the request body so keep-alive connections stay usable.
      req.resume();
    }
    if (reply.kind === 'hang' || reply.kind === 'v1') {
      return;
    }
    this.#later(() => {
      this.#send(req, res, entry, reply);
    });
  }

  /** Runs `fn` now, or after the `delay(ms)` set (cancelled by `close()`). */
  #later(fn: () => void): void {
    if (this.#delayMs <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, this.#delayMs);
    this.#timers.add(timer);
  }

  /** Writes a complete reply (gzip for clients that accept it, truncation, HEAD). */
  #send(req: IncomingMessage, res: ServerResponse, entry: RecordedRequest, reply: HttpReply): void {
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
      if (this.#lastGzip?.text !== reply.body) {
        this.#lastGzip = { text: reply.body, bytes: gzipSync(body) };
      }
      body = this.#lastGzip.bytes;
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
    const isSummary = SUMMARY_PATHS.has(path);
    const isState = STATE_PATHS.has(path) || isSummary;
    const isRedirect = REDIRECT_PATHS.has(path);
    const isV1 = this.#isV1 && V1_PATHS.has(path);
    if (!isState && !isRedirect && !isV1) {
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
    if (isV1) {
      return this.#checkCall(req, leader, target.search);
    }
    if (leader !== this && !this.#isOldStyleFollower) {
      return textReply(307, '', {
        location: `//${leader.hostname}:${leader.port}${path}${target.search}`,
      });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return textReply(405, '');
    }
    return this.#jsonReply(isSummary ? this.#renderSummary() : this.#renderState(leader));
  }

  /**
   * `/master/state-summary`: agents and frameworks without tasks (reference 1.2); frameworks keep
   * their `pid` (driver-based schedulers), which the v1 API does not carry.
   */
  #renderSummary(): string {
    const state = this.#state;
    if (!isRecord(state))
      return JSON.stringify({ hostname: this.hostname, slaves: [], frameworks: [] });
    const strip = (list: unknown): unknown[] =>
      (Array.isArray(list) ? list : []).map((entry: unknown) => {
        if (!isRecord(entry)) return entry;
        const rest: Record<string, unknown> = { ...entry };
        for (const key of ['tasks', 'completed_tasks', 'unreachable_tasks', 'executors']) {
          Reflect.deleteProperty(rest, key);
        }
        return rest;
      });
    return JSON.stringify({
      hostname: this.hostname,
      slaves: strip(state['slaves']),
      frameworks: strip(state['frameworks']),
    });
  }

  /** The checks of `Master::Http::api` before the body is read (reference 1.1, 1.4). */
  #checkCall(req: IncomingMessage, leader: FakeMaster, search: string): Reply {
    if (leader !== this) {
      return textReply(307, '', {
        location: `//${leader.hostname}:${leader.port}${V1_REDIRECT_PATH}${search}`,
      });
    }
    if (req.method !== 'POST') {
      return textReply(405, `Expecting one of { 'POST' }, but received '${req.method ?? ''}'`, {
        allow: 'POST',
      });
    }
    const contentType = req.headers['content-type'];
    if (contentType === undefined) {
      return textReply(400, "Expecting 'Content-Type' to be present");
    }
    if (contentType !== 'application/json') {
      return textReply(415, `Expecting 'Content-Type' of application/json (the fake speaks JSON)`);
    }
    if (!acceptsJson(req.headers.accept)) {
      return textReply(406, 'Expecting Accept to allow application/json');
    }
    return { kind: 'v1' };
  }

  /** Answers a v1 call (undefined: the body is not JSON): GET_STATE, GET_MASTER or SUBSCRIBE. */
  #answerCall(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RecordedRequest,
    call: { readonly type: string | undefined } | undefined,
  ): void {
    if (call === undefined) {
      this.#later(() => {
        this.#send(req, res, entry, textReply(400, 'Failed to parse body into JSON'));
      });
      return;
    }
    const type = call.type;
    let reply: HttpReply;
    switch (type) {
      case 'SUBSCRIBE':
        this.#later(() => {
          this.#subscribe(res, entry);
        });
        return;
      case 'GET_STATE':
        reply = this.#jsonReply(JSON.stringify({ type, get_state: toV1State(this.#state) }));
        break;
      case 'GET_MASTER':
        reply = this.#jsonReply(JSON.stringify({ type, get_master: this.#masterInfo() }));
        for (const write of this.#onGetMaster.splice(0)) write();
        break;
      case undefined:
        reply = textReply(400, "Failed to validate master::Call: Expecting 'type' to be present");
        break;
      default:
        reply = textReply(400, `The fake master does not implement '${type}'`);
    }
    this.#later(() => {
      this.#send(req, res, entry, reply);
    });
  }

  /** `Response.GetMaster` of this master (the leader: followers redirected the call). */
  #masterInfo(): Record<string, unknown> {
    const state = this.#state;
    const version = isRecord(state) && typeof state['version'] === 'string' ? state['version'] : '';
    return {
      master_info: {
        id: this.#id,
        ip: PACKED_HOST_IP,
        port: this.port,
        pid: this.pid,
        hostname: this.hostname,
        ...(version === '' ? {} : { version }),
        address: { hostname: this.hostname, ip: HOST, port: this.port },
      },
      start_time: this.#startedAt,
    };
  }

  /** Opens a SUBSCRIBE stream: SUBSCRIBED with the state now, then heartbeats and events. */
  #subscribe(res: ServerResponse, entry: RecordedRequest): void {
    if (res.destroyed) {
      return;
    }
    entry.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const heartbeatSeconds = this.#options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
    const renderStarted = Date.now();
    const json = this.#subscribedJson(heartbeatSeconds);
    this.lastSnapshotRenderMs = Date.now() - renderStarted;
    if (this.#mode.kind === 'truncated') {
      const record = recordIo(json);
      res.write(record.subarray(0, Math.max(1, Math.floor(record.length / 2))), () => {
        res.destroy();
      });
      return;
    }
    const sub: Subscriber = {
      res,
      queue: [],
      heartbeat: undefined,
      isStalled: false,
      isPumping: false,
    };
    this.#subscribers.add(sub);
    res.once('close', () => {
      entry.endedAt = Date.now();
      this.#subscribers.delete(sub);
      clearInterval(sub.heartbeat);
    });
    const script = this.#afterSnapshot;
    if (script !== undefined) {
      // The snapshot, then only the script: no heartbeats, and events queue up unsent.
      sub.isStalled = true;
      res.write(recordIo(json));
      if (script.kind === 'garbage') {
        this.#onGetMaster.push(() => {
          if (!res.destroyed && !res.writableEnded) res.write(GARBAGE);
        });
        return;
      }
      let sent = 0;
      sub.heartbeat = setInterval(() => {
        const byte =
          sent < TRICKLE_HEADER.length
            ? TRICKLE_HEADER.subarray(sent, sent + 1)
            : TRICKLE_BODY_BYTE;
        sent++;
        if (!res.destroyed && !res.writableEnded) res.write(byte);
      }, script.everyMs);
      sub.heartbeat.unref();
      return;
    }
    const isMalformed = this.#mode.kind === 'malformed';
    this.#enqueue(
      sub,
      recordIo(isMalformed ? json.subarray(0, Math.floor(json.length / 2)) : json),
    );
    sub.heartbeat = setInterval(() => {
      if (!sub.isStalled) this.#enqueue(sub, HEARTBEAT_RECORD);
    }, heartbeatSeconds * 1000);
    sub.heartbeat.unref();
  }

  /**
   * The SUBSCRIBED record's text: `JSON.stringify` of the whole record, or with `cacheTaskJson`
   * the same bytes in pieces, each unchanged task's kept from the last snapshot (at 100k tasks
   * about 1.5 s instead of 4-5; without a cache the pieces would cost more than the whole).
   */
  #subscribedJson(heartbeatSeconds: number): Buffer {
    const texts = this.#taskTexts;
    if (texts === undefined) {
      const subscribed = {
        get_state: toV1State(this.#state),
        heartbeat_interval_seconds: heartbeatSeconds,
      };
      return Buffer.from(JSON.stringify({ type: 'SUBSCRIBED', subscribed }));
    }
    return Buffer.concat([
      SUBSCRIBED_HEAD,
      ...v1StateJson(this.#state, texts),
      Buffer.from(`,"heartbeat_interval_seconds":${JSON.stringify(heartbeatSeconds)}}}`),
    ]);
  }

  /** A 200 JSON reply as the failure mode shapes it (cut in half, or truncated on the wire). */
  #jsonReply(json: string): HttpReply {
    const headers = { 'content-type': 'application/json' };
    if (this.#mode.kind === 'truncated') {
      return { kind: 'reply', status: 200, headers, body: json, isTruncated: true };
    }
    const body =
      this.#mode.kind === 'malformed'
        ? json.slice(0, Math.max(1, Math.floor(json.length / 2)))
        : json;
    return { kind: 'reply', status: 200, headers, body };
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

/** A task to add with `addTask` or `launchTask` (master, cluster or free): what matters for DNS. */
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
  /**
   * Docker BRIDGE networking with these port mappings (`container.docker.port_mappings`,
   * protocol `tcp` unless told); their host ports are the task's host ports unless `ports` says.
   */
  readonly portMappings?: readonly {
    readonly host: number;
    readonly container: number;
    readonly protocol?: string;
  }[];
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
   * master whose agents have not re-registered yet: `recoveringState`). The deposed leader
   * drops its SUBSCRIBE streams (a Mesos master that loses leadership exits).
   */
  failover(to?: number, state?: unknown): FakeMaster {
    const previous = this.#leader;
    const current = previous === undefined ? -1 : this.masters.indexOf(previous);
    const next = this.master(to ?? (current + 1) % this.masters.length);
    if (previous !== undefined && previous !== next) previous.dropStreams();
    this.#leader = next;
    if (state !== undefined) this.setState(state);
    return next;
  }

  /** No leader at all: every master answers 503 "No leader elected"; the old leader's streams drop. */
  noLeader(): void {
    this.#leader?.dropStreams();
    this.#leader = undefined;
  }

  /** Replaces the state document of every master (no events: as if they were lost). */
  setState(doc: unknown): void {
    this.#state = doc;
    for (const m of this.masters) m.setState(doc);
  }

  /** The shared state document (mutable). */
  get state(): unknown {
    return this.#state;
  }

  /** Serves the v1 API on every master, or (`false`) answers 404 there as Mesos < 1.0 does. */
  enableV1(on = true): void {
    for (const m of this.masters) m.enableV1(on);
  }

  /** SUBSCRIBE streams open on all masters together. */
  get subscribers(): number {
    return this.masters.reduce((n, m) => n + m.subscribers, 0);
  }

  /** Adds a TASK_RUNNING task on the leader (TASK_ADDED); returns its id (see `addTask`). */
  addTask(task: FakeTask): string {
    return this.#leader?.addTask(task) ?? addTaskTo(this.#state, task, NO_EMIT);
  }

  /** Launches a task on the leader: TASK_ADDED (STAGING), TASK_UPDATED (RUNNING); returns its id. */
  launchTask(task: FakeTask): string {
    return (
      this.#leader?.launchTask(task) ??
      stringField(launchTaskIn(this.#state, task, NO_EMIT).task, 'id') ??
      ''
    );
  }

  /** Moves a task of the leader's state to `state` (TASK_UPDATED); see `FakeMaster.updateTask`. */
  updateTask(id: string, state: TaskState, update: FakeTaskUpdate = {}): boolean {
    return (
      this.#leader?.updateTask(id, state, update) ??
      updateTaskIn(this.#state, id, state, update, NO_EMIT)
    );
  }

  /** Marks a task of the leader's state TASK_KILLED (TASK_UPDATED; see `killTask`). */
  killTask(id: string): boolean {
    return this.#leader?.killTask(id) ?? killTask(this.#state, id);
  }

  /** Adds or re-registers an agent on the leader (AGENT_ADDED); see `FakeMaster.addAgent`. */
  addAgent(agent: FakeAgent = {}): string {
    return this.#leader?.addAgent(agent) ?? addAgentTo(this.#state, agent, NO_EMIT);
  }

  /** Removes an agent from the leader's state (AGENT_REMOVED); see `FakeMaster.removeAgent`. */
  removeAgent(id: string, taskState: TaskState | null = 'TASK_LOST'): boolean {
    return (
      this.#leader?.removeAgent(id, taskState) ??
      removeAgentFrom(this.#state, id, taskState, NO_EMIT)
    );
  }

  /** Re-registers an agent with its tasks on the leader; see `FakeMaster.reregisterAgent`. */
  reregisterAgent(id: string, from: unknown): boolean {
    return (
      this.#leader?.reregisterAgent(id, from) ?? reregisterAgentIn(this.#state, id, from, NO_EMIT)
    );
  }

  /** Adds a framework on the leader (FRAMEWORK_ADDED); returns its id. */
  addFramework(framework: FakeFramework): string {
    return this.#leader?.addFramework(framework) ?? addFrameworkTo(this.#state, framework, NO_EMIT);
  }

  /** Changes a framework on the leader (FRAMEWORK_UPDATED); see `FakeMaster.updateFramework`. */
  updateFramework(idOrName: string, changes: FakeFrameworkChanges): boolean {
    return (
      this.#leader?.updateFramework(idOrName, changes) ??
      updateFrameworkIn(this.#state, idOrName, changes, NO_EMIT)
    );
  }

  /** Tears a framework down on the leader; see `FakeMaster.removeFramework`. */
  removeFramework(idOrName: string): boolean {
    return (
      this.#leader?.removeFramework(idOrName) ?? removeFrameworkFrom(this.#state, idOrName, NO_EMIT)
    );
  }

  /** Sends one record to the leader's streams; see `FakeMaster.emitRaw`. */
  emitRaw(record: string | object, framing: 'recordio' | 'none' = 'recordio'): void {
    this.#leader?.emitRaw(record, framing);
  }

  /** Ends the streams of every master; see `FakeMaster.dropStreams`. */
  dropStreams(graceful = false): void {
    for (const m of this.masters) m.dropStreams(graceful);
  }

  /** Stalls (or resumes) the open streams of every master; see `FakeMaster.stallStreams`. */
  stallStreams(on = true): void {
    for (const m of this.masters) m.stallStreams(on);
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

/** The array at `state[key]`, created (and stored) when absent. */
function listOf(state: Record<string, unknown>, key: string): unknown[] {
  const value = state[key];
  if (Array.isArray(value)) return value;
  const created: unknown[] = [];
  state[key] = created;
  return created;
}

/** The array at `o[key]`, or an empty one (not stored). */
function arrayAt(o: Record<string, unknown>, key: string): unknown[] {
  const value = o[key];
  if (!Array.isArray(value)) return [];
  const items: unknown[] = value;
  return items;
}

function stringField(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

function nowSeconds(): number {
  return Date.now() / 1000;
}

function containerStatusFor(ip: string): Record<string, unknown> {
  return {
    network_infos: [
      { ip_addresses: [{ protocol: ip.includes(':') ? 'IPv6' : 'IPv4', ip_address: ip }] },
    ],
  };
}

/** A task of a state document and the framework that lists it (objects of the document). */
export interface TaskPlace {
  readonly framework: Record<string, unknown>;
  readonly task: Record<string, unknown>;
}

/** Every task of `frameworks[].tasks`, in document order. */
function* tasksOf(state: Record<string, unknown>): Generator<TaskPlace> {
  const frameworks = Array.isArray(state['frameworks']) ? state['frameworks'] : [];
  for (const framework of frameworks) {
    if (!isRecord(framework) || !Array.isArray(framework['tasks'])) continue;
    for (const task of framework['tasks']) {
      if (isRecord(task)) yield { framework, task };
    }
  }
}

/** Finds a task of `frameworks[].tasks` by id. */
function findTask(state: Record<string, unknown>, id: string): TaskPlace | undefined {
  for (const place of tasksOf(state)) if (place.task['id'] === id) return place;
  return undefined;
}

/**
 * Every task of `frameworks[].tasks` of a state document by id, for a caller that changes many
 * tasks of a large document with `FakeMaster.updateTaskAt`: `updateTask` and `killTask` look
 * the id up in every framework's task list, which costs milliseconds a call at 100k tasks.
 */
export function taskPlaces(doc: unknown): Map<string, TaskPlace> {
  const places = new Map<string, TaskPlace>();
  for (const place of tasksOf(stateRecord(doc))) {
    const id = place.task['id'];
    if (typeof id === 'string') places.set(id, place);
  }
  return places;
}

/** Finds a framework of `frameworks` by id, else by name. */
function findFramework(
  state: Record<string, unknown>,
  idOrName: string,
): Record<string, unknown> | undefined {
  const frameworks = (Array.isArray(state['frameworks']) ? state['frameworks'] : []).filter(
    isRecord,
  );
  return (
    frameworks.find((f) => f['id'] === idOrName) ?? frameworks.find((f) => f['name'] === idOrName)
  );
}

function taskAdded(task: Record<string, unknown>, frameworkId: string | undefined): object {
  return { type: 'TASK_ADDED', task_added: { task: toV1Task(task, frameworkId) } };
}

/** Inserts a task built from `task`, running (with its RUNNING status) or staging (none). */
function insertTask(
  doc: unknown,
  task: FakeTask,
  isRunning: boolean,
): { framework: Record<string, unknown>; record: Record<string, unknown>; id: string } {
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
  const mappings = task.portMappings;
  const ports = task.ports ?? mappings?.map((m) => m.host) ?? [];
  const tasks = Array.isArray(framework['tasks']) ? framework['tasks'] : [];
  const record: Record<string, unknown> = {
    id,
    name: task.name,
    framework_id: framework['id'],
    executor_id: '',
    slave_id: agentId,
    state: isRunning ? 'TASK_RUNNING' : 'TASK_STAGING',
    resources: {
      cpus: 0.1,
      disk: 0,
      gpus: 0,
      mem: 32,
      ...(ports.length > 0 ? { ports: `[${ports.map((p) => `${p}-${p}`).join(', ')}]` } : {}),
    },
    role: '*',
    statuses: isRunning
      ? [
          {
            state: 'TASK_RUNNING',
            timestamp: nowSeconds(),
            ...(task.ip === undefined ? {} : { container_status: containerStatusFor(task.ip) }),
          },
        ]
      : [],
  };
  if (mappings !== undefined) {
    record['container'] = {
      type: 'DOCKER',
      docker: {
        image: 'nginx',
        network: 'BRIDGE',
        port_mappings: mappings.map((m) => ({
          host_port: m.host,
          container_port: m.container,
          protocol: m.protocol ?? 'tcp',
        })),
      },
    };
  }
  tasks.push(record);
  framework['tasks'] = tasks;
  return { framework, record, id };
}

/**
 * Adds a TASK_RUNNING task to a state document (mutated in place) and returns its id: on the
 * named framework (default the first) and agent (default the first), with the container IP in
 * the RUNNING status when `ip` is given.
 */
export function addTask(doc: unknown, task: FakeTask): string {
  return insertTask(doc, task, true).id;
}

/** Marks a task TASK_KILLED (it stays listed until acknowledged, as in Mesos); false if absent. */
export function killTask(doc: unknown, id: string): boolean {
  return updateTaskIn(doc, id, 'TASK_KILLED', { ip: null }, NO_EMIT);
}

/**
 * The state a newly elected master serves before the agents re-register (reference 1.4, point
 * 4): a copy of `doc` with every agent moved to `recovered_slaves` and no tasks (frameworks are
 * kept, their task lists emptied). Bring agents back with `reregisterAgent(id, doc)`.
 */
export function recoveringState(doc: unknown): Record<string, unknown> {
  const state = structuredClone(stateRecord(doc));
  const slaves = arrayAt(state, 'slaves');
  state['recovered_slaves'] = [...listOf(state, 'recovered_slaves'), ...slaves];
  state['slaves'] = [];
  for (const framework of listOf(state, 'frameworks')) {
    if (!isRecord(framework)) continue;
    framework['tasks'] = [];
    framework['unreachable_tasks'] = [];
    framework['executors'] = [];
  }
  return state;
}

function addTaskTo(doc: unknown, task: FakeTask, emit: Emit): string {
  const { framework, record, id } = insertTask(doc, task, true);
  emit(taskAdded(record, stringField(framework, 'id')));
  return id;
}

function launchTaskIn(doc: unknown, task: FakeTask, emit: Emit): TaskPlace {
  const { framework, record } = insertTask(doc, task, false);
  emit(taskAdded(record, stringField(framework, 'id')));
  const place = { framework, task: record };
  updateTaskAt(place, 'TASK_RUNNING', { ip: task.ip ?? null }, emit);
  return place;
}

function updateTaskIn(
  doc: unknown,
  id: string,
  state: TaskState,
  update: FakeTaskUpdate,
  emit: Emit,
): boolean {
  const found = findTask(stateRecord(doc), id);
  if (found === undefined) return false;
  updateTaskAt(found, state, update, emit);
  return true;
}

/** Appends a status to a task, sets its state and emits TASK_UPDATED (see `updateTask`). */
function updateTaskAt(
  place: TaskPlace,
  state: TaskState,
  update: FakeTaskUpdate,
  emit: Emit,
): void {
  const { framework, task } = place;
  const id = stringField(task, 'id') ?? '';
  const statuses = Array.isArray(task['statuses']) ? task['statuses'] : [];
  const previous: unknown = statuses.at(-1);
  const container =
    update.ip === null
      ? undefined
      : update.ip !== undefined
        ? containerStatusFor(update.ip)
        : isRecord(previous) && isRecord(previous['container_status'])
          ? structuredClone(previous['container_status'])
          : undefined;
  const status: Record<string, unknown> = {
    state,
    timestamp: nowSeconds(),
    ...(update.healthy === undefined ? {} : { healthy: update.healthy }),
    ...(container === undefined ? {} : { container_status: container }),
  };
  task['state'] = state;
  statuses.push(status);
  task['statuses'] = statuses;
  const frameworkId = stringField(framework, 'id') ?? '';
  const agentId = stringField(task, 'slave_id');
  emit({
    type: 'TASK_UPDATED',
    task_updated: {
      framework_id: { value: frameworkId },
      status: toV1TaskStatus({ ...status, state: update.statusState ?? state }, id, agentId),
      state,
    },
  });
}

function addAgentTo(doc: unknown, agent: FakeAgent, emit: Emit): string {
  const state = stateRecord(doc);
  const slaves = listOf(state, 'slaves');
  const recovered = arrayAt(state, 'recovered_slaves');
  const id = agent.id ?? `${randomUUID()}-S${String(slaves.length)}`;
  const isThis = (s: unknown): boolean => isRecord(s) && s['id'] === id;
  const known: Record<string, unknown> | undefined = [...slaves, ...recovered]
    .filter(isRecord)
    .find(isThis);
  const knownPid = known === undefined ? undefined : stringField(known, 'pid');
  const pidHost = knownPid === undefined ? undefined : /@\[?([^\]]*?)\]?:\d+$/.exec(knownPid)?.[1];
  const ip = agent.ip ?? pidHost ?? HOST;
  const knownPort = known !== undefined && typeof known['port'] === 'number' ? known['port'] : 5051;
  const port = agent.port ?? knownPort;
  const pid =
    knownPid !== undefined && agent.ip === undefined && agent.port === undefined
      ? knownPid
      : `slave(1)@${ip.includes(':') ? `[${ip}]` : ip}:${String(port)}`;
  const now = nowSeconds();
  const slave: Record<string, unknown> = {
    resources: { cpus: 8, disk: 1024, gpus: 0, mem: 8192, ports: '[31000-32000]' },
    attributes: {},
    registered_time: now,
    ...(known === undefined ? {} : structuredClone(known)),
    ...(known === undefined ? {} : { reregistered_time: now }),
    id,
    hostname:
      agent.hostname ?? (known === undefined ? undefined : stringField(known, 'hostname')) ?? ip,
    port,
    pid,
    active: true,
    deactivated: false,
    ...(agent.attributes === undefined ? {} : { attributes: { ...agent.attributes } }),
  };
  for (const list of [slaves, recovered]) {
    for (let i = list.length - 1; i >= 0; i--) if (isThis(list[i])) list.splice(i, 1);
  }
  slaves.push(slave);
  emit({ type: 'AGENT_ADDED', agent_added: { agent: toV1Agent(slave) } });
  return id;
}

function removeAgentFrom(
  doc: unknown,
  id: string,
  taskState: TaskState | null,
  emit: Emit,
): boolean {
  const state = stateRecord(doc);
  const recovered = Array.isArray(state['recovered_slaves']) ? state['recovered_slaves'] : [];
  const before = recovered.findIndex((s) => isRecord(s) && s['id'] === id);
  if (before >= 0) {
    // An agent that never re-registered after a failover, marked unreachable by the master.
    recovered.splice(before, 1);
    emit({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: id } } });
    return true;
  }
  const slaves = listOf(state, 'slaves');
  const index = slaves.findIndex((s) => isRecord(s) && s['id'] === id);
  if (index < 0) return false;
  if (taskState !== null) {
    for (const framework of listOf(state, 'frameworks')) {
      if (!isRecord(framework) || !Array.isArray(framework['tasks'])) continue;
      for (const task of framework['tasks']) {
        if (!isRecord(task) || task['slave_id'] !== id) continue;
        const taskId = stringField(task, 'id');
        const current = stringField(task, 'state') ?? '';
        if (taskId === undefined || isTerminalState(current)) continue;
        updateTaskIn(doc, taskId, taskState, { ip: null }, emit);
      }
    }
  }
  slaves.splice(index, 1);
  emit({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: id } } });
  return true;
}

function reregisterAgentIn(doc: unknown, id: string, from: unknown, emit: Emit): boolean {
  const source = stateRecord(from);
  const state = stateRecord(doc);
  const isThis = (s: unknown): s is Record<string, unknown> => isRecord(s) && s['id'] === id;
  const all = [...arrayAt(source, 'slaves'), ...arrayAt(source, 'recovered_slaves')];
  const slave = all.find(isThis);
  if (slave === undefined) return false;
  const slaves = listOf(state, 'slaves');
  const recovered = Array.isArray(state['recovered_slaves']) ? state['recovered_slaves'] : [];
  for (const list of [slaves, recovered]) {
    for (let i = list.length - 1; i >= 0; i--) if (isThis(list[i])) list.splice(i, 1);
  }
  const copy = { ...structuredClone(slave), reregistered_time: nowSeconds() };
  slaves.push(copy);
  emit({ type: 'AGENT_ADDED', agent_added: { agent: toV1Agent(copy) } });
  const frameworks = listOf(state, 'frameworks');
  for (const sourceFramework of Array.isArray(source['frameworks']) ? source['frameworks'] : []) {
    if (!isRecord(sourceFramework) || !Array.isArray(sourceFramework['tasks'])) continue;
    const tasks = sourceFramework['tasks'].filter(
      (t): t is Record<string, unknown> => isRecord(t) && t['slave_id'] === id,
    );
    if (tasks.length === 0) continue;
    const frameworkId = stringField(sourceFramework, 'id');
    let framework = frameworks.find(
      (f): f is Record<string, unknown> => isRecord(f) && f['id'] === frameworkId,
    );
    if (framework === undefined) {
      framework = {
        ...structuredClone(sourceFramework),
        tasks: [],
        unreachable_tasks: [],
        completed_tasks: [],
        executors: [],
      };
      frameworks.push(framework);
      emit({ type: 'FRAMEWORK_ADDED', framework_added: { framework: toV1Framework(framework) } });
    }
    const target = listOf(framework, 'tasks');
    const present = new Set(target.map((t) => (isRecord(t) ? t['id'] : undefined)));
    for (const task of tasks) {
      if (present.has(task['id'])) continue;
      const copy = structuredClone(task);
      target.push(copy);
      emit(taskAdded(copy, frameworkId));
    }
  }
  return true;
}

function addFrameworkTo(doc: unknown, framework: FakeFramework, emit: Emit): string {
  const state = stateRecord(doc);
  const id = framework.id ?? `${randomUUID()}-0000`;
  const record: Record<string, unknown> = {
    id,
    name: framework.name,
    ...(framework.pid === undefined ? {} : { pid: framework.pid }),
    hostname: framework.hostname ?? HOST,
    ...(framework.webuiUrl === undefined ? {} : { webui_url: framework.webuiUrl }),
    active: true,
    connected: true,
    recovered: false,
    user: 'root',
    role: '*',
    capabilities: [],
    failover_timeout: 0,
    checkpoint: false,
    registered_time: nowSeconds(),
    tasks: [],
    unreachable_tasks: [],
    completed_tasks: [],
    offers: [],
    executors: [],
  };
  listOf(state, 'frameworks').push(record);
  emit({ type: 'FRAMEWORK_ADDED', framework_added: { framework: toV1Framework(record) } });
  return id;
}

function updateFrameworkIn(
  doc: unknown,
  idOrName: string,
  changes: FakeFrameworkChanges,
  emit: Emit,
): boolean {
  const framework = findFramework(stateRecord(doc), idOrName);
  if (framework === undefined) return false;
  if (changes.name !== undefined) framework['name'] = changes.name;
  if (changes.hostname !== undefined) framework['hostname'] = changes.hostname;
  if (changes.webuiUrl !== undefined) framework['webui_url'] = changes.webuiUrl;
  if (changes.active !== undefined) framework['active'] = changes.active;
  if (changes.connected !== undefined) framework['connected'] = changes.connected;
  emit({ type: 'FRAMEWORK_UPDATED', framework_updated: { framework: toV1Framework(framework) } });
  return true;
}

function removeFrameworkFrom(doc: unknown, idOrName: string, emit: Emit): boolean {
  const state = stateRecord(doc);
  const framework = findFramework(state, idOrName);
  if (framework === undefined) return false;
  const tasks = arrayAt(framework, 'tasks');
  for (const task of tasks) {
    if (!isRecord(task)) continue;
    const taskId = stringField(task, 'id');
    if (taskId === undefined || isTerminalState(stringField(task, 'state') ?? '')) continue;
    updateTaskIn(doc, taskId, 'TASK_KILLED', { ip: null }, emit);
  }
  framework['completed_tasks'] = [...listOf(framework, 'completed_tasks'), ...tasks];
  framework['tasks'] = [];
  framework['active'] = false;
  framework['connected'] = false;
  framework['unregistered_time'] = nowSeconds();
  const frameworks = listOf(state, 'frameworks');
  frameworks.splice(frameworks.indexOf(framework), 1);
  listOf(state, 'completed_frameworks').push(framework);
  emit({
    type: 'FRAMEWORK_REMOVED',
    framework_removed: { framework_info: toV1FrameworkInfo(framework) },
  });
  return true;
}
