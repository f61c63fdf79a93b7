/**
 * The HTTP API: Mesos-DNS's `/v1` endpoints with the same JSON shapes (views.ts), and the
 * operational endpoints Mesos-DNS lacks: `/health`, `/ready`, `/metrics` and `/config`. Reads the
 * store and the config; never touches Mesos.
 */
import http from 'node:http';
import type { Config, HostPort } from '../config/index.js';
import { configToYaml, formatDuration, redactConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { RecordSet } from '../records/index.js';
import type { ConfigFacts } from './views.js';
import {
  axfrView,
  enumerateView,
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

/** What `/health` tells about the pipeline worker thread (build/pipeline.ts). */
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
  readonly metrics?: () => Promise<MetricsScrape>;
}

/** One HTTP answer, before it is written. */
export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

type Handler = () => HttpResponse | Promise<HttpResponse>;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const YAML_TYPE = 'application/yaml; charset=utf-8';
const ALLOW = 'GET, HEAD';
/** Active requests get this long to finish on close before their connections are cut. */
const CLOSE_GRACE_MS = 2_000;

function json(body: unknown, status = 200): HttpResponse {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body, null, 2) + '\n' };
}

function text(status: number, body: string): HttpResponse {
  return { status, contentType: TEXT, body };
}

/** Mesos-DNS's (go-restful's) answer to an unknown path. */
const NOT_FOUND = text(404, '404: Page Not Found');

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

/** The HTTP server. `start()`/`close()`; `handle()` is the routing, exposed for tests. */
export class HttpApi {
  readonly #options: HttpApiOptions;
  #server: http.Server | undefined;

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
    const handler = parts === undefined ? undefined : this.#match(parts);
    if (handler === undefined) return NOT_FOUND;
    if (method !== 'GET' && method !== 'HEAD') {
      return { ...text(405, '405: Method Not Allowed'), headers: { Allow: ALLOW } };
    }
    return handler();
  }

  #match(parts: readonly string[]): Handler | undefined {
    const [a, b, c, d] = parts;
    if (parts.length === 1) {
      if (a === 'health') return () => this.#health();
      if (a === 'ready') return () => this.#ready();
      if (a === 'metrics' && this.#options.metrics !== undefined) {
        const render = this.#options.metrics;
        return async () => {
          const scrape = await render();
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
          return () => json(enumerateView(this.#options.store.current?.records));
        case 'axfr':
          return () => {
            const current = this.#options.store.current;
            return json(axfrView(this.#options.config(), current?.records, current?.zone.serial));
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
    const server = http.createServer((req, res) => {
      void this.#respond(req, res);
    });
    server.keepAliveTimeout = 5_000;
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
    res.writeHead(result.status, {
      'Content-Type': result.contentType,
      'Content-Length': Buffer.byteLength(result.body),
      ...result.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : result.body);
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
