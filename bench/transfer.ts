/**
 * `npm run bench:transfer`: zone transfers (docs/transfers.md) on a synthetic cluster of
 * `BENCH_TRANSFER_TASKS` tasks (default 100,000), on loopback:
 *
 *  1. knot secondaries' transfers, the first right after mesodns's load, then
 *     `BENCH_TRANSFER_AXFRS` more (default 3), each to a new knot once mesodns is idle: the time
 *     until knot answers the zone (its AXFR and its own load), and the transfer as knot logs it;
 *  2. authoritative latency under a paced dnsperf load (`BENCH_TRANSFER_QPS`, default 20,000
 *     queries/s, `BENCH_TRANSFER_SECONDS` each, default 10) without transfers, then with one
 *     AXFR a second read by a plain TCP reader that discards the bytes: p50, p99 and p99.9, the
 *     main thread's event-loop delay from `/metrics` (sampled every 10 ms), and the CPU the
 *     transfers added per AXFR on mesodns's main thread and on its other threads (from
 *     /proc/PID/task, the loaded run minus the quiet one);
 *  3. in stream mode, against a fake master of `BENCH_TRANSFER_STREAM_TASKS` tasks (default
 *     10,000), `BENCH_TRANSFER_CHANGES` launches each followed by its kill (default 50): the time
 *     from the master's change to the knot secondary's answer (NOTIFY, then IXFR), p50, p99 and
 *     max, and the transfers the secondary asked for.
 *
 * Needs the build (`npm run build`), knotd and dnsperf. Section 2 runs twice: with dnsperf, the
 * reader and mesodns sharing the machine's CPUs (on two cores the latency includes their
 * competition), then, where `taskset` and two CPUs are there, with mesodns pinned to the first
 * CPU and this process, its reader and dnsperf to the others (`BENCH_TRANSFER_PIN=0`: only the
 * shared run), so that what moves the answers is mesodns's own work.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { syntheticState } from '../support/cluster.js';
import { FakeMasterCluster } from '../support/fake-master.js';
import { buildQuery, metricValue, rcodeOf, startMesodns, waitFor } from '../support/mesodns.js';
import type { Mesodns } from '../support/mesodns.js';
import { freePort } from '../support/ports.js';
import { startKnotSecondary } from '../support/secondaries.js';
import { HOST, fmt, percentile, threadCpu } from './common.js';
import { dnsperf } from './dns-load.js';
import { scrape, value } from './metrics.js';
import type { PerfRun } from './dns-load.js';

const TASKS = Number(process.env['BENCH_TRANSFER_TASKS'] ?? 100_000);
const QPS = Number(process.env['BENCH_TRANSFER_QPS'] ?? 20_000);
const SECONDS = Number(process.env['BENCH_TRANSFER_SECONDS'] ?? 10);
const STREAM_TASKS = Number(process.env['BENCH_TRANSFER_STREAM_TASKS'] ?? 10_000);
const CHANGES = Number(process.env['BENCH_TRANSFER_CHANGES'] ?? 50);
const PIN = process.env['BENCH_TRANSFER_PIN'] !== '0' && availableParallelism() >= 2;
const AXFR_ROUNDS = Number(process.env['BENCH_TRANSFER_AXFRS'] ?? 3);

/** Resolves once process `pid` has used under 20 ms of CPU in each of two 250 ms intervals. */
async function cpuQuiet(pid: number, timeoutMs = 60_000): Promise<void> {
  const cpu = (): number => {
    const { main, other } = threadCpu(pid);
    return main + other;
  };
  const deadline = performance.now() + timeoutMs;
  let last = cpu();
  let quiet = 0;
  while (quiet < 2 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpu();
    quiet = now - last < 0.02 ? quiet + 1 : 0;
    last = now;
  }
}

/** `taskset` on every thread of `pid`; false when taskset is missing or fails. */
async function pin(pid: number, cpus: string): Promise<boolean> {
  try {
    await promisify(execFile)('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
    return true;
  } catch {
    return false;
  }
}
const KEY = {
  name: 'bench-key',
  algorithm: 'hmac-sha256',
  secret: 'YmVuY2gtdHJhbnNmZXItc2VjcmV0LTMyYnl0ZXMhIQ==',
};

/** Offset after the (possibly compressed) name at `off` of `m`. */
function nameEnd(m: Buffer, off: number): number {
  let o = off;
  while (o < m.length) {
    const len = m[o] ?? 0;
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2;
    o += 1 + len;
  }
  return o;
}

/**
 * The closing SOA's bytes after its owner (type, class, TTL, RDLENGTH, RDATA) as the first
 * message's first RR has them (unsigned AXFR: the question, then the SOA).
 */
function soaTail(first: Buffer): Buffer {
  const owner = nameEnd(first, 12) + 4;
  const rdata = nameEnd(first, owner) + 10;
  return first.subarray(rdata - 10, rdata + first.readUInt16BE(rdata - 2));
}

/**
 * One AXFR of `mesos.` over TCP, its bytes read and dropped; resolves when the message that
 * ends with the SOA again has come (or after 5 s without data).
 */
function rawAxfr(port: number): Promise<number> {
  return new Promise((resolve) => {
    const query = Buffer.from('0017000100000001000000000000056d65736f730000fc0001', 'hex');
    let bytes = 0;
    let quiet: NodeJS.Timeout | undefined;
    let pending: Buffer = Buffer.alloc(0);
    let tail: Buffer | undefined;
    const socket = connect(port, HOST, () => socket.write(query));
    const finish = (): void => {
      clearTimeout(quiet);
      socket.destroy();
      resolve(bytes);
    };
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      clearTimeout(quiet);
      quiet = setTimeout(finish, 5000);
      // Only the messages' boundaries and their last bytes are read, not their RRs.
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      while (pending.length - off >= 2) {
        const length = pending.readUInt16BE(off);
        if (pending.length - off - 2 < length) break;
        const m = pending.subarray(off + 2, off + 2 + length);
        off += 2 + length;
        const isFirst = tail === undefined;
        tail ??= soaTail(m);
        const ends = m.length >= tail.length && m.subarray(m.length - tail.length).equals(tail);
        if (ends && (!isFirst || m.readUInt16BE(6) > 1)) {
          finish();
          return;
        }
      }
      pending = pending.subarray(off);
    });
    socket.on('error', finish);
  });
}

/** The sum of a family's samples in `/metrics`, those with `result` when given. */
async function metric(srv: Mesodns, family: string, result?: string): Promise<number> {
  return value(await scrape(srv.httpPort), family, result === undefined ? {} : { result });
}

async function eventLoopP99Ms(srv: Mesodns): Promise<number> {
  return (await metric(srv, 'nodejs_eventloop_lag_p99_seconds')) * 1000;
}

function line(label: string, run: PerfRun, loopMs: number): string {
  return (
    `${label.padEnd(16)} ${fmt(run.qps).padStart(6)} q/s  lost ${String(run.lost)}  ` +
    `p50 ${fmt(run.p50Ms ?? Number.NaN, 3)} ms  p99 ${fmt(run.p99Ms ?? Number.NaN, 3)} ms  ` +
    `p99.9 ${fmt(run.p999Ms ?? Number.NaN, 3)} ms  event loop p99 ${fmt(loopMs, 1)} ms`
  );
}

/**
 * Asks `port` for `fqdn` A every 5 ms (one UDP socket, a query answered or given up after 200 ms
 * before the next) until the answer is `want`: an address, or NXDOMAIN. The milliseconds since
 * `since` (performance.now()); Infinity after 10 s.
 */
async function answeredAfter(
  port: number,
  fqdn: string,
  want: 'address' | 'nxdomain',
  since: number,
): Promise<number> {
  const socket = createSocket('udp4');
  try {
    for (let id = 1; performance.now() - since < 10_000; id = (id % 0xffff) + 1) {
      const reply = await new Promise<Buffer | undefined>((done) => {
        const timer = setTimeout(() => {
          socket.off('message', onMessage);
          done(undefined);
        }, 200);
        const onMessage = (m: Buffer): void => {
          if (m.length < 12 || m.readUInt16BE(0) !== id) return;
          clearTimeout(timer);
          socket.off('message', onMessage);
          done(m);
        };
        socket.on('message', onMessage);
        socket.send(buildQuery(fqdn, 'A', { id, rd: false }), port, HOST);
      });
      const at = performance.now();
      if (reply !== undefined) {
        const rcode = rcodeOf(reply);
        if (want === 'nxdomain' ? rcode === 3 : rcode === 0 && reply.readUInt16BE(6) > 0) {
          return at - since;
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return Infinity;
  } finally {
    socket.close();
  }
}

/** p50, p99 and max of a list of milliseconds. */
function spread(ms: readonly number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const p = (q: number): string => fmt(percentile(sorted, q));
  return `p50 ${p(0.5)} ms  p99 ${p(0.99)} ms  max ${fmt(sorted.at(-1) ?? Number.NaN)} ms`;
}

/** Section 3: streamed changes to a knot secondary (see the module comment). */
async function streamedToSecondary(): Promise<void> {
  const cluster = new FakeMasterCluster({
    size: 1,
    state: syntheticState({ tasks: STREAM_TASKS }),
    heartbeatSeconds: 1,
  });
  await cluster.start();
  try {
    const knotPort = await freePort();
    const srv = await startMesodns({
      readyTimeoutMs: 120_000,
      config: {
        mesos: { masters: cluster.urls, refresh: '5m' },
        transfer: {
          allow: ['127.0.0.1'],
          notify: [`${HOST}:${String(knotPort)}`],
          tsig: { keys: [{ name: KEY.name, algorithm: KEY.algorithm, secret: KEY.secret }] },
        },
      },
    });
    try {
      const knot = await startKnotSecondary({
        primaryPort: srv.dnsPort,
        key: KEY,
        port: knotPort,
        readyTimeoutMs: 120_000,
      });
      try {
        await waitFor(
          async () => (await metricValue(srv, 'mesodns_notify_pending')) === 0,
          10_000,
          'no NOTIFY unanswered',
        );
        const launches: number[] = [];
        const kills: number[] = [];
        for (let i = 0; i < CHANGES; i++) {
          const name = `bench-xfr-${String(i)}`;
          const fqdn = `${name}.marathon.mesos.`;
          const ip = `10.250.${String(i >> 8)}.${String((i & 255) + 1)}`;
          let at = performance.now();
          const id = cluster.launchTask({ name, ip, framework: 'marathon' });
          launches.push(await answeredAfter(knot.port, fqdn, 'address', at));
          // A pause between changes that does not line up with seconds (knot plans to the second).
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
          at = performance.now();
          cluster.killTask(id);
          kills.push(await answeredAfter(knot.port, fqdn, 'nxdomain', at));
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
        }
        const axfrs = await metricValue(
          srv,
          'mesodns_transfer_requests_total{type="AXFR",result="ok"}',
        );
        const ixfrs = await metricValue(
          srv,
          'mesodns_transfer_requests_total{type="IXFR",result="ok"}',
        );
        console.log(
          `stream, ${String(STREAM_TASKS)} tasks: change to knot secondary, ` +
            `${String(CHANGES)} launches  ${spread(launches)}`,
        );
        console.log(
          `stream, ${String(STREAM_TASKS)} tasks: change to knot secondary, ` +
            `${String(CHANGES)} kills     ${spread(kills)}`,
        );
        console.log(
          `  all ${spread([...launches, ...kills])}; the secondary asked for ` +
            `${String(axfrs)} AXFR and ${String(ixfrs)} IXFRs`,
        );
      } finally {
        await knot.stop();
      }
    } finally {
      await srv.stop();
    }
  } finally {
    await cluster.close();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-bench-transfer-'));
  try {
    const stateFile = join(dir, 'state.json');
    await writeFile(stateFile, JSON.stringify(syntheticState({ tasks: TASKS })));
    const srv = await startMesodns({
      stateFile,
      readyTimeoutMs: 120_000,
      config: {
        log: { level: 'info' },
        transfer: {
          allow: ['127.0.0.1'],
          tsig: { keys: [{ name: KEY.name, algorithm: KEY.algorithm, secret: KEY.secret }] },
        },
      },
    });
    try {
      // 1. Transfers to knot: the first right after the load (mesodns is still collecting the
      // load's garbage and handing the zone to the transfer worker, on the cores knot needs),
      // then `AXFR_ROUNDS` more, each to a new knot once mesodns is idle.
      for (let round = 0; round <= AXFR_ROUNDS; round++) {
        if (round === 1) await cpuQuiet(srv.proc.pid ?? 0);
        const started = performance.now();
        const knot = await startKnotSecondary({
          primaryPort: srv.dnsPort,
          key: KEY,
          readyTimeoutMs: 120_000,
        });
        const readyMs = performance.now() - started;
        const logged =
          /AXFR, incoming.*finished, ([\d.]+) seconds, (\d+) messages, (\d+) bytes/.exec(
            knot.logs(),
          );
        await knot.stop();
        console.log(
          `${String(TASKS)} tasks, ${round === 0 ? 'right after the load' : 'mesodns idle'}: ` +
            `knot answered the zone ${fmt(readyMs)} ms after it started; ` +
            `its AXFR took ${logged?.[1] ?? '?'} s, ${logged?.[2] ?? '?'} messages, ` +
            `${fmt(Number(logged?.[3] ?? Number.NaN) / 1e6, 1)} MB`,
        );
      }

      // 2. Latency under load, without and with a transfer a second. The reader signs nothing,
      // so the keys go (a reload): `transfer.allow` alone admits it.
      await srv.rewriteConfig({ log: { level: 'info' }, transfer: { allow: ['127.0.0.1'] } });
      srv.reload();
      await waitFor(
        async () => (await metric(srv, 'mesodns_config_reloads_total', 'applied')) >= 1,
        // A 100k-task state is read and built again: seconds on a busy machine.
        60_000,
        'the reload without keys',
      );
      const res = await fetch(`${srv.httpUrl}/v1/axfr`);
      const body = (await res.json()) as { Records: { As: Record<string, unknown> } };
      const names = Object.keys(body.Records.As).slice(0, 20_000);
      const queryFile = join(dir, 'queries.txt');
      await writeFile(queryFile, names.map((n) => `${n} A`).join('\n') + '\n');
      const server = {
        name: 'mesodns',
        port: srv.dnsPort,
        child: srv.proc,
        pid: srv.proc.pid ?? 0,
        logs: () => srv.logs(),
      };
      const paced = ['-Q', String(QPS), '-v'];
      const timeFile = join(dir, 'time.txt');
      /** Without, then with transfers; `label` says where the processes ran. */
      const pid = srv.proc.pid ?? 0;
      const compare = async (label: string): Promise<void> => {
        await eventLoopP99Ms(srv); // the event-loop histogram restarts at each scrape
        const cpu0 = threadCpu(pid);
        const quiet = await dnsperf(server, queryFile, SECONDS, paced, timeFile);
        const cpu1 = threadCpu(pid);
        const quietLoop = await eventLoopP99Ms(srv);
        let transfers = 0;
        let bytes = 0;
        const state = { stop: false };
        const reader = (async () => {
          while (!state.stop) {
            const at = performance.now();
            bytes += await rawAxfr(srv.dnsPort);
            transfers++;
            const wait = 1000 - (performance.now() - at);
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
        })();
        const cpu2 = threadCpu(pid);
        const loaded = await dnsperf(server, queryFile, SECONDS, paced, timeFile);
        const cpu3 = threadCpu(pid);
        state.stop = true;
        await reader;
        const loadedLoop = await eventLoopP99Ms(srv);
        console.log(label);
        console.log(line('no transfer', quiet, quietLoop));
        console.log(
          line(`${String(transfers)} AXFRs`, loaded, loadedLoop) +
            `  (${fmt(bytes / Math.max(transfers, 1) / 1e6, 1)} MB each)`,
        );
        const moved = (loaded.p99Ms ?? Number.NaN) - (quiet.p99Ms ?? Number.NaN);
        console.log(`p99 moved by ${fmt(moved, 3)} ms`);
        // CPU is steadier than latency on a shared machine: what the transfers added, per AXFR,
        // on the thread that answers and on the others (the transfer worker).
        const per = (loadedS: number, quietS: number): string =>
          fmt(((loadedS - quietS) * 1000) / Math.max(transfers, 1));
        console.log(
          `CPU per AXFR: main thread ${per(cpu3.main - cpu2.main, cpu1.main - cpu0.main)} ms, ` +
            `other threads ${per(cpu3.other - cpu2.other, cpu1.other - cpu0.other)} ms`,
        );
      };
      await compare('CPUs shared by mesodns, dnsperf and the reader:');
      const cpus = availableParallelism();
      if (
        PIN &&
        (await pin(srv.proc.pid ?? 0, '0')) &&
        (await pin(process.pid, `1-${String(cpus - 1)}`))
      ) {
        await compare(`mesodns on CPU 0; dnsperf and the reader on CPU 1-${String(cpus - 1)}:`);
        await pin(process.pid, `0-${String(cpus - 1)}`);
      }
    } finally {
      await srv.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
if (CHANGES > 0) await streamedToSecondary();
