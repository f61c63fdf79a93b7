/**
 * The transfer worker thread's entry (transfer-offload.ts starts it; scripts/build.ts bundles it
 * as dist/transfer-worker.js): sets up the thread and routes the main thread's messages to a
 * `TransferProducer` (transfer-producer.ts), which does the work.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { isToTransferWorker } from './transfer-protocol.js';
import { TransferProducer } from './transfer-producer.js';

const port = parentPort;
if (port === null) {
  throw new Error(
    'transfer-worker.ts runs as the transfer worker thread (see transfer-offload.ts)',
  );
}

/**
 * Niceness of this thread (on Linux a priority belongs to a thread): when the CPU is short, the
 * main thread's DNS answers go first and a transfer takes a little longer.
 */
const WORKER_NICE = 10;
try {
  setPriority(0, WORKER_NICE);
} catch {
  // Not permitted or not supported: run at the normal priority.
}

const producer = new TransferProducer((message, transfer) => {
  port.postMessage(message, transfer);
});
port.on('message', (data: unknown) => {
  if (isToTransferWorker(data)) producer.handle(data);
});
