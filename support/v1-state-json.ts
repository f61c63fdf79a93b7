/**
 * The JSON of a v1 `get_state` (v1-state.ts `toV1State`) made faster for a fake master that
 * renders the same large cluster again and again (a SUBSCRIBED snapshot on every subscription:
 * 178 MB and 4-5 s at 100k tasks, most of it converting and serializing tasks that did not
 * change). The text is made in pieces, as bytes, each task's from a `V1TaskTexts` cache when
 * one is given; the pieces' concatenation is `JSON.stringify(toV1State(doc))`, byte for byte.
 */
import { isRecord } from '../src/is-record.js';
import { isTerminalState } from '../src/mesos/stream-model.js';
import { toV1State, toV1Task } from './v1-state.js';

/**
 * Each task's v1 JSON, kept while the task (the same object) keeps its framework, state, number
 * of statuses and agent: what the fake master's own changes (`updateTask`, `killTask`...)
 * change. A task changed in place in another way is rendered stale: a caller that does that
 * must not use a cache.
 */
export class V1TaskTexts {
  readonly #texts = new WeakMap<object, { readonly key: string; readonly text: Buffer }>();

  /** `JSON.stringify(toV1Task(task, frameworkId))` as UTF-8 bytes. */
  text(task: Record<string, unknown>, frameworkId: string | undefined): Buffer {
    const statuses = task['statuses'];
    const key = [
      frameworkId ?? '',
      String(task['state']),
      Array.isArray(statuses) ? statuses.length : -1,
      String(task['slave_id']),
      String(task['agent_id']),
    ].join('\u0000');
    const known = this.#texts.get(task);
    if (known?.key === key) return known.text;
    const text = Buffer.from(JSON.stringify(toV1Task(task, frameworkId)));
    this.#texts.set(task, { key, text });
    return text;
  }
}

const EMPTY_LISTS = { tasks: [], unreachable_tasks: [], completed_tasks: [] };

function recordsAt(doc: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const list = doc[key];
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

function tasksAt(framework: Record<string, unknown>, key: string): Record<string, unknown>[] {
  return recordsAt(framework, key).filter((t) => typeof t['id'] === 'string');
}

/** Appends `texts` to `out` as the elements of a JSON list (`,` between them). */
function pushList(out: Buffer[], texts: readonly Buffer[]): void {
  texts.forEach((text, i) => {
    if (i > 0) out.push(COMMA);
    out.push(text);
  });
}

const COMMA = Buffer.from(',');

/**
 * `JSON.stringify(toV1State(doc))` in pieces (see the module comment): the tasks through
 * `texts` (without one, each is converted again), in `toV1State`'s order, and the rest by
 * `toV1State` of the document without its tasks.
 */
export function v1StateJson(doc: unknown, texts: V1TaskTexts = new V1TaskTexts()): Buffer[] {
  if (!isRecord(doc)) return [Buffer.from(JSON.stringify(toV1State(doc)))];
  const running: Buffer[] = [];
  const unreachable: Buffer[] = [];
  const completed: Buffer[] = [];
  const withoutTasks = (f: Record<string, unknown>): Record<string, unknown> => ({
    ...f,
    ...EMPTY_LISTS,
  });
  for (const f of recordsAt(doc, 'frameworks')) {
    const fw = typeof f['id'] === 'string' ? f['id'] : undefined;
    for (const t of tasksAt(f, 'tasks')) {
      const state = typeof t['state'] === 'string' ? t['state'] : 'TASK_STAGING';
      const list =
        state === 'TASK_UNREACHABLE' ? unreachable : isTerminalState(state) ? completed : running;
      list.push(texts.text(t, fw));
    }
    for (const t of tasksAt(f, 'unreachable_tasks')) unreachable.push(texts.text(t, fw));
    for (const t of tasksAt(f, 'completed_tasks')) completed.push(texts.text(t, fw));
  }
  for (const f of recordsAt(doc, 'completed_frameworks')) {
    const fw = typeof f['id'] === 'string' ? f['id'] : undefined;
    for (const key of ['tasks', 'unreachable_tasks', 'completed_tasks']) {
      for (const t of tasksAt(f, key)) completed.push(texts.text(t, fw));
    }
  }
  const rest = toV1State({
    ...doc,
    frameworks: recordsAt(doc, 'frameworks').map(withoutTasks),
    completed_frameworks: recordsAt(doc, 'completed_frameworks').map(withoutTasks),
  });
  const out: Buffer[] = [Buffer.from('{"get_tasks":{"tasks":[')];
  pushList(out, running);
  out.push(Buffer.from('],"unreachable_tasks":['));
  pushList(out, unreachable);
  out.push(Buffer.from('],"completed_tasks":['));
  pushList(out, completed);
  const { get_executors, get_frameworks, get_agents } = rest;
  out.push(
    Buffer.from(
      `]},"get_executors":${JSON.stringify(get_executors)},` +
        `"get_frameworks":${JSON.stringify(get_frameworks)},` +
        `"get_agents":${JSON.stringify(get_agents)}}`,
    ),
  );
  return out;
}
