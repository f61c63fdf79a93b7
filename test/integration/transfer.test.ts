/**
 * Zone transfers from the real mesodns process (issue 18): kdig AXFR with and without the TSIG
 * key, IXFR, and Debian's knotd and NSD as TSIG secondaries that transfer the zone, answer it and
 * follow NOTIFY. Every record that kdig receives equals what `/v1/axfr` says, record for record.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { dig, kdig } from '../../support/dig.js';
import { soaAnswer } from '../../support/dns-message.js';
import { ask, metricValue, startMesodns, waitFor, waitForReload } from '../../support/mesodns.js';
import type { Mesodns } from '../../support/mesodns.js';
import { freePort } from '../../support/ports.js';
import { syntheticState } from '../../support/cluster.js';
import { FakeMasterCluster, addTask } from '../../support/fake-master.js';
import { startKnotSecondary, startNsdSecondary } from '../../support/secondaries.js';
import type { Secondary } from '../../support/secondaries.js';

const SECRET = 'bWVzb2Rucy10cmFuc2Zlci10ZXN0LXNlY3JldC0zMmI=';
const KEY = `hmac-sha256:xfr-key:${SECRET}`;
const DEMO_STATE = 'config/demo-state.json';
const SECONDARY_KEY = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET };

/** What kdig printed (the transfer tests read its records and warnings). */
async function kdigOutput(args: readonly string[]): Promise<string> {
  return (await kdig(args)).output;
}

/** `name TYPE rdata` of every RR in kdig's output but the TSIG (SOA once). */
function rrsOf(output: string): Set<string> {
  const rrs = new Set<string>();
  for (const line of output.split('\n')) {
    if (line.startsWith(';') || line.trim() === '') continue;
    const [name, , , type, ...rdata] = line.trim().split(/\s+/);
    if (type === undefined || type === 'TSIG') continue;
    rrs.add(`${name ?? ''} ${type} ${rdata.join(' ')}`.toLowerCase());
  }
  return rrs;
}

/** The RRs `/v1/axfr` lists, in the same form (A, AAAA, SRV; weight from records.srvWeight). */
async function httpRrs(srv: Mesodns): Promise<Set<string>> {
  const res = await fetch(`${srv.httpUrl}/v1/axfr`);
  const body = (await res.json()) as {
    Records: {
      As: Record<string, string[]>;
      AAAAs: Record<string, string[]>;
      SRVs: Record<string, string[]>;
    };
  };
  const rrs = new Set<string>();
  for (const [name, ips] of Object.entries(body.Records.As)) {
    for (const ip of ips) rrs.add(`${name} a ${ip}`);
  }
  for (const [name, ips] of Object.entries(body.Records.AAAAs)) {
    for (const ip of ips) rrs.add(`${name} aaaa ${ip}`);
  }
  for (const [name, targets] of Object.entries(body.Records.SRVs)) {
    for (const t of targets) {
      const colon = t.lastIndexOf(':');
      rrs.add(`${name} srv 0 1 ${t.slice(colon + 1)} ${t.slice(0, colon)}`);
    }
  }
  return rrs;
}

function transferConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    transfer: {
      allow: ['127.0.0.0/8', '::1'],
      tsig: { keys: [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET }] },
      ...extra,
    },
  };
}

let demoServer: Promise<Mesodns> | undefined;
/**
 * The demo state with transfers allowed and keyed: one server for the AXFR and the IXFR test,
 * whose requests and metrics (by type) do not meet.
 */
function transferServer(): Promise<Mesodns> {
  demoServer ??= startMesodns({ stateFile: DEMO_STATE, config: transferConfig() });
  return demoServer;
}
test.after.always(async () => {
  await (await demoServer?.catch(() => undefined))?.stop();
});

test('kdig AXFR with the key gets the zone, equal to /v1/axfr and records; without the key, nothing', async (t) => {
  const srv = await transferServer();
  const port = String(srv.dnsPort);

  const signed = await kdigOutput(['-y', KEY, '@127.0.0.1', '-p', port, 'mesos.', 'AXFR']);
  t.notRegex(signed, /;; ERROR|WARNING/, signed);
  const got = rrsOf(signed);
  const soa = [...got].filter((rr) => rr.startsWith('mesos. soa '));
  t.is(soa.length, 1, signed);
  t.true(got.has('mesos. ns ns1.mesos.'), signed);
  const records = [...got].filter((rr) => / (a|aaaa|srv) /.test(rr));
  t.deepEqual(records.sort(), [...(await httpRrs(srv))].sort());
  t.true(records.length > 20, `only ${String(records.length)} records`);
  // And what `mesodns records` prints for the same state and config.
  const cli = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      ['dist/main.js', 'records', '--state', DEMO_STATE, '--config', srv.configPath],
      (_error, stdout) => {
        resolve(stdout);
      },
    );
  });
  t.deepEqual([...rrsOf(cli)].sort(), records.sort());

  const unsigned = await kdigOutput(['@127.0.0.1', '-p', port, 'mesos.', 'AXFR']);
  t.regex(unsigned, /REFUSED/, unsigned);
  t.notRegex(unsigned, /IN\s+A\s/);
  const wrong = await kdigOutput([
    '-y',
    'hmac-sha256:xfr-key:d3Jvbmcgc2VjcmV0',
    '@127.0.0.1',
    '-p',
    port,
    'mesos.',
    'AXFR',
  ]);
  t.regex(wrong, /NOTAUTH|BADSIG/, wrong);
  t.notRegex(wrong, /IN\s+A\s/);

  t.is(await metricValue(srv, 'mesodns_transfer_requests_total{type="AXFR",result="ok"}'), 1);
  t.is(await metricValue(srv, 'mesodns_transfer_requests_total{type="AXFR",result="refused"}'), 1);
  t.is(await metricValue(srv, 'mesodns_transfer_requests_total{type="AXFR",result="notauth"}'), 1);
  t.true((await metricValue(srv, 'mesodns_transfer_bytes_total{type="AXFR"}')) > 1000);
});

test('IXFR: a current secondary gets the SOA alone, over UDP and TCP; an older one the zone', async (t) => {
  const srv = await transferServer();
  const at = ['-y', KEY, '@127.0.0.1', '-p', String(srv.dnsPort)];
  // A signed SOA query (what a secondary sends before a transfer) gets a signed answer.
  const signedSoa = await kdigOutput([...at, '+notcp', 'mesos.', 'SOA']);
  t.regex(signedSoa, /status: NOERROR/, signedSoa);
  t.notRegex(signedSoa, /WARNING|;; ERROR/, signedSoa);
  const wrongKey = await kdigOutput([
    '-y',
    'hmac-sha256:xfr-key:d3Jvbmc=',
    '@127.0.0.1',
    '-p',
    String(srv.dnsPort),
    '+notcp',
    'mesos.',
    'SOA',
  ]);
  t.regex(wrongKey, /NOTAUTH|BADSIG/, wrongKey);
  const soa = await dig(srv.dnsPort, ['mesos.', 'SOA']);
  const serial = Number((soa.answer[0]?.data ?? '').split(/\s+/)[2]);
  t.true(serial > 0, JSON.stringify(soa.answer));

  for (const transport of ['+notcp', '+tcp']) {
    const current = await kdigOutput([...at, transport, 'mesos.', `IXFR=${String(serial)}`]);
    t.notRegex(current, /;; ERROR|WARNING/, current);
    const rrs = rrsOf(current);
    t.is(rrs.size, 1, current);
    t.regex([...rrs][0] ?? '', new RegExp(`^mesos\\. soa .* ${String(serial)} `));
  }
  // Over UDP an older secondary is told the current serial, and asks again over TCP.
  const older = await kdigOutput([
    ...at,
    '+notcp',
    '+ignore',
    'mesos.',
    `IXFR=${String(serial - 1)}`,
  ]);
  t.is(rrsOf(older).size, 1, older);
  const full = await kdigOutput([...at, '+tcp', 'mesos.', `IXFR=${String(serial - 1)}`]);
  t.notRegex(full, /;; ERROR|WARNING/, full);
  const records = [...rrsOf(full)].filter((rr) => / (a|aaaa|srv) /.test(rr));
  t.deepEqual(records.sort(), [...(await httpRrs(srv))].sort());
  t.is(await metricValue(srv, 'mesodns_transfer_requests_total{type="IXFR",result="ok"}'), 4);
});

test('without transfer.allow every transfer is refused; with allow and no keys, none is signed', async (t) => {
  const srv = await startMesodns({ stateFile: DEMO_STATE });
  t.teardown(() => srv.stop());
  const axfr = ['@127.0.0.1', '-p', String(srv.dnsPort), 'mesos.', 'AXFR'];
  const out = await kdigOutput(axfr);
  t.regex(out, /REFUSED/, out);
  t.is(await metricValue(srv, 'mesodns_transfer_requests_total{type="AXFR",result="refused"}'), 1);
  t.is(await metricValue(srv, 'mesodns_transfer_worker_up'), 0, 'no worker without transfer.allow');
  // An unsigned AXFR from an allowed address, as CoreDNS's secondary asks (docs/transfers.md).
  await srv.rewriteConfig({ transfer: { allow: ['127.0.0.1'] } });
  srv.reload();
  await waitForReload(srv, { applied: 0, rejected: 0 });
  const zone = await kdigOutput(axfr);
  t.regex(zone, /web\.marathon\.mesos\.\s+\d+\s+IN\s+A\s/, zone);
  t.is(await metricValue(srv, 'mesodns_transfer_requests_total{type="AXFR",result="ok"}'), 1);
  t.is(await metricValue(srv, 'mesodns_transfer_worker_up'), 1, 'the reload started the worker');
});

/** The demo state with one more running marathon task, `name`, at `ip`. */
async function demoStateWith(name: string, ip: string): Promise<unknown> {
  const state = JSON.parse(await readFile(DEMO_STATE, 'utf8')) as {
    frameworks: { name: string; tasks: Record<string, unknown>[] }[];
  };
  const marathon = state.frameworks.find((f) => f.name === 'marathon');
  const api = marathon?.tasks.find((task) => task.name === 'api');
  if (marathon === undefined || api === undefined) throw new Error('demo state without api');
  marathon.tasks.push({
    ...structuredClone(api),
    id: `${name}.1`,
    name,
    discovery: undefined,
    statuses: [
      {
        state: 'TASK_RUNNING',
        timestamp: 1717000400,
        container_status: { network_infos: [{ ip_addresses: [{ ip_address: ip }] }] },
      },
    ],
  });
  return state;
}

const SECONDARIES: readonly {
  readonly what: string;
  readonly start: typeof startKnotSecondary;
}[] = [
  { what: 'knotd', start: startKnotSecondary },
  { what: 'NSD', start: startNsdSecondary },
];

for (const { what, start } of SECONDARIES) {
  test(`${what} as a TSIG secondary transfers the zone, answers like mesodns, and follows NOTIFY`, async (t) => {
    const port = await freePort();
    const srv = await startMesodns({
      state: JSON.parse(await readFile(DEMO_STATE, 'utf8')) as unknown,
      config: transferConfig({ notify: [`127.0.0.1:${String(port)}`] }),
    });
    t.teardown(() => srv.stop());
    const secondary: Secondary = await start({
      primaryPort: srv.dnsPort,
      key: SECONDARY_KEY,
      port,
    });
    t.teardown(() => secondary.stop());
    for (const [name, type] of [
      ['web.marathon.mesos.', 'A'],
      ['_web._tcp.marathon.mesos.', 'SRV'],
      ['ns1.mesos.', 'A'],
      ['mesos.', 'SOA'],
    ] as const) {
      const fromSecondary = await dig(port, [name, type]);
      const fromMesodns = await dig(srv.dnsPort, [name, type]);
      t.is(fromSecondary.status, 'NOERROR', `${name} ${type}`);
      t.deepEqual(
        fromSecondary.answer.map((r) => r.data).sort(),
        fromMesodns.answer.map((r) => r.data).sort(),
        `${name} ${type}`,
      );
    }
    const transfers = 'mesodns_transfer_requests_total{type="AXFR",result="ok"}';
    const incremental = 'mesodns_transfer_requests_total{type="IXFR",result="ok"}';
    t.is((await metricValue(srv, transfers)) + (await metricValue(srv, incremental)), 1);

    // A new task: mesodns tells the secondary (the SOA refresh is 60 s), which transfers it.
    const stateFile = join(srv.dir, 'state.json');
    await writeFile(stateFile, JSON.stringify(await demoStateWith('notified', '10.200.9.9')));
    await waitFor(
      async () => (await ask(port, 'notified.marathon.mesos.', 'A')).rcode === 'NOERROR',
      10_000,
      `${what} answering the new task`,
    );
    t.deepEqual(
      (await dig(port, ['notified.marathon.mesos.', 'A'])).answer.map((r) => r.data),
      ['10.200.9.9'],
    );
    await waitFor(
      async () => (await metricValue(srv, 'mesodns_notify_total{result="acked"}')) >= 1,
      5_000,
      'an acknowledged NOTIFY',
    );
    // The second transfer was an IXFR of the difference only (a one-task change).
    t.is(await metricValue(srv, transfers), 1, secondary.logs());
    t.is(await metricValue(srv, incremental), 1, secondary.logs());
    const ixfrBytes = await metricValue(srv, 'mesodns_transfer_bytes_total{type="IXFR"}');
    t.true(ixfrBytes > 0 && ixfrBytes < 2048, `${String(ixfrBytes)} bytes`);
  });
}

/** Polls every 10 ms until `check` holds; the milliseconds it took. */
async function msUntil(
  limitMs: number,
  what: string,
  check: () => Promise<boolean>,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > limitMs)
      throw new Error(`${what}: not within ${String(limitMs)} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('streamed launches and kills reach a knot secondary by NOTIFY and IXFR alone', async (t) => {
  const doc = syntheticState({ tasks: 200 });
  addTask(doc, { name: 'probe', ip: '10.99.0.1', framework: 'marathon' });
  const cluster = new FakeMasterCluster({ size: 1, state: doc, heartbeatSeconds: 0.5 });
  await cluster.start();
  t.teardown(() => cluster.close());
  const port = await freePort();
  const srv = await startMesodns({
    config: {
      mesos: { masters: cluster.urls, refresh: '5m' },
      ...transferConfig({ notify: [`127.0.0.1:${String(port)}`] }),
    },
  });
  t.teardown(() => srv.stop());
  const knot = await startKnotSecondary({ primaryPort: srv.dnsPort, key: SECONDARY_KEY, port });
  t.teardown(() => knot.stop());
  // The NOTIFY of the first zone went out before knot was up: wait for its retry's answer.
  await waitFor(
    async () => (await metricValue(srv, 'mesodns_notify_pending')) === 0,
    10_000,
    'no NOTIFY unanswered',
  );
  // Polled from this process (a dig a look would cost more CPU than the secondary's work).
  const answered = async (name: string): Promise<string> =>
    (await ask(port, `${name}.marathon.mesos.`, 'A')).rcode;
  const launches: number[] = [];
  const kills: number[] = [];
  for (let i = 0; i < 8; i++) {
    const name = `x${String(i)}`;
    const id = cluster.launchTask({ name, ip: `10.99.1.${String(i + 1)}`, framework: 'marathon' });
    launches.push(
      await msUntil(10_000, `${name} launched`, async () => (await answered(name)) === 'NOERROR'),
    );
    cluster.killTask(id);
    kills.push(
      await msUntil(10_000, `${name} killed`, async () => (await answered(name)) === 'NXDOMAIN'),
    );
  }
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  t.log(`secondary answered launches after ${sorted(launches).join(', ')} ms`);
  t.log(`secondary answered kills after ${sorted(kills).join(', ')} ms`);
  // mesodns serves each change within a second (test/integration/stream.test.ts), and the NOTIFY
  // and the IXFR add a few milliseconds (`npm run bench:transfer` measures the p99). The bounds
  // here leave room for a busy machine: on a loaded one a change took 3.4 s, hence 10 s for the
  // slowest (without the NOTIFY it would wait for the SOA refresh, 60 s).
  const all = sorted([...launches, ...kills]);
  t.true((all[Math.floor(all.length / 2)] ?? Infinity) < 1000, 'half the changes within 1 s');
  t.true(Math.max(...all) < 10_000, 'every change within 10 s, long before the SOA refresh');
  // After the first transfer, the secondary only ever asked for increments.
  t.is(await metricValue(srv, 'mesodns_transfer_requests_total{type="AXFR",result="ok"}'), 1);
  t.true(
    (await metricValue(srv, 'mesodns_transfer_requests_total{type="IXFR",result="ok"}')) >= 16,
  );
  t.true((await metricValue(srv, 'mesodns_notify_total{result="acked"}')) >= 16);
});

test('a restarted primary goes beyond the serial its secondaries hold', async (t) => {
  // A secondary that holds a serial a day ahead of the clock (changesets had run ahead of it).
  const held = Math.floor(Date.now() / 1000) + 86_400;
  const secondary = createSocket('udp4');
  await new Promise<void>((resolve) => secondary.bind(0, '127.0.0.1', resolve));
  t.teardown(() => secondary.close());
  secondary.on('message', (query, rinfo) => {
    secondary.send(soaAnswer(query, held), rinfo.port, rinfo.address);
  });
  const srv = await startMesodns({
    stateFile: DEMO_STATE,
    config: transferConfig({ notify: [`127.0.0.1:${String(secondary.address().port)}`] }),
  });
  t.teardown(() => srv.stop());
  const soa = await dig(srv.dnsPort, ['mesos.', 'SOA']);
  t.is(Number((soa.answer[0]?.data ?? '').split(/\s+/)[2]), held + 1, JSON.stringify(soa.answer));
});
