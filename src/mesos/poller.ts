/**
 * The master poller: asks the leading master for `/master/state` every `mesos.refresh`, one
 * request at a time, and hands each state to the listener (the loader). Whom to ask comes from a
 * `LeaderDetector` (static list or ZooKeeper); redirects and the state's `leader` field lead to
 * the leader. Failures are reported and retried with jittered exponential backoff, bounded by the
 * refresh period; the listener keeps the last good zone meanwhile. After a leader change, the
 * agents the new leader has not registered yet are carried with their tasks (carry-over.ts).
 */
import type { Clock } from '../clock.js';
import type { MesosDnsError } from '../errors.js';
import { NoLeaderError, StateFetchError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ReadFromMaster } from './client.js';
import { AlreadyAskedError, baseOf } from './client.js';
import type { LeaderDetector, LeaderFacts } from './leader.js';
import { leaderFacts, leaderKey, otherLeaderUrl } from './leader.js';
import { Loop, backoffMs } from './loop.js';
import type { LoadInfo, SourceStats, StateListener, StateSource } from './source.js';
import { deliver, emptySourceStats, toError, withFailure } from './source.js';
import { CarryOver, logCarry } from './carry-over.js';
import { PackedView } from './carry-pack.js';
import type { ParsedState } from './types.js';

/** What the poller needs of the HTTP client (`StateClient`). */
export interface StateFetcher {
  readState(base: string, signal?: AbortSignal, visited?: Set<string>): Promise<ReadFromMaster>;
  close(): void;
}

/** Options of `MasterPoller`. */
export interface MasterPollerOptions {
  readonly detector: LeaderDetector;
  readonly client: StateFetcher;
  /** Period between the end of one successful poll and the next (`mesos.refresh`). */
  readonly refreshMs: number;
  /** How long agents are carried after a leader change (`mesos.failover.maxHold`). */
  readonly maxHoldMs: number;
  readonly listener: StateListener;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Jitter source, a float in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

interface Loaded {
  readonly parsed: ParsedState;
  readonly facts: LeaderFacts;
  readonly fetched: ReadFromMaster;
  readonly fetchMs: number;
}

/**
 * Polls the leading master. A leader change reported by the detector triggers a poll at once;
 * `reloadNow()` too. Never two requests at once; `close()` aborts the one in flight.
 */
export class MasterPoller implements StateSource {
  readonly #options: MasterPollerOptions;
  readonly #loop: Loop;
  readonly #abort = new AbortController();
  #isStarted = false;
  #leaderKey: string | undefined;
  #stats: SourceStats = emptySourceStats();
  readonly #carry = new CarryOver();
  /** What the carry-over may need of the last state delivered, packed. */
  #served: PackedView | undefined;

  /** Creates a stopped poller. */
  constructor(options: MasterPollerOptions) {
    this.#options = options;
    this.#loop = new Loop(() => this.#poll());
  }

  /** Starts the detector and polls once it has a first answer. */
  start(): void {
    const { detector } = this.#options;
    detector.start(() => {
      // A new leader: fetch from it now rather than at the next refresh.
      if (this.#isStarted) this.#loop.trigger();
    });
    void detector.ready().then(() => {
      if (this.#abort.signal.aborted || this.#isStarted) return;
      this.#isStarted = true;
      this.#loop.trigger();
    });
  }

  reloadNow(): void {
    if (this.#isStarted) this.#loop.trigger();
  }

  stats(): SourceStats {
    return { ...this.#stats };
  }

  async close(): Promise<void> {
    this.#loop.close();
    this.#abort.abort();
    await this.#options.detector.close();
    this.#options.client.close();
  }

  async #poll(): Promise<number> {
    const { detector, listener, refreshMs } = this.#options;
    const candidates = detector.candidates();
    if (candidates.length === 0) {
      return this.#failed(new NoLeaderError(`no Mesos leader known (${detector.describe()})`));
    }
    const errors: MesosDnsError[] = [];
    // Masters asked in this poll: each is asked once, also when others redirect to it.
    const visited = new Set<string>();
    for (const base of candidates) {
      if (this.#isClosed()) return refreshMs;
      if (visited.has(baseOf(new URL(`${base}/master/state`)))) continue;
      let loaded: Loaded;
      try {
        loaded = await this.#fetchFromLeader(base, visited);
      } catch (err) {
        if (!(err instanceof AlreadyAskedError)) errors.push(toError(err, base));
        continue;
      }
      if (this.#isClosed()) return refreshMs;
      const { info, isLeaderChange } = this.#succeeded(loaded);
      detector.noteLeader(loaded.fetched.url);
      const { clock, logger, maxHoldMs } = this.#options;
      // The served state is read (unpacked) only when the leader changed.
      const carried = this.#carry.apply(
        loaded.parsed.state,
        isLeaderChange ? this.#served?.unpack() : undefined,
        isLeaderChange,
        clock.now(),
        maxHoldMs,
      );
      logCarry(logger, carried, maxHoldMs);
      this.#served = undefined;
      await deliver(
        listener,
        { state: carried.state, report: loaded.parsed.report },
        { ...info, carry: carried.facts },
      );
      // Packed once the zone is served, so that packing never delays it.
      this.#served = PackedView.of(carried.state);
      return refreshMs;
    }
    return this.#failed(combine(errors, detector.describe()));
  }

  #isClosed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Fetches from `base`; when the answer names another leader, fetches from that one once. */
  async #fetchFromLeader(base: string, visited: Set<string>): Promise<Loaded> {
    const { client, clock } = this.#options;
    const started = clock.now();
    const signal = this.#abort.signal;
    let fetched = await client.readState(base, signal, visited);
    let facts = leaderFacts(fetched.head);
    const leaderUrl = otherLeaderUrl(facts, fetched.url);
    if (leaderUrl !== undefined) {
      // Not the leader (old masters answer instead of redirecting): its view may be stale.
      const from = fetched.url;
      if (visited.has(leaderUrl)) {
        throw new AlreadyAskedError(from, `names ${leaderUrl} as the leader, already asked`);
      }
      fetched = await client.readState(leaderUrl, signal, visited);
      facts = leaderFacts(fetched.head);
      if (otherLeaderUrl(facts, fetched.url) !== undefined) {
        throw new StateFetchError(
          from,
          `names ${leaderUrl} as the leader, which names ${facts.leader ?? 'nobody'}`,
        );
      }
    }
    if (facts.leader === undefined) {
      throw new NoLeaderError(`${fetched.url}: the state names no leader`);
    }
    return { parsed: fetched.parsed, facts, fetched, fetchMs: clock.now() - started };
  }

  #succeeded(loaded: Loaded): { readonly info: LoadInfo; readonly isLeaderChange: boolean } {
    const { logger, clock, detector } = this.#options;
    const { facts, fetched } = loaded;
    const key = leaderKey(facts);
    const previous = this.#stats.leader;
    const isChange = this.#leaderKey !== undefined && key !== this.#leaderKey;
    if (isChange) {
      logger.info('Mesos leader changed', {
        from: previous,
        to: facts.leader,
        url: fetched.url,
        ...(previous === facts.leader ? { why: 'the leading master restarted' } : {}),
      });
    } else if (this.#leaderKey === undefined) {
      logger.info('Mesos leader found', { leader: facts.leader, url: fetched.url });
    }
    this.#leaderKey = key;
    this.#stats = {
      ...this.#stats,
      loadsOk: this.#stats.loadsOk + 1,
      consecutiveFailures: 0,
      lastSuccessAt: clock.now(),
      lastFetchMs: loaded.fetchMs,
      lastFetchBytes: fetched.bytes,
      leader: facts.leader,
      leaderUrl: fetched.url,
      leaderChanges: this.#stats.leaderChanges + (isChange ? 1 : 0),
      lastError: undefined,
    };
    const masters = detector.masters();
    const info: LoadInfo = {
      origin: fetched.url,
      bytes: fetched.bytes,
      fetchMs: loaded.fetchMs,
      ...(facts.leader === undefined ? {} : { leader: facts.leader }),
      ...(key === undefined ? {} : { leaderKey: key }),
      ...(masters === undefined ? {} : { masters }),
    };
    return { info, isLeaderChange: isChange };
  }

  #failed(error: MesosDnsError): number {
    const { listener, refreshMs, random = Math.random } = this.#options;
    this.#stats = withFailure(this.#stats, error);
    listener.onFailure(error);
    return backoffMs(this.#stats.consecutiveFailures, refreshMs, random);
  }
}

/** One error for a poll: the only one, or all messages joined (no leader when none had one). */
function combine(errors: readonly MesosDnsError[], where: string): MesosDnsError {
  const first = errors[0];
  if (first === undefined) return new StateFetchError(where, 'no master could be asked');
  if (errors.length === 1) return first;
  const message = errors.map((e) => e.message).join('; ');
  if (errors.every((e) => e.code === 'ERR_NO_LEADER')) return new NoLeaderError(message);
  return new StateFetchError(where, message);
}
