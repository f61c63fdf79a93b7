/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), for the tests and the
 * benchmark: it rejects what Prometheus would reject and a few things it would merely tolerate
 * (interleaved families, duplicate series, inconsistent histograms), so that a scrape that parses
 * here is clean.
 */

/** Metric types of the format. */
export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** One sample line. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: number | undefined;
}

/** A metric family: its TYPE, HELP and samples, in order. */
export interface PromFamily {
  readonly name: string;
  readonly type: MetricKind;
  readonly help: string | undefined;
  readonly samples: readonly PromSample[];
}

/** A parse error with its 1-based line number. */
export class PromParseError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const KINDS: readonly MetricKind[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function isKind(value: string): value is MetricKind {
  return KINDS.some((k) => k === value);
}

/** Parses a float as Go's strconv.ParseFloat does for the format (NaN, +Inf, -Inf included). */
function parseValue(text: string, line: number): number {
  // Go's ParseFloat reads these case-insensitively (prom-client writes `Nan`).
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (['+inf', 'inf', '+infinity', 'infinity'].includes(lower)) return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new PromParseError(line, `bad value '${text}'`);
  }
  return Number(text);
}

function unescape(text: string, allowQuote: boolean, line: number): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && allowQuote) out += '"';
    else throw new PromParseError(line, `bad escape '\\${next ?? ''}'`);
  }
  return out;
}

/** Reads `{a="x",b="y"}` starting at `text[0] === '{'`; returns labels and the rest. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new PromParseError(line, 'label without =');
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new PromParseError(line, `bad label name '${name}'`);
    if (name.startsWith('__')) throw new PromParseError(line, `reserved label name '${name}'`);
    if (Object.hasOwn(labels, name)) throw new PromParseError(line, `repeated label '${name}'`);
    if (text[eq + 1] !== '"') throw new PromParseError(line, `label '${name}' value not quoted`);
    let j = eq + 2;
    let raw = '';
    while (j < text.length && text[j] !== '"') {
      if (text[j] === '\\') {
        raw += text.slice(j, j + 2);
        j += 2;
      } else {
        raw += text.charAt(j);
        j++;
      }
    }
    if (j >= text.length) throw new PromParseError(line, 'unterminated label value');
    labels[name] = unescape(raw, true, line);
    i = j + 1;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}')
      throw new PromParseError(line, `expected , or } after label '${name}'`);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, types: ReadonlyMap<string, MetricKind>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return name;
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return `${name}{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/** Checks the invariants of a histogram family; throws on the first violation. */
function checkHistogram(family: PromFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${family.name}_sum`) group.sum = s.value;
    else if (s.name === `${family.name}_count`) group.count = s.value;
    else throw new Error(`${family.name}: unexpected sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const where = `${family.name}${key}`;
    if (g.sum === undefined || g.count === undefined)
      throw new Error(`${where}: no _sum or _count`);
    const last = g.buckets.at(-1);
    if (last?.[0] !== Infinity) throw new Error(`${where}: no +Inf bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevCount] = g.buckets[i - 1] ?? [0, 0];
      const [le, count] = g.buckets[i] ?? [0, 0];
      if (le <= prevLe) throw new Error(`${where}: le not increasing`);
      if (count < prevCount) throw new Error(`${where}: bucket counts decrease`);
    }
    if (last[1] !== g.count)
      throw new Error(`${where}: +Inf bucket ${last[1]} != count ${g.count}`);
  }
}

/**
 * Parses a scrape. Throws a `PromParseError` (or an `Error` naming the family for histogram
 * invariants) on anything malformed; returns the families by name.
 */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new PromParseError(0, 'no final newline');
  const types = new Map<string, MetricKind>();
  const helps = new Map<string, string>();
  const samples = new Map<string, PromSample[]>();
  const order: string[] = [];
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const enter = (family: string, line: number): void => {
    if (family === current) return;
    if (closed.has(family)) throw new PromParseError(line, `family ${family} is interleaved`);
    if (current !== undefined) closed.add(current);
    current = family;
    if (!order.includes(family)) order.push(family);
  };
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (m === null) return; // a plain comment
      const [, keyword = '', name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new PromParseError(line, `bad metric name '${name}'`);
      enter(name, line);
      if (keyword === 'HELP') {
        if (helps.has(name)) throw new PromParseError(line, `second HELP for ${name}`);
        helps.set(name, unescape(rest, false, line));
      } else {
        const kind = rest.trim();
        if (!isKind(kind)) throw new PromParseError(line, `bad type '${rest}'`);
        if (types.has(name)) throw new PromParseError(line, `second TYPE for ${name}`);
        if ((samples.get(name) ?? []).length > 0) {
          throw new PromParseError(line, `TYPE for ${name} after its samples`);
        }
        types.set(name, kind);
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (nameMatch === null) throw new PromParseError(line, `bad sample line '${raw}'`);
    const name = nameMatch[0];
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const fields = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || fields.length < 1 || fields.length > 2) {
      throw new PromParseError(line, `bad sample line '${raw}'`);
    }
    const value = parseValue(fields[0] ?? '', line);
    const ts = fields[1];
    if (ts !== undefined && !/^-?\d+$/.test(ts)) {
      throw new PromParseError(line, `bad timestamp '${ts}'`);
    }
    const family = familyOf(name, types);
    enter(family, line);
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw new PromParseError(line, `duplicate series ${key}`);
    seen.add(key);
    const type = types.get(family) ?? 'untyped';
    if (type === 'counter' && !(value >= 0)) {
      throw new PromParseError(line, `counter ${name} is ${String(value)}`);
    }
    if (type === 'histogram' && name === family) {
      throw new PromParseError(line, `histogram ${family} has a bare sample`);
    }
    const list = samples.get(family) ?? [];
    list.push({ name, labels, value, timestamp: ts === undefined ? undefined : Number(ts) });
    samples.set(family, list);
  });
  const out = new Map<string, PromFamily>();
  for (const name of order) {
    const family: PromFamily = {
      name,
      type: types.get(name) ?? 'untyped',
      help: helps.get(name),
      samples: samples.get(name) ?? [],
    };
    if (family.type === 'histogram') checkHistogram(family);
    out.set(name, family);
  }
  return out;
}

/**
 * The sum of the samples named `name` whose labels include `labels` (0 when none), e.g.
 * `sampleSum(f, 'mesodns_dns_queries_total', { qtype: 'A' })`.
 */
export function sampleSum(
  families: ReadonlyMap<string, PromFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  let sum = 0;
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}
