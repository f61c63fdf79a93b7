// StateClient against fake masters on loopback: redirects, status codes, timeouts, size limit,
// gzip, keep-alive, Basic auth and TLS with a test CA made at test time.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { systemClock } from '../../src/clock.js';
import { NoLeaderError, StateFetchError, StateParseError } from '../../src/errors.js';
import { StateClient, StaticMasters, readTlsFiles } from '../../src/mesos/index.js';
import type { StateClientOptions } from '../../src/mesos/index.js';
import { AlreadyAskedError, baseOf } from '../../src/mesos/client.js';
import { FakeMaster, FakeMasterCluster } from '../../support/fake-master.js';
import type { FakeMasterOptions } from '../../support/fake-master.js';
import { makeTestCa } from '../../support/test-ca.js';

const STATE = {
  version: '1.11.0',
  leader: 'master@10.0.0.11:5050',
  pid: 'master@10.0.0.11:5050',
  leader_info: { id: 'x', pid: 'master@10.0.0.11:5050', port: 5050, hostname: 'm1' },
  slaves: [{ id: 'S0', hostname: '10.0.1.1', pid: 'slave(1)@10.0.1.1:5051' }],
  frameworks: [],
};

const ca = await makeTestCa();
test.after.always(() => ca.remove());

function client(t: ExecutionContext, options: Partial<StateClientOptions> = {}): StateClient {
  const c = new StateClient({ timeoutMs: 2000, clock: systemClock, ...options });
  t.teardown(() => {
    c.close();
  });
  return c;
}

async function master(
  t: ExecutionContext,
  state: unknown = STATE,
  options: FakeMasterOptions = {},
): Promise<FakeMaster> {
  const m = new FakeMaster(state, options);
  await m.start();
  t.teardown(() => m.close());
  return m;
}

async function cluster(t: ExecutionContext, size = 3): Promise<FakeMasterCluster> {
  const c = new FakeMasterCluster({ size, state: structuredClone(STATE) });
  await c.start();
  t.teardown(() => c.close());
  return c;
}

test('fetches /master/state and reports where it came from, its size and duration', async (t) => {
  const m = await master(t);
  const r = await client(t).fetchState(m.url);
  t.like(r.doc, { leader: m.pid, pid: m.pid });
  t.is(r.url, m.url);
  t.is(r.redirects, 0);
  t.true(r.bytes > 100);
  t.true(r.fetchMs >= 0);
  t.is(m.requestLog[0]?.url, '/master/state');
  t.is(m.requestLog[0]?.headers.accept, 'application/json');
});

test('asks for gzip and decodes it; reuses the connection (keep-alive)', async (t) => {
  const m = await master(t);
  const c = client(t);
  for (let i = 0; i < 3; i++) await c.fetchState(m.url);
  t.regex(String(m.requestLog[0]?.headers['accept-encoding']), /gzip/);
  t.is(m.gzipped, 3);
  t.is(m.connections, 1);
});

test('follows a 307 with a protocol-relative Location to the leader', async (t) => {
  const c = await cluster(t);
  const follower = c.master(2);
  const r = await client(t).fetchState(follower.url);
  t.is(r.url, c.master(0).url);
  t.is(r.redirects, 1);
  t.is(follower.requestLog[0]?.status, 307);
});

test('follows a chain of 307s through a stale follower', async (t) => {
  const c = await cluster(t);
  c.failover(1);
  c.master(2).believeLeader(c.master(0)); // 2 -> 0 (stale) -> 1 (leader)
  c.master(0).believeLeader(undefined);
  const r = await client(t).fetchState(c.master(2).url);
  t.is(r.url, c.master(1).url);
  t.is(r.redirects, 2);
  t.like(r.doc, { leader: c.master(1).pid });
});

test('stops at a redirect loop, and after five redirects', async (t) => {
  const loop = await cluster(t, 2);
  loop.master(0).believeLeader(loop.master(1));
  loop.master(1).believeLeader(loop.master(0));
  const error = await t.throwsAsync(client(t).fetchState(loop.master(0).url), {
    instanceOf: AlreadyAskedError,
  });
  t.regex(error.message, /redirects to .*, already asked/);
  const chain = await cluster(t, 7);
  for (let i = 1; i < 6; i++) chain.master(i).believeLeader(chain.master(i + 1));
  chain.master(6).believeLeader(chain.master(0)); // the leader would be next: one hop too many
  const tooLong = await t.throwsAsync(client(t).fetchState(chain.master(1).url), {
    instanceOf: StateFetchError,
  });
  t.regex(tooLong.message, /more than 5 redirects/);
});

test('a redirect to a master already asked in this poll is not followed', async (t) => {
  const c = await cluster(t);
  const visited = new Set([c.master(0).url]);
  await t.throwsAsync(client(t).fetchState(c.master(1).url, undefined, visited), {
    instanceOf: AlreadyAskedError,
  });
  t.is(c.master(0).requests, 0);
  t.true(visited.has(c.master(1).url));
});

test('503 (no leader elected) is a NoLeaderError', async (t) => {
  const c = await cluster(t);
  c.noLeader();
  const error = await t.throwsAsync(client(t).fetchState(c.master(1).url), {
    instanceOf: NoLeaderError,
  });
  t.is(error.code, 'ERR_NO_LEADER');
  t.regex(error.message, /503 No leader elected/);
});

test('other statuses, transport errors and bad JSON are typed errors', async (t) => {
  const m = await master(t);
  const c = client(t);
  m.fail(500);
  t.is(
    (await t.throwsAsync(c.fetchState(m.url), { instanceOf: StateFetchError })).code,
    'ERR_STATE_FETCH',
  );
  m.malformed();
  t.is(
    (await t.throwsAsync(c.fetchState(m.url), { instanceOf: StateParseError })).code,
    'ERR_STATE_PARSE',
  );
  m.truncated();
  await t.throwsAsync(c.fetchState(m.url), { instanceOf: StateFetchError });
  await m.close();
  await t.throwsAsync(c.fetchState(m.url), {
    instanceOf: StateFetchError,
    message: /ECONNREFUSED/,
  });
});

test('a hung master fails after the timeout, not later', async (t) => {
  const m = await master(t);
  m.hang();
  const started = Date.now();
  const error = await t.throwsAsync(client(t, { timeoutMs: 300 }).fetchState(m.url), {
    instanceOf: StateFetchError,
  });
  t.regex(error.message, /within 300 ms \(mesos\.timeout\)/);
  t.true(Date.now() - started < 2000);
});

test('a reply slower than the timeout fails with the timeout', async (t) => {
  const m = await master(t);
  m.delay(1000);
  await t.throwsAsync(client(t, { timeoutMs: 200 }).fetchState(m.url), {
    message: /mesos\.timeout/,
  });
});

test('an aborted signal stops the request at once', async (t) => {
  const m = await master(t);
  m.hang();
  const abort = new AbortController();
  const pending = client(t, { timeoutMs: 10_000 }).fetchState(m.url, abort.signal);
  setTimeout(() => {
    abort.abort();
  }, 50);
  await t.throwsAsync(pending, { message: /aborted/ });
});

test('a state over the size limit is refused (decoded size, so gzip cannot hide it)', async (t) => {
  const m = await master(t);
  const error = await t.throwsAsync(client(t, { maxBytes: 100 }).fetchState(m.url), {
    instanceOf: StateFetchError,
  });
  t.regex(error.message, /larger than 100 bytes/);
});

test('sends Basic auth to the vouched masters, redirects among them included; 401 names mesos.auth', async (t) => {
  const credentials = { principal: 'dns', secret: 's3cret' };
  const c = new FakeMasterCluster({ size: 2, state: structuredClone(STATE), auth: credentials });
  await c.start();
  t.teardown(() => c.close());
  const masters = new StaticMasters(c.urls);
  const auth = { ...credentials, sendTo: (url: URL) => masters.vouchesFor(url.origin) };
  const r = await client(t, { auth }).fetchState(c.master(1).url);
  t.is(r.redirects, 1);
  const expected = `Basic ${Buffer.from('dns:s3cret').toString('base64')}`;
  t.is(c.master(1).requestLog[0]?.headers.authorization, expected);
  t.is(c.master(0).requestLog[0]?.headers.authorization, expected);
  const error = await t.throwsAsync(client(t).fetchState(c.master(0).url));
  t.regex(error.message, /HTTP 401.*mesos\.auth/);
  await t.throwsAsync(
    client(t, { auth: { ...auth, secret: 'wrong' } }).fetchState(c.master(0).url),
    { message: /401/ },
  );
});

test('no credentials for a redirect target or leader the masters list does not name', async (t) => {
  const credentials = { principal: 'dns', secret: 's3cret' };
  const c = new FakeMasterCluster({ size: 2, state: structuredClone(STATE), auth: credentials });
  await c.start();
  t.teardown(() => c.close());
  // Only the follower is configured; it redirects (307) to the leader, master 0.
  const masters = new StaticMasters([c.master(1).url]);
  const auth = { ...credentials, sendTo: (url: URL) => masters.vouchesFor(url.origin) };
  const error = await t.throwsAsync(client(t, { auth }).fetchState(c.master(1).url));
  t.regex(error.message, /HTTP 401/);
  t.truthy(c.master(1).requestLog[0]?.headers.authorization, 'the configured master has them');
  t.true(c.master(0).requestLog.length > 0, 'the redirect was followed');
  t.true(
    c.master(0).requestLog.every((r) => r.headers.authorization === undefined),
    'the redirect target never saw them',
  );
});

test('a master configured over https vouches for neither its http twin nor other ports', (t) => {
  const masters = new StaticMasters(['https://m1.example:5050', 'http://10.0.0.2:5050']);
  t.true(masters.vouchesFor('https://m1.example:5050'));
  t.false(masters.vouchesFor('http://m1.example:5050'));
  t.false(masters.vouchesFor('https://m1.example:5051'));
  t.true(masters.vouchesFor('http://10.0.0.2:5050'));
  t.false(masters.vouchesFor('http://10.0.0.3:5050'));
});

test('HTTPS: verifies the master with the configured CA, refuses an unknown one', async (t) => {
  const m = await master(t, STATE, { tls: { key: ca.serverKey.pem, cert: ca.serverCert.pem } });
  t.is(m.scheme, 'https');
  const tls = readTlsFiles({ ca: ca.ca.path, cert: '', key: '', insecure: false });
  const r = await client(t, { tls }).fetchState(m.url);
  t.like(r.doc, { leader: m.pid });
  // By hostname too: the certificate names localhost.
  const byName = await client(t, { tls }).fetchState(`https://localhost:${String(m.port)}`);
  t.is(byName.url, `https://localhost:${String(m.port)}`);
  const other = readTlsFiles({ ca: ca.otherCa.path, cert: '', key: '', insecure: false });
  await t.throwsAsync(client(t, { tls: other }).fetchState(m.url), {
    instanceOf: StateFetchError,
    message: /certificate/i,
  });
  await t.throwsAsync(client(t).fetchState(m.url), { message: /certificate/i });
  const insecure = await client(t, { tls: { insecure: true } }).fetchState(m.url);
  t.like(insecure.doc, { leader: m.pid });
});

test('HTTPS: presents the client certificate when the master requires one', async (t) => {
  const m = await master(t, STATE, {
    tls: { key: ca.serverKey.pem, cert: ca.serverCert.pem, ca: ca.ca.pem, requestCert: true },
  });
  const withCert = readTlsFiles({
    ca: ca.ca.path,
    cert: ca.clientCert.path,
    key: ca.clientKey.path,
    insecure: false,
  });
  const r = await client(t, { tls: withCert }).fetchState(m.url);
  t.like(r.doc, { leader: m.pid });
  const without = readTlsFiles({ ca: ca.ca.path, cert: '', key: '', insecure: false });
  await t.throwsAsync(client(t, { tls: without }).fetchState(m.url), {
    instanceOf: StateFetchError,
  });
});

test('HTTPS redirects keep the scheme (protocol-relative Location)', async (t) => {
  const c = new FakeMasterCluster({
    size: 2,
    state: structuredClone(STATE),
    tls: { key: ca.serverKey.pem, cert: ca.serverCert.pem },
  });
  await c.start();
  t.teardown(() => c.close());
  const tls = readTlsFiles({ ca: ca.ca.path, cert: '', key: '', insecure: false });
  const r = await client(t, { tls }).fetchState(c.master(1).url);
  t.is(r.url, c.master(0).url);
  t.true(r.url.startsWith('https://'));
});

test('readTlsFiles names the key of a file it cannot read', (t) => {
  const error = t.throws(() =>
    readTlsFiles({ ca: '/nonexistent/ca.pem', cert: '', key: '', insecure: false }),
  );
  t.is((error as { code?: string } | undefined)?.code, 'ERR_CONFIG_READ');
  t.regex(error.message, /^mesos\.tls\.ca: cannot read \/nonexistent\/ca\.pem/);
});

test('baseOf strips the state path and keeps a path prefix', (t) => {
  t.is(baseOf(new URL('http://10.0.0.1:5050/master/state')), 'http://10.0.0.1:5050');
  t.is(baseOf(new URL('https://m1:5050/state?x=1')), 'https://m1:5050');
  t.is(baseOf(new URL('http://lb/mesos/master/state')), 'http://lb/mesos');
  t.is(baseOf(new URL('http://[fd00::1]:5050/master/state')), 'http://[fd00::1]:5050');
});

/** Starts `server` on a loopback port, closed at the end of the test; its base URL. */
async function listen(t: ExecutionContext, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const address = server.address();
  return `http://127.0.0.1:${String(typeof address === 'object' && address !== null ? address.port : 0)}`;
}

/** A server that sends `body` three bytes at a time, one piece per turn of its event loop. */
function trickling(body: Buffer): Server {
  return createServer((_req, res) => {
    void (async () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (let i = 0; i < body.length; i += 3) {
        res.write(body.subarray(i, i + 3));
        await new Promise(setImmediate);
      }
      res.end();
    })();
  });
}

test('the body is decoded as it arrives: UTF-8 split across chunks, a leading BOM, byte count', async (t) => {
  const state = { ...STATE, hostname: 'mâître-ü.example', id: 'Ωmega-日本' };
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(state))]);
  // Three bytes at a time: multi-byte characters straddle the pieces.
  const base = await listen(t, trickling(body));
  // About 140 pieces, each a turn of this thread's event loop: on a loaded machine that took more
  // than the helper's 2 s timeout, which is not what this test is about.
  const r = await client(t, { timeoutMs: 20_000 }).fetchState(base);
  t.deepEqual(r.doc, state);
  t.is(r.bytes, body.length);
});

test('readState validates the state as it arrives: the head, the state, the size', async (t) => {
  const m = await master(t);
  const r = await client(t).readState(m.url);
  t.like(r.head, { leader: m.pid, pid: m.pid, leader_info: { pid: m.pid } });
  t.deepEqual(
    r.parsed.state.agents.map((a) => a.id),
    ['S0'],
  );
  t.is(r.url, m.url);
  t.true(r.bytes > 100);
  const error = await t.throwsAsync(client(t, { maxBytes: 100 }).readState(m.url), {
    instanceOf: StateFetchError,
  });
  t.regex(error.message, /larger than 100 bytes/);
});

test('readState: bad JSON names its line and column, a state that is not an object says so', async (t) => {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(req.url === '/array/master/state' ? '[1, 2]' : '{"slaves": [\n  {"id": 1,,}\n]}');
  });
  const base = await listen(t, server);
  const error = await t.throwsAsync(client(t).readState(base), { instanceOf: StateParseError });
  t.is(error.code, 'ERR_STATE_PARSE');
  t.is(
    error.message,
    `${base}: state is invalid JSON at line 2 column 12: Expected double-quoted property name`,
  );
  const array = await t.throwsAsync(client(t).readState(`${base}/array`), {
    instanceOf: StateParseError,
  });
  t.is(array.message, `${base}: state document is not a JSON object (got an array)`);
});

test('readState decodes UTF-8 split across chunks and drops a leading BOM', async (t) => {
  const state = { ...STATE, slaves: [{ ...STATE.slaves[0], hostname: 'mâître-ü.example' }] };
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(state))]);
  const r = await client(t, { timeoutMs: 20_000 }).readState(await listen(t, trickling(body)));
  t.is(r.parsed.state.agents[0]?.hostname, 'mâître-ü.example');
  t.is(r.bytes, body.length);
});
