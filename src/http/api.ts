/**
 * The HTTP API: Mesos-DNS's `/v1` endpoints with the same JSON shapes (views.ts), and the
 * operational endpoints Mesos-DNS lacks: `/health`, `/ready`, `/metrics` and `/config`. Reads the
 * store and the config; never touches Mesos.
 */
import http from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Config, HostPort } from '../config/index.js';
import { configToYaml, formatDuration, redactConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { RecordSet } from '../records/index.js';
import type { ConfigFacts } from './views.js';
import { jsonChunks } from './json-stream.js';
import {
  axfrBody,
  enumerateBody,
  hostsView,
  mesosDnsConfigView,
  pathName,
  servicesView,
  versionView,
} from './views.js';

/** What the API reads from the store. */
export interface SnapshotView {
  readonly records: RecordSet;
  readonly zone: { readonly serial: number };
  /** When this snapshot was published (ms since the epoch). */
  readonly loadedAt: number;
}

/** A rendered metrics scrape. */
export interface MetricsScrape {
  readonly contentType: string;
  readonly body: string;
}

/** What `/health` tells about the state source; facts not known yet are null. */
export interface SourceHealth {
  /** `file` (mesos.stateFile), `poll`, `stream`, or `poll-fallback` (a master without the v1 API). */
  readonly mode: 'file' | 'poll' | 'stream' | 'poll-fallback';
  /** The leading master's pid as the last state named it. */
  readonly leader: string | null;
  /** Base URL the last state came from. */
  readonly leaderUrl: string | null;
  readonly leaderChanges: number;
  /** When the last state was fetched (ISO 8601). */
  readonly lastFetchAt: string | null;
  /** Failed polls or subscriptions since the last success. */
  readonly consecutiveFailures: number;
  /** Stream mode: whether the event stream is open now. */
  readonly streamConnected?: boolean;
}

/** What `/health` tells about the pipeline worker thread (pipeline/pipeline.ts). */
export interface WorkerHealth {
  readonly running: boolean;
  /** Unexpected exits since the start; each is followed by a restart after a backoff. */
  readonly restarts: number;
  /** The last unexpected exit: when (ISO 8601), the exit code and why. */
  readonly lastExit: { readonly at: string; readonly code: number; readonly reason: string } | null;
  /** When the next restart is due while the worker is down (ISO 8601). */
  readonly nextRestartAt: string | null;
}

/** The details `/health` adds to its `status` (main.ts gathers them). */
export interface HealthDetails {
  readonly source?: SourceHealth;
  readonly worker?: WorkerHealth;
}

/** Options of `HttpApi`. */
export interface HttpApiOptions {
  readonly listen: HostPort;
  readonly store: { readonly current: SnapshotView | undefined };
  readonly config: () => Config;
  readonly version: string;
  readonly logger: Logger;
  /** The last state load error (`code: message`), shown by `/ready` while not ready and `/health`. */
  readonly lastError?: () => string | undefined;
  /**
   * Age of the data served (ms), reported by `/ready` and `/health` and checked against
   * `http.readyMaxAge` when that is set (opt-in); undefined when the data does not age (a state
   * file is the truth until it changes).
   */
  readonly dataAgeMs?: () => number | undefined;
  /** Whether the DNS listeners are bound (`/ready` fails while they are not); default: bound. */
  readonly dnsListening?: () => boolean;
  /** What `/health` reports besides the zone and the readiness. */
  readonly healthDetails?: () => HealthDetails;
  /** What `/v1/config` needs besides the config; defaults: no file, the configured resolvers. */
  readonly configFacts?: () => Omit<ConfigFacts, 'serial'>;
  /** Renders `/metrics`; the endpoint is 404 without it. */
  /** The metrics: every family, or only those named (`/metrics?name[]=a&name[]=b`). */
  readonly metrics?: (names: readonly string[]) => Promise<MetricsScrape>;
  /** At most this many connections at once (read per connection); more are closed at once. */
  readonly maxConnections?: () => number;
  /** Told about every connection or request turned away (see `HttpRefusal`). */
  readonly onRefused?: (reason: HttpRefusal) => void;
  /** Default `IDLE_TIMEOUT_MS`; shorter in tests. */
  readonly idleTimeoutMs?: number;
  /** Default `LARGE_RESPONSE_DEADLINE_MS`; shorter in tests. */
  readonly largeDeadlineMs?: number;
}

/**
 * Why a client was turned away: `connections` (`maxConnections` were open), `busy` (as many
 * large responses as allowed were being sent, or this client's share of them), `timeout` (a
 * client that sent no request or read no response for `IDLE_TIMEOUT_MS`, or took longer than
 * `LARGE_RESPONSE_DEADLINE_MS` for a large one).
 */
export type HttpRefusal = 'connections' | 'busy' | 'timeout';

/** One HTTP answer, before it is written. */
export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A large body (`/v1/enumerate`, `/v1/axfr`), rendered in chunks while it is sent, with
   * `body` empty: the thread that renders it answers DNS too (see `HttpApi`).
   */
  readonly chunks?: () => Iterable<string>;
}

/** The whole text of a response: its body, or its chunks joined (tests, small sets). */
export function responseText(response: HttpResponse): string {
  return response.chunks === undefined ? response.body : [...response.chunks()].join('');
}

type Handler = () => HttpResponse | Promise<HttpResponse>;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const YAML_TYPE = 'application/yaml; charset=utf-8';
const ALLOW = 'GET, HEAD';
/** Active requests get this long to finish on close before their connections are cut. */
const CLOSE_GRACE_MS = 2_000;
/** Default of `maxConnections` (`http.maxConnections`). */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** Large responses being sent at once, in all and to one client address. */
export const MAX_LARGE_RESPONSES = 4;
export const MAX_LARGE_RESPONSES_PER_CLIENT = 2;
/** A large response that is not sent within this long is cut (a client reading slowly). */
export const LARGE_RESPONSE_DEADLINE_MS = 300_000;
/** A connection that sends nothing and reads nothing for this long is closed. */
export const IDLE_TIMEOUT_MS = 30_000;
/** The request line and headers must arrive within this long. */
const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request must arrive within this long. */
const REQUEST_TIMEOUT_MS = 30_000;

function json(body: unknown, status = 200): HttpResponse {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body, null, 2) + '\n' };
}

function text(status: number, body: string): HttpResponse {
  return { status, contentType: TEXT, body };
}

/** A large JSON body, rendered while it is sent (of the snapshot current when asked). */
function large(chunks: () => Iterable<string>): HttpResponse {
  return { status: 200, contentType: JSON_TYPE, body: '', chunks };
}

/** Mesos-DNS's (go-restful's) answer to an unknown path. */
const NOT_FOUND = text(404, '404: Page Not Found');

/**
 * The metric families a `/metrics` request names (`?name[]=a&name[]=b`, as the Prometheus Java
 * client's exporter reads them); none: every family.
 */
function metricNames(target: string): string[] {
  const query = target.indexOf('?');
  if (query < 0) return [];
  return new URLSearchParams(target.slice(query + 1)).getAll('name[]');
}

/**
 * The segments of a request target's path, matched exactly: `//v1//config` or `/v1/config/` is
 * no route (it was once served as `/config`), and a target in absolute form
 * (`http://any-host/v1/version`) counts by its path alone: the `Host` decides nothing.
 * Undefined for anything else.
 */
function pathParts(target: string): string[] | undefined {
  let pathname: string;
  try {
    if (target.startsWith('/')) {
      // Not `new URL(target, base)`: `//v1/x` would be read as the host `v1`.
      pathname = new URL(`http://localhost${target}`).pathname;
    } else if (/^https?:\/\//i.test(target)) {
      pathname = new URL(target).pathname;
    } else {
      return undefined;
    }
  } catch {
    return undefined;
  }
  const parts = pathname.split('/').slice(1);
  return parts.every((p) => p !== '') ? parts : undefined;
}

/**
 * The HTTP server. `start()`/`close()`; `handle()` is the routing, exposed for tests.
 *
 * It shares its thread with the DNS server, so no client may hold that thread or its memory:
 * large bodies are rendered a chunk (`jsonChunks`, well under a millisecond of work) at a time, as fast as the
 * client reads them and with a turn of the event loop between chunks, at most
 * `MAX_LARGE_RESPONSES` at once (`MAX_LARGE_RESPONSES_PER_CLIENT` per client address: more get
 * 503); connections are capped, and one that sends or reads nothing for `IDLE_TIMEOUT_MS` is
 * closed.
 */
export class HttpApi {
  readonly #options: HttpApiOptions;
  #server: http.Server | undefined;
  /** Large responses being sent, by client address. */
  readonly #large = new Map<string, number>();
  #largeCount = 0;

  constructor(options: HttpApiOptions) {
    this.#options = options;
  }

  /** The bound port (useful with port 0); 0 before `start()`. */
  get port(): number {
    const address = this.#server?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /**
   * Answers one request: 404 for unknown paths, 405 (with `Allow`) for methods other than GET
   * and HEAD on known ones. Never throws for bad input.
   */
  async handle(method: string, target: string): Promise<HttpResponse> {
    const parts = pathParts(target);
    const handler = parts === undefined ? undefined : this.#match(parts, target);
    if (handler === undefined) return NOT_FOUND;
    if (method !== 'GET' && method !== 'HEAD') {
      return { ...text(405, '405: Method Not Allowed'), headers: { Allow: ALLOW } };
    }
    return handler();
  }

  #match(parts: readonly string[], target: string): Handler | undefined {
    const [a, b, c, d] = parts;
    if (parts.length === 1) {
      if (a === 'health') return () => this.#health();
      if (a === 'ready') return () => this.#ready();
      if (a === 'metrics' && this.#options.metrics !== undefined) {
        const render = this.#options.metrics;
        return async () => {
          const scrape = await render(metricNames(target));
          return { status: 200, contentType: scrape.contentType, body: scrape.body };
        };
      }
      if (a === 'config') {
        return () => ({
          status: 200,
          contentType: YAML_TYPE,
          body: configToYaml(redactConfig(this.#options.config())),
        });
      }
      return undefined;
    }
    if (a !== 'v1' || b === undefined) return undefined;
    if (parts.length === 2) {
      switch (b) {
        case 'version':
          return () => json(versionView(this.#options.version));
        case 'config':
          return () => json(mesosDnsConfigView(this.#options.config(), this.#facts()));
        case 'enumerate':
          return () => {
            const records = this.#options.store.current?.records;
            return large(() => jsonChunks(enumerateBody(records)));
          };
        case 'axfr':
          return () => {
            const current = this.#options.store.current;
            const config = this.#options.config();
            return large(() =>
              jsonChunks(axfrBody(config, current?.records, current?.zone.serial)),
            );
          };
        default:
          return undefined;
      }
    }
    if (c === undefined) return undefined;
    if (parts.length === 3 && b === 'hosts') {
      return () => {
        const name = pathName(c);
        if (name === undefined) return NOT_FOUND;
        return json(hostsView(this.#options.store.current?.records, name));
      };
    }
    // Mesos-DNS registers this route and answers it so.
    if (parts.length === 4 && b === 'hosts' && d === 'ports') {
      return () => text(501, 'To be implemented...');
    }
    if (parts.length === 3 && b === 'services') {
      return () => {
        const name = pathName(c);
        if (name === undefined) return NOT_FOUND;
        const service = decodeURIComponent(c);
        return json(servicesView(this.#options.store.current?.records, name, service));
      };
    }
    return undefined;
  }

  #facts(): ConfigFacts {
    const config = this.#options.config();
    const given = this.#options.configFacts?.();
    return {
      file: given?.file ?? '',
      resolvers: given?.resolvers ?? config.forward.resolvers,
      serial: this.#options.store.current?.zone.serial,
    };
  }

  /**
   * Ready means "this process answers the cluster domain": a zone is loaded and the DNS
   * listeners are bound. Data age fails it only when `http.readyMaxAge` is set (opt-in, as
   * CoreDNS's `ready` plugin never looks at data age): in a master outage every replica ages at
   * the same pace, and all of them leaving the Service at once would take DNS away while each
   * could still answer from its last zone. Otherwise 503 with the reason (and the last error).
   */
  #ready(): HttpResponse {
    if (this.#options.dnsListening?.() === false) {
      return json({ ready: false, reason: 'the DNS listeners are not bound' }, 503);
    }
    const current = this.#options.store.current;
    const lastError = this.#options.lastError?.();
    if (current === undefined) {
      return json({ ready: false, reason: lastError ?? 'no state loaded yet' }, 503);
    }
    const ageMs = this.#options.dataAgeMs?.();
    const maxAgeMs = this.#options.config().http.readyMaxAgeMs;
    const age = ageMs === undefined ? {} : { ageSeconds: Math.floor(ageMs / 1000) };
    // 0 (the default): off. Data age alone never takes the instance out of rotation.
    if (maxAgeMs > 0 && ageMs !== undefined && ageMs > maxAgeMs) {
      const reason = `data is ${formatDuration(Math.floor(ageMs / 1000) * 1000)} old, more than http.readyMaxAge (${formatDuration(maxAgeMs)})`;
      return json(
        {
          ready: false,
          reason: lastError === undefined ? reason : `${reason}; last error: ${lastError}`,
          serial: current.zone.serial,
          ...age,
        },
        503,
      );
    }
    return json({
      ready: true,
      serial: current.zone.serial,
      loadedAt: new Date(current.loadedAt).toISOString(),
      ...age,
    });
  }

  /**
   * Liveness: 200 whenever the process can answer HTTP, whatever the data. The body says what an
   * operator looks at first (JSON): readiness, the zone served and its data age, the last load
   * error, the state source (leader, stream) and the pipeline worker (restarts). A failing detail
   * is reported in the body, never as a failed probe.
   */
  #health(): HttpResponse {
    const current = this.#options.store.current;
    let ready = false;
    let ageMs: number | undefined;
    let lastError: string | undefined;
    let details: HealthDetails = {};
    let detailsError: string | undefined;
    try {
      ready = this.#ready().status === 200;
      ageMs = this.#options.dataAgeMs?.();
      lastError = this.#options.lastError?.();
      details = this.#options.healthDetails?.() ?? {};
    } catch (err) {
      detailsError = err instanceof Error ? err.message : String(err);
    }
    return json({
      status: 'ok',
      ready,
      zone:
        current === undefined
          ? null
          : {
              serial: current.zone.serial,
              loadedAt: new Date(current.loadedAt).toISOString(),
              ageSeconds: ageMs === undefined ? null : Math.floor(ageMs / 1000),
            },
      lastError: lastError ?? null,
      ...details,
      ...(detailsError === undefined ? {} : { detailsError }),
    });
  }

  /** Binds the listener; rejects when the address cannot be bound. */
  async start(): Promise<void> {
    const server = http.createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
      (req, res) => {
        void this.#respond(req, res);
      },
    );
    server.keepAliveTimeout = 5_000;
    let open = 0;
    server.on('connection', (socket) => {
      open++;
      socket.once('close', () => {
        open--;
      });
      if (open > (this.#options.maxConnections?.() ?? DEFAULT_MAX_CONNECTIONS)) {
        this.#options.onRefused?.('connections');
        socket.destroy();
      }
    });
    // Without a 'timeout' listener Node destroys the idle socket itself; count it first.
    server.setTimeout(this.#options.idleTimeoutMs ?? IDLE_TIMEOUT_MS, (socket) => {
      this.#options.onRefused?.('timeout');
      socket.destroy();
    });
    const { host, port } = this.#options.listen;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => {
      this.#options.logger.error('HTTP server error', { error: err.message });
    });
    this.#server = server;
  }

  async #respond(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let result: HttpResponse;
    try {
      result = await this.handle(req.method ?? 'GET', req.url ?? '/');
    } catch (err) {
      this.#options.logger.error('HTTP handler failed', {
        path: req.url,
        error: err instanceof Error ? err.message : String(err),
      });
      result = text(500, '500: Internal Server Error');
    }
    if (result.chunks !== undefined) {
      await this.#sendLarge(req, res, result, result.chunks);
      return;
    }
    res.writeHead(result.status, {
      'Content-Type': result.contentType,
      'Content-Length': Buffer.byteLength(result.body),
      ...result.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : result.body);
  }

  /**
   * Sends a large body chunk by chunk: the next chunk is rendered only once the client has taken
   * the last one, and the event loop (DNS) gets a turn between chunks. 503 with `Retry-After`
   * when too many are being sent (see the class comment).
   */
  async #sendLarge(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    result: HttpResponse,
    chunks: () => Iterable<string>,
  ): Promise<void> {
    const client = req.socket.remoteAddress ?? '';
    const mine = this.#large.get(client) ?? 0;
    if (this.#largeCount >= MAX_LARGE_RESPONSES || mine >= MAX_LARGE_RESPONSES_PER_CLIENT) {
      this.#options.onRefused?.('busy');
      const body = '503: too many large responses are being sent; retry later\n';
      res.writeHead(503, {
        'Content-Type': TEXT,
        'Content-Length': Buffer.byteLength(body),
        'Retry-After': '1',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    this.#largeCount++;
    this.#large.set(client, mine + 1);
    // An object: it is flipped by an event callback, which TS flow analysis cannot see.
    const response = { isGone: false };
    const gone = new Promise<void>((resolve) => {
      res.once('close', () => {
        response.isGone = true;
        resolve();
      });
    });
    const deadline = setTimeout(() => {
      this.#options.onRefused?.('timeout');
      res.destroy();
    }, this.#options.largeDeadlineMs ?? LARGE_RESPONSE_DEADLINE_MS);
    const iterator = chunks()[Symbol.iterator]();
    try {
      res.writeHead(result.status, { 'Content-Type': result.contentType, ...result.headers });
      if (req.method === 'HEAD') return;
      for (;;) {
        if (response.isGone) return;
        const next = iterator.next();
        if (next.done === true) break;
        if (!res.write(next.value)) {
          await Promise.race([new Promise((resolve) => res.once('drain', resolve)), gone]);
        }
        // Always a turn of the event loop: a write the kernel takes at once emits 'drain' from
        // process.nextTick, and a client reading as fast as loopback allows would otherwise
        // keep DNS from the thread for a quarter of a second at a time.
        await nextTurn();
      }
    } catch (err) {
      // Mid-body, a status can no longer be sent: cut the response so the client sees it fail.
      this.#options.logger.error('HTTP handler failed', {
        path: req.url,
        error: err instanceof Error ? err.message : String(err),
      });
      res.destroy();
    } finally {
      clearTimeout(deadline);
      iterator.return?.();
      this.#largeCount--;
      const left = (this.#large.get(client) ?? 1) - 1;
      if (left > 0) this.#large.set(client, left);
      else this.#large.delete(client);
      if (!response.isGone) res.end();
    }
  }

  /**
   * Stops accepting, closes idle keep-alive connections, lets requests in flight finish for up
   * to `graceMs`, then cuts what is left.
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    const timer = setTimeout(() => {
      server.closeAllConnections();
    }, graceMs);
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeIdleConnections();
    });
    clearTimeout(timer);
  }
}
