import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOOPBACK = '127.0.0.1';
const ATTEMPTS = 20;

/** Binds a TCP listener on 127.0.0.1 (port 0: the kernel picks) and resolves its port. */
function bindTcp(port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('TCP listener has no port'));
        return;
      }
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}

/** Resolves true when a UDP socket can be bound to 127.0.0.1:port (and releases it). */
function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, LOOPBACK, () => {
      socket.close(() => {
        resolve(true);
      });
    });
  });
}

/** The first port the kernel hands out to outgoing connections (ip_local_port_range). */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 0 ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

/** Ports below this are left alone (the well-known and common service ports). */
const LOWEST = 10_000;
/** Linux's default `ip_local_port_range` starts here. */
const DEFAULT_EPHEMERAL_LOW = 32_768;

/**
 * Returns a port on 127.0.0.1 that is free for both TCP and UDP at the time of the call.
 *
 * The port is below the kernel's range for outgoing connections (`ip_local_port_range`, 32768
 * and up by default), picked at random and tried for TCP and UDP; both sockets are released
 * before resolving. So no client's socket is ever given it: a test that closes a server and
 * binds its port again (a master coming back) cannot find it taken by some connection's local
 * end, as a kernel-chosen port could be. Another test may still take the port before the caller
 * binds it, so callers that spawn a server retry on "address in use" (`onFreshPort`).
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  if (high - LOWEST < 1000) return kernelPort();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (high - LOWEST + 1));
    const tcp = await bindTcp(port).catch(() => undefined);
    if (tcp === undefined) continue;
    const isUdpFree = await canBindUdp(port);
    await tcp.close();
    if (isUdpFree) return port;
  }
  return kernelPort();
}

/** A port the kernel picks (in its range for outgoing connections), free for TCP and UDP. */
async function kernelPort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const tcp = await bindTcp(0);
    const isUdpFree = await canBindUdp(tcp.port);
    await tcp.close();
    if (isUdpFree) {
      return tcp.port;
    }
  }
  throw new Error(`no port free for both TCP and UDP on ${LOOPBACK} after ${ATTEMPTS} attempts`);
}
