/**
 * The HTTP client of the Mesos master: `GET <base>/master/state` with keep-alive, gzip, a size
 * limit, a timeout per request, HTTP Basic auth and TLS (custom CA, client certificate), following
 * the masters' 307 redirects to the leader (docs/mesos-api.md 1). It knows nothing about
 * leaders beyond the redirects: leader.ts and poller.ts decide whom to ask.
 */
import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import http from 'node:http';
import https from 'node:https';
import type * as NodeFetch from 'node-fetch';
import type { Response } from 'node-fetch';
import type { Clock } from '../clock.js';
import { MesosDnsError, NoLeaderError, StateFetchError, StateParseError } from '../errors.js';
import { StateSyntaxError } from './document.js';
import type { ReadState } from './state-reader.js';
import { StateReader } from './state-reader.js';
import type { KnownTasks } from './task-digests.js';
import type { ParsedV1State } from './v1.js';
import { V1GetStateReader } from './v1-state-reader.js';

/** Largest state document accepted, after decompression (a 100k-task state is about 200 MB). */
export const DEFAULT_MAX_STATE_BYTES = 256 * 1024 * 1024;

/** Redirects followed for one state request (Mesos needs one; a stale follower may add one). */
export const MAX_REDIRECTS = 5;

/** The state path below a master's base URL (`/state` is its libprocess alias). */
export const STATE_PATH = '/master/state';

/** The state summary (agents and frameworks, no tasks) below a master's base URL. */
export const SUMMARY_PATH = '/master/state-summary';

/** The v1 operator API below a master's base URL (`/api/v1` is its libprocess alias). */
export const API_PATH = '/master/api/v1';

/** Calls of the v1 operator API that answer with one JSON document. */
export type ApiCall = 'GET_STATE' | 'GET_MASTER';

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/** TLS material as PEM text (already read from the files named in the config). */
export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** Skip verification of the masters' certificates. */
  readonly insecure?: boolean;
}

/** Options of `StateClient`. */
export interface StateClientOptions {
  /** Bound on one HTTP request, headers and body (`mesos.timeout`). */
  readonly timeoutMs: number;
  readonly clock: Clock;
  /**
   * HTTP Basic credentials, sent only with requests to a URL `sendTo` accepts (the masters the
   * leader detectors vouch for): never to a host named only by a redirect or a state.
   */
  readonly auth?: {
    readonly principal: string;
    readonly secret: string;
    readonly sendTo: (url: URL) => boolean;
  };
  readonly tls?: TlsMaterial;
  /** Default `DEFAULT_MAX_STATE_BYTES`. */
  readonly maxBytes?: number;
  /** `User-Agent` header; default `mesodns`. */
  readonly userAgent?: string;
}

/** An open `SUBSCRIBE` response: the event stream of the leading master. */
export interface EventStream {
  /** Base URL of the master that accepted the subscription, after redirects. */
  readonly url: string;
  /** The RecordIO bytes as they arrive (the stream ends when the master closes it). */
  readonly body: AsyncIterable<string | Buffer>;
  /** Ends the stream (the connection is destroyed). */
  close(): void;
}

/** A state document and how it was fetched. */
export interface FetchedState {
  /** The parsed JSON (untrusted: `parseState` validates it). */
  readonly doc: unknown;
  /** Base URL of the master that sent the document, after redirects (`http://10.0.0.1:5050`). */
  readonly url: string;
  /** Size of the decoded body. */
  readonly bytes: number;
  /** Milliseconds from the first request to the parsed document. */
  readonly fetchMs: number;
  /** Redirects followed. */
  readonly redirects: number;
}

/** A state read from a master (`readState`): the validated state, the head, how it was read. */
export interface ReadFromMaster extends ReadState {
  /** Base URL of the master that sent the document, after redirects. */
  readonly url: string;
  /** Size of the decoded body. */
  readonly bytes: number;
  /** Milliseconds from the first request to the validated state. */
  readonly fetchMs: number;
  /** Redirects followed. */
  readonly redirects: number;
}

/**
 * Reads the PEM files named by `mesos.tls` (empty names are skipped), synchronously at startup
 * and reload. Throws `ERR_CONFIG_READ` naming the key of a file that cannot be read.
 */
export function readTlsFiles(tls: {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly insecure: boolean;
}): TlsMaterial {
  const read = (key: 'ca' | 'cert' | 'key'): string | undefined => {
    const path = tls[key];
    if (path === '') return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new MesosDnsError(
        'ERR_CONFIG_READ',
        `mesos.tls.${key}: cannot read ${path}: ${messageOf(err)}`,
        { cause: err },
      );
    }
  };
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    insecure: tls.insecure,
  };
}

/**
 * A redirect led to a master already asked during the same poll (`visited`): asking it again
 * would only repeat its answer. The poller skips it silently.
 */
export class AlreadyAskedError extends StateFetchError {}

/**
 * The master does not offer the v1 operator API (404 on `/master/api/v1`, as before Mesos 1.0):
 * the stream falls back to polling `/master/state`.
 */
export class ApiUnsupportedError extends StateFetchError {}

/** The base URL (scheme, host, port and any path prefix) of a state or API URL. */
export function baseOf(url: URL): string {
  let path = url.pathname;
  for (const suffix of [
    STATE_PATH,
    '/state',
    SUMMARY_PATH,
    '/state-summary',
    API_PATH,
    '/api/v1',
  ]) {
    if (path.endsWith(suffix)) {
      path = path.slice(0, -suffix.length);
      break;
    }
  }
  return `${url.protocol}//${url.host}${path.replace(/\/+$/, '')}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/**
 * node-fetch, imported at the first request: the main thread and the commands that only read
 * files never ask a master, and the import costs CPU at every start (docs/performance.md).
 */
let nodeFetch: Promise<typeof NodeFetch> | undefined;
function loadNodeFetch(): Promise<typeof NodeFetch> {
  nodeFetch ??= import('node-fetch');
  return nodeFetch;
}

/**
 * Fetches state documents from masters. One instance keeps one keep-alive connection pool per
 * scheme; callers serialise their requests (the poller never has two in flight).
 */
export class StateClient {
  readonly #options: StateClientOptions;
  readonly #httpAgent: http.Agent;
  readonly #httpsAgent: https.Agent;
  readonly #headers: Readonly<Record<string, string>>;
  /** The headers with the credentials, and the URLs they may go to. */
  readonly #auth:
    | { readonly headers: Readonly<Record<string, string>>; readonly sendTo: (url: URL) => boolean }
    | undefined;

  /** Creates the client and its connection pools (TLS material is used as given). */
  constructor(options: StateClientOptions) {
    this.#options = options;
    this.#httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2, maxFreeSockets: 2 });
    const tls = options.tls ?? {};
    this.#httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 2,
      maxFreeSockets: 2,
      rejectUnauthorized: tls.insecure !== true,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
    });
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': options.userAgent ?? 'mesodns',
    };
    this.#headers = headers;
    const auth = options.auth;
    if (auth !== undefined && auth.principal !== '') {
      const token = Buffer.from(`${auth.principal}:${auth.secret}`).toString('base64');
      this.#auth = {
        headers: { ...headers, Authorization: `Basic ${token}` },
        sendTo: auth.sendTo,
      };
    }
  }

  /**
   * Fetches `<base>/master/state`, following up to `MAX_REDIRECTS` redirects (Mesos answers 307
   * with a protocol-relative `Location` from a master that does not lead). Each request is bounded
   * by the timeout; `signal` aborts everything (shutdown).
   *
   * Throws `NoLeaderError` on 503 (no leader elected), `StateFetchError` on transport errors,
   * other statuses, timeouts and oversized bodies, `StateParseError` when the body is not JSON.
   * Every base URL asked is added to `visited`; a redirect to one already in it throws
   * `AlreadyAskedError` instead of asking again.
   */
  async fetchState(
    base: string,
    signal?: AbortSignal,
    visited: Set<string> = new Set(),
  ): Promise<FetchedState> {
    return this.#fetchJson(base, STATE_PATH, undefined, signal, visited);
  }

  /**
   * Reads `<base>/master/state` as `fetchState` fetches it, but validated as its bytes arrive
   * (`StateReader`): neither the document's text nor its objects are ever held whole. A syntax
   * error is a `StateSyntaxError` naming its line and column.
   */
  async readState(
    base: string,
    signal?: AbortSignal,
    visited: Set<string> = new Set(),
  ): Promise<ReadFromMaster> {
    const started = this.#options.clock.now();
    const { res, url, redirects } = await this.#follow(
      base,
      STATE_PATH,
      undefined,
      signal,
      visited,
    );
    const { read, bytes } = await this.#readInto(res, url, new StateReader(), 'state');
    return {
      ...read,
      url: baseOf(url),
      bytes,
      fetchMs: this.#options.clock.now() - started,
      redirects,
    };
  }

  /**
   * The `GET_STATE` call of `<base>`'s v1 API, read as its bytes arrive (`V1GetStateReader`:
   * neither the answer's text nor its objects are held whole; tasks compacted, and those whose
   * slice `known` knows taken unparsed). Errors as `readState`.
   */
  async readGetState(
    base: string,
    signal?: AbortSignal,
    known?: KnownTasks,
  ): Promise<ParsedV1State> {
    const { res, url } = await this.#follow(base, API_PATH, 'GET_STATE', signal, new Set());
    const reader = new V1GetStateReader({
      compact: true,
      ...(known === undefined ? {} : { knownTasks: known }),
    });
    return (await this.#readInto(res, url, reader, 'GET_STATE')).read;
  }

  /**
   * Hands the body to `reader` as it arrives (`#read`); what it read, and the body's size. Its
   * syntax and validation errors name the master (`what` names the document in a syntax error).
   */
  async #readInto<T>(
    res: Response,
    url: URL,
    reader: { push(piece: Buffer): void; end(): T },
    what: string,
  ): Promise<{ read: T; bytes: number }> {
    try {
      const bytes = await this.#read(res, url, (piece) => {
        reader.push(piece);
      });
      return { read: reader.end(), bytes };
    } catch (err) {
      if (err instanceof StateSyntaxError) {
        const message = `${url.origin}: ${what} is ${err.message}`;
        throw new StateSyntaxError(message, err.line, err.column, { cause: err });
      }
      if (err instanceof StateParseError) {
        throw new StateParseError(`${url.origin}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Fetches `<base>/master/state-summary` (frameworks with their pids, agents, no tasks), as
   * `fetchState` does.
   */
  fetchSummary(base: string, signal?: AbortSignal): Promise<FetchedState> {
    return this.#fetchJson(base, SUMMARY_PATH, undefined, signal, new Set());
  }

  /**
   * Calls the v1 operator API of `<base>` (`POST /master/api/v1 {"type": call}`) and returns the
   * JSON answer, with the redirects, limits and errors of `fetchState`. A master without the v1
   * API (404) throws `ApiUnsupportedError`.
   */
  callApi(base: string, call: ApiCall, signal?: AbortSignal): Promise<FetchedState> {
    return this.#fetchJson(base, API_PATH, call, signal, new Set());
  }

  /** One JSON document from `<base><path>` (a GET, or a v1 API call), redirects followed. */
  async #fetchJson(
    base: string,
    path: string,
    call: ApiCall | undefined,
    signal: AbortSignal | undefined,
    visited: Set<string>,
  ): Promise<FetchedState> {
    const started = this.#options.clock.now();
    const { res, url, redirects } = await this.#follow(base, path, call, signal, visited);
    const { text, bytes } = await this.#text(res, url);
    return {
      doc: parseBody(text, url),
      url: baseOf(url),
      bytes,
      fetchMs: this.#options.clock.now() - started,
      redirects,
    };
  }

  /**
   * Subscribes to the event stream of `<base>` (`POST /master/api/v1 {"type":"SUBSCRIBE"}`),
   * following redirects to the leader. The timeout bounds the wait for the response headers
   * only: the stream stays open, and the caller watches it (heartbeats). `signal` or `close()`
   * ends it. Errors as `callApi`.
   */
  async subscribe(base: string, signal?: AbortSignal): Promise<EventStream> {
    const own = new AbortController();
    const both = signal === undefined ? own.signal : AbortSignal.any([own.signal, signal]);
    const { res, url } = await this.#follow(base, API_PATH, 'SUBSCRIBE', both, new Set());
    const body = res.body;
    if (body === null) throw new StateFetchError(url.origin, 'SUBSCRIBE answered without a body');
    return {
      url: baseOf(url),
      body,
      close: () => {
        own.abort();
      },
    };
  }

  /**
   * Requests `<base><path>` (a GET, or a v1 API POST of `call`), following up to
   * `MAX_REDIRECTS` redirects; returns the first non-redirect answer with a 2xx status.
   */
  async #follow(
    base: string,
    path: string,
    call: ApiCall | 'SUBSCRIBE' | undefined,
    signal: AbortSignal | undefined,
    visited: Set<string>,
  ): Promise<{ res: Response; url: URL; redirects: number }> {
    let url = new URL(`${base.replace(/\/+$/, '')}${path}`);
    for (let redirects = 0; ; redirects++) {
      const asked = baseOf(url);
      if (redirects > 0 && visited.has(asked)) {
        throw new AlreadyAskedError(base, `redirects to ${asked}, already asked`);
      }
      visited.add(asked);
      const res = await this.#request(url, signal, call);
      const location = res.headers.get('location');
      if (!REDIRECT_STATUSES.has(res.status) || location === null) return { res, url, redirects };
      res.body?.resume();
      if (redirects >= MAX_REDIRECTS) {
        throw new StateFetchError(
          base,
          `more than ${String(MAX_REDIRECTS)} redirects (last to ${location})`,
        );
      }
      let next: URL;
      try {
        next = new URL(location, url); // `//leader:5050/master/state` keeps the scheme
      } catch (err) {
        throw new StateFetchError(url.origin, `bad redirect location '${location}'`, {
          cause: err,
        });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new StateFetchError(url.origin, `redirect to unsupported URL '${location}'`);
      }
      url = next;
    }
  }

  /** One request (one retry when a kept-alive connection turns out to be closed). */
  async #request(
    url: URL,
    signal: AbortSignal | undefined,
    call: ApiCall | 'SUBSCRIBE' | undefined,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#requestOnce(url, signal, call);
      } catch (err) {
        const cause = err instanceof StateFetchError ? err.cause : undefined;
        const code = codeOf(cause);
        if (attempt > 0 || code === undefined || !RETRYABLE_CODES.has(code)) throw err;
      }
    }
  }

  async #requestOnce(
    url: URL,
    signal: AbortSignal | undefined,
    call: ApiCall | 'SUBSCRIBE' | undefined,
  ): Promise<Response> {
    const { timeoutMs } = this.#options;
    const isStream = call === 'SUBSCRIBE';
    // A stream is bounded only until its headers arrive; anything else, body included.
    const timer = new AbortController();
    const timeout = timer.signal;
    const timeoutHandle = setTimeout(() => {
      timer.abort();
    }, timeoutMs);
    const both = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
    let res: Response;
    try {
      const { default: fetch } = await loadNodeFetch();
      const headers = this.#auth?.sendTo(url) === true ? this.#auth.headers : this.#headers;
      res = await fetch(url.href, {
        headers: call === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
        ...(call === undefined ? {} : { method: 'POST', body: JSON.stringify({ type: call }) }),
        signal: both,
        redirect: 'manual',
        compress: !isStream,
        size: isStream ? 0 : (this.#options.maxBytes ?? DEFAULT_MAX_STATE_BYTES),
        agent: (u) => (u.protocol === 'https:' ? this.#httpsAgent : this.#httpAgent),
      });
    } catch (err) {
      clearTimeout(timeoutHandle);
      throw this.#transportError(url, err, timeout, signal);
    }
    if (isStream) clearTimeout(timeoutHandle);
    else {
      res.body?.once('close', () => {
        clearTimeout(timeoutHandle);
      });
    }
    if (res.ok || REDIRECT_STATUSES.has(res.status)) {
      // Keep the timeout for the body: the caller reads it under the same signal.
      return res;
    }
    const text = await res.text().catch(() => '');
    const detail = text.trim().slice(0, 200);
    const what = `HTTP ${String(res.status)}${detail === '' ? '' : ` ${detail}`}`;
    clearTimeout(timeoutHandle);
    if (res.status === 503) throw new NoLeaderError(`${url.origin}: ${what}`);
    if (res.status === 404 && call !== undefined) {
      throw new ApiUnsupportedError(url.origin, `${what} (no v1 operator API)`);
    }
    if (res.status === 401 || res.status === 403) {
      throw new StateFetchError(url.origin, `${what} (check mesos.auth)`);
    }
    throw new StateFetchError(url.origin, what);
  }

  /**
   * The body as text (UTF-8, a leading BOM dropped), decoded chunk by chunk as it arrives: no
   * chunk is kept and no whole copy of the bytes is made. At most `maxBytes`.
   */
  async #text(res: Response, url: URL): Promise<{ text: string; bytes: number }> {
    const decoder = new StringDecoder('utf8');
    const parts: string[] = [];
    const bytes = await this.#read(res, url, (piece) => {
      parts.push(decoder.write(piece));
    });
    parts.push(decoder.end());
    const text = parts.join('');
    return { text: text.startsWith('\uFEFF') ? text.slice(1) : text, bytes };
  }

  /**
   * Hands the body's chunks to `take` as they arrive, none kept; the size. More than
   * `maxBytes` fails as soon as the limit is passed (and drops the connection).
   */
  async #read(res: Response, url: URL, take: (piece: Buffer) => void): Promise<number> {
    const limit = this.#options.maxBytes ?? DEFAULT_MAX_STATE_BYTES;
    let bytes = 0;
    try {
      for await (const chunk of res.body ?? []) {
        const piece = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += piece.byteLength;
        if (bytes > limit) {
          // Leaving the loop destroys the body stream (and its connection).
          throw new StateFetchError(url.origin, `state larger than ${String(limit)} bytes`);
        }
        take(piece);
      }
    } catch (err) {
      if (err instanceof MesosDnsError) throw err;
      throw this.#transportError(url, err, undefined, undefined);
    }
    return bytes;
  }

  #transportError(
    url: URL,
    err: unknown,
    timeout: AbortSignal | undefined,
    signal: AbortSignal | undefined,
  ): StateFetchError {
    const { timeoutMs, maxBytes } = this.#options;
    const message = messageOf(err);
    if (signal?.aborted === true) return new StateFetchError(url.origin, 'aborted', { cause: err });
    if (timeout?.aborted === true || /timeout|aborted/i.test(message)) {
      return new StateFetchError(
        url.origin,
        `no complete answer within ${String(timeoutMs)} ms (mesos.timeout)`,
        { cause: err },
      );
    }
    if (/max-size|over limit|content size/i.test(message) || codeOf(err) === 'max-size') {
      const limit = maxBytes ?? DEFAULT_MAX_STATE_BYTES;
      return new StateFetchError(url.origin, `state larger than ${String(limit)} bytes`, {
        cause: err,
      });
    }
    return new StateFetchError(url.origin, message, { cause: err });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}

function parseBody(text: string, url: URL): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new StateParseError(`${url.origin}: state is not valid JSON: ${messageOf(err)}`, {
      cause: err,
    });
  }
}
