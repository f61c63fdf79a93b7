import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

const HOST = '127.0.0.1';

/** A request the fake master received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/master/state`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** What the master does with the next requests (set by `fail`, `malformed`, `hang`, `reset`). */
type Mode =
  | { readonly kind: 'serve' }
  | { readonly kind: 'status'; readonly status: number; readonly body: string }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'hang' };

/** A complete HTTP reply, or `hang` (never answer). */
type Reply =
  | {
      readonly kind: 'reply';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string;
    }
  | { readonly kind: 'hang' };

const SERVE: Mode = { kind: 'serve' };

/** Paths that serve the state document (libprocess delegate: `/state` ≡ `/master/state`). */
const STATE_PATHS: ReadonlySet<string> = new Set(['/master/state', '/state']);

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

function textReply(status: number, body: string): Reply {
  return {
    kind: 'reply',
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body,
  };
}

/**
 * A fake Mesos master: a node:http server on 127.0.0.1 (kernel-chosen port) serving the v0
 * state API the way Mesos 1.x does (reference/mesos-api.md 1.1, 1.3).
 *
 * - `GET /master/state` and `GET /state` return the current state document as JSON, with
 *   `leader`, `pid`, `hostname` and `leader_info.{pid,port,hostname}` rewritten to point at this
 *   server (`master@127.0.0.1:<port>`), so a client never follows a fixture's outside address
 *   (1.2.3.4, 10.0.0.11). A string state is served verbatim (no rewriting).
 * - `/master/state.json` and `/state.json` answer 404 (removed in Mesos 1.8); other paths 404;
 *   other methods on the state paths 405.
 * - Failure modes for tests: `fail(status)`, `malformed()`, `delay(ms)`, `hang()`, `reset()`.
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
  readonly #log: RecordedRequest[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #state: unknown;
  #mode: Mode = SERVE;
  #delayMs = 0;
  #port: number | undefined;

  /** Creates a master that will serve `state` (default: an empty cluster). Call `start()`. */
  constructor(state: unknown = EMPTY_STATE) {
    this.#state = state;
    this.#server = createServer((req, res) => {
      this.#handle(req, res);
    });
  }

  /** Listens on 127.0.0.1 with a kernel-chosen port. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, HOST, () => {
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

  /** Base URL for `mesos.masters`, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  /** This master's libprocess PID, `master@127.0.0.1:<port>`. */
  get pid(): string {
    return `master@${HOST}:${this.port}`;
  }

  /** Number of HTTP requests received so far (any path, any mode). */
  get requests(): number {
    return this.#log.length;
  }

  /** Every request received so far, oldest first (e.g. to check an Authorization header). */
  get requestLog(): readonly RecordedRequest[] {
    return this.#log;
  }

  /** Replaces the state document served from now on (an object, or a string served verbatim). */
  setState(doc: unknown): void {
    this.#state = doc;
  }

  /** Answers every request with `status` (e.g. 500, or 503 as a master with no leader does). */
  fail(status = 503, body = status === 503 ? 'No leader elected' : 'Internal Server Error'): void {
    this.#mode = { kind: 'status', status, body };
  }

  /** Answers 200 with a truncated JSON body (a complete HTTP response that is not valid JSON). */
  malformed(): void {
    this.#mode = { kind: 'malformed' };
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

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.#log.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
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
      res.writeHead(reply.status, {
        ...reply.headers,
        'content-length': String(Buffer.byteLength(reply.body)),
      });
      res.end(req.method === 'HEAD' ? undefined : reply.body);
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

  /**
   * Decides the reply. A later multi-master setup (leader election, 307 redirects to the leader,
   * 503 "No leader elected" on followers) plugs in here, before the routes.
   */
  #reply(req: IncomingMessage): Reply {
    switch (this.#mode.kind) {
      case 'hang':
        return { kind: 'hang' };
      case 'status':
        return textReply(this.#mode.status, this.#mode.body);
      case 'malformed':
      case 'serve':
        break;
    }
    const path = new URL(req.url ?? '/', this.url).pathname;
    if (!STATE_PATHS.has(path)) {
      return textReply(404, '');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return textReply(405, '');
    }
    const json = this.#renderState();
    const body =
      this.#mode.kind === 'malformed'
        ? json.slice(0, Math.max(1, Math.floor(json.length / 2)))
        : json;
    return { kind: 'reply', status: 200, headers: { 'content-type': 'application/json' }, body };
  }

  /** The state as JSON text, with the leader fields pointing at this master. */
  #renderState(): string {
    const state = this.#state;
    if (typeof state === 'string') {
      return state;
    }
    if (!isRecord(state)) {
      return JSON.stringify(state);
    }
    const leader = this.#leaderPid();
    const rewritten: Record<string, unknown> = { ...state, leader, pid: this.pid };
    if ('hostname' in state) {
      rewritten['hostname'] = HOST;
    }
    if (isRecord(state['leader_info'])) {
      rewritten['leader_info'] = {
        ...state['leader_info'],
        pid: leader,
        port: this.port,
        hostname: HOST,
      };
    }
    return JSON.stringify(rewritten);
  }

  /** The leader's PID; with a single master that is this one. */
  #leaderPid(): string {
    return this.pid;
  }
}
