/**
 * Converts v0 `/master/state` documents (test/fixtures/*.json) into the objects the Mesos v1
 * operator API sends (docs/mesos-api.md 3.2): the `get_state` of GET_STATE and SUBSCRIBED,
 * and the tasks, agents and frameworks carried by TASK_ADDED, AGENT_ADDED and FRAMEWORK_*.
 *
 * What changes from v0 (the conversion follows `include/mesos/v1/master/master.proto`):
 * - IDs become `{ value }`; `slave_id` becomes `agent_id`; `executor_id: ""` (command task) is
 *   omitted.
 * - The summarised v0 `resources` (`{cpus: 1, ports: "[31000-31001]"}`) become `Resource[]`
 *   (`SCALAR` with `scalar.value`, `RANGES` with `ranges.range[{begin, end}]`, `SET` with
 *   `set.item[]`); zero scalars and empty ranges are left out, as an absent resource is.
 * - Labels are always `{ labels: [...] }` (v0 writes arrays on tasks, statuses and network infos).
 * - Agent and framework times become `{ nanoseconds }`; status timestamps stay float seconds.
 * - A v1 framework has no `pid` (HTTP schedulers); `hostname` is kept.
 * - `statuses[].container_status.network_infos`, `discovery` (ports as `{ports: [...]}`),
 *   `container` (with `docker.network`) and `health_check` keep their nested shape.
 *
 * One deliberate simplification: a task of `frameworks[].tasks` in a terminal state (v0 keeps it
 * there until the scheduler acknowledges the update) is listed in `completed_tasks`, and one in
 * TASK_UNREACHABLE in `unreachable_tasks`, as after the acknowledgement.
 */
import { isTerminalState } from '../src/mesos/stream-model.js';
import { isRecord } from '../src/is-record.js';
/** A JSON value as the v1 API sends it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A Mesos task state name (`TaskState` in `include/mesos/v1/mesos.proto`). */
export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

/** A v1 ID message (`TaskID`, `AgentID`, `FrameworkID`, ...). */
export interface V1Id {
  value: string;
}

/** A v1 time (`TimeInfo`): nanoseconds since the epoch (beyond 2^53, as Mesos sends it). */
export interface V1Time {
  nanoseconds: number;
}

/** A v1 `Labels` message. */
export interface V1Labels {
  labels: { key: string; value?: string }[];
}

/** A v1 `Resource`. */
export interface V1Resource {
  name: string;
  type: 'SCALAR' | 'RANGES' | 'SET';
  scalar?: { value: number };
  ranges?: { range: { begin: number; end: number }[] };
  set?: { item: string[] };
  allocation_info?: { role: string };
}

/** A v1 `TaskStatus`. */
export interface V1TaskStatus {
  task_id: V1Id;
  state: string;
  agent_id?: V1Id;
  source?: string;
  timestamp?: number;
  message?: string;
  reason?: string;
  healthy?: boolean;
  labels?: V1Labels;
  container_status?: JsonObject;
}

/** A v1 `Task`. */
export interface V1Task {
  name: string;
  task_id: V1Id;
  framework_id: V1Id;
  executor_id?: V1Id;
  agent_id: V1Id;
  state: string;
  status_update_state?: string;
  resources: V1Resource[];
  statuses: V1TaskStatus[];
  labels?: V1Labels;
  discovery?: JsonObject;
  container?: JsonObject;
  health_check?: JsonObject;
  user?: string;
}

/** A v1 `Attribute` of an agent. */
export interface V1Attribute {
  name: string;
  type: 'TEXT' | 'SCALAR';
  text?: { value: string };
  scalar?: { value: number };
}

/** A v1 `AgentInfo`. */
export interface V1AgentInfo {
  id: V1Id;
  hostname: string;
  port: number;
  resources: V1Resource[];
  attributes: V1Attribute[];
  domain?: JsonObject;
}

/** An agent of `get_agents.agents` and of AGENT_ADDED (`Response.GetAgents.Agent`). */
export interface V1Agent {
  agent_info: V1AgentInfo;
  active: boolean;
  deactivated: boolean;
  version?: string;
  pid?: string;
  registered_time?: V1Time;
  reregistered_time?: V1Time;
  total_resources: V1Resource[];
  capabilities: { type: string }[];
}

/** A v1 `FrameworkInfo` (no `pid`: v1 knows only HTTP schedulers' fields). */
export interface V1FrameworkInfo {
  id: V1Id;
  name: string;
  user: string;
  hostname?: string;
  webui_url?: string;
  failover_timeout?: number;
  checkpoint?: boolean;
  role?: string;
  roles?: string[];
  principal?: string;
  capabilities: { type: string }[];
  labels?: V1Labels;
}

/** A framework of `get_frameworks` and of FRAMEWORK_ADDED/UPDATED (`GetFrameworks.Framework`). */
export interface V1Framework {
  framework_info: V1FrameworkInfo;
  active: boolean;
  connected: boolean;
  recovered: boolean;
  registered_time?: V1Time;
  reregistered_time?: V1Time;
  unregistered_time?: V1Time;
}

/** An executor of `get_executors.executors`. */
export interface V1Executor {
  executor_info: {
    executor_id: V1Id;
    framework_id?: V1Id;
    name?: string;
    command?: JsonObject;
    resources: V1Resource[];
  };
  agent_id: V1Id;
}

/** The `get_state` object of GET_STATE and SUBSCRIBED (`Response.GetState`). */
export interface V1State {
  get_tasks: { tasks: V1Task[]; unreachable_tasks: V1Task[]; completed_tasks: V1Task[] };
  get_executors: { executors: V1Executor[] };
  get_frameworks: { frameworks: V1Framework[]; completed_frameworks: V1Framework[] };
  get_agents: { agents: V1Agent[]; recovered_agents: V1AgentInfo[] };
}

/** Whether a task in `state` is finished for good (the rule mesodns's stream model applies). */
export { isTerminalState };

function str(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

function num(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function bool(o: Record<string, unknown>, key: string): boolean | undefined {
  const v = o[key];
  return typeof v === 'boolean' ? v : undefined;
}

function list(o: Record<string, unknown>, key: string): unknown[] {
  const v = o[key];
  return Array.isArray(v) ? v : [];
}

function records(o: Record<string, unknown>, key: string): Record<string, unknown>[] {
  return list(o, key).filter(isRecord);
}

/** A deep copy of `value` as JSON (functions, undefined and non-finite numbers dropped). */
function toJson(value: unknown): JsonValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (Array.isArray(value)) {
    return value.flatMap((v) => {
      const j = toJson(v);
      return j === undefined ? [] : [j];
    });
  }
  if (isRecord(value)) return toJsonObject(value);
  return undefined;
}

function toJsonObject(value: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    const j = toJson(v);
    if (j !== undefined) out[key] = j;
  }
  return out;
}

function jsonObject(value: unknown): JsonObject | undefined {
  return isRecord(value) ? toJsonObject(value) : undefined;
}

function idOf(value: string): V1Id {
  return { value };
}

/** Seconds (v0 float) as a v1 time; undefined for absent or zero (v0's "never"). */
function timeOf(seconds: number | undefined): V1Time | undefined {
  return seconds === undefined || seconds <= 0
    ? undefined
    : { nanoseconds: Math.round(seconds * 1e9) };
}

/** v0 labels (an array, or already `{labels: [...]}`) as a v1 `Labels`. */
function labelsOf(value: unknown): V1Labels | undefined {
  const items = Array.isArray(value)
    ? value
    : isRecord(value) && Array.isArray(value['labels'])
      ? value['labels']
      : undefined;
  if (items === undefined) return undefined;
  return {
    labels: items.filter(isRecord).flatMap((l) => {
      const key = str(l, 'key');
      if (key === undefined) return [];
      const value = str(l, 'value');
      return [value === undefined ? { key } : { key, value }];
    }),
  };
}

/** Parses a v0 ranges string `"[31000-31001, 31005-31005]"`. */
function rangesOf(text: string): { begin: number; end: number }[] {
  return [...text.matchAll(/(\d+)\s*-\s*(\d+)/g)].map((m) => ({
    begin: Number(m[1]),
    end: Number(m[2]),
  }));
}

/** The summarised v0 resources as v1 `Resource[]` (tasks get `allocation_info.role`). */
function resourcesOf(value: unknown, role?: string): V1Resource[] {
  if (Array.isArray(value)) {
    // Already v1-shaped (a fixture written for v1): keep the well-formed entries.
    return value.filter(isRecord).flatMap((r) => {
      const name = str(r, 'name');
      const type = str(r, 'type');
      if (name === undefined || (type !== 'SCALAR' && type !== 'RANGES' && type !== 'SET')) {
        return [];
      }
      return [{ ...toJsonObject(r), name, type }];
    });
  }
  if (!isRecord(value)) return [];
  const allocation = role === undefined ? {} : { allocation_info: { role } };
  const out: V1Resource[] = [];
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === 'number') {
      if (v !== 0 && Number.isFinite(v)) {
        out.push({ name, type: 'SCALAR', scalar: { value: v }, ...allocation });
      }
    } else if (typeof v === 'string') {
      const text = v.trim();
      if (text.startsWith('[')) {
        const range = rangesOf(text);
        if (range.length > 0) out.push({ name, type: 'RANGES', ranges: { range }, ...allocation });
      } else if (text.startsWith('{')) {
        const item = text
          .slice(1, -1)
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        if (item.length > 0) out.push({ name, type: 'SET', set: { item }, ...allocation });
      }
    }
  }
  return out;
}

/** A network info with its labels as `{labels: [...]}`. */
function networkInfoOf(value: Record<string, unknown>): JsonObject {
  const out = toJsonObject(value);
  const labels = labelsOf(value['labels']);
  if (labels === undefined) {
    delete out['labels'];
  } else {
    out['labels'] = { labels: labels.labels.map((l) => ({ ...l })) };
  }
  return out;
}

function containerStatusOf(value: unknown): JsonObject | undefined {
  if (!isRecord(value)) return undefined;
  const out = toJsonObject(value);
  if (Array.isArray(value['network_infos'])) {
    out['network_infos'] = records(value, 'network_infos').map(networkInfoOf);
  }
  return out;
}

/** Discovery info with `ports` as `{ports: [...]}` and every `labels` as `{labels: [...]}`. */
function discoveryOf(value: unknown): JsonObject | undefined {
  if (!isRecord(value)) return undefined;
  const out = toJsonObject(value);
  const ports = value['ports'];
  const items = Array.isArray(ports)
    ? ports
    : isRecord(ports) && Array.isArray(ports['ports'])
      ? ports['ports']
      : undefined;
  if (items !== undefined) {
    out['ports'] = {
      ports: items.filter(isRecord).map((p) => {
        const port = toJsonObject(p);
        const labels = labelsOf(p['labels']);
        if (labels !== undefined) port['labels'] = { labels: labels.labels.map((l) => ({ ...l })) };
        return port;
      }),
    };
  }
  const labels = labelsOf(value['labels']);
  if (labels !== undefined) out['labels'] = { labels: labels.labels.map((l) => ({ ...l })) };
  return out;
}

function capabilitiesOf(value: unknown): { type: string }[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((c) => {
    if (typeof c === 'string') return [{ type: c }];
    if (isRecord(c)) {
      const type = str(c, 'type');
      return type === undefined ? [] : [{ type }];
    }
    return [];
  });
}

/** The port of a libprocess pid `name@host:port` (IPv6 hosts in brackets). */
function pidPort(pid: string | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const m = /:(\d+)$/.exec(pid);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Converts one v0 task status into a v1 `TaskStatus` of task `taskId` on agent `agentId`
 * (the v1 status names both; labels become `{labels: [...]}`, network infos keep their shape).
 */
export function toV1TaskStatus(v0status: unknown, taskId: string, agentId?: string): V1TaskStatus {
  const s = isRecord(v0status) ? v0status : {};
  const out: V1TaskStatus = { task_id: idOf(taskId), state: str(s, 'state') ?? 'TASK_UNKNOWN' };
  const agent = agentId ?? (isRecord(s['agent_id']) ? str(s['agent_id'], 'value') : undefined);
  if (agent !== undefined) out.agent_id = idOf(agent);
  out.source = str(s, 'source') ?? 'SOURCE_EXECUTOR';
  const timestamp = num(s, 'timestamp');
  if (timestamp !== undefined) out.timestamp = timestamp;
  const message = str(s, 'message');
  if (message !== undefined) out.message = message;
  const reason = str(s, 'reason');
  if (reason !== undefined) out.reason = reason;
  const healthy = bool(s, 'healthy');
  if (healthy !== undefined) out.healthy = healthy;
  const labels = labelsOf(s['labels']);
  if (labels !== undefined) out.labels = labels;
  const container = containerStatusOf(s['container_status']);
  if (container !== undefined) out.container_status = container;
  return out;
}

/**
 * Converts one v0 task (`frameworks[].tasks[]`) into a v1 `Task`; `frameworkId` fills or
 * overrides `framework_id`. Throws a TypeError when `v0task` is not an object with a string `id`.
 */
export function toV1Task(v0task: unknown, frameworkId?: string): V1Task {
  if (!isRecord(v0task)) throw new TypeError('toV1Task: the task is not an object');
  const id = str(v0task, 'id');
  if (id === undefined) throw new TypeError('toV1Task: the task has no string id');
  const agentId = str(v0task, 'slave_id') ?? str(v0task, 'agent_id') ?? '';
  const statuses = list(v0task, 'statuses').map((s) => toV1TaskStatus(s, id, agentId));
  const task: V1Task = {
    name: str(v0task, 'name') ?? '',
    task_id: idOf(id),
    framework_id: idOf(frameworkId ?? str(v0task, 'framework_id') ?? ''),
    agent_id: idOf(agentId),
    state: str(v0task, 'state') ?? 'TASK_STAGING',
    resources: resourcesOf(v0task['resources'], str(v0task, 'role') ?? '*'),
    statuses,
  };
  const executor = str(v0task, 'executor_id');
  if (executor !== undefined && executor !== '') task.executor_id = idOf(executor);
  const last = statuses.at(-1);
  if (last !== undefined) task.status_update_state = last.state;
  const labels = labelsOf(v0task['labels']);
  if (labels !== undefined) task.labels = labels;
  const discovery = discoveryOf(v0task['discovery']);
  if (discovery !== undefined) task.discovery = discovery;
  const container = jsonObject(v0task['container']);
  if (container !== undefined) task.container = container;
  const healthCheck = jsonObject(v0task['health_check']);
  if (healthCheck !== undefined) task.health_check = healthCheck;
  const user = str(v0task, 'user');
  if (user !== undefined) task.user = user;
  return task;
}

function attributesOf(value: unknown): V1Attribute[] {
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([name, v]): V1Attribute[] => {
    if (typeof v === 'string') return [{ name, type: 'TEXT', text: { value: v } }];
    if (typeof v === 'number') return [{ name, type: 'SCALAR', scalar: { value: v } }];
    return [];
  });
}

function agentInfoOf(slave: Record<string, unknown>): V1AgentInfo {
  const pid = str(slave, 'pid');
  const info: V1AgentInfo = {
    id: idOf(str(slave, 'id') ?? ''),
    hostname: str(slave, 'hostname') ?? '',
    port: num(slave, 'port') ?? pidPort(pid) ?? 5051,
    resources: resourcesOf(slave['resources']),
    attributes: attributesOf(slave['attributes']),
  };
  const domain = jsonObject(slave['domain']);
  if (domain !== undefined) info.domain = domain;
  return info;
}

/**
 * Converts one v0 agent (`slaves[]`) into a v1 agent (`agent_info{id{value},hostname,port,...}`,
 * `pid`, `active`, times in nanoseconds), as GET_STATE lists it and AGENT_ADDED carries it.
 */
export function toV1Agent(v0slave: unknown): V1Agent {
  const slave = isRecord(v0slave) ? v0slave : {};
  const info = agentInfoOf(slave);
  const agent: V1Agent = {
    agent_info: info,
    active: bool(slave, 'active') ?? true,
    deactivated: bool(slave, 'deactivated') ?? false,
    total_resources: info.resources.map((r) => ({ ...r })),
    capabilities: capabilitiesOf(slave['capabilities']),
  };
  const version = str(slave, 'version');
  if (version !== undefined) agent.version = version;
  const pid = str(slave, 'pid');
  if (pid !== undefined) agent.pid = pid;
  const registered = timeOf(num(slave, 'registered_time'));
  if (registered !== undefined) agent.registered_time = registered;
  const reregistered = timeOf(num(slave, 'reregistered_time'));
  if (reregistered !== undefined) agent.reregistered_time = reregistered;
  return agent;
}

/**
 * Converts one v0 framework into a v1 `FrameworkInfo` (as FRAMEWORK_REMOVED carries it): `id`
 * as `{value}`, `hostname` kept, no `pid`, capabilities as `[{type}]`.
 */
export function toV1FrameworkInfo(v0framework: unknown): V1FrameworkInfo {
  const f = isRecord(v0framework) ? v0framework : {};
  const info: V1FrameworkInfo = {
    id: idOf(str(f, 'id') ?? ''),
    name: str(f, 'name') ?? '',
    user: str(f, 'user') ?? '',
    capabilities: capabilitiesOf(f['capabilities']),
  };
  const hostname = str(f, 'hostname');
  if (hostname !== undefined) info.hostname = hostname;
  const webui = str(f, 'webui_url');
  if (webui !== undefined) info.webui_url = webui;
  const failover = num(f, 'failover_timeout');
  if (failover !== undefined) info.failover_timeout = failover;
  const checkpoint = bool(f, 'checkpoint');
  if (checkpoint !== undefined) info.checkpoint = checkpoint;
  const role = str(f, 'role');
  if (role !== undefined) info.role = role;
  const roles = list(f, 'roles').filter((r): r is string => typeof r === 'string');
  if (roles.length > 0) info.roles = roles;
  const principal = str(f, 'principal');
  if (principal !== undefined) info.principal = principal;
  const labels = labelsOf(f['labels']);
  if (labels !== undefined) info.labels = labels;
  return info;
}

/**
 * Converts one v0 framework into a v1 framework (`framework_info`, `active`, `connected`,
 * `recovered`, times), as GET_STATE lists it and FRAMEWORK_ADDED/UPDATED carry it.
 */
export function toV1Framework(v0framework: unknown): V1Framework {
  const f = isRecord(v0framework) ? v0framework : {};
  const active = bool(f, 'active') ?? true;
  const framework: V1Framework = {
    framework_info: toV1FrameworkInfo(f),
    active,
    connected: bool(f, 'connected') ?? active,
    recovered: bool(f, 'recovered') ?? false,
  };
  const registered = timeOf(num(f, 'registered_time'));
  if (registered !== undefined) framework.registered_time = registered;
  const reregistered = timeOf(num(f, 'reregistered_time'));
  if (reregistered !== undefined) framework.reregistered_time = reregistered;
  const unregistered = timeOf(num(f, 'unregistered_time'));
  if (unregistered !== undefined) framework.unregistered_time = unregistered;
  return framework;
}

function executorOf(e: Record<string, unknown>, frameworkId: string | undefined): V1Executor {
  const id = str(e, 'executor_id') ?? str(e, 'id') ?? '';
  const fw = str(e, 'framework_id') ?? frameworkId;
  const executor: V1Executor = {
    executor_info: {
      executor_id: idOf(id),
      resources: resourcesOf(e['resources']),
      ...(fw === undefined ? {} : { framework_id: idOf(fw) }),
    },
    agent_id: idOf(str(e, 'slave_id') ?? ''),
  };
  const name = str(e, 'name');
  if (name !== undefined) executor.executor_info.name = name;
  const command = jsonObject(e['command']);
  if (command !== undefined) executor.executor_info.command = command;
  return executor;
}

function isTask(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && typeof value['id'] === 'string';
}

/**
 * Converts a v0 `/master/state` document into the v1 `get_state` object (GET_STATE, SUBSCRIBED).
 * A string document is parsed first; anything that is not an object gives an empty state;
 * entries that are not objects (and tasks without a string `id`) are skipped. Terminal tasks of
 * `frameworks[].tasks` are listed in `completed_tasks` (see the module comment).
 */
export function toV1State(v0doc: unknown): V1State {
  let doc = v0doc;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      doc = undefined;
    }
  }
  const state: V1State = {
    get_tasks: { tasks: [], unreachable_tasks: [], completed_tasks: [] },
    get_executors: { executors: [] },
    get_frameworks: { frameworks: [], completed_frameworks: [] },
    get_agents: { agents: [], recovered_agents: [] },
  };
  if (!isRecord(doc)) return state;
  const tasks = state.get_tasks;
  for (const f of records(doc, 'frameworks')) {
    const fw = str(f, 'id');
    state.get_frameworks.frameworks.push(toV1Framework(f));
    for (const t of list(f, 'tasks').filter(isTask)) {
      const task = toV1Task(t, fw);
      if (task.state === 'TASK_UNREACHABLE') tasks.unreachable_tasks.push(task);
      else if (isTerminalState(task.state)) tasks.completed_tasks.push(task);
      else tasks.tasks.push(task);
    }
    for (const t of list(f, 'unreachable_tasks').filter(isTask)) {
      tasks.unreachable_tasks.push(toV1Task(t, fw));
    }
    for (const t of list(f, 'completed_tasks').filter(isTask)) {
      tasks.completed_tasks.push(toV1Task(t, fw));
    }
    for (const e of records(f, 'executors')) state.get_executors.executors.push(executorOf(e, fw));
  }
  for (const f of records(doc, 'completed_frameworks')) {
    const fw = str(f, 'id');
    state.get_frameworks.completed_frameworks.push(toV1Framework(f));
    for (const key of ['tasks', 'unreachable_tasks', 'completed_tasks']) {
      for (const t of list(f, key).filter(isTask)) tasks.completed_tasks.push(toV1Task(t, fw));
    }
  }
  for (const s of records(doc, 'slaves')) state.get_agents.agents.push(toV1Agent(s));
  for (const s of records(doc, 'recovered_slaves')) {
    state.get_agents.recovered_agents.push(agentInfoOf(s));
  }
  return state;
}
