/**
 * The pipeline worker thread's entry (pipeline.ts starts it; scripts/build.ts bundles it as
 * dist/pipeline-worker.js): sets up the thread and routes the main thread's messages to a
 * `PipelineWorker` (worker.ts), which does the work.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { reserveBuildMemory } from '../records/index.js';
import type { FromWorker } from './messages.js';
import { isToWorker, isWorkerInit } from './messages.js';
import { PipelineWorker, exposeGc, postingLogger } from './worker.js';

const port = parentPort;
if (port === null || !isWorkerInit(workerData)) {
  throw new Error('pipeline-worker.ts runs as the pipeline worker thread (see pipeline.ts)');
}

/**
 * Niceness of this thread. On Linux a priority belongs to a thread, and `setPriority(0, n)`
 * applies to the calling one: when the CPU is short during a load, the main thread's DNS answers
 * go first and the load takes a little longer.
 */
const WORKER_NICE = 10;
try {
  setPriority(0, WORKER_NICE);
} catch {
  // Not permitted or not supported: run at the normal priority.
}

function post(message: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(message, transfer);
}
const logger = postingLogger(post);

const collect = exposeGc();
const worker = new PipelineWorker({ init: workerData, post, logger, collect });
// The first build's typed arrays, reserved while the heap is small (see reserveBuildMemory), in
// the shared memory the worker's builds use.
reserveBuildMemory();

port.on('message', (data: unknown) => {
  if (!isToWorker(data)) return;
  worker.handle(data).catch((err: unknown) => {
    logger.error('pipeline worker: request failed', {
      request: data.type,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  });
});
