/**
 * Validation of the Mesos v1 operator API (docs/mesos-api.md 3, `master.proto`) into the
 * narrow types of `types.ts`: the `get_state` object of `GET_STATE` and `SUBSCRIBED`, the events
 * of the `SUBSCRIBE` stream, and the `GET_MASTER` answer. Input is untrusted JSON (`unknown`).
 *
 * Like `parse.ts`, and with its readers: in a state, a malformed agent, framework or task is
 * skipped and counted, never fatal. An event is one unit: a malformed one throws a
 * `StateParseError` with a precise message, for the caller to count and skip (one bad event never
 * ends the stream). v1 differs from v0 only in encoding: ids are `{"value": ...}`, `slave_id` is
 * `agent_id`, ports are `Resource`s with `ranges.range[{begin, end}]`, tasks are listed apart from
 * their frameworks, and schedulers have no pid.
 */
import { StateParseError } from '../errors.js';
import { hostPort } from './leader.js';
import type { JsonObject } from './narrow.js';
import {
  FieldError,
  Report,
  describe,
  element,
  isObject,
  isPort,
  nested,
  optArray,
  optNumber,
  optObject,
  optString,
  reqObject,
  reqString,
} from './narrow.js';
import type { TaskEncoding } from './parse.js';
import { parsePid, parseStatus, parseTaskWith } from './parse.js';
import type { Agent, Framework, ParseReport, Pid, PortRange, Task, TaskStatus } from './types.js';
import { masterInfoAddress } from './master-info.js';

/** Heartbeat interval assumed when `SUBSCRIBED` does not say (Mesos `DEFAULT_HEARTBEAT_INTERVAL`). */
export const DEFAULT_HEARTBEAT_SECONDS = 15;

/** Port of an agent whose `AgentInfo` has none (`mesos.proto` default). */
const DEFAULT_AGENT_PORT = 5051;

/** A framework without its tasks (v1 lists tasks apart). `pid` is always undefined in v1. */
export type FrameworkInfo = Omit<Framework, 'tasks'>;

/** The cluster as a v1 `get_state` describes it. */
export interface V1Snapshot {
  /** `get_agents.agents`: registered agents. */
  readonly agents: readonly Agent[];
  /** `get_frameworks.frameworks` (not `completed_frameworks`). */
  readonly frameworks: readonly FrameworkInfo[];
  /** `get_tasks.tasks`: launched tasks, including terminal ones not yet acknowledged. */
  readonly tasks: readonly Task[];
  /**
   * `get_agents.recovered_agents`: agents a new leader knows from its registry that have not
   * re-registered yet. Non-empty right after a master failover, while the snapshot is partial.
   */
  readonly recoveredAgentIds: readonly string[];
  /**
   * The digest of each task's slice, index for index with `tasks` (task-digests.ts): only from
   * the sliced reader asked for them (v1-state-reader.ts `knownTasks`, the stream).
   */
  readonly taskDigests?: readonly string[];
}

/** Result of `parseV1State`. */
export interface ParsedV1State {
  readonly state: V1Snapshot;
  readonly report: ParseReport;
}

/** The leading master as `GET_MASTER` names it. */
export interface V1Master {
  /** `master_info.id`: a new id on the same address is a restarted master. `''` when absent. */
  readonly id: string;
  /** `master@<ip or hostname>:<port>`. */
  readonly pid: Pid;
}

/**
 * One event of the `SUBSCRIBE` stream. `TASK_UPDATED.state` is the agent's latest state (use it;
 * it can be newer than `status`, the last status the scheduler acknowledged, which carries the
 * addresses). Event types DNS does not use are `UNKNOWN` with their `name`.
 */
export type MesosEvent =
  | {
      readonly type: 'SUBSCRIBED';
      readonly snapshot: V1Snapshot;
      readonly report: ParseReport;
      /** `heartbeat_interval_seconds`, `DEFAULT_HEARTBEAT_SECONDS` when absent; always > 0. */
      readonly heartbeatSeconds: number;
    }
  | { readonly type: 'TASK_ADDED'; readonly task: Task }
  | {
      readonly type: 'TASK_UPDATED';
      readonly frameworkId: string;
      readonly taskId: string;
      /** `status.agent_id`, `''` when absent. */
      readonly agentId: string;
      readonly state: string;
      /** Undefined when the status is malformed (`statusProblem` says why); `state` still applies. */
      readonly status: TaskStatus | undefined;
      readonly statusProblem: string | undefined;
    }
  | { readonly type: 'AGENT_ADDED'; readonly agent: Agent }
  | { readonly type: 'AGENT_REMOVED'; readonly agentId: string }
  | { readonly type: 'FRAMEWORK_ADDED' | 'FRAMEWORK_UPDATED'; readonly framework: FrameworkInfo }
  | { readonly type: 'FRAMEWORK_REMOVED'; readonly frameworkId: string }
  | { readonly type: 'HEARTBEAT' }
  | { readonly type: 'UNKNOWN'; readonly name: string };

/** Reads a required `{"value": "..."}` id. */
function reqId(o: JsonObject, key: string): string {
  const id = reqObject(o, key);
  return nested(key, () => reqString(id, 'value'));
}

/** Reads an optional `{"value": "..."}` id. */
function optId(o: JsonObject, key: string): string | undefined {
  const id = optObject(o, key);
  return id === undefined ? undefined : nested(key, () => reqString(id, 'value'));
}

function showNumber(v: unknown): string {
  return typeof v === 'number' ? String(v) : describe(v);
}

/**
 * The port ranges of every `Resource` named `ports`, in order (not merged: v0 shows them as one
 * summarised string, v1 as they are allocated, e.g. one resource per reservation).
 */
function v1Ports(o: JsonObject): PortRange[] {
  const ports: PortRange[] = [];
  (optArray(o, 'resources') ?? []).forEach((v, i) => {
    const where = `resources[${i}]`;
    const resource = element(v, where);
    const ranges = nested(where, () =>
      optString(resource, 'name') === 'ports' ? optObject(resource, 'ranges') : undefined,
    );
    if (ranges === undefined) return;
    for (const item of nested(`${where}.ranges`, () => optArray(ranges, 'range') ?? [])) {
      const range = element(item, `${where}.ranges.range[]`);
      const { begin, end } = range;
      if (!isPort(begin) || !isPort(end) || begin > end) {
        throw new FieldError(
          `${where}.ranges: bad port range ${showNumber(begin)}-${showNumber(end)}`,
        );
      }
      ports.push({ begin, end });
    }
  });
  return ports;
}

/** How a v1 `Task` writes ids and ports; everything else reads as in v0. */
const V1_TASK: TaskEncoding = {
  ports: v1Ports,
  id: (o) => reqId(o, 'task_id'),
  frameworkId: (o) => reqId(o, 'framework_id'),
  agentId: (o) => reqId(o, 'agent_id'),
};

/**
 * The entry readers below parse one element of a `get_state` list each; `parseV1State` and the
 * sliced reader of SUBSCRIBED (v1-state-reader.ts) both go through them, so that they agree.
 */

/**
 * A `GetAgents.Agent`. Its `pid` (`slave(1)@ip:port`) is preferred, as in v0 (the IP is only
 * there); without one the pid is made of `agent_info.hostname` and `port`.
 */
export function parseV1Agent(v: unknown): Agent {
  const o = element(v, 'agent');
  const info = reqObject(o, 'agent_info');
  const id = nested('agent_info', () => reqId(info, 'id'));
  const hostname = nested('agent_info', () => optString(info, 'hostname')) ?? '';
  const pidText = optString(o, 'pid') ?? '';
  if (pidText.trim() !== '') {
    const pid = parsePid(pidText);
    if (pid === undefined) throw new FieldError(`pid: not id@host:port: ${describe(pidText)}`);
    return { id, hostname, pid };
  }
  const port = nested('agent_info', () => optNumber(info, 'port')) ?? DEFAULT_AGENT_PORT;
  if (!isPort(port)) throw new FieldError(`agent_info.port: bad port ${String(port)}`);
  const pid = parsePid(`slave(1)@${hostPort(hostname.trim(), port)}`);
  if (pid === undefined) {
    throw new FieldError(`no pid, and agent_info.hostname is not a host: ${describe(hostname)}`);
  }
  return { id, hostname, pid };
}

/** A `FrameworkInfo` message. */
function frameworkInfo(info: JsonObject): FrameworkInfo {
  return {
    id: reqId(info, 'id'),
    name: optString(info, 'name') ?? '',
    pid: undefined,
    hostname: optString(info, 'hostname') ?? '',
  };
}

/** A `GetFrameworks.Framework`: its `framework_info`. */
export function parseV1Framework(v: unknown): FrameworkInfo {
  const info = reqObject(element(v, 'framework'), 'framework_info');
  return nested('framework_info', () => frameworkInfo(info));
}

/** A `GetAgents.recovered_agents` element (an `AgentInfo`): its id. */
export function parseV1RecoveredAgent(v: unknown): string {
  return reqId(element(v, 'agent_info'), 'id');
}

/** A `GetTasks.tasks` element. */
export function parseV1Task(v: unknown): Task {
  return parseTaskWith(v, V1_TASK);
}

/**
 * Validates the `get_state` object of a v1 `GET_STATE` answer or `SUBSCRIBED` event into a
 * snapshot plus a report of what was skipped. Throws StateParseError (`ERR_STATE_PARSE`) only
 * when `getState` is not a JSON object; a malformed agent, framework or task is dropped, counted
 * and described (paths such as `get_tasks.tasks[3]: agent_id: missing`). Only `get_tasks.tasks`
 * is read: unreachable, completed and pending tasks do not run.
 */
export function parseV1State(getState: unknown): ParsedV1State {
  if (!isObject(getState)) {
    throw new StateParseError(`get_state is not a JSON object (got ${describe(getState)})`);
  }
  const report = new Report();
  const agentsDoc = report.section(getState, 'get_agents', 'get_state');
  const frameworksDoc = report.section(getState, 'get_frameworks', 'get_state');
  const tasksDoc = report.section(getState, 'get_tasks', 'get_state');
  const agents = report.listEntries(agentsDoc, 'get_agents', 'agents', 'agents', parseV1Agent);
  const recoveredAgentIds = report.listEntries(
    agentsDoc,
    'get_agents',
    'recovered_agents',
    'agents',
    parseV1RecoveredAgent,
  );
  const frameworks = report.listEntries(
    frameworksDoc,
    'get_frameworks',
    'frameworks',
    'frameworks',
    parseV1Framework,
  );
  const tasks = report.listEntries(tasksDoc, 'get_tasks', 'tasks', 'tasks', parseV1Task);
  return { state: { agents, frameworks, tasks, recoveredAgentIds }, report: report.result() };
}

/** `record[key][inner]`, required: the message an event carries. */
function payload(record: JsonObject, key: string, inner: string): JsonObject {
  const body = reqObject(record, key);
  return nested(key, () => reqObject(body, inner));
}

/** Reads the snapshot of a SUBSCRIBED event from its `get_state` object. */
export type V1StateRead = (getState: JsonObject) => ParsedV1State;

function subscribed(record: JsonObject, readState: V1StateRead): MesosEvent {
  const body = reqObject(record, 'subscribed');
  const getState = nested('subscribed', () => reqObject(body, 'get_state'));
  const heartbeat = nested('subscribed', () => optNumber(body, 'heartbeat_interval_seconds'));
  if (heartbeat !== undefined && heartbeat <= 0) {
    throw new FieldError(
      `subscribed.heartbeat_interval_seconds: not positive: ${String(heartbeat)}`,
    );
  }
  const { state, report } = readState(getState);
  return {
    type: 'SUBSCRIBED',
    snapshot: state,
    report,
    heartbeatSeconds: heartbeat ?? DEFAULT_HEARTBEAT_SECONDS,
  };
}

/**
 * `TASK_UPDATED {framework_id, status, state}`. The task is named only by `status.task_id`, so an
 * event without a status (or without its task id) names no task and is rejected. A status that
 * names its task but is otherwise malformed is dropped (`status` undefined, `statusProblem`
 * set) while the event's `state` still applies: a killed task must leave DNS even so.
 */
function taskUpdated(record: JsonObject): MesosEvent {
  const body = reqObject(record, 'task_updated');
  return nested('task_updated', () => {
    const raw = reqObject(body, 'status');
    const frameworkId = reqId(body, 'framework_id');
    const taskId = nested('status', () => reqId(raw, 'task_id'));
    const agentId = nested('status', () => optId(raw, 'agent_id')) ?? '';
    let status: TaskStatus | undefined;
    let statusProblem: string | undefined;
    try {
      status = parseStatus(raw);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      statusProblem = `task_updated.status: ${err.message}`;
    }
    // `state` is required by master.proto; the status' own state stands in for a sloppy sender.
    const state = optString(body, 'state') ?? nested('status', () => optString(raw, 'state'));
    if (state === undefined || state === '') throw new FieldError('state: missing');
    return { type: 'TASK_UPDATED', frameworkId, taskId, agentId, state, status, statusProblem };
  });
}

function readEvent(type: string, record: JsonObject, readState: V1StateRead): MesosEvent {
  switch (type) {
    case 'SUBSCRIBED':
      return subscribed(record, readState);
    case 'TASK_ADDED': {
      const task = payload(record, 'task_added', 'task');
      return {
        type: 'TASK_ADDED',
        task: nested('task_added.task', () => parseV1Task(task)),
      };
    }
    case 'TASK_UPDATED':
      return taskUpdated(record);
    case 'AGENT_ADDED': {
      const agent = payload(record, 'agent_added', 'agent');
      return { type: 'AGENT_ADDED', agent: nested('agent_added.agent', () => parseV1Agent(agent)) };
    }
    case 'AGENT_REMOVED': {
      const body = reqObject(record, 'agent_removed');
      return {
        type: 'AGENT_REMOVED',
        agentId: nested('agent_removed', () => reqId(body, 'agent_id')),
      };
    }
    case 'FRAMEWORK_ADDED':
    case 'FRAMEWORK_UPDATED': {
      const key = type === 'FRAMEWORK_ADDED' ? 'framework_added' : 'framework_updated';
      const framework = payload(record, key, 'framework');
      return { type, framework: nested(`${key}.framework`, () => parseV1Framework(framework)) };
    }
    case 'FRAMEWORK_REMOVED': {
      const info = payload(record, 'framework_removed', 'framework_info');
      return {
        type: 'FRAMEWORK_REMOVED',
        frameworkId: nested('framework_removed.framework_info', () => reqId(info, 'id')),
      };
    }
    case 'HEARTBEAT':
      return { type: 'HEARTBEAT' };
    default:
      return { type: 'UNKNOWN', name: type };
  }
}

/**
 * Validates one event of the `SUBSCRIBE` stream (a RecordIO record, already `JSON.parse`d).
 * Throws StateParseError (`ERR_STATE_PARSE`) when the record is not an object, has no `type`, or
 * its payload is malformed (e.g. `TASK_ADDED event: task_added.task.agent_id: missing`): the
 * caller counts and skips it. A `SUBSCRIBED` snapshot skips bad entries like `parseV1State`.
 */
export function parseV1Event(record: unknown): MesosEvent {
  return readV1Event(record, parseV1State);
}

/**
 * `parseV1Event`, the snapshot of a SUBSCRIBED event read by `readState` from its `get_state`
 * (which is then known to be an object): the sliced reader (v1-state-reader.ts) hands a stand-in
 * record whose `get_state` it has read already, so that the event's own checks, their order and
 * their messages are this function's.
 */
export function readV1Event(record: unknown, readState: V1StateRead): MesosEvent {
  if (!isObject(record)) {
    throw new StateParseError(`event is not a JSON object (got ${describe(record)})`);
  }
  const type = record['type'];
  if (typeof type !== 'string' || type === '') {
    throw new StateParseError(`event without a type (type: ${describe(type)})`);
  }
  try {
    return readEvent(type, record, readState);
  } catch (err) {
    if (err instanceof FieldError) throw new StateParseError(`${type} event: ${err.message}`);
    throw err;
  }
}

/**
 * Reads the leading master from a `GET_MASTER` answer (`get_master.master_info`): its address
 * from `address.ip`/`address.port`, else the packed `ip`, else `pid`, else the hostname (as the
 * ZooKeeper detector reads `MasterInfo`). Undefined when the answer names no usable address.
 */
export function parseV1Master(response: unknown): V1Master | undefined {
  if (!isObject(response)) return undefined;
  const getMaster = response['get_master'];
  if (!isObject(getMaster)) return undefined;
  const info = getMaster['master_info'];
  const address = masterInfoAddress(info);
  const host = address?.ip ?? address?.hostname;
  if (address === undefined || host === undefined) return undefined;
  const id = isObject(info) && typeof info['id'] === 'string' ? info['id'] : '';
  return { id, pid: { id: 'master', host, port: address.port } };
}
