/**
 * Compact tasks for the states the pipeline holds (issue #20): a parsed task keeps only the
 * status the records read (the latest `TASK_RUNNING` one, `trimStatuses`), and the strings that
 * repeat across tasks (framework and agent ids, states, task names, label keys, protocols,
 * container types) are shared, one copy each, instead of one copy per task as `JSON.parse`
 * makes them. Empty lists are one shared empty list. At 100k tasks this halves the heap of a
 * state (bench/README.md); nothing that the records depend on changes.
 */
import type {
  ContainerInfo,
  Discovery,
  DiscoveryPort,
  Label,
  NetworkInfo,
  PortMapping,
  Task,
  TaskStatus,
} from './types.js';

const TASK_RUNNING = 'TASK_RUNNING';
const NONE: readonly never[] = Object.freeze([]);

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

/** One copy of each string it is given (for the strings that repeat across tasks). */
export class Interner {
  readonly #strings = new Map<string, string>();

  of(text: string): string {
    const known = this.#strings.get(text);
    if (known !== undefined) return known;
    this.#strings.set(text, text);
    return text;
  }
}

/** Makes parsed tasks compact (see the module comment); one per state, its strings shared. */
export class TaskCompactor {
  readonly #strings = new Interner();

  /** A shared copy of `text`. */
  string(text: string): string {
    return this.#strings.of(text);
  }

  /** `task` with its latest running status only and its repeated strings shared. */
  task(task: Task): Task {
    const s = this.#strings;
    const latest = trimStatuses(task.statuses)[0];
    return {
      id: task.id,
      name: s.of(task.name),
      frameworkId: s.of(task.frameworkId),
      agentId: s.of(task.agentId),
      state: s.of(task.state),
      statuses: latest === undefined ? NONE : [this.#status(latest)],
      ports: task.ports.length === 0 ? NONE : task.ports,
      discovery: task.discovery === undefined ? undefined : this.#discovery(task.discovery),
      container: task.container === undefined ? undefined : this.#container(task.container),
    };
  }

  #status(status: TaskStatus): TaskStatus {
    return {
      state: this.#strings.of(status.state),
      timestamp: status.timestamp,
      labels: this.#labels(status.labels),
      networkInfos: status.networkInfos.length === 0 ? NONE : status.networkInfos.map(network),
      healthy: status.healthy,
    };
  }

  #labels(labels: readonly Label[]): readonly Label[] {
    if (labels.length === 0) return NONE;
    const s = this.#strings;
    return labels.map((l) => ({ key: s.of(l.key), value: l.value }));
  }

  #discovery(discovery: Discovery): Discovery {
    const s = this.#strings;
    const ports =
      discovery.ports.length === 0
        ? NONE
        : discovery.ports.map((p): DiscoveryPort => ({
            number: p.number,
            protocol: s.of(p.protocol),
            name: s.of(p.name),
          }));
    return { name: s.of(discovery.name), ports };
  }

  #container(container: ContainerInfo): ContainerInfo {
    const s = this.#strings;
    const mappings = container.portMappings;
    return {
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
  }
}

function network(n: NetworkInfo): NetworkInfo {
  return n.ipAddresses.length === 0 ? { ipAddresses: NONE } : n;
}
