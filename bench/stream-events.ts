/**
 * The event generator of the stream section (bench/stream.ts): task churn on the fake master,
 * at a steady rate, with a probe (stream-probe.ts) after every few launches and kills.
 */
import { randomUUID } from 'node:crypto';
import type { FakeMaster } from '../support/fake-master.js';
import { toV1Task, toV1TaskStatus } from '../support/v1-state.js';
import {
  createRandom,
  type MasterState,
  type Random,
  type StateTask,
  type StateTaskStatus,
} from '../support/cluster.js';
import { SEED } from './common.js';
import type { Prober } from './stream-probe.js';
import type { StreamSettings } from './stream-settings.js';
import { runningTasks, taskFqdn, type TaskRef } from './stream-tasks.js';

/** A launched task is a candidate for a kill once it is this old (ms). */
const MIN_AGE_TO_KILL_MS = 2_000;

/** What one events run sent. */
export interface GeneratorCounts {
  readonly launches: number;
  readonly kills: number;
  readonly events: number;
  readonly seconds: number;
}

/**
 * Launches and kills tasks at a steady event rate: launch, kill, launch, ... A launch copies the
 * name and framework of a random running task (so big apps get more launches, and every launch
 * changes an existing app) onto a random agent, with as many host ports and a fresh container
 * IP. Kills take, in turn, the oldest task launched here (once it is `MIN_AGE_TO_KILL_MS` old)
 * and a random task of the original cluster.
 *
 * The events are those `FakeMaster.launchTask` and `killTask` send (TASK_ADDED with the task in
 * TASK_STAGING, then TASK_UPDATED to TASK_RUNNING with the IP in `container_status`; TASK_UPDATED
 * to TASK_KILLED without one), and the master's document changes the same way, but the tasks are
 * found through an index here: those methods look a task up by scanning every task of the
 * document, about 3 ms per launch at 100k tasks, CPU this process would take from the cores
 * mesodns and dnsperf share.
 */
export class EventGenerator {
  readonly #master: FakeMaster;
  readonly #prober: Prober;
  readonly #settings: StreamSettings;
  readonly #random: Random;
  readonly #templates: readonly TaskRef[];
  readonly #agents: readonly string[];
  /** Original running tasks not killed yet, in random order (popped from the end). */
  readonly #originals: TaskRef[];
  /** Tasks launched here and not killed yet, oldest first. */
  readonly #launched: TaskRef[] = [];
  #nextIp = 0;
  #nextPort = 0;
  #launches = 0;
  #kills = 0;
  #events = 0;
  #isLaunchNext = true;
  #owesKillProbe = false;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #base = { launches: 0, kills: 0, events: 0 };

  constructor(master: FakeMaster, doc: MasterState, prober: Prober, settings: StreamSettings) {
    this.#master = master;
    this.#prober = prober;
    this.#settings = settings;
    this.#random = createRandom(SEED + 8);
    this.#templates = runningTasks(doc);
    this.#agents = doc.slaves.map((s) => s.id);
    const originals = [...this.#templates];
    for (let i = originals.length - 1; i > 0; i--) {
      const j = this.#random.int(i + 1);
      const a = originals[i];
      const b = originals[j];
      if (a !== undefined && b !== undefined) {
        originals[i] = b;
        originals[j] = a;
      }
    }
    this.#originals = originals;
  }

  /** Some original tasks (for the name check), without taking them out of the kill pool. */
  sample(n: number): TaskRef[] {
    return this.#originals.slice(0, n);
  }

  /** Starts emitting at the configured rate. */
  start(): void {
    this.#startedAt = performance.now();
    this.#base = { launches: this.#launches, kills: this.#kills, events: this.#events };
    this.#timer = setInterval(() => {
      this.#step();
    }, 5);
  }

  /** Stops emitting; returns what this run sent. */
  stop(): GeneratorCounts {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return {
      launches: this.#launches - this.#base.launches,
      kills: this.#kills - this.#base.kills,
      events: this.#events - this.#base.events,
      seconds: (performance.now() - this.#startedAt) / 1000,
    };
  }

  #step(): void {
    const allowed = ((performance.now() - this.#startedAt) / 1000) * this.#settings.eventsPerSecond;
    for (;;) {
      const cost = this.#isLaunchNext ? 2 : 1;
      if (this.#events - this.#base.events + cost > allowed) return;
      if (this.#isLaunchNext) this.#launch();
      else this.#kill();
      this.#events += cost;
      this.#isLaunchNext = !this.#isLaunchNext;
    }
  }

  #launch(): void {
    const template = this.#random.pick(this.#templates);
    const fw = template.framework;
    const agentId = this.#random.pick(this.#agents);
    const k = this.#nextIp++;
    const ip = `10.${String(200 + (k >> 16))}.${String((k >> 8) & 255)}.${String(k & 255)}`;
    const ports = Array.from({ length: template.ports }, () => 31000 + (this.#nextPort++ % 1000));
    const name = template.record.name;
    const id = `${name}.${randomUUID()}`;
    const record: StateTask = {
      id,
      name,
      framework_id: fw.id,
      executor_id: '',
      slave_id: agentId,
      state: 'TASK_STAGING',
      resources: {
        cpus: 0.1,
        disk: 0,
        gpus: 0,
        mem: 32,
        ...(ports.length > 0 ? { ports: `[${ports.map((p) => `${p}-${p}`).join(', ')}]` } : {}),
      },
      role: '*',
      statuses: [],
    };
    const startedAt = performance.now();
    fw.tasks.push(record);
    this.#master.emitRaw({ type: 'TASK_ADDED', task_added: { task: toV1Task(record, fw.id) } });
    this.#update(record, fw.id, 'TASK_RUNNING', ip);
    const task: TaskRef = {
      record,
      framework: fw,
      ports: ports.length,
      fqdn: taskFqdn(name, id, agentId, fw.name),
      ip,
      launchedAt: startedAt,
    };
    this.#launched.push(task);
    if (this.#launches % this.#settings.probeEvery === 0) {
      this.#prober.follow('launch', task, startedAt);
    }
    this.#launches++;
  }

  #kill(): void {
    const now = performance.now();
    const oldest = this.#launched[0];
    const isOldEnough =
      oldest?.launchedAt !== undefined && now - oldest.launchedAt >= MIN_AGE_TO_KILL_MS;
    const task =
      this.#kills % 2 === 0 && isOldEnough ? this.#launched.shift() : this.#originals.pop();
    if (task === undefined) return;
    const startedAt = performance.now();
    this.#update(task.record, task.framework.id, 'TASK_KILLED', undefined);
    // Only a task known to be served can be followed to NXDOMAIN: an original one (their names
    // are checked before the runs) or a launched one a probe saw.
    if (this.#kills % this.#settings.probeEvery === 0) this.#owesKillProbe = true;
    if (this.#owesKillProbe && (task.ip === undefined || task.isSeen === true)) {
      this.#prober.follow('kill', task, startedAt);
      this.#owesKillProbe = false;
    }
    this.#kills++;
  }

  /** A new status (with the container IP when given): the task's state and TASK_UPDATED. */
  #update(record: StateTask, frameworkId: string, state: string, ip: string | undefined): void {
    const status: StateTaskStatus = {
      state,
      timestamp: Date.now() / 1000,
      ...(ip === undefined
        ? {}
        : {
            container_status: {
              container_id: { value: `bench-${record.id}` },
              network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: ip }] }],
            },
          }),
    };
    record.state = state;
    record.statuses.push(status);
    this.#master.emitRaw({
      type: 'TASK_UPDATED',
      task_updated: {
        framework_id: { value: frameworkId },
        status: toV1TaskStatus(status, record.id, record.slave_id),
        state,
      },
    });
  }
}
