/**
 * Robustness: throws 100,000 random and mutated packets at the running server over UDP (and
 * garbage over TCP). The server must stay up, keep answering valid queries, and never answer a
 * packet that has QR=1 (a response): answering those enables reflection loops.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import net from 'node:net';
import test from 'ava';
import { dig } from '../../support/dig.js';
import { buildQuery, queryRaw, startMesodns } from '../../support/mesodns.js';
import { startKnot } from '../../support/upstream.js';

const PACKETS = 100_000;
const BURST = 250;

/** Deterministic PRNG (xorshift32) so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);

function bind(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      resolve(s);
    });
  });
}

const seeds: Buffer[] = [
  buildQuery('liquor-store.marathon.mesos', 'A', { id: 1 }),
  buildQuery('_liquor-store._tcp.marathon.mesos', 'SRV', { id: 2, edns: 1232 }),
  buildQuery('mesos', 'SOA', { id: 3 }),
  buildQuery('mesos', 'NS', { id: 4, do: true }),
  buildQuery('nope.marathon.mesos', 'AAAA', { id: 5 }),
  buildQuery('slave.mesos', 'TXT', { id: 6, edns: 4096 }),
  buildQuery('www.example.test', 'A', { id: 7 }),
  buildQuery('many.example.test', 'A', { id: 8, edns: 512 }),
  buildQuery('leader.mesos', 'A', { id: 9 }),
];

function mutate(rand: () => number, base: Buffer): Buffer {
  let p = Buffer.from(base);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const op = Math.floor(rand() * 7);
    const at = Math.floor(rand() * Math.max(1, p.length));
    if (op === 0 && p.length > 0) p[at] = Math.floor(rand() * 256);
    else if (op === 1 && p.length > 0) p[at] = (p[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
    else if (op === 2) p = p.subarray(0, at);
    else if (op === 3)
      p = Buffer.concat([
        p,
        Buffer.from(
          Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)),
        ),
      ]);
    else if (op === 4 && p.length >= 12)
      p.writeUInt16BE(Math.floor(rand() * 0x10000), 4 + 2 * Math.floor(rand() * 4));
    else if (op === 5 && p.length >= 12) p[2] = (p[2] ?? 0) ^ 0x80;
    else if (op === 6 && p.length > 13) p[12 + Math.floor(rand() * (p.length - 12))] = 0xc0;
  }
  return p;
}

function randomPacket(rand: () => number): Buffer {
  const len = Math.floor(rand() * 300);
  const p = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) p[i] = Math.floor(rand() * 256);
  return p;
}

test('survives 100k random and mutated packets, never answers responses, keeps answering', async (t) => {
  const knot = await startKnot();
  t.teardown(() => knot.stop());
  const srv = await startMesodns({
    stateFile: 'test/fixtures/fake.json',
    config: {
      forward: { enabled: true, resolvers: [knot.address], timeout: '500ms' },
      log: { level: 'warn' },
    },
  });
  t.teardown(async () => {
    await srv.stop();
  });

  const querySock = await bind();
  const responseSock = await bind();
  let repliesToResponses = 0;
  let replies = 0;
  querySock.on('message', () => {
    replies++;
  });
  responseSock.on('message', () => {
    repliesToResponses++;
  });
  t.teardown(() => {
    querySock.close();
    responseSock.close();
  });

  const rand = prng(SEED);
  let sentQueries = 0;
  let sentResponses = 0;
  let probesOk = 0;
  for (let i = 0; i < PACKETS; i += BURST) {
    for (let j = 0; j < BURST; j++) {
      const seed = seeds[Math.floor(rand() * seeds.length)] ?? randomPacket(rand);
      const p = rand() < 0.4 ? randomPacket(rand) : mutate(rand, seed);
      const isResponse = p.length > 2 && ((p[2] ?? 0) & 0x80) !== 0;
      (isResponse ? responseSock : querySock).send(p, srv.dnsPort, '127.0.0.1');
      if (isResponse) sentResponses++;
      else sentQueries++;
    }
    // Pace the load (about 25k packets/s) and check every 40 bursts that valid queries still work.
    await new Promise((r) => setTimeout(r, 10));
    if ((i / BURST) % 40 === 0) {
      // UDP may drop a datagram under this load; like a stub resolver, retry.
      for (let attempt = 0; attempt < 3; attempt++) {
        const reply = await queryRaw(
          srv.dnsPort,
          buildQuery('liquor-store.marathon.mesos', 'A', { id: 4321 }),
          'udp',
          1000,
        );
        if (reply !== undefined && reply.readUInt16BE(0) === 4321 && (reply[3] ?? 0) % 16 === 0) {
          probesOk++;
          break;
        }
      }
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  t.log(
    `seed ${String(SEED)}: ${String(sentQueries)} queries, ${String(sentResponses)} response packets, ${String(replies)} replies`,
  );
  t.true(sentResponses > 1000, 'the mix contains many QR=1 packets');
  t.is(repliesToResponses, 0, 'a packet with QR=1 was answered');
  t.true(replies > 10_000, 'malformed queries with a readable header get FORMERR or an answer');
  t.is(
    probesOk,
    Math.ceil(PACKETS / BURST / 40),
    'every valid probe during the flood was answered',
  );

  // TCP: garbage frames, oversized lengths, half frames, then close.
  const trand = prng(SEED + 1);
  await Promise.all(
    Array.from(
      { length: 100 },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(srv.dnsPort, '127.0.0.1', () => {
            const frames: Buffer[] = [];
            for (let k = 0; k < 5; k++) {
              const body =
                trand() < 0.5 ? randomPacket(trand) : mutate(trand, seeds[k] ?? Buffer.alloc(0));
              const len = Buffer.alloc(2);
              len.writeUInt16BE(trand() < 0.1 ? 0xffff : body.length);
              frames.push(len, body);
            }
            s.end(Buffer.concat(frames));
          });
          s.on('data', () => undefined);
          s.on('error', () => {
            resolve();
          });
          s.on('close', () => {
            resolve();
          });
          s.setTimeout(3000, () => s.destroy());
        }),
    ),
  );

  t.is(srv.proc.exitCode, null, 'server still running');
  for (const tcp of [false, true]) {
    const r = await dig(srv.dnsPort, ['car-store.marathon.mesos', 'A', ...(tcp ? ['+tcp'] : [])]);
    t.is(r.status, 'NOERROR', r.raw);
    t.deepEqual(
      r.answer.map((a) => a.data),
      ['1.2.3.11'],
    );
  }
  const fwd = await dig(srv.dnsPort, ['www.example.test', 'A']);
  t.is(fwd.status, 'NOERROR', fwd.raw);
});
