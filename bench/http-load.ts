/**
 * DNS latency while `/v1/enumerate` is read in a loop (issue 16): the DNS p50/p99 of 500 SOA
 * queries on a quiet server, then of 1,000 while two clients read the whole body over and over,
 * and the server's peak RSS. Loopback only.
 *
 *   npm run build && node --import tsx bench/http-load.ts [tasks=100000]
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { syntheticState } from '../support/cluster.js';
import { ask, startMesodns } from '../support/mesodns.js';
import type { Mesodns } from '../support/mesodns.js';

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

async function latency(srv: Mesodns, count: number): Promise<Latency> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const reply = await ask(srv.dnsPort, 'mesos', 'SOA', { timeoutMs: 3000 });
    if (reply.rcode !== 'NOERROR') throw new Error(`SOA query answered ${reply.rcode}`);
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(ms.length * q))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** Reads `/v1/enumerate` from `localAddress` to the end; its size in bytes. */
function readBody(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/v1/enumerate', localAddress }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => {
          resolve(bytes);
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const fmt = (l: Latency): string =>
  `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms`;

const tasks = Number(process.argv[2] ?? '100000');
const srv = await startMesodns({
  state: syntheticState({ tasks, seed: 16 }),
  readyTimeoutMs: 300_000,
});
try {
  const quiet = await latency(srv, 500);
  let isLoading = true;
  const bodies: number[] = [];
  // Each reader from its own address: a client address gets two large responses at once.
  const readers = ['127.0.0.4', '127.0.0.5'].map(async (from) => {
    while (isLoading) bodies.push(await readBody(srv.httpPort, from));
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const loaded = await latency(srv, 1000);
  isLoading = false;
  await Promise.all(readers);
  const status = await readFile(`/proc/${String(srv.proc.pid ?? 0)}/status`, 'utf8');
  const peakMiB = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) / 1024;
  const bodyMB = (bodies[0] ?? 0) / (1024 * 1024);
  console.log(`${String(tasks)} tasks, /v1/enumerate ${bodyMB.toFixed(0)} MB`);
  console.log(`DNS quiet:  ${fmt(quiet)}`);
  console.log(`DNS loaded: ${fmt(loaded)} (${String(bodies.length)} bodies read meanwhile)`);
  console.log(
    `p99 difference: ${(loaded.p99 - quiet.p99).toFixed(2)} ms; peak RSS ${peakMiB.toFixed(0)} MiB`,
  );
} finally {
  await srv.stop();
}
