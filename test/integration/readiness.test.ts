/**
 * Readiness through a master outage (issue 14): `/ready` means "answers the cluster domain", so
 * with every master gone it stays 200 and DNS answers from the last zone, while `/health` and
 * `mesodns_state_age_seconds` report the growing age. `http.readyMaxAge` still fails `/ready`
 * on old data when an operator sets it (opt-in).
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { dig } from '../../support/dig.js';
import { FakeMaster } from '../../support/fake-master.js';
import { answerData, ask, startMesodns, waitFor } from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { parsePrometheusText, sampleSum } from '../../support/prometheus-text.js';
import { isRecord } from '../../src/is-record.js';

const fixture: unknown = JSON.parse(await readFile('test/fixtures/fake.json', 'utf8'));

async function withMaster(t: { teardown: (fn: () => unknown) => void }): Promise<FakeMaster> {
  const master = new FakeMaster(fixture);
  await master.start();
  t.teardown(() => master.close());
  return master;
}

async function metric(srv: Mesodns, name: string): Promise<number> {
  const text = await (await fetch(`${srv.httpUrl}/metrics?name[]=${name}`)).text();
  return sampleSum(parsePrometheusText(text), name);
}

async function health(srv: Mesodns): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${srv.httpUrl}/health`);
  return { status: res.status, body: await res.json() };
}

/** A value inside a parsed JSON body (undefined when the path is not there). */
function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

test('every master down for 20 s, in both modes: /ready stays 200, DNS answers, /health reports the age', async (t) => {
  const masters = [await withMaster(t), await withMaster(t)];
  // One mesodns per mode against the same masters: one outage, one 20 s wait.
  const servers = await Promise.all(
    (['stream', 'poll'] as const).map(async (mode) => {
      const srv = await startMesodns({
        // The default http.readyMaxAge (off).
        config: { mesos: { masters: masters.map((m) => m.url), refresh: '1s', mode } },
      });
      t.teardown(() => srv.stop());
      return { mode, srv };
    }),
  );
  for (const { srv } of servers) {
    await waitFor(
      async () => (await fetch(`${srv.httpUrl}/ready`)).status === 200,
      15_000,
      'ready',
    );
  }
  const stream = servers[0]?.srv;
  if (stream === undefined) throw new Error('no stream server');
  await waitFor(
    async () => field((await health(stream)).body, 'source', 'streamConnected') === true,
    15_000,
    'stream connected',
  );

  for (const m of masters) await m.close();
  // Every name keeps answering while the masters are gone; /ready never fails.
  const seen = new Set<string>();
  const outage = Date.now();
  while (Date.now() - outage < 20_000) {
    for (const { mode, srv } of servers) {
      const ready = await fetch(`${srv.httpUrl}/ready`);
      const a = await ask(srv.dnsPort, 'car-store.marathon.mesos', 'A');
      seen.add(`${mode} ready=${String(ready.status)} ${a.rcode} ${answerData(a).join(',')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  t.deepEqual([...seen].sort(), [
    'poll ready=200 NOERROR 1.2.3.11',
    'stream ready=200 NOERROR 1.2.3.11',
  ]);

  for (const { mode, srv } of servers) {
    t.true((await metric(srv, 'mesodns_state_age_seconds')) >= 19, mode);
    const h = await health(srv);
    t.is(h.status, 200);
    t.like(h.body, { status: 'ok', ready: true, worker: { running: true, restarts: 0 } });
    t.true(Number(field(h.body, 'zone', 'ageSeconds')) >= 19, JSON.stringify(h.body));
  }
  t.is(await metric(stream, 'mesodns_stream_connected'), 0);
  t.like((await health(stream)).body, { source: { mode: 'stream', streamConnected: false } });
});

test('http.readyMaxAge set (opt-in): /ready fails once the data is older, DNS still answers', async (t) => {
  const master = await withMaster(t);
  const srv = await startMesodns({
    config: {
      mesos: { masters: [master.url], mode: 'poll', refresh: '500ms' },
      http: { readyMaxAge: '2s' },
    },
  });
  t.teardown(() => srv.stop());
  await waitFor(async () => (await fetch(`${srv.httpUrl}/ready`)).status === 200, 15_000, 'ready');

  await master.close();
  await waitFor(
    async () => (await fetch(`${srv.httpUrl}/ready`)).status === 503,
    30_000,
    '/ready fails on old data',
  );
  const body = await (await fetch(`${srv.httpUrl}/ready`)).json();
  t.like(body, { ready: false });
  t.regex(String(field(body, 'reason')), /more than http\.readyMaxAge \(2s\); last error: /);
  t.is((await dig(srv.dnsPort, ['car-store.marathon.mesos', 'A'])).status, 'NOERROR');
  t.is((await health(srv)).status, 200, 'liveness is not readiness');
});
