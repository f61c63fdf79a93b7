/**
 * knot's own floor for the 100k-task AXFR (bench/README.md, "Zone transfers"): mesodns serves a
 * synthetic cluster of `BENCH_TRANSFER_TASKS` tasks (default 100,000) with transfers allowed and
 * no keys; one AXFR is captured as bytes; then knot secondaries, one after the other, transfer
 * the zone from mesodns and from a replay of the capture (the bytes written as fast as the socket
 * takes them, the query's ID put into each message), `BENCH_TRANSFER_FLOOR_ROUNDS` pairs
 * (default 2). The replay's time is what knot needs to parse and load the zone alone.
 *
 *   npm run build && node --import tsx bench/transfer-floor.ts
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticState } from '../support/cluster.js';
import { startMesodns } from '../support/mesodns.js';
import { freePort } from '../support/ports.js';
import { knotServerConf, soaAnswered } from '../support/upstream.js';
import { HOST } from './common.js';

const TASKS = Number(process.env['BENCH_TRANSFER_TASKS'] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_TRANSFER_FLOOR_ROUNDS'] ?? 2);
/** An AXFR of `mesos.`, framed for TCP (ID 0x0001). */
const AXFR_QUERY = Buffer.from('0017000100000001000000000000056d65736f730000fc0001', 'hex');

/** One AXFR's bytes as they came (2-byte lengths included): the reader stops after 1 s idle. */
function capture(port: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const socket = connect(port, HOST, () => socket.write(AXFR_QUERY));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      clearTimeout(idle);
      idle = setTimeout(() => {
        socket.destroy();
        resolve(Buffer.concat(chunks));
      }, 1000);
    });
  });
}

/** knotd following `primary` until it answers the zone; the AXFR seconds it logged. */
async function knotAxfrSeconds(dir: string, primary: number): Promise<string> {
  const kd = await mkdtemp(join(dir, 'knot-'));
  await Promise.all(['run', 'db', 'zones'].map((d) => mkdir(join(kd, d))));
  const port = await freePort();
  const conf = [
    ...knotServerConf(kd, port, { backgroundWorkers: 2 }),
    'remote:',
    '  - id: primary',
    `    address: ${HOST}@${String(primary)}`,
    'template:',
    '  - id: default',
    `    storage: "${join(kd, 'zones')}"`,
    '    zonefile-sync: -1',
    '    journal-content: none',
    'zone:',
    '  - domain: mesos.',
    '    master: primary',
    '',
  ].join('\n');
  await writeFile(join(kd, 'knot.conf'), conf);
  const knot = spawn('/usr/sbin/knotd', ['-c', join(kd, 'knot.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  knot.stderr.on('data', (d: Buffer) => (log += d.toString()));
  // The log first, then queries: no query competes with knot's load for the CPU.
  while (!/AXFR, incoming.*finished/.test(log) || !(await soaAnswered(port, ['mesos.']))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  knot.kill('SIGTERM');
  await new Promise((resolve) => knot.once('exit', resolve));
  return /AXFR, incoming.*finished, ([\d.]+) seconds/.exec(log)?.[1] ?? '?';
}

const dir = await mkdtemp(join(tmpdir(), 'mesodns-bench-floor-'));
try {
  const srv = await startMesodns({
    state: syntheticState({ tasks: TASKS }),
    readyTimeoutMs: 120_000,
    config: { transfer: { allow: [HOST] } },
  });
  try {
    const wire = await capture(srv.dnsPort);
    const starts: number[] = [];
    for (let o = 0; o < wire.length; o += 2 + wire.readUInt16BE(o)) starts.push(o);
    const replay = createServer((socket) => {
      socket.once('data', (query: Buffer) => {
        const copy = Buffer.from(wire);
        for (const o of starts) copy.writeUInt16BE(query.readUInt16BE(2), o + 2);
        socket.end(copy);
      });
    });
    const replayPort = await freePort();
    await new Promise<void>((resolve) => replay.listen(replayPort, HOST, resolve));
    console.log(
      `${String(TASKS)} tasks: an AXFR of ${String(starts.length)} messages, ${String(wire.length)} bytes`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      const fromMesodns = await knotAxfrSeconds(dir, srv.dnsPort);
      const fromReplay = await knotAxfrSeconds(dir, replayPort);
      console.log(`knot's AXFR from mesodns ${fromMesodns} s, from the replay ${fromReplay} s`);
    }
    replay.close();
  } finally {
    await srv.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
