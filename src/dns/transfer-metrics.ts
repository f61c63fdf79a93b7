/**
 * Metrics of zone transfers (dns/transfer.ts) and NOTIFY (dns/notify.ts): transfer requests by
 * type and result, bytes sent, the transfers running now; NOTIFY exchanges by result and the
 * secondaries not answering now. src/metrics.ts registers them with the others.
 */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { readCounter, readGauge } from '../prom.js';
import type { NotifyEvent, NotifyResult } from './notify.js';
import type { TransferEvent, TransferResult } from './transfer.js';

/** What the transfer metrics read when scraped (part of src/metrics.ts `MetricsSources`). */
export interface TransferMetricsSources {
  /** Zone transfers being sent now. */
  readonly transfersRunning?: () => number;
  /** Secondaries whose last NOTIFY is unanswered now. */
  readonly notifyPending?: () => number;
  /** Whether the transfer worker thread runs (1) or transfers are made on the main thread (0). */
  readonly transferWorkerUp?: () => number;
  /** Transfer workers started again after one died. */
  readonly transferWorkerRestarts?: () => number;
}

const NOTIFY_RESULTS: readonly NotifyResult[] = ['acked', 'timeout', 'refused'];

const RESULTS: readonly TransferResult[] = [
  'ok',
  'refused',
  'busy',
  'notauth',
  'formerr',
  'unavailable',
  'aborted',
];

/** Transfer requests and bytes, registered in the given registry. */
export class TransferMetrics {
  readonly #requests: Counter<'type' | 'result'>;
  readonly #bytes: Counter<'type'>;
  readonly #notify: Counter<'result'>;

  constructor(registry: Registry, sources: TransferMetricsSources) {
    const registers = [registry];
    this.#requests = new Counter({
      name: 'mesodns_transfer_requests_total',
      help: 'Zone transfer requests (AXFR, IXFR) by result: ok, refused (client outside transfer.allow, or unsigned while TSIG keys are set), busy (transfer.maxConcurrent running), notauth (TSIG did not verify, or not the zone), formerr, unavailable (no zone yet), aborted (the client went away).',
      labelNames: ['type', 'result'],
      registers,
    });
    for (const type of ['AXFR', 'IXFR']) {
      for (const result of RESULTS) this.#requests.inc({ type, result }, 0);
    }
    this.#bytes = new Counter({
      name: 'mesodns_transfer_bytes_total',
      help: 'Bytes of zone transfer messages sent, by type.',
      labelNames: ['type'],
      registers,
    });
    for (const type of ['AXFR', 'IXFR']) this.#bytes.inc({ type }, 0);
    readGauge(
      registry,
      'mesodns_transfers_running',
      'Zone transfers being sent now.',
      () => sources.transfersRunning?.() ?? 0,
    );
    this.#notify = new Counter({
      name: 'mesodns_notify_total',
      help: 'NOTIFY messages sent to transfer.notify secondaries, by result: acked, timeout (sent again later), refused (the secondary answered with an error; sent again later).',
      labelNames: ['result'],
      registers,
    });
    for (const result of NOTIFY_RESULTS) this.#notify.inc({ result }, 0);
    readGauge(
      registry,
      'mesodns_notify_pending',
      'Secondaries whose last NOTIFY is not acknowledged yet.',
      () => sources.notifyPending?.() ?? 0,
    );
    readGauge(
      registry,
      'mesodns_transfer_worker_up',
      'Whether the transfer worker thread makes the transfer messages (1), or the thread that answers DNS does (0: not started, or died and not restarted yet).',
      () => sources.transferWorkerUp?.() ?? 0,
    );
    readCounter(
      registry,
      'mesodns_transfer_worker_restarts_total',
      'Transfer worker threads started again after one died (1 s, doubling to a minute, between tries).',
      () => sources.transferWorkerRestarts?.() ?? 0,
    );
  }

  /** Counts one NOTIFY exchange (the `Notifier` hook). */
  onNotify(event: NotifyEvent): void {
    this.#notify.inc({ result: event.result });
  }

  /** Counts one transfer request (the `ZoneTransfers` hook). */
  onTransfer(event: TransferEvent): void {
    this.#requests.inc({ type: event.type, result: event.result });
    if (event.bytes > 0) this.#bytes.inc({ type: event.type }, event.bytes);
  }
}
