import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DNSSEC_OK, RECURSION_DESIRED, encode, type Packet, type RecordType } from 'dns-packet';
import { stringify } from 'yaml';
import { decodeMessage, type Message } from './dns-message.js';
import { REPO_ROOT } from './paths.js';
import { freePort } from './ports.js';
import { Slots } from './slots.js';
import { isRecord } from '../src/is-record.js';

const MAIN_JS = join(REPO_ROOT, 'dist', 'main.js');
const POLL_MS = 50;
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const MAX_LOG_CHARS = 4 * 1024 * 1024;
const BIND_ATTEMPTS = 3;

// ---------------------------------------------------------------------------------------------
// Child-process hygiene shared by the helpers that spawn servers (mesodns, knotd).

const liveChildren = new Set<ChildProcess>();
let isExitHookInstalled = false;

/**
 * Registers a spawned child to be SIGKILLed if the test process exits while it is still running
 * (a test that forgot `stop()`, or a crashed worker), so no server outlives the test run.
 */
export function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => {
    liveChildren.delete(child);
  });
  if (!isExitHookInstalled) {
    isExitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) {
        c.kill('SIGKILL');
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Polling.

/**
 * Polls `predicate` every `intervalMs` (default 50 ms) until it returns true, rejecting after
 * `timeoutMs`. The predicate may be async; a throwing predicate counts as false until the
 * deadline, and its last error becomes the rejection's `cause`.
 *
 * @example
 * await waitFor(() => master.requests >= 3, 5000, 'three polls');
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = POLL_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) {
        return;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`, { cause: lastError });
    }
    await delay(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw DNS client (fuzz and malformed-packet tests).

/** Options of `buildQuery`. */
export interface QueryOptions {
  /** Message ID; random by default. */
  readonly id?: number;
  /** Recursion desired; default true (as dig and stub resolvers send). */
  readonly rd?: boolean;
  /** Add an OPT record advertising this UDP payload size (RFC 6891); no OPT when undefined. */
  readonly edns?: number;
  /** Set the DO bit in the OPT record (implies `edns: 1232` when `edns` is not given). */
  readonly do?: boolean;
}

/**
 * Encodes a one-question query with dns-packet, e.g. `buildQuery('web.marathon.mesos', 'A')`.
 * The result is the bare DNS message; `queryRaw` adds the TCP length prefix itself.
 */
export function buildQuery(name: string, type: RecordType, opts: QueryOptions = {}): Buffer {
  const udpPayloadSize = opts.edns ?? (opts.do === true ? 1232 : undefined);
  const packet: Packet = {
    type: 'query',
    id: opts.id ?? Math.floor(Math.random() * 0x10000),
    flags: opts.rd === false ? 0 : RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals:
      udpPayloadSize === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: opts.do === true ? DNSSEC_OK : 0,
              flag_do: opts.do === true,
              options: [],
            },
          ],
  };
  return encode(packet);
}

/** The RCODE (low 4 header bits, RFC 1035 4.1.1) of a DNS message, e.g. 3 for NXDOMAIN. */
export function rcodeOf(message: Buffer): number {
  const byte = message[3];
  if (byte === undefined) {
    throw new Error(`message too short for a header: ${message.length} bytes`);
  }
  return byte & 0x0f;
}

function assertLoopbackHost(host: string): void {
  if (!isLoopbackHost(host)) {
    throw new Error(`test helper: refusing to contact non-loopback host ${host}`);
  }
}

/**
 * Sends `packet` to host:port once and resolves with the first response message, or undefined
 * when nothing arrives within `timeoutMs` (or a TCP peer closes without answering).
 *
 * UDP: one datagram out, the first datagram back. TCP: the packet is sent with its 2-byte length
 * prefix (RFC 1035 4.2.2 / RFC 7766) and one length-prefixed response is read; the prefix is
 * stripped. `host` must be loopback.
 */
export function queryRaw(
  port: number,
  packet: Buffer,
  transport: 'udp' | 'tcp',
  timeoutMs: number,
  host = '127.0.0.1',
): Promise<Buffer | undefined> {
  assertLoopbackHost(host);
  return transport === 'udp'
    ? queryUdp(host, port, packet, timeoutMs)
    : queryTcp(host, port, packet, timeoutMs);
}

/** What `ask` returns when no reply came (dig's `NOREPLY`). */
const NO_REPLY: Message = {
  id: 0,
  rcode: 'NOREPLY',
  aa: false,
  tc: false,
  rd: false,
  ra: false,
  qr: false,
  questions: [],
  answers: [],
  authorities: [],
  additionals: [],
  optSize: undefined,
};

/**
 * One query from this process, decoded (rcode `NOREPLY` when nothing came back within
 * `timeoutMs`). The client for polling loops: spawning dig costs about 30 ms of CPU per look,
 * which a loop asking every 20 ms turns into seconds. Assertions about what a real resolver sees
 * keep using dig.
 */
export async function ask(
  port: number,
  name: string,
  type: RecordType,
  options: { transport?: 'udp' | 'tcp'; timeoutMs?: number } = {},
): Promise<Message> {
  const reply = await queryRaw(
    port,
    buildQuery(name, type),
    options.transport ?? 'udp',
    options.timeoutMs ?? 2000,
  );
  return reply === undefined ? NO_REPLY : decodeMessage(reply);
}

/** The addresses (or other rdata as text) of an answer, in order. */
export function answerData(message: Message): string[] {
  return message.answers.map((r) => (typeof r.data === 'string' ? r.data : JSON.stringify(r.data)));
}

function queryUdp(
  host: string,
  port: number,
  packet: Buffer,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  return new Promise((resolvePromise) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let isDone = false;
    const finish = (value: Buffer | undefined): void => {
      if (isDone) {
        return;
      }
      isDone = true;
      clearTimeout(timer);
      socket.close();
      resolvePromise(value);
    };
    const timer = setTimeout(() => {
      finish(undefined);
    }, timeoutMs);
    socket.on('message', (message) => {
      finish(message);
    });
    // ICMP port unreachable surfaces as ECONNREFUSED on a connected socket: treat as no answer.
    socket.on('error', () => {
      finish(undefined);
    });
    socket.connect(port, host, () => {
      socket.send(packet);
    });
  });
}

function queryTcp(
  host: string,
  port: number,
  packet: Buffer,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    let isDone = false;
    const finish = (value: Buffer | undefined): void => {
      if (isDone) {
        return;
      }
      isDone = true;
      clearTimeout(timer);
      socket.destroy();
      resolvePromise(value);
    };
    const timer = setTimeout(() => {
      finish(undefined);
    }, timeoutMs);
    socket.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(packet.length);
      socket.write(Buffer.concat([prefix, packet]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2) {
        const length = received.readUInt16BE(0);
        if (received.length >= 2 + length) {
          finish(received.subarray(2, 2 + length));
        }
      }
    });
    socket.on('error', () => {
      finish(undefined);
    });
    socket.on('close', () => {
      finish(undefined);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Network safety: test configs may point only at loopback.

/** True for 127.0.0.0/8, ::1 and `localhost` (optionally bracketed). */
function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare === '::1' || bare === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** Host part of `ip`, `ip:port`, `[v6]:port` or `v6`. */
function hostOfAddress(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed !== null) {
    return bracketed[1] ?? '';
  }
  const colons = address.split(':').length - 1;
  return colons === 1 ? (address.split(':')[0] ?? '') : address;
}

/** Throws when a config would make mesodns talk to anything but loopback. */
function assertConfigStaysLocal(config: Record<string, unknown>): void {
  const problems: string[] = [];
  const forward = isRecord(config['forward']) ? config['forward'] : {};
  if (forward['enabled'] !== false) {
    const resolvers = forward['resolvers'];
    if (!Array.isArray(resolvers) || resolvers.length === 0) {
      problems.push('forward.resolvers is empty: mesodns would use the host resolvers');
    } else {
      for (const r of resolvers) {
        if (typeof r !== 'string' || !isLoopbackHost(hostOfAddress(r))) {
          problems.push(`forward.resolvers: ${String(r)} is not loopback`);
        }
      }
    }
    const zones = isRecord(forward['zones']) ? forward['zones'] : {};
    for (const [zone, upstreams] of Object.entries(zones)) {
      for (const u of Array.isArray(upstreams) ? upstreams : [upstreams]) {
        if (typeof u !== 'string' || !isLoopbackHost(hostOfAddress(u))) {
          problems.push(`forward.zones.${zone}: ${String(u)} is not loopback`);
        }
      }
    }
  }
  const mesos = isRecord(config['mesos']) ? config['mesos'] : {};
  const masters = mesos['masters'];
  for (const m of Array.isArray(masters) ? masters : []) {
    const text = String(m);
    let host: string;
    try {
      host = new URL(text.includes('://') ? text : `http://${text}`).hostname;
    } catch {
      host = text;
    }
    if (!isLoopbackHost(host)) {
      problems.push(`mesos.masters: ${text} is not loopback`);
    }
  }
  const zk = mesos['zk'];
  if (typeof zk === 'string' && zk !== '') {
    const hosts = zk.replace(/^zk:\/\//, '').split('/')[0] ?? '';
    for (const h of hosts.split(',')) {
      if (!isLoopbackHost(hostOfAddress(h))) {
        problems.push(`mesos.zk: ${h} is not loopback`);
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`startMesodns: unsafe test config (network safety):\n${problems.join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Config.

/**
 * Merges `over` into `base`: plain objects merge recursively, anything else (arrays, scalars)
 * replaces. A key set to `undefined` in `over` removes it (YAML omits undefined values).
 */
function deepMerge(
  base: Readonly<Record<string, unknown>>,
  over: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isRecord(current) && isRecord(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function portOfListen(listen: unknown): number | undefined {
  if (typeof listen !== 'string') {
    return undefined;
  }
  const match = /:(\d+)$/.exec(listen);
  return match === null ? undefined : Number(match[1]);
}

function buildConfig(
  caller: Readonly<Record<string, unknown>>,
  ports: { readonly dns: number; readonly http: number },
  stateFile: string | undefined,
  isAsGiven = false,
): Record<string, unknown> {
  const withState = stateFile === undefined ? caller : deepMerge(caller, { mesos: { stateFile } });
  if (isAsGiven) {
    return deepMerge(withState, {
      dns: { listen: `127.0.0.1:${ports.dns}` },
      http: { enabled: true, listen: `127.0.0.1:${ports.http}` },
    });
  }
  const defaults: Record<string, unknown> = {
    domain: 'mesos',
    mesos: { refresh: '200ms' },
    dns: { listen: `127.0.0.1:${ports.dns}` },
    http: { enabled: true, listen: `127.0.0.1:${ports.http}` },
    log: { level: 'debug' },
  };
  // Forwarding is off unless the test configures it: tests must never reach the host resolvers.
  if (caller['forward'] === undefined) {
    defaults['forward'] = { enabled: false };
  }
  const config = deepMerge(defaults, withState);
  assertConfigStaysLocal(config);
  return config;
}

// ---------------------------------------------------------------------------------------------
// The server under test.

/** What `startMesodns` waits for before resolving. */
export type Readiness =
  /** `<domain>. SOA` answers NOERROR over UDP: the first state was loaded (default). */
  | 'soa'
  /** Any DNS response over UDP (SERVFAIL before the first load counts): the listener is up. */
  | 'answer'
  /** Resolve right after spawning. */
  | 'none';

/** Options of `startMesodns`. */
export interface StartMesodnsOptions {
  /**
   * YAML config keys (docs/configuration.md), merged over the test defaults: `domain: mesos`,
   * `mesos.refresh: 200ms`, `dns.listen`/`http.listen` on fresh 127.0.0.1 ports,
   * `http.enabled: true`, `log.level: debug`, and `forward.enabled: false` unless `forward` is
   * given. Forwarding to anything but loopback (or to the host's resolv.conf) is refused.
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Path of a state JSON file (relative to the cwd) to serve from; sets `mesos.stateFile`. */
  readonly stateFile?: string;
  /** A state document to write to `state.json` in the temp dir and serve from. */
  readonly state?: unknown;
  /** Default `'soa'`. */
  readonly readiness?: Readiness;
  /** Default 15 s. */
  readonly readyTimeoutMs?: number;
  /**
   * Writes `config` as given, with only `dns.listen` and `http.listen` set (fresh 127.0.0.1
   * ports) and `http.enabled`: no test defaults and no loopback-only check. For the smoke test
   * (scripts/smoke.ts), which starts an operator's config as it is; tests leave it unset.
   */
  readonly asGiven?: boolean;
}

/**
 * The value of one series of `/metrics`, written as it is exposed (`name` or
 * `name{label="v",...}` in the exporter's label order); NaN when mesodns does not expose it.
 */
export async function metricValue(srv: Pick<Mesodns, 'httpUrl'>, series: string): Promise<number> {
  // Only the series' family (`/metrics?name[]=`): a whole scrape costs mesodns about 4 ms of CPU
  // and this process as much to read, and waits ask every 50 ms.
  const name = series.replace(/\{.*$/, '');
  const family = name.replace(/_(bucket|sum|count)$/, '');
  const query = [...new Set([name, family])]
    .map((n) => `name[]=${encodeURIComponent(n)}`)
    .join('&');
  const text = await (await fetch(`${srv.httpUrl}/metrics?${query}`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

/**
 * Waits until the agents carried over a failover (`mesodns_failover_carried_agents`) are
 * `agents`, or pass `agents` when it is a test, within `ms`.
 */
export async function waitCarried(
  srv: Pick<Mesodns, 'httpUrl'>,
  agents: number | ((carried: number) => boolean),
  what: string,
  ms = 10_000,
): Promise<void> {
  const holds = typeof agents === 'number' ? (n: number) => n === agents : agents;
  await waitFor(
    async () => holds(await metricValue(srv, 'mesodns_failover_carried_agents')),
    ms,
    what,
  );
}

/** Configuration reloads so far, by result (`mesodns_config_reloads_total`). */
export async function reloadCounts(
  srv: Pick<Mesodns, 'httpUrl'>,
): Promise<{ applied: number; rejected: number }> {
  const series = (result: string): string => `mesodns_config_reloads_total{result="${result}"}`;
  return {
    applied: await metricValue(srv, series('applied')),
    rejected: await metricValue(srv, series('rejected')),
  };
}

/**
 * Waits until `srv` counts a reload with `result` beyond `before` (its counts when the SIGHUP
 * was sent): the metric, not the log line, says the reload is done.
 */
export async function waitForReload(
  srv: Pick<Mesodns, 'httpUrl'>,
  before: { applied: number; rejected: number },
  result: 'applied' | 'rejected' = 'applied',
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    async () => (await reloadCounts(srv))[result] > before[result],
    timeoutMs,
    `a reload ${result}`,
  );
}

/** A running mesodns process. */
export interface Mesodns {
  readonly dnsPort: number;
  readonly httpPort: number;
  /** `http://127.0.0.1:<httpPort>`. */
  readonly httpUrl: string;
  readonly proc: ChildProcess;
  /** The temp dir holding the config (and `state.json` when `state` was given). */
  readonly dir: string;
  readonly configPath: string;
  /** The config as written (after merging with the defaults). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
  /** Rewrites the config file: `config` merged over the same defaults and ports. */
  rewriteConfig(config: Readonly<Record<string, unknown>>): Promise<void>;
  /** Sends SIGHUP (reload the config file). */
  reload(): void;
  /** Resolves when the process has exited (code, or 128 + signal number). */
  readonly exited: Promise<number>;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temp dir; resolves the exit code. */
  stop(): Promise<number>;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) {
    return code;
  }
  return 128 + (signal === null ? 0 : osConstants.signals[signal]);
}

async function isReady(
  host: string,
  port: number,
  domain: string,
  readiness: Exclude<Readiness, 'none'>,
): Promise<boolean> {
  const response = await queryRaw(port, buildQuery(`${domain}.`, 'SOA'), 'udp', 250, host);
  if (response === undefined || response.length < 12) {
    return false;
  }
  return readiness === 'answer' || rcodeOf(response) === 0;
}

/**
 * Whether process `pid` holds a UDP socket bound to `port` (Linux: /proc/net/udp{,6} inodes
 * matched against /proc/<pid>/fd). True where /proc cannot tell (other systems).
 */
async function ownsUdpPort(pid: number | undefined, port: number): Promise<boolean> {
  if (pid === undefined) return false;
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hexPort}`) === true && fields[9] !== undefined)
        inodes.add(fields[9]);
    }
  }
  let fds: string[];
  try {
    fds = await readdir(`/proc/${String(pid)}/fd`);
  } catch {
    return true;
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${String(pid)}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1] !== undefined && inodes.has(m[1])) return true;
  }
  return false;
}

/** The server could not bind a port that was free a moment before (another process took it). */
class PortInUseError extends Error {}

/**
 * Starts `node dist/main.js serve --config <tmp>/mesodns.yaml` (build first: `npm test` does)
 * with fresh loopback ports and waits until it is ready (see `Readiness`). Rejects with the
 * captured logs when the process exits early or is not ready within the timeout; retries with
 * new ports when a port was taken in between.
 *
 * @example
 * const srv = await startMesodns({ stateFile: 'config/demo-state.json' });
 * t.teardown(() => srv.stop());
 * const r = await dig(srv.dnsPort, ['web.marathon.mesos', 'A']);
 */
export async function startMesodns(options: StartMesodnsOptions = {}): Promise<Mesodns> {
  let lastError: unknown;
  for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    try {
      return await startingSlots.run(() => startOnce(options));
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortInUseError)) {
        throw error;
      }
    }
  }
  throw new Error(`startMesodns: ports kept being taken (${BIND_ATTEMPTS} attempts)`, {
    cause: lastError,
  });
}

/**
 * At most two mesodns processes of one test file start at once (from spawn to ready): a file
 * whose concurrent tests each start one (server.test.ts starts 11) made Node's start-up, the
 * worker and the first load compete for two cores, and readiness timed out under load. A started
 * process no longer holds a slot.
 */
const startingSlots = new Slots(2);

async function startOnce(options: StartMesodnsOptions): Promise<Mesodns> {
  const callerConfig = options.config ?? {};
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-test-'));
  try {
    let stateFile: string | undefined;
    if (options.state !== undefined) {
      stateFile = join(dir, 'state.json');
      await writeFile(stateFile, JSON.stringify(options.state, null, 2));
    } else if (options.stateFile !== undefined) {
      stateFile = resolve(options.stateFile);
    }
    const callerDns = isRecord(callerConfig['dns']) ? callerConfig['dns'] : {};
    const callerHttp = isRecord(callerConfig['http']) ? callerConfig['http'] : {};
    const isAsGiven = options.asGiven === true;
    const ports = {
      dns: (isAsGiven ? undefined : portOfListen(callerDns['listen'])) ?? (await freePort()),
      http: (isAsGiven ? undefined : portOfListen(callerHttp['listen'])) ?? (await freePort()),
    };
    const config = buildConfig(callerConfig, ports, stateFile, isAsGiven);
    const configPath = join(dir, 'mesodns.yaml');
    await writeFile(configPath, stringify(config));
    const domain = (typeof config['domain'] === 'string' ? config['domain'] : 'mesos').replace(
      /\.$/,
      '',
    );
    const dns = isRecord(config['dns']) ? config['dns'] : {};
    const dnsHost = typeof dns['listen'] === 'string' ? hostOfAddress(dns['listen']) : '127.0.0.1';
    return await spawnServer({
      options,
      dir,
      config,
      configPath,
      ports,
      domain,
      dnsHost: dnsHost === '0.0.0.0' || dnsHost === '' ? '127.0.0.1' : dnsHost,
      stateFile,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

interface SpawnArgs {
  readonly options: StartMesodnsOptions;
  readonly dir: string;
  readonly config: Record<string, unknown>;
  readonly configPath: string;
  readonly ports: { readonly dns: number; readonly http: number };
  readonly domain: string;
  readonly dnsHost: string;
  readonly stateFile: string | undefined;
}

async function spawnServer(args: SpawnArgs): Promise<Mesodns> {
  const { options, dir, config, configPath, ports, domain, dnsHost, stateFile } = args;
  if (!existsSync(MAIN_JS)) {
    throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  }
  const proc = spawn(process.execPath, [MAIN_JS, 'serve', '--config', configPath], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(proc);
  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > MAX_LOG_CHARS) {
      output = output.slice(-MAX_LOG_CHARS);
    }
  };
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  // An object, not a `let`: it is flipped by event callbacks, which TS flow analysis cannot see.
  const life = { hasExited: false };
  const exited = new Promise<number>((resolveExit) => {
    proc.once('close', (code, signal) => {
      life.hasExited = true;
      resolveExit(exitCodeOf(code, signal));
    });
    proc.once('error', (error) => {
      life.hasExited = true;
      output += `\n[spawn error] ${error.message}\n`;
      resolveExit(-1);
    });
  });

  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> => {
    stopping ??= (async () => {
      if (!life.hasExited) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
        }, STOP_GRACE_MS);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      await rm(dir, { recursive: true, force: true });
      return exited;
    })();
    return stopping;
  };

  const readiness = options.readiness ?? 'soa';
  if (readiness !== 'none') {
    const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (life.hasExited) {
        const code = await exited;
        await stop();
        const message = `mesodns exited with ${code} before it was ready; logs:\n${output}`;
        throw /EADDRINUSE|address already in use/i.test(output)
          ? new PortInUseError(message)
          : new Error(message);
      }
      // Our own process must hold the port: another test's server could briefly hold the same
      // port (ports are picked free, then bound later, by several test processes at once) and
      // answer for it.
      if (
        (await isReady(dnsHost, ports.dns, domain, readiness).catch(() => false)) &&
        (await ownsUdpPort(proc.pid, ports.dns))
      ) {
        break;
      }
      if (Date.now() >= deadline) {
        await stop();
        throw new Error(
          `mesodns not ready (${readiness}) on ${dnsHost}:${ports.dns} within ${timeoutMs} ms; logs:\n${output}`,
        );
      }
      await delay(POLL_MS);
    }
  }

  return {
    dnsPort: ports.dns,
    httpPort: ports.http,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    proc,
    dir,
    configPath,
    config,
    logs: () => output,
    rewriteConfig: async (next) => {
      const rewritten = buildConfig(next, ports, stateFile, options.asGiven === true);
      await writeFile(configPath, stringify(rewritten));
    },
    reload: () => {
      proc.kill('SIGHUP');
    },
    exited,
    stop,
  };
}
