/**
 * Forwarding against forged replies (RFC 5452; issue 16): every exchange goes out from a fresh
 * socket on a random ephemeral port, so knowing the ports of earlier queries does not help a
 * forger. Before, four sockets served every query: 262,144 forged replies (every ID to each of
 * the four ports) poisoned the cache in under a second. Serial: the flood of forged replies
 * drops other tests' packets on loopback.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import test from 'ava';
import dnsPacket from 'dns-packet';
import { UpstreamClient } from '../../src/dns/upstream.js';
import { HEADER_SIZE } from '../../src/dns/wire.js';

const TRUE_IP = '10.0.0.1';
/**
 * Forged floods per run: one in the suite. After `npm run build:test`, `SPOOF_TRIES=100 npx ava
 * --timeout=30m .test-build/test/dns/upstream-spoof.test.js` is the 100-try run of
 * docs/names-and-dns.md.
 */
const TRIES = Math.max(1, Number(process.env['SPOOF_TRIES'] ?? '1') || 1);
const FORGED_IP = '6.6.6.6';

function queryFor(name: string): { msg: Buffer; questionEnd: number } {
  const msg = dnsPacket.encode({
    type: 'query',
    id: 1,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name }],
  });
  // No additional section: the question ends the message.
  return { msg, questionEnd: msg.length };
}

function answer(query: Buffer, id: number, ip: string): Buffer {
  const q = dnsPacket.decode(query);
  return dnsPacket.encode({
    type: 'response',
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: q.questions,
    answers: [{ type: 'A', name: q.questions?.[0]?.name ?? '', ttl: 3600, data: ip }],
  });
}

interface FakeUpstream {
  readonly socket: Socket;
  readonly port: number;
  /** The queries received, with where they came from. */
  readonly queries: { msg: Buffer; from: RemoteInfo }[];
  /** Set to answer each query at once with TRUE_IP. */
  answering: boolean;
}

async function fakeUpstream(t: { teardown: (fn: () => void) => void }): Promise<FakeUpstream> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const upstream: FakeUpstream = {
    socket,
    port: socket.address().port,
    queries: [],
    answering: true,
  };
  socket.on('message', (msg, from) => {
    upstream.queries.push({ msg, from });
    if (upstream.answering) {
      socket.send(answer(msg, msg.readUInt16BE(0), TRUE_IP), from.port, from.address);
    }
  });
  t.teardown(() => socket.close());
  return upstream;
}

function answeredIp(reply: Buffer): string | undefined {
  const a = dnsPacket.decode(reply).answers?.[0];
  return a?.type === 'A' ? a.data : undefined;
}

test.serial('every exchange leaves from its own random ephemeral port', async (t) => {
  const upstream = await fakeUpstream(t);
  const client = new UpstreamClient();
  t.teardown(() => {
    client.close();
  });
  for (let i = 0; i < 200; i++) {
    const { msg, questionEnd } = queryFor(`n${String(i)}.example.`);
    const result = await client.exchange(
      msg,
      questionEnd,
      { host: '127.0.0.1', port: upstream.port },
      'udp',
      2000,
    );
    t.true('reply' in result);
  }
  const ports = upstream.queries.map((q) => q.from.port);
  const distinct = new Set(ports).size;
  const spread = Math.max(...ports) - Math.min(...ports);
  t.log(`${String(distinct)} distinct source ports of 200, spread over ${String(spread)}`);
  // 200 draws from Linux's ~28,000 ephemeral ports: about one repeat is expected.
  t.true(distinct >= 190);
  t.true(spread > 5000);
  const ids = new Set(upstream.queries.map((q) => q.msg.readUInt16BE(0)));
  t.true(ids.size >= 190, 'random IDs');
});

test.serial(
  '262,144 forged replies to the ports of earlier queries do not take the answer',
  async (t) => {
    t.timeout(60_000 + TRIES * 10_000);
    const upstream = await fakeUpstream(t);
    const client = new UpstreamClient();
    t.teardown(() => {
      client.close();
    });
    const target = { host: '127.0.0.1', port: upstream.port };
    for (let attempt = 0, blasts = 0; blasts < TRIES; attempt++) {
      // The forger learns the source ports of four queries, all a pool of four sockets would use.
      upstream.answering = true;
      const seen = upstream.queries.length;
      for (let i = 0; i < 4; i++) {
        const { msg, questionEnd } = queryFor(`learn${String(attempt)}-${String(i)}.example.`);
        await client.exchange(msg, questionEnd, target, 'udp', 2000);
      }
      const known = upstream.queries.slice(seen).map((q) => q.from.port);
      // The victim query: the upstream is slow, the forger fast.
      upstream.answering = false;
      const name = `victim${String(attempt)}.example.`;
      const { msg, questionEnd } = queryFor(name);
      const pending = client.exchange(msg, questionEnd, target, 'udp', 30_000);
      await waitUntil(() => upstream.queries.length > seen + 4);
      const victim = upstream.queries.at(-1);
      if (victim === undefined) return t.fail('the query did not arrive');
      if (known.includes(victim.from.port)) {
        // The kernel drew a port of the four again (4 in about 28,000): the case RFC 5452 accepts.
        t.log(
          `attempt ${String(attempt)}: port ${String(victim.from.port)} drawn again; not counted`,
        );
        upstream.socket.send(
          answer(victim.msg, victim.msg.readUInt16BE(0), TRUE_IP),
          victim.from.port,
        );
        await pending;
        continue;
      }
      blasts++;
      const forgedTemplate = answer(victim.msg, 0, FORGED_IP);
      let sent = 0;
      for (const port of known) {
        for (let id = 0; id < 0x10000; id += 128) {
          await Promise.all(
            Array.from({ length: 128 }, (_, k) => {
              const forged = Buffer.from(forgedTemplate);
              forged.writeUInt16BE(id + k, 0);
              sent++;
              return new Promise<void>((resolve) => {
                upstream.socket.send(forged, port, '127.0.0.1', () => {
                  resolve();
                });
              });
            }),
          );
        }
      }
      t.is(sent, 4 * 65_536);
      // Then the true answer.
      upstream.socket.send(
        answer(victim.msg, victim.msg.readUInt16BE(0), TRUE_IP),
        victim.from.port,
        victim.from.address,
      );
      const result = await pending;
      if (!('reply' in result)) return t.fail(`no reply: ${result.failure}`);
      t.is(answeredIp(result.reply), TRUE_IP);
      t.true(result.reply.length > HEADER_SIZE);
    }
    t.log(`${String(TRIES)} flood(s) of 262,144 forged replies; every answer was the true one`);
  },
);

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
