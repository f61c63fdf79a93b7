/** The Prometheus metrics: what each hook counts, and a scrape that parses strictly. */
import test from 'ava';
import { Metrics } from '../src/metrics.js';
import type { QueryEvent } from '../src/dns/index.js';
import { parsePrometheusText, sampleSum } from '../support/prometheus-text.js';

function query(overrides: Partial<QueryEvent> = {}): QueryEvent {
  return {
    transport: 'udp',
    qtype: 1,
    rcode: 0,
    path: 'authoritative',
    durationMs: 0.2,
    query: undefined,
    client: '127.0.0.1',
    ...overrides,
  };
}

async function scrape(metrics: Metrics): Promise<ReturnType<typeof parsePrometheusText>> {
  const { contentType, body } = await metrics.scrape();
  if (!contentType.startsWith('text/plain; version=0.0.4')) throw new Error(contentType);
  return parsePrometheusText(body);
}

test('counts queries by transport, qtype, rcode and path, with bounded label values', async (t) => {
  const metrics = new Metrics({ version: '1.2.3', processMetrics: false });
  metrics.onQuery(query());
  metrics.onQuery(query());
  metrics.onQuery(query({ transport: 'tcp', qtype: 33, rcode: 3 }));
  metrics.onQuery(query({ path: 'forwarded', qtype: 28, rcode: 2, durationMs: 40 }));
  metrics.onQuery(query({ path: 'malformed', qtype: 0, rcode: 1 }));
  metrics.onQuery(query({ qtype: 4242, rcode: 16 }));
  const f = await scrape(metrics);
  const q = 'mesodns_dns_queries_total';
  t.is(sampleSum(f, q), 6);
  t.is(
    sampleSum(f, q, { transport: 'udp', qtype: 'A', rcode: 'NOERROR', path: 'authoritative' }),
    2,
  );
  t.is(sampleSum(f, q, { transport: 'tcp', qtype: 'SRV', rcode: 'NXDOMAIN' }), 1);
  t.is(sampleSum(f, q, { path: 'forwarded', qtype: 'AAAA', rcode: 'SERVFAIL' }), 1);
  t.is(sampleSum(f, q, { path: 'malformed', qtype: 'NONE', rcode: 'FORMERR' }), 1);
  t.is(sampleSum(f, q, { qtype: 'OTHER', rcode: 'BADVERS' }), 1);
  t.is(f.get(q)?.type, 'counter');
  t.deepEqual(
    sampleSum(f, 'mesodns_build_info', { version: '1.2.3' }),
    1,
    'build info carries the version',
  );
});

test('the latency histogram has cumulative buckets per path', async (t) => {
  const metrics = new Metrics({ version: 'x', processMetrics: false });
  for (const ms of [0.03, 0.2, 0.2, 3, 7000]) metrics.onQuery(query({ durationMs: ms }));
  metrics.onQuery(query({ path: 'forwarded', durationMs: 12 }));
  const f = await scrape(metrics);
  const h = 'mesodns_dns_query_duration_seconds';
  t.is(f.get(h)?.type, 'histogram');
  const bucket = (le: string, path = 'authoritative'): number =>
    sampleSum(f, `${h}_bucket`, { le, path });
  t.is(bucket('0.00005'), 1);
  t.is(bucket('0.00025'), 3);
  t.is(bucket('0.005'), 4);
  t.is(bucket('5'), 4);
  t.is(bucket('+Inf'), 5);
  t.is(sampleSum(f, `${h}_count`, { path: 'authoritative' }), 5);
  t.true(Math.abs(sampleSum(f, `${h}_sum`, { path: 'authoritative' }) - 7.00343) < 1e-9);
  t.is(bucket('0.01', 'forwarded'), 0);
  t.is(bucket('0.025', 'forwarded'), 1);
});

test('state loads, zone gauges and reloads', async (t) => {
  const metrics = new Metrics({
    version: 'x',
    processMetrics: false,
    sources: {
      dataAgeMs: () => 2500,
      zoneSerial: () => 42,
      zoneJournal: () => ({ entries: 4, rrs: 17 }),
      leaderChanges: () => 3,
      workerRestarts: () => 2,
    },
  });
  metrics.onLoad({
    result: 'published',
    fetchMs: 20,
    bytes: 28135,
    buildMs: 30,
    tasks: 9,
    skippedTasks: 1,
    records: 146,
    names: 137,
  });
  metrics.onLoad({ result: 'failed' });
  metrics.onLoad({ result: 'failed' });
  metrics.onLoad({ result: 'held', fetchMs: 10, bytes: 100 });
  metrics.onConfigReload(true);
  metrics.onConfigReload(false);
  const f = await scrape(metrics);
  t.is(sampleSum(f, 'mesodns_state_loads_total', { result: 'published' }), 1);
  t.is(sampleSum(f, 'mesodns_state_loads_total', { result: 'failed' }), 2);
  t.is(sampleSum(f, 'mesodns_state_loads_total', { result: 'held' }), 1);
  t.is(sampleSum(f, 'mesodns_state_fetch_duration_seconds_count'), 2);
  t.is(sampleSum(f, 'mesodns_zone_build_duration_seconds_count'), 1);
  t.is(sampleSum(f, 'mesodns_state_size_bytes'), 100);
  t.is(sampleSum(f, 'mesodns_zone_tasks'), 9);
  t.is(sampleSum(f, 'mesodns_zone_skipped_tasks'), 1);
  t.is(sampleSum(f, 'mesodns_zone_records'), 146);
  t.is(sampleSum(f, 'mesodns_zone_names'), 137);
  t.is(sampleSum(f, 'mesodns_zone_serial'), 42);
  t.is(sampleSum(f, 'mesodns_zone_journal_entries'), 4);
  t.is(sampleSum(f, 'mesodns_zone_journal_rrs'), 17);
  t.is(sampleSum(f, 'mesodns_state_age_seconds'), 2.5);
  t.is(sampleSum(f, 'mesodns_leader_changes_total'), 3);
  t.is(sampleSum(f, 'mesodns_config_reloads_total', { result: 'applied' }), 1);
  t.is(sampleSum(f, 'mesodns_config_reloads_total', { result: 'rejected' }), 1);
  t.is(sampleSum(f, 'mesodns_pipeline_worker_restarts_total'), 2);
});

test('incremental updates, their fallbacks, the changed names and the worker heap', async (t) => {
  let heap: { usedBytes: number; totalBytes: number } | undefined = undefined;
  const metrics = new Metrics({
    version: 'x',
    processMetrics: false,
    sources: {
      zoneCounts: () => ({ names: 120, rrs: 150, changedNames: 7 }),
      workerHeap: () => heap,
    },
  });
  const before = await scrape(metrics);
  t.is(sampleSum(before, 'mesodns_zone_update_duration_seconds_count'), 0);
  t.is(sampleSum(before, 'mesodns_pipeline_worker_heap_size_used_bytes'), 0, 'before a load');
  t.is(before.get('mesodns_zone_update_fallbacks_total')?.samples.length, 3, 'all reasons at 0');

  metrics.onZoneUpdate(0.8, { names: 3, taskChanges: 2 });
  metrics.onZoneUpdate(4, { names: 5, taskChanges: 1 });
  metrics.onZoneUpdate(30, { names: 1, taskChanges: 1 });
  metrics.onUpdateFallback('changed_names');
  metrics.onUpdateFallback('changed_names');
  metrics.onUpdateFallback('failed');
  heap = { usedBytes: 52_000_000, totalBytes: 80_000_000 };
  const f = await scrape(metrics);
  const h = 'mesodns_zone_update_duration_seconds';
  t.is(f.get(h)?.type, 'histogram');
  t.is(sampleSum(f, `${h}_count`), 3);
  t.true(Math.abs(sampleSum(f, `${h}_sum`) - 0.0348) < 1e-9);
  t.is(sampleSum(f, `${h}_bucket`, { le: '0.0005' }), 0);
  t.is(sampleSum(f, `${h}_bucket`, { le: '0.001' }), 1);
  t.is(sampleSum(f, `${h}_bucket`, { le: '0.005' }), 2);
  t.is(sampleSum(f, `${h}_bucket`, { le: '0.025' }), 2);
  t.is(sampleSum(f, `${h}_bucket`, { le: '0.05' }), 3);
  t.is(sampleSum(f, 'mesodns_zone_update_names_total'), 9);
  t.is(sampleSum(f, 'mesodns_zone_update_task_changes_total'), 4);
  const fallbacks = 'mesodns_zone_update_fallbacks_total';
  t.is(sampleSum(f, fallbacks, { reason: 'changed_names' }), 2);
  t.is(sampleSum(f, fallbacks, { reason: 'failed' }), 1);
  t.is(sampleSum(f, fallbacks, { reason: 'shared_name' }), 0);
  t.is(sampleSum(f, 'mesodns_zone_changed_names'), 7);
  t.is(sampleSum(f, 'mesodns_zone_names'), 120, 'the zone counts still come from the source');
  t.is(sampleSum(f, 'mesodns_pipeline_worker_heap_size_used_bytes'), 52_000_000);
  t.is(sampleSum(f, 'mesodns_pipeline_worker_heap_size_total_bytes'), 80_000_000);
});

test('before the first load the serial is 0 and the age runs from the start', async (t) => {
  let now = 1_000_000;
  const clock = { now: () => now };
  const metrics = new Metrics({ version: 'x', processMetrics: false, sources: {}, clock });
  now += 4000;
  const f = await scrape(metrics);
  t.is(sampleSum(f, 'mesodns_zone_serial'), 0);
  t.is(sampleSum(f, 'mesodns_state_age_seconds'), 4);
  t.is(sampleSum(f, 'mesodns_state_loads_total', { result: 'failed' }), 0);
  t.is(f.get('mesodns_state_loads_total')?.samples.length, 3, 'every result is exported at 0');
});

test('the forward observer records and passes every event on', async (t) => {
  const seen: string[] = [];
  const metrics = new Metrics({
    version: 'x',
    processMetrics: false,
    sources: {
      cache: () => ({ size: 7, bytes: 900 }),
      forwardInFlight: () => 2,
      upstreamHealth: () =>
        new Map([
          ['127.0.0.1:53', true],
          ['127.0.0.2:53', false],
        ]),
    },
  });
  const observer = metrics.forwardObserver({
    cache: (r) => seen.push(`cache:${r}`),
    forwarded: () => seen.push('forwarded'),
    failed: () => seen.push('failed'),
    rejected: (r) => seen.push(`rejected:${r}`),
    exchange: (e) => seen.push(`exchange:${e.outcome}`),
    health: (u, up) => seen.push(`health:${u}:${String(up)}`),
  });
  observer.cache('hit');
  observer.cache('miss');
  observer.cache('miss');
  observer.cache('stale');
  observer.forwarded();
  observer.failed();
  observer.rejected('acl');
  observer.rejected('concurrency');
  const exchange = { upstream: '127.0.0.2:53', transport: 'udp', rcode: 0 } as const;
  observer.exchange({ ...exchange, outcome: 'ok', durationMs: 4 });
  observer.exchange({ ...exchange, outcome: 'timeout', rcode: undefined, durationMs: 5000 });
  observer.health('127.0.0.2:53', false);
  observer.health('127.0.0.2:53', true);
  observer.health('127.0.0.2:53', false);
  t.is(seen.length, 13, seen.join(' '));
  const f = await scrape(metrics);
  const cache = 'mesodns_forward_cache_lookups_total';
  t.is(sampleSum(f, cache, { result: 'hit' }), 1);
  t.is(sampleSum(f, cache, { result: 'miss' }), 2);
  t.is(sampleSum(f, cache, { result: 'stale' }), 1);
  t.is(sampleSum(f, 'mesodns_forward_cache_entries'), 7);
  t.is(sampleSum(f, 'mesodns_forward_cache_bytes'), 900);
  t.is(sampleSum(f, 'mesodns_forward_in_flight'), 2);
  t.is(sampleSum(f, 'mesodns_forward_queries_total'), 1);
  t.is(sampleSum(f, 'mesodns_forward_failures_total'), 1);
  t.is(sampleSum(f, 'mesodns_forward_rejected_total', { reason: 'acl' }), 1);
  const ex = 'mesodns_upstream_exchanges_total';
  t.is(sampleSum(f, ex, { upstream: '127.0.0.2:53', outcome: 'ok', transport: 'udp' }), 1);
  t.is(sampleSum(f, ex, { outcome: 'timeout' }), 1);
  t.is(sampleSum(f, 'mesodns_upstream_response_seconds_count', { upstream: '127.0.0.2:53' }), 1);
  t.is(sampleSum(f, 'mesodns_upstream_marked_down_total', { upstream: '127.0.0.2:53' }), 2);
  t.is(sampleSum(f, 'mesodns_upstream_healthy', { upstream: '127.0.0.1:53' }), 1);
  t.is(sampleSum(f, 'mesodns_upstream_healthy', { upstream: '127.0.0.2:53' }), 0);
});

test('process metrics are included by default', async (t) => {
  const f = await scrape(new Metrics({ version: 'x' }));
  t.true(f.has('process_cpu_user_seconds_total'));
  t.true(f.has('nodejs_eventloop_lag_seconds'));
});

test('a scrape of named families (/metrics?name[]=) has those alone, as the whole scrape has them', async (t) => {
  const metrics = new Metrics({
    version: 'x',
    sources: { cache: () => ({ size: 7, bytes: 900 }) },
  });
  metrics.onQuery(query());
  const whole = parsePrometheusText((await metrics.scrape()).body);
  const own = ['mesodns_dns_queries_total', 'mesodns_zone_serial', 'mesodns_forward_cache_entries'];
  const some = parsePrometheusText((await metrics.scrape([...own, 'no_such_family'])).body);
  t.deepEqual([...some.keys()].sort(), [...own].sort());
  for (const name of own) t.deepEqual(some.get(name), whole.get(name), name);
  // prom-client computes its process and Node.js families in groups: asked for alone, each is
  // still as fresh as in a whole scrape.
  const mixed = [
    'process_cpu_user_seconds_total',
    'nodejs_eventloop_lag_p99_seconds',
    own[1] ?? '',
  ];
  const got = parsePrometheusText((await metrics.scrape(mixed)).body);
  t.deepEqual([...got.keys()].sort(), [...mixed].sort());
  t.true((got.get('process_cpu_user_seconds_total')?.samples[0]?.value ?? 0) > 0);
  t.true((got.get('nodejs_eventloop_lag_p99_seconds')?.samples[0]?.value ?? 0) > 0);
  t.is((await metrics.scrape(['no_such_family'])).body, '');
});

test('the ZooKeeper session: 1 connected, 0 lost, absent without mesos.zk', async (t) => {
  let session: { zk: string; connected: boolean } | undefined;
  const metrics = new Metrics({
    version: 'x',
    processMetrics: false,
    sources: { zookeeper: () => session },
  });
  t.is((await scrape(metrics)).get('mesodns_zookeeper_connected')?.samples.length ?? 0, 0);
  session = { zk: 'zk://10.0.0.1:2181/mesos', connected: true };
  const series = { zk: 'zk://10.0.0.1:2181/mesos' };
  t.is(sampleSum(await scrape(metrics), 'mesodns_zookeeper_connected', series), 1);
  session = { ...session, connected: false };
  const lost = await scrape(metrics);
  t.is(sampleSum(lost, 'mesodns_zookeeper_connected', series), 0);
  t.is(lost.get('mesodns_zookeeper_connected')?.samples.length, 1);
});
