/**
 * Helpers of the deployment tests: a Dockerfile parser, `.dockerignore` matching with Docker's
 * rules, a clean copy of the repository, and process running. No Docker engine is involved: the
 * tests execute the Dockerfile's instructions themselves.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync, lstatSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { buildQuery, killOnExit, queryRaw, rcodeOf } from '../../support/mesodns.js';

import { REPO_ROOT } from '../../support/paths.js';
export { isRecord } from '../../src/is-record.js';
import { isRecord } from '../../src/is-record.js';

export { REPO_ROOT };

/** One Dockerfile instruction, continuation lines joined, comments removed. */
export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, trimmed. */
  readonly args: string;
  /** 1-based line where the instruction starts. */
  readonly line: number;
}

/** One build stage: its FROM and the instructions up to the next FROM. */
export interface Stage {
  /** The base image reference, e.g. `node:20-bookworm-slim`. */
  readonly image: string;
  /** The `AS` name, if any. */
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/**
 * Parses a Dockerfile into stages: joins `\` continuation lines, drops comment lines (also
 * inside continuations, as Docker does) and parser directives, splits at FROM.
 */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  let current = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && current === '')) continue;
    if (current === '') start = i + 1;
    if (trimmed.endsWith('\\')) {
      current += trimmed.slice(0, -1) + ' ';
      continue;
    }
    current += trimmed;
    const match = /^(\S+)\s*(.*)$/s.exec(current);
    if (match !== null) {
      instructions.push({
        keyword: (match[1] ?? '').toUpperCase(),
        args: (match[2] ?? '').replace(/\s+/g, ' ').trim(),
        line: start,
      });
    }
    current = '';
  }
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) throw new Error(`line ${String(ins.line)}: cannot parse FROM ${ins.args}`);
      stages.push({ image: m[1] ?? '', name: m[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (ins.keyword === 'ARG') continue;
      throw new Error(`line ${String(ins.line)}: ${ins.keyword} before the first FROM`);
    }
    stage.instructions.push(ins);
  }
  return stages;
}

/** Leading `--flag=value` options of an instruction (`RUN --mount=...`, `COPY --from=...`). */
export function splitFlags(args: string): { flags: Map<string, string[]>; rest: string } {
  const flags = new Map<string, string[]>();
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
    if (m === null) break;
    const key = m[1] ?? '';
    flags.set(key, [...(flags.get(key) ?? []), m[2] ?? '']);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** The exec form (`["a", "b"]`) of CMD/ENTRYPOINT/HEALTHCHECK CMD as an argv; throws otherwise. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === 'string')) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return parsed;
}

/** One `.dockerignore` rule. */
interface IgnoreRule {
  readonly isException: boolean;
  readonly regex: RegExp;
}

/** Translates a Docker (Go `filepath.Match` plus `**`) pattern into an anchored regex. */
function globToRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') {
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else {
      out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/**
 * Parses `.dockerignore` text into rules: comments and blank lines skipped, `!` exceptions,
 * leading and trailing slashes removed (Docker cleans patterns the same way).
 */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const isException = line.startsWith('!');
    if (isException) line = line.slice(1).trim();
    line = line.replace(/^\/+/, '').replace(/\/+$/, '');
    rules.push({ isException, regex: globToRegex(line) });
  }
  return rules;
}

/**
 * Whether Docker leaves `path` (relative, `/`-separated) out of the build context: the last
 * rule that matches the path or one of its parent directories decides.
 */
export function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((c) => rule.regex.test(c))) ignored = !rule.isException;
  }
  return ignored;
}

/** Result of a finished process. */
export interface RunResult {
  readonly code: number;
  /** stdout and stderr interleaved as received. */
  readonly out: string;
}

/** Runs a command to completion (never rejects; a spawn error gives code -1). */
export function run(
  cmd: string,
  args: readonly string[],
  options: SpawnOptions & { readonly input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const { input, ...spawnOptions } = options;
    const child = spawn(cmd, args, {
      ...spawnOptions,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    if (input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => undefined); // the child may exit without reading
      child.stdin.end(input);
    }
    child.once('error', (err) => {
      resolve({ code: -1, out: out + err.message });
    });
    child.once('close', (code, signal) => {
      resolve({ code: code ?? (signal === null ? -1 : 128), out });
    });
  });
}

/** The files git would put in a commit now: tracked plus untracked-but-not-ignored, existing. */
export function repoFiles(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { cwd: REPO_ROOT, maxBuffer: 64 << 20 },
      (err, stdout) => {
        if (err !== null) {
          reject(new Error(`git ls-files failed: ${err.message}`, { cause: err }));
          return;
        }
        const files = [...new Set(stdout.split('\0'))].filter((f) => {
          if (f === '') return false;
          const abs = join(REPO_ROOT, f);
          return existsSync(abs) && lstatSync(abs).isFile();
        });
        resolve(files.sort());
      },
    );
  });
}

/** Copies the given repository files (relative paths) into `dest`, keeping the layout. */
export async function copyFiles(files: readonly string[], dest: string): Promise<void> {
  for (const f of files) {
    await mkdir(dirname(join(dest, f)), { recursive: true });
    await copyFile(join(REPO_ROOT, f), join(dest, f));
  }
}

/** `mesodns check-config FILE` with the built program (dist/main.js; `npm test` builds first). */
export function checkConfig(file: string): Promise<RunResult> {
  return run(process.execPath, [join(REPO_ROOT, 'dist', 'main.js'), 'check-config', file]);
}

/** A server process started by a deployment test. */
export interface ServerProcess {
  readonly proc: ChildProcess;
  /** stdout and stderr so far. */
  logs(): string;
  /** Resolves with the exit code (128 + signal number when killed by a signal). */
  readonly exited: Promise<number>;
  /** Sends `signal` (default SIGTERM), SIGKILL after 5 s; resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Spawns a long-running process, killed when the test process exits. */
export function spawnServer(
  cmd: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ServerProcess {
  const proc = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<number>((resolve) => {
    proc.once('error', (err) => {
      output += `\n[spawn error] ${err.message}\n`;
      resolve(-1);
    });
    proc.once('close', (code, signal) => {
      resolve(code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]));
    });
  });
  let stopping: Promise<number> | undefined;
  return {
    proc,
    logs: () => output,
    exited,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      (stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })()),
  };
}

/**
 * Waits until `<zone> SOA` answers NOERROR on 127.0.0.1:`port` over UDP (mesodns has loaded a
 * state); rejects with the server's logs when it exits first or after `timeoutMs`.
 */
export async function waitForZone(
  server: ServerProcess,
  port: number,
  zone = 'mesos.',
  timeoutMs = 15_000,
): Promise<void> {
  const life = { hasExited: false };
  void server.exited.then(() => (life.hasExited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (life.hasExited) throw new Error(`server exited before it was ready:\n${server.logs()}`);
    const reply = await queryRaw(port, buildQuery(zone, 'SOA'), 'udp', 250);
    if (reply !== undefined && reply.length >= 12 && rcodeOf(reply) === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`no NOERROR ${zone} SOA on port ${String(port)}:\n${server.logs()}`);
    }
    await delay(50);
  }
}

/**
 * A copy of a mesodns config object that stays on this machine: DNS and HTTP on the given
 * 127.0.0.1 ports, the state from `stateFile` instead of the masters, forwarding off.
 */
export function localConfig(
  config: Readonly<Record<string, unknown>>,
  ports: { readonly dns: number; readonly http: number },
  stateFile: string,
): Record<string, unknown> {
  const section = (key: string): Record<string, unknown> => {
    const value = config[key];
    return isRecord(value) ? { ...value } : {};
  };
  return {
    ...config,
    mesos: { stateFile, refresh: section('mesos').refresh ?? '30s' },
    dns: { ...section('dns'), listen: `127.0.0.1:${String(ports.dns)}` },
    http: { ...section('http'), enabled: true, listen: `127.0.0.1:${String(ports.http)}` },
    forward: { enabled: false },
  };
}
