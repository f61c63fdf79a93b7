/**
 * Live reload (SIGHUP) of the real server: valid changes are applied (TTL, resolvers, log
 * settings, listeners), invalid files and unbindable listeners are rejected with the running
 * config kept, and no query fails while reloading under load.
 */
import { writeFile } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import test from 'ava';
import { dig } from '../../support/dig.js';
import { decodeMessage } from '../../support/dns-message.js';
import type { Mesodns } from '../../support/mesodns.js';
import {
  buildQuery,
  queryRaw,
  rcodeOf,
  reloadCounts,
  startMesodns,
  waitFor,
  waitForReload,
} from '../../support/mesodns.js';
import { freePort } from '../../support/ports.js';
import { EXAMPLE_TEST_ZONE, EXAMPLE_TEST_ZONE_NAME, startKnot } from '../../support/upstream.js';

const FAKE = 'test/fixtures/fake.json';

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

async function ttlOf(port: number, name = 'leader.mesos'): Promise<number | undefined> {
  return (await dig(port, [name, 'A'])).answer[0]?.ttl;
}

/** Rewrites the config and sends SIGHUP; resolves once the reload was applied. */
async function reloadWith(srv: Mesodns, config: Record<string, unknown>): Promise<void> {
  const before = await reloadCounts(srv);
  await srv.rewriteConfig(config);
  srv.reload();
  await waitForReload(srv, before);
}

test('a valid change of the TTL and maxAddresses is applied; an invalid file is rejected and the old one kept', async (t) => {
  const srv = await startMesodns({ stateFile: FAKE });
  t.teardown(() => srv.stop());
  t.is(await ttlOf(srv.dnsPort), 60);
  await reloadWith(srv, { records: { ttl: 7 } });
  t.is(await ttlOf(srv.dnsPort), 7);

  // records.maxAddresses applies at once: Node's resolver (c-ares) gets one of the three agents
  // per answer, each of them over 300 queries.
  const resolver = new Resolver({ timeout: 2000, tries: 3 });
  resolver.setServers([`127.0.0.1:${String(srv.dnsPort)}`]);
  t.is((await resolver.resolve4('slave.mesos')).length, 3);
  await reloadWith(srv, { records: { ttl: 7, maxAddresses: 1 } });
  const seen = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const answer = await resolver.resolve4('slave.mesos');
    t.is(answer.length, 1);
    const [address = ''] = answer;
    seen.set(address, (seen.get(address) ?? 0) + 1);
  }
  t.is(seen.size, 3, 'every agent is answered');
  // 100 each on average, standard deviation 8: 50 is 6 of them away.
  for (const [address, n] of seen) t.true(n > 50, `${address}: ${String(n)}`);

  await writeFile(srv.configPath, 'records:\n  ttl: -3\n  bogus: 1\n');
  const before = await reloadCounts(srv);
  srv.reload();
  await waitForReload(srv, before, 'rejected');
  await waitFor(() => srv.logs().includes('configuration rejected'), 2000, 'the rejection logged');
  const logs = srv.logs();
  t.regex(logs, /records\.ttl: must be at least 0/, 'the problem is logged with its key');
  t.regex(logs, /:3:3: records\.bogus: unknown key 'bogus'/, 'and its line:column');
  t.is(await ttlOf(srv.dnsPort), 7, 'the running config is kept');
  t.deepEqual(await reloadCounts(srv), { applied: 2, rejected: 1 });
  t.like(await (await fetch(`${srv.httpUrl}/v1/config`)).json(), { TTL: 7 });

  await reloadWith(srv, { records: { ttl: 9 } });
  t.is(await ttlOf(srv.dnsPort), 9, 'a good file after a bad one applies');
});

test('a change of resolvers is applied to the next forwarded query', async (t) => {
  const first = await startKnot();
  t.teardown(() => first.stop());
  const second = await startKnot({
    [EXAMPLE_TEST_ZONE_NAME]: EXAMPLE_TEST_ZONE.replace(
      'www IN A 192.0.2.10',
      'www IN A 192.0.2.99',
    ),
  });
  t.teardown(() => second.stop());
  const forward = (address: string): Record<string, unknown> => ({
    forward: { resolvers: [address], cache: { enabled: false } },
  });
  const srv = await startMesodns({ stateFile: FAKE, config: forward(first.address) });
  t.teardown(() => srv.stop());
  const www = async (): Promise<string | undefined> =>
    (await dig(srv.dnsPort, ['www.example.test', 'A'])).answer[0]?.data;
  t.is(await www(), '192.0.2.10');
  await reloadWith(srv, forward(second.address));
  t.is(await www(), '192.0.2.99');
  t.like(await (await fetch(`${srv.httpUrl}/v1/config`)).json(), { Resolvers: [second.address] });
});

test('log.queries and log.format change on reload', async (t) => {
  const srv = await startMesodns({ stateFile: FAKE, config: { log: { level: 'info' } } });
  t.teardown(() => srv.stop());
  await dig(srv.dnsPort, ['leader.mesos', 'A']);
  await reloadWith(srv, { log: { level: 'info', format: 'json', queries: true } });
  await dig(srv.dnsPort, ['leader.mesos', 'A']);
  await waitFor(() => srv.logs().includes('"message":"query"'), 5000);
  t.is(count(srv.logs(), '"message":"query"'), 1, 'the query after the reload is logged');
  t.is(count(srv.logs(), 'INFO  query'), 0, 'the query before it is not');
});

test('an unchanged listener is not rebound: a TCP connection survives the reload', async (t) => {
  const srv = await startMesodns({ stateFile: FAKE });
  t.teardown(() => srv.stop());
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: srv.dnsPort }, () => {
      resolve(s);
    });
    s.once('error', reject);
  });
  t.teardown(() => socket.destroy());
  const replies: Buffer[] = [];
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      replies.push(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
    }
  });
  const ask = async (): Promise<number | undefined> => {
    const n = replies.length;
    const q = buildQuery('leader.mesos', 'A');
    const frame = Buffer.alloc(2 + q.length);
    frame.writeUInt16BE(q.length);
    q.copy(frame, 2);
    socket.write(frame);
    await waitFor(() => replies.length > n, 3000, 'TCP reply');
    return decodeMessage(replies[n] ?? Buffer.alloc(0)).answers[0]?.ttl;
  };
  t.is(await ask(), 60);
  await reloadWith(srv, { records: { ttl: 11 } });
  t.is(await ask(), 11, 'same connection, new config');
});

test('changed listeners are bound anew before the old ones close', async (t) => {
  const srv = await startMesodns({ stateFile: FAKE });
  t.teardown(() => srv.stop());
  const dnsPort = await freePort();
  const httpPort = await freePort();
  const before = await reloadCounts(srv);
  await srv.rewriteConfig({
    dns: { listen: `127.0.0.1:${String(dnsPort)}` },
    http: { listen: `127.0.0.1:${String(httpPort)}` },
  });
  srv.reload();
  // The metrics move with the HTTP listener.
  await waitForReload({ httpUrl: `http://127.0.0.1:${String(httpPort)}` }, before);
  const answer = await queryRaw(dnsPort, buildQuery('leader.mesos', 'A'), 'udp', 2000);
  t.is(rcodeOf(answer ?? Buffer.alloc(12)), 0, 'the new DNS address answers');
  t.is((await fetch(`http://127.0.0.1:${String(httpPort)}/health`)).status, 200);
  await waitFor(
    async () =>
      (await queryRaw(srv.dnsPort, buildQuery('leader.mesos', 'A'), 'udp', 300)) === undefined,
    5000,
    'the old DNS address is closed',
  );
  await t.throwsAsync(fetch(`${srv.httpUrl}/health`), undefined, 'the old HTTP address is closed');
  t.like(await (await fetch(`http://127.0.0.1:${String(httpPort)}/v1/config`)).json(), {
    Port: dnsPort,
    HttpPort: httpPort,
  });
  // ns1.mesos (record N1) follows the DNS listener.
  t.deepEqual(
    (await dig(dnsPort, ['ns1.mesos', 'A'])).answer.map((r) => r.data),
    ['127.0.0.1'],
  );
  // Turning the HTTP API off closes it; DNS stays where it is.
  await srv.rewriteConfig({
    dns: { listen: `127.0.0.1:${String(dnsPort)}` },
    http: { enabled: false, listen: `127.0.0.1:${String(httpPort)}` },
  });
  srv.reload();
  // No metrics without HTTP: the reload is done when the API is gone.
  await waitFor(
    () =>
      fetch(`http://127.0.0.1:${String(httpPort)}/health`).then(
        () => false,
        () => true,
      ),
    10_000,
    'the HTTP API closed by the second reload',
  );
  const still = await queryRaw(dnsPort, buildQuery('leader.mesos', 'A'), 'udp', 2000);
  t.is(rcodeOf(still ?? Buffer.alloc(12)), 0);
});

test('a listener that cannot be bound rejects the whole reload', async (t) => {
  const srv = await startMesodns({ stateFile: FAKE });
  t.teardown(() => srv.stop());
  const other = await startMesodns({ stateFile: FAKE });
  t.teardown(() => other.stop());
  await srv.rewriteConfig({
    records: { ttl: 5 },
    dns: { listen: `127.0.0.1:${String(other.dnsPort)}` },
  });
  srv.reload();
  await waitForReload(srv, { applied: 0, rejected: 0 }, 'rejected', 5000);
  await waitFor(() => srv.logs().includes('cannot bind its listeners'), 2000, 'the cause logged');
  t.is(await ttlOf(srv.dnsPort), 60, 'the old config and listener stay');
  t.deepEqual(await reloadCounts(srv), { applied: 0, rejected: 1 });
});

/** Queries in a loop until `stop()`; counts answers that are missing or not NOERROR. */
function queryLoop(
  port: number,
  name: string,
  transport: 'udp' | 'tcp',
): { stop: () => Promise<{ sent: number; failed: string[] }> } {
  // An object: `stop()` flips it from outside the loop, which TS flow analysis cannot see.
  const state = { isRunning: true };
  const failed: string[] = [];
  let sent = 0;
  const done = (async () => {
    while (state.isRunning) {
      sent++;
      const reply = await queryRaw(port, buildQuery(name, 'A'), transport, 2000);
      if (reply === undefined) failed.push(`${name}/${transport}: no answer`);
      else if (rcodeOf(reply) !== 0)
        failed.push(`${name}/${transport}: rcode ${String(rcodeOf(reply))}`);
    }
  })();
  return {
    stop: async () => {
      state.isRunning = false;
      await done;
      return { sent, failed };
    },
  };
}

test('no query fails while the config is reloaded several times under load', async (t) => {
  const knot = await startKnot();
  t.teardown(() => knot.stop());
  const config = (ttl: number): Record<string, unknown> => ({
    records: { ttl },
    forward: { resolvers: [knot.address], timeout: `${String(1000 + ttl)}ms` },
  });
  const srv = await startMesodns({ stateFile: FAKE, config: config(60) });
  t.teardown(() => srv.stop());
  const loops = [
    queryLoop(srv.dnsPort, 'leader.mesos', 'udp'),
    queryLoop(srv.dnsPort, 'car-store.marathon.mesos', 'udp'),
    queryLoop(srv.dnsPort, 'leader.mesos', 'tcp'),
    queryLoop(srv.dnsPort, 'www.example.test', 'udp'),
  ];
  const reloads = 6;
  for (let i = 1; i <= reloads; i++) await reloadWith(srv, config(60 + i));
  // Two SIGHUPs at once: the second runs after the first (coalesced, never concurrent).
  await srv.rewriteConfig(config(99));
  const before = await reloadCounts(srv);
  srv.reload();
  srv.reload();
  await waitForReload(srv, before);
  const results = await Promise.all(loops.map((l) => l.stop()));
  const sent = results.reduce((n, r) => n + r.sent, 0);
  const failed = results.flatMap((r) => r.failed);
  t.deepEqual(failed, [], `${String(failed.length)} of ${String(sent)} queries failed`);
  t.true(sent > 100, `only ${String(sent)} queries`);
  t.log(`${String(sent)} queries during ${String(reloads + 1)} reloads, none failed`);
  t.is(await ttlOf(srv.dnsPort), 99);
  t.is((await reloadCounts(srv)).rejected, 0);
  t.true((await reloadCounts(srv)).applied >= reloads + 1);
});
