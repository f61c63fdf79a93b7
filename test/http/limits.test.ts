/**
 * What one HTTP client may take from the thread that also answers DNS (src/http/api.ts): a large
 * body is rendered only as fast as the client reads it, a bounded number of them at once (in all
 * and per client address), connections are capped, and a client that reads nothing is cut.
 * Real sockets on loopback against an in-process `HttpApi`.
 */
import { connect, type Socket } from 'node:net';
import test from 'ava';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { HttpApi } from '../../src/http/index.js';
import type { HttpApiOptions, HttpRefusal } from '../../src/http/index.js';
import { silentLogger } from '../../src/log.js';
import type { EnumeratedTask, LazyFramework, RecordSet } from '../../src/records/index.js';
import { waitFor } from '../../support/mesodns.js';

/** About 38 MB of /v1/enumerate: several times what the loopback socket buffers hold. */
const TASKS = 20_000;

const CONFIG = DEFAULT_CONFIG;

/**
 * A record set whose enumeration is `tasks` tasks of about 1 KB each, made as they are read;
 * `pulled()` counts the tasks read so far.
 */
function bigRecords(tasks: number): { records: RecordSet; pulled: () => number } {
  let pulled = 0;
  const padding = 'x'.repeat(900);
  function* taskList(): Generator<EnumeratedTask> {
    for (let i = 0; i < tasks; i++) {
      pulled++;
      const name = `task-${String(i)}-${padding}`;
      yield { name, id: `${name}.id`, records: [] };
    }
  }
  const records: RecordSet = {
    zone: 'mesos.',
    a: new Map(),
    aaaa: new Map(),
    srv: new Map(),
    enumeration: [],
    lazyEnumeration: (): Iterable<LazyFramework> => [{ name: 'marathon', tasks: taskList() }],
    stats: { frameworks: 1, agents: 0, tasks, skippedTasks: 0, skippedNames: 0, records: 0 },
  };
  return { records, pulled: () => pulled };
}

interface Started {
  readonly api: HttpApi;
  readonly refused: HttpRefusal[];
  readonly pulled: () => number;
}

async function start(
  t: { teardown: (fn: () => Promise<void>) => void },
  options: Partial<HttpApiOptions> = {},
  tasks = TASKS,
): Promise<Started> {
  const { records, pulled } = bigRecords(tasks);
  const refused: HttpRefusal[] = [];
  const api = new HttpApi({
    listen: { host: '127.0.0.1', port: 0 },
    store: { current: { records, zone: { serial: 1 }, loadedAt: 0 } },
    config: () => CONFIG,
    version: 'x',
    logger: silentLogger,
    onRefused: (reason) => refused.push(reason),
    ...options,
  });
  await api.start();
  t.teardown(() => api.close(0));
  return { api, refused, pulled };
}

/** A raw client: sends `GET path`, reads nothing unless asked; `text()` is what arrived. */
interface RawClient {
  readonly socket: Socket;
  readonly text: () => string;
  readonly closed: Promise<void>;
}

async function rawGet(port: number, path: string, localAddress = '127.0.0.1'): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  let received = '';
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      resolve();
    }),
  );
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  // Read the status line and headers, then stop reading: the body piles up in the buffers.
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        socket.off('data', onData);
        socket.pause();
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => {
      resolve();
    });
  });
  return { socket, text: () => received, closed };
}

const statusOf = (client: RawClient): string => client.text().split('\r\n')[0] ?? '';

/** Whether a new connection gets `GET /health` answered (false when it is closed first). */
async function healthAnswered(port: number): Promise<boolean> {
  const client = await rawGet(port, '/health').catch(() => undefined);
  if (client === undefined) return false;
  client.socket.destroy();
  return statusOf(client) === 'HTTP/1.1 200 OK';
}

test('a client that does not read gets only what the buffers hold rendered', async (t) => {
  const { api, pulled } = await start(t);
  const client = await rawGet(api.port, '/v1/enumerate');
  t.teardown(() => client.socket.destroy());
  t.is(statusOf(client), 'HTTP/1.1 200 OK');
  t.regex(client.text(), /transfer-encoding: chunked/i);
  // The socket buffers fill (a few MB on loopback) and rendering stops there.
  let last = -1;
  await waitFor(
    async () => {
      const now = pulled();
      const isStill = now === last;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return isStill && now > 0;
    },
    10_000,
    'rendering stopped',
  );
  t.true(
    pulled() < TASKS / 2,
    `${String(pulled())} of ${String(TASKS)} tasks rendered for a client that reads nothing`,
  );
  // Reading resumes it, to the end of the body.
  let tail = '';
  client.socket.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('latin1')).slice(-64);
  });
  client.socket.resume();
  await waitFor(() => tail.endsWith('0\r\n\r\n'), 30_000, 'the whole body');
  t.is(pulled(), TASKS);
});

test('large responses at once: two per client address, four in all; more get 503', async (t) => {
  const { api, refused } = await start(t);
  const clients: RawClient[] = [];
  t.teardown(() => {
    for (const c of clients) c.socket.destroy();
  });
  const enumerate = async (from: string): Promise<RawClient> => {
    const c = await rawGet(api.port, '/v1/enumerate', from);
    clients.push(c);
    return c;
  };
  t.is(statusOf(await enumerate('127.0.0.1')), 'HTTP/1.1 200 OK');
  t.is(statusOf(await enumerate('127.0.0.1')), 'HTTP/1.1 200 OK');
  const third = await enumerate('127.0.0.1');
  t.is(statusOf(third), 'HTTP/1.1 503 Service Unavailable');
  t.regex(third.text(), /retry-after: 1/i);
  t.is(statusOf(await enumerate('127.0.0.2')), 'HTTP/1.1 200 OK');
  t.is(statusOf(await enumerate('127.0.0.3')), 'HTTP/1.1 200 OK');
  t.is(statusOf(await enumerate('127.0.0.4')), 'HTTP/1.1 503 Service Unavailable');
  t.deepEqual(refused, ['busy', 'busy']);
  // Small answers are not limited.
  const health = await fetch(`http://127.0.0.1:${String(api.port)}/health`);
  t.is(health.status, 200);
  // A client that goes away gives its share back.
  clients[1]?.socket.destroy();
  await waitFor(
    async () => statusOf(await enumerate('127.0.0.1')) === 'HTTP/1.1 200 OK',
    5000,
    'a share given back',
  );
  t.pass();
});

test('a client that reads nothing for the idle timeout is cut and its share given back', async (t) => {
  const { api, refused } = await start(t, { idleTimeoutMs: 300 });
  const stalled = await rawGet(api.port, '/v1/enumerate');
  t.is(statusOf(stalled), 'HTTP/1.1 200 OK');
  await waitFor(() => refused.includes('timeout'), 5000, 'the stalled client cut');
  // A paused socket does not see its end: read what is left, then the end comes.
  stalled.socket.resume();
  await stalled.closed;
  // An idle connection that never sends a request is cut the same way.
  const silent = connect({ host: '127.0.0.1', port: api.port });
  silent.on('error', () => undefined);
  await new Promise<void>((resolve) =>
    silent.once('close', () => {
      resolve();
    }),
  );
  t.is(refused.filter((r) => r === 'timeout').length, 2);
});

test('a large response not sent within its deadline is cut', async (t) => {
  const { api, refused } = await start(t, { largeDeadlineMs: 300 });
  const slow = await rawGet(api.port, '/v1/enumerate');
  await waitFor(() => refused.length > 0, 5000, 'the slow response cut');
  t.deepEqual(refused, ['timeout']);
  slow.socket.resume();
  await slow.closed;
});

test('connections beyond maxConnections are closed at once and counted', async (t) => {
  const { api, refused } = await start(t, { maxConnections: () => 3 });
  const open: Socket[] = [];
  t.teardown(() => {
    for (const s of open) s.destroy();
  });
  for (let i = 0; i < 3; i++) {
    const s = connect({ host: '127.0.0.1', port: api.port });
    await new Promise((resolve) => s.once('connect', resolve));
    open.push(s);
  }
  const extra = connect({ host: '127.0.0.1', port: api.port });
  extra.on('error', () => undefined);
  await new Promise<void>((resolve) =>
    extra.once('close', () => {
      resolve();
    }),
  );
  await waitFor(() => refused.length === 1, 2000, 'the refusal counted');
  t.deepEqual(refused, ['connections']);
  // Once one closes, a new one is served.
  open.pop()?.destroy();
  await waitFor(() => healthAnswered(api.port), 5000, 'a connection accepted again');
  t.pass();
});
