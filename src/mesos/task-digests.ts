/**
 * Tasks known by the digest of their bytes (issue #20): a re-subscription's snapshot (178 MB at
 * 100k tasks) mostly repeats, byte for byte, what the master sent for each task in the previous
 * one. The sliced reader (v1-state-reader.ts) digests each task's slice (`sliceDigest`, SHA-256
 * of the bytes) before parsing it; the stream model (stream-model.ts) keeps `TaskDigests`: for
 * each task it holds as a snapshot slice made it, and that no event changed since, the digest of
 * that slice. A slice of the next snapshot whose digest is known is the model's task, which is
 * exactly what parsing, validating and compacting the same bytes would give (the report too: the
 * bytes were a valid task then, they are one now); it is taken as is, not parsed.
 *
 * SHA-256: a collision must not be able to name a task's records after another task, also for a
 * scheduler that chooses its tasks' labels; with the CPU's SHA instructions it costs about what
 * SHA-1 costs (about 0.15 s for the 178 MB), against 1.5-2 s for parsing the slices.
 *
 * Kept correct simply: every change of a held task (replaced, updated, dropped, its framework
 * removed) forgets its digest (`forget`), a snapshot rebuilds the whole index, and the model
 * gives a task for a digest only while it still holds that very object (stream-model.ts
 * `knownTask`). Memory: two map entries and a 32-character string per task, about 12 MB at 100k
 * tasks; the tasks themselves are the model's.
 */
import { hash } from 'node:crypto';
import type { Task } from './types.js';

/** The digest of a task's slice: SHA-256 of its bytes, as a 32-character binary string. */
export function sliceDigest(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'binary');
}

/** What a sliced reader needs to take known tasks unparsed (the stream model). */
export interface KnownTasks {
  /** The task a slice with this digest makes, when it is known; else undefined. */
  knownTask(digest: string): Task | undefined;
}

/** Digest -> the task object a slice with that digest made, and back (see the module comment). */
export class TaskDigests {
  readonly #tasks = new Map<string, Task>();
  readonly #digests = new Map<Task, string>();

  /** Entries held. */
  get size(): number {
    return this.#tasks.size;
  }

  /** The task object of `digest`, if any (the caller checks it is still held). */
  get(digest: string): Task | undefined {
    return this.#tasks.get(digest);
  }

  /**
   * Notes that `task` was made from a slice with digest `digest`. A digest already known (a
   * snapshot that repeats a task's bytes) keeps its first task.
   */
  add(digest: string, task: Task): void {
    if (this.#tasks.has(digest) || this.#digests.has(task)) return;
    this.#tasks.set(digest, task);
    this.#digests.set(task, digest);
  }

  /** `task` changed or left the model: its digest no longer names it. */
  forget(task: Task): void {
    const digest = this.#digests.get(task);
    if (digest === undefined) return;
    this.#digests.delete(task);
    this.#tasks.delete(digest);
  }

  /** Forgets everything (a new snapshot). */
  clear(): void {
    this.#tasks.clear();
    this.#digests.clear();
  }
}
