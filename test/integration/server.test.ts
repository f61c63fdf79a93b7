/**
 * End to end: the real mesodns process against a fake Mesos master and a knot upstream on
 * loopback, queried with dig over UDP and TCP.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { dig } from '../../support/dig.js';
import { FakeMaster } from '../../support/fake-master.js';
import { ask, reloadCounts, startMesodns, waitFor, waitForReload } from '../../support/mesodns.js';
import { startDeadUpstream, startKnot } from '../../support/upstream.js';

const fixture: unknown = JSON.parse(await readFile('test/fixtures/fake.json', 'utf8'));

async function withMaster(
  t: { teardown: (fn: () => unknown) => void },
  state: unknown = fixture,
): Promise<FakeMaster> {
  const master = new FakeMaster(state);
  await master.start();
  t.teardown(() => master.close());
  return master;
}

test('serves A, SRV with additional, NXDOMAIN and NODATA over UDP and TCP from a polled master', async (t) => {
  const master = await withMaster(t);
  const srv = await startMesodns({ config: { mesos: { masters: [master.url] } } });
  t.teardown(() => srv.stop());
  for (const transport of [[], ['+tcp']]) {
    // The five questions from one dig run (its options first: they then apply to every question).
    const r = await dig(srv.dnsPort, [
      ...transport,
      ...['CAR-STORE.marathon.mesos', 'A', '_car-store._tcp.marathon.mesos', 'SRV'],
      ...['no-such-task.marathon.mesos', 'A', 'car-store.marathon.mesos', 'AAAA'],
      ...['marathon.slave.mesos', 'A'],
    ]);
    t.is(r.messages.length, 5, r.raw);
    const [a, s, nx, nodata, ent] = r.messages;
    if (a === undefined || s === undefined || nx === undefined) return;
    if (nodata === undefined || ent === undefined) return;
    t.is(a.status, 'NOERROR', r.raw);
    t.true(a.flags.has('aa'));
    t.is(a.question[0]?.name, 'CAR-STORE.marathon.mesos.');
    t.deepEqual(
      a.answer.map((rr) => rr.data),
      ['1.2.3.11'],
    );
    for (const m of r.messages) t.is(m.transport, transport.length > 0 ? 'tcp' : 'udp');

    t.is(s.status, 'NOERROR', r.raw);
    t.true(s.answer.length > 0);
    t.true(
      s.answer.every((rr) => rr.type === 'SRV' && rr.data.endsWith('.marathon.slave.mesos.')),
      r.raw,
    );
    t.true(
      s.additional.some((rr) => rr.type === 'A' && rr.data === '1.2.3.11'),
      r.raw,
    );

    t.is(nx.status, 'NXDOMAIN', r.raw);
    t.is(nx.authority[0]?.type, 'SOA');

    t.is(nodata.status, 'NOERROR', r.raw);
    t.is(nodata.answer.length, 0);
    t.is(nodata.authority[0]?.type, 'SOA');

    t.is(ent.status, 'NOERROR', r.raw);
  }
  // The leader field was rewritten by the fake master to itself: M1 follows it.
  const leader = await dig(srv.dnsPort, ['leader.mesos', 'A']);
  t.deepEqual(
    leader.answer.map((r) => r.data),
    ['127.0.0.1'],
  );
  t.true(master.requests > 0);
});

test('honours EDNS0 size, echoes OPT, truncates with TC and answers in full over TCP', async (t) => {
  const agents = Array.from({ length: 120 }, (_, i) => ({
    id: `S${String(i)}`,
    hostname: `10.9.${String(i >> 8)}.${String(i & 255)}`,
    pid: `slave(1)@10.9.${String(i >> 8)}.${String(i & 255)}:5051`,
  }));
  const master = await withMaster(t, {
    leader: 'master@127.0.0.1:5050',
    slaves: agents,
    frameworks: [],
  });
  const srv = await startMesodns({ config: { mesos: { masters: [master.url] } } });
  t.teardown(() => srv.stop());
  const plain = await dig(srv.dnsPort, ['slave.mesos', 'A', '+noedns', '+ignore']);
  t.true(plain.flags.has('tc'), plain.raw);
  t.true((plain.msgSize ?? 0) <= 512);
  t.is(plain.ednsUdpSize, undefined);
  const edns = await dig(srv.dnsPort, ['slave.mesos', 'A', '+bufsize=4096', '+ignore']);
  t.true(edns.flags.has('tc'));
  t.is(edns.ednsUdpSize, 1232);
  t.true((edns.msgSize ?? 0) <= 1232 && (edns.msgSize ?? 0) > 512, edns.raw);
  const tcp = await dig(srv.dnsPort, ['slave.mesos', 'A', '+tcp']);
  t.false(tcp.flags.has('tc'));
  t.is(tcp.answer.length, 120);
  const retried = await dig(srv.dnsPort, ['slave.mesos', 'A', '+noedns']);
  t.true(retried.retriedOverTcp);
  t.is(retried.answer.length, 120);
});

test('answers SERVFAIL for the domain before the first load, and loads when the master appears', async (t) => {
  const master = await withMaster(t);
  master.fail(503);
  const srv = await startMesodns({
    // refresh caps the retry backoff: the master's return is seen within a second, however long
    // the start took on a loaded machine (the default, 30 s, would let the backoff outgrow the wait).
    config: { mesos: { masters: [master.url], refresh: '1s' } },
    readiness: 'answer',
  });
  t.teardown(() => srv.stop());
  const before = await dig(srv.dnsPort, ['car-store.marathon.mesos', 'A']);
  t.is(before.status, 'SERVFAIL');
  const notReady = await fetch(`${srv.httpUrl}/ready`);
  t.is(notReady.status, 503);
  master.reset();
  await waitFor(
    async () => (await ask(srv.dnsPort, 'car-store.marathon.mesos', 'A')).rcode === 'NOERROR',
    5000,
  );
  t.is((await fetch(`${srv.httpUrl}/ready`)).status, 200);
});

test('keeps serving the last good zone when the master fails or sends malformed JSON', async (t) => {
  const master = await withMaster(t);
  // Polling (the stream's equivalent is in stream.test.ts).
  const srv = await startMesodns({ config: { mesos: { masters: [master.url], mode: 'poll' } } });
  t.teardown(() => srv.stop());
  const seen = master.requests;
  master.malformed();
  await waitFor(() => master.requests >= seen + 2, 5000);
  t.deepEqual(
    (await dig(srv.dnsPort, ['car-store.marathon.mesos', 'A'])).answer.map((r) => r.data),
    ['1.2.3.11'],
  );
  master.fail(500);
  await waitFor(() => master.requests >= seen + 4, 5000);
  t.deepEqual(
    (await dig(srv.dnsPort, ['car-store.marathon.mesos', 'A'])).answer.map((r) => r.data),
    ['1.2.3.11'],
  );
  t.regex(srv.logs(), /state load failed/);
});

test('a bad task is skipped and counted, the rest of the state loads', async (t) => {
  const doc = structuredClone(fixture) as {
    frameworks: { tasks: { resources: { ports?: string } }[] }[];
  };
  const marathon = doc.frameworks[3];
  const task = marathon?.tasks[4];
  if (task !== undefined) task.resources.ports = '[not-a-range]';
  const master = await withMaster(t, doc);
  // A v0 document (the stream's equivalent is in stream.test.ts).
  const srv = await startMesodns({ config: { mesos: { masters: [master.url], mode: 'poll' } } });
  t.teardown(() => srv.stop());
  t.is((await dig(srv.dnsPort, ['nginx.marathon.mesos', 'A'])).status, 'NOERROR');
  t.regex(srv.logs(), /skippedTasks=1/);
});

test('forwards other names to the upstream, with the client transport, AA cleared', async (t) => {
  const knot = await startKnot();
  t.teardown(() => knot.stop());
  const srv = await startMesodns({
    stateFile: 'test/fixtures/fake.json',
    config: { forward: { enabled: true, resolvers: [knot.address], timeout: '2s' } },
  });
  t.teardown(() => srv.stop());
  for (const transport of [[], ['+tcp']]) {
    const r = await dig(srv.dnsPort, ['www.example.test', 'A', ...transport]);
    t.is(r.status, 'NOERROR', r.raw);
    t.deepEqual(
      r.answer.map((a) => a.data),
      ['192.0.2.10'],
    );
    t.false(r.flags.has('aa'));
  }
  const nx = await dig(srv.dnsPort, ['nope.example.test', 'A']);
  t.is(nx.status, 'NXDOMAIN');
  // The 60-record name: the upstream truncates for a 512-byte client, TCP gets everything.
  const tc = await dig(srv.dnsPort, ['many6.example.test', 'AAAA', '+ignore', '+noedns']);
  t.true(tc.flags.has('tc'), tc.raw);
  const full = await dig(srv.dnsPort, ['many6.example.test', 'AAAA', '+tcp']);
  t.is(full.answer.length, 60);
});

test('fails over from a dead upstream within the timeout and gives SERVFAIL when all fail', async (t) => {
  const knot = await startKnot();
  const dead = await startDeadUpstream();
  const dead2 = await startDeadUpstream();
  t.teardown(async () => {
    await Promise.all([knot.stop(), dead.stop(), dead2.stop()]);
  });
  const srv = await startMesodns({
    stateFile: 'test/fixtures/fake.json',
    config: {
      forward: {
        enabled: true,
        resolvers: [dead.address, knot.address],
        zones: { 'dead.test': [dead.address, dead2.address] },
        timeout: '1s',
      },
    },
  });
  t.teardown(() => srv.stop());
  const ok = await dig(srv.dnsPort, ['www.example.test', 'A', '+time=3']);
  t.is(ok.status, 'NOERROR', ok.raw);
  t.true(dead.queries > 0);
  const started = Date.now();
  const fail = await dig(srv.dnsPort, ['x.dead.test', 'A', '+time=3']);
  const took = Date.now() - started;
  t.is(fail.status, 'SERVFAIL', fail.raw);
  t.true(took < 1800, `SERVFAIL after ${String(took)} ms`);
  t.true(dead2.queries > 0, 'the zone upstreams were both tried');
});

test('answers REFUSED for other names when forwarding is disabled', async (t) => {
  const srv = await startMesodns({ stateFile: 'test/fixtures/fake.json' });
  t.teardown(() => srv.stop());
  const r = await dig(srv.dnsPort, ['www.example.test', 'A']);
  t.is(r.status, 'REFUSED');
});

test('reloads the state file when it changes', async (t) => {
  const srv = await startMesodns({ state: fixture });
  t.teardown(() => srv.stop());
  t.is((await dig(srv.dnsPort, ['nginx.marathon.mesos', 'A'])).status, 'NOERROR');
  const doc = structuredClone(fixture) as { frameworks: { tasks: { name: string }[] }[] };
  const task = doc.frameworks[3]?.tasks[6];
  if (task !== undefined) task.name = 'nginx-renamed';
  await writeFile(join(srv.dir, 'state.json'), JSON.stringify(doc));
  await waitFor(
    async () =>
      (await dig(srv.dnsPort, ['nginx-renamed.marathon.mesos', 'A'])).status === 'NOERROR',
    5000,
  );
  t.is((await dig(srv.dnsPort, ['nginx.marathon.mesos', 'A'])).status, 'NXDOMAIN');
});

test('dns.batchedUdp: off serves UDP with dgram, and a SIGHUP turning it on rebinds to the addon', async (t) => {
  const srv = await startMesodns({ state: fixture, config: { dns: { batchedUdp: false } } });
  t.teardown(() => srv.stop());
  t.regex(srv.logs(), /mesodns started .*udp=dgram/);
  t.is((await dig(srv.dnsPort, ['nginx.marathon.mesos', 'A'])).status, 'NOERROR');
  await srv.rewriteConfig({ dns: { batchedUdp: true } });
  const before = await reloadCounts(srv);
  srv.reload();
  await waitForReload(srv, before);
  await waitFor(() => srv.logs().includes('configuration reloaded'), 2000, 'the reload logged');
  // Same address, other UDP engine: the old listener makes way for the new one.
  t.regex(srv.logs(), /closing the old listener first/);
  t.notRegex(srv.logs(), /batched UDP unavailable/);
  for (const transport of [[], ['+tcp']]) {
    const a = await dig(srv.dnsPort, ['nginx.marathon.mesos', 'A', ...transport]);
    t.is(a.status, 'NOERROR', a.raw);
  }
});

test('SIGHUP applies a valid config and rejects an invalid one, SIGTERM exits 0', async (t) => {
  const srv = await startMesodns({ stateFile: 'test/fixtures/fake.json' });
  const ttl = async (): Promise<number | undefined> =>
    (await dig(srv.dnsPort, ['car-store.marathon.mesos', 'A'])).answer[0]?.ttl;
  t.is(await ttl(), 60);
  await srv.rewriteConfig({
    stateFile: undefined,
    mesos: { stateFile: join(process.cwd(), 'test/fixtures/fake.json') },
    records: { ttl: 5 },
  });
  srv.reload();
  await waitFor(async () => (await ttl()) === 5, 5000);
  await writeFile(srv.configPath, 'records:\n  ttl: -3\n  bogus: 1\n');
  const before = await reloadCounts(srv);
  srv.reload();
  await waitForReload(srv, before, 'rejected', 5000);
  t.is(await ttl(), 5);
  t.is(await srv.stop(), 0);
});
