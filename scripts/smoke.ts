/**
 * mesodns smoke test: asks a running mesodns the questions every deployment must answer, with
 * dig, and prints one PASS/FAIL line per check. Exit status 0 when every check passed, 1 when one
 * failed, 2 on a usage or setup error. `npm run smoke -- --help` for the options.
 *
 * Without --server it starts mesodns itself (default config: config/demo.yaml) on free loopback
 * ports, with forwarding pointed at a knotd it starts on 127.0.0.1: the smoke test never sends a
 * query to the host's resolvers. The servers are started and asked with the helpers the tests
 * use (support/: `startMesodns`, `startKnot`, `dig`).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parse } from 'yaml';
import { isRecord } from '../src/is-record.js';
import { dig, parseDigOutput, type DigRecord, type DigResult } from '../support/dig.js';
import { startMesodns, type Mesodns } from '../support/mesodns.js';
import { REPO_ROOT } from '../support/paths.js';
import { startKnot, type KnotUpstream } from '../support/upstream.js';

const USAGE = `usage: scripts/smoke.ts [options]          (npm run smoke -- [options])

Where the server comes from (default: start one with config/demo.yaml):
  --server HOST:PORT   test a running mesodns ([v6]:PORT for IPv6); nothing is started
  --config FILE        start mesodns with FILE (YAML or Mesos-DNS JSON); its listeners are moved
                       to free 127.0.0.1 ports and forwarding to a local knotd (zone smoke.test.)
  --no-build           do not run \`npm run build\` before starting mesodns
  --http HOST:PORT     also check GET /health and /ready there (automatic when started here)

What to ask (defaults: names of the demo cluster):
  --domain ZONE        the mesodns domain (default: from the config, else mesos)
  --a NAME             a name with A records               (web.marathon.mesos)
  --aaaa NAME          a name with AAAA records            (api.marathon.mesos)
  --srv NAME           an SRV name with targets in the zone (_web._tcp.marathon.mesos)
  --nxdomain NAME      a name that does not exist          (mesodns-smoke-nxdomain.ZONE)
  --forward NAME[=IP]  a name outside the domain, answered through forwarding, optionally with
                       an address it must contain (started here: www.smoke.test=192.0.2.10;
                       with --server: example.com)
  --no-forward         skip the forwarding check (e.g. forwarding is disabled on purpose)
  --big NAME[/TYPE]    a name whose answer exceeds 512 bytes: with a 512-byte EDNS buffer the
                       reply must be truncated (TC) and complete over TCP (default: the SRV name,
                       which only has to fit the buffer)
`;

/** The upstream zone of a mesodns started here: what the forwarding check asks for. */
const SMOKE_ZONE = [
  '$ORIGIN smoke.test.',
  '$TTL 300',
  '@ IN SOA ns1.smoke.test. hostmaster.smoke.test. 1 3600 600 86400 60',
  '@ IN NS ns1.smoke.test.',
  'ns1 IN A 192.0.2.1',
  'www IN A 192.0.2.10',
  'www IN AAAA 2001:db8::10',
  '',
].join('\n');

/** How long a mesodns started here may take to stop on SIGTERM. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A usage or setup error: the message on stderr, exit status 2. */
class SetupError extends Error {}

// ---------------------------------------------------------------------------------------------
// The command line.

interface Options {
  server: string;
  config: string;
  http: string;
  isBuild: boolean;
  domain: string;
  a: string;
  aaaa: string;
  srv: string;
  nxdomain: string;
  /** `NAME[=IP]`; empty: no forwarding check. */
  forward: string;
  isForwardGiven: boolean;
  /** `NAME[/TYPE]`; empty: the SRV name. */
  big: string;
}

const VALUE_OPTIONS = {
  '--server': 'server',
  '--config': 'config',
  '--http': 'http',
  '--domain': 'domain',
  '--a': 'a',
  '--aaaa': 'aaaa',
  '--srv': 'srv',
  '--nxdomain': 'nxdomain',
  '--forward': 'forward',
  '--big': 'big',
} as const satisfies Record<string, keyof Options>;

function isValueOption(arg: string): arg is keyof typeof VALUE_OPTIONS {
  return Object.hasOwn(VALUE_OPTIONS, arg);
}

/** The options, or undefined after `--help` (printed). */
function parseArgs(args: readonly string[]): Options | undefined {
  const options: Options = {
    server: '',
    config: '',
    http: '',
    isBuild: true,
    domain: '',
    a: 'web.marathon.mesos',
    aaaa: 'api.marathon.mesos',
    srv: '_web._tcp.marathon.mesos',
    nxdomain: '',
    forward: '',
    isForwardGiven: false,
    big: '',
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (isValueOption(arg)) {
      const value = args[i + 1];
      if (value === undefined) throw new SetupError(`smoke: ${arg} needs a value`);
      options[VALUE_OPTIONS[arg]] = value;
      if (arg === '--forward') options.isForwardGiven = true;
      i++;
    } else if (arg === '--no-forward') {
      options.forward = '';
      options.isForwardGiven = true;
    } else if (arg === '--no-build') {
      options.isBuild = false;
    } else if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE);
      return undefined;
    } else {
      throw new SetupError(`smoke: unknown argument: ${arg}\n${USAGE}`);
    }
  }
  if (options.server !== '' && options.config !== '') {
    throw new SetupError('smoke: --server and --config exclude each other');
  }
  return options;
}

/** `host:port` or `[v6]:port`. */
function splitHostPort(text: string, option: string): { host: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m?.[1] === undefined || m[2] === undefined) {
    throw new SetupError(`smoke: ${option} wants HOST:PORT or [v6]:PORT, not ${text}`);
  }
  return { host: m[1], port: Number(m[2]) };
}

// ---------------------------------------------------------------------------------------------
// Starting mesodns (and knotd as its upstream) when no --server was given.

/** What the checks ask, and what to stop afterwards. */
interface Target {
  readonly dnsHost: string;
  readonly dnsPort: number;
  readonly http: { readonly host: string; readonly port: number } | undefined;
  /** The mesodns started here (checked for a clean shutdown), if any. */
  readonly started: Mesodns | undefined;
  readonly domain: string;
  readonly forward: string;
}

/** The servers started here, stopped on every way out. */
const running: { mesodns?: Mesodns; knot?: KnotUpstream } = {};

async function stopAll(): Promise<void> {
  await running.mesodns?.stop();
  await running.knot?.stop();
}

/** The config file as a mapping: YAML, or a Mesos-DNS config.json converted by mesodns. */
function readConfig(file: string): Record<string, unknown> {
  let text: string;
  if (file.endsWith('.json')) {
    const r = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'dist', 'main.js'), 'convert-config', file],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    if (r.status !== 0) throw new SetupError(`smoke: could not convert ${file}`);
    text = r.stdout;
  } else {
    text = readFileSync(file, 'utf8');
  }
  const config: unknown = parse(text) ?? {};
  if (!isRecord(config)) throw new SetupError(`smoke: could not derive a config from ${file}`);
  return config;
}

/**
 * The config to start: `config` with forwarding to `knot` only (no other upstream, no forward
 * zones) and its relative paths made absolute against `base` (the copy lives elsewhere).
 * startMesodns moves the listeners to free loopback ports.
 */
function deriveConfig(
  config: Record<string, unknown>,
  base: string,
  knot: KnotUpstream,
): Record<string, unknown> {
  const section = (key: string): Record<string, unknown> => {
    const value = config[key];
    return isRecord(value) ? { ...value } : {};
  };
  const absolute = (obj: unknown, key: string): void => {
    if (!isRecord(obj)) return;
    const value = obj[key];
    if (typeof value === 'string' && value !== '' && !isAbsolute(value)) {
      obj[key] = resolve(base, value);
    }
  };
  const mesos = section('mesos');
  absolute(mesos, 'stateFile');
  for (const key of ['auth', 'tls']) if (isRecord(mesos[key])) mesos[key] = { ...mesos[key] };
  absolute(mesos['auth'], 'secretFile');
  for (const key of ['ca', 'cert', 'key']) absolute(mesos['tls'], key);
  return {
    ...config,
    ...(isRecord(config['mesos']) ? { mesos } : {}),
    forward: { ...section('forward'), enabled: true, resolvers: [knot.address], zones: {} },
  };
}

async function startHere(options: Options): Promise<Target> {
  const callerDir = process.env['INIT_CWD'] ?? process.cwd();
  const config =
    options.config === ''
      ? join(REPO_ROOT, 'config', 'demo.yaml')
      : resolve(callerDir, options.config);
  try {
    accessSync(config, constants.R_OK);
  } catch {
    throw new SetupError(`smoke: cannot read ${config}`);
  }
  if (options.isBuild) {
    const build = spawnSync('npm', ['run', 'build', '--silent'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new SetupError('smoke: npm run build failed');
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'main.js'))) {
    throw new SetupError('smoke: dist/main.js missing: run npm run build');
  }
  const source = readConfig(config);
  if (!existsSync('/usr/sbin/knotd') && spawnSync('knotd', ['-V']).error !== undefined) {
    throw new SetupError('smoke: knotd not found (Debian: apt-get install knot)');
  }
  const domain = typeof source['domain'] === 'string' ? source['domain'].toLowerCase() : 'mesos';
  try {
    running.knot = await startKnot({ 'smoke.test.': SMOKE_ZONE });
  } catch (error) {
    throw new SetupError(`smoke: knotd did not start: ${String(error)}`);
  }
  try {
    running.mesodns = await startMesodns({
      config: deriveConfig(source, dirname(config), running.knot),
      asGiven: true,
    });
  } catch (error) {
    throw new SetupError(`smoke: mesodns did not start: ${String(error)}`);
  }
  const { dnsPort, httpPort } = running.mesodns;
  const shown = config.startsWith(`${REPO_ROOT}/`) ? relative(REPO_ROOT, config) : config;
  out(
    `smoke: mesodns started with ${shown} on 127.0.0.1:${String(dnsPort)} ` +
      `(HTTP :${String(httpPort)}), forwarding to knotd on ${running.knot.address}`,
  );
  return {
    dnsHost: '127.0.0.1',
    dnsPort,
    http: { host: '127.0.0.1', port: httpPort },
    started: running.mesodns,
    domain: options.domain === '' ? domain : options.domain,
    forward: options.isForwardGiven ? options.forward : 'www.smoke.test=192.0.2.10',
  };
}

function remoteTarget(options: Options): Target {
  const dns = splitHostPort(options.server, '--server');
  out(`smoke: testing mesodns at ${options.server}`);
  return {
    dnsHost: dns.host,
    dnsPort: dns.port,
    http: options.http === '' ? undefined : splitHostPort(options.http, '--http'),
    started: undefined,
    domain: options.domain === '' ? 'mesos' : options.domain,
    forward: options.isForwardGiven ? options.forward : 'example.com',
  };
}

// ---------------------------------------------------------------------------------------------
// The checks.

/** Counts the results and prints one line per check. */
class Results {
  passed = 0;
  failed = 0;
  skipped = 0;

  pass(label: string, text: string): void {
    out(`PASS  ${label.padEnd(9)} ${text}`);
    this.passed++;
  }

  fail(label: string, text: string): void {
    out(`FAIL  ${label.padEnd(9)} ${text}`);
    this.failed++;
  }

  skip(label: string, text: string): void {
    out(`SKIP  ${label.padEnd(9)} ${text}`);
    this.skipped++;
  }
}

/** Records of a section, of one type or all. */
function records(list: readonly DigRecord[], type?: string): DigRecord[] {
  return list.filter((r) => type === undefined || r.type === type);
}

/** The rdata of records, space separated. */
function rdata(list: readonly DigRecord[]): string {
  return list.map((r) => r.data).join(' ');
}

/** What went wrong, briefly: the status and flags, or dig's complaint when there was no reply. */
function describe(r: DigResult): string {
  if (r.status === 'NOREPLY') {
    const complaint = `${r.raw}\n${r.stderr}`
      .split('\n')
      .find((l) =>
        /^;; (communications error|connection timed out|no servers)|timed out|refused/.test(l),
      );
    return complaint ?? 'no reply';
  }
  return `status ${r.status}, flags: ${[...r.flags].join(' ')}`;
}

async function runChecks(target: Target, options: Options, results: Results): Promise<void> {
  const { domain } = target;
  const q = async (...args: string[]): Promise<DigResult> => {
    try {
      return await dig(target.dnsPort, ['+time=2', '+tries=2', ...args], {
        server: target.dnsHost,
        anyServer: true,
      });
    } catch (error) {
      return parseDigOutput('', error instanceof Error ? error.message : String(error), 1);
    }
  };
  const isAuthoritativeAnswer = (r: DigResult, type: string): boolean =>
    r.status === 'NOERROR' && r.flags.has('aa') && records(r.answer, type).length > 0;

  // An authoritative NOERROR answer with at least one record of the type.
  for (const [label, name] of [
    ['A', options.a],
    ['AAAA', options.aaaa],
  ] as const) {
    const r = await q(name, label);
    const found = records(r.answer, label);
    if (isAuthoritativeAnswer(r, label)) {
      results.pass(label, `${name}: ${String(found.length)} record(s): ${rdata(found)}`);
    } else {
      results.fail(
        label,
        `${name} ${label}: want NOERROR, aa and ${label} records; got ${describe(r)}, ` +
          `${String(found.length)} ${label} record(s)`,
      );
    }
  }

  // SRV: every target has its address in the additional section.
  const srvName = options.srv;
  const srv = await q(srvName, 'SRV');
  const srvRecords = records(srv.answer, 'SRV');
  if (isAuthoritativeAnswer(srv, 'SRV')) {
    const additional = new Set(
      srv.additional
        .filter((r) => r.type === 'A' || r.type === 'AAAA')
        .map((r) => r.name.toLowerCase()),
    );
    const targets = new Set(srvRecords.map((r) => (r.data.split(/\s+/)[3] ?? '').toLowerCase()));
    const missing = [...targets].sort().filter((t) => !additional.has(t));
    if (missing.length === 0) {
      results.pass(
        'SRV',
        `${srvName}: ${String(srvRecords.length)} record(s), every target's address in the ` +
          'additional section',
      );
    } else {
      results.fail(
        'SRV',
        `${srvName}: no address in the additional section for: ${missing.join(' ')}`,
      );
    }
  } else {
    results.fail(
      'SRV',
      `${srvName}: want NOERROR, aa and SRV records; got ${describe(srv)}, ` +
        `${String(srvRecords.length)} SRV record(s)`,
    );
  }

  // NXDOMAIN with the zone's SOA in the authority section (negative caching, RFC 2308).
  const nxName = options.nxdomain === '' ? `mesodns-smoke-nxdomain.${domain}` : options.nxdomain;
  const nx = await q(nxName, 'A');
  const soaOwner = records(nx.authority, 'SOA')[0]?.name.toLowerCase() ?? '';
  if (nx.status === 'NXDOMAIN' && nx.flags.has('aa') && soaOwner === `${domain}.`.toLowerCase()) {
    results.pass('NXDOMAIN', `${nxName}: NXDOMAIN, SOA ${soaOwner} in the authority section`);
  } else {
    results.fail(
      'NXDOMAIN',
      `${nxName}: want NXDOMAIN, aa and the SOA of ${domain}.; got ${describe(nx)}, ` +
        `SOA owner '${soaOwner}'`,
    );
  }

  // A name outside the domain, answered by the upstream: not authoritative.
  if (target.forward === '') {
    results.skip('forward', 'no --forward name');
  } else {
    const [forwardName = '', ...ip] = target.forward.split('=');
    const wantIp = ip.join('=');
    const r = await q(forwardName, 'A');
    const n = r.answer.length;
    const addresses = rdata(records(r.answer, 'A'));
    if (r.status !== 'NOERROR' || n === 0) {
      results.fail(
        'forward',
        `${forwardName}: want NOERROR with an answer; got ${describe(r)}, ${String(n)} record(s)`,
      );
    } else if (r.flags.has('aa')) {
      results.fail('forward', `${forwardName}: the answer has AA set: not forwarded`);
    } else if (wantIp !== '' && !` ${addresses} `.includes(` ${wantIp} `)) {
      results.fail(
        'forward',
        `${forwardName}: want ${wantIp} among the addresses; got ${addresses}`,
      );
    } else {
      results.pass(
        'forward',
        `${forwardName}: ${String(n)} record(s) from upstream (no AA): ${addresses}`,
      );
    }
  }

  // TCP (RFC 7766).
  const tcp = await q('+tcp', options.a, 'A');
  if (isAuthoritativeAnswer(tcp, 'A')) {
    results.pass(
      'TCP',
      `${options.a} over TCP: ${String(records(tcp.answer, 'A').length)} record(s)`,
    );
  } else {
    results.fail(
      'TCP',
      `${options.a} over TCP: want NOERROR, aa and A records; got ${describe(tcp)}`,
    );
  }

  // EDNS0 (RFC 6891): an OPT comes back when one was sent, and none when none was sent.
  const edns = await q('+edns=0', '+bufsize=1232', srvName, 'SRV');
  const plain = await q('+noedns', srvName, 'SRV');
  if (edns.ednsUdpSize === undefined || edns.ednsVersion !== 0) {
    results.fail(
      'EDNS0',
      `${srvName}: no OPT (EDNS version 0) in the reply to an EDNS query; got ${describe(edns)}`,
    );
  } else if (plain.ednsUdpSize !== undefined) {
    results.fail('EDNS0', `${srvName}: an OPT in the reply to a query without EDNS`);
  } else if (plain.status !== 'NOERROR') {
    results.fail('EDNS0', `${srvName} without EDNS: got ${describe(plain)}`);
  } else {
    results.pass(
      'EDNS0',
      `${srvName}: OPT echoed (version 0, server buffer ${String(edns.ednsUdpSize)} bytes), ` +
        'none without EDNS',
    );
  }

  // The client's buffer size is honoured: a 512-byte buffer gets at most 512 bytes, the rest is
  // left out and TC set when answers had to go (--big), and TCP then gets everything.
  const isBig = options.big !== '';
  const [bigName = '', bigType = 'A'] = isBig ? options.big.split('/') : [srvName, 'SRV'];
  const small = await q('+bufsize=512', '+ignore', bigName, bigType);
  const size = small.msgSize;
  const label = `${bigName} ${bigType}`;
  if (size === undefined || small.status !== 'NOERROR') {
    results.fail('bufsize', `${label} with a 512-byte buffer: got ${describe(small)}`);
  } else if (size > 512) {
    results.fail('bufsize', `${label}: a ${String(size)}-byte reply to a 512-byte buffer`);
  } else if (small.flags.has('tc') || isBig) {
    const full = await q('+tcp', bigName, bigType);
    const nSmall = small.answer.length;
    const nFull = full.answer.length;
    if (isBig && !small.flags.has('tc')) {
      results.fail(
        'bufsize',
        `${label}: ${String(size)} bytes, ${String(nSmall)} answer(s), no TC: is the answer ` +
          'really larger than 512 bytes?',
      );
    } else if (full.status !== 'NOERROR' || nFull <= nSmall) {
      results.fail(
        'bufsize',
        `${label}: truncated to ${String(nSmall)} answer(s), but TCP gave ${describe(full)} ` +
          `with ${String(nFull)}`,
      );
    } else {
      results.pass(
        'bufsize',
        `${label}: 512-byte buffer -> ${String(size)} bytes with TC (${String(nSmall)} of ` +
          `${String(nFull)} answers); all ${String(nFull)} over TCP`,
      );
    }
  } else {
    results.pass(
      'bufsize',
      `${label}: 512-byte buffer -> complete ${String(size)}-byte reply, no TC needed`,
    );
  }

  // HTTP probes, when known.
  if (target.http !== undefined) {
    const { host, port } = target.http;
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
    const probes = await Promise.all(
      ['/health', '/ready'].map((path) =>
        fetch(base + path, { signal: AbortSignal.timeout(5000) }).then(
          (res) => `${path} ${String(res.status)}`,
          (error: unknown) => `${path} ${error instanceof Error ? error.message : String(error)}`,
        ),
      ),
    );
    const text = probes.join(', ');
    if (probes.every((p) => p.endsWith(' 200'))) results.pass('HTTP', `${base}: ${text}`);
    else results.fail('HTTP', `${base}: want 200 from /health and /ready; got ${text}`);
  }

  // A mesodns started here must stop cleanly on SIGTERM.
  const started = target.started;
  if (started !== undefined) {
    started.proc.kill('SIGTERM');
    const code = await Promise.race([
      started.exited,
      delay(SHUTDOWN_TIMEOUT_MS, undefined, { ref: false }),
    ]);
    if (code === 0) results.pass('shutdown', 'SIGTERM: exit status 0');
    else {
      results.fail(
        'shutdown',
        `SIGTERM: want exit status 0 within 10 s; got '${code === undefined ? 'still running' : String(code)}'`,
      );
    }
    if (results.failed > 0) {
      out('--- mesodns log ---');
      process.stdout.write(started.logs());
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options === undefined) return 0;
  if (spawnSync('dig', ['-v'], { stdio: 'ignore' }).error !== undefined) {
    throw new SetupError('smoke: dig not found (Debian: apt-get install bind9-dnsutils)');
  }
  const target = options.server === '' ? await startHere(options) : remoteTarget(options);
  const results = new Results();
  await runChecks({ ...target, domain: target.domain.replace(/\.$/, '') }, options, results);
  out(
    `smoke: ${String(results.passed)} passed, ${String(results.failed)} failed, ` +
      `${String(results.skipped)} skipped`,
  );
  return results.failed === 0 ? 0 : 1;
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(code));
  });
}

let status: number;
try {
  status = await main();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  process.stderr.write(`${error.message}\n`);
  status = 2;
} finally {
  await stopAll();
}
process.exitCode = status;
