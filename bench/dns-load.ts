/**
 * The DNS side of the benchmark: the zone export and the query file, DNS probes, dnsperf runs and
 * the servers under test.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { decode, type Answer, type DecodedPacket, type RecordType } from 'dns-packet';
import { buildQuery, queryRaw, rcodeOf } from '../support/mesodns.js';
import { freePort } from '../support/ports.js';
import { knotServerConf } from '../support/upstream.js';
import { createRandom, type MasterState, type Random } from '../support/cluster.js';
import {
  HOST,
  KNOTD,
  LOAD_ARGS,
  MAIN_JS,
  QUERY_LINES,
  SAMPLE_QUERIES,
  SEED,
  type Server,
  cpuSeconds,
  fmt,
  isRunning,
  percentile,
  procStatus,
  runCommand,
  spawnServer,
  stopChild,
} from './common.js';

// ---------------------------------------------------------------------------------------------
// Zone export and query file.

export interface ZoneNames {
  readonly a: string[];
  readonly aaaa: string[];
  readonly srv: string[];
  readonly owners: Set<string>;
  readonly lines: number;
  readonly counts: Record<string, number>;
}

export function collectNames(text: string): ZoneNames {
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
export function nxQuery(random: Random, names: ZoneNames, k: number): string {
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

export interface QueryMix {
  readonly A: number;
  readonly SRV: number;
  readonly AAAA: number;
  readonly NX: number;
  readonly aaaaFromA: boolean;
}

export function buildQueries(names: ZoneNames, seed: number): { lines: string[]; mix: QueryMix } {
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
export interface Reply {
  readonly rcode: number;
  readonly tc: boolean;
  readonly packet: DecodedPacket;
}

export const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export async function ask(
  port: number,
  name: string,
  type: RecordType,
): Promise<Reply | undefined> {
  const response = await queryRaw(port, buildQuery(name, type), 'udp', 500, HOST);
  if (response === undefined || response.length < 12) return undefined;
  try {
    const packet = decode(response);
    return { rcode: rcodeOf(response), tc: packet.flag_tc, packet };
  } catch {
    return undefined;
  }
}

export async function waitUntil(
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

export function answerKey(answer: Answer): string {
  const data = 'data' in answer ? JSON.stringify(answer.data) : '';
  return `${answer.name.toLowerCase()} ${answer.type} ${data}`;
}

export interface Sanity {
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
export async function compareServers(
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

export function num(text: string, re: RegExp): number {
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

export function mesodnsConfig(stateFile: string, port: number, httpPort: number): string {
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
    // `/metrics`: the loads' timing and memory (metrics.ts); nothing scrapes it during the
    // throughput rounds.
    'http:',
    '  enabled: true',
    `  listen: ${HOST}:${httpPort}`,
    'forward:',
    '  enabled: false',
    '',
  ].join('\n');
}

export function knotConf(dir: string, port: number): string {
  return [
    ...knotServerConf(dir, port, { udpWorkers: 2, log: 'notice' }),
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
export async function zoneHeader(mesodnsPort: number): Promise<string> {
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

export async function startKnot(dir: string): Promise<{ server: Server; loadMs: number }> {
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
  /** The HTTP port of the same mesodns (`/metrics`). */
  readonly mesodnsHttpPort: number;
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
