/**
 * The stream section's view of the cluster's tasks (bench/stream.ts): each task with the A name
 * mesodns serves for it, computed here the way mesodns computes it, so that a probe can ask for
 * a task the generator launched or killed without asking mesodns which name it got.
 */
import { domainFragment, rfc1123Label, taskIdHash } from '../src/records/index.js';
import type { MasterState } from '../support/cluster.js';
import { taskPlaces, type TaskPlace } from '../support/fake-master.js';

/** A task of the fake master, as the generator knows it. */
export interface TaskRef {
  /** The task in the fake master's document, and its framework (for `updateTaskAt`). */
  readonly place: TaskPlace;
  /** The task's `name` and its framework's name (a launch copies both). */
  readonly name: string;
  readonly framework: string;
  /** Number of host ports. */
  readonly ports: number;
  /** The task's own A name, `<label>-<id hash>-<agent tail>.<framework>.mesos.`. */
  readonly fqdn: string;
  /** Its address, for tasks launched here; undefined for the cluster's own tasks. */
  readonly ip?: string;
  readonly launchedAt?: number;
  /** Whether a probe saw the task's record served (launched tasks). */
  isSeen?: boolean;
}

/** The canonical task name mesodns generates (T2, src/records/generator.ts; default labels). */
export function taskFqdn(name: string, id: string, agentId: string, framework: string): string {
  const tail = agentId.slice(agentId.lastIndexOf('-') + 1).toLowerCase();
  const fragment = domainFragment(framework, rfc1123Label);
  return `${rfc1123Label(name)}-${taskIdHash(id)}-${tail}.${fragment}.mesos.`;
}

/** Number of host ports in a v0 `resources.ports` text (`[31000-31001, 31005-31005]`). */
function portCount(text: string | undefined): number {
  let n = 0;
  for (const m of (text ?? '').matchAll(/(\d+)-(\d+)/g)) n += Number(m[2]) - Number(m[1]) + 1;
  return n;
}

/** The running tasks of the cluster, in state order. */
export function runningTasks(doc: MasterState): TaskRef[] {
  const places = taskPlaces(doc);
  const out: TaskRef[] = [];
  for (const fw of doc.frameworks) {
    for (const t of fw.tasks) {
      const place = places.get(t.id);
      if (t.state !== 'TASK_RUNNING' || place === undefined) continue;
      out.push({
        place,
        name: t.name,
        framework: fw.name,
        ports: portCount(t.resources.ports),
        fqdn: taskFqdn(t.discovery?.name ?? t.name, t.id, t.slave_id, fw.name),
      });
    }
  }
  return out;
}
