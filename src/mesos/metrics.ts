/**
 * Prometheus metrics of the masters as mesodns sees them, which src/metrics.ts registers: leader
 * changes, the failover carry-over (carry-over.ts), the event stream's counters (stream.ts) and
 * the ZooKeeper session (zookeeper.ts).
 * All of them live in the pipeline worker's source and are mirrored to the main thread, so they
 * are read through `MesosMetricsSources` when Prometheus scrapes; nothing here is fed by events.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { readCounter, readGauge, readLabelledCounter } from '../prom.js';
import type { CarryFacts } from './carry-over.js';
import type { StreamStats } from './stream-stats.js';
import type { ZooKeeperSession } from './zookeeper.js';

/** What the Mesos metrics read when scraped (part of src/metrics.ts `MetricsSources`). */
export interface MesosMetricsSources {
  /** How often the leading Mesos master changed since the start. */
  readonly leaderChanges?: () => number;
  /** The master event stream's counters (`mesos.mode: stream`). */
  readonly stream?: () => StreamStats | undefined;
  /** Agents and tasks carried over a leader change now (mesos/carry-over.ts). */
  readonly carry?: () => CarryFacts | undefined;
  /** The ZooKeeper session of the leader detection (`mesos.zk`); undefined without one. */
  readonly zookeeper?: () => ZooKeeperSession | undefined;
}

/**
 * Registers the carry-over gauges, the stream counters and the leader changes in `registry`;
 * `clock` is the one `carry().since` was taken with.
 */
export function registerMesosMetrics(
  registry: Registry,
  sources: MesosMetricsSources,
  clock: Clock,
): void {
  const carry = (): CarryFacts => sources.carry?.() ?? { agents: 0, tasks: 0, since: undefined };
  readGauge(
    registry,
    'mesodns_failover_carried_agents',
    'Agents a new Mesos leader has not registered yet whose tasks are served from the last state (mesos.failover.maxHold).',
    () => carry().agents,
  );
  readGauge(
    registry,
    'mesodns_failover_carried_tasks',
    'Running tasks served from the last state because their agent has not re-registered with the new leader.',
    () => carry().tasks,
  );
  readGauge(
    registry,
    'mesodns_failover_carry_seconds',
    'How long the oldest carried agent has been waiting to re-register (0 when none is carried).',
    () => {
      const since = carry().since;
      return since === undefined ? 0 : Math.max(0, clock.now() - since) / 1000;
    },
  );
  registerStreamMetrics(registry, () => sources.stream?.());
  readCounter(
    registry,
    'mesodns_leader_changes_total',
    'Changes of the leading Mesos master seen since the start.',
    () => sources.leaderChanges?.() ?? 0,
  );
  const zookeeper = new Gauge({
    name: 'mesodns_zookeeper_connected',
    help: '1 while the ZooKeeper session that finds the Mesos leader (mesos.zk) is connected, 0 while it is lost (the last known leader is polled meanwhile); absent without mesos.zk.',
    labelNames: ['zk'],
    registers: [registry],
    collect: () => {
      zookeeper.reset();
      const session = sources.zookeeper?.();
      if (session !== undefined) zookeeper.set({ zk: session.zk }, session.connected ? 1 : 0);
    },
  });
}

/** The `mesodns_stream_*` counters and gauge, 0 while no stream runs (`streamStats` undefined). */
function registerStreamMetrics(
  registry: Registry,
  streamStats: () => StreamStats | undefined,
): void {
  const streamCounter = (name: string, help: string, value: (s: StreamStats) => number): void => {
    readCounter(registry, name, help, () => {
      const s = streamStats();
      return s === undefined ? 0 : value(s);
    });
  };
  streamCounter(
    'mesodns_stream_subscriptions_total',
    'Stream mode: subscriptions to the master event stream that delivered a snapshot.',
    (s) => s.subscriptions,
  );
  streamCounter(
    'mesodns_stream_bad_events_total',
    'Stream mode: events that could not be parsed and were skipped.',
    (s) => s.badEvents,
  );
  streamCounter(
    'mesodns_stream_watchdog_timeouts_total',
    'Stream mode: streams ended because no whole record (event, heartbeat) arrived for the configured number of heartbeat intervals, or the snapshot did not progress.',
    (s) => s.watchdogTimeouts,
  );
  streamCounter(
    'mesodns_stream_resyncs_total',
    'Stream mode: periodic comparisons of the streamed view with GET_STATE.',
    (s) => s.resyncs,
  );
  streamCounter(
    'mesodns_stream_resyncs_with_drift_total',
    'Stream mode: comparisons that found drift (each one subscribes again).',
    (s) => s.resyncsWithDrift,
  );
  readLabelledCounter(
    registry,
    {
      name: 'mesodns_stream_drift_total',
      help: 'Stream mode: differences found by the resync comparisons, by kind (task, agent, framework).',
      label: 'kind',
    },
    () => {
      const s = streamStats();
      return [
        ['task', s?.driftedTasks ?? 0],
        ['agent', s?.driftedAgents ?? 0],
        ['framework', s?.driftedFrameworks ?? 0],
      ];
    },
  );
  readLabelledCounter(
    registry,
    {
      name: 'mesodns_stream_ends_total',
      help: 'Stream mode: streams that ended, by reason: watchdog (no whole record for missedHeartbeats heartbeat intervals, or a stalled snapshot), bad_data (bad framing, an event before SUBSCRIBED), closed (by the master), error (transport), leader_change, reload, drift.',
      label: 'reason',
    },
    () => Object.entries(streamStats()?.ends ?? {}),
  );
  readLabelledCounter(
    registry,
    {
      name: 'mesodns_stream_events_total',
      help: 'Stream mode: events received from the master, by type (heartbeats included).',
      label: 'type',
    },
    () => Object.entries(streamStats()?.events ?? {}),
  );
  readGauge(
    registry,
    'mesodns_stream_connected',
    'Stream mode: 1 while subscribed to the master event stream, 0 otherwise (also after falling back to polling).',
    () => (streamStats()?.connected === true ? 1 : 0),
  );
}
