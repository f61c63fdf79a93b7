/**
 * State sources: where state documents come from. `StateFileSource` reads a JSON file and
 * reloads it when it changes; `MasterPoller` (poller.ts) polls the leading master. Both deliver
 * validated states to a listener and report failures; neither ever throws into the loop.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Clock } from '../clock.js';
import { MesosDnsError, StateFetchError, StateParseError } from '../errors.js';
import type { CarryFacts } from './carry-over.js';
import { Loop } from './loop.js';
import { StateSyntaxError } from './document.js';
import { StateReader } from './state-reader.js';
import type { ParsedState, TaskChange } from './types.js';

/** Facts about one successful load. */
export interface LoadInfo {
  /** Where the state came from (file path or master URL). */
  readonly origin: string;
  readonly bytes: number;
  readonly fetchMs: number;
  /** The leading master's pid (`master@10.0.0.11:5050`), when a master sent the state. */
  readonly leader?: string;
  /**
   * Identity of the leading master process (its pid and id): it changes with every failover,
   * also when a master restarts on the same address. Undefined for state files.
   */
  readonly leaderKey?: string;
  /** Hosts of every known master (from ZooKeeper), for the master records; else the config's. */
  readonly masters?: readonly string[];
  /**
   * Stream mode: status timestamps (ms since the epoch) of the task updates this state is the
   * first to include, for the propagation latency.
   */
  readonly statusTimesMs?: readonly number[];
  /** Agents and tasks carried over a leader change into this state (carry-over.ts). */
  readonly carry?: CarryFacts;
}

/** Counters and facts of a state source, for metrics and `/ready` (a snapshot, not live). */
export interface SourceStats {
  /** State documents fetched and delivered. */
  readonly loadsOk: number;
  /** Polls that ended without a state (every candidate master failed). */
  readonly loadsFailed: number;
  /** Failed polls since the last success (drives the retry backoff). */
  readonly consecutiveFailures: number;
  /** When the last state was fetched (ms since the epoch). */
  readonly lastSuccessAt: number | undefined;
  /** Duration of the last successful fetch, redirects included. */
  readonly lastFetchMs: number | undefined;
  /** Size of the last state document (decoded). */
  readonly lastFetchBytes: number | undefined;
  /** The leading master's pid, as the last state named it. */
  readonly leader: string | undefined;
  /** Base URL the last state came from. */
  readonly leaderUrl: string | undefined;
  /** How often the leader changed since the start (the first leader is not a change). */
  readonly leaderChanges: number;
  /** The last failure (`code: message`), cleared by a success. */
  readonly lastError: string | undefined;
}

/** Stats of a source that has not loaded anything yet. */
export function emptySourceStats(): SourceStats {
  return {
    loadsOk: 0,
    loadsFailed: 0,
    consecutiveFailures: 0,
    lastSuccessAt: undefined,
    lastFetchMs: undefined,
    lastFetchBytes: undefined,
    leader: undefined,
    leaderUrl: undefined,
    leaderChanges: 0,
    lastError: undefined,
  };
}

/** `stats` after one more failed load (`error`): counted, and the last error noted. */
export function withFailure(stats: SourceStats, error: MesosDnsError): SourceStats {
  return {
    ...stats,
    loadsFailed: stats.loadsFailed + 1,
    consecutiveFailures: stats.consecutiveFailures + 1,
    lastError: `${error.code}: ${error.message}`,
  };
}

/** Receives states and failures. */
export interface StateListener {
  onState(parsed: ParsedState, info: LoadInfo): void | Promise<void>;
  onFailure(error: MesosDnsError): void;
  /**
   * Stream mode, optional: the task changes of a batch on top of the last state delivered.
   * Resolves false when they cannot be applied incrementally; the source then delivers the
   * whole state with `onState`.
   */
  onTaskChanges?(changes: readonly TaskChange[], info: LoadInfo): boolean | Promise<boolean>;
  /** Stream mode, optional: the master is alive and nothing changed (a heartbeat). */
  onAlive?(): void;
  /**
   * Stream mode, optional: a snapshot of `bytes` was read and only its differences (if any) are
   * delivered, with `onTaskChanges`: the garbage of reading it is still the listener's to
   * collect, as after `onState`.
   */
  onSnapshotRead?(bytes: number, fetchMs: number): void;
  /**
   * ZooKeeper leader detection (`mesos.zk`), optional: the session to `zk` (the URL, its
   * credentials redacted) connected, or lost (the last known leader is polled meanwhile).
   */
  onZooKeeper?(zk: string, connected: boolean): void;
}

/** A source of state documents. */
export interface StateSource {
  /** Starts loading (first load at once). */
  start(): void;
  /** Loads again now (e.g. SIGHUP), unless a load is running. */
  reloadNow(): void;
  /** Counters and facts so far. */
  stats(): SourceStats;
  close(): Promise<void>;
}

/** Wraps anything thrown while loading from `origin` into a `MesosDnsError`. */
export function toError(err: unknown, origin: string): MesosDnsError {
  if (err instanceof MesosDnsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StateFetchError(origin, message, { cause: err });
}

/** Hands a state to the listener; a listener that throws is told about it as a failure. */
export async function deliver(
  listener: StateListener,
  parsed: ParsedState,
  info: LoadInfo,
): Promise<void> {
  try {
    await listener.onState(parsed, info);
  } catch (err) {
    listener.onFailure(toError(err, info.origin));
  }
}

/**
 * Reads and validates the state file at `path` as its bytes are read (`StateReader`): the
 * document never exists whole. Errors name the file (and the line and column of bad JSON).
 * `hasLists`: whether it is a `/master/state` at all (`ReadState.hasLists`).
 */
export async function readStateFile(
  path: string,
): Promise<{ parsed: ParsedState; bytes: number; hasLists: boolean }> {
  const reader = new StateReader();
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
      const piece = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += piece.byteLength;
      reader.push(piece);
    }
    const { parsed, hasLists } = reader.end();
    return { parsed, bytes, hasLists };
  } catch (err) {
    if (err instanceof StateSyntaxError) {
      throw new StateSyntaxError(`${path}: ${err.message}`, err.line, err.column, { cause: err });
    }
    if (err instanceof StateParseError) {
      throw new StateParseError(`${path}: ${err.message}`, { cause: err });
    }
    throw err;
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
  #stats: SourceStats = emptySourceStats();

  constructor(options: StateFileOptions) {
    this.#options = options;
    this.#loop = new Loop(async () => {
      await this.#check();
      return options.checkMs;
    });
  }

  start(): void {
    this.#loop.trigger();
  }

  reloadNow(): void {
    this.#signature = '';
    this.#loop.trigger();
  }

  stats(): SourceStats {
    return { ...this.#stats };
  }

  async #check(): Promise<void> {
    const { path, listener, clock } = this.#options;
    let parsed: ParsedState;
    let info: LoadInfo;
    try {
      const st = await stat(path);
      const signature = `${String(st.mtimeMs)}:${String(st.size)}`;
      if (signature === this.#signature) return;
      const started = clock.now();
      const read = await readStateFile(path);
      parsed = read.parsed;
      this.#signature = signature;
      info = { origin: path, bytes: read.bytes, fetchMs: clock.now() - started };
    } catch (err) {
      this.#signature = '';
      const error = toError(err, path);
      this.#stats = withFailure(this.#stats, error);
      listener.onFailure(error);
      return;
    }
    this.#stats = {
      ...this.#stats,
      loadsOk: this.#stats.loadsOk + 1,
      consecutiveFailures: 0,
      lastSuccessAt: clock.now(),
      lastFetchMs: info.fetchMs,
      lastFetchBytes: info.bytes,
      lastError: undefined,
    };
    await deliver(listener, parsed, info);
  }

  close(): Promise<void> {
    this.#loop.close();
    return Promise.resolve();
  }
}
