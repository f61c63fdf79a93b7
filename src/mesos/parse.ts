/**
 * Validation of the Mesos `/master/state` document (reference/mesos-api.md 1.3) into the narrow
 * types of `types.ts`. The document is untrusted: one bad agent, framework or task is skipped and
 * reported, never fatal. Only a document that is not a JSON object is rejected.
 *
 * Strings are kept as sent (IP addresses included: a CNI IPv6 `/prefix` is stripped by the record
 * generator, not here), so that this module only validates shapes and never interprets values.
 */
import { StateParseError } from '../errors.js';
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
  PortRange,
  Task,
  TaskStatus,
} from './types.js';

/** At most this many problem descriptions are kept in a report (the counters are exact). */
export const MAX_PROBLEMS = 20;

const MAX_PORT = 65535;

type JsonObject = Readonly<Record<string, unknown>>;

/** Thrown inside the parser for a field of the wrong shape; caught per entry, never escapes. */
class FieldError extends Error {}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `"${v.length > 40 ? v.slice(0, 40) + '...' : v}"` : typeof v;
}

/** Reads an optional string: absent or null gives undefined, any other non-string throws. */
function optString(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new FieldError(`${key}: expected a string, got ${describe(v)}`);
  return v;
}

function reqString(obj: JsonObject, key: string): string {
  const v = optString(obj, key);
  if (v === undefined) throw new FieldError(`${key}: missing`);
  return v;
}

function optNumber(obj: JsonObject, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new FieldError(`${key}: expected a number, got ${describe(v)}`);
  }
  return v;
}

function optBoolean(obj: JsonObject, key: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean')
    throw new FieldError(`${key}: expected a boolean, got ${describe(v)}`);
  return v;
}

function optObject(obj: JsonObject, key: string): JsonObject | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new FieldError(`${key}: expected an object, got ${describe(v)}`);
  return v;
}

function optArray(obj: JsonObject, key: string): readonly unknown[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new FieldError(`${key}: expected an array, got ${describe(v)}`);
  const list: readonly unknown[] = v;
  return list;
}

function element(v: unknown, where: string): JsonObject {
  if (!isObject(v)) throw new FieldError(`${where}: expected an object, got ${describe(v)}`);
  return v;
}

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

function parseStatus(v: unknown): TaskStatus {
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
  if (num === undefined || !Number.isInteger(num) || num < 0 || num > MAX_PORT) {
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

/** `dockerNetwork` is read only for Docker containers (a missing type with a `docker` block counts). */
function parseContainer(o: JsonObject): ContainerInfo {
  const type = optString(o, 'type') ?? '';
  const docker = optObject(o, 'docker');
  const isDocker = type === 'DOCKER' || (type === '' && docker !== undefined);
  const dockerNetwork =
    isDocker && docker !== undefined ? (optString(docker, 'network') ?? '') : '';
  return { type, dockerNetwork };
}

function parseTask(v: unknown, frameworkId: string): Task {
  const o = element(v, 'task');
  const resources = optObject(o, 'resources');
  const portsText = resources === undefined ? undefined : optString(resources, 'ports');
  let ports: PortRange[] = [];
  if (portsText !== undefined) {
    const parsed = parsePortRanges(portsText);
    if (parsed === undefined)
      throw new FieldError(`resources.ports: bad ranges ${describe(portsText)}`);
    ports = parsed;
  }
  const discovery = optObject(o, 'discovery');
  const container = optObject(o, 'container');
  return {
    id: reqString(o, 'id'),
    name: optString(o, 'name') ?? '',
    frameworkId: optString(o, 'framework_id') ?? frameworkId,
    agentId: reqString(o, 'slave_id'),
    state: reqString(o, 'state'),
    statuses: (optArray(o, 'statuses') ?? []).map(parseStatus),
    ports,
    discovery: discovery === undefined ? undefined : parseDiscovery(discovery),
    container: container === undefined ? undefined : parseContainer(container),
  };
}

function parseAgent(v: unknown): Agent {
  const o = element(v, 'agent');
  const pidText = reqString(o, 'pid');
  const pid = parsePid(pidText);
  if (pid === undefined) throw new FieldError(`pid: not id@host:port: ${describe(pidText)}`);
  return { id: reqString(o, 'id'), hostname: optString(o, 'hostname') ?? '', pid };
}

/** Collects problems (capped) and skip counters while parsing. */
class Report {
  skippedAgents = 0;
  skippedFrameworks = 0;
  skippedTasks = 0;
  readonly problems: string[] = [];

  add(where: string, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(`${where}: ${message}`);
  }

  /** Records the failure of one entry; rethrows anything that is not a shape problem. */
  fail(where: string, err: unknown): void {
    if (!(err instanceof FieldError)) throw err;
    this.add(where, err.message);
  }
}

function parseFramework(v: unknown, where: string, report: Report): Framework {
  const o = element(v, 'framework');
  const id = reqString(o, 'id');
  const name = optString(o, 'name') ?? '';
  const hostname = optString(o, 'hostname') ?? '';
  const taskList = optArray(o, 'tasks') ?? [];
  const pidText = optString(o, 'pid') ?? '';
  let pid: Pid | undefined;
  if (pidText.trim() !== '') {
    pid = parsePid(pidText);
    // A bad scheduler pid loses only the framework's own records, not its tasks.
    if (pid === undefined)
      report.add(`${where}.pid`, `ignored, not id@host:port: ${describe(pidText)}`);
  }
  const tasks: Task[] = [];
  taskList.forEach((t, i) => {
    try {
      tasks.push(parseTask(t, id));
    } catch (err) {
      report.skippedTasks++;
      report.fail(`${where}.tasks[${i}]`, err);
    }
  });
  return { id, name, pid, hostname, tasks };
}

function topArray(doc: JsonObject, key: string, report: Report): readonly unknown[] {
  try {
    return optArray(doc, key) ?? [];
  } catch (err) {
    report.fail(key, err);
    return [];
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

  let leader: Pid | undefined;
  try {
    const leaderText = optString(doc, 'leader');
    if (leaderText !== undefined && leaderText.trim() !== '') {
      leader = parsePid(leaderText);
      if (leader === undefined) report.add('leader', `not id@host:port: ${describe(leaderText)}`);
    }
  } catch (err) {
    report.fail('leader', err);
  }

  const agents: Agent[] = [];
  topArray(doc, 'slaves', report).forEach((a, i) => {
    try {
      agents.push(parseAgent(a));
    } catch (err) {
      report.skippedAgents++;
      report.fail(`slaves[${i}]`, err);
    }
  });

  const frameworks: Framework[] = [];
  topArray(doc, 'frameworks', report).forEach((f, i) => {
    const where = `frameworks[${i}]`;
    try {
      frameworks.push(parseFramework(f, where, report));
    } catch (err) {
      report.skippedFrameworks++;
      report.fail(where, err);
    }
  });

  return {
    state: { leader, agents, frameworks },
    report: {
      skippedAgents: report.skippedAgents,
      skippedFrameworks: report.skippedFrameworks,
      skippedTasks: report.skippedTasks,
      problems: report.problems,
    },
  };
}
