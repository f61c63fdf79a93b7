/**
 * What the benchmark reads from mesodns itself: its `/metrics` (Prometheus text, parsed by the
 * tests' strict parser, support/prometheus-text.ts), never its log lines, whose wording is no
 * interface. The first load's figures (`loadFigures`) serve the throughput sections (reload.ts)
 * and the stream section; histograms between two scrapes (`histogramDelta`) serve the reload
 * run and the stream section (stream-metrics.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { parsePrometheusText, sampleSum, type PromFamily } from '../support/prometheus-text.js';
import { HOST } from './common.js';

const MB = 2 ** 20;

/** One scrape of `/metrics`: the metric families by name. */
export type Scrape = ReadonlyMap<string, PromFamily>;

/** Scrapes mesodns' `/metrics` once. */
export async function scrape(httpPort: number): Promise<Scrape> {
  const res = await fetch(`http://${HOST}:${String(httpPort)}/metrics`);
  if (!res.ok) throw new Error(`/metrics: HTTP ${String(res.status)}`);
  return parsePrometheusText(await res.text());
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function value(
  s: Scrape,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return sampleSum(s, name, labels);
}

/** One histogram of a scrape. */
export interface Histogram {
  /** Cumulative count per upper bound (s), `Infinity` for +Inf. */
  readonly buckets: ReadonlyMap<number, number>;
  readonly sum: number;
  readonly count: number;
}

/** The histogram `name` (without labels) of a scrape; empty when it has no samples. */
export function histogram(s: Scrape, name: string): Histogram {
  const buckets = new Map<number, number>();
  for (const sample of s.get(name)?.samples ?? []) {
    const le = sample.labels['le'];
    if (sample.name !== `${name}_bucket` || le === undefined) continue;
    buckets.set(le === '+Inf' ? Infinity : Number(le), sample.value);
  }
  return { buckets, sum: value(s, `${name}_sum`), count: value(s, `${name}_count`) };
}

/** The observations of a histogram between two scrapes, with bucket-based estimates. */
export interface HistogramDelta {
  readonly count: number;
  /** Exact: the sum of the observations over their count. */
  readonly meanMs: number;
  /** Estimates as Prometheus' `histogram_quantile` makes them (linear within a bucket). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /**
   * The upper bound of the highest bucket that got an observation: the largest observation was
   * at most this (`Infinity` when it was above every bound).
   */
  readonly maxBoundMs: number;
  /** Share of observations at or below 1 s (NaN when 1 s is no bound). */
  readonly within1sPct: number;
  /** Cumulative counts per upper bound (s), `+Inf` last. */
  readonly buckets: Record<string, number>;
}

/** The histogram observations between `before` and `after` (scrapes of the same histogram). */
export function histogramDelta(before: Histogram, after: Histogram): HistogramDelta {
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((b) => (after.buckets.get(b) ?? 0) - (before.buckets.get(b) ?? 0));
  const count = after.count - before.count;
  const quantile = (q: number): number => {
    if (!(count > 0)) return Number.NaN;
    const rank = q * count;
    for (let i = 0; i < bounds.length; i++) {
      const upper = bounds[i] ?? Infinity;
      const c = cumulative[i] ?? 0;
      if (c < rank) continue;
      // In the +Inf bucket: the highest finite bound is the best one can say.
      if (upper === Infinity) return (bounds[i - 1] ?? Number.NaN) * 1000;
      const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
      const below = i === 0 ? 0 : (cumulative[i - 1] ?? 0);
      const inBucket = c - below;
      return (lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1000;
    }
    return Number.NaN;
  };
  const highest = cumulative.findIndex((c) => c === count);
  const oneSecond = bounds.indexOf(1);
  return {
    count,
    meanMs: count > 0 ? ((after.sum - before.sum) / count) * 1000 : Number.NaN,
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    maxBoundMs: count > 0 && highest >= 0 ? (bounds[highest] ?? Number.NaN) * 1000 : Number.NaN,
    within1sPct:
      count > 0 && oneSecond >= 0 ? ((cumulative[oneSecond] ?? 0) / count) * 100 : Number.NaN,
    buckets: Object.fromEntries(
      bounds.map((b, i) => [b === Infinity ? '+Inf' : String(b), cumulative[i] ?? 0]),
    ),
  };
}

/** How mesodns' first state load went. */
export interface LoadFigures {
  /** Read (or received), JSON parse and validation of the state in the pipeline worker. */
  readonly parseMs: number;
  /** From the parsed state to the compiled zone (host lookups, records, zone). */
  readonly buildMs: number;
  /** Main thread heap once the load settled (`nodejs_heap_size_used_bytes`). */
  readonly mainHeapUsedMB: number;
  /** Pipeline worker heap after the load's garbage was collected. */
  readonly workerHeapUsedMB: number;
  readonly workerHeapTotalMB: number;
}

/**
 * Waits (at most `timeoutMs`) until the first load has settled, which the worker's heap gauge
 * says (it is set once the load's garbage is collected), and reads the load's figures: with one
 * load, a histogram's sum is its only observation.
 */
export async function loadFigures(httpPort: number, timeoutMs = 15_000): Promise<LoadFigures> {
  const deadline = Date.now() + timeoutMs;
  let s = await scrape(httpPort);
  while (value(s, 'mesodns_pipeline_worker_heap_size_used_bytes') === 0) {
    if (Date.now() >= deadline) throw new Error('mesodns: the first load did not settle');
    await delay(100);
    s = await scrape(httpPort);
  }
  const mean = (name: string): number => {
    const h = histogram(s, name);
    return h.count > 0 ? (h.sum / h.count) * 1000 : Number.NaN;
  };
  return {
    parseMs: mean('mesodns_state_fetch_duration_seconds'),
    buildMs: mean('mesodns_zone_build_duration_seconds'),
    mainHeapUsedMB: value(s, 'nodejs_heap_size_used_bytes') / MB,
    workerHeapUsedMB: value(s, 'mesodns_pipeline_worker_heap_size_used_bytes') / MB,
    workerHeapTotalMB: value(s, 'mesodns_pipeline_worker_heap_size_total_bytes') / MB,
  };
}
