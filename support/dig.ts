import { execFile } from 'node:child_process';

/** A header flag as dig prints it on its `;; flags:` line. */
export type DigFlag = 'qr' | 'aa' | 'tc' | 'rd' | 'ra' | 'ad' | 'cd';

/**
 * The response code as dig prints it (`status: NXDOMAIN`), or `NOREPLY` when dig got no answer
 * at all (timeout, connection refused: dig exit code 9).
 */
export type DigStatus =
  | 'NOERROR'
  | 'FORMERR'
  | 'SERVFAIL'
  | 'NXDOMAIN'
  | 'NOTIMP'
  | 'REFUSED'
  | 'BADVERS'
  | 'NOREPLY'
  | (string & Record<never, never>);

/** One resource record line of an answer, authority or additional section, as printed. */
export interface DigRecord {
  /** Owner name exactly as printed (case kept, trailing dot included). */
  readonly name: string;
  readonly ttl: number;
  readonly class: string;
  readonly type: string;
  /** Rdata as printed, e.g. `192.0.2.10`, `0 1 8080 web.marathon.mesos.`, `"a b" "c"`. */
  readonly data: string;
}

/** The question line (`;www.example.test.  IN  A`). */
export interface DigQuestion {
  readonly name: string;
  readonly class: string;
  readonly type: string;
}

/** One DNS response as printed by dig after `;; Got answer:`. */
export interface DigMessage {
  readonly status: DigStatus;
  readonly id: number;
  readonly opcode: string;
  readonly flags: ReadonlySet<DigFlag>;
  /** Section counts from the header line (what the server claimed, even when truncated). */
  readonly counts: {
    readonly query: number;
    readonly answer: number;
    readonly authority: number;
    readonly additional: number;
  };
  readonly question: readonly DigQuestion[];
  readonly answer: readonly DigRecord[];
  readonly authority: readonly DigRecord[];
  readonly additional: readonly DigRecord[];
  /** UDP payload size from the OPT record (`; EDNS: version: 0, flags:; udp: 1232`); undefined without OPT. */
  readonly ednsUdpSize: number | undefined;
  readonly ednsVersion: number | undefined;
  /** EDNS flags such as `do`; empty without OPT. */
  readonly ednsFlags: readonly string[];
  /** From `;; MSG SIZE  rcvd: N`. */
  readonly msgSize: number | undefined;
  /** From the `;; SERVER: 127.0.0.1#5300(127.0.0.1) (UDP)` line. */
  readonly transport: 'udp' | 'tcp' | undefined;
}

/** The parsed output of one dig run. Top-level fields describe the first (usually only) response. */
export interface DigResult extends DigMessage {
  /** Every response printed (several when several queries were given on one command line). */
  readonly messages: readonly DigMessage[];
  /** dig printed `;; Truncated, retrying in TCP mode.` (the UDP answer had TC and no `+ignore`). */
  readonly retriedOverTcp: boolean;
  /** `;; WARNING ...`, `;; Warning: ...`, `;; communications error ...` and similar lines. */
  readonly warnings: readonly string[];
  readonly exitCode: number;
  /** dig's stdout, verbatim, for failure messages. */
  readonly raw: string;
  readonly stderr: string;
}

/** Options of `dig()` besides dig's own arguments. */
export interface DigOptions {
  /** Server address; only loopback is allowed (tests never leave the machine). Default 127.0.0.1. */
  readonly server?: string;
  /**
   * Allows a server that is not loopback: the smoke test checks deployed servers
   * (`npm run smoke -- --server HOST:PORT`). Tests leave it unset.
   */
  readonly anyServer?: boolean;
  /** Kill dig after this long (a guard; dig's own `+time`/`+tries` normally end it). Default 20 s. */
  readonly killAfterMs?: number;
}

const DIG_NO_REPLY = 9;
const SECTION_HEADERS: Readonly<
  Record<string, 'question' | 'answer' | 'authority' | 'additional'>
> = {
  'QUESTION SECTION:': 'question',
  'ANSWER SECTION:': 'answer',
  'AUTHORITY SECTION:': 'authority',
  'ADDITIONAL SECTION:': 'additional',
};
const KNOWN_FLAGS: ReadonlySet<string> = new Set<DigFlag>([
  'qr',
  'aa',
  'tc',
  'rd',
  'ra',
  'ad',
  'cd',
]);

function isDigFlag(value: string): value is DigFlag {
  return KNOWN_FLAGS.has(value);
}

/** Throws unless `server` is a loopback address: no test query may leave the machine. */
function assertLoopback(server: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(server) && server !== '::1') {
    throw new Error(`dig helper: refusing non-loopback server ${server}`);
  }
}

interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], killAfterMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: killAfterMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        if (typeof error.code === 'number') {
          resolve({ code: error.code, stdout, stderr });
          return;
        }
        // Spawn failure (ENOENT) or killed by the timeout guard.
        reject(
          new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`, {
            cause: error,
          }),
        );
      },
    );
  });
}

function parseRecord(line: string): DigRecord | undefined {
  const match = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (match === null) {
    return undefined;
  }
  const [, name = '', ttl = '0', cls = '', type = '', data = ''] = match;
  return { name, ttl: Number(ttl), class: cls, type, data: data.trim() };
}

function parseQuestion(line: string): DigQuestion | undefined {
  const match = /^;(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
  if (match === null) {
    return undefined;
  }
  const [, name = '', cls = '', type = ''] = match;
  return { name, class: cls, type };
}

/** Parses one response block (the text after a `;; Got answer:` marker). */
function parseMessage(block: string): DigMessage | undefined {
  const lines = block.split('\n');
  const header = /->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)/.exec(block);
  if (header === null) {
    return undefined;
  }
  const [, opcode = '', status = '', id = '0'] = header;
  const flagLine = /^;; flags:([^;]*);(.*)$/m.exec(block);
  const flags = new Set<DigFlag>();
  for (const flag of (flagLine?.[1] ?? '').trim().split(/\s+/)) {
    if (isDigFlag(flag)) {
      flags.add(flag);
    }
  }
  const countOf = (label: string): number => {
    const m = new RegExp(`${label}: (\\d+)`).exec(flagLine?.[2] ?? '');
    return m === null ? 0 : Number(m[1]);
  };
  const edns = /^; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)/m.exec(block);
  const size = /^;; MSG SIZE {2}rcvd: (\d+)/m.exec(block);
  const server = /^;; SERVER: .*\((UDP|TCP)\)\s*$/m.exec(block);

  const sections = {
    question: [] as DigQuestion[],
    answer: [] as DigRecord[],
    authority: [] as DigRecord[],
    additional: [] as DigRecord[],
  };
  let section: keyof typeof sections | undefined;
  for (const line of lines) {
    if (line.trim() === '') {
      section = undefined;
      continue;
    }
    const heading = /^;; (\S+ SECTION:)$/.exec(line);
    if (heading !== null) {
      section = SECTION_HEADERS[heading[1] ?? ''];
      continue;
    }
    if (section === 'question') {
      const question = parseQuestion(line);
      if (question !== undefined) {
        sections.question.push(question);
      }
    } else if (section !== undefined && !line.startsWith(';')) {
      const record = parseRecord(line);
      if (record !== undefined) {
        sections[section].push(record);
      }
    }
  }
  return {
    status,
    id: Number(id),
    opcode,
    flags,
    counts: {
      query: countOf('QUERY'),
      answer: countOf('ANSWER'),
      authority: countOf('AUTHORITY'),
      additional: countOf('ADDITIONAL'),
    },
    ...sections,
    ednsUdpSize: edns === null ? undefined : Number(edns[3]),
    ednsVersion: edns === null ? undefined : Number(edns[1]),
    ednsFlags: (edns?.[2] ?? '')
      .trim()
      .split(/\s+/)
      .filter((f) => f !== ''),
    msgSize: size === null ? undefined : Number(size[1]),
    transport: server === null ? undefined : server[1] === 'TCP' ? 'tcp' : 'udp',
  };
}

const NO_REPLY: DigMessage = {
  status: 'NOREPLY',
  id: 0,
  opcode: '',
  flags: new Set<DigFlag>(),
  counts: { query: 0, answer: 0, authority: 0, additional: 0 },
  question: [],
  answer: [],
  authority: [],
  additional: [],
  ednsUdpSize: undefined,
  ednsVersion: undefined,
  ednsFlags: [],
  msgSize: undefined,
  transport: undefined,
};

/**
 * Parses dig's default text output into a `DigResult`. Exported for tests of the parser itself;
 * most callers use `dig()`. `+short`, `+multiline` and `+yaml` output are not understood.
 */
export function parseDigOutput(stdout: string, stderr = '', exitCode = 0): DigResult {
  // Not anchored: with several queries dig can print `;; Got answer:` right after another
  // partial line (`;; global options;; Got answer:`).
  const blocks = stdout.split(/;; Got answer:$/m).slice(1);
  const messages = blocks
    .map((block) => parseMessage(block))
    .filter((m): m is DigMessage => m !== undefined);
  const warnings = `${stdout}\n${stderr}`
    .split('\n')
    .filter((line) =>
      /^;; (WARNING|Warning|communications error|Connection to|no servers|Got bad packet|Question section mismatch|BADCOOKIE|ERROR)/.test(
        line,
      ),
    );
  const first = messages[0] ?? NO_REPLY;
  return {
    ...first,
    messages,
    retriedOverTcp: /^;; Truncated, retrying in TCP mode\.$/m.test(stdout),
    warnings,
    exitCode,
    raw: stdout,
    stderr,
  };
}

/**
 * Runs `dig @127.0.0.1 -p PORT +tries=1 +time=2 ...args` (no shell) and parses its output.
 *
 * `args` are dig's own arguments (`['web.marathon.mesos', 'SRV', '+tcp']`); options given later
 * win, so `+time=5` in `args` overrides the default. Resolves with `status: 'NOREPLY'` when no
 * server answered (dig exit code 9); rejects when dig cannot run or exits with another error
 * (bad arguments), with dig's output in the message.
 *
 * @example
 * const r = await dig(port, ['www.example.test', 'A']);
 * t.is(r.status, 'NOERROR', r.raw);
 * t.deepEqual(r.answer.map((rr) => rr.data), ['192.0.2.10']);
 */
export async function dig(
  port: number,
  args: readonly string[],
  options: DigOptions = {},
): Promise<DigResult> {
  const server = options.server ?? '127.0.0.1';
  if (options.anyServer !== true) assertLoopback(server);
  const argv = [`@${server}`, '-p', String(port), '+tries=1', '+time=2', ...args];
  const { code, stdout, stderr } = await run('dig', argv, options.killAfterMs ?? 20_000);
  const result = parseDigOutput(stdout, stderr, code);
  if (code !== 0 && !(code === DIG_NO_REPLY && result.messages.length === 0)) {
    throw new Error(`dig ${argv.join(' ')} exited ${code}\n${stdout}${stderr}`);
  }
  return result;
}

/**
 * Runs dig with `+short` and returns its non-empty output lines (rdata only), e.g.
 * `['192.0.2.10']`. Lines dig prints for errors (`;; ...`) are dropped; an unanswered query
 * yields `[]`.
 */
export async function digShort(
  port: number,
  args: readonly string[],
  options: DigOptions = {},
): Promise<string[]> {
  const server = options.server ?? '127.0.0.1';
  assertLoopback(server);
  const argv = [`@${server}`, '-p', String(port), '+tries=1', '+time=2', '+short', ...args];
  const { code, stdout, stderr } = await run('dig', argv, options.killAfterMs ?? 20_000);
  if (code !== 0 && code !== DIG_NO_REPLY) {
    throw new Error(`dig ${argv.join(' ')} exited ${code}\n${stdout}${stderr}`);
  }
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith(';'));
}

/** What `kdig` printed (stdout and stderr together) and its exit status. */
export interface KdigResult {
  readonly output: string;
  readonly code: number;
}

/**
 * Runs knot's kdig with `args`, one try of `timeoutSeconds` (the tests use it where dig has no
 * equivalent: TSIG keys on the command line, IXFR=serial, multi-message transfers).
 */
export function kdig(args: readonly string[], timeoutSeconds = 3): Promise<KdigResult> {
  return new Promise((resolve) => {
    execFile(
      'kdig',
      [...args, '+retry=0', `+timeout=${String(timeoutSeconds)}`],
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ output: stdout + stderr, code });
      },
    );
  });
}
