import { createSocket } from 'node:dgram';
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

/**
 * Returns a port on 127.0.0.1 that is free for both TCP and UDP at the time of the call.
 *
 * The kernel picks a free TCP port, then the same number is tried for UDP; both sockets are
 * released before resolving. Another process may still take the port before the caller binds
 * it, so callers that spawn a server should retry on "address in use".
 */
export async function freePort(): Promise<number> {
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
