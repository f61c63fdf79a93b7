/**
 * The HTTP API: Mesos-DNS's `/v1` endpoints with the same JSON shapes (reference/mesos-dns.md
 * section 6), plus `/health` and `/ready`. Reads the store; never touches Mesos.
 */
import http from 'node:http';
import type { Config, HostPort } from '../config/index.js';
import { redactConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { RecordSet } from '../records/index.js';

/** What the API reads from the store. */
export interface SnapshotView {
  readonly records: RecordSet;
  readonly zone: { readonly serial: number };
  readonly loadedAt: number;
}

/** Options of `HttpApi`. */
export interface HttpApiOptions {
  readonly listen: HostPort;
  readonly store: { readonly current: SnapshotView | undefined };
  readonly config: () => Config;
  readonly version: string;
  readonly logger: Logger;
  readonly loader: {
    readonly stats: { readonly lastError: string | undefined; readonly loads: number };
  };
}

type Route = (parts: readonly string[]) => { status: number; body: unknown } | undefined;

function fqdn(name: string): string {
  const lower = decodeURIComponent(name).toLowerCase().replaceAll('.*', '');
  return lower.endsWith('.') ? lower : lower + '.';
}

/** The HTTP server. `start()`/`close()`. */
export class HttpApi {
  readonly #options: HttpApiOptions;
  #server: http.Server | undefined;

  constructor(options: HttpApiOptions) {
    this.#options = options;
  }

  /** Handles one request path (GET only) and returns status and body; exposed for tests. */
  route(method: string, path: string): { status: number; body: unknown; text?: boolean } {
    const url = new URL(path, 'http://x');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const route = this.#match(parts);
    if (route === undefined) return { status: 404, body: '404: Page Not Found', text: true };
    if (method !== 'GET' && method !== 'HEAD')
      return { status: 405, body: '405: Method Not Allowed', text: true };
    const result = route(parts);
    return result ?? { status: 404, body: '404: Page Not Found', text: true };
  }

  #match(parts: readonly string[]): Route | undefined {
    const [a, b, c] = parts;
    if (parts.length === 1 && a === 'health')
      return () => ({ status: 200, body: { status: 'ok' } });
    if (parts.length === 1 && a === 'ready') return () => this.#ready();
    if (a !== 'v1') return undefined;
    if (parts.length === 2 && b === 'version') {
      return () => ({
        status: 200,
        body: {
          Service: 'mesodns',
          URL: 'https://github.com/mesodns/mesodns',
          Version: this.#options.version,
        },
      });
    }
    if (parts.length === 2 && b === 'config')
      return () => ({ status: 200, body: redactConfig(this.#options.config()) });
    if (parts.length === 3 && b === 'hosts' && c !== undefined) return () => this.#hosts(c);
    if (parts.length === 3 && b === 'services' && c !== undefined) return () => this.#services(c);
    if (parts.length === 2 && b === 'enumerate') return () => this.#enumerate();
    if (parts.length === 2 && b === 'axfr') return () => this.#axfr();
    return undefined;
  }

  #ready(): { status: number; body: unknown } {
    const current = this.#options.store.current;
    if (current === undefined) {
      return {
        status: 503,
        body: {
          ready: false,
          reason: this.#options.loader.stats.lastError ?? 'no state loaded yet',
        },
      };
    }
    return {
      status: 200,
      body: {
        ready: true,
        serial: current.zone.serial,
        loadedAt: new Date(current.loadedAt).toISOString(),
      },
    };
  }

  #hosts(host: string): { status: number; body: unknown } {
    const records = this.#options.store.current?.records;
    const name = fqdn(host);
    const out: { host: string; ip: string }[] = [];
    for (const ip of records?.a.get(name) ?? []) out.push({ host: name, ip });
    for (const ip of records?.aaaa.get(name) ?? []) out.push({ host: name, ip });
    return { status: 200, body: out.length > 0 ? out : [{ host: '', ip: '' }] };
  }

  #services(service: string): { status: number; body: unknown } {
    const records = this.#options.store.current?.records;
    const out: { service: string; host: string; ip: string; port: string }[] = [];
    for (const srv of records?.srv.get(fqdn(service)) ?? []) {
      const a = records?.a.get(srv.target)?.[0];
      const aaaa = records?.aaaa.get(srv.target)?.[0];
      if (a !== undefined) out.push({ service, host: srv.target, ip: a, port: String(srv.port) });
      if (aaaa !== undefined)
        out.push({ service, host: srv.target, ip: aaaa, port: String(srv.port) });
    }
    return {
      status: 200,
      body: out.length > 0 ? out : [{ service: '', host: '', ip: '', port: '' }],
    };
  }

  #enumerate(): { status: number; body: unknown } {
    const records = this.#options.store.current?.records;
    return { status: 200, body: { frameworks: records?.enumeration ?? [] } };
  }

  #axfr(): { status: number; body: unknown } {
    const current = this.#options.store.current;
    const config = this.#options.config();
    const obj = (
      m: ReadonlyMap<string, readonly string[]> | undefined,
    ): Record<string, readonly string[]> => Object.fromEntries(m ?? []);
    const srvs: Record<string, string[]> = {};
    for (const [name, targets] of current?.records.srv ?? []) {
      srvs[name] = targets.map((t) => `${t.target}:${String(t.port)}`);
    }
    return {
      status: 200,
      body: {
        TTL: config.records.ttl,
        Serial: current?.zone.serial ?? 0,
        RefreshSeconds: Math.round(config.mesos.refreshMs / 1000),
        Mname: config.dns.soa.mname,
        Rname: config.dns.soa.rname,
        Domain: config.domain,
        Records: { As: obj(current?.records.a), AAAAs: obj(current?.records.aaaa), SRVs: srvs },
      },
    };
  }

  /** Binds the listener. */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      let result: { status: number; body: unknown; text?: boolean };
      try {
        result = this.route(req.method ?? 'GET', req.url ?? '/');
      } catch (err) {
        this.#options.logger.error('HTTP handler failed', {
          error: err instanceof Error ? err.message : String(err),
        });
        result = { status: 500, body: '500: Internal Server Error', text: true };
      }
      const body =
        result.text === true ? String(result.body) : JSON.stringify(result.body, null, 2) + '\n';
      res.writeHead(result.status, {
        'Content-Type': result.text === true ? 'text/plain; charset=utf-8' : 'application/json',
        ...(result.status === 405 ? { Allow: 'GET, HEAD' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
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
    this.#server = server;
  }

  /** Stops accepting and closes idle connections. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeIdleConnections();
    });
  }
}
