/**
 * End to end: mesodns against fake masters over HTTPS with a test CA made at test time
 * (openssl), with HTTP Basic auth (secretFile), client certificates, a wrong CA and `insecure`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { syntheticState } from '../../support/cluster.js';
import { dig } from '../../support/dig.js';
import { FakeMasterCluster, addTask } from '../../support/fake-master.js';
import type { FakeMasterOptions } from '../../support/fake-master.js';
import { metricValue, startMesodns, waitFor } from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { makeTestCa } from '../../support/test-ca.js';

const ca = await makeTestCa();
test.after.always(() => ca.remove());

const PROBE = 'probe.marathon.mesos';
const AUTH = { principal: 'mesodns', secret: 'correct horse' };

async function cluster(
  t: ExecutionContext,
  options: FakeMasterOptions,
): Promise<FakeMasterCluster> {
  const doc = syntheticState({ tasks: 30 });
  addTask(doc, { name: 'probe', ip: '10.99.0.1', framework: 'marathon' });
  const c = new FakeMasterCluster({
    size: 2,
    state: doc,
    tls: { key: ca.serverKey.pem, cert: ca.serverCert.pem },
    ...options,
  });
  await c.start();
  t.teardown(() => c.close());
  return c;
}

async function probe(srv: Mesodns): Promise<string[]> {
  return (await dig(srv.dnsPort, [PROBE, 'A'])).answer.map((r) => r.data);
}

test('HTTPS with the test CA and Basic auth from a secret file, through a 307', async (t) => {
  const c = await cluster(t, { auth: AUTH });
  const secretFile = join(ca.dir, 'secret');
  await writeFile(secretFile, `${AUTH.secret}\n`);
  const srv = await startMesodns({
    config: {
      mesos: {
        // A follower first: 307 to the leader, over https again. The leader is listed too:
        // the credentials go only to configured masters.
        masters: [c.master(1).url, c.master(0).url],
        auth: { principal: AUTH.principal, secretFile },
        tls: { ca: ca.ca.path },
      },
    },
  });
  t.teardown(() => srv.stop());
  t.deepEqual(await probe(srv), ['10.99.0.1']);
  t.true(c.master(1).url.startsWith('https://'));
  t.is(c.master(1).requestLog[0]?.status, 307);
  const expected = `Basic ${Buffer.from(`${AUTH.principal}:${AUTH.secret}`).toString('base64')}`;
  t.is(c.master(0).requestLog[0]?.headers.authorization, expected);
  t.is(c.master(0).requestLog[0]?.status, 200);
  // The secret never shows in /v1/config.
  const config = await (await fetch(`${srv.httpUrl}/v1/config`)).text();
  t.false(config.includes(AUTH.secret));
});

test('a client certificate for masters that require one (mutual TLS)', async (t) => {
  const c = await cluster(t, {
    tls: { key: ca.serverKey.pem, cert: ca.serverCert.pem, ca: ca.ca.pem, requestCert: true },
  });
  const srv = await startMesodns({
    config: {
      mesos: {
        masters: c.urls,
        tls: { ca: ca.ca.path, cert: ca.clientCert.path, key: ca.clientKey.path },
      },
    },
  });
  t.teardown(() => srv.stop());
  t.deepEqual(await probe(srv), ['10.99.0.1']);
});

test('a master whose certificate the CA does not vouch for is not trusted; fixing the CA by SIGHUP loads', async (t) => {
  const c = await cluster(t, { auth: AUTH });
  const srv = await startMesodns({
    config: { mesos: { masters: c.urls, auth: AUTH, tls: { ca: ca.otherCa.path } } },
    readiness: 'answer',
  });
  t.teardown(() => srv.stop());
  const failed = 'mesodns_state_loads_total{result="failed"}';
  await waitFor(async () => (await metricValue(srv, failed)) >= 1, 5000, 'a failure');
  await waitFor(() => srv.logs().includes('state load failed'), 2000, 'the failure logged');
  t.regex(srv.logs(), /certificate/i);
  t.is((await dig(srv.dnsPort, [PROBE, 'A'])).status, 'SERVFAIL');
  t.is(c.master(0).requestLog.filter((r) => r.status === 200).length, 0);
  await srv.rewriteConfig({ mesos: { masters: c.urls, auth: AUTH, tls: { ca: ca.ca.path } } });
  srv.reload();
  await waitFor(async () => (await probe(srv))[0] === '10.99.0.1', 5000, 'loaded');
  t.pass();
});

test('wrong credentials: 401 is logged with a hint, the last good zone stays', async (t) => {
  const c = await cluster(t, { auth: AUTH });
  const srv = await startMesodns({
    config: { mesos: { masters: c.urls, auth: AUTH, tls: { ca: ca.ca.path }, refresh: '300ms' } },
  });
  t.teardown(() => srv.stop());
  t.deepEqual(await probe(srv), ['10.99.0.1']);
  await srv.rewriteConfig({
    mesos: {
      masters: c.urls,
      auth: { principal: 'mesodns', secret: 'wrong' },
      tls: { ca: ca.ca.path },
      refresh: '300ms',
    },
  });
  srv.reload();
  const failed = 'mesodns_state_loads_total{result="failed"}';
  await waitFor(async () => (await metricValue(srv, failed)) >= 1, 5000, 'a failed load');
  await waitFor(() => srv.logs().includes('HTTP 401'), 2000, 'the 401 logged');
  t.regex(srv.logs(), /check mesos\.auth/);
  t.deepEqual(await probe(srv), ['10.99.0.1']);
});

test('tls.insecure skips verification (no CA given)', async (t) => {
  const c = await cluster(t, {});
  const srv = await startMesodns({
    config: { mesos: { masters: c.urls, tls: { insecure: true } } },
  });
  t.teardown(() => srv.stop());
  t.deepEqual(await probe(srv), ['10.99.0.1']);
});
