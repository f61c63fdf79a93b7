/**
 * State sources: where state documents come from. `StateFileSource` reads a JSON file and
 * reloads it when it changes; `MasterPoller` polls `GET /master/state` from the masters. Both
 * deliver validated states to a listener and report failures; neither ever throws into the loop.
 */
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import fetch from 'node-fetch';
import type { Clock } from '../clock.js';
import { MesosDnsError, NoLeaderError, StateFetchError, StateParseError } from '../errors.js';
import type { Logger } from '../log.js';
import { parsePid, parseState } from './parse.js';
import type { ParsedState } from './types.js';

/** Facts about one successful load. */
export interface LoadInfo {
  /** Where the state came from (file path or master URL). */
  readonly origin: string;
  readonly bytes: number;
  readonly fetchMs: number;
}

/** Receives states and failures. */
export interface StateListener {
  onState(parsed: ParsedState, info: LoadInfo): void | Promise<void>;
  onFailure(error: MesosDnsError): void;
}

/** A source of state documents. */
export interface StateSource {
  /** Starts loading (first load at once). */
  start(): void;
  /** Loads again now (e.g. SIGHUP), unless a load is running. */
  reloadNow(): void;
  close(): Promise<void>;
}

function toError(err: unknown, origin: string): MesosDnsError {
  if (err instanceof MesosDnsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StateFetchError(origin, message, { cause: err });
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new StateParseError(
      `${origin}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Runs `load` now and then again `periodMs` after each load settles (never two at once).
 */
class Loop {
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closed = false;
  #again = false;
  readonly #periodMs: number;
  readonly #load: () => Promise<void>;

  constructor(periodMs: number, load: () => Promise<void>) {
    this.#periodMs = periodMs;
    this.#load = load;
  }

  trigger(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = true;
    void this.#load().finally(() => {
      this.#running = false;
      if (this.#closed) return;
      if (this.#again) {
        this.#again = false;
        this.trigger();
        return;
      }
      this.#timer = setTimeout(() => {
        this.trigger();
      }, this.#periodMs);
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}

/** Options of `StateFileSource`. */
export interface StateFileOptions {
  readonly path: string;
  /** How often the file's mtime and size are checked. */
  readonly checkMs: number;
  readonly listener: StateListener;
  readonly clock: Clock;
}

/** Serves a state document from a file (demo, offline use); reloads when the file changes. */
export class StateFileSource implements StateSource {
  readonly #options: StateFileOptions;
  readonly #loop: Loop;
  #signature = '';

  constructor(options: StateFileOptions) {
    this.#options = options;
    this.#loop = new Loop(options.checkMs, () => this.#check());
  }

  start(): void {
    this.#loop.trigger();
  }

  reloadNow(): void {
    this.#signature = '';
    this.#loop.trigger();
  }

  async #check(): Promise<void> {
    const { path, listener, clock } = this.#options;
    try {
      const st = await stat(path);
      const signature = `${String(st.mtimeMs)}:${String(st.size)}`;
      if (signature === this.#signature) return;
      const started = clock.now();
      const text = await readFile(path, 'utf8');
      const parsed = parseState(parseJson(text, path));
      this.#signature = signature;
      await listener.onState(parsed, {
        origin: path,
        bytes: Buffer.byteLength(text),
        fetchMs: clock.now() - started,
      });
    } catch (err) {
      this.#signature = '';
      listener.onFailure(toError(err, path));
    }
  }

  close(): Promise<void> {
    this.#loop.close();
    return Promise.resolve();
  }
}

/** Options of `MasterPoller`. */
export interface MasterPollerOptions {
  /** Base URLs, e.g. `http://10.0.0.1:5050`. */
  readonly masters: readonly string[];
  readonly refreshMs: number;
  readonly timeoutMs: number;
  readonly listener: StateListener;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Optional Basic credentials. */
  readonly auth?: { readonly principal: string; readonly secret: string };
}

/** Largest state document accepted. */
const MAX_STATE_BYTES = 512 * 1024 * 1024;

/**
 * Polls `GET /master/state`: masters are tried in order; when the answering master names
 * another leader in its `leader` field, the state is fetched from the leader. Any failure keeps
 * the last good state (the listener is told, the loop goes on).
 */
export class MasterPoller implements StateSource {
  readonly #options: MasterPollerOptions;
  readonly #loop: Loop;
  readonly #httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly #httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(options: MasterPollerOptions) {
    this.#options = options;
    this.#loop = new Loop(options.refreshMs, () => this.#poll());
  }

  start(): void {
    this.#loop.trigger();
  }

  reloadNow(): void {
    this.#loop.trigger();
  }

  async #poll(): Promise<void> {
    const { masters, listener } = this.#options;
    const errors: MesosDnsError[] = [];
    for (const master of masters) {
      try {
        const loaded = await this.#fetchFollowingLeader(master);
        await listener.onState(loaded.parsed, loaded.info);
        return;
      } catch (err) {
        errors.push(toError(err, master));
      }
    }
    const first = errors[0];
    listener.onFailure(
      errors.length === 1 && first !== undefined
        ? first
        : new StateFetchError(masters.join(','), errors.map((e) => e.message).join('; ')),
    );
  }

  async #fetchFollowingLeader(master: string): Promise<{ parsed: ParsedState; info: LoadInfo }> {
    const first = await this.#fetch(master);
    const leader = leaderUrl(first.doc, master);
    if (leader === undefined) throw new NoLeaderError(`${master}: state has no leader`);
    if (sameEndpoint(leader, master)) return this.#finish(first);
    // Not the leader: its state may be stale or empty; ask the leader it names.
    return this.#finish(await this.#fetch(leader));
  }

  #finish(r: { doc: unknown; info: LoadInfo }): { parsed: ParsedState; info: LoadInfo } {
    return { parsed: parseState(r.doc), info: r.info };
  }

  async #fetch(base: string): Promise<{ doc: unknown; info: LoadInfo }> {
    const { timeoutMs, clock, auth } = this.#options;
    const url = new URL('/master/state', base).toString();
    const started = clock.now();
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'mesodns' };
    if (auth !== undefined && auth.principal !== '') {
      headers.Authorization = `Basic ${Buffer.from(`${auth.principal}:${auth.secret}`).toString('base64')}`;
    }
    let res;
    try {
      res = await fetch(url, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        agent: (u) => (u.protocol === 'https:' ? this.#httpsAgent : this.#httpAgent),
        size: MAX_STATE_BYTES,
        compress: true,
      });
    } catch (err) {
      throw new StateFetchError(base, err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }
    if (res.status === 503) throw new NoLeaderError(`${base}: 503 no leader elected`);
    if (!res.ok) throw new StateFetchError(base, `HTTP ${String(res.status)}`);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new StateFetchError(base, err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }
    const doc = parseJson(text, base);
    return {
      doc,
      info: { origin: base, bytes: Buffer.byteLength(text), fetchMs: clock.now() - started },
    };
  }

  async close(): Promise<void> {
    this.#loop.close();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
    return Promise.resolve();
  }
}

/** The leader's base URL from a state document's `leader` field, same scheme as `via`. */
function leaderUrl(doc: unknown, via: string): string | undefined {
  if (typeof doc !== 'object' || doc === null || !('leader' in doc)) return undefined;
  const leader = doc.leader;
  if (typeof leader !== 'string') return undefined;
  const pid = parsePid(leader);
  if (pid === undefined) return undefined;
  const scheme = new URL(via).protocol;
  const host = pid.host.includes(':') ? `[${pid.host}]` : pid.host;
  return `${scheme}//${host}:${String(pid.port)}`;
}

function sameEndpoint(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.hostname === y.hostname && (x.port || '80') === (y.port || '80');
}
