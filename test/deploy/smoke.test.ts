/**
 * `npm run smoke` (scripts/smoke.ts, issue 7): against the demo it starts mesodns and a loopback
 * knotd itself and every dig check passes; against a running server (`--server`) it checks a
 * truncating answer and a forwarded name; a wrong answer fails with a FAIL line and exit 1.
 * Needs the built server (`npm run build`); only 127.0.0.1 is contacted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { startMesodns } from '../../support/mesodns.js';
import { startKnot } from '../../support/upstream.js';
import { REPO_ROOT, isRecord, run, type RunResult } from './recipe.js';

/**
 * The script as the tests' build compiled it (scripts/build.ts --tests): the same code `npm run
 * smoke` runs through tsx, without compiling it again for each run.
 */
const SCRIPT = join(REPO_ROOT, '.test-build', 'scripts', 'smoke.js');
const CHECKS = ['A', 'AAAA', 'SRV', 'NXDOMAIN', 'forward', 'TCP', 'EDNS0', 'bufsize'];

function smoke(args: readonly string[]): Promise<RunResult> {
  // INIT_CWD is what npm sets; without it the script resolves --config against its cwd.
  return run(process.execPath, [SCRIPT, ...args], { cwd: REPO_ROOT });
}

/** The `PASS  label  ...` / `FAIL  label  ...` lines, by label. */
function results(out: string): Map<string, { status: string; line: string }> {
  const map = new Map<string, { status: string; line: string }>();
  for (const line of out.split('\n')) {
    const m = /^(PASS|FAIL|SKIP) {2}(\S+)/.exec(line);
    if (m !== null) map.set(m[2] ?? '', { status: m[1] ?? '', line });
  }
  return map;
}

/** The demo state plus `count` more running `api` instances, each with its own IPv4 address. */
async function bigState(count: number): Promise<unknown> {
  const state: unknown = JSON.parse(
    await readFile(join(REPO_ROOT, 'config', 'demo-state.json'), 'utf8'),
  );
  if (!isRecord(state) || !Array.isArray(state.frameworks)) throw new Error('demo state');
  const marathon: unknown = state.frameworks.find((f) => isRecord(f) && f.name === 'marathon');
  if (!isRecord(marathon) || !Array.isArray(marathon.tasks)) throw new Error('no marathon');
  const api: unknown = marathon.tasks.find((task) => isRecord(task) && task.name === 'api');
  if (!isRecord(api)) throw new Error('no api task');
  for (let i = 1; i <= count; i++) {
    const address = [{ protocol: 'IPv4', ip_address: `10.200.1.${String(i)}` }];
    const clone = structuredClone(api);
    clone.id = `api.clone-${String(i)}`;
    clone.statuses = [
      {
        state: 'TASK_RUNNING',
        timestamp: 1717000400 + i,
        container_status: { network_infos: [{ name: 'app-net', ip_addresses: address }] },
      },
    ];
    marathon.tasks.push(clone);
  }
  return state;
}

test('package.json runs scripts/smoke.ts as `npm run smoke`', async (t) => {
  const pkg: unknown = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  const scripts = isRecord(pkg) && isRecord(pkg.scripts) ? pkg.scripts : {};
  t.regex(String(scripts.smoke), /^node --import tsx scripts\/smoke\.ts\b/);
});

test('against the demo, started by the script, every check passes', async (t) => {
  const r = await smoke(['--no-build']);
  t.is(r.code, 0, r.out);
  const found = results(r.out);
  for (const label of [...CHECKS, 'HTTP', 'shutdown']) {
    t.is(found.get(label)?.status, 'PASS', `${label}\n${r.out}`);
  }
  t.regex(r.out, /^smoke: 10 passed, 0 failed, 0 skipped$/m);
  // The forwarded name came from the script's own loopback knotd, never the host's resolvers.
  t.regex(found.get('forward')?.line ?? '', /www\.smoke\.test: .*192\.0\.2\.10/);
  t.log(r.out);
});

test('against a running server: a truncating answer, a forwarded name, the HTTP probes', async (t) => {
  const knot = await startKnot();
  t.teardown(() => knot.stop());
  const server = await startMesodns({
    state: await bigState(40),
    config: { forward: { enabled: true, resolvers: [knot.address] } },
  });
  t.teardown(() => server.stop());
  const r = await smoke([
    '--server',
    `127.0.0.1:${String(server.dnsPort)}`,
    '--http',
    `127.0.0.1:${String(server.httpPort)}`,
    '--forward',
    'www.example.test=192.0.2.10',
    '--big',
    'api.marathon.mesos/A',
  ]);
  t.is(r.code, 0, r.out);
  const found = results(r.out);
  for (const label of [...CHECKS, 'HTTP']) {
    t.is(found.get(label)?.status, 'PASS', `${label}\n${r.out}`);
  }
  t.false(found.has('shutdown'), 'a server it did not start is left running');
  t.regex(found.get('bufsize')?.line ?? '', /with TC \(\d+ of 41 answers\); all 41 over TCP/);
  t.is(server.proc.exitCode, null);
});

test('a wrong answer is a FAIL line and exit status 1', async (t) => {
  const server = await startMesodns({ stateFile: 'config/demo-state.json' });
  t.teardown(() => server.stop());
  const r = await smoke([
    '--server',
    `127.0.0.1:${String(server.dnsPort)}`,
    '--a',
    'worker.marathon.mesos', // a staging task: NXDOMAIN
    '--no-forward',
    '--big',
    'web.marathon.mesos', // fits in 512 bytes: no TC
  ]);
  t.is(r.code, 1, r.out);
  const found = results(r.out);
  t.is(found.get('A')?.status, 'FAIL', r.out);
  t.regex(found.get('A')?.line ?? '', /status NXDOMAIN/);
  t.is(found.get('TCP')?.status, 'FAIL', r.out);
  t.is(found.get('bufsize')?.status, 'FAIL', r.out);
  t.is(found.get('forward')?.status, 'SKIP', r.out);
  t.is(found.get('SRV')?.status, 'PASS', r.out);
  t.regex(r.out, /^smoke: 4 passed, 3 failed, 1 skipped$/m);
});

test('a usage error exits 2 with the usage text', async (t) => {
  const r = await smoke(['--server', '127.0.0.1:53', '--config', 'config/demo.yaml']);
  t.is(r.code, 2, r.out);
  const bad = await smoke(['--no-such-option']);
  t.is(bad.code, 2);
  t.regex(bad.out, /^usage: scripts\/smoke\.ts/m);
});
