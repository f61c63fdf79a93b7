/**
 * A server process a test starts (knotd, dnsmasq, unbound): its output collected, killed with the
 * test process, ready once `isReady` holds, stopped with SIGTERM (SIGKILL after a grace period),
 * its temp dir removed on stop.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { killOnExit } from './mesodns.js';
import { freePort } from './ports.js';

const POLL_MS = 50;
const STOP_GRACE_MS = 5_000;

/** What to start and how to tell it serves. */
export interface DaemonSpec {
  /** For messages: `knotd`, `dnsmasq`, ... */
  readonly what: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Removed (recursively) when the daemon stops or fails to start. */
  readonly dir: string;
  /** Whether it serves yet (asked every 50 ms). */
  readonly isReady: () => Promise<boolean>;
  readonly readyTimeoutMs: number;
}

/** A started daemon. */
export interface Daemon {
  /** What the process wrote to stdout and stderr so far. */
  logs(): string;
  /** SIGTERM (SIGKILL after 5 s), wait for the exit, remove the dir. */
  stop(): Promise<void>;
}

/** The daemon exited before it served: `output` says why (e.g. the port was taken). */
export class DaemonExitedError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Starts `spec` and resolves once it is ready; on a failure it is stopped and the error thrown. */
export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const proc = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const life = { hasExited: false };
  const exited = new Promise<void>((resolve) => {
    proc.once('close', () => {
      life.hasExited = true;
      resolve();
    });
    proc.once('error', (error) => {
      life.hasExited = true;
      output += `\n[spawn error] ${error.message}\n`;
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!life.hasExited) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(spec.dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const deadline = Date.now() + spec.readyTimeoutMs;
  for (;;) {
    if (life.hasExited) {
      await stop();
      throw new DaemonExitedError(`${spec.what} exited before answering:\n${output}`, output);
    }
    if (await spec.isReady()) break;
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(
        `${spec.what} did not answer within ${String(spec.readyTimeoutMs)} ms:\n${output}`,
      );
    }
    await delay(POLL_MS);
  }
  return { logs: () => output, stop };
}

/** Attempts `onFreshPort` makes at most. */
const PORT_ATTEMPTS = 3;

/**
 * `start(port)` on a free port, again on another when the daemon exited because the port was
 * taken between `freePort()` and its bind (another test, another daemon): it says "address
 * already in use". `port` given: that one only.
 */
export async function onFreshPort<T>(
  what: string,
  start: (port: number) => Promise<T>,
  port?: number,
): Promise<T> {
  if (port !== undefined) return start(port);
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error && /address already in use/i.test(error.message))) throw error;
    }
  }
  throw new Error(`${what}: ports kept being taken (${String(PORT_ATTEMPTS)} attempts)`, {
    cause: lastError,
  });
}
