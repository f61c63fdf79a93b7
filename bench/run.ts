/**
 * `npm run bench`: mesodns against knot on the same synthetic Mesos cluster (bench/README.md).
 *
 * For each cluster size (env `BENCH_SIZES`, default `10000` tasks):
 *  1. generate the state (`bench/cluster.ts`) and export it with `dist/main.js records`;
 *  2. build a 100k-line dnsperf query file: 55 % A, 25 % SRV, 10 % AAAA, 10 % nonexistent names;
 *  3. start mesodns on the state file (time to first answer, RSS), then knotd on the exported zone
 *     with mesodns' own SOA and NS, and check that both answer a sample of queries alike;
 *  4. dnsperf `-c 10 -T 1 -q 100 -l 10` against both servers back to back, alternating which goes
 *     first, `BENCH_ROUNDS` rounds (default 3) after a short warm-up; then a paced latency run
 *     (`-Q 20000 -v -l 5`) against both for p50/p99;
 *  5. the stream section (bench/stream.ts): mesodns following a fake master's event stream,
 *     with and without task churn (`BENCH_STREAM_SECONDS`, 0 skips it; `BENCH_ONLY=stream` runs
 *     only this section).
 *
 * Results go to bench/out/ as JSON and markdown. Only 127.0.0.1 is contacted. Every process
 * started here is stopped by pid at the end, on error and on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { decode, type Answer, type DecodedPacket, type RecordType } from 'dns-packet';
import { buildQuery, queryRaw, rcodeOf } from '../test/helpers/mesodns.js';
import { freePort } from '../test/helpers/ports.js';
import {
  createRandom,
  syntheticState,
  writeState,
  type MasterState,
  type Random,
  type StateTask,
} from './cluster.js';
import {
  benchStream,
  streamMarkdown,
  streamSettings,
  streamSummary,
  type StreamResult,
  type StreamSettings,
} from './stream.js';

// ---------------------------------------------------------------------------------------------
// Settings.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_JS = join(ROOT, 'dist', 'main.js');
const OUT_DIR = join(ROOT, 'bench', 'out');
/** The only address the benchmark contacts. */
export const HOST = '127.0.0.1';
/** Seed of the synthetic cluster (bench/cluster.ts). */
export const SEED = 42;
const QUERY_LINES = 100_000;
const CLK_TCK = 100;
const STOP_GRACE_MS = 5_000;
const SAMPLE_QUERIES = 300;
const KNOTD = existsSync('/usr/sbin/knotd') ? '/usr/sbin/knotd' : 'knotd';

/** A positive integer from the environment variable `name`, or `fallback` when it is unset. */
export function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer`);
  return n;
}

/** Like `envInt`, but `0` is accepted too (it turns a section off). */
export function envIntOrZero(name: string, fallback: number): number {
  return process.env[name]?.trim() === '0' ? 0 : envInt(name, fallback);
}

const SIZES = (process.env['BENCH_SIZES'] ?? '10000')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '')
  .map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_SIZES: bad size ${s}`);
    return n;
  });
/** Throughput rounds per size (`BENCH_ROUNDS`). */
export const ROUNDS = envInt('BENCH_ROUNDS', 3);
const SECONDS = envInt('BENCH_SECONDS', 10);
/** Length of the untimed warm-up runs (`BENCH_WARMUP_SECONDS`). */
export const WARMUP_SECONDS = envInt('BENCH_WARMUP_SECONDS', 3);
const LATENCY_SECONDS = envInt('BENCH_LATENCY_SECONDS', 5);
const LATENCY_QPS = envInt('BENCH_LATENCY_QPS', 20_000);
const KEEP = process.env['BENCH_KEEP'] === '1';
/** Length of the paced run during which the state is rewritten every `RELOAD_PERIOD_MS` (0: off). */
const RELOAD_SECONDS = envIntOrZero('BENCH_RELOAD_SECONDS', 20);
const RELOAD_PERIOD_MS = envInt('BENCH_RELOAD_PERIOD_MS', 5000);
/** Pause after the reload runs before the resident size "after the runs" is read. */
const SETTLE_AFTER_RELOADS_MS = 8000;
/** `stream`: only the stream section (bench/stream.ts) of each size; unset: every section. */
const ONLY = process.env['BENCH_ONLY'] ?? '';
if (ONLY !== '' && ONLY !== 'stream') throw new Error('BENCH_ONLY: expected `stream` or nothing');

const LOAD_ARGS = ['-c', '10', '-T', '1', '-q', '100'];

// ---------------------------------------------------------------------------------------------
// Child processes: every one is registered and stopped by pid.

const children = new Set<ChildProcess>();
/** The scratch directory of the current run, removed at the end (kept with BENCH_KEEP=1). */
let tempRoot: string | undefined;

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after a grace period; `group` kills the child's own process group. */
export async function stopChild(child: ChildProcess, group = false): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || !isRunning(child)) return;
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(group ? -pid : pid, signal);
    } catch {
      // Already gone.
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => {
    kill('SIGKILL');
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, c.spawnargs[0] === 'timeout')));
}

interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs a command to completion. `stdoutFile` sends stdout to a file instead of memory.
 * Commands started through `timeout` get their own process group, so stopping it ends them all.
 */
function runCommand(
  command: string,
  args: readonly string[],
  stdoutFile?: string,
): Promise<CommandResult> {
  const started = performance.now();
  const fd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'w');
  const child = track(
    spawn(command, args, {
      stdio: ['ignore', fd ?? 'pipe', 'pipe'],
      detached: command === 'timeout',
    }),
  );
  if (fd !== undefined) closeSync(fd);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => {
      done({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
      });
    });
  });
}

/** A long-running server: its process and the tail of its output. */
export interface Server {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly pid: number;
  logs(): string;
}

function spawnServer(name: string, port: number, command: string, args: string[]): Server {
  const child = track(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-65536);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('error', (error) => {
    append(Buffer.from(`[spawn error] ${error.message}\n`));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  return { name, port, child, pid, logs: () => output };
}

// ---------------------------------------------------------------------------------------------
// procfs.

/** A memory figure of a process from /proc/PID/status, in MB; undefined when it is gone. */
export function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process (all its threads), in seconds. */
function cpuSeconds(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Strip "pid (comm) " first: comm may contain spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Aggregate CPU ticks from the first line of /proc/stat: total, busy (not idle/iowait), steal. */
export function cpuTicks(): { total: number; busy: number; steal: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields;
  const busy = user + nice + system + irq + softirq;
  return { total: busy + idle + iowait + steal, busy, steal };
}

/** Share of the machine's CPU time that was busy (or stolen) between two `cpuTicks()`. */
export function busyPct(
  a: ReturnType<typeof cpuTicks>,
  b: ReturnType<typeof cpuTicks>,
): { busy: number; steal: number } {
  const total = Math.max(1, b.total - a.total);
  return {
    busy: round(((b.busy - a.busy) / total) * 100),
    steal: round(((b.steal - a.steal) / total) * 100),
  };
}

function machineInfo(): Record<string, string | number> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const [load1 = 0, load5 = 0] = loadavg();
  return {
    nproc: cpus().length,
    cpuModel: model.trim(),
    memTotalMB: Math.round(totalmem() / 2 ** 20),
    memFreeMB: Math.round(freemem() / 2 ** 20),
    kernel: release(),
    node: process.version,
    loadAvg1AtStart: round(load1, 2),
    loadAvg5AtStart: round(load5, 2),
  };
}

// ---------------------------------------------------------------------------------------------
// Small numeric helpers.

/** Rounds `x` to `digits` decimals. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The median of a list (NaN when it is empty). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** Nearest-rank percentile of an ascending list (as bench.sh: element int(n*p)+1). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** A number with `digits` decimals, `-` when it is not finite. */
export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

// ---------------------------------------------------------------------------------------------
// Zone export and query file.

interface ZoneNames {
  readonly a: string[];
  readonly aaaa: string[];
  readonly srv: string[];
  readonly owners: Set<string>;
  readonly lines: number;
  readonly counts: Record<string, number>;
}

function collectNames(text: string): ZoneNames {
  const sets = { A: new Set<string>(), AAAA: new Set<string>(), SRV: new Set<string>() };
  const owners = new Set<string>();
  const counts: Record<string, number> = {};
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(';') || line.startsWith('$')) continue;
    lines++;
    const fields = line.split(/\s+/);
    const owner = (fields[0] ?? '').toLowerCase();
    const type = fields[3] ?? '';
    owners.add(owner);
    counts[type] = (counts[type] ?? 0) + 1;
    if (type === 'A' || type === 'AAAA' || type === 'SRV') sets[type].add(owner);
  }
  return {
    a: [...sets.A].sort(),
    aaaa: [...sets.AAAA].sort(),
    srv: [...sets.SRV].sort(),
    owners,
    lines,
    counts,
  };
}

/** A nonexistent name: a missing app, a child of an existing name, or a missing SRV service. */
function nxQuery(random: Random, names: ZoneNames, k: number): string {
  for (;;) {
    const r = random.next();
    const line =
      r < 0.4
        ? `nxapp-${k}.marathon.mesos. A`
        : r < 0.7
          ? `nx${k}.${random.pick(names.a)} A`
          : `_nxsvc-${k}._tcp.marathon.mesos. SRV`;
    const owner = line.slice(0, line.indexOf(' '));
    // The `nx` labels appear in no generated name, so none of these is an owner or an empty
    // non-terminal; the check is a guard against a future generator change.
    if (!names.owners.has(owner)) return line;
    k += 1_000_000;
  }
}

interface QueryMix {
  readonly A: number;
  readonly SRV: number;
  readonly AAAA: number;
  readonly NX: number;
  readonly aaaaFromA: boolean;
}

function buildQueries(names: ZoneNames, seed: number): { lines: string[]; mix: QueryMix } {
  const random = createRandom(seed);
  const aaaaFromA = names.aaaa.length === 0;
  const aaaaPool = aaaaFromA ? names.a : names.aaaa;
  const mix = { A: 0, SRV: 0, AAAA: 0, NX: 0 };
  const lines: string[] = [];
  for (let i = 0; i < QUERY_LINES; i++) {
    const r = random.next();
    if (r < 0.55) {
      mix.A++;
      lines.push(`${random.pick(names.a)} A`);
    } else if (r < 0.8) {
      mix.SRV++;
      lines.push(`${random.pick(names.srv)} SRV`);
    } else if (r < 0.9) {
      mix.AAAA++;
      lines.push(`${random.pick(aaaaPool)} AAAA`);
    } else {
      mix.NX++;
      lines.push(nxQuery(random, names, i));
    }
  }
  return { lines, mix: { ...mix, aaaaFromA } };
}

// ---------------------------------------------------------------------------------------------
// DNS probes.

/** A decoded response with the header fields dns-packet's types leave out. */
interface Reply {
  readonly rcode: number;
  readonly tc: boolean;
  readonly packet: DecodedPacket;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

async function ask(port: number, name: string, type: RecordType): Promise<Reply | undefined> {
  const response = await queryRaw(port, buildQuery(name, type), 'udp', 500, HOST);
  if (response === undefined || response.length < 12) return undefined;
  try {
    const packet = decode(response);
    return { rcode: rcodeOf(response), tc: packet.flag_tc, packet };
  } catch {
    return undefined;
  }
}

async function waitUntil(
  what: string,
  server: Server,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(server.child)) {
      throw new Error(`${server.name} exited before ${what}:\n${server.logs()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${server.name}: no ${what} within ${timeoutMs} ms:\n${server.logs()}`);
    }
    await delay(10);
  }
}

function answerKey(answer: Answer): string {
  const data = 'data' in answer ? JSON.stringify(answer.data) : '';
  return `${answer.name.toLowerCase()} ${answer.type} ${data}`;
}

interface Sanity {
  readonly sampled: number;
  /** Same RCODE, and the same answer RRs (or both truncated). */
  readonly agree: number;
  readonly truncatedBoth: number;
  /** Answered alike except that one server set TC and the other did not. */
  readonly tcOnlyOne: number;
  readonly mismatches: string[];
  readonly tcExamples: string[];
}

/** Sends a sample of the query file to both servers and compares RCODE, answers and TC. */
async function compareServers(
  lines: readonly string[],
  knot: number,
  meso: number,
): Promise<Sanity> {
  const random = createRandom(SEED + 7);
  let agree = 0;
  let truncatedBoth = 0;
  let tcOnlyOne = 0;
  const mismatches: string[] = [];
  const tcExamples: string[] = [];
  const tc = (p: Reply | undefined): boolean => p?.tc === true;
  const rcode = (p: Reply | undefined): string =>
    p === undefined ? 'no answer' : (RCODES[p.rcode] ?? String(p.rcode));
  const set = (p: Reply | undefined): string =>
    (p?.packet.answers ?? []).map(answerKey).sort().join('|');
  const describeReply = (p: Reply | undefined): string =>
    `${rcode(p)}${tc(p) ? ' TC' : ''} ${String(p?.packet.answers?.length ?? 0)} answers ` +
    `${String(p?.packet.additionals?.length ?? 0)} additional`;
  for (let i = 0; i < SAMPLE_QUERIES; i++) {
    const line = random.pick(lines);
    const [name = '', type = 'A'] = line.split(' ');
    const qtype = type as RecordType;
    const [k, m] = await Promise.all([ask(knot, name, qtype), ask(meso, name, qtype)]);
    const bothTc = tc(k) && tc(m);
    if (bothTc) truncatedBoth++;
    const example = `${line}: knot ${describeReply(k)}, mesodns ${describeReply(m)}`;
    if (rcode(k) === rcode(m) && (bothTc || set(k) === set(m))) {
      agree++;
      if (tc(k) !== tc(m)) {
        tcOnlyOne++;
        if (tcExamples.length < 3) tcExamples.push(example);
      }
    } else if (mismatches.length < 5) {
      mismatches.push(example);
    }
  }
  return { sampled: SAMPLE_QUERIES, agree, truncatedBoth, tcOnlyOne, mismatches, tcExamples };
}

// ---------------------------------------------------------------------------------------------
// dnsperf.

/** The figures of one dnsperf run. */
export interface PerfRun {
  readonly server: string;
  readonly qps: number;
  readonly completed: number;
  readonly lost: number;
  readonly avgLatencyMs: number;
  readonly rcodes: string;
  readonly responseBytes: number;
  /** Server CPU (all threads) over the run, in % of one core. */
  readonly serverCpuPct: number;
  /** Server CPU time per completed query, in microseconds. */
  readonly cpuUsPerQuery: number;
  readonly dnsperfCpuPct: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly p999Ms?: number;
}

function num(text: string, re: RegExp): number {
  const value = re.exec(text)?.[1];
  return value === undefined ? Number.NaN : Number(value);
}

/**
 * Runs dnsperf (`LOAD_ARGS` and `extra`) against a server for `seconds`, under `timeout` and
 * GNU time, and parses its figures; the server's CPU time comes from /proc.
 */
export async function dnsperf(
  server: Server,
  queryFile: string,
  seconds: number,
  extra: readonly string[],
  timeFile: string,
): Promise<PerfRun> {
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  const args = [
    ...['-k', '5', String(seconds + 20)],
    ...['/usr/bin/time', '-f', '%U %S %e', '-o', timeFile],
    ...['dnsperf', '-s', HOST, '-p', String(server.port), '-d', queryFile, '-l', String(seconds)],
    ...LOAD_ARGS,
    ...extra,
  ];
  const result = await runCommand('timeout', args);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(server.pid) - cpu0;
  const out = result.stdout;
  if (result.code !== 0 || !out.includes('Queries per second')) {
    throw new Error(
      `dnsperf against ${server.name} failed (${String(result.code)}):\n${out.slice(-2000)}\n${result.stderr}`,
    );
  }
  const [user = Number.NaN, sys = Number.NaN, elapsed = Number.NaN] =
    (await readFile(timeFile, 'utf8')).trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  const completed = num(out, /Queries completed:\s+(\d+)/);
  let latencies: number[] = [];
  if (extra.includes('-v')) {
    latencies = out
      .split('\n')
      .filter((l) => l.startsWith('> '))
      .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)) * 1000)
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
  }
  const run: PerfRun = {
    server: server.name,
    qps: num(out, /Queries per second:\s+([\d.]+)/),
    completed,
    lost: num(out, /Queries lost:\s+(\d+)/),
    avgLatencyMs: num(out, /Average Latency \(s\):\s+([\d.]+)/) * 1000,
    rcodes: /Response codes:\s+(.+)/.exec(out)?.[1]?.trim() ?? '',
    responseBytes: num(out, /Average packet size:.*response (\d+)/),
    serverCpuPct: (cpu / wall) * 100,
    cpuUsPerQuery: (cpu / completed) * 1e6,
    dnsperfCpuPct: ((user + sys) / elapsed) * 100,
  };
  if (latencies.length === 0) return run;
  return {
    ...run,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    p999Ms: percentile(latencies, 0.999),
  };
}

/** One console line for a dnsperf run. */
export function perfLine(run: PerfRun): string {
  const lat =
    run.p50Ms === undefined
      ? ''
      : ` p50 ${fmt(run.p50Ms, 3)} ms p99 ${fmt(run.p99Ms ?? Number.NaN, 3)} ms`;
  return (
    `${run.server.padEnd(8)} ${fmt(run.qps).padStart(7)} qps  lost ${String(run.lost)}  ` +
    `avg ${fmt(run.avgLatencyMs, 3)} ms  server CPU ${fmt(run.serverCpuPct)} % ` +
    `(${fmt(run.cpuUsPerQuery, 1)} µs/q)  dnsperf CPU ${fmt(run.dnsperfCpuPct)} %${lat}`
  );
}

// ---------------------------------------------------------------------------------------------
// Servers.

function mesodnsConfig(stateFile: string, port: number): string {
  return [
    'domain: mesos',
    'mesos:',
    `  stateFile: ${JSON.stringify(stateFile)}`,
    // TTLs of an hour (positive and negative) keep the forwarded answers cached by the
    // forwarding run fresh for the whole benchmark; TTL values cost nothing to serve.
    'records:',
    '  ttl: 3600',
    'dns:',
    `  listen: ${HOST}:${port}`,
    '  soa: { minimum: 3600 }',
    'http:',
    '  enabled: false',
    'forward:',
    '  enabled: false',
    // Debug: the pipeline logs each load's timing and memory ('pipeline worker: load done',
    // 'zone installed'); there is one such line per load, none per query.
    'log:',
    '  level: debug',
    '',
  ].join('\n');
}

function knotConf(dir: string, port: number): string {
  return [
    'server:',
    `    rundir: "${join(dir, 'run')}"`,
    ...(process.getuid?.() === 0 ? ['    user: root:root'] : []),
    `    listen: ${HOST}@${port}`,
    '    udp-workers: 2',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'database:',
    `    storage: "${join(dir, 'db')}"`,
    'log:',
    '  - target: stderr',
    '    any: notice',
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    file: "mesos.zone"',
    '    semantic-checks: off',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    '  - domain: mesos.',
    '',
  ].join('\n');
}

/** `$ORIGIN`, `$TTL`, SOA and NS as mesodns serves them, so negative answers match in size. */
async function zoneHeader(mesodnsPort: number): Promise<string> {
  const soa = (await ask(mesodnsPort, 'mesos.', 'SOA'))?.packet.answers?.find(
    (a) => a.type === 'SOA',
  );
  const ns = (await ask(mesodnsPort, 'mesos.', 'NS'))?.packet.answers?.filter(
    (a) => a.type === 'NS',
  );
  if (soa?.type !== 'SOA') throw new Error('mesodns did not answer mesos. SOA');
  const d = soa.data;
  const dot = (n: string): string => (n.endsWith('.') ? n : `${n}.`);
  const nsLines = (ns ?? []).flatMap((a) =>
    a.type === 'NS' ? [`mesos. ${String(a.ttl ?? 60)} IN NS ${dot(a.data)}`] : [],
  );
  return [
    '$ORIGIN mesos.',
    `mesos. ${String(soa.ttl ?? 60)} IN SOA ${dot(d.mname)} ${dot(d.rname)} ${String(d.serial ?? 1)} ` +
      `${String(d.refresh ?? 60)} ${String(d.retry ?? 600)} ${String(d.expire ?? 86400)} ` +
      String(d.minimum ?? 60),
    ...(nsLines.length > 0 ? nsLines : ['mesos. 60 IN NS ns1.mesos.']),
    '',
  ].join('\n');
}

/** How a mesodns start went. */
export interface StartupResult {
  readonly server: Server;
  /** Spawn to the first DNS response of any kind (the listener is up). */
  readonly listenMs: number;
  /** Spawn to the first NOERROR answer for a name of the zone. */
  readonly firstAnswerMs: number;
  readonly rssAtFirstAnswerMB: number;
}

/**
 * Spawns `dist/main.js serve` with a config file and waits (at most `timeoutMs`) for a NOERROR
 * answer with records for `probeName`, timing the listener and the first answer.
 */
export async function startMesodns(
  configPath: string,
  port: number,
  probeName: string,
  timeoutMs = 120_000,
): Promise<StartupResult> {
  const t0 = performance.now();
  const server = spawnServer('mesodns', port, process.execPath, [
    MAIN_JS,
    'serve',
    '--config',
    configPath,
  ]);
  let listenMs = Number.NaN;
  await waitUntil('first answer', server, timeoutMs, async () => {
    const response = await queryRaw(port, buildQuery(probeName, 'A'), 'udp', 100, HOST);
    if (response === undefined || response.length < 12) return false;
    if (Number.isNaN(listenMs)) listenMs = performance.now() - t0;
    return rcodeOf(response) === 0 && response.readUInt16BE(6) > 0;
  });
  const firstAnswerMs = performance.now() - t0;
  return {
    server,
    listenMs,
    firstAnswerMs,
    rssAtFirstAnswerMB: procStatus(server.pid, 'VmRSS') ?? Number.NaN,
  };
}

async function startKnot(dir: string): Promise<{ server: Server; loadMs: number }> {
  await mkdir(join(dir, 'run'), { recursive: true });
  await mkdir(join(dir, 'db'), { recursive: true });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const confPath = join(dir, 'knot.conf');
    await writeFile(confPath, knotConf(dir, port));
    const t0 = performance.now();
    const server = spawnServer('knot', port, KNOTD, ['-c', confPath]);
    try {
      await waitUntil('zone loaded', server, 180_000, async () => {
        const p = await ask(port, 'mesos.', 'SOA');
        return p?.rcode === 0 && (p.packet.answers?.length ?? 0) > 0;
      });
      return { server, loadMs: performance.now() - t0 };
    } catch (error) {
      await stopChild(server.child);
      lastError = error;
      if (!(error instanceof Error && /address already in use/i.test(error.message))) throw error;
    }
  }
  throw new Error('knotd: ports kept being taken', { cause: lastError });
}

// ---------------------------------------------------------------------------------------------
// Forwarded names with a warm cache (issue 4).

/**
 * A second mesodns whose domain is not `mesos.`: it forwards every name of the query file to
 * knot, and caches the answers (room for all of them).
 */
function forwardingConfig(stateFile: string, port: number, upstreamPort: number): string {
  return [
    'domain: forwarded.invalid',
    'mesos:',
    `  stateFile: ${JSON.stringify(stateFile)}`,
    'dns:',
    `  listen: ${HOST}:${port}`,
    'http:',
    '  enabled: false',
    'forward:',
    `  resolvers: ["${HOST}:${upstreamPort}"]`,
    '  timeout: 2s',
    '  maxConcurrent: 10000',
    '  cache: { maxEntries: 1000000, maxBytes: 1073741824 }',
    'log:',
    '  level: warn',
    '',
  ].join('\n');
}

interface ForwardedRound {
  readonly round: number;
  readonly order: string;
  readonly knot: PerfRun;
  readonly forwarded: PerfRun;
  readonly ratio: number;
}

interface ForwardedResult {
  /** One pass through the query file: every answer goes from knot into the cache. */
  readonly fill: PerfRun;
  /** Cached forwarded answers compared with knot's own. */
  readonly sanity: Sanity;
  readonly rounds: ForwardedRound[];
  readonly medians: {
    knotQps: number;
    forwardedQps: number;
    ratio: number;
    ratioOfRounds: number;
    knotCpuUsPerQuery: number;
    forwardedCpuUsPerQuery: number;
  };
}

/** knot against a mesodns that answers the same names from its forwarding cache, back to back. */
async function benchForwarded(
  dir: string,
  statePath: string,
  lines: readonly string[],
  queryFile: string,
  knot: Server,
  probeName: string,
  log: (s: string) => void,
): Promise<ForwardedResult> {
  const port = await freePort();
  const configPath = join(dir, 'mesodns-forward.yaml');
  await writeFile(configPath, forwardingConfig(statePath, port, knot.port));
  const fwd = spawnServer('forwarded', port, process.execPath, [
    MAIN_JS,
    'serve',
    '--config',
    configPath,
  ]);
  try {
    await waitUntil('first forwarded answer', fwd, 120_000, async () => {
      return (await ask(port, probeName, 'A'))?.rcode === 0;
    });
    const timeFile = join(dir, 'time-forward.out');
    const fill = await dnsperf(fwd, queryFile, 120, ['-n', '1'], timeFile);
    log(`forward fill ${perfLine(fill)}`);
    const sanity = await compareServers(lines, knot.port, port);
    log(`forward sanity: ${sanity.agree}/${sanity.sampled} cached answers alike knot's`);
    for (const m of sanity.mismatches) log(`  mismatch: ${m}`);
    const rounds: ForwardedRound[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 === 1 ? [knot, fwd] : [fwd, knot];
      const runs = new Map<string, PerfRun>();
      for (const server of order) {
        const run = await dnsperf(server, queryFile, SECONDS, [], timeFile);
        runs.set(server.name, run);
        log(`forward round ${r} ${perfLine(run)}`);
      }
      const k = runs.get('knot');
      const f = runs.get('forwarded');
      if (k === undefined || f === undefined) throw new Error('missing run');
      rounds.push({
        round: r,
        order: order.map((x) => x.name).join(' then '),
        knot: k,
        forwarded: f,
        ratio: f.qps / k.qps,
      });
      log(`forward round ${r} ratio forwarded/knot ${fmt(f.qps / k.qps, 2)}`);
    }
    const knotQps = median(rounds.map((x) => x.knot.qps));
    const forwardedQps = median(rounds.map((x) => x.forwarded.qps));
    return {
      fill,
      sanity,
      rounds,
      medians: {
        knotQps: round(knotQps),
        forwardedQps: round(forwardedQps),
        ratio: round(forwardedQps / knotQps, 3),
        ratioOfRounds: round(median(rounds.map((x) => x.ratio)), 3),
        knotCpuUsPerQuery: round(median(rounds.map((x) => x.knot.cpuUsPerQuery)), 2),
        forwardedCpuUsPerQuery: round(median(rounds.map((x) => x.forwarded.cpuUsPerQuery)), 2),
      },
    };
  } finally {
    await stopChild(fwd.child);
  }
}

// ---------------------------------------------------------------------------------------------
// Load figures from mesodns's debug log, and latency while the state reloads.

/** A numeric `field=value` of the last log line containing `message`, or NaN. */
function logField(logs: string, message: string, field: string): number {
  const lines = logs.split('\n').filter((l) => l.includes(message));
  const line = lines[lines.length - 1] ?? '';
  return num(line, new RegExp(`\\b${field}=(\\d+(?:\\.\\d+)?)`));
}

/** Every numeric `field=value` of the log lines containing `message`, in order. */
function logFields(logs: string, message: string, field: string): number[] {
  return logs
    .split('\n')
    .filter((l) => l.includes(message))
    .map((l) => num(l, new RegExp(`\\b${field}=(\\d+(?:\\.\\d+)?)`)))
    .filter((x) => Number.isFinite(x));
}

/** How a state load went, from the pipeline's log lines. */
interface LoadFigures {
  /** Read, JSON parse and validation of the state in the pipeline worker. */
  readonly parseMs: number;
  /** From the parsed state to the compiled zone (host lookups, records, zone). */
  readonly buildMs: number;
  /** Main thread heap after the zone was installed. */
  readonly mainHeapUsedMB: number;
  /** Pipeline worker heap after the load's garbage was collected. */
  readonly workerHeapUsedMB: number;
  readonly workerHeapTotalMB: number;
}

async function loadFigures(server: Server): Promise<LoadFigures> {
  const deadline = Date.now() + 15_000;
  while (!server.logs().includes('pipeline worker: load done') && Date.now() < deadline) {
    await delay(50);
  }
  const logs = server.logs();
  return {
    parseMs: logField(logs, 'pipeline worker: load done', 'fetchMs'),
    buildMs: logField(logs, 'zone published', 'buildMs'),
    mainHeapUsedMB: logField(logs, 'zone installed', 'mainHeapUsedMB'),
    workerHeapUsedMB: logField(logs, 'pipeline worker: load done', 'workerHeapUsedMB'),
    workerHeapTotalMB: logField(logs, 'pipeline worker: load done', 'workerHeapTotalMB'),
  };
}

/** Latency while the state is rewritten every `RELOAD_PERIOD_MS`. */
interface ReloadResult {
  readonly run: PerfRun;
  readonly seconds: number;
  /** State files written (alternately the original and one with 1 % of the tasks killed). */
  readonly writes: number;
  /** Zones published during the run, and their build and parse times. */
  readonly published: number;
  readonly buildMs: number[];
  readonly parseMs: number[];
  readonly rssPeakMB: number;
}

/**
 * Kills 1 % of the running tasks (every 100th), so that the alternate state differs from the
 * original by a realistic amount of churn. Mutates `doc`; returns the tasks it killed.
 */
function churn(doc: MasterState): StateTask[] {
  let i = 0;
  const killed: StateTask[] = [];
  for (const fw of doc.frameworks) {
    for (const task of fw.tasks) {
      if (task.state !== 'TASK_RUNNING') continue;
      if (i++ % 100 === 0) {
        task.state = 'TASK_KILLED';
        killed.push(task);
      }
    }
  }
  return killed;
}

/**
 * The paced latency run (`-Q LATENCY_QPS -v`) against mesodns while its state file is replaced
 * (write and rename) every `RELOAD_PERIOD_MS`, alternating two versions: every reload parses
 * and compiles a new zone. The original state is back in place at the end.
 */
async function benchReload(
  server: Server,
  dir: string,
  statePath: string,
  doc: MasterState,
  queryFile: string,
  timeFile: string,
  log: (s: string) => void,
): Promise<ReloadResult> {
  const original = join(dir, 'state-a.json');
  const changed = join(dir, 'state-b.json');
  await copyFile(statePath, original);
  const killed = churn(doc);
  await writeState(changed, doc);
  // The document is the original again (the stream section serves it).
  for (const task of killed) task.state = 'TASK_RUNNING';
  log(
    `reload: alternate state with ${killed.length} tasks killed; rewriting every ` +
      `${RELOAD_PERIOD_MS} ms`,
  );
  // Log lines start with their ISO timestamp: the run's lines are those from now on.
  const since = new Date().toISOString();
  const tmp = join(dir, 'state.tmp');
  let writes = 0;
  let writing = Promise.resolve();
  const write = (): void => {
    const from = writes % 2 === 0 ? changed : original;
    writes++;
    writing = writing.then(async () => {
      await copyFile(from, tmp);
      await rename(tmp, statePath);
    });
  };
  write();
  const timer = setInterval(write, RELOAD_PERIOD_MS);
  let run: PerfRun;
  try {
    run = await dnsperf(
      server,
      queryFile,
      RELOAD_SECONDS,
      ['-Q', String(LATENCY_QPS), '-v'],
      timeFile,
    );
  } finally {
    clearInterval(timer);
    await writing;
  }
  const logs = server
    .logs()
    .split('\n')
    .filter((l) => l.slice(0, since.length) >= since)
    .join('\n');
  const result: ReloadResult = {
    run,
    seconds: RELOAD_SECONDS,
    writes,
    published: logFields(logs, 'zone published', 'buildMs').length,
    buildMs: logFields(logs, 'zone published', 'buildMs'),
    parseMs: logFields(logs, 'pipeline worker: load done', 'fetchMs'),
    rssPeakMB: procStatus(server.pid, 'VmHWM') ?? Number.NaN,
  };
  // Put the original state back (the forwarding run reads it too) and let it load.
  if (writes % 2 === 1) {
    await copyFile(original, tmp);
    await rename(tmp, statePath);
    await delay(1500);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// One cluster size.

interface RoundResult {
  readonly round: number;
  readonly order: string;
  readonly knot: PerfRun;
  readonly mesodns: PerfRun;
  readonly ratio: number;
}

interface SizeResult {
  readonly tasks: number;
  readonly agents: number;
  readonly stateBytes: number;
  readonly generateMs: number;
  readonly exportMs: number;
  readonly zone: { lines: number; counts: Record<string, number>; names: Record<string, number> };
  readonly queryMix: QueryMix;
  readonly mesodns: {
    listenMs: number;
    firstAnswerMs: number;
    rssAtFirstAnswerMB: number;
    rssAfterLoadMB: number;
    rssPeakMB: number;
    rssAfterBenchMB: number;
  };
  readonly knot: { loadMs: number; rssMB: number };
  readonly sanity: Sanity;
  readonly warmup: PerfRun[];
  readonly rounds: RoundResult[];
  readonly medians: {
    knotQps: number;
    mesodnsQps: number;
    ratio: number;
    ratioOfRounds: number;
    knotCpuUsPerQuery: number;
    mesodnsCpuUsPerQuery: number;
  };
  readonly latency: { knot: PerfRun; mesodns: PerfRun };
  /** The first load of mesodns, from its log. */
  readonly load: LoadFigures;
  /** Paced latency while the state reloads (undefined with BENCH_RELOAD_SECONDS=0). */
  readonly reload: ReloadResult | undefined;
  /** Forwarded names answered from a warm cache, against knot (issue 4). */
  readonly forwarded: ForwardedResult;
}

/** What every section of one size shares: the state, its zone export and the query file. */
export interface PreparedSize {
  readonly tasks: number;
  readonly dir: string;
  readonly doc: MasterState;
  readonly statePath: string;
  readonly stateBytes: number;
  readonly agents: number;
  readonly generateMs: number;
  readonly mesodnsPort: number;
  readonly configPath: string;
  readonly recordsText: string;
  readonly exportMs: number;
  readonly names: ZoneNames;
  readonly lines: string[];
  readonly mix: QueryMix;
  readonly queryFile: string;
  /** Prints a console line prefixed with the size. */
  readonly log: (s: string) => void;
}

/** Generates the state of one size, exports its zone with `mesodns records`, writes the queries. */
async function prepareSize(tasks: number, root: string): Promise<PreparedSize> {
  const dir = join(root, `t${tasks}`);
  await mkdir(dir, { recursive: true });
  const log = (s: string): void => {
    console.log(`[${tasks}] ${s}`);
  };

  const t = performance.now();
  const doc = syntheticState({ tasks, seed: SEED });
  const statePath = join(dir, 'state.json');
  const stateBytes = await writeState(statePath, doc);
  const generateMs = performance.now() - t;
  const agents = doc.slaves.length;
  log(`state: ${agents} agents, ${fmt(stateBytes / 2 ** 20, 1)} MB JSON in ${fmt(generateMs)} ms`);

  const mesodnsPort = await freePort();
  const configPath = join(dir, 'mesodns.yaml');
  await writeFile(configPath, mesodnsConfig(statePath, mesodnsPort));
  const recordsPath = join(dir, 'records.txt');
  const exported = await runCommand(
    process.execPath,
    [MAIN_JS, 'records', '--state', statePath, '--config', configPath],
    recordsPath,
  );
  if (exported.code !== 0) throw new Error(`mesodns records failed:\n${exported.stderr}`);
  const exportMs = exported.ms;
  const recordsText = await readFile(recordsPath, 'utf8');
  const names = collectNames(recordsText);
  log(
    `zone: ${names.lines} records (${Object.entries(names.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}), exported in ${fmt(exportMs)} ms`,
  );
  if (names.a.length === 0 || names.srv.length === 0) throw new Error('zone has no A or SRV names');

  const { lines, mix } = buildQueries(names, SEED + tasks);
  const queryFile = join(dir, 'queries.txt');
  await writeFile(queryFile, lines.join('\n') + '\n');
  return {
    tasks,
    dir,
    doc,
    statePath,
    stateBytes,
    agents,
    generateMs,
    mesodnsPort,
    configPath,
    recordsText,
    exportMs,
    names,
    lines,
    mix,
    queryFile,
    log,
  };
}

async function benchSize(p: PreparedSize): Promise<SizeResult> {
  const { tasks, dir, doc, statePath, stateBytes, agents, generateMs, mesodnsPort } = p;
  const { configPath, recordsText, exportMs, names, lines, mix, queryFile, log } = p;

  // mesodns first, alone on the machine, for a clean startup time.
  const start = await startMesodns(configPath, mesodnsPort, names.a[0] ?? 'leader.mesos.');
  const meso = start.server;
  log(
    `mesodns: listening after ${fmt(start.listenMs)} ms, first answer after ` +
      `${fmt(start.firstAnswerMs)} ms, RSS ${fmt(start.rssAtFirstAnswerMB)} MB`,
  );
  const load = await loadFigures(meso);
  log(
    `mesodns load: state read and parsed in ${fmt(load.parseMs)} ms, zone built in ` +
      `${fmt(load.buildMs)} ms; heap: main ${fmt(load.mainHeapUsedMB)} MB, pipeline worker ` +
      `${fmt(load.workerHeapUsedMB)} MB used (${fmt(load.workerHeapTotalMB)} MB total)`,
  );
  await delay(2000);
  const rssAfterLoadMB = procStatus(meso.pid, 'VmRSS') ?? Number.NaN;

  await writeFile(join(dir, 'mesos.zone'), (await zoneHeader(mesodnsPort)) + recordsText);
  const knotStart = await startKnot(dir);
  const knot = knotStart.server;
  const knotRss = procStatus(knot.pid, 'VmRSS') ?? Number.NaN;
  log(`knot: zone loaded in ${fmt(knotStart.loadMs)} ms, RSS ${fmt(knotRss)} MB`);

  const sanity = await compareServers(lines, knot.port, meso.port);
  log(
    `sanity: ${sanity.agree}/${sanity.sampled} sampled queries answered alike ` +
      `(${sanity.truncatedBoth} truncated by both, ${sanity.tcOnlyOne} with TC from one server only)`,
  );
  for (const m of sanity.mismatches) log(`  mismatch: ${m}`);
  for (const m of sanity.tcExamples) log(`  TC from one only: ${m}`);

  const timeFile = join(dir, 'time.out');
  const warmup: PerfRun[] = [];
  for (const server of [knot, meso]) {
    const run = await dnsperf(server, queryFile, WARMUP_SECONDS, [], timeFile);
    warmup.push(run);
    log(`warm-up  ${perfLine(run)}`);
  }

  const rounds: RoundResult[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const order = r % 2 === 1 ? [knot, meso] : [meso, knot];
    const runs = new Map<string, PerfRun>();
    for (const server of order) {
      const run = await dnsperf(server, queryFile, SECONDS, [], timeFile);
      runs.set(server.name, run);
      log(`round ${r} ${perfLine(run)}`);
    }
    const k = runs.get('knot');
    const m = runs.get('mesodns');
    if (k === undefined || m === undefined) throw new Error('missing run');
    rounds.push({
      round: r,
      order: order.map((s) => s.name).join(' then '),
      knot: k,
      mesodns: m,
      ratio: m.qps / k.qps,
    });
    log(`round ${r} ratio mesodns/knot ${fmt(m.qps / k.qps, 2)}`);
  }

  const pacedArgs = ['-Q', String(LATENCY_QPS), '-v'];
  const latencyKnot = await dnsperf(knot, queryFile, LATENCY_SECONDS, pacedArgs, timeFile);
  log(`paced    ${perfLine(latencyKnot)}`);
  const latencyMeso = await dnsperf(meso, queryFile, LATENCY_SECONDS, pacedArgs, timeFile);
  log(`paced    ${perfLine(latencyMeso)}`);
  let reload: ReloadResult | undefined;
  if (RELOAD_SECONDS > 0) {
    reload = await benchReload(meso, dir, statePath, doc, queryFile, timeFile, log);
    log(
      `reload   ${perfLine(reload.run)}; ${reload.published} zones published from ` +
        `${reload.writes} writes (build ${reload.buildMs.map((x) => fmt(x)).join(', ')} ms)`,
    );
  }

  // A reload may still be loading when the paced run ends (one takes about 5 s at 100k tasks):
  // the resident size after the runs is read once it has finished and given its memory back.
  if (reload !== undefined) await delay(SETTLE_AFTER_RELOADS_MS);
  const rssAfterBenchMB = procStatus(meso.pid, 'VmRSS') ?? Number.NaN;
  const rssPeakMB = procStatus(meso.pid, 'VmHWM') ?? Number.NaN;
  await stopChild(meso.child);
  const forwarded = await benchForwarded(
    dir,
    statePath,
    lines,
    queryFile,
    knot,
    names.a[0] ?? 'leader.mesos.',
    log,
  );
  await stopChild(knot.child);

  const knotQps = median(rounds.map((x) => x.knot.qps));
  const mesodnsQps = median(rounds.map((x) => x.mesodns.qps));
  return {
    tasks,
    agents,
    stateBytes,
    generateMs: round(generateMs),
    exportMs: round(exportMs),
    zone: {
      lines: names.lines,
      counts: names.counts,
      names: { A: names.a.length, AAAA: names.aaaa.length, SRV: names.srv.length },
    },
    queryMix: mix,
    mesodns: {
      listenMs: round(start.listenMs),
      firstAnswerMs: round(start.firstAnswerMs),
      rssAtFirstAnswerMB: round(start.rssAtFirstAnswerMB),
      rssAfterLoadMB: round(rssAfterLoadMB),
      rssPeakMB: round(rssPeakMB),
      rssAfterBenchMB: round(rssAfterBenchMB),
    },
    knot: { loadMs: round(knotStart.loadMs), rssMB: round(knotRss) },
    sanity,
    warmup,
    rounds,
    medians: {
      knotQps: round(knotQps),
      mesodnsQps: round(mesodnsQps),
      ratio: round(mesodnsQps / knotQps, 3),
      ratioOfRounds: round(median(rounds.map((x) => x.ratio)), 3),
      knotCpuUsPerQuery: round(median(rounds.map((x) => x.knot.cpuUsPerQuery)), 2),
      mesodnsCpuUsPerQuery: round(median(rounds.map((x) => x.mesodns.cpuUsPerQuery)), 2),
    },
    latency: { knot: latencyKnot, mesodns: latencyMeso },
    load,
    reload,
    forwarded,
  };
}

// ---------------------------------------------------------------------------------------------
// Report.

function markdown(
  date: string,
  machine: Record<string, string | number>,
  results: readonly SizeResult[],
): string {
  const out: string[] = [
    `# mesodns benchmark, ${date}`,
    '',
    `Machine: ${String(machine['nproc'])} CPUs (${String(machine['cpuModel'])}), ` +
      `${String(machine['memTotalMB'])} MB RAM, Linux ${String(machine['kernel'])}, ` +
      `Node ${String(machine['node'])}, ${String(machine['knot'])}, ${String(machine['dnsperf'])}; ` +
      `load average at start ${String(machine['loadAvg1AtStart'])}; CPU busy in the second ` +
      `before the start ${String(machine['busyPctBeforeStart'])} %, ` +
      `steal during the run ${String(machine['stealPctDuringRun'])} %` +
      (Number(machine['busyPctBeforeStart']) > 10
        ? ' (other work was running: expect noisy figures, compare within a round).'
        : '.'),
    '',
    `dnsperf \`${LOAD_ARGS.join(' ')} -l ${SECONDS}\`, ${ROUNDS} rounds alternating which server ` +
      `goes first, after a ${WARMUP_SECONDS} s warm-up of each; paced latency run ` +
      `\`-Q ${LATENCY_QPS} -v -l ${LATENCY_SECONDS}\`. Query mix: 55 % A, 25 % SRV, 10 % AAAA, ` +
      '10 % nonexistent; 100k lines, names drawn uniformly from the distinct owners of the ' +
      'exported zone. knot 3.2 with 2 UDP workers serves the same records (exported with ' +
      '`mesodns records`) with the same SOA.',
    '',
  ];
  for (const r of results) {
    out.push(
      `## ${r.tasks} tasks`,
      '',
      `${r.agents} agents, state ${fmt(r.stateBytes / 2 ** 20, 1)} MB; zone ${r.zone.lines} records ` +
        `(${Object.entries(r.zone.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(
            ', ',
          )}); distinct names A ${r.zone.names['A'] ?? 0}, SRV ${r.zone.names['SRV'] ?? 0}, ` +
        `AAAA ${r.zone.names['AAAA'] ?? 0}. Sanity: ${r.sanity.agree}/${r.sanity.sampled} sampled ` +
        `queries answered alike by both servers (same RCODE and answers; ${r.sanity.tcOnlyOne} of ` +
        'them with TC set by only one server).',
      '',
      '| round | order | knot QPS | mesodns QPS | ratio | knot µs CPU/q | mesodns µs CPU/q | mesodns avg latency |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...r.rounds.map(
        (x) =>
          `| ${x.round} | ${x.order} | ${fmt(x.knot.qps)} | ${fmt(x.mesodns.qps)} | ${fmt(x.ratio, 2)} | ` +
          `${fmt(x.knot.cpuUsPerQuery, 1)} | ${fmt(x.mesodns.cpuUsPerQuery, 1)} | ${fmt(x.mesodns.avgLatencyMs, 2)} ms |`,
      ),
      `| **median** | | **${fmt(r.medians.knotQps)}** | **${fmt(r.medians.mesodnsQps)}** | ` +
        `**${fmt(r.medians.ratio, 2)}** | ${fmt(r.medians.knotCpuUsPerQuery, 1)} | ` +
        `${fmt(r.medians.mesodnsCpuUsPerQuery, 1)} | |`,
      '',
      `Ratio mesodns/knot: ${fmt(r.medians.ratio, 2)} from the median QPS, ` +
        `${fmt(r.medians.ratioOfRounds, 2)} as the median of the per-round ratios. ` +
        `CPU per query ratio: ${fmt(r.medians.mesodnsCpuUsPerQuery / r.medians.knotCpuUsPerQuery, 1)}x.`,
      '',
      ...r.rounds
        .slice(0, 1)
        .flatMap((x) => [
          `Response codes (round 1): knot ${x.knot.rcodes}; mesodns ${x.mesodns.rcodes}. ` +
            `Average response size: knot ${fmt(x.knot.responseBytes)} B, mesodns ` +
            `${fmt(x.mesodns.responseBytes)} B.`,
          '',
        ]),
      `Paced at ${LATENCY_QPS} qps: knot p50 ${fmt(r.latency.knot.p50Ms ?? Number.NaN, 3)} ms / ` +
        `p99 ${fmt(r.latency.knot.p99Ms ?? Number.NaN, 3)} ms; mesodns p50 ` +
        `${fmt(r.latency.mesodns.p50Ms ?? Number.NaN, 3)} ms / p99 ` +
        `${fmt(r.latency.mesodns.p99Ms ?? Number.NaN, 3)} ms ` +
        `(server CPU knot ${fmt(r.latency.knot.serverCpuPct)} %, mesodns ${fmt(r.latency.mesodns.serverCpuPct)} %).`,
      '',
      ...reloadLines(r),
      `### Forwarded names, warm cache`,
      '',
      'A second mesodns with another domain forwards the same query file to knot; one pass ' +
        `through the file fills its cache (${fmt(r.forwarded.fill.qps)} qps while filling), then ` +
        `it answers from the cache. Sanity: ${r.forwarded.sanity.agree}/${r.forwarded.sanity.sampled} ` +
        "sampled cached answers alike knot's.",
      '',
      '| round | order | knot QPS | forwarded QPS | ratio | knot µs CPU/q | forwarded µs CPU/q |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...r.forwarded.rounds.map(
        (x) =>
          `| ${x.round} | ${x.order} | ${fmt(x.knot.qps)} | ${fmt(x.forwarded.qps)} | ` +
          `${fmt(x.ratio, 2)} | ${fmt(x.knot.cpuUsPerQuery, 1)} | ${fmt(x.forwarded.cpuUsPerQuery, 1)} |`,
      ),
      `| **median** | | **${fmt(r.forwarded.medians.knotQps)}** | ` +
        `**${fmt(r.forwarded.medians.forwardedQps)}** | **${fmt(r.forwarded.medians.ratio, 2)}** | ` +
        `${fmt(r.forwarded.medians.knotCpuUsPerQuery, 1)} | ` +
        `${fmt(r.forwarded.medians.forwardedCpuUsPerQuery, 1)} |`,
      '',
      `Ratio forwarded/knot: ${fmt(r.forwarded.medians.ratio, 2)} from the median QPS, ` +
        `${fmt(r.forwarded.medians.ratioOfRounds, 2)} as the median of the per-round ratios ` +
        '(issue 4 asks for at least 0.5).',
      '',
      `mesodns first load (from its log): state read, parsed and validated in ` +
        `${fmt(r.load.parseMs)} ms, then records and zone built in ${fmt(r.load.buildMs)} ms ` +
        `(issue #6: at most 1500 ms); heap after the load: main thread ${fmt(r.load.mainHeapUsedMB)} MB, ` +
        `pipeline worker ${fmt(r.load.workerHeapUsedMB)} MB used of ${fmt(r.load.workerHeapTotalMB)} MB.`,
      '',
      `mesodns startup: listening after ${fmt(r.mesodns.listenMs)} ms, first answer after ` +
        `${fmt(r.mesodns.firstAnswerMs)} ms; RSS ${fmt(r.mesodns.rssAtFirstAnswerMB)} MB at first ` +
        `answer, ${fmt(r.mesodns.rssAfterLoadMB)} MB 2 s later, ${fmt(r.mesodns.rssAfterBenchMB)} MB ` +
        `after the runs (${r.reload === undefined ? '' : '8 s after the reloads; '}peak ${fmt(r.mesodns.rssPeakMB)} MB). knot: zone loaded in ` +
        `${fmt(r.knot.loadMs)} ms, RSS ${fmt(r.knot.rssMB)} MB. State generated in ${fmt(r.generateMs)} ms, ` +
        `exported by \`mesodns records\` in ${fmt(r.exportMs)} ms.`,
      '',
    );
  }
  return out.join('\n');
}

/** The markdown paragraph of the reload run. */
function reloadLines(r: SizeResult): string[] {
  const x = r.reload;
  if (x === undefined) return [];
  const list = (values: readonly number[]): string =>
    values.length === 0 ? 'none' : values.map((v) => fmt(v)).join(', ');
  return [
    `Paced at ${LATENCY_QPS} qps for ${x.seconds} s while the state file is replaced every ` +
      `${RELOAD_PERIOD_MS / 1000} s (the original and a version with 1 % of the tasks killed, ` +
      `alternately): mesodns p50 ${fmt(x.run.p50Ms ?? Number.NaN, 3)} ms / p99 ` +
      `${fmt(x.run.p99Ms ?? Number.NaN, 3)} ms / p99.9 ${fmt(x.run.p999Ms ?? Number.NaN, 3)} ms, ` +
      `${fmt(x.run.lost)} lost (issue #6: p99 at most 5 ms). ${x.published} zones published ` +
      `from ${x.writes} writes; parse ${list(x.parseMs)} ms; build ${list(x.buildMs)} ms; ` +
      `server CPU ${fmt(x.run.serverCpuPct)} %; peak RSS ${fmt(x.rssPeakMB)} MB.`,
    '',
  ];
}

// ---------------------------------------------------------------------------------------------
// Main.

async function main(): Promise<void> {
  for (const tool of ['/usr/bin/time', '/usr/bin/dnsperf', '/usr/bin/timeout']) {
    if (!existsSync(tool))
      throw new Error(`${tool} is missing (Debian: apt-get install time dnsperf coreutils)`);
  }
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  const date = new Date().toISOString();
  const machine = machineInfo();
  const ticks0 = cpuTicks();
  await delay(1000);
  const ticksStart = cpuTicks();
  machine['busyPctBeforeStart'] = busyPct(ticks0, ticksStart).busy;
  const knotVersion = await runCommand(KNOTD, ['--version']);
  machine['knot'] = knotVersion.stdout.trim().replace(/^knotd \(Knot DNS\), version/, 'knot');
  const perfVersion = await runCommand('/usr/bin/dnsperf', ['-h']);
  machine['dnsperf'] =
    `dnsperf ${/Version ([\d.]+)/.exec(perfVersion.stdout + perfVersion.stderr)?.[1] ?? '?'}`;
  console.log(
    `mesodns bench ${date}: sizes ${SIZES.join(', ')}, ${ROUNDS} rounds of ${SECONDS} s; ` +
      `${String(machine['nproc'])} CPUs ${String(machine['cpuModel'])}, Node ${process.version}, ` +
      `load ${String(machine['loadAvg1AtStart'])}, CPU busy before start ` +
      `${String(machine['busyPctBeforeStart'])} %`,
  );
  const stream = streamSettings();
  const root = await mkdtemp(join(tmpdir(), 'mesodns-bench-'));
  tempRoot = root;
  const results: SizeResult[] = [];
  const streams: StreamResult[] = [];
  let failure: Error | undefined;
  try {
    for (const tasks of SIZES) {
      const prepared = await prepareSize(tasks, root);
      if (ONLY !== 'stream') results.push(await benchSize(prepared));
      if (stream.seconds > 0) streams.push(await benchStream(prepared, stream));
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error('benchmark failed', { cause: error });
  } finally {
    await stopAll();
    if (KEEP) console.log(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
    tempRoot = undefined;
  }
  machine['stealPctDuringRun'] = busyPct(ticksStart, cpuTicks()).steal;
  // Sizes that completed are reported even when a later one failed.
  if (results.length > 0 || streams.length > 0) {
    await writeReport(date, machine, results, streams, stream);
  }
  if (failure !== undefined) throw failure;
}

async function writeReport(
  date: string,
  machine: Record<string, string | number>,
  results: readonly SizeResult[],
  streams: readonly StreamResult[],
  stream: StreamSettings,
): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  const report = {
    date,
    machine,
    settings: {
      sizes: SIZES,
      rounds: ROUNDS,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      latencySeconds: LATENCY_SECONDS,
      latencyQps: LATENCY_QPS,
      dnsperfArgs: LOAD_ARGS.join(' '),
      seed: SEED,
      only: ONLY === '' ? undefined : ONLY,
      stream,
    },
    results,
    stream: streams,
  };
  const md = [markdown(date, machine, results), ...streamMarkdown(streams)].join('\n');
  await writeFile(join(OUT_DIR, `bench-${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(OUT_DIR, `bench-${stamp}.md`), md);
  await writeFile(join(OUT_DIR, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(OUT_DIR, 'latest.md'), md);

  console.log('');
  for (const r of results) {
    console.log(
      `${r.tasks} tasks: knot ${fmt(r.medians.knotQps)} qps, mesodns ${fmt(r.medians.mesodnsQps)} qps ` +
        `(median of ${ROUNDS}), ratio ${fmt(r.medians.ratio, 2)} (median of round ratios ` +
        `${fmt(r.medians.ratioOfRounds, 2)}), CPU/query ${fmt(r.medians.knotCpuUsPerQuery, 1)} vs ` +
        `${fmt(r.medians.mesodnsCpuUsPerQuery, 1)} µs; paced p50/p99 knot ` +
        `${fmt(r.latency.knot.p50Ms ?? Number.NaN, 3)}/${fmt(r.latency.knot.p99Ms ?? Number.NaN, 3)} ms, ` +
        `mesodns ${fmt(r.latency.mesodns.p50Ms ?? Number.NaN, 3)}/` +
        `${fmt(r.latency.mesodns.p99Ms ?? Number.NaN, 3)} ms; first answer ` +
        `${fmt(r.mesodns.firstAnswerMs)} ms, RSS ${fmt(r.mesodns.rssAfterLoadMB)} MB; ` +
        `load: parse ${fmt(r.load.parseMs)} ms, build ${fmt(r.load.buildMs)} ms` +
        (r.reload === undefined
          ? ''
          : `; while reloading every ${RELOAD_PERIOD_MS / 1000} s: p99 ` +
            `${fmt(r.reload.run.p99Ms ?? Number.NaN, 3)} ms (${r.reload.published} reloads)`),
    );
    console.log(
      `${r.tasks} tasks, forwarded names from a warm cache: knot ` +
        `${fmt(r.forwarded.medians.knotQps)} qps, forwarded ${fmt(r.forwarded.medians.forwardedQps)} ` +
        `qps, ratio ${fmt(r.forwarded.medians.ratio, 2)} (median of round ratios ` +
        `${fmt(r.forwarded.medians.ratioOfRounds, 2)})`,
    );
  }
  for (const r of streams) console.log(streamSummary(r));
  console.log(`results: ${join(OUT_DIR, `bench-${stamp}.md`)} (and .json)`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    void stopAll().finally(() => {
      if (tempRoot !== undefined && !KEEP) rmSync(tempRoot, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  await stopAll();
  process.exitCode = 1;
});
