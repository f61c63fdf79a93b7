/**
 * Validation of the Mesos `/master/state` document (docs/mesos-api.md 2) into the narrow
 * types of `types.ts`. The document is untrusted: one bad agent, framework or task is skipped and
 * reported, never fatal. Only a document that is not a JSON object is rejected.
 *
 * Strings are kept as sent (IP addresses included: a CNI IPv6 `/prefix` is stripped by the record
 * generator, not here), so that this module only validates shapes and never interprets values.
 */
import { StateParseError } from '../errors.js';
import type { JsonObject } from './narrow.js';
import {
  FieldError,
  MAX_PORT,
  Report,
  describe,
  element,
  isObject,
  isPort,
  optArray,
  optBoolean,
  optNumber,
  optObject,
  optString,
  reqString,
} from './narrow.js';
import type {
  Agent,
  ContainerInfo,
  Discovery,
  DiscoveryPort,
  Framework,
  Label,
  NetworkInfo,
  ParsedState,
  Pid,
  PortMapping,
  PortRange,
  Task,
  TaskStatus,
} from './types.js';

export { MAX_PROBLEMS } from './narrow.js';

/**
 * Parses a libprocess PID such as `slave(1)@10.0.1.21:5051` or `scheduler(1)@[2001:db8::1]:25501`
 * (surrounding spaces tolerated). Returns undefined when it is not `id@host:port` with a port in
 * 0-65535; an IPv6 host must be bracketed and is returned without the brackets.
 */
export function parsePid(s: string): Pid | undefined {
  const text = s.trim();
  const at = text.lastIndexOf('@');
  if (at < 0) return undefined;
  const hostPort = text.slice(at + 1);
  let host: string;
  let portText: string;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0 || hostPort.charAt(close + 1) !== ':') return undefined;
    host = hostPort.slice(1, close);
    portText = hostPort.slice(close + 2);
  } else {
    const colon = hostPort.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = hostPort.slice(0, colon);
    portText = hostPort.slice(colon + 1);
    if (host.includes(':')) return undefined;
  }
  if (host === '' || /[\s[\]@/]/.test(host)) return undefined;
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > MAX_PORT) return undefined;
  return { id: text.slice(0, at), host, port };
}

const RANGE = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/;

/**
 * Parses a Mesos ranges string such as `"[31000-31001, 31005-31005]"` into inclusive port ranges.
 * `"[]"` gives an empty list and a single number is a range of one. Returns undefined for anything
 * else (no brackets, non-numeric bounds, a bound over 65535, begin > end).
 */
export function parsePortRanges(s: string): PortRange[] | undefined {
  const text = s.trim();
  if (!text.startsWith('[') || !text.endsWith(']')) return undefined;
  const inner = text.slice(1, -1).trim();
  if (inner === '') return [];
  const ranges: PortRange[] = [];
  for (const part of inner.split(',')) {
    const m = RANGE.exec(part.trim());
    if (m === null) return undefined;
    const begin = Number(m[1]);
    const end = m[2] === undefined ? begin : Number(m[2]);
    if (begin > MAX_PORT || end > MAX_PORT || begin > end) return undefined;
    ranges.push({ begin, end });
  }
  return ranges;
}

/** Labels come as `[{key, value}]` (tasks, statuses) or `{"labels": [...]}` (protobuf messages). */
function parseLabels(v: unknown, where: string): Label[] {
  if (v === undefined || v === null) return [];
  let list: unknown = v;
  if (isObject(v)) {
    list = v['labels'] ?? [];
  }
  if (!Array.isArray(list)) throw new FieldError(`${where}: expected labels, got ${describe(v)}`);
  const labels: Label[] = [];
  for (const item of list) {
    const o = element(item, where);
    labels.push({ key: reqString(o, 'key'), value: optString(o, 'value') ?? '' });
  }
  return labels;
}

/** `ip_addresses[].ip_address` when that list is non-empty, else the Mesos 0.25 `ip_address`. */
function parseNetworkInfo(v: unknown): NetworkInfo {
  const o = element(v, 'network_infos[]');
  const list = optArray(o, 'ip_addresses') ?? [];
  const ipAddresses: string[] = [];
  if (list.length > 0) {
    for (const item of list) {
      const ip = optString(element(item, 'ip_addresses[]'), 'ip_address');
      if (ip !== undefined && ip !== '') ipAddresses.push(ip);
    }
  } else {
    const legacy = optString(o, 'ip_address');
    if (legacy !== undefined && legacy !== '') ipAddresses.push(legacy);
  }
  return { ipAddresses };
}

/** Validates one `TaskStatus` (v0 and v1 encode it alike); throws FieldError. */
export function parseStatus(v: unknown): TaskStatus {
  const o = element(v, 'statuses[]');
  const containerStatus = optObject(o, 'container_status');
  const networkInfos =
    containerStatus === undefined
      ? []
      : (optArray(containerStatus, 'network_infos') ?? []).map(parseNetworkInfo);
  return {
    state: optString(o, 'state') ?? '',
    timestamp: optNumber(o, 'timestamp') ?? 0,
    labels: parseLabels(o['labels'], 'statuses[].labels'),
    networkInfos,
    healthy: optBoolean(o, 'healthy'),
  };
}

function parseDiscoveryPort(v: unknown): DiscoveryPort {
  const o = element(v, 'discovery.ports.ports[]');
  const num = optNumber(o, 'number');
  if (!isPort(num)) {
    throw new FieldError(`discovery.ports.ports[].number: bad port ${describe(o['number'])}`);
  }
  return {
    number: num,
    protocol: optString(o, 'protocol') ?? '',
    name: optString(o, 'name') ?? '',
  };
}

function parseDiscovery(o: JsonObject): Discovery {
  const ports = optObject(o, 'ports');
  const list = ports === undefined ? [] : (optArray(ports, 'ports') ?? []);
  return { name: optString(o, 'name') ?? '', ports: list.map(parseDiscoveryPort) };
}

const NO_PORT_MAPPINGS: readonly PortMapping[] = [];

/**
 * The valid entries of a `port_mappings` list (`{host_port, container_port, protocol?}`, both
 * ports 0-65535). Lenient on purpose: Mesos-DNS never reads port mappings, so a malformed one
 * only loses itself (and the address views it would give), never the task.
 */
function portMappings(list: unknown, out: PortMapping[]): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (!isObject(item)) continue;
    const hostPort = item['host_port'];
    const containerPort = item['container_port'];
    const protocol = item['protocol'] ?? '';
    if (!isPort(hostPort) || !isPort(containerPort) || typeof protocol !== 'string') continue;
    out.push({ hostPort, containerPort, protocol });
  }
}

/**
 * `dockerNetwork` is read only for Docker containers (a missing type with a `docker` block
 * counts). Port mappings: Docker's (`docker.port_mappings`), then those of the container's
 * network infos (`network_infos[].port_mappings`, the Mesos containerizer's port mapper).
 */
function parseContainer(o: JsonObject): ContainerInfo {
  const type = optString(o, 'type') ?? '';
  const docker = optObject(o, 'docker');
  const isDocker = type === 'DOCKER' || (type === '' && docker !== undefined);
  const dockerNetwork =
    isDocker && docker !== undefined ? (optString(docker, 'network') ?? '') : '';
  const mappings: PortMapping[] = [];
  if (docker !== undefined) portMappings(docker['port_mappings'], mappings);
  const networks = o['network_infos'];
  if (Array.isArray(networks)) {
    for (const n of networks) if (isObject(n)) portMappings(n['port_mappings'], mappings);
  }
  return {
    type,
    dockerNetwork,
    portMappings: mappings.length > 0 ? mappings : NO_PORT_MAPPINGS,
  };
}

/**
 * Where a task document keeps what the v0 and v1 encodings write differently: the ids (strings
 * in v0, `{"value": ...}` in v1) and the ports (a ranges string in v0, `Resource`s in v1).
 * Each reader throws FieldError.
 */
export interface TaskEncoding {
  readonly ports: (o: JsonObject) => PortRange[];
  readonly id: (o: JsonObject) => string;
  readonly frameworkId: (o: JsonObject) => string;
  readonly agentId: (o: JsonObject) => string;
}

/** Validates one task, reading ids and ports with `encoding` and the rest alike; throws FieldError. */
export function parseTaskWith(v: unknown, encoding: TaskEncoding): Task {
  const o = element(v, 'task');
  const ports = encoding.ports(o);
  const discovery = optObject(o, 'discovery');
  const container = optObject(o, 'container');
  return {
    id: encoding.id(o),
    name: optString(o, 'name') ?? '',
    frameworkId: encoding.frameworkId(o),
    agentId: encoding.agentId(o),
    state: reqString(o, 'state'),
    statuses: (optArray(o, 'statuses') ?? []).map(parseStatus),
    ports,
    discovery: discovery === undefined ? undefined : parseDiscovery(discovery),
    container: container === undefined ? undefined : parseContainer(container),
  };
}

/** v0 `resources.ports`: the summarised ranges string. */
function v0Ports(o: JsonObject): PortRange[] {
  const resources = optObject(o, 'resources');
  const portsText = resources === undefined ? undefined : optString(resources, 'ports');
  if (portsText === undefined) return [];
  const parsed = parsePortRanges(portsText);
  if (parsed === undefined)
    throw new FieldError(`resources.ports: bad ranges ${describe(portsText)}`);
  return parsed;
}

/** Validates one v0 task of the framework `frameworkId` (its default `framework_id`); throws FieldError. */
export function parseTask(v: unknown, frameworkId: string): Task {
  return parseTaskWith(v, {
    ports: v0Ports,
    id: (o) => reqString(o, 'id'),
    frameworkId: (o) => optString(o, 'framework_id') ?? frameworkId,
    agentId: (o) => reqString(o, 'slave_id'),
  });
}

/** Validates one agent (`slaves[]`); throws FieldError. */
export function parseAgent(v: unknown): Agent {
  const o = element(v, 'agent');
  const pidText = reqString(o, 'pid');
  const pid = parsePid(pidText);
  if (pid === undefined) throw new FieldError(`pid: not id@host:port: ${describe(pidText)}`);
  return { id: reqString(o, 'id'), hostname: optString(o, 'hostname') ?? '', pid };
}

/** A recovered agent's id (`recovered_slaves[]`); throws FieldError. */
export function parseRecoveredAgent(v: unknown): string {
  return reqString(element(v, 'agent'), 'id');
}

/** A framework's own fields, and its task list unread. */
export interface FrameworkHead extends Omit<Framework, 'tasks'> {
  readonly taskList: readonly unknown[];
}

/**
 * Validates a framework (`frameworks[i]`, at `where`) but its tasks; throws FieldError. A bad
 * scheduler pid is reported and dropped: it loses only the framework's own records.
 */
export function parseFrameworkHead(v: unknown, where: string, report: Report): FrameworkHead {
  const o = element(v, 'framework');
  const id = reqString(o, 'id');
  const name = optString(o, 'name') ?? '';
  const hostname = optString(o, 'hostname') ?? '';
  const taskList = optArray(o, 'tasks') ?? [];
  const pidText = optString(o, 'pid') ?? '';
  let pid: Pid | undefined;
  if (pidText.trim() !== '') {
    pid = parsePid(pidText);
    if (pid === undefined)
      report.add(`${where}.pid`, `ignored, not id@host:port: ${describe(pidText)}`);
  }
  return { id, name, pid, hostname, taskList };
}

function parseFramework(v: unknown, where: string, report: Report): Framework {
  const { id, name, pid, hostname, taskList } = parseFrameworkHead(v, where, report);
  const tasks = report.entries(taskList, `${where}.tasks`, 'tasks', (t) => parseTask(t, id));
  return { id, name, pid, hostname, tasks };
}

/** The `leader` of a state document; one that is not `id@host:port` is reported, undefined. */
export function parseLeader(doc: JsonObject, report: Report): Pid | undefined {
  try {
    const leaderText = optString(doc, 'leader');
    if (leaderText === undefined || leaderText.trim() === '') return undefined;
    const leader = parsePid(leaderText);
    if (leader === undefined) report.add('leader', `not id@host:port: ${describe(leaderText)}`);
    return leader;
  } catch (err) {
    report.fail('leader', err);
    return undefined;
  }
}

/**
 * Validates a Mesos `/master/state` document into a `State` plus a report of what was skipped.
 * Throws StateParseError (`ERR_STATE_PARSE`) only when `doc` is not a JSON object; a malformed
 * agent, framework or task is dropped, counted and described (at most MAX_PROBLEMS descriptions).
 */
export function parseState(doc: unknown): ParsedState {
  if (!isObject(doc)) {
    throw new StateParseError(`state document is not a JSON object (got ${describe(doc)})`);
  }
  const report = new Report();
  const leader = parseLeader(doc, report);
  const agents = report.listEntries(doc, undefined, 'slaves', 'agents', parseAgent);
  // Agents that have not re-registered after a failover: only their ids matter (carry-over).
  const recoveredAgentIds = report.listEntries(
    doc,
    undefined,
    'recovered_slaves',
    'agents',
    parseRecoveredAgent,
  );
  const frameworks = report.listEntries(doc, undefined, 'frameworks', 'frameworks', (f, where) =>
    parseFramework(f, where, report),
  );
  return {
    state: { leader, agents, frameworks, recoveredAgentIds },
    report: report.result(),
  };
}
