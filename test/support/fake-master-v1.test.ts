// Checks of the fake master's v1 operator API (docs/mesos-api.md 3), through a real HTTP
// client with a small RecordIO decoder of its own: the stream client tests and the end-to-end
// stream tests build on these behaviours.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import {
  FakeMaster,
  FakeMasterCluster,
  recoveringState,
  taskPlaces,
  type FakeMasterOptions,
} from '../../support/fake-master.js';
import { waitFor } from '../../support/mesodns.js';
import { readFixture } from '../../support/state-builder.js';
import { toV1State, toV1Task, type V1Task } from '../../support/v1-state.js';

interface Raw {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One raw request (no redirect following), JSON content type unless `headers` say otherwise. */
function call(
  url: string,
  body: string | undefined,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  method = 'POST',
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The value at a path of nested objects/arrays (undefined when absent). */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const key of path) {
    if (Array.isArray(v)) {
      const items: unknown[] = v;
      v = typeof key === 'number' ? items[key] : undefined;
    } else if (typeof v === 'object' && v !== null && typeof key === 'string') {
      v = Object.entries(v).find(([k]) => k === key)?.[1];
    } else {
      return undefined;
    }
  }
  return v;
}

/** The array at a path (empty when absent). */
function arr(value: unknown, ...path: (string | number)[]): unknown[] {
  const v = at(value, ...path);
  if (!Array.isArray(v)) return [];
  const items: unknown[] = v;
  return items;
}

/** Parses a JSON body. */
function json(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return value;
}

/** An open SUBSCRIBE stream, decoded record by record (RecordIO: `<length>\n<bytes>`). */
class Stream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** `data` events seen (to check that split writes arrive split). */
  chunks = 0;
  /** Resolves with how the response ended: cleanly or cut off. */
  readonly ended: Promise<'end' | 'aborted'>;
  readonly #records: string[] = [];
  readonly #waiters: (() => void)[] = [];
  #buffer = Buffer.alloc(0);
  readonly #destroy: () => void;

  constructor(res: IncomingMessage, destroy: () => void) {
    this.status = res.statusCode ?? 0;
    this.headers = res.headers;
    this.#destroy = destroy;
    res.on('data', (chunk: Buffer) => {
      this.chunks++;
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#decode();
    });
    this.ended = new Promise((resolve) => {
      res.on('error', () => undefined);
      res.on('close', () => {
        resolve(res.complete ? 'end' : 'aborted');
      });
    });
  }

  #decode(): void {
    for (;;) {
      const newline = this.#buffer.indexOf(0x0a);
      if (newline < 0) return;
      const header = this.#buffer.subarray(0, newline).toString('ascii');
      // Not a length (the garbage of `afterSnapshot`): left undecoded.
      if (!/^\d+$/.test(header)) return;
      const length = Number(header);
      if (this.#buffer.length < newline + 1 + length) return;
      this.#records.push(this.#buffer.subarray(newline + 1, newline + 1 + length).toString('utf8'));
      this.#buffer = this.#buffer.subarray(newline + 1 + length);
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** The next record's text; rejects after `timeoutMs` without one. */
  async nextText(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = this.#records.shift();
      if (record !== undefined) return record;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no record within ${String(timeoutMs)} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next record as JSON. */
  async next(timeoutMs?: number): Promise<unknown> {
    return json(await this.nextText(timeoutMs));
  }

  /** The next record that is not a HEARTBEAT. */
  async nextEvent(timeoutMs?: number): Promise<unknown> {
    for (;;) {
      const record = await this.next(timeoutMs);
      if (at(record, 'type') !== 'HEARTBEAT') return record;
    }
  }

  /** Records decoded and not read yet. */
  get pending(): number {
    return this.#records.length;
  }

  /** Bytes received that do not complete a record (yet), as latin1 text. */
  get undecoded(): string {
    return this.#buffer.toString('latin1');
  }

  close(): void {
    this.#destroy();
  }
}

/** POSTs SUBSCRIBE and resolves once the response headers arrived. */
function subscribe(t: ExecutionContext, base: string, path = '/api/v1'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const stream = new Stream(res, () => req.destroy());
        t.teardown(() => {
          stream.close();
        });
        resolve(stream);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ type: 'SUBSCRIBE' }));
  });
}

async function master(
  t: ExecutionContext,
  state: unknown = readFixture(),
  options: FakeMasterOptions = {},
): Promise<FakeMaster> {
  const m = new FakeMaster(state, options);
  await m.start();
  t.teardown(() => m.close());
  return m;
}

const SMALL_STATE = {
  version: '1.11.0',
  leader: 'master@1.2.3.4:5050',
  slaves: [{ id: 'S0', hostname: 'a0', pid: 'slave(1)@10.0.0.1:5051' }],
  frameworks: [{ id: 'F0', name: 'marathon', hostname: 'm1', tasks: [] }],
};

function small(): unknown {
  return structuredClone(SMALL_STATE);
}

test('toV1State converts fake.json: every task, agent and framework with v1 IDs and resources', (t) => {
  const v0 = readFixture();
  const v1 = toV1State(v0);
  const frameworks = arr(v0, 'frameworks').map((f) => ({
    id: at(f, 'id'),
    name: at(f, 'name'),
    hostname: at(f, 'hostname'),
    tasks: arr(f, 'tasks').map((x) => at(x, 'id')),
    completed: arr(f, 'completed_tasks').map((x) => at(x, 'id')),
  }));
  const v0Ids = frameworks.flatMap((f) => [...f.tasks, ...f.completed]).sort();
  const all = [...v1.get_tasks.tasks, ...v1.get_tasks.completed_tasks];
  t.deepEqual(all.map((x) => x.task_id.value).sort(), v0Ids);
  t.is(v1.get_tasks.unreachable_tasks.length, 0);
  // The TASK_KILLED task of frameworks[].tasks is listed as completed.
  t.true(
    v1.get_tasks.completed_tasks.some((x) => x.task_id.value.startsWith('poseidon.')),
    'killed task in completed_tasks',
  );
  t.true(v1.get_tasks.tasks.every((x) => x.state === 'TASK_RUNNING'));

  t.deepEqual(
    v1.get_frameworks.frameworks.map((f) => [
      f.framework_info.id.value,
      f.framework_info.name,
      f.framework_info.hostname,
    ]),
    frameworks.map((f) => [f.id, f.name, f.hostname]),
  );
  for (const f of v1.get_frameworks.frameworks) {
    t.false('pid' in f.framework_info, 'a v1 framework has no pid');
    t.true(f.active);
    t.is(typeof f.registered_time?.nanoseconds, 'number');
    t.is(f.unregistered_time, undefined, 'unregistered_time 0 is "never"');
  }

  const agents = arr(v0, 'slaves');
  t.deepEqual(
    v1.get_agents.agents.map((a) => [a.agent_info.id.value, a.agent_info.hostname, a.pid]),
    agents.map((a) => [at(a, 'id'), at(a, 'hostname'), at(a, 'pid')]),
  );
  const first = v1.get_agents.agents[0];
  t.like(first, {
    active: true,
    agent_info: {
      port: 5051,
      attributes: [{ name: 'host', type: 'TEXT', text: { value: 'dev-123-1d.c.mesos.internal' } }],
    },
    registered_time: { nanoseconds: Math.round(1415029403.65675e9) },
  });
  t.deepEqual(
    first?.agent_info.resources.find((r) => r.name === 'ports'),
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } },
  );
  t.is(v1.get_agents.agents[3]?.agent_info.port, 5051, 'port from an IPv6 pid');

  const byName = (name: string): V1Task | undefined =>
    v1.get_tasks.tasks.find((x) => x.name === name);
  const toy = byName('toy-store');
  const v0Toy = at(v0, 'frameworks', 0, 'tasks', 0);
  t.like(toy, {
    framework_id: { value: at(v0Toy, 'framework_id') },
    agent_id: { value: at(v0Toy, 'slave_id') },
    state: 'TASK_RUNNING',
    status_update_state: 'TASK_RUNNING',
  });
  t.is(toy?.executor_id, undefined, 'executor_id "" of a command task is left out');
  t.deepEqual(toy?.resources, [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role: '*' } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 1024 }, allocation_info: { role: '*' } },
    {
      name: 'ports',
      type: 'RANGES',
      ranges: {
        range: [
          { begin: 31354, end: 31354 },
          { begin: 31355, end: 31355 },
        ],
      },
      allocation_info: { role: '*' },
    },
  ]);
  t.like(toy?.statuses[0], {
    task_id: toy?.task_id,
    agent_id: toy?.agent_id,
    state: 'TASK_RUNNING',
    timestamp: 1507139816.34576,
  });
  t.deepEqual(
    toy?.statuses[0]?.container_status?.['network_infos'],
    at(v0Toy, 'statuses', 0, 'container_status', 'network_infos'),
  );

  const liquor = byName('liquor.store');
  t.deepEqual(liquor?.statuses[0]?.labels, {
    labels: [
      { key: 'foo', value: 'bar' },
      { key: 'Docker.NetworkSettings.IPAddress', value: '10.3.0.4' },
    ],
  });
  t.like(liquor?.discovery, {
    name: 'liquor.store',
    ports: { ports: [{ number: 80, protocol: 'tcp', name: 'http' }] },
    labels: { labels: [{ key: 'dc', value: 'de1' }] },
  });
  t.false(
    byName('nginx')?.resources.some((r) => r.name === 'ports'),
    'empty ranges are no resource',
  );
});

test('toV1State: labels, docker network, staging, unreachable, recovered and completed entries', (t) => {
  const running = {
    id: 'web.1',
    name: 'web',
    framework_id: 'F0',
    executor_id: 'E1',
    slave_id: 'S0',
    state: 'TASK_RUNNING',
    resources: { cpus: 0.5, disk: 0, gpus: 0, mem: 256, ports: '[31001-31001]', zones: '{a, b}' },
    role: 'web',
    labels: [{ key: 'HAPROXY_GROUP', value: 'internal' }],
    statuses: [
      {
        state: 'TASK_RUNNING',
        timestamp: 17.5,
        healthy: true,
        container_status: {
          container_id: { value: 'c1' },
          network_infos: [
            {
              name: 'dcos6',
              labels: [{ key: 'k', value: 'v' }],
              ip_addresses: [{ protocol: 'IPv6', ip_address: 'fd01:b::2:8000:0:2/64' }],
            },
          ],
        },
      },
    ],
    discovery: { visibility: 'FRAMEWORK', name: 'web', ports: { ports: [{ number: 31001 }] } },
    container: { type: 'DOCKER', docker: { image: 'nginx', network: 'BRIDGE' } },
  };
  const doc = {
    slaves: [{ id: 'S0', hostname: 'a0', port: 5052, pid: 'slave(1)@10.0.0.1:5052' }],
    recovered_slaves: [{ id: 'S9', hostname: 'gone', port: 5051 }],
    frameworks: [
      {
        id: 'F0',
        name: 'marathon',
        pid: 'scheduler@10.0.0.2:1',
        hostname: 'm1',
        capabilities: ['PARTITION_AWARE'],
        tasks: [
          running,
          { id: 'w.1', name: 'w', slave_id: 'S0', state: 'TASK_STAGING', statuses: [] },
          { id: 'u.1', name: 'u', slave_id: 'S0', state: 'TASK_UNREACHABLE', statuses: [] },
          'not a task',
          { name: 'no id' },
        ],
        unreachable_tasks: [{ id: 'u.2', name: 'u', slave_id: 'S0', state: 'TASK_UNREACHABLE' }],
        executors: [{ executor_id: 'E1', name: 'ex', slave_id: 'S0', resources: { cpus: 0.1 } }],
      },
    ],
    completed_frameworks: [
      { id: 'F1', name: 'old', active: false, tasks: [], completed_tasks: [{ id: 'c.1' }] },
    ],
  };
  const v1 = toV1State(doc);
  t.deepEqual(
    v1.get_tasks.tasks.map((x) => x.task_id.value),
    ['web.1', 'w.1'],
  );
  t.deepEqual(
    v1.get_tasks.unreachable_tasks.map((x) => x.task_id.value),
    ['u.1', 'u.2'],
  );
  t.deepEqual(
    v1.get_tasks.completed_tasks.map((x) => x.task_id.value),
    ['c.1'],
  );
  const web = v1.get_tasks.tasks[0];
  t.like(web, {
    executor_id: { value: 'E1' },
    labels: { labels: [{ key: 'HAPROXY_GROUP', value: 'internal' }] },
    discovery: { ports: { ports: [{ number: 31001 }] } },
    container: { type: 'DOCKER', docker: { network: 'BRIDGE' } },
    statuses: [{ healthy: true, timestamp: 17.5, source: 'SOURCE_EXECUTOR' }],
  });
  t.deepEqual(
    web?.resources.map((r) => [r.name, r.type, r.allocation_info?.role]),
    [
      ['cpus', 'SCALAR', 'web'],
      ['mem', 'SCALAR', 'web'],
      ['ports', 'RANGES', 'web'],
      ['zones', 'SET', 'web'],
    ],
  );
  t.deepEqual(web?.resources[3]?.set, { item: ['a', 'b'] });
  t.deepEqual(web?.statuses[0]?.container_status, {
    container_id: { value: 'c1' },
    network_infos: [
      {
        name: 'dcos6',
        labels: { labels: [{ key: 'k', value: 'v' }] },
        ip_addresses: [{ protocol: 'IPv6', ip_address: 'fd01:b::2:8000:0:2/64' }],
      },
    ],
  });
  const staging = v1.get_tasks.tasks[1];
  t.deepEqual(staging?.statuses, []);
  t.is(staging?.status_update_state, undefined);
  t.is(staging?.framework_id.value, 'F0', 'framework id from the enclosing framework');
  t.like(v1.get_frameworks.frameworks[0], {
    framework_info: { id: { value: 'F0' }, capabilities: [{ type: 'PARTITION_AWARE' }] },
    active: true,
    connected: true,
    recovered: false,
  });
  t.like(v1.get_frameworks.completed_frameworks[0], { active: false });
  t.like(v1.get_agents.agents[0], { agent_info: { port: 5052 } });
  t.like(v1.get_agents.recovered_agents[0], { id: { value: 'S9' }, hostname: 'gone' });
  t.like(v1.get_executors.executors[0], {
    executor_info: { executor_id: { value: 'E1' }, framework_id: { value: 'F0' }, name: 'ex' },
    agent_id: { value: 'S0' },
  });
  t.deepEqual(toV1State('not json'), toV1State(undefined));
  t.deepEqual(toV1State(JSON.stringify(doc)), v1);
  t.throws(() => toV1Task({ name: 'x' }), { instanceOf: TypeError });
});

test('GET_STATE serves the converted document on /api/v1 and /master/api/v1; GET_MASTER', async (t) => {
  const fixture = readFixture();
  const m = await master(t, fixture);
  for (const path of ['/api/v1', '/master/api/v1']) {
    const r = await call(`${m.url}${path}`, '{"type":"GET_STATE"}');
    t.is(r.status, 200);
    t.is(r.headers['content-type'], 'application/json');
    t.deepEqual(json(r.body), { type: 'GET_STATE', get_state: toV1State(fixture) });
  }
  const gz = await call(`${m.url}/api/v1`, '{"type":"GET_STATE"}', {
    'content-type': 'application/json',
    'accept-encoding': 'gzip',
  });
  t.is(gz.headers['content-encoding'], 'gzip');
  const info = await call(`${m.url}/api/v1`, '{"type":"GET_MASTER"}');
  t.like(json(info.body), {
    type: 'GET_MASTER',
    get_master: {
      master_info: {
        id: m.id,
        ip: 16777343,
        port: m.port,
        pid: `master@127.0.0.1:${String(m.port)}`,
        hostname: '127.0.0.1',
        address: { hostname: '127.0.0.1', ip: '127.0.0.1', port: m.port },
      },
    },
  });
  t.deepEqual(
    m.requestLog.map((r) => r.callType),
    ['GET_STATE', 'GET_STATE', 'GET_STATE', 'GET_MASTER'],
  );
});

test('v1 request checks: 405, 400, 415, 406, bad bodies; v1:false and enableV1 give 404', async (t) => {
  const m = await master(t, small());
  const url = `${m.url}/api/v1`;
  const get = await call(url, undefined, {}, 'GET');
  t.is(get.status, 405);
  t.is(get.headers.allow, 'POST');
  t.is((await call(url, '{"type":"GET_STATE"}', {})).status, 400);
  for (const type of ['text/plain', 'application/json; charset=utf-8', 'application/x-protobuf']) {
    t.is((await call(url, '{"type":"GET_STATE"}', { 'content-type': type })).status, 415, type);
  }
  const html = { 'content-type': 'application/json', accept: 'text/html' };
  t.is((await call(url, '{"type":"GET_STATE"}', html)).status, 406);
  const any = { 'content-type': 'application/json', accept: 'text/html, */*;q=0.1' };
  t.is((await call(url, '{"type":"GET_STATE"}', any)).status, 200);
  t.is((await call(url, '{"type":')).status, 400);
  t.is((await call(url, '{"kind":"GET_STATE"}')).status, 400);
  t.is((await call(url, '{"type":"GET_FLAGS"}')).status, 400);

  m.enableV1(false);
  t.is((await call(url, '{"type":"GET_STATE"}')).status, 404);
  t.is((await call(`${m.url}/master/api/v1`, '{"type":"SUBSCRIBE"}')).status, 404);
  t.is((await call(`${m.url}/master/state`, undefined, {}, 'GET')).status, 200);
  m.enableV1();
  t.is((await call(url, '{"type":"GET_STATE"}')).status, 200);

  const old = await master(t, small(), { v1: false });
  t.is((await call(`${old.url}/api/v1`, '{"type":"SUBSCRIBE"}')).status, 404);
  t.is(old.subscribers, 0);
});

test('failure modes apply to v1: fail, hang, malformed and truncated SUBSCRIBE', async (t) => {
  const m = await master(t, small());
  m.fail(500);
  t.is((await call(`${m.url}/api/v1`, '{"type":"SUBSCRIBE"}')).status, 500);
  m.reset();
  m.hang();
  await t.throwsAsync(
    fetch(`${m.url}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"GET_STATE"}',
      signal: AbortSignal.timeout(200),
    }),
    { any: true },
  );
  m.reset();
  m.malformed();
  const bad = await subscribe(t, m.url);
  t.is(bad.status, 200);
  const text = await bad.nextText();
  t.true(text.startsWith('{"type":"SUBSCRIBED"'));
  t.throws(() => json(text));
  m.reset();
  m.truncated();
  const cut = await subscribe(t, m.url);
  t.is(await cut.ended, 'aborted');
  t.is(cut.pending, 0, 'half a record decodes to nothing');
});

test('followers answer v1 calls with 307 to //leader/master/api/v1; no leader: 503', async (t) => {
  const c = new FakeMasterCluster({ state: small(), heartbeatSeconds: 0.2 });
  await c.start();
  t.teardown(() => c.close());
  for (const path of ['/api/v1', '/master/api/v1']) {
    const r = await call(`${c.master(2).url}${path}`, '{"type":"SUBSCRIBE"}');
    t.is(r.status, 307);
    t.is(r.headers.location, `//127.0.0.1:${String(c.master(0).port)}/master/api/v1`);
  }
  t.is(c.subscribers, 0);
  c.noLeader();
  const none = await call(`${c.master(0).url}/api/v1`, '{"type":"GET_STATE"}');
  t.is(none.status, 503);
  t.is(none.body, 'No leader elected');
  t.deepEqual(
    c.requestsOf().map((r) => [r.master, r.request.callType, r.request.status]),
    [
      [2, 'SUBSCRIBE', 307],
      [2, 'SUBSCRIBE', 307],
      [0, 'GET_STATE', 503],
    ],
  );
});

test('SUBSCRIBE: chunked application/json, SUBSCRIBED with the state, then HEARTBEATs', async (t) => {
  const fixture = readFixture();
  const m = await master(t, fixture, { heartbeatSeconds: 0.2 });
  const opened = Date.now();
  const s = await subscribe(t, m.url, '/master/api/v1');
  t.is(s.status, 200);
  t.is(s.headers['content-type'], 'application/json');
  t.is(s.headers['transfer-encoding'], 'chunked');
  t.is(s.headers['content-length'], undefined);
  t.deepEqual(await s.next(), {
    type: 'SUBSCRIBED',
    subscribed: { get_state: toV1State(fixture), heartbeat_interval_seconds: 0.2 },
  });
  for (let i = 0; i < 3; i++) t.deepEqual(await s.next(), { type: 'HEARTBEAT' });
  // A lower bound only: the third heartbeat cannot come before three intervals.
  t.true(Date.now() - opened >= 550, 'three heartbeats take three intervals');
  t.is(m.subscribers, 1);
  t.is(m.requestLog[0]?.callType, 'SUBSCRIBE');
  t.is(m.requestLog[0]?.status, 200);
  s.close();
  await waitFor(() => m.subscribers === 0, 2000, 'subscriber gone');
});

test('launchTask and killTask: TASK_ADDED, TASK_UPDATED in order; v0 and v1 views agree', async (t) => {
  const m = await master(t, small());
  const s = await subscribe(t, m.url);
  t.is(at(await s.next(), 'type'), 'SUBSCRIBED');
  const before = Date.now() / 1000;
  const id = m.launchTask({ name: 'web', ip: '10.9.0.1', ports: [31000] });
  const added = await s.next();
  t.like(added, {
    type: 'TASK_ADDED',
    task_added: {
      task: {
        name: 'web',
        task_id: { value: id },
        framework_id: { value: 'F0' },
        agent_id: { value: 'S0' },
        state: 'TASK_STAGING',
      },
    },
  });
  t.deepEqual(at(added, 'task_added', 'task', 'statuses'), []);
  const running = await s.next();
  t.like(running, {
    type: 'TASK_UPDATED',
    task_updated: {
      framework_id: { value: 'F0' },
      state: 'TASK_RUNNING',
      status: {
        task_id: { value: id },
        agent_id: { value: 'S0' },
        state: 'TASK_RUNNING',
        container_status: {
          network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '10.9.0.1' }] }],
        },
      },
    },
  });
  const timestamp = at(running, 'task_updated', 'status', 'timestamp');
  t.true(typeof timestamp === 'number' && timestamp >= before - 1 && timestamp <= before + 60);

  const v0 = json((await call(`${m.url}/master/state`, undefined, {}, 'GET')).body);
  t.like(at(v0, 'frameworks', 0, 'tasks', 0), {
    id,
    state: 'TASK_RUNNING',
    resources: { ports: '[31000-31000]' },
  });

  t.true(m.killTask(id));
  t.false(m.killTask('nope'));
  t.like(await s.next(), {
    type: 'TASK_UPDATED',
    task_updated: { state: 'TASK_KILLED', status: { state: 'TASK_KILLED' } },
  });
  const after = json((await call(`${m.url}/api/v1`, '{"type":"GET_STATE"}')).body);
  t.deepEqual(at(after, 'get_state', 'get_tasks', 'tasks'), []);
  t.is(at(after, 'get_state', 'get_tasks', 'completed_tasks', 0, 'task_id', 'value'), id);
  const v0After = json((await call(`${m.url}/master/state`, undefined, {}, 'GET')).body);
  t.is(at(v0After, 'frameworks', 0, 'tasks', 0, 'state'), 'TASK_KILLED', 'v0 keeps it listed');
  t.is(s.pending, 0);
});

test('launchTaskAt and updateTaskAt send what launchTask and killTask send; taskPlaces', async (t) => {
  const state = small();
  const m = await master(t, state);
  const s = await subscribe(t, m.url);
  t.is(at(await s.next(), 'type'), 'SUBSCRIBED');
  /** An event without its timestamps and ids, which differ between two launches. */
  const shape = async (): Promise<unknown> =>
    JSON.parse(
      JSON.stringify(await s.next()).replace(/"(timestamp|value)":("[^"]*"|[\d.]+)/g, '"$1":0'),
    );
  const task = { name: 'web', ip: '10.9.0.1', ports: [31000] };
  const id = m.launchTask(task);
  const byId = [await shape(), await shape()];
  const place = m.launchTaskAt(task);
  t.deepEqual([await shape(), await shape()], byId);
  t.is(at(state, 'frameworks', 0, 'tasks', 1), place.task, 'the place is the document entry');
  t.is(at(state, 'frameworks', 0), place.framework);
  t.deepEqual([...taskPlaces(state).keys()], [id, place.task['id']]);
  t.is(at(state, 'frameworks', 0, 'tasks', 0), taskPlaces(state).get(id)?.task);

  t.true(m.killTask(id));
  const killed = await shape();
  m.updateTaskAt(place, 'TASK_KILLED', { ip: null });
  t.deepEqual(await shape(), killed);
  t.is(place.task['state'], 'TASK_KILLED');
  t.is(s.pending, 0);
});

test('updateTask, agents and frameworks emit their events; addTask emits TASK_ADDED', async (t) => {
  const m = await master(t, small());
  const s = await subscribe(t, m.url);
  await s.next();
  const id = m.addTask({ name: 'db', ip: '10.9.0.2' });
  t.like(await s.next(), {
    type: 'TASK_ADDED',
    task_added: { task: { state: 'TASK_RUNNING', statuses: [{ state: 'TASK_RUNNING' }] } },
  });
  t.true(m.updateTask(id, 'TASK_KILLING', { statusState: 'TASK_RUNNING', healthy: false }));
  t.like(await s.next(), {
    type: 'TASK_UPDATED',
    task_updated: {
      state: 'TASK_KILLING',
      status: {
        state: 'TASK_RUNNING',
        healthy: false,
        // The agent repeats the container status on every update of a live container.
        container_status: { network_infos: [{ ip_addresses: [{ ip_address: '10.9.0.2' }] }] },
      },
    },
  });

  const agent = m.addAgent({ id: 'S1', ip: '10.0.0.7', hostname: 'a1' });
  t.is(agent, 'S1');
  t.like(await s.next(), {
    type: 'AGENT_ADDED',
    agent_added: {
      agent: {
        agent_info: { id: { value: 'S1' }, hostname: 'a1', port: 5051 },
        pid: 'slave(1)@10.0.0.7:5051',
        active: true,
      },
    },
  });
  const onS1 = m.addTask({ name: 'cache', agentId: 'S1' });
  await s.next();
  t.true(m.removeAgent('S1'));
  t.false(m.removeAgent('S1'));
  t.like(await s.next(), {
    type: 'TASK_UPDATED',
    task_updated: { state: 'TASK_LOST', status: { task_id: { value: onS1 } } },
  });
  t.like(await s.next(), { type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: 'S1' } } });

  const fw = m.addFramework({ name: 'chronos', webuiUrl: 'http://c' });
  const added = await s.next();
  t.like(added, {
    type: 'FRAMEWORK_ADDED',
    framework_added: {
      framework: {
        framework_info: { id: { value: fw }, name: 'chronos', hostname: '127.0.0.1' },
        active: true,
        connected: true,
        recovered: false,
      },
    },
  });
  t.is(at(added, 'framework_added', 'framework', 'framework_info', 'pid'), undefined);
  t.true(m.updateFramework('chronos', { connected: false }));
  t.like(await s.next(), {
    type: 'FRAMEWORK_UPDATED',
    framework_updated: { framework: { framework_info: { id: { value: fw } }, connected: false } },
  });
  const job = m.addTask({ name: 'job', framework: 'chronos' });
  await s.next();
  t.true(m.removeFramework(fw));
  t.false(m.removeFramework(fw));
  t.like(await s.next(), {
    type: 'TASK_UPDATED',
    task_updated: { state: 'TASK_KILLED', status: { task_id: { value: job } } },
  });
  t.like(await s.next(), {
    type: 'FRAMEWORK_REMOVED',
    framework_removed: { framework_info: { id: { value: fw }, name: 'chronos' } },
  });
  const v1 = toV1State(m.state);
  t.deepEqual(
    v1.get_frameworks.completed_frameworks.map((f) => f.framework_info.name),
    ['chronos'],
  );
  t.deepEqual(
    v1.get_agents.agents.map((a) => a.agent_info.id.value),
    ['S0'],
  );
  t.is(s.pending, 0);
});

test('chunkBytes splits records at arbitrary boundaries; the decoder reassembles them', async (t) => {
  const m = await master(t, small(), { chunkBytes: 7 });
  const s = await subscribe(t, m.url);
  t.is(at(await s.next(), 'type'), 'SUBSCRIBED');
  // Multi-byte UTF-8: the length prefix counts bytes, and pieces split inside characters.
  const payload = { type: 'UNKNOWN_EVENT', note: 'wéb→€ 🐳 '.repeat(5) };
  m.emitRaw(payload);
  const id = m.launchTask({ name: 'web', ip: '10.9.0.3' });
  t.deepEqual(await s.next(), payload);
  t.like(await s.next(), { type: 'TASK_ADDED', task_added: { task: { task_id: { value: id } } } });
  t.like(await s.next(), { type: 'TASK_UPDATED', task_updated: { state: 'TASK_RUNNING' } });
  t.true(s.chunks > 20, `records arrived in ${String(s.chunks)} pieces`);
});

test('emitRaw sends malformed records and raw bytes; dropStreams ends responses', async (t) => {
  const m = await master(t, small());
  const s = await subscribe(t, m.url);
  await s.next();
  m.emitRaw('{"type":"TASK_ADDED",');
  t.is(await s.nextText(), '{"type":"TASK_ADDED",');
  m.emitRaw('2\n{}', 'none');
  t.deepEqual(await s.next(), {});
  const other = await subscribe(t, m.url);
  await other.next();
  t.is(m.subscribers, 2);
  m.dropStreams();
  t.is(m.subscribers, 0);
  t.is(await s.ended, 'aborted');
  t.is(await other.ended, 'aborted');

  const clean = await subscribe(t, m.url);
  await clean.next();
  m.emitRaw({ type: 'HEARTBEAT' });
  m.dropStreams(true);
  t.is(await clean.ended, 'end');
  t.deepEqual(await clean.next(), { type: 'HEARTBEAT' });
});

test('stallStreams holds heartbeats and events on open streams only; resuming flushes', async (t) => {
  const m = await master(t, small(), { heartbeatSeconds: 0.1 });
  const s = await subscribe(t, m.url);
  await s.next();
  t.deepEqual(await s.next(), { type: 'HEARTBEAT' });
  m.stallStreams();
  const id = m.launchTask({ name: 'web' });
  const fresh = await subscribe(t, m.url);
  const snapshot = await fresh.next();
  t.is(at(snapshot, 'subscribed', 'get_state', 'get_tasks', 'tasks', 0, 'task_id', 'value'), id);
  t.deepEqual(await fresh.next(), { type: 'HEARTBEAT' }, 'a new stream is not stalled');
  // Whatever was decoded before the stall (at most one heartbeat in flight), then nothing.
  while (s.pending > 0) t.deepEqual(await s.next(), { type: 'HEARTBEAT' });
  await t.throwsAsync(s.nextText(400), { message: /no record/ });
  m.stallStreams(false);
  t.like(await s.next(), { type: 'TASK_ADDED' });
  t.like(await s.next(), { type: 'TASK_UPDATED' });
  t.deepEqual(await s.next(), { type: 'HEARTBEAT' });
});

test('failover drops the old leader streams; the new one serves a partial state, then agents return', async (t) => {
  const fixture = readFixture();
  const c = new FakeMasterCluster({ state: structuredClone(fixture) });
  await c.start();
  t.teardown(() => c.close());
  const old = await subscribe(t, c.master(0).url);
  await old.next();
  t.is(c.subscribers, 1);

  c.failover(1, recoveringState(fixture));
  t.is(await old.ended, 'aborted');
  t.is(c.subscribers, 0);
  const s = await subscribe(t, c.master(1).url);
  const snapshot = await s.next();
  t.deepEqual(at(snapshot, 'subscribed', 'get_state', 'get_tasks', 'tasks'), []);
  t.deepEqual(at(snapshot, 'subscribed', 'get_state', 'get_agents', 'agents'), []);
  const recovered = at(snapshot, 'subscribed', 'get_state', 'get_agents', 'recovered_agents');
  t.is(arr(recovered).length, 4);

  // The agent holding marathon's tasks re-registers: AGENT_ADDED, then TASK_ADDED per task.
  const agentId = '20140803-125133-3041283216-5050-2410-0';
  t.true(c.reregisterAgent(agentId, fixture));
  t.like(await s.next(), {
    type: 'AGENT_ADDED',
    agent_added: { agent: { agent_info: { id: { value: agentId } } } },
  });
  // Every task of frameworks[].tasks on that agent, in order (terminal ones too: unacknowledged).
  const onAgent = arr(fixture, 'frameworks')
    .flatMap((f) => arr(f, 'tasks'))
    .filter((x) => at(x, 'slave_id') === agentId)
    .map((x) => at(x, 'id'));
  t.true(onAgent.length >= 3);
  const added: unknown[] = [];
  while (added.length < onAgent.length) {
    added.push(at(await s.next(), 'task_added', 'task', 'task_id', 'value'));
  }
  t.deepEqual(added, onAgent);
  t.false(c.reregisterAgent('nope', fixture));

  const id = c.launchTask({ name: 'after', framework: 'marathon', ip: '10.9.0.9' });
  t.like(await s.next(), { type: 'TASK_ADDED', task_added: { task: { task_id: { value: id } } } });
  t.like(await s.next(), { type: 'TASK_UPDATED', task_updated: { state: 'TASK_RUNNING' } });
  const v0 = json((await call(`${c.master(1).url}/master/state`, undefined, {}, 'GET')).body);
  t.is(at(v0, 'slaves', 0, 'id'), agentId, 'pollers see the same re-registration');
  t.is(
    (await call(`${c.master(0).url}/api/v1`, '{"type":"SUBSCRIBE"}')).headers.location,
    `//127.0.0.1:${String(c.master(1).port)}/master/api/v1`,
  );
});

test('cluster mutations without a leader change the shared document silently', async (t) => {
  const c = new FakeMasterCluster({ state: small(), leader: null });
  await c.start();
  t.teardown(() => c.close());
  const id = c.launchTask({ name: 'web' });
  t.is(at(c.state, 'frameworks', 0, 'tasks', 0, 'state'), 'TASK_RUNNING');
  t.true(c.killTask(id));
  t.is(c.addAgent({ id: 'S5' }), 'S5');
  t.true(c.removeAgent('S5', null));
  c.failover(0);
  const s = await subscribe(t, c.master(0).url);
  const tasks = at(await s.next(), 'subscribed', 'get_state', 'get_tasks');
  t.deepEqual(arr(tasks, 'tasks'), []);
  t.deepEqual(
    arr(tasks, 'completed_tasks').map((x) => [at(x, 'task_id', 'value'), at(x, 'state')]),
    [[id, 'TASK_KILLED']],
  );
});

test('afterSnapshot trickle: the snapshot, then one byte at a time of a record that never ends', async (t) => {
  const m = await master(t, small(), { heartbeatSeconds: 0.05 });
  m.afterSnapshot({ kind: 'trickle', everyMs: 20 });
  const s = await subscribe(t, m.url);
  t.is(at(await s.next(), 'type'), 'SUBSCRIBED');
  const chunks = s.chunks;
  await waitFor(() => s.undecoded.length >= 12, 5000, 'a dozen trickled bytes');
  t.true(s.undecoded.startsWith('1000000\n'), s.undecoded);
  t.true(s.chunks - chunks >= 2, 'the bytes come in separate writes');
  t.is(s.pending, 0, 'no heartbeat, no record');
  const entry = m.requestLog.find((r) => r.callType === 'SUBSCRIBE');
  t.is(entry?.endedAt, undefined);
  s.close();
  await waitFor(() => entry?.endedAt !== undefined, 5000, 'endedAt set on close');
  // Streams opened after `afterSnapshot(undefined)` are served normally again.
  m.afterSnapshot(undefined);
  const normal = await subscribe(t, m.url);
  await normal.next();
  t.deepEqual(await normal.next(), { type: 'HEARTBEAT' });
});

test('afterSnapshot garbage: bytes that are not RecordIO once the client asked GET_MASTER', async (t) => {
  const m = await master(t, small(), { heartbeatSeconds: 0.05 });
  m.afterSnapshot({ kind: 'garbage' });
  const s = await subscribe(t, m.url);
  t.is(at(await s.next(), 'type'), 'SUBSCRIBED');
  t.is(s.undecoded, '', 'nothing before GET_MASTER');
  t.is((await call(`${m.url}/api/v1`, JSON.stringify({ type: 'GET_MASTER' }))).status, 200);
  await waitFor(() => s.undecoded !== '', 5000, 'the garbage');
  t.regex(s.undecoded, /^garbage/);
  t.is(s.pending, 0, 'no heartbeat');
});
