/**
 * The master event stream (`mesos.mode: stream`, issue #8): subscribes to the leading master's
 * v1 operator API (`POST /master/api/v1 {"type":"SUBSCRIBE"}`), builds the cluster from the
 * SUBSCRIBED snapshot and keeps it current from the events (stream-model.ts), handing the loader
 * a new state after each short batch of events (stream-batch.ts). A new task is named within the
 * batch window plus one zone build, instead of up to a polling period. `MasterStream` runs the
 * loop (subscribe, consume, back off) and wires the jobs, each in a module of its own:
 *
 * - RecordIO is decoded incrementally (stream-decoder.ts); a bad event is skipped and counted,
 *   never fatal; a bad framing ends the connection.
 * - A watchdog (stream-watchdog.ts) ends a stream that brought no whole record for
 *   `missedHeartbeats` heartbeat intervals (the master sends one every 15 s): bytes alone, a
 *   trickle, do not count. Any end (master gone, failover, network, garbage) is reported and the
 *   source resubscribes with jittered backoff, following redirects and the leader detector
 *   (static list, ZooKeeper). The failure count, which drives the backoff, is forgotten only
 *   once a stream proved healthy (records one heartbeat interval after its snapshot), so a
 *   master that sends a good snapshot and then garbage is not re-subscribed in a loop. The last
 *   zone is served meanwhile; a fault is logged once, not once per retry (stream-ends.ts).
 * - The leader's and the schedulers' pids, which the v1 API lacks, are read beside the stream
 *   (stream-pids.ts).
 * - After a leader change the new master's snapshot may be partial (agents re-register over
 *   minutes): the agents it has not registered yet are carried with their tasks (stream-carry.ts)
 *   until they re-register, are removed or `mesos.failover.maxHold` passes, so no running task
 *   loses its records in between.
 * - A master without the v1 API (404, Mesos before 1.0) makes the source fall back to polling
 *   `/master/state` for good (`fallback`), with a warning.
 * - Every `resyncMs`, a `GET_STATE` from the same master is compared with the streamed view;
 *   drift is repaired by subscribing again (stream-resync.ts) at once, as after a reload or a
 *   leader change: an end mesodns asks for is counted, not a failed load.
 */
import type { Clock } from '../clock.js';
import type { MesosDnsError } from '../errors.js';
import { NoLeaderError, StateFetchError, StateParseError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EventStream, FetchedState } from './client.js';
import { ApiUnsupportedError } from './client.js';
import type { LeaderDetector } from './leader.js';
import { WakeableSleep, backoffMs } from './loop.js';
import type { LoadInfo, SourceStats, StateListener, StateSource } from './source.js';
import { deliver, emptySourceStats, toError, withFailure } from './source.js';
import { StreamBatch, taskChanges } from './stream-batch.js';
import { StreamCarry } from './stream-carry.js';
import { StreamDecoder } from './stream-decoder.js';
import type { StreamEnd, StreamEndReason } from './stream-ends.js';
import { StreamEnds, isFault } from './stream-ends.js';
import { StreamModel } from './stream-model.js';
import { FrameworkPids, readLeader } from './stream-pids.js';
import type { ResyncStats } from './stream-resync.js';
import type { StreamStats } from './stream-stats.js';
import { StreamResync } from './stream-resync.js';
import type { StreamTimers } from './stream-watchdog.js';
import { DEFAULT_HEARTBEAT_MS, StreamWatchdog, realTimers } from './stream-watchdog.js';
import type { Pid } from './types.js';
import type { KnownTasks } from './task-digests.js';
import type { MesosEvent, ParsedV1State } from './v1.js';

/** What the stream needs of the HTTP client (`StateClient`). */
export interface ApiClient {
  fetchSummary(base: string, signal?: AbortSignal): Promise<FetchedState>;
  callApi(base: string, call: 'GET_MASTER', signal?: AbortSignal): Promise<FetchedState>;
  readGetState(base: string, signal?: AbortSignal, known?: KnownTasks): Promise<ParsedV1State>;
  subscribe(base: string, signal?: AbortSignal): Promise<EventStream>;
  close(): void;
}

/** Options of `MasterStream`. */
export interface MasterStreamOptions {
  readonly detector: LeaderDetector;
  readonly client: ApiClient;
  readonly listener: StateListener;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Events are collected this long before one state goes to the loader (`mesos.stream.batch`). */
  readonly batchMs: number;
  /** Heartbeat intervals without a whole record after which the stream is re-subscribed. */
  readonly missedHeartbeats: number;
  /** Period of the `GET_STATE` comparison; 0: never (`mesos.stream.resync`). */
  readonly resyncMs: number;
  /** Cap of the reconnect backoff. */
  readonly maxBackoffMs: number;
  /** How long agents are carried after a leader change (`mesos.failover.maxHold`). */
  readonly maxHoldMs: number;
  /** Builds the polling source used when the master has no v1 API. */
  readonly fallback: () => StateSource;
  /** Jitter source, a float in [0, 1); default `Math.random`. */
  readonly random?: () => number;
  /** Timers of the watchdog and of the reconnect backoff; default `realTimers` (tests: fakes). */
  readonly timers?: StreamTimers;
  /**
   * Whether a task's health is part of its records (`records.health: exclude-unhealthy`), so
   * that the resync counts a health the stream missed as drift.
   */
  readonly healthInRecords?: boolean;
}

/** Follows the leading master's event stream (see the module comment). */
export class MasterStream implements StateSource {
  readonly #options: MasterStreamOptions;
  readonly #abort = new AbortController();
  readonly #model: StreamModel;
  #stats: SourceStats = emptySourceStats();
  /** The source's own counters (ends and resyncs are counted apart; `connected` is read). */
  #streamStats: Omit<StreamStats, keyof ResyncStats | 'ends' | 'connected'> = {
    subscriptions: 0,
    events: {},
    badEvents: 0,
    watchdogTimeouts: 0,
    fellBack: false,
  };
  #isStarted = false;
  #fallback: StateSource | undefined;
  #current: EventStream | undefined;
  /** Why this side ended the current stream (watchdog, leader change, drift, reload). */
  #endReason: Omit<StreamEnd, 'url'> | undefined;
  /** The ends counted by reason, and the fault being retried (stream-ends.ts). */
  readonly #ends: StreamEnds;
  #leaderKey: string | undefined;
  /** A reload asked for a new subscription: its snapshot goes whole (new settings). */
  #isReloading = false;
  /** The backoff between subscriptions, ended early by a leader change, a reload or `close()`. */
  readonly #retry: WakeableSleep;
  /** The changes since the last delivery (stream-batch.ts). */
  readonly #batch: StreamBatch;
  #delivering: Promise<void> | undefined;
  #info: LoadInfo | undefined;
  #leader: Pid | undefined;
  /** Scheduler pids by framework id, from `/master/state-summary` (stream-pids.ts). */
  readonly #frameworkPids: FrameworkPids;
  /** The periodic `GET_STATE` comparison (stream-resync.ts). */
  readonly #resync: StreamResync;
  /** The agents carried across leader changes (stream-carry.ts). */
  readonly #carry: StreamCarry;

  /** Creates a stopped stream source. */
  constructor(options: MasterStreamOptions) {
    this.#options = options;
    this.#model = new StreamModel({ withHealth: options.healthInRecords === true });
    this.#ends = new StreamEnds(options.logger);
    this.#retry = new WakeableSleep((options.timers ?? realTimers).schedule);
    this.#batch = new StreamBatch({
      clock: options.clock,
      batchMs: options.batchMs,
      onDue: () => void this.#deliver(undefined),
    });
    this.#frameworkPids = new FrameworkPids({
      client: options.client,
      logger: options.logger,
      signal: this.#abort.signal,
      batchMs: options.batchMs,
      onRefreshed: () => {
        this.#batch.markWhole();
        void this.#deliver(undefined);
      },
    });
    this.#resync = new StreamResync({
      client: options.client,
      model: this.#model,
      clock: options.clock,
      logger: options.logger,
      resyncMs: options.resyncMs,
      signal: this.#abort.signal,
      isCurrent: (stream) => this.#current === stream,
      onDrift: () => {
        this.#end('drift', 'resync found drift');
      },
    });
    this.#carry = new StreamCarry({
      clock: options.clock,
      logger: options.logger,
      maxHoldMs: options.maxHoldMs,
      signal: this.#abort.signal,
      onExpiry: () => {
        this.#batch.markWhole();
        void this.#deliver(undefined);
      },
    });
  }

  /** Starts the detector and subscribes once it has a first answer. */
  start(): void {
    const { detector } = this.#options;
    detector.start(() => {
      // The detector saw a new leader: a stream to a deposed master is over (if one is open).
      if (this.#isStarted) this.#end('leader_change', 'the Mesos leader changed');
      this.#retry.wake();
    });
    void detector.ready().then(() => {
      if (this.#isClosed() || this.#isStarted) return;
      this.#isStarted = true;
      void this.#run();
    });
  }

  /** Subscribes again now (SIGHUP): a fresh snapshot replaces the streamed view. */
  reloadNow(): void {
    if (this.#fallback !== undefined) {
      this.#fallback.reloadNow();
      return;
    }
    // The settings may have changed: the next snapshot is delivered whole.
    this.#isReloading = true;
    if (this.#current !== undefined) this.#end('reload', 'reload requested');
    this.#retry.wake();
  }

  stats(): SourceStats {
    return this.#fallback?.stats() ?? { ...this.#stats };
  }

  /** Stream counters (not the fallback poller's). */
  streamStats(): StreamStats {
    const { subscriptions, events, badEvents, watchdogTimeouts, fellBack } = this.#streamStats;
    return {
      subscriptions,
      events,
      badEvents,
      watchdogTimeouts,
      ends: this.#ends.counts,
      ...this.#resync.stats,
      connected: this.#current !== undefined,
      fellBack,
    };
  }

  async close(): Promise<void> {
    this.#abort.abort();
    this.#batch.close();
    this.#retry.cancel();
    this.#frameworkPids.close();
    this.#carry.close();
    this.#current?.close();
    this.#retry.wake();
    await this.#fallback?.close();
    await this.#options.detector.close();
    this.#options.client.close();
  }

  #isClosed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Ends the current stream; a fault (the watchdog) is logged by `StreamEnds` instead. */
  #end(reason: StreamEndReason, why: string): void {
    const current = this.#current;
    if (current === undefined) return;
    if (!isFault(reason)) this.#options.logger.info('Mesos event stream: closing', { why });
    this.#endReason = { reason, why };
    current.close();
  }

  /** Subscribe, consume, back off, repeat, until closed or fallen back. */
  async #run(): Promise<void> {
    const { random = Math.random, maxBackoffMs } = this.#options;
    while (!this.#isClosed()) {
      let error: MesosDnsError | undefined;
      let end: StreamEnd | undefined;
      try {
        end = await this.#subscribeAny();
        if (this.#isClosed() || end === undefined) return;
        if (!isFault(end.reason)) {
          this.#ends.noteEnd(end, this.#stats.consecutiveFailures, 0);
          continue;
        }
        error = new StateFetchError(
          this.#stats.leaderUrl ?? this.#options.detector.describe(),
          `event stream ended (${end.why})`,
        );
      } catch (err) {
        if (this.#isClosed()) return;
        if (this.#isPreV1(err)) {
          this.#fallBack(err);
          return;
        }
        error = toError(err, this.#options.detector.describe());
      }
      this.#endReason = undefined;
      this.#failed(error);
      // The first retry after a stream that proved healthy is quick (that reset the count);
      // repeated failures back off, also those of streams that delivered a snapshot.
      const delayMs = backoffMs(this.#stats.consecutiveFailures, maxBackoffMs, random);
      if (end !== undefined) this.#ends.noteEnd(end, this.#stats.consecutiveFailures, delayMs);
      await this.#retry.sleep(delayMs);
    }
  }

  /** A stream proved healthy: the failures are forgotten (the next retry is quick again). */
  #healthy(url: string): void {
    const failures = this.#stats.consecutiveFailures;
    this.#stats = { ...this.#stats, consecutiveFailures: 0 };
    this.#ends.healthy(url, failures);
  }

  /**
   * Whether `err` says the masters predate the v1 API, so that they are polled instead: a 404
   * before any subscription. Once a stream has worked, a 404 is a fault of the moment (a proxy, a
   * master being replaced, its port taken by another program), retried like any failure.
   */
  #isPreV1(err: unknown): err is ApiUnsupportedError {
    return err instanceof ApiUnsupportedError && this.#streamStats.subscriptions === 0;
  }

  #fallBack(err: ApiUnsupportedError): void {
    const { logger, detector } = this.#options;
    logger.warn('Mesos master has no v1 operator API: polling /master/state instead', {
      error: err.message,
    });
    this.#streamStats = { ...this.#streamStats, fellBack: true };
    void detector.close();
    const fallback = this.#options.fallback();
    this.#fallback = fallback;
    fallback.start();
  }

  /**
   * Tries the candidates in order; resolves how the stream of the first that accepts ended
   * (undefined when closed meanwhile).
   */
  async #subscribeAny(): Promise<StreamEnd | undefined> {
    const { detector } = this.#options;
    const candidates = detector.candidates();
    if (candidates.length === 0) {
      throw new NoLeaderError(`no Mesos leader known (${detector.describe()})`);
    }
    const errors: MesosDnsError[] = [];
    for (const base of candidates) {
      if (this.#isClosed()) return undefined;
      let stream: EventStream;
      try {
        stream = await this.#options.client.subscribe(base, this.#abort.signal);
      } catch (err) {
        if (this.#isPreV1(err)) throw err;
        errors.push(toError(err, base));
        continue;
      }
      detector.noteLeader(stream.url);
      return this.#consume(stream);
    }
    const first = errors[0];
    if (errors.length === 1 && first !== undefined) throw first;
    const message = errors.map((e) => e.message).join('; ');
    if (errors.every((e) => e.code === 'ERR_NO_LEADER')) throw new NoLeaderError(message);
    throw new StateFetchError(detector.describe(), message);
  }

  /** Reads one stream until it ends; returns how it ended. */
  async #consume(stream: EventStream): Promise<StreamEnd> {
    const { clock, missedHeartbeats, logger, timers = realTimers } = this.#options;
    this.#current = stream;
    const started = clock.now();
    const watchdog = new StreamWatchdog({
      missedHeartbeats,
      timers,
      onStall: (stall) => {
        this.#streamStats = {
          ...this.#streamStats,
          watchdogTimeouts: this.#streamStats.watchdogTimeouts + 1,
        };
        this.#end('watchdog', stall.description);
      },
    });
    let isSubscribed = false;
    let resync: NodeJS.Timeout | undefined;
    const context: ChunkContext = {
      stream,
      decoder: new StreamDecoder({
        url: stream.url,
        logger,
        knownTasks: this.#model,
        onBadEvent: () => {
          this.#streamStats = { ...this.#streamStats, badEvents: this.#streamStats.badEvents + 1 };
        },
      }),
      watchdog,
      started,
      heartbeatMs: DEFAULT_HEARTBEAT_MS,
    };
    try {
      for await (const chunk of stream.body) {
        watchdog.received(chunk.length);
        // The records are handled in a function of their own: a suspended async frame keeps
        // its temporaries, and the SUBSCRIBED record (the whole cluster's state) and its parsed
        // snapshot must not stay alive while the zone is built from them.
        const report = await this.#onChunk(chunk, context);
        if (report === undefined) continue;
        // A snapshot is delivered at once (and waited for), not batched; the watchdog, paused
        // while mesodns handled it, watches the events from now on.
        await this.#deliver(report);
        watchdog.subscribed(context.heartbeatMs);
        if (!isSubscribed) resync = this.#resync.schedule(stream);
        isSubscribed = true;
      }
    } catch (err) {
      if (this.#endReason === undefined && !this.#isClosed()) {
        // Bad framing or protocol (a parse error), or a transport error.
        const error = toError(err, stream.url);
        const reason = error instanceof StateParseError ? 'bad_data' : 'error';
        this.#endReason = { reason, why: error.message };
      }
    } finally {
      watchdog.stop();
      clearTimeout(resync);
      this.#current = undefined;
      stream.close();
    }
    if (isSubscribed) logger.debug('Mesos event stream ended', { url: stream.url });
    const end = this.#endReason ?? { reason: 'closed', why: 'closed by the master' };
    this.#endReason = undefined;
    return { ...end, url: stream.url };
  }

  /** Applies the records a chunk completes; returns the report of a SUBSCRIBED among them. */
  async #onChunk(
    chunk: string | Buffer,
    context: ChunkContext,
  ): Promise<MesosEventReport | undefined> {
    const { stream, decoder, watchdog } = context;
    let report: MesosEventReport | undefined;
    for (const { event, bytes } of decoder.push(chunk)) {
      if (watchdog.record()) this.#healthy(stream.url);
      if (event.type === 'SUBSCRIBED') {
        watchdog.pause();
        context.heartbeatMs = Math.max(1, event.heartbeatSeconds) * 1000;
        const fetchMs = this.#options.clock.now() - context.started;
        report = await this.#subscribed(event, stream, bytes, fetchMs);
        continue;
      }
      this.#applyEvent(event);
    }
    return report;
  }

  #count(type: string): void {
    const events = {
      ...this.#streamStats.events,
      [type]: (this.#streamStats.events[type] ?? 0) + 1,
    };
    this.#streamStats = { ...this.#streamStats, events };
  }

  async #subscribed(
    event: Extract<MesosEvent, { type: 'SUBSCRIBED' }>,
    stream: EventStream,
    bytes: number,
    fetchMs: number,
  ): Promise<MesosEventReport> {
    const { logger, client, clock, detector } = this.#options;
    this.#count('SUBSCRIBED');
    // The master's identity (for the leader records and to notice failovers).
    const { leader, leaderId } = await readLeader(client, stream.url, this.#abort.signal, logger);
    this.#leader = leader;
    await this.#frameworkPids.read(stream.url);
    const leaderText = `master@${leader.host}:${String(leader.port)}`;
    const key = `${leaderText}/${leaderId ?? ''}`;
    const isChange = this.#leaderKey !== undefined && key !== this.#leaderKey;
    if (isChange) logger.info('Mesos leader changed', { from: this.#stats.leader, to: leaderText });
    // The same master again, nothing carried, no reload, no bad entry (the failover rule sees
    // whole states only): only the tasks that differ are delivered.
    const { skippedAgents, skippedFrameworks, skippedTasks } = event.report;
    const isAgain =
      key === this.#leaderKey &&
      !this.#carry.isCarrying &&
      !this.#isReloading &&
      skippedAgents + skippedFrameworks + skippedTasks === 0;
    this.#isReloading = false;
    this.#leaderKey = key;
    if (isChange) this.#carry.leaderChanged(this.#model.toState(leader, this.#frameworkPids.pids));
    const changes = isAgain ? this.#model.resetWithChanges(event.snapshot) : undefined;
    if (changes === undefined) this.#model.reset(event.snapshot);
    this.#streamStats = {
      ...this.#streamStats,
      subscriptions: this.#streamStats.subscriptions + 1,
    };
    // While a logged fault is retried, its subscriptions are not news (stream-ends.ts).
    const level = this.#ends.isRetrying ? 'debug' : 'info';
    logger[level]('Mesos event stream: subscribed', {
      url: stream.url,
      tasks: this.#model.tasks,
      agents: event.snapshot.agents.length,
      frameworks: event.snapshot.frameworks.length,
      heartbeatSeconds: event.heartbeatSeconds,
      skippedTasks: event.report.skippedTasks,
    });
    this.#stats = {
      ...this.#stats,
      loadsOk: this.#stats.loadsOk + 1,
      // consecutiveFailures is kept: a snapshot alone does not prove the stream works (#healthy).
      lastSuccessAt: clock.now(),
      lastFetchMs: fetchMs,
      lastFetchBytes: bytes,
      leader: leaderText,
      leaderUrl: stream.url,
      leaderChanges: this.#stats.leaderChanges + (isChange ? 1 : 0),
      lastError: undefined,
    };
    const masters = detector.masters();
    this.#info = {
      origin: stream.url,
      bytes,
      fetchMs,
      leader: leaderText,
      leaderKey: key,
      ...(masters === undefined ? {} : { masters }),
    };
    // A snapshot is delivered at once (and waited for), not batched.
    if (changes?.onlyTasks === true) {
      this.#batch.resubscribed(changes.touched);
      this.#options.listener.onSnapshotRead?.(bytes, fetchMs);
    } else this.#batch.snapshot();
    return event.report;
  }

  #applyEvent(event: MesosEvent): void {
    const { clock, listener } = this.#options;
    this.#count(event.type);
    this.#batch.noteBefore(event, this.#model);
    if (
      (event.type === 'FRAMEWORK_ADDED' || event.type === 'FRAMEWORK_UPDATED') &&
      this.#current !== undefined
    ) {
      this.#frameworkPids.refresh(this.#current.url);
    }
    const applied = this.#model.apply(event, clock.now());
    if (applied.unknownTask === true && event.type === 'TASK_UPDATED') {
      this.#options.logger.debug('Mesos event stream: update for a task never added', {
        taskId: event.taskId,
        state: event.state,
      });
    }
    if (event.type === 'HEARTBEAT') {
      // A heartbeat proves the master is alive: the data is current.
      this.#stats = { ...this.#stats, lastSuccessAt: clock.now() };
      if (!this.#batch.isDirty) listener.onAlive?.();
      return;
    }
    if (!applied.changed) return;
    // A carried agent that re-registers holds the batch until its TASK_ADDED burst stops.
    const isAgentBack = event.type === 'AGENT_ADDED' && this.#carry.isCarried(event.agent.id);
    this.#batch.changed(applied.statusAtMs, isAgentBack);
  }

  /**
   * Hands the batch to the loader: as task changes when only tasks changed and the listener
   * takes them, else as the whole state. A delivery during another waits for it, then runs once.
   */
  async #deliver(report: MesosEventReport | undefined): Promise<void> {
    while (this.#delivering !== undefined) await this.#delivering;
    if (!this.#batch.isDirty || this.#isClosed()) return;
    const base = this.#info;
    if (base === undefined) return;
    const batch = this.#batch.take();
    const info: LoadInfo = { ...base, statusTimesMs: batch.statusTimesMs };
    const { clock, listener } = this.#options;
    this.#stats = { ...this.#stats, lastSuccessAt: clock.now() };
    const run = (async (): Promise<void> => {
      if (!batch.isWhole && listener.onTaskChanges !== undefined) {
        const changes = taskChanges(batch, this.#model);
        try {
          if (await listener.onTaskChanges(changes, info)) return;
        } catch (err) {
          this.#options.logger.warn('incremental zone update failed; rebuilding the zone', {
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      const carried = this.#carry.apply(
        this.#model.toState(this.#leader, this.#frameworkPids.pids),
      );
      const parsed = {
        state: carried.state,
        report: report ?? { skippedAgents: 0, skippedFrameworks: 0, skippedTasks: 0, problems: [] },
      };
      await deliver(listener, parsed, { ...info, carry: carried.facts });
    })();
    this.#delivering = run;
    try {
      await run;
    } finally {
      this.#delivering = undefined;
    }
  }

  #failed(error: MesosDnsError): void {
    this.#stats = withFailure(this.#stats, error);
    this.#options.listener.onFailure(error);
  }
}

type MesosEventReport = Extract<MesosEvent, { type: 'SUBSCRIBED' }>['report'];

/** What `#onChunk` needs of the stream being read. */
interface ChunkContext {
  readonly stream: EventStream;
  readonly decoder: StreamDecoder;
  readonly watchdog: StreamWatchdog;
  readonly started: number;
  /** The SUBSCRIBED heartbeat interval (at least 1 s: a tiny one must not trip the watchdog). */
  heartbeatMs: number;
}
