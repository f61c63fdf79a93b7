/**
 * helm-free-deploy/monitoring/: the alert rules pass `promtool check rules` and their unit tests
 * (`promtool test rules`), the Grafana dashboard parses and its queries are valid PromQL, and
 * every metric named by a rule or a panel is one a running mesodns exports. promtool comes with
 * Prometheus (Debian: `prometheus`); without it the promtool checks are skipped with a note.
 * Needs the built server (`npm run build`).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { parse, stringify } from 'yaml';
import { startMesodns } from '../../support/mesodns.js';
import { parsePrometheusText } from '../../support/prometheus-text.js';
import { REPO_ROOT, isRecord, run } from './recipe.js';

const MONITORING = join(REPO_ROOT, 'helm-free-deploy', 'monitoring');
const RULES = join(MONITORING, 'mesodns-alerts.yaml');
const RULE_TESTS = join(MONITORING, 'mesodns-alerts.test.yaml');
const DASHBOARD = join(MONITORING, 'mesodns-dashboard.json');

/** Whether promtool is installed; logs the skip when it is not. */
async function hasPromtool(t: ExecutionContext): Promise<boolean> {
  const which = await run('sh', ['-c', 'command -v promtool']);
  if (which.code !== 0) {
    // CI installs it (.ci/run): there, a missing promtool must not pass as a skip.
    if (process.env['CI'] === 'true') t.fail('promtool is missing (Debian package prometheus)');
    else t.log('promtool not installed (Debian package prometheus): skipped');
  }
  return which.code === 0;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: not a list`);
  return value;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what}: not a mapping`);
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: not a string`);
  return value;
}

/** Every alert of the rules file: its name and expression. */
async function alerts(): Promise<{ name: string; expr: string }[]> {
  const doc = record(parse(await readFile(RULES, 'utf8')), RULES);
  const out: { name: string; expr: string }[] = [];
  for (const group of list(doc.groups, 'groups')) {
    for (const rule of list(record(group, 'group').rules, 'rules')) {
      const r = record(rule, 'rule');
      out.push({ name: text(r.alert, 'alert'), expr: text(r.expr, 'expr') });
    }
  }
  return out;
}

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly exprs: readonly string[];
}

/** The dashboard's panels (rows' nested panels included) with their query expressions. */
async function panels(): Promise<{ dashboard: Record<string, unknown>; panels: Panel[] }> {
  const dashboard = record(JSON.parse(await readFile(DASHBOARD, 'utf8')), DASHBOARD);
  const out: Panel[] = [];
  const visit = (items: unknown[]): void => {
    for (const item of items) {
      const p = record(item, 'panel');
      const title = text(p.title, 'panel title');
      const targets = Array.isArray(p.targets) ? p.targets : [];
      out.push({
        title,
        type: text(p.type, `${title}: type`),
        exprs: targets.map((target) => text(record(target, title).expr, `${title}: expr`)),
      });
      if (Array.isArray(p.panels)) visit(p.panels);
    }
  };
  visit(list(dashboard.panels, 'panels'));
  return { dashboard, panels: out };
}

/** Grafana's variables replaced by values Prometheus accepts, for checking a query. */
function asPromQl(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m');
}

/** The metric names a PromQL expression reads (mesodns's own: every one starts `mesodns_`). */
function metricNames(expr: string): string[] {
  // Label values (quoted) and label names (before `=`, in by/on lists) are not metrics.
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(unquoted.match(/\bmesodns_[a-z0-9_]+\b/g) ?? [])];
}

test('promtool check rules accepts the alert rules', async (t) => {
  if (!(await hasPromtool(t))) return t.pass();
  const r = await run('promtool', ['check', 'rules', RULES]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /SUCCESS: \d+ rules found/);
});

test('promtool test rules: the alert unit tests pass', async (t) => {
  if (!(await hasPromtool(t))) return t.pass();
  const r = await run('promtool', ['test', 'rules', RULE_TESTS]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /SUCCESS/);
  // At least two alerts have their own cases.
  const tested = new Set(
    [...(await readFile(RULE_TESTS, 'utf8')).matchAll(/alertname: (\w+)/g)].map((m) => m[1]),
  );
  t.true(tested.size >= 2, [...tested].join(', '));
});

test('the rules alert on stale data, the stream, worker restarts, upstreams and SERVFAIL', async (t) => {
  const byName = new Map((await alerts()).map((a) => [a.name, a.expr]));
  const reads = (name: string, metric: string): void => {
    t.true(metricNames(byName.get(name) ?? '').includes(metric), `${name} reads ${metric}`);
  };
  reads('MesodnsStaleData', 'mesodns_state_age_seconds');
  reads('MesodnsStreamDown', 'mesodns_stream_connected');
  reads('MesodnsWorkerRestarting', 'mesodns_pipeline_worker_restarts_total');
  reads('MesodnsUpstreamDown', 'mesodns_upstream_healthy');
  reads('MesodnsAllUpstreamsDown', 'mesodns_upstream_healthy');
  reads('MesodnsServfailRate', 'mesodns_dns_queries_total');
  t.regex(byName.get('MesodnsServfailRate') ?? '', /rcode="SERVFAIL"/);
});

test('the dashboard parses, has panels with queries, and every query is valid PromQL', async (t) => {
  const { dashboard, panels: all } = await panels();
  t.is(dashboard.uid, 'mesodns');
  t.is(typeof dashboard.title, 'string');
  const queried = all.filter((p) => p.type !== 'row');
  t.true(queried.length >= 20, `${String(queried.length)} panels`);
  for (const p of queried) {
    t.true(p.exprs.length > 0, `${p.title}: has a query`);
    for (const expr of p.exprs) t.true(metricNames(expr).length > 0, `${p.title}: ${expr}`);
  }
  const covered = new Set(queried.flatMap((p) => p.exprs.flatMap(metricNames)));
  for (const metric of [
    'mesodns_dns_queries_total',
    'mesodns_state_age_seconds',
    'mesodns_state_loads_total',
    'mesodns_leader_changes_total',
    'mesodns_stream_connected',
    'mesodns_forward_queries_total',
    'mesodns_upstream_healthy',
    'mesodns_pipeline_worker_restarts_total',
  ]) {
    t.true(covered.has(metric), `a panel shows ${metric}`);
  }
  if (!(await hasPromtool(t))) return;
  // promtool has no query parser of its own: recording rules carry the queries to it.
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-dashboard-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const rules = queried
    .flatMap((p) => p.exprs)
    .map((expr, i) => ({
      record: `dashboard:query_${String(i)}`,
      expr: asPromQl(expr),
    }));
  const file = join(dir, 'dashboard-queries.yaml');
  await writeFile(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
  const r = await run('promtool', ['check', 'rules', file]);
  t.is(r.code, 0, r.out);
});

test('every metric the rules and the dashboard name is exported by a running mesodns', async (t) => {
  const server = await startMesodns({ stateFile: 'config/demo-state.json' });
  t.teardown(() => server.stop());
  const scrape = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const exported = new Set<string>();
  for (const family of parsePrometheusText(scrape).values()) {
    exported.add(family.name);
    if (family.type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) exported.add(family.name + suffix);
    }
  }
  const named = new Map<string, string>();
  for (const a of await alerts()) for (const m of metricNames(a.expr)) named.set(m, a.name);
  for (const p of (await panels()).panels) {
    for (const expr of p.exprs) for (const m of metricNames(expr)) named.set(m, p.title);
  }
  t.true(named.size >= 20, [...named.keys()].join(', '));
  for (const [metric, where] of named) {
    t.true(exported.has(metric), `${metric} (${where}) is not exported`);
  }
});
