/**
 * What every part of the benchmark shares: settings, child processes (each registered and stopped
 * by pid), small numeric helpers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Settings.

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MAIN_JS = join(ROOT, 'dist', 'main.js');
export const OUT_DIR = join(ROOT, 'bench', 'out');
/** The only address the benchmark contacts. */
export const HOST = '127.0.0.1';
/** Seed of the synthetic cluster (support/cluster.ts). */
export const SEED = 42;
export const QUERY_LINES = 100_000;
export const CLK_TCK = 100;
export const STOP_GRACE_MS = 5_000;
export const SAMPLE_QUERIES = 300;
export const KNOTD = existsSync('/usr/sbin/knotd') ? '/usr/sbin/knotd' : 'knotd';

/**
 * The mesodns config of a stand-alone measurement: the `mesos` section's lines (indented here),
 * DNS on a free loopback port, `/metrics` on `httpPort`, no forwarding.
 */
export function measuredConfig(mesos: readonly string[], httpPort: number): string {
  return [
    'mesos:',
    ...mesos.map((line) => `  ${line}`),
    'dns:',
    '  listen: 127.0.0.1:0',
    'http:',
    '  enabled: true',
    `  listen: 127.0.0.1:${String(httpPort)}`,
    'forward:',
    '  enabled: false',
  ].join('\n');
}

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

export const SIZES = (process.env['BENCH_SIZES'] ?? '10000')
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
export const SECONDS = envInt('BENCH_SECONDS', 10);
/** Length of the untimed warm-up runs (`BENCH_WARMUP_SECONDS`). */
export const WARMUP_SECONDS = envInt('BENCH_WARMUP_SECONDS', 3);
export const LATENCY_SECONDS = envInt('BENCH_LATENCY_SECONDS', 5);
export const LATENCY_QPS = envInt('BENCH_LATENCY_QPS', 20_000);
export const KEEP = process.env['BENCH_KEEP'] === '1';
/** Length of the paced run during which the state is rewritten every `RELOAD_PERIOD_MS` (0: off). */
export const RELOAD_SECONDS = envIntOrZero('BENCH_RELOAD_SECONDS', 20);
export const RELOAD_PERIOD_MS = envInt('BENCH_RELOAD_PERIOD_MS', 5000);
/** Pause after the reload runs before the resident size "after the runs" is read. */
export const SETTLE_AFTER_RELOADS_MS = 8000;
/** `stream`: only the stream section (bench/stream.ts) of each size; unset: every section. */
export const ONLY = process.env['BENCH_ONLY'] ?? '';
if (ONLY !== '' && ONLY !== 'stream') throw new Error('BENCH_ONLY: expected `stream` or nothing');

export const LOAD_ARGS = ['-c', '10', '-T', '1', '-q', '100'];

// ---------------------------------------------------------------------------------------------
// Child processes: every one is registered and stopped by pid.

export const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function isRunning(child: ChildProcess): boolean {
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

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, c.spawnargs[0] === 'timeout')));
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs a command to completion. `stdoutFile` sends stdout to a file instead of memory.
 * Commands started through `timeout` get their own process group, so stopping it ends them all.
 */
export function runCommand(
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

export function spawnServer(name: string, port: number, command: string, args: string[]): Server {
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

/** A memory figure of a process (`procStatus`) in whole MB; NaN when it is gone. */
export function wholeMB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Math.round(procStatus(pid, field) ?? Number.NaN);
}

/**
 * Samples the RSS of a process every `everyMs`: `take()` gives the highest sample since the last
 * `take` (whole MB), `stop()` ends the sampling. What a load's or a subscription's peak is.
 */
export class RssPeaks {
  #highest = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 20) {
    this.#timer = setInterval(() => {
      const mb = procStatus(pid, 'VmRSS');
      if (mb !== undefined) this.#highest = Math.max(this.#highest, mb);
    }, everyMs);
  }

  take(): number {
    const highest = Math.round(this.#highest);
    this.#highest = 0;
    return highest;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** utime + stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
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

export function machineInfo(): Record<string, string | number> {
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

/** CPU seconds of a process's main thread (tid = pid) and of all its other threads. */
export function threadCpu(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${String(pid)}/task`);
  } catch {
    return { main: Number.NaN, other: Number.NaN };
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${String(pid)}/task/${tid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      if (tid === String(pid)) main += seconds;
      else other += seconds;
    } catch {
      // The thread ended.
    }
  }
  return { main, other };
}
