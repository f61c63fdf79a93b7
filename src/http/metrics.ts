/**
 * The HTTP API's Prometheus metrics, which src/metrics.ts registers: the clients the API turned
 * away (`onRefused` in `HttpApiOptions`). `/metrics` itself is served by the API but rendered by
 * src/metrics.ts.
 */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { HttpRefusal } from './api.js';

/** Every refusal reason, exported at 0 before the first one so that rate() works from the start. */
const REFUSALS: readonly HttpRefusal[] = ['connections', 'busy', 'timeout'];

/** HTTP refusals, registered in the given registry. */
export class HttpMetrics {
  readonly #refused: Counter<'reason'>;

  constructor(registry: Registry) {
    this.#refused = new Counter({
      name: 'mesodns_http_refused_total',
      help: 'HTTP clients turned away: connections (http.maxConnections were open), busy (as many large responses as allowed were being sent; 503), timeout (idle for 30 s, or a large response not read within 5 min).',
      labelNames: ['reason'],
      registers: [registry],
    });
    for (const reason of REFUSALS) this.#refused.inc({ reason }, 0);
  }

  /** An HTTP client turned away (see `HttpRefusal`). */
  onRefused(reason: HttpRefusal): void {
    this.#refused.inc({ reason });
  }
}
