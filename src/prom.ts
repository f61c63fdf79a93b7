/**
 * The prom-client helpers every metrics module shares (src/metrics.ts and the `metrics.ts` beside
 * the code each one observes).
 *
 * prom-client is pinned to an exact version in package.json (15.1.3): `FastHistogram` renders
 * through `getForPromString`, an internal of prom-client 15's registry that its type definitions
 * do not declare. A minor release could rename or reshape it, and the DNS latency histogram would
 * then render empty or malformed with no type error, so an upgrade is a deliberate step, checked
 * with test/metrics.test.ts.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** Index of the first bucket (upper bound, ascending) holding `value`; `buckets.length` for +Inf. */
function bucketIndex(buckets: readonly number[], value: number): number {
  let i = 0;
  while (i < buckets.length && value > (buckets[i] ?? Infinity)) i++;
  return i;
}

/** Plain counts of one histogram series: per-bucket (not cumulative), plus sum and count. */
class Accumulator {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(buckets: number) {
    this.counts = new Float64Array(buckets + 1);
  }
}

/** One exported sample, in the shape prom-client's registry renders. */
interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * A histogram fed with plain numbers (`record`) and exported when scraped, so that the
 * per-query path stays free of prom-client's label hashing (about 1 µs per observation).
 *
 * It is a prom-client `Histogram` (registered, named, typed like one) whose samples come from
 * `getForPromString`, the method prom-client 15's registry renders through and `get()` builds
 * on (lib/registry.js, lib/histogram.js); test/metrics.test.ts checks the rendered text.
 */
export class FastHistogram extends Histogram<'path'> {
  readonly #name: string;
  readonly #help: string;
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, Accumulator>();

  constructor(config: {
    name: string;
    help: string;
    buckets: readonly number[];
    registry: Registry;
  }) {
    super({
      name: config.name,
      help: config.help,
      labelNames: ['path'],
      buckets: [...config.buckets],
      registers: [config.registry],
    });
    this.#name = config.name;
    this.#help = config.help;
    this.#buckets = config.buckets;
  }

  /** Adds one observation (seconds) for `path`. */
  record(path: string, seconds: number): void {
    let acc = this.#series.get(path);
    if (acc === undefined) {
      acc = new Accumulator(this.#buckets.length);
      this.#series.set(path, acc);
    }
    const i = bucketIndex(this.#buckets, seconds);
    acc.counts[i] = (acc.counts[i] ?? 0) + 1;
    acc.sum += seconds;
    acc.count++;
  }

  /** The samples: cumulative buckets, `+Inf`, sum and count per path. */
  getForPromString(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: Sample[];
  }> {
    const name = this.#name;
    const values: Sample[] = [];
    const sample = (labels: Sample['labels'], value: number, suffix: string): void => {
      values.push({ labels, sharedLabels: {}, value, metricName: `${name}_${suffix}` });
    };
    for (const [path, acc] of this.#series) {
      let cumulative = 0;
      this.#buckets.forEach((le, i) => {
        cumulative += acc.counts[i] ?? 0;
        sample({ le, path }, cumulative, 'bucket');
      });
      sample({ le: '+Inf', path }, acc.count, 'bucket');
      sample({ path }, acc.sum, 'sum');
      sample({ path }, acc.count, 'count');
    }
    return Promise.resolve({
      name,
      help: this.#help,
      type: 'histogram',
      aggregator: 'sum',
      values,
    });
  }
}

/** A gauge whose value is read when Prometheus scrapes (it lives elsewhere; nothing feeds it). */
export function readGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  const gauge: Gauge = new Gauge({
    name,
    help,
    registers: [registry],
    collect: () => {
      gauge.set(read());
    },
  });
}

/**
 * A counter whose total is read when Prometheus scrapes: for counts another module keeps
 * anyway (leader changes, worker restarts), so that nothing is counted twice.
 */
export function readCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  const counter: Counter = new Counter({
    name,
    help,
    registers: [registry],
    collect: () => {
      counter.reset();
      counter.inc(read());
    },
  });
}

/**
 * A counter with one label whose totals are read when Prometheus scrapes: one sample per
 * `[label value, total]` that `read` gives, in its order (the order of the rendered lines).
 */
export function readLabelledCounter(
  registry: Registry,
  config: { readonly name: string; readonly help: string; readonly label: string },
  read: () => Iterable<readonly [string, number]>,
): void {
  const counter: Counter = new Counter({
    name: config.name,
    help: config.help,
    labelNames: [config.label],
    registers: [registry],
    collect: () => {
      counter.reset();
      for (const [value, n] of read()) counter.inc({ [config.label]: value }, n);
    },
  });
}
