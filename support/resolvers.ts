/**
 * Real DNS resolvers in front of mesodns, for the client tests (test/integration/clients.test.ts):
 * dnsmasq and unbound, each run in the foreground on a fresh 127.0.0.1 port with a config that
 * docs/resolvers.md mirrors, stopped by pid. Nothing here listens or sends beyond loopback:
 * dnsmasq only knows mesodns; unbound's root zone is a stub at mesodns too (which refuses it), it
 * sends from 127.0.0.1 (`outgoing-interface`) and has IPv6 off, so it never asks a root server,
 * even when it tries to validate (scripts/hermetic.sh would see the packet).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { onFreshPort, startDaemon } from './daemon.js';
import { buildQuery, queryRaw } from './mesodns.js';

const READY_TIMEOUT_MS = 15_000;

/** The root zone's KSK-2017 DS record (public data): a validating unbound, as installed. */
export const ROOT_TRUST_ANCHOR =
  '. DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D';

/** Where a tool is: the sbin directories first (dnsmasq, unbound), then PATH; undefined if absent. */
export function findTool(name: string): string | undefined {
  const dirs = [
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
    ...(process.env['PATH'] ?? '').split(delimiter),
  ];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * True when every tool is installed. Otherwise, in CI (`CI=true`) the test fails with the list of
 * missing tools; elsewhere it logs them and passes, so that a developer's machine without dnsmasq
 * still runs the rest.
 */
export function haveTools(t: ExecutionContext, tools: readonly string[]): boolean {
  const missing = tools.filter((tool) => findTool(tool) === undefined);
  if (missing.length === 0) return true;
  const message = `not installed: ${missing.join(', ')} (Debian: dnsmasq-base, unbound, bind9-dnsutils)`;
  if (process.env['CI'] === 'true') {
    t.fail(message);
  } else {
    t.log(`skipped: ${message}`);
    t.pass();
  }
  return false;
}

/** A resolver process serving on 127.0.0.1. */
export interface RunningResolver {
  readonly port: number;
  /** What the process wrote to stdout and stderr so far. */
  logs(): string;
  /** SIGTERM (SIGKILL after 5 s), wait for the exit, remove the temp dir. */
  stop(): Promise<void>;
}

interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly dir: string;
}

/** Any answer to `localhost. A` over UDP: the listener is up (the answer may be an error). */
async function answers(port: number): Promise<boolean> {
  const response = await queryRaw(port, buildQuery('localhost.', 'A'), 'udp', 250);
  return response !== undefined && response.length >= 12;
}

async function spawnResolver(
  what: string,
  spec: SpawnSpec,
  port: number,
): Promise<RunningResolver> {
  const daemon = await startDaemon({
    what: `${what} on 127.0.0.1:${String(port)}`,
    command: spec.command,
    args: spec.args,
    dir: spec.dir,
    isReady: () => answers(port),
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  return { port, logs: () => daemon.logs(), stop: () => daemon.stop() };
}

/**
 * Runs `start(port, dir)` in a fresh temp dir on a fresh port, again on another when the port
 * was taken meanwhile (`onFreshPort`: the daemon's exit message says "address already in use").
 */
function withFreshPort(
  what: string,
  start: (port: number, dir: string) => Promise<SpawnSpec>,
): Promise<RunningResolver> {
  return onFreshPort(what, async (port) => {
    const dir = await mkdtemp(join(tmpdir(), `mesodns-${what}-`));
    try {
      return await spawnResolver(what, await start(port, dir), port);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  });
}

/**
 * The dnsmasq command line of docs/resolvers.md, in the foreground on 127.0.0.1:`port`: names
 * under `domain` go to mesodns on 127.0.0.1:`mesodnsPort`, nothing else is resolved (no
 * resolv.conf, no /etc/hosts, no config file).
 */
export function dnsmasqArgs(port: number, domain: string, mesodnsPort: number): string[] {
  return [
    '--no-daemon',
    `--port=${String(port)}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--server=/${domain}/127.0.0.1#${String(mesodnsPort)}`,
    '--conf-file=/dev/null',
    '--pid-file=',
    '--log-facility=-',
  ];
}

/** Starts dnsmasq in front of mesodns (see `dnsmasqArgs`); extra arguments go last. */
export function startDnsmasq(
  mesodnsPort: number,
  extraArgs: readonly string[] = [],
  domain = 'mesos',
): Promise<RunningResolver> {
  const command = findTool('dnsmasq') ?? 'dnsmasq';
  return withFreshPort('dnsmasq', (port, dir) =>
    Promise.resolve({
      command,
      args: [...dnsmasqArgs(port, domain, mesodnsPort), ...extraArgs],
      dir,
    }),
  );
}

/** Options of `unboundConf`. */
export interface UnboundOptions {
  /** `do-not-query-localhost: no` (default true): without it unbound never asks 127.0.0.1. */
  readonly queryLocalhost?: boolean;
  /** `domain-insecure` for the domain (default true): without it, validation of the domain fails. */
  readonly domainInsecure?: boolean;
}

/**
 * An unbound.conf with the settings docs/resolvers.md gives a user (a stub zone for `domain` at
 * mesodns, `do-not-query-localhost: no`, `domain-insecure`, validation on with the root trust
 * anchor as a distribution installs it), plus what a test needs: paths in `dir`, no chroot, no
 * user change, no syslog, no remote control, and no way off the machine: upstream queries only
 * from 127.0.0.1 and over IPv4, and the root zone a stub at mesodns, which refuses it (so that
 * the root trust anchor cannot be primed: without `domain-insecure` the domain fails validation,
 * as it does against the real root, which proves that `mesos.` does not exist).
 */
export function unboundConf(
  dir: string,
  port: number,
  domain: string,
  mesodnsPort: number,
  options: UnboundOptions = {},
): string {
  return [
    'server:',
    '    interface: 127.0.0.1',
    `    port: ${String(port)}`,
    '    num-threads: 1',
    '    do-ip6: no',
    '    outgoing-interface: 127.0.0.1',
    '    chroot: ""',
    '    username: ""',
    `    directory: "${dir}"`,
    `    pidfile: "${join(dir, 'unbound.pid')}"`,
    '    use-syslog: no',
    '    logfile: ""',
    '    verbosity: 1',
    '    module-config: "validator iterator"',
    `    trust-anchor: "${ROOT_TRUST_ANCHOR}"`,
    ...(options.queryLocalhost === false ? [] : ['    do-not-query-localhost: no']),
    ...(options.domainInsecure === false ? [] : [`    domain-insecure: "${domain}"`]),
    'stub-zone:',
    `    name: "${domain}"`,
    `    stub-addr: 127.0.0.1@${String(mesodnsPort)}`,
    // Tests only: the root is mesodns too, which answers REFUSED; no root server is ever asked.
    'stub-zone:',
    '    name: "."',
    `    stub-addr: 127.0.0.1@${String(mesodnsPort)}`,
    'remote-control:',
    '    control-enable: no',
    '',
  ].join('\n');
}

/** Starts unbound in front of mesodns with `unboundConf`, in the foreground (`-d`). */
export function startUnbound(
  mesodnsPort: number,
  options: UnboundOptions = {},
  domain = 'mesos',
): Promise<RunningResolver> {
  const command = findTool('unbound') ?? 'unbound';
  return withFreshPort('unbound', async (port, dir) => {
    const confPath = join(dir, 'unbound.conf');
    await writeFile(confPath, unboundConf(dir, port, domain, mesodnsPort, options));
    const check = findTool('unbound-checkconf');
    if (check !== undefined) {
      const result = spawnSync(check, [confPath], { encoding: 'utf8' });
      if (result.status !== 0) {
        throw new Error(`unbound-checkconf rejects the config:\n${result.stdout}${result.stderr}`);
      }
    }
    return { command, args: ['-d', '-c', confPath], dir };
  });
}
