/**
 * The event generator of the stream section (bench/stream.ts): task churn on the fake master,
 * at a steady rate, with a probe (stream-probe.ts) after every few launches and kills.
 */
import { randomUUID } from 'node:crypto';
import { createRandom, type MasterState, type Random } from '../support/cluster.js';
import type { FakeMaster } from '../support/fake-master.js';
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
 * The fake master sends the events and changes its document (`launchTaskAt`: TASK_ADDED with
 * the task in TASK_STAGING, then TASK_UPDATED to TASK_RUNNING with the IP in `container_status`;
 * `updateTaskAt`: TASK_UPDATED to TASK_KILLED without one). The tasks to kill are found through
 * `taskPlaces`, an index, not by id (`killTask`): a lookup by id scans every task of the
 * document, about 3 ms at 100k tasks, CPU this process would take from the cores mesodns and
 * dnsperf share.
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
    const agentId = this.#random.pick(this.#agents);
    const k = this.#nextIp++;
    const ip = `10.${String(200 + (k >> 16))}.${String((k >> 8) & 255)}.${String(k & 255)}`;
    const ports = Array.from({ length: template.ports }, () => 31000 + (this.#nextPort++ % 1000));
    const { name, framework } = template;
    const id = `${name}.${randomUUID()}`;
    const startedAt = performance.now();
    const place = this.#master.launchTaskAt({ name, id, agentId, framework, ip, ports });
    const task: TaskRef = {
      place,
      name,
      framework,
      ports: ports.length,
      fqdn: taskFqdn(name, id, agentId, framework),
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
    this.#master.updateTaskAt(task.place, 'TASK_KILLED', { ip: null });
    // Only a task known to be served can be followed to NXDOMAIN: an original one (their names
    // are checked before the runs) or a launched one a probe saw.
    if (this.#kills % this.#settings.probeEvery === 0) this.#owesKillProbe = true;
    if (this.#owesKillProbe && (task.ip === undefined || task.isSeen === true)) {
      this.#prober.follow('kill', task, startedAt);
      this.#owesKillProbe = false;
    }
    this.#kills++;
  }
}
