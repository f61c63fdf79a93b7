/**
 * The address views (`records.addressViews`, issue #19; dcos-net's model, docs/names-and-dns.md
 * "Address views"): every running task is also named under three views that say which of its
 * addresses to use, whatever `ipSources` picks for the Mesos-DNS names:
 *
 * | view | addresses | SRV ports |
 * | --- | --- | --- |
 * | `agentip` | the agent's | host ports |
 * | `containerip` | the latest `TASK_RUNNING` status's network infos, whatever the network (a Docker bridge address included); none: no name | container ports |
 * | `autoip` | the agent's when the task maps host ports or has no container address, else the container's | host ports, or container ports |
 *
 * Names, for the task label `{t}` (of the DiscoveryInfo name when there is one, as the labelled
 * Mesos-DNS pass), the instance label `{t}-{hash}-{agent}` and `{v}` the view:
 * `{t}.{fw}.{v}.{d}` and `{t}-{hash}-{agent}.{fw}.{v}.{d}` (A/AAAA), and
 * `_{t}._{proto}.{fw}.{v}.{d}` (SRV to the instance name, one per port and protocol).
 *
 * Ports. A task maps host ports when one of its port mappings (`container.docker.port_mappings`,
 * `container.network_infos[].port_mappings`) has a host port. Then its host ports are the mapped
 * host ports and its container ports the mapped container ports, each with the mapping's
 * protocol (`tcp` when absent; `udp,tcp` gives both). Otherwise the task listens on its ports at
 * whatever address it has: host and container ports are its `resources.ports` (both `_tcp` and
 * `_udp`, as Mesos-DNS's slave SRV records), and the container ports add its DiscoveryInfo ports
 * (their protocol; none gives both). Port 0 is never published.
 */
import type { PortMapping, Task } from '../mesos/index.js';
import type { RecordBuilder } from './builder.js';
import type { LabelFunction } from './labels.js';
import { KIND_SRV } from './layout.js';
import type { RecordKind } from './layout.js';

/** The views, in the order their records are inserted. */
export const ADDRESS_VIEWS = ['agentip', 'containerip', 'autoip'] as const;

/** An address as the record builder holds it (its kind and value). */
export interface ViewIp {
  readonly kind: RecordKind;
  readonly v: number;
}

/** One SRV value of a view: a protocol label and a port. */
interface ViewPort {
  readonly protocol: string;
  readonly port: number;
}

const BOTH_PROTOCOLS: readonly string[] = ['tcp', 'udp'];
const TCP_ONLY: readonly string[] = ['tcp'];

/** Name ids of one app under one view, made on first use (-2: not yet; -1: invalid). */
class ViewNames {
  short = -2;
  /** `_{t}._{proto}` SRV names by protocol. */
  readonly srv = new Map<string, number>();
}

/** The protocols of a port mapping: its `protocol` split on commas and labelled; `tcp` if none. */
function mappingProtocols(mapping: PortMapping, label: LabelFunction): readonly string[] {
  if (mapping.protocol === '') return TCP_ONLY;
  const out: string[] = [];
  for (const part of mapping.protocol.split(',')) {
    const p = label(part);
    if (p !== '' && !out.includes(p)) out.push(p);
  }
  return out.length > 0 ? out : TCP_ONLY;
}

/** Every port of `resources.ports`, each as `_tcp` then `_udp`. */
function resourcePorts(task: Task, out: ViewPort[]): void {
  for (const range of task.ports) {
    for (let port = Math.max(range.begin, 1); port <= range.end; port++) {
      for (const protocol of BOTH_PROTOCOLS) out.push({ protocol, port });
    }
  }
}

/** A task's host ports and container ports (see the module comment). */
function viewPorts(
  task: Task,
  label: LabelFunction,
): { mapsHostPorts: boolean; host: ViewPort[]; container: ViewPort[] } {
  const mappings = task.container?.portMappings ?? [];
  const host: ViewPort[] = [];
  const container: ViewPort[] = [];
  if (mappings.some((m) => m.hostPort > 0)) {
    for (const m of mappings) {
      for (const protocol of mappingProtocols(m, label)) {
        if (m.hostPort > 0) host.push({ protocol, port: m.hostPort });
        if (m.containerPort > 0) container.push({ protocol, port: m.containerPort });
      }
    }
    return { mapsHostPorts: true, host, container };
  }
  resourcePorts(task, host);
  container.push(...host);
  for (const port of task.discovery?.ports ?? []) {
    if (port.number === 0) continue;
    const protocol = label(port.protocol);
    for (const p of protocol === '' ? BOTH_PROTOCOLS : [protocol]) {
      container.push({ protocol: p, port: port.number });
    }
  }
  return { mapsHostPorts: false, host, container };
}

/** The address views of one framework's tasks, into a record builder (see the module comment). */
export class FrameworkViews {
  readonly #b: RecordBuilder;
  readonly #label: LabelFunction;
  /** `.{fw}.{view}.{zone}` by view. */
  readonly #tails: readonly string[];
  /** Names by task label, one entry per view. */
  readonly #apps = new Map<string, ViewNames[]>();

  /** For the framework whose fragment is `fragment`, in `zone` (`mesos.`). */
  constructor(b: RecordBuilder, label: LabelFunction, fragment: string, zone: string) {
    this.#b = b;
    this.#label = label;
    this.#tails = ADDRESS_VIEWS.map((view) => `.${fragment}.${view}.${zone}`);
  }

  /**
   * Adds the view records of `task` named `name` (its task label) with instance label
   * `instance` (`{name}-{hash}-{agent}`): the agent's addresses and the container's (the latest
   * running status's network infos), as the record builder holds them. Each record goes into the
   * task's enumeration. `shared` false (the health rule leaves the task out of its app's shared
   * names, health.ts): only the per-instance names, no app name and no SRV.
   */
  add(
    task: Task,
    name: string,
    instance: string,
    agentIps: readonly ViewIp[],
    containerIps: readonly ViewIp[],
    shared = true,
  ): void {
    const { mapsHostPorts, host, container } = viewPorts(task, this.#label);
    const useAgent = mapsHostPorts || containerIps.length === 0;
    let names = this.#apps.get(name);
    if (names === undefined) {
      names = ADDRESS_VIEWS.map(() => new ViewNames());
      this.#apps.set(name, names);
    }
    this.#view(names[0], 0, name, instance, agentIps, host, shared);
    this.#view(names[1], 1, name, instance, containerIps, container, shared);
    if (useAgent) this.#view(names[2], 2, name, instance, agentIps, host, shared);
    else this.#view(names[2], 2, name, instance, containerIps, container, shared);
  }

  /** One view's records of one task: A/AAAA of both names, then the SRV records. */
  #view(
    names: ViewNames | undefined,
    view: number,
    name: string,
    instance: string,
    ips: readonly ViewIp[],
    ports: readonly ViewPort[],
    shared: boolean,
  ): void {
    if (names === undefined || ips.length === 0) return;
    const b = this.#b;
    const tail = this.#tails[view] ?? '';
    if (shared && names.short === -2) names.short = b.part(name).part(tail).intern();
    const short = shared ? names.short : -1;
    const target = b.part(instance).part(tail).intern();
    for (const ip of ips) {
      if (short >= 0) b.addForTask(ip.kind, short, ip.v);
      if (target >= 0) b.addForTask(ip.kind, target, ip.v);
    }
    if (target < 0 || !shared) return;
    for (const { protocol, port } of ports) {
      let id = names.srv.get(protocol);
      if (id === undefined) {
        id = b.part('_').part(name).part('._').part(protocol).part(tail).intern();
        names.srv.set(protocol, id);
      }
      if (id >= 0) b.addForTask(KIND_SRV, id, target, port);
    }
  }
}
