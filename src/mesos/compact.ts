/**
 * Compact tasks for the states the pipeline holds (issue #20): a parsed task keeps only the
 * status the records read (the latest `TASK_RUNNING` one, `trimStatuses`), and what repeats
 * across tasks is shared, one copy each, instead of one copy per task as `JSON.parse` makes
 * them: strings (framework and agent ids, states, task names, label keys, protocols, container
 * types), a single port range by its value, and the discovery info, container info and status
 * labels of the last task of the same name when they are equal (the tasks of one app mostly
 * have the same). Addresses are a task's own and not shared. Empty lists are one shared empty
 * list, and every list is exactly as long as it needs to be (the parsers grow theirs by `push`,
 * which leaves room for 17 elements: 152 bytes for one port range). Nothing that the records
 * depend on changes; the parts are read-only. At 100k tasks a state held this way costs 65 MB of
 * heap, 93 MB with strings shared only (bench/README.md).
 */
import type {
  ContainerInfo,
  Discovery,
  DiscoveryPort,
  Label,
  NetworkInfo,
  PortMapping,
  PortRange,
  Task,
  TaskStatus,
} from './types.js';

const TASK_RUNNING = 'TASK_RUNNING';
const NONE: readonly never[] = Object.freeze([]);
const EMPTY_NETWORK: NetworkInfo = Object.freeze({ ipAddresses: NONE });
/** The most strings, port ranges or apps a compactor knows before it starts again. */
const MAX_SHARED = 1 << 18;

/**
 * The only status the records depend on: the latest `TASK_RUNNING` one (greatest timestamp,
 * first wins ties, as the generator picks it). The others are dropped: the task's state is its
 * own field, and 100k tasks with their whole status history cost hundreds of megabytes.
 */
export function trimStatuses(statuses: readonly TaskStatus[]): readonly TaskStatus[] {
  let latest: TaskStatus | undefined;
  for (const s of statuses) {
    if (s.state === TASK_RUNNING && (latest === undefined || s.timestamp > latest.timestamp)) {
      latest = s;
    }
  }
  if (latest === undefined) return NONE;
  return statuses.length === 1 ? statuses : [latest];
}

/**
 * One copy of each string it is given (for the strings that repeat across tasks); bounded (past
 * `max` strings it starts again, which costs sharing, never correctness).
 */
export class Interner {
  readonly #strings = new Map<string, string>();
  readonly #max: number;

  constructor(max = MAX_SHARED) {
    this.#max = max;
  }

  of(text: string): string {
    const known = this.#strings.get(text);
    if (known !== undefined) return known;
    remember(this.#strings, text, text, this.#max);
    return text;
  }
}

/** The parts last made for the tasks of one name (an app), which its next task likely shares. */
interface AppParts {
  discovery: Discovery | undefined;
  container: ContainerInfo | undefined;
  labels: readonly Label[];
}

/** Makes parsed tasks compact (see the module comment); one per state, its strings shared. */
export class TaskCompactor {
  readonly #max: number;
  readonly #strings: Interner;
  /** One port range (most tasks have one) by `begin * 0x10000 + end`: ports repeat by agent. */
  readonly #ranges = new Map<number, readonly PortRange[]>();
  /** By task name: tasks of one app mostly have equal discovery, container and labels. */
  readonly #apps = new Map<string, AppParts>();

  /**
   * `max`: the most strings, ranges and apps it knows: a compactor for one document shares all
   * it can, one that lives on (the stream model's, for the tasks of events) keeps few.
   */
  constructor(max = MAX_SHARED) {
    this.#max = max;
    this.#strings = new Interner(max);
  }

  /** A shared copy of `text`. */
  string(text: string): string {
    return this.#strings.of(text);
  }

  /** `task` with its latest running status only and its repeated parts shared. */
  task(task: Task): Task {
    const s = this.#strings;
    const name = s.of(task.name);
    let app = this.#apps.get(name);
    if (app === undefined) {
      app = { discovery: undefined, container: undefined, labels: NONE };
      remember(this.#apps, name, app, this.#max);
    }
    const latest = trimStatuses(task.statuses)[0];
    return {
      id: task.id,
      name,
      frameworkId: s.of(task.frameworkId),
      agentId: s.of(task.agentId),
      state: s.of(task.state),
      statuses: latest === undefined ? NONE : [this.#status(latest, app)],
      ports: this.#portRanges(task.ports),
      discovery: task.discovery === undefined ? undefined : this.#discovery(task.discovery, app),
      container: task.container === undefined ? undefined : this.#container(task.container, app),
    };
  }

  #status(status: TaskStatus, app: AppParts): TaskStatus {
    return {
      state: this.#strings.of(status.state),
      timestamp: status.timestamp,
      labels: this.#labelList(status.labels, app),
      // Not shared: a container's addresses are its own (but the lists are made exact).
      networkInfos:
        status.networkInfos.length === 0
          ? NONE
          : status.networkInfos.map((n) =>
              n.ipAddresses.length === 0 ? EMPTY_NETWORK : { ipAddresses: n.ipAddresses.slice() },
            ),
      healthy: status.healthy,
    };
  }

  #portRanges(ports: readonly PortRange[]): readonly PortRange[] {
    const [only] = ports;
    if (only === undefined) return NONE;
    if (ports.length > 1) return ports.map((p) => ({ begin: p.begin, end: p.end }));
    // Ports are validated (0-65535), so the key is unique.
    const key = only.begin * 0x10000 + only.end;
    const known = this.#ranges.get(key);
    if (known !== undefined) return known;
    const made = [{ begin: only.begin, end: only.end }];
    remember(this.#ranges, key, made, this.#max);
    return made;
  }

  #labelList(labels: readonly Label[], app: AppParts): readonly Label[] {
    if (labels.length === 0) return NONE;
    if (sameList(app.labels, labels, sameLabel)) return app.labels;
    const s = this.#strings;
    app.labels = labels.map((l) => ({ key: s.of(l.key), value: l.value }));
    return app.labels;
  }

  #discovery(discovery: Discovery, app: AppParts): Discovery {
    const known = app.discovery;
    if (
      known !== undefined &&
      known.name === discovery.name &&
      sameList(known.ports, discovery.ports, sameDiscoveryPort)
    ) {
      return known;
    }
    const s = this.#strings;
    app.discovery = {
      name: s.of(discovery.name),
      ports:
        discovery.ports.length === 0
          ? NONE
          : discovery.ports.map((p): DiscoveryPort => ({
              number: p.number,
              protocol: s.of(p.protocol),
              name: s.of(p.name),
            })),
    };
    return app.discovery;
  }

  #container(container: ContainerInfo, app: AppParts): ContainerInfo {
    const known = app.container;
    const mappings = container.portMappings;
    if (
      known !== undefined &&
      known.type === container.type &&
      known.dockerNetwork === container.dockerNetwork &&
      sameList(known.portMappings, mappings, samePortMapping)
    ) {
      return known;
    }
    const s = this.#strings;
    app.container = {
      type: s.of(container.type),
      dockerNetwork: s.of(container.dockerNetwork),
      portMappings:
        mappings.length === 0
          ? NONE
          : mappings.map((m): PortMapping => ({
              hostPort: m.hostPort,
              containerPort: m.containerPort,
              protocol: s.of(m.protocol),
            })),
    };
    return app.container;
  }
}

/** Sets `key` in a bounded map: past `max` entries it starts again (sharing less, never wrong). */
function remember<K, T>(values: Map<K, T>, key: K, value: T, max: number): void {
  if (values.size >= max) values.clear();
  values.set(key, value);
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || !same(x, y)) return false;
  }
  return true;
}

function sameLabel(a: Label, b: Label): boolean {
  return a.key === b.key && a.value === b.value;
}

function sameDiscoveryPort(a: DiscoveryPort, b: DiscoveryPort): boolean {
  return a.number === b.number && a.protocol === b.protocol && a.name === b.name;
}

function samePortMapping(a: PortMapping, b: PortMapping): boolean {
  return (
    a.hostPort === b.hostPort && a.containerPort === b.containerPort && a.protocol === b.protocol
  );
}
