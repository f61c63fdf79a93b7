/** The command line: records, check-config, convert-config, usage errors. */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import test from 'ava';
import { parseConfig } from '../../src/config/index.js';
import { parse as parseYaml } from 'yaml';
import { startMesodns } from '../../support/mesodns.js';
import { Slots } from '../../support/slots.js';
import { freePort } from '../../support/ports.js';
import { toV1State } from '../../support/v1-state.js';
import { syntheticState } from '../../support/cluster.js';
import { options } from '../../support/state-builder.js';
import { generateRecords, toZoneFile } from '../../src/records/index.js';
import { parseState } from '../../src/mesos/index.js';

/**
 * At most this many CLI processes at once: a file of ~40 tests spawning node together on a
 * loaded two-core machine would time out rather than test anything.
 */
const cliSlots = new Slots(2);

async function run(
  args: string[],
  command: readonly string[] = [process.execPath],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file = process.execPath, ...before] = command;
  return cliSlots.run(
    () =>
      new Promise((resolve) => {
        execFile(
          file,
          [...before, resolvePath('dist/main.js'), ...args],
          { timeout: 60_000, maxBuffer: 256 * 1024 * 1024 },
          (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
            const note = err?.killed === true ? `\n[killed after 60 s: ${String(err.signal)}]` : '';
            resolve({ code, stdout, stderr: stderr + note });
          },
        );
      }),
  );
}

async function tempFile(
  t: { teardown: (fn: () => unknown) => void },
  name: string,
  text: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

test('records prints the zone of a state document as zone-file lines', async (t) => {
  const r = await run(['records', '--state', 'test/fixtures/fake.json']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.true(
    lines.includes('liquor-store-4dfjd-0.marathon.mesos. 60 IN A 1.2.3.11'),
    lines.slice(0, 5).join('\n'),
  );
  t.true(
    lines.includes(
      '_http._liquor-store._tcp.marathon.mesos. 60 IN SRV 0 1 80 liquor-store-4dfjd-0.marathon.mesos.',
    ),
  );
  t.true(lines.includes('leader.mesos. 60 IN A 1.2.3.4'));
  t.true(
    lines.every((l) => /^\S+\.\s60\sIN\s(A|AAAA|SRV)\s/.test(l)),
    'every line is a record',
  );
});

test('records prints every line of a large zone into a pipe before it exits', async (t) => {
  // 3,000 tasks make megabytes of lines: more than a pipe takes before its reader catches up.
  const state = await tempFile(t, 'big.json', JSON.stringify(syntheticState({ tasks: 3000 })));
  const r = await run(['records', '--state', state]);
  t.is(r.code, 0, r.stderr);
  const expected = generateRecords(
    parseState(JSON.parse(await readFile(state, 'utf8'))).state,
    options(),
  );
  const lines = r.stdout.split('\n');
  t.is(lines.at(-1), '', 'the output ends with a whole line');
  // Every line, in the order the command makes them (the NS address aside: it is the listener's).
  const want = toZoneFile(expected, { ttl: 60, srvWeight: 1 }).filter((l) => !l.startsWith('ns1.'));
  t.deepEqual(
    lines.slice(0, -1).filter((l) => !l.startsWith('ns1.')),
    want,
  );
});

test('records honours the config: RFC 952 labels, TTL, SRV weight and address views', async (t) => {
  const config = await tempFile(
    t,
    'c.yaml',
    'mesos:\n  stateFile: x.json\nrecords:\n  enforceRFC952: true\n  ttl: 7\n  srvWeight: 3\n' +
      '  addressViews: true\n',
  );
  const r = await run(['records', '--state', 'test/fixtures/fake.json', '--config', config]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^some-box\.chronoswithaspaceandmixe\.mesos\. 7 IN A 1\.2\.3\.11$/m);
  t.regex(r.stdout, /^_car-store\._tcp\.marathon\.mesos\. 7 IN SRV 0 3 31364 /m);
  t.regex(r.stdout, /^some-box\.chronoswithaspaceandmixe\.autoip\.mesos\. 7 IN A 1\.2\.3\.11$/m);
  t.regex(r.stdout, /^_car-store\._tcp\.marathon\.agentip\.mesos\. 7 IN SRV 0 3 31364 /m);
});

test('records prints the PTR records with reverse lookups on', async (t) => {
  const config = await tempFile(
    t,
    'c.yaml',
    'mesos:\n  stateFile: x.json\nrecords:\n  reverse: { enabled: true, zones: [10.0.0.0/8] }\n',
  );
  const r = await run(['records', '--state', 'test/fixtures/fake.json', '--config', config]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^3\.0\.3\.10\.in-addr\.arpa\. 60 IN PTR nginx-6ud99-0\.marathon\.mesos\.$/m);
  t.regex(r.stdout, /^nginx-6ud99-0\.marathon\.mesos\. 60 IN A 10\.3\.0\.3$/m, 'forward agrees');
});

test('check-config accepts a valid file and the shipped demo config', async (t) => {
  const r = await run(['check-config', 'config/demo.yaml']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /OK/);
});

test('check-config prints every problem with line:column and exits 1', async (t) => {
  const file = await tempFile(
    t,
    'bad.yaml',
    'mesos:\n  masters: [http://127.0.0.1:5050]\n  refesh: 30s\nrecords:\n  ttl: -1\n',
  );
  const r = await run(['check-config', file]);
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /bad\.yaml:3:3: mesos\.refesh: unknown key 'refesh' \(did you mean 'refresh'\?\)/,
  );
  t.regex(r.stderr, /bad\.yaml:5:8: records\.ttl: /);
});

test('serve refuses an invalid config with its problems and exit 1', async (t) => {
  const file = await tempFile(t, 'bad.yaml', 'dns:\n  listen: nowhere\n');
  const r = await run(['serve', '--config', file]);
  t.is(r.code, 1);
  t.regex(r.stderr, /bad\.yaml:\d+:\d+: /);
});

test('convert-config turns a Mesos-DNS config.json into YAML that loads to the same config', async (t) => {
  const r = await run(['convert-config', 'test/fixtures/mesos-dns-config.json']);
  t.is(r.code, 0, r.stderr);
  const fromYaml = parseConfig(r.stdout, 'converted.yaml');
  t.is(fromYaml.mesos.zk, 'zk://127.0.0.1:2181/mesos');
  t.deepEqual(fromYaml.records.ipSources, ['mesos', 'host']);
  t.is(fromYaml.dns.listen.port, 8053);
});

test('unknown commands print usage and exit 2', async (t) => {
  const r = await run(['frobnicate']);
  t.is(r.code, 2);
  t.regex(r.stderr, /usage:/);
});

// ---------------------------------------------------------------------------------------------
// Every expected failure: one line on stderr (what, where, what to do), no stack, exit 2 for
// usage errors and 1 for the others.

const CWD = process.cwd();
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const EXPECTED_STATE =
  "expected the JSON of GET /master/state (an object with 'slaves' and 'frameworks') " +
  "or of a v1 GET_STATE answer (an object with 'get_state')";
const STACK = /^\s+at /m;

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mesodns-cli-table-'));
  await writeFile(join(dir, 'bad.json'), '{\n  "slaves": [,]\n}\n');
  await writeFile(join(dir, 'empty.json'), '{}\n');
  await writeFile(join(dir, 'list.json'), '[]\n');
  await writeFile(join(dir, 'bad.yaml'), 'mesos:\n  masters: [http://a:5050\nrecords: {}\n');
  await writeFile(join(dir, 'ttl.yaml'), 'mesos:\n  stateFile: x.json\nrecords:\n  ttl: 1d\n');
});
test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface FailureCase {
  readonly args: (dir: string) => string[];
  readonly code: 1 | 2;
  /** The first line of stderr, exactly. */
  readonly line: (dir: string) => string;
  /** Usage errors print this usage after the line: the top-level one or a command's. */
  readonly usage?: 'top' | 'serve' | 'check-config' | 'records';
}

const FAILURES: Readonly<Record<string, FailureCase>> = {
  'an unknown option, with a suggestion': {
    args: () => ['--conf', 'x.yaml'],
    code: 2,
    line: () => "mesodns: unknown option '--conf' (did you mean '--config'?)",
    usage: 'top',
  },
  'an unknown option of a command': {
    args: () => ['records', '--sate', 'x.json'],
    code: 2,
    line: () => "mesodns: unknown option '--sate' (did you mean '--state'?)",
    usage: 'records',
  },
  'an option without its value': {
    args: () => ['serve', '--config'],
    code: 2,
    line: () => "mesodns: option '--config' needs a value",
    usage: 'serve',
  },
  'an unknown command': {
    args: () => ['recrods'],
    code: 2,
    line: () => "mesodns: unknown command 'recrods' (did you mean 'records'?)",
    usage: 'top',
  },
  'serve without a config': {
    args: () => [],
    code: 2,
    line: () => 'mesodns: serve needs a config file',
    usage: 'serve',
  },
  'records without a state': {
    args: () => ['records'],
    code: 2,
    line: () => 'mesodns: records needs a state file (--state STATE.json)',
    usage: 'records',
  },
  'an option another command takes': {
    args: () => ['check-config', 'a.yaml', '--state', 'x.json'],
    code: 2,
    line: () => 'mesodns: check-config does not take --state (records does)',
    usage: 'check-config',
  },
  'an extra argument': {
    args: () => ['check-config', 'a.yaml', 'b.yaml'],
    code: 2,
    line: () => "mesodns: unexpected argument 'b.yaml'",
    usage: 'check-config',
  },
  'a missing state file': {
    args: () => ['records', '--state', 'missing.json'],
    code: 1,
    line: () =>
      `missing.json: cannot read the Mesos state: no such file or directory (ENOENT); check the path (relative to ${CWD})`,
  },
  'a directory as the state file': {
    args: (d) => ['records', '--state', d],
    code: 1,
    line: (d) => `${d}: cannot read the Mesos state: is a directory (EISDIR); give a file`,
  },
  'a state file that is not JSON': {
    args: (d) => ['records', '--state', join(d, 'bad.json')],
    code: 1,
    line: (d) =>
      `${join(d, 'bad.json')}:2:14: invalid JSON: Unexpected token ','; ${EXPECTED_STATE}`,
  },
  'a config file given as the state': {
    args: () => ['records', '--state', 'config/demo.yaml'],
    code: 1,
    line: () => `config/demo.yaml:1:1: invalid JSON: Unexpected token '#'; ${EXPECTED_STATE}`,
  },
  'a Mesos-DNS config.json given as the state': {
    args: () => ['records', '--state', 'test/fixtures/mesos-dns-config.json'],
    code: 1,
    line: () =>
      `test/fixtures/mesos-dns-config.json: not a Mesos state: got an object with 'zk', 'masters', 'stateTimeoutSeconds', ...; ${EXPECTED_STATE}`,
  },
  'an empty object as the state': {
    args: (d) => ['records', '--state', join(d, 'empty.json')],
    code: 1,
    line: (d) =>
      `${join(d, 'empty.json')}: not a Mesos state: got an empty object; ${EXPECTED_STATE}`,
  },
  'a list as the state': {
    args: (d) => ['records', '--state', join(d, 'list.json')],
    code: 1,
    line: (d) => `${join(d, 'list.json')}: not a Mesos state: got an array; ${EXPECTED_STATE}`,
  },
  'a missing config file (serve)': {
    args: () => ['serve', '--config', 'missing.yaml'],
    code: 1,
    line: () =>
      `missing.yaml: cannot read the configuration: no such file or directory (ENOENT); check the path (relative to ${CWD})`,
  },
  'a missing config file (records)': {
    args: () => ['records', '--state', 'config/demo-state.json', '--config', '/nonexistent/c.yaml'],
    code: 1,
    line: () =>
      '/nonexistent/c.yaml: cannot read the configuration: no such file or directory (ENOENT); check the path',
  },
  'invalid YAML': {
    args: (d) => ['serve', '--config', join(d, 'bad.yaml')],
    code: 1,
    line: (d) =>
      `${join(d, 'bad.yaml')}:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
  },
  'a duration with an unknown unit': {
    args: (d) => ['check-config', join(d, 'ttl.yaml')],
    code: 1,
    line: (d) =>
      `${join(d, 'ttl.yaml')}:4:8: records.ttl: must be a number of seconds or a duration such as 30s, 5m or 1h`,
  },
};

function usageHead(usage: NonNullable<FailureCase['usage']>): string {
  return usage === 'top'
    ? `mesodns ${VERSION}: service-discovery DNS for Apache Mesos`
    : `usage: mesodns ${usage === 'serve' ? '[serve]' : usage} `;
}

for (const [title, c] of Object.entries(FAILURES)) {
  test(`one line, exit ${String(c.code)}: ${title}`, async (t) => {
    const r = await run(c.args(dir));
    t.is(r.code, c.code, r.stderr);
    const [first, ...rest] = r.stderr.split('\n');
    t.is(first, c.line(dir));
    t.notRegex(r.stderr, STACK);
    t.is(r.stdout, '');
    if (c.usage === undefined) {
      t.deepEqual(rest, [''], 'nothing but the line');
    } else {
      t.is(rest[0], '');
      t.true(rest[1]?.startsWith(usageHead(c.usage)), rest.join('\n'));
    }
  });
}

test('--debug adds the stack trace and its cause to the line', async (t) => {
  const r = await run(['records', '--state', 'missing.json', '--debug']);
  t.is(r.code, 1);
  t.regex(r.stderr.split('\n')[0] ?? '', /^missing\.json: cannot read the Mesos state: /);
  t.regex(r.stderr, STACK);
  t.regex(r.stderr, /caused by:\nError: ENOENT/);
});

for (const command of [undefined, 'serve', 'check-config', 'convert-config', 'records']) {
  const prefix = command === undefined ? [] : [command];
  test(`--version and --help of ${command ?? 'the top level'}`, async (t) => {
    for (const flag of ['--version', '-v']) {
      const r = await run([...prefix, flag]);
      t.is(r.code, 0, r.stderr);
      t.is(r.stdout, `mesodns ${VERSION}\n`);
      t.is(r.stderr, '');
    }
    for (const flag of ['--help', '-h']) {
      const r = await run([...prefix, flag]);
      t.is(r.code, 0, r.stderr);
      t.is(r.stderr, '');
      if (command === undefined) {
        t.true(r.stdout.startsWith(usageHead('top')));
        t.regex(r.stdout, /mesodns records --state STATE\.json \[--config FILE\]/);
      } else {
        t.true(r.stdout.startsWith(`usage: mesodns ${command === 'serve' ? '[serve]' : command} `));
      }
      t.regex(r.stdout, /--debug +stack traces for errors/);
    }
  });
}

test('a Mesos-DNS config.json named config.json.sample is read as one', async (t) => {
  const sample = join(dir, 'config.json.sample');
  await copyFile('test/fixtures/mesos-dns-config.json', sample);
  const check = await run(['check-config', sample]);
  t.is(check.code, 0, check.stderr);
  t.is(check.stdout, `${sample}: OK\n`);
  const converted = await run(['convert-config', sample]);
  t.is(converted.code, 0, converted.stderr);
  t.regex(converted.stdout, /^# Converted from the Mesos-DNS configuration/);
  t.is(parseConfig(converted.stdout, 'c.yaml').mesos.zk, 'zk://127.0.0.1:2181/mesos');
});

test('records reads a v1 GET_STATE answer', async (t) => {
  const v0: unknown = JSON.parse(await readFile('config/demo-state.json', 'utf8'));
  const file = await tempFile(
    t,
    'get-state.json',
    JSON.stringify({ type: 'GET_STATE', get_state: toV1State(v0) }),
  );
  const r = await run(['records', '--state', file, '--config', 'config/demo.yaml']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^web\.marathon\.mesos\. 60 IN A 10\.0\.1\.21$/m);
});

// Bind errors: a port held by this test process, and a privileged port without privileges.

async function serveConfig(
  t: { teardown: (fn: () => unknown) => void },
  dnsPort: number,
  httpPort: number,
): Promise<string> {
  return tempFile(
    t,
    'serve.yaml',
    [
      'mesos:',
      `  stateFile: ${resolvePath('config/demo-state.json')}`,
      'dns:',
      `  listen: 127.0.0.1:${String(dnsPort)}`,
      'http:',
      `  listen: 127.0.0.1:${String(httpPort)}`,
      'forward:',
      '  enabled: false',
      '',
    ].join('\n'),
  );
}

/** The EADDRINUSE line; the holder is this test process when /proc can tell. */
function inUseLine(port: number, protocol: 'UDP' | 'TCP', key: string): RegExp {
  const holder = `(\\S+ \\(pid ${String(process.pid)}\\)|another process)`;
  return new RegExp(
    `^mesodns: cannot listen on 127\\.0\\.0\\.1:${String(port)} ${protocol} \\(${key.replace('.', '\\.')}\\): address already in use \\(EADDRINUSE\\) by ${holder}; stop it or set ${key.replace('.', '\\.')} to another port$`,
  );
}

test('a DNS port in use: which address, which key, who holds it', async (t) => {
  const socket = createSocket('udp4');
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
  t.teardown(() => socket.close());
  const port = socket.address().port;
  const config = await serveConfig(t, port, await freePort());
  const r = await run(['serve', '--config', config]);
  t.is(r.code, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  t.regex(lines.at(-1) ?? '', inUseLine(port, 'UDP', 'dns.listen'));
  t.notRegex(r.stderr, STACK);
});

test('an HTTP port in use', async (t) => {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(
    () =>
      new Promise<void>((done) =>
        server.close(() => {
          done();
        }),
      ),
  );
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const config = await serveConfig(t, await freePort(), port);
  const r = await run(['serve', '--config', config]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr.trimEnd().split('\n').at(-1) ?? '', inUseLine(port, 'TCP', 'http.listen'));
  t.notRegex(r.stderr, STACK);
});

// Root binds anything: the child drops to nobody (no capabilities) with setpriv. Elsewhere the
// message is covered by test/os-errors.test.ts.
const canDropPrivileges = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
(canDropPrivileges ? test : test.skip)('a port below 1024 without privileges', async (t) => {
  const config = await serveConfig(t, 853, await freePort());
  const configDir = join(config, '..');
  await chmod(configDir, 0o755);
  await chmod(config, 0o644);
  const r = await run(
    ['serve', '--config', config],
    ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath],
  );
  t.is(r.code, 1, r.stderr);
  t.is(
    r.stderr.trimEnd().split('\n').at(-1),
    "mesodns: cannot listen on 127.0.0.1:853 UDP (dns.listen): permission denied (EACCES), ports below 1024 need privileges; run as root, grant CAP_NET_BIND_SERVICE (setcap 'cap_net_bind_service=+ep' $(command -v node), or AmbientCapabilities=CAP_NET_BIND_SERVICE in the systemd unit), or set dns.listen to a port of 1024 or more",
  );
  t.notRegex(r.stderr, STACK);
});

// records and serve agree: the same config gives the same records, N1 (ns1.<domain>) included.

interface RecordSets {
  As: Record<string, string[]>;
  AAAAs: Record<string, string[]>;
  SRVs: Record<string, string[]>;
}

function fromZoneLines(text: string): RecordSets {
  const out: RecordSets = { As: {}, AAAAs: {}, SRVs: {} };
  for (const line of text.trim().split('\n')) {
    const [name = '', , , type, ...rdata] = line.split(' ');
    const key = type === 'A' ? 'As' : type === 'AAAA' ? 'AAAAs' : 'SRVs';
    // SRV rdata: priority weight port target; /v1/axfr lists target:port.
    const value = type === 'SRV' ? `${rdata[3] ?? ''}:${rdata[2] ?? ''}` : (rdata[0] ?? '');
    (out[key][name] ??= []).push(value);
  }
  return out;
}

function sorted(sets: RecordSets): RecordSets {
  const sort = (r: Record<string, string[]>): Record<string, string[]> =>
    Object.fromEntries(
      Object.entries(r)
        .map(([k, v]) => [k, [...v].sort()] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  return { As: sort(sets.As), AAAAs: sort(sets.AAAAs), SRVs: sort(sets.SRVs) };
}

for (const host of ['127.0.0.1', 'localhost']) {
  test(`records and serve agree on every record of the demo config (dns.listen on ${host})`, async (t) => {
    const demo = parseYaml(await readFile('config/demo.yaml', 'utf8')) as Record<string, unknown>;
    // The demo's own listeners and forwarding (the host's resolvers) are the test's business.
    const rest = Object.fromEntries(
      Object.entries(demo).filter(([k]) => !['forward', 'dns', 'http'].includes(k)),
    );
    const port = await freePort();
    const srv = await startMesodns({
      stateFile: 'config/demo-state.json',
      config: { ...rest, dns: { listen: `${host}:${String(port)}` } },
    });
    t.teardown(() => srv.stop());
    const axfr = (await (await fetch(`${srv.httpUrl}/v1/axfr`)).json()) as {
      Records: RecordSets;
    };
    const r = await run([
      'records',
      '--state',
      'config/demo-state.json',
      '--config',
      srv.configPath,
    ]);
    t.is(r.code, 0, r.stderr);
    const printed = sorted(fromZoneLines(r.stdout));
    t.deepEqual(printed, sorted(axfr.Records));
    t.deepEqual(printed.As['ns1.mesos.'], ['127.0.0.1']);
  });
}
