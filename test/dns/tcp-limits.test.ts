/**
 * DNS over TCP against clients that hold connections (issue 16): connections are capped in all
 * and per client, the idle timer restarts on whole queries only, and a query begun must be whole
 * within `ioTimeout`. Before, the idle timer restarted on every byte: 1,000 connections dripping
 * a byte every 5 s held all 1,000 slots, and 38 of 449 TCP probes were answered.
 */
import { connect, type Socket } from 'node:net';
import test from 'ava';
import dnsPacket from 'dns-packet';
import type { TcpLimits } from '../../src/config/index.js';
import { DnsServer } from '../../src/dns/index.js';
import type { TcpRefusal } from '../../src/dns/index.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../../support/mesodns.js';

const LIMITS: TcpLimits = {
  maxConnections: 1000,
  maxConnectionsPerClient: 32,
  idleTimeoutMs: 10_000,
  ioTimeoutMs: 2_000,
};

async function server(
  t: { teardown: (fn: () => Promise<void>) => void },
  limits: Partial<TcpLimits>,
): Promise<{ port: number; refused: TcpRefusal[] }> {
  const refused: TcpRefusal[] = [];
  const dns = new DnsServer({
    listen: { host: '127.0.0.1', port: 0 },
    settings: {
      domain: 'mesos',
      recursionAvailable: false,
      forwarder: undefined,
      tcp: { ...LIMITS, ...limits },
    },
    zone: () => undefined,
    logger: silentLogger,
    onTcpRefused: (reason) => refused.push(reason),
  });
  await dns.start();
  t.teardown(() => dns.close(0));
  return { port: dns.port, refused };
}

/** A TCP-framed query for `name`. */
function framed(name: string): Buffer {
  const msg = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name }] });
  const frame = Buffer.alloc(msg.length + 2);
  frame.writeUInt16BE(msg.length, 0);
  msg.copy(frame, 2);
  return frame;
}

async function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

const closed = (socket: Socket): Promise<void> =>
  new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else
      socket.once('close', () => {
        resolve();
      });
  });

/** Whether one query over a new connection from `localAddress` gets an answer within 2 s. */
async function probe(port: number, localAddress: string): Promise<boolean> {
  const socket = await open(port, localAddress).catch(() => undefined);
  if (socket === undefined) return false;
  return new Promise<boolean>((resolve) => {
    const done = (answered: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => {
      done(false);
    }, 2000);
    socket.once('data', () => {
      done(true);
    });
    socket.once('close', () => {
      done(false);
    });
    socket.write(framed('probe.mesos.'));
  });
}

test('connections beyond the per-client limit are closed; other clients are served', async (t) => {
  const { port, refused } = await server(t, { maxConnectionsPerClient: 3 });
  const held = await Promise.all([1, 2, 3].map(() => open(port)));
  t.teardown(() => {
    held.forEach((s) => s.destroy());
  });
  const fourth = await open(port);
  await closed(fourth);
  t.deepEqual(refused, ['client']);
  t.true(await probe(port, '127.0.0.2'));
});

test('connections beyond maxConnections are closed', async (t) => {
  const { port, refused } = await server(t, { maxConnections: 4, maxConnectionsPerClient: 100 });
  const held = await Promise.all([1, 2, 3, 4].map(() => open(port)));
  t.teardown(() => {
    held.forEach((s) => s.destroy());
  });
  await closed(await open(port, '127.0.0.2'));
  t.deepEqual(refused, ['connections']);
});

test('bytes that complete no query do not keep a connection: idle counts whole queries', async (t) => {
  const { port, refused } = await server(t, { idleTimeoutMs: 300, ioTimeoutMs: 60_000 });
  const drip = await open(port);
  const query = framed('drip.mesos.');
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < query.length - 1) drip.write(query.subarray(sent, ++sent));
  }, 50);
  t.teardown(() => {
    clearInterval(timer);
  });
  const started = performance.now();
  await closed(drip);
  const ms = performance.now() - started;
  t.true(ms < 2000, `closed after ${ms.toFixed(0)} ms`);
  t.deepEqual(refused, ['idle']);
});

test('a query begun must be whole within ioTimeout', async (t) => {
  const { port, refused } = await server(t, { ioTimeoutMs: 300 });
  const drip = await open(port);
  drip.write(framed('slow.mesos.').subarray(0, 5));
  const started = performance.now();
  await closed(drip);
  t.true(performance.now() - started < 2000);
  t.deepEqual(refused, ['partial']);
});

test('whole queries keep a connection open past the idle timeout', async (t) => {
  const { port, refused } = await server(t, { idleTimeoutMs: 400 });
  const socket = await open(port);
  t.teardown(() => socket.destroy());
  let answers = 0;
  socket.on('data', () => answers++);
  for (let i = 0; i < 8; i++) {
    socket.write(framed(`q${String(i)}.mesos.`));
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  t.false(socket.destroyed, 'open after 1.2 s of queries every 150 ms');
  await waitFor(() => answers >= 1, 2000, 'answers');
  t.deepEqual(refused, []);
});

test('1,000 connections dripping from one client: TCP probes from others keep being answered', async (t) => {
  const { port, refused } = await server(t, {});
  const drippers: Socket[] = [];
  t.teardown(() => {
    drippers.forEach((s) => s.destroy());
  });
  for (let i = 0; i < 1000; i++) {
    const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' });
    s.on('error', () => undefined);
    s.once('connect', () => s.write(Buffer.from([0])));
    drippers.push(s);
  }
  await waitFor(() => refused.length >= 1000 - 32, 10_000, 'the drippers beyond 32 closed');
  let answered = 0;
  for (let i = 0; i < 20; i++) if (await probe(port, `127.0.0.${String(10 + i)}`)) answered++;
  t.is(answered, 20);
  t.is(refused.filter((r) => r === 'client').length, 1000 - 32);
});
