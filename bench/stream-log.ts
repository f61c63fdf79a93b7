/**
 * What the stream section (bench/stream.ts) reads from mesodns itself: its debug log (the
 * incremental updates and full builds, warnings, the first load's times) and its `/metrics`
 * (the propagation histogram, the events counted, the subscriptions).
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { HOST, type Server } from './common.js';

/** Figures of one `zone updated` line. */
export interface UpdateLine {
  readonly buildMs: number;
  readonly names: number;
  readonly changes: number;
  readonly changedNames: number;
}

/** Collects the log lines the section needs from mesodns' output, whole lines only. */
export class LogCollector {
  readonly updates: UpdateLine[] = [];
  /** `buildMs` of every `zone published` (full build). */
  readonly published: number[] = [];
  /** Reasons given for full rebuilds in stream mode, and warnings/errors. */
  readonly notes: string[] = [];

  /** Listens to the server's stdout and stderr, and copies them to `logFile`. */
  attach(server: Server, logFile: string): void {
    const file = createWriteStream(logFile);
    server.child.once('exit', () => file.end());
    const listen = (stream: Readable | null): void => {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        file.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.#line(line);
      });
    };
    listen(server.child.stdout);
    listen(server.child.stderr);
  }

  #line(line: string): void {
    const field = (name: string): number => {
      const m = new RegExp(`\\b${name}=(-?\\d+(?:\\.\\d+)?)`).exec(line);
      return m?.[1] === undefined ? Number.NaN : Number(m[1]);
    };
    if (line.includes(' zone updated')) {
      this.updates.push({
        buildMs: field('buildMs'),
        names: field('names'),
        changes: field('changes'),
        changedNames: field('changedNames'),
      });
    } else if (line.includes(' zone published')) {
      this.published.push(field('buildMs'));
    } else if (/rebuilding|WARN|ERROR/.test(line)) {
      this.notes.push(line.slice(0, 300));
    }
  }
}

/** The first load's figures from the log: SUBSCRIBED read and parsed, zone built. */
export async function firstLoadFigures(
  server: Server,
): Promise<{ fetchMs: number; buildMs: number }> {
  const field = (message: string, name: string): number =>
    Number(new RegExp(`${message}.*\\b${name}=(\\d+(?:\\.\\d+)?)`).exec(server.logs())?.[1]);
  const deadline = Date.now() + 15_000;
  while (!server.logs().includes('pipeline worker: load done') && Date.now() < deadline) {
    await delay(50);
  }
  return {
    fetchMs: field('pipeline worker: load done', 'fetchMs'),
    buildMs: field('zone published', 'buildMs'),
  };
}

/** What /metrics said (the figures the section uses). */
export interface Metrics {
  /** Cumulative propagation histogram: upper bound (s) -> count; `Infinity` for +Inf. */
  readonly buckets: Map<number, number>;
  readonly sum: number;
  readonly count: number;
  readonly events: Record<string, number>;
  readonly subscriptions: number;
  readonly loadsPublished: number;
}

/** Scrapes `/metrics` once. */
export async function readMetrics(httpPort: number): Promise<Metrics> {
  const res = await fetch(`http://${HOST}:${String(httpPort)}/metrics`);
  const text = await res.text();
  const buckets = new Map<number, number>();
  const events: Record<string, number> = {};
  let sum = Number.NaN;
  let count = Number.NaN;
  let subscriptions = Number.NaN;
  let loadsPublished = Number.NaN;
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    let m = /^mesodns_stream_propagation_seconds_bucket\{le="([^"]+)"\}/.exec(line);
    if (m?.[1] !== undefined) {
      buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), value);
    } else if (line.startsWith('mesodns_stream_propagation_seconds_sum ')) {
      sum = value;
    } else if (line.startsWith('mesodns_stream_propagation_seconds_count ')) {
      count = value;
    } else if (line.startsWith('mesodns_stream_subscriptions_total ')) {
      subscriptions = value;
    } else if ((m = /^mesodns_stream_events_total\{type="([^"]+)"\}/.exec(line)) !== null) {
      if (m[1] !== undefined) events[m[1]] = value;
    } else if (line.startsWith('mesodns_state_loads_total{result="published"}')) {
      loadsPublished = value;
    }
  }
  return { buckets, sum, count, events, subscriptions, loadsPublished };
}

/** The propagation histogram between two scrapes, with bucket-based quantile estimates. */
export interface HistogramDelta {
  readonly count: number;
  readonly meanMs: number;
  /** Estimates as Prometheus' `histogram_quantile` makes them (linear within a bucket). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Share of observations at or below 1 s. */
  readonly within1sPct: number;
  /** Cumulative counts per upper bound (s), `+Inf` last. */
  readonly buckets: Record<string, number>;
}

/** The histogram observations between `before` and `after`. */
export function histogramDelta(before: Metrics, after: Metrics): HistogramDelta {
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
  const oneSecond = bounds.indexOf(1);
  return {
    count,
    meanMs: count > 0 ? ((after.sum - before.sum) / count) * 1000 : Number.NaN,
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    within1sPct:
      count > 0 && oneSecond >= 0 ? ((cumulative[oneSecond] ?? 0) / count) * 100 : Number.NaN,
    buckets: Object.fromEntries(
      bounds.map((b, i) => [b === Infinity ? '+Inf' : String(b), cumulative[i] ?? 0]),
    ),
  };
}
