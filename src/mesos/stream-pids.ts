/**
 * The pids the v1 event stream does not carry (issue #8), read beside it:
 *
 * - The leader's: `GET_MASTER` gives its pid and id (a new id at the same address is a restarted
 *   master, a failover for the carry-over); a master that does not answer is named after its URL,
 *   so that the leader records still exist.
 * - The schedulers': `/master/state-summary` gives each framework's pid, from which the framework
 *   records (F1, F2) are built, as Mesos-DNS does from `/master/state`. They are read with each
 *   snapshot and again after framework events, once per burst; a failed read keeps the known
 *   ones (the records then use hostnames).
 */
import type { Logger } from '../log.js';
import type { FetchedState } from './client.js';
import { parsePid } from './parse.js';
import { toError } from './source.js';
import type { Pid } from './types.js';
import { parseV1Master } from './v1.js';

/** What the pids need of the HTTP client (a part of the stream's `ApiClient`). */
export interface PidsClient {
  fetchSummary(base: string, signal?: AbortSignal): Promise<FetchedState>;
  callApi(base: string, call: 'GET_MASTER', signal?: AbortSignal): Promise<FetchedState>;
}

/** The leading master as `GET_MASTER` names it. */
export interface LeaderIdentity {
  readonly leader: Pid;
  /** `master_info.id`; undefined when `GET_MASTER` failed or gave no usable address. */
  readonly leaderId: string | undefined;
}

/**
 * Reads the identity of the master at `url` with `GET_MASTER`; on failure (logged) the pid is
 * made of the URL and the id is unknown.
 */
export async function readLeader(
  client: PidsClient,
  url: string,
  signal: AbortSignal,
  logger: Logger,
): Promise<LeaderIdentity> {
  let leader: Pid | undefined;
  let leaderId: string | undefined;
  try {
    const answer = await client.callApi(url, 'GET_MASTER', signal);
    const master = parseV1Master(answer.doc);
    leader = master?.pid;
    leaderId = master?.id;
  } catch (err) {
    logger.warn('Mesos GET_MASTER failed: naming the leader after its URL', {
      error: toError(err, url).message,
    });
  }
  return { leader: leader ?? pidOfUrl(url), leaderId };
}

/** Options of `FrameworkPids`. */
export interface FrameworkPidsOptions {
  readonly client: PidsClient;
  readonly logger: Logger;
  /** Aborts the reads in flight (the source closes). */
  readonly signal: AbortSignal;
  /** A burst of framework events is answered by one read, this long after its first event. */
  readonly batchMs: number;
  /** The pids were read again after framework events: the state is to be delivered whole. */
  readonly onRefreshed: () => void;
}

/** The scheduler pids by framework id (see the module comment). */
export class FrameworkPids {
  readonly #options: FrameworkPidsOptions;
  #pids: ReadonlyMap<string, Pid> = new Map();
  #timer: NodeJS.Timeout | undefined;

  /** Starts with no pids known. */
  constructor(options: FrameworkPidsOptions) {
    this.#options = options;
  }

  /** The pids last read. */
  get pids(): ReadonlyMap<string, Pid> {
    return this.#pids;
  }

  /** Reads the pids from the master at `url`; on failure keeps the known ones. */
  async read(url: string): Promise<void> {
    const { client, logger, signal } = this.#options;
    try {
      const answer = await client.fetchSummary(url, signal);
      this.#pids = frameworkPids(answer.doc);
    } catch (err) {
      logger.debug('Mesos state-summary failed: framework records use hostnames', {
        error: toError(err, url).message,
      });
    }
  }

  /** A framework was added or changed: its pid is read again shortly (one request per burst). */
  refresh(url: string): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.read(url).then(() => {
        this.#options.onRefreshed();
      });
    }, this.#options.batchMs);
  }

  /** Cancels a pending refresh (the source closes). */
  close(): void {
    clearTimeout(this.#timer);
  }
}

/** Scheduler pids by framework id from a `/master/state-summary` document (bad entries skipped). */
function frameworkPids(doc: unknown): Map<string, Pid> {
  const out = new Map<string, Pid>();
  if (typeof doc !== 'object' || doc === null || !('frameworks' in doc)) return out;
  const frameworks = doc.frameworks;
  if (!Array.isArray(frameworks)) return out;
  for (const fw of frameworks as readonly unknown[]) {
    if (typeof fw !== 'object' || fw === null || !('id' in fw) || !('pid' in fw)) continue;
    const { id, pid } = fw;
    if (typeof id !== 'string' || typeof pid !== 'string') continue;
    const parsed = parsePid(pid);
    if (parsed !== undefined) out.set(id, parsed);
  }
  return out;
}

/** A leader pid made of the master's URL, when GET_MASTER does not say. */
function pidOfUrl(url: string): Pid {
  const u = new URL(url);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return { id: 'master', host, port };
}
