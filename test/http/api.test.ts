/**
 * The HTTP API's routing and bodies, without a socket (`HttpApi.handle`), plus one real
 * listener for HEAD, `Allow` and content types.
 */
import test from 'ava';
import { parseConfig } from '../../src/config/index.js';
import { HttpApi, responseText } from '../../src/http/index.js';
import type { HealthDetails, HttpApiOptions, SnapshotView } from '../../src/http/index.js';
import { silentLogger } from '../../src/log.js';
import { recordsFromText } from '../../support/records-text.js';
import { parsePrometheusText } from '../../support/prometheus-text.js';

const RECORDS = recordsFromText(`
  web.marathon.mesos.             A    10.0.0.1
  web.marathon.mesos.             A    10.0.0.2
  web.marathon.mesos.             AAAA fd00::1
  web-a1b2c-s1.marathon.mesos.    A    10.0.0.1
  web-a1b2c-s1.marathon.mesos.    AAAA fd00::1
  _web._tcp.marathon.mesos.       SRV  31000 web-a1b2c-s1.marathon.mesos.
  _web._tcp.marathon.mesos.       SRV  31001 web-a1b2c-s1.marathon.mesos.
  _web._udp.marathon.mesos.       SRV  31000 nowhere.marathon.mesos.
`);

const CONFIG = parseConfig(
  `
mesos:
  masters: ["10.0.0.11:5050", "https://m2.example.org:5050"]
  refresh: 1500ms
  auth: { principal: dns, secret: hunter2 }
records: { ttl: 30, ipSources: [host], srvWeight: 3 }
dns: { listen: "127.0.0.1:5353", recursionAvailable: false }
forward:
  resolvers: ["10.0.0.53", "10.0.0.54:5353"]
  zones: { consul: ["[fd00::5]:8600"] }
  timeout: 2500ms
http: { listen: "127.0.0.1:8124", readyMaxAge: 2m }
`,
  'api.yaml',
);

function api(
  options: Partial<HttpApiOptions> & { current?: SnapshotView | undefined } = {},
): HttpApi {
  const { current, ...rest } = options;
  return new HttpApi({
    listen: { host: '127.0.0.1', port: 0 },
    store: { current },
    config: () => CONFIG,
    version: '9.9.9',
    logger: silentLogger,
    ...rest,
  });
}

const LOADED: SnapshotView = {
  records: RECORDS,
  zone: { serial: 77 },
  loadedAt: 1_700_000_000_000,
};

async function body(handler: HttpApi, path: string): Promise<unknown> {
  const r = await handler.handle('GET', path);
  if (r.contentType !== 'application/json') throw new Error(`${path}: ${r.contentType}`);
  return JSON.parse(responseText(r));
}

test('unknown paths get 404, other methods 405 with Allow, /v1/hosts/{h}/ports 501', async (t) => {
  const handler = api({ current: LOADED });
  for (const path of [
    '/',
    '/v1',
    '/v1/nope',
    '/v2/version',
    '/v1/hosts',
    '/healthz',
    '/v1/a/b/c/d',
  ]) {
    const r = await handler.handle('GET', path);
    t.is(r.status, 404, path);
    t.is(r.body, '404: Page Not Found');
    t.is(r.contentType, 'text/plain; charset=utf-8');
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const r = await handler.handle(method, '/v1/version');
    t.is(r.status, 405, method);
    t.is(r.headers?.Allow, 'GET, HEAD');
  }
  t.is((await handler.handle('POST', '/nope')).status, 404, 'unknown path wins over method');
  const ports = await handler.handle('GET', '/v1/hosts/web.marathon.mesos/ports');
  t.is(ports.status, 501);
  t.is(ports.body, 'To be implemented...');
  t.is((await handler.handle('HEAD', '/health')).status, 200);
});

test('routes match the exact path: doubled or trailing slashes and other forms are 404', async (t) => {
  const handler = api({ current: LOADED });
  for (const target of [
    '//v1//config',
    '//config',
    '//health',
    '/v1//version',
    '/v1/version/',
    '/health/',
    '//v1/enumerate',
    'v1/version',
    '*',
    'ftp://host/v1/version',
  ]) {
    t.is((await handler.handle('GET', target)).status, 404, target);
  }
  // The absolute form (RFC 9112 3.2.2) counts by its path; the host in it decides nothing.
  t.is((await handler.handle('GET', 'http://evil.example/v1/version')).status, 200);
  t.is((await handler.handle('GET', '/v1/version?x=1')).status, 200, 'a query is not the path');
  t.is((await handler.handle('GET', '/health')).status, 200);
});

test('/v1/version has Mesos-DNS keys with mesodns values', async (t) => {
  t.deepEqual(await body(api(), '/v1/version'), {
    Service: 'mesodns',
    URL: 'https://github.com/mesodns/mesodns',
    Version: '9.9.9',
  });
});

test('/v1/hosts: A then AAAA, lower-cased, wildcards and query strings ignored', async (t) => {
  const handler = api({ current: LOADED });
  const expected = [
    { host: 'web.marathon.mesos.', ip: '10.0.0.1' },
    { host: 'web.marathon.mesos.', ip: '10.0.0.2' },
    { host: 'web.marathon.mesos.', ip: 'fd00::1' },
  ];
  t.deepEqual(await body(handler, '/v1/hosts/web.marathon.mesos'), expected);
  t.deepEqual(await body(handler, '/v1/hosts/WEB.Marathon.mesos.'), expected);
  t.deepEqual(await body(handler, '/v1/hosts/web.*.marathon.mesos?x=1'), expected);
  t.deepEqual(await body(handler, '/v1/hosts/nope.mesos'), [{ host: '', ip: '' }]);
  t.deepEqual(await body(api(), '/v1/hosts/web.marathon.mesos'), [{ host: '', ip: '' }]);
  t.is((await handler.handle('GET', '/v1/hosts/%E0%A4%A')).status, 404, 'bad escape');
});

test('/v1/services: the target with its first A and first AAAA; the name echoed as given', async (t) => {
  const handler = api({ current: LOADED });
  const service = '_web._tcp.marathon.mesos';
  const host = 'web-a1b2c-s1.marathon.mesos.';
  t.deepEqual(await body(handler, `/v1/services/${service}`), [
    { service, host, ip: '10.0.0.1', port: '31000' },
    { service, host, ip: 'fd00::1', port: '31000' },
    { service, host, ip: '10.0.0.1', port: '31001' },
    { service, host, ip: 'fd00::1', port: '31001' },
  ]);
  const empty = [{ service: '', host: '', ip: '', port: '' }];
  t.deepEqual(await body(handler, '/v1/services/_web._udp.marathon.mesos'), empty, 'no address');
  t.deepEqual(await body(handler, '/v1/services/_nope._tcp.mesos'), empty);
});

test('/v1/config: every Mesos-DNS field in Mesos-DNS order, derived and redacted', async (t) => {
  const handler = api({
    current: LOADED,
    configFacts: () => ({
      file: '/etc/mesodns/api.yaml',
      resolvers: [
        { host: '10.0.0.53', port: 53 },
        { host: '10.0.0.54', port: 5353 },
      ],
    }),
  });
  const r = await handler.handle('GET', '/v1/config');
  t.false(r.body.includes('hunter2'));
  const config = JSON.parse(r.body) as Record<string, unknown>;
  t.deepEqual(Object.keys(config), [
    'RefreshSeconds',
    'Port',
    'Timeout',
    'StateTimeoutSeconds',
    'ZkDetectionTimeout',
    'HttpPort',
    'TTL',
    'SRVRecordDefaultWeight',
    'SOASerial',
    'SOARefresh',
    'SOARetry',
    'SOAExpire',
    'SOAMinttl',
    'SOAMname',
    'SOARname',
    'Masters',
    'ZoneResolvers',
    'Resolvers',
    'IPSources',
    'Zk',
    'Domain',
    'File',
    'Listener',
    'HTTPListener',
    'RecurseOn',
    'DnsOn',
    'HttpOn',
    'ExternalOn',
    'EnforceRFC952',
    'SetTruncateBit',
    'EnumerationOn',
    'MesosHTTPSOn',
    'CACertFile',
    'CertFile',
    'KeyFile',
    'MesosCredentials',
    'IAMConfigFile',
    'MesosAuthentication',
  ]);
  t.like(config, {
    RefreshSeconds: 2,
    Port: 5353,
    Timeout: 3,
    StateTimeoutSeconds: 10,
    ZkDetectionTimeout: 0,
    HttpPort: 8124,
    TTL: 30,
    SRVRecordDefaultWeight: 3,
    SOASerial: 77,
    SOAMname: 'ns1.mesos.',
    SOARname: 'root.ns1.mesos.',
    Masters: ['10.0.0.11:5050', 'm2.example.org:5050'],
    ZoneResolvers: { consul: ['[fd00::5]:8600'] },
    Resolvers: ['10.0.0.53', '10.0.0.54:5353'],
    IPSources: ['host'],
    Zk: '',
    Domain: 'mesos',
    File: '/etc/mesodns/api.yaml',
    Listener: '127.0.0.1',
    HTTPListener: '127.0.0.1',
    RecurseOn: false,
    DnsOn: true,
    HttpOn: true,
    ExternalOn: true,
    SetTruncateBit: true,
    EnumerationOn: true,
    MesosHTTPSOn: true,
    MesosCredentials: { Principal: 'dns', Secret: '******' },
    IAMConfigFile: '',
    MesosAuthentication: 'basic',
  });
});

test('/config shows the running config as YAML, secrets redacted', async (t) => {
  const r = await api().handle('GET', '/config');
  t.is(r.status, 200);
  t.is(r.contentType, 'application/yaml; charset=utf-8');
  t.false(r.body.includes('hunter2'));
  t.regex(r.body, /secret: "\*{6}"/);
  t.regex(r.body, /readyMaxAge: 2m/);
  t.regex(r.body, /refresh: 1500ms/);
});

test('/v1/enumerate keeps Go field order and is empty before the first load', async (t) => {
  t.deepEqual(await body(api(), '/v1/enumerate'), { frameworks: [] });
  const records = {
    ...RECORDS,
    enumeration: [
      {
        name: 'marathon',
        tasks: [
          {
            name: 'web',
            id: 'web.1',
            records: [{ name: 'web.marathon.mesos.', host: '10.0.0.1', rtype: 'A' as const }],
          },
        ],
      },
    ],
  };
  const r = await api({ current: { ...LOADED, records } }).handle('GET', '/v1/enumerate');
  t.is(
    responseText(r).replace(/\s/g, ''),
    '{"frameworks":[{"tasks":[{"name":"web","id":"web.1","records":[{"name":"web.marathon.mesos.","host":"10.0.0.1","rtype":"A"}]}],"name":"marathon"}]}',
  );
});

test('/v1/axfr: the whole record set in the models.AXFR shape', async (t) => {
  const r = await api({ current: LOADED }).handle('GET', '/v1/axfr');
  const axfr = JSON.parse(responseText(r)) as { Records: { SRVs: Record<string, string[]> } };
  t.deepEqual(Object.keys(axfr), [
    'TTL',
    'Serial',
    'RefreshSeconds',
    'Mname',
    'Rname',
    'Domain',
    'Records',
  ]);
  t.like(axfr, {
    TTL: 30,
    Serial: 77,
    RefreshSeconds: 2,
    Mname: 'ns1.mesos.',
    Rname: 'root.ns1.mesos.',
    Domain: 'mesos',
    Records: {
      As: { 'web.marathon.mesos.': ['10.0.0.1', '10.0.0.2'] },
      AAAAs: { 'web.marathon.mesos.': ['fd00::1'] },
    },
  });
  t.deepEqual(axfr.Records.SRVs['_web._tcp.marathon.mesos.'], [
    'web-a1b2c-s1.marathon.mesos.:31000',
    'web-a1b2c-s1.marathon.mesos.:31001',
  ]);
  t.deepEqual(await body(api(), '/v1/axfr'), {
    TTL: 30,
    Serial: 0,
    RefreshSeconds: 2,
    Mname: 'ns1.mesos.',
    Rname: 'root.ns1.mesos.',
    Domain: 'mesos',
    Records: { As: {}, AAAAs: {}, SRVs: {} },
  });
});

test('/ready with readyMaxAge set (opt-in): 503 before the first load, then 200 while the data is younger', async (t) => {
  let ageMs: number | undefined;
  let lastError: string | undefined = 'ERR_STATE_FETCH: connection refused';
  let current: SnapshotView | undefined = undefined;
  const handler = new HttpApi({
    listen: { host: '127.0.0.1', port: 0 },
    store: {
      get current() {
        return current;
      },
    },
    config: () => CONFIG,
    version: 'x',
    logger: silentLogger,
    lastError: () => lastError,
    dataAgeMs: () => ageMs,
  });
  let r = await handler.handle('GET', '/ready');
  t.is(r.status, 503);
  t.deepEqual(JSON.parse(r.body), { ready: false, reason: 'ERR_STATE_FETCH: connection refused' });
  current = LOADED;
  ageMs = 5_000;
  lastError = undefined;
  r = await handler.handle('GET', '/ready');
  t.is(r.status, 200);
  t.deepEqual(JSON.parse(r.body), {
    ready: true,
    serial: 77,
    loadedAt: '2023-11-14T22:13:20.000Z',
    ageSeconds: 5,
  });
  ageMs = 120_000;
  t.is((await handler.handle('GET', '/ready')).status, 200, 'exactly readyMaxAge is still ready');
  ageMs = 121_500;
  lastError = 'ERR_STATE_FETCH: timeout';
  r = await handler.handle('GET', '/ready');
  t.is(r.status, 503);
  t.deepEqual(JSON.parse(r.body), {
    ready: false,
    reason:
      'data is 121s old, more than http.readyMaxAge (2m); last error: ERR_STATE_FETCH: timeout',
    serial: 77,
    ageSeconds: 121,
  });
  ageMs = undefined; // a state file does not age
  t.is((await handler.handle('GET', '/ready')).status, 200);
});

const DEFAULTS = parseConfig('mesos: { masters: ["10.0.0.11:5050"] }\n', 'defaults.yaml');

test('/ready by default: data age never fails it, unbound DNS listeners do', async (t) => {
  t.is(DEFAULTS.http.readyMaxAgeMs, 0, 'off by default');
  let ageMs = 5_000;
  let isListening = true;
  const handler = api({
    current: LOADED,
    config: () => DEFAULTS,
    lastError: () => 'ERR_STATE_FETCH: connection refused',
    dataAgeMs: () => ageMs,
    dnsListening: () => isListening,
  });
  t.is((await handler.handle('GET', '/ready')).status, 200);
  ageMs = 3 * 24 * 3600 * 1000; // three days without the masters
  const r = await handler.handle('GET', '/ready');
  t.is(r.status, 200, 'a stale zone still answers the cluster domain');
  t.like(JSON.parse(r.body), { ready: true, serial: 77, ageSeconds: 3 * 24 * 3600 });
  isListening = false;
  const down = await handler.handle('GET', '/ready');
  t.is(down.status, 503);
  t.deepEqual(JSON.parse(down.body), {
    ready: false,
    reason: 'the DNS listeners are not bound',
  });
});

test('/health stays 200 and reports readiness, the zone, the data age, the source and the worker', async (t) => {
  let current: SnapshotView | undefined = undefined;
  let details: () => HealthDetails = () => ({});
  const handler = new HttpApi({
    listen: { host: '127.0.0.1', port: 0 },
    store: {
      get current() {
        return current;
      },
    },
    config: () => DEFAULTS,
    version: 'x',
    logger: silentLogger,
    lastError: () => 'ERR_STATE_FETCH: connection refused',
    dataAgeMs: () => 61_500,
    healthDetails: () => details(),
  });
  let r = await handler.handle('GET', '/health');
  t.is(r.status, 200, 'alive before the first load');
  t.deepEqual(JSON.parse(r.body), {
    status: 'ok',
    ready: false,
    zone: null,
    lastError: 'ERR_STATE_FETCH: connection refused',
  });
  current = LOADED;
  details = () => ({
    source: {
      mode: 'stream',
      leader: 'master@10.0.0.11:5050',
      leaderUrl: 'http://10.0.0.11:5050',
      leaderChanges: 1,
      lastFetchAt: '2023-11-14T22:13:20.000Z',
      consecutiveFailures: 4,
      streamConnected: false,
    },
    worker: {
      running: false,
      restarts: 3,
      lastExit: {
        at: '2023-11-14T22:14:00.000Z',
        code: 1,
        reason: 'ERR_WORKER_OUT_OF_MEMORY: Worker terminated due to reaching memory limit',
      },
      nextRestartAt: '2023-11-14T22:14:04.000Z',
    },
  });
  r = await handler.handle('GET', '/health');
  t.is(r.status, 200);
  t.deepEqual(JSON.parse(r.body), {
    status: 'ok',
    ready: true,
    zone: { serial: 77, loadedAt: '2023-11-14T22:13:20.000Z', ageSeconds: 61 },
    lastError: 'ERR_STATE_FETCH: connection refused',
    ...details(),
  });
  details = () => {
    throw new Error('boom');
  };
  r = await handler.handle('GET', '/health');
  t.is(r.status, 200, 'a failing detail is reported, not a failed probe');
  t.like(JSON.parse(r.body), { status: 'ok', detailsError: 'boom' });
});

test('/metrics renders the scrape, of the families ?name[]= names; without a source 404', async (t) => {
  const asked: (readonly string[])[] = [];
  const handler = api({
    metrics: (names) => {
      asked.push(names);
      return Promise.resolve({
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        body: '# TYPE a counter\na 1\n',
      });
    },
  });
  await handler.handle('GET', '/metrics?name[]=a&name%5B%5D=b_total&other=c');
  t.deepEqual(asked, [['a', 'b_total']]);
  const r = await handler.handle('GET', '/metrics');
  t.deepEqual(asked[1], []);
  t.is(r.status, 200);
  t.is(r.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  t.is(parsePrometheusText(r.body).get('a')?.samples[0]?.value, 1);
  t.is((await api().handle('GET', '/metrics')).status, 404);
});

test('over a socket: JSON, HEAD without body, 405 with Allow, 500 on a failing handler', async (t) => {
  const handler = api({
    current: LOADED,
    metrics: () => Promise.reject(new Error('boom')),
  });
  await handler.start();
  t.teardown(() => handler.close());
  const base = `http://127.0.0.1:${String(handler.port)}`;
  const get = await fetch(`${base}/v1/hosts/web.marathon.mesos`);
  t.is(get.headers.get('content-type'), 'application/json');
  t.is(((await get.json()) as unknown[]).length, 3);
  const head = await fetch(`${base}/health`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(await head.text(), '');
  const post = await fetch(`${base}/ready`, { method: 'POST' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
  const failing = await fetch(`${base}/metrics`);
  t.is(failing.status, 500);
  t.is(await failing.text(), '500: Internal Server Error');
});

test('close() ends idle keep-alive connections and resolves', async (t) => {
  const handler = api();
  await handler.start();
  const url = `http://127.0.0.1:${String(handler.port)}/health`;
  const agent = await fetch(url, { headers: { connection: 'keep-alive' } });
  t.is(agent.status, 200);
  await agent.text();
  await handler.close();
  await t.throwsAsync(fetch(url));
});
