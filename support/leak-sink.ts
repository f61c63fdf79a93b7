/**
 * A resolver that never answers, for scripts/hermetic.sh: it listens on port 53 (UDP and TCP) of
 * each address given and prints one line per question it receives (`udp 10.0.0.2 name. A`), so a
 * lookup that leaked out of the test suite times out as against a dead resolver and is named.
 *
 *   node --import tsx support/leak-sink.ts 10.255.255.53 [...]
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { decode } from 'dns-packet';

function describe(transport: string, from: string, msg: Buffer): string {
  try {
    const q = decode(msg).questions?.[0];
    return `${transport} ${from} ${q?.name ?? '?'}. ${q?.type ?? '?'}`;
  } catch {
    return `${transport} ${from} (${String(msg.length)} bytes, not DNS)`;
  }
}

const addresses = process.argv.slice(2);
let bound = 0;
/** Tells scripts/hermetic.sh that every socket listens (it waits for this line). */
function isBound(): void {
  bound++;
  if (bound === addresses.length * 2) console.error('sink ready');
}

for (const address of addresses) {
  const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => {
    console.log(describe('udp', rinfo.address, msg));
  });
  udp.on('error', (err) => {
    console.log(`udp ${address}: ${err.message}`);
  });
  udp.bind(53, address, isBound);

  const tcp = net.createServer((socket) => {
    let held = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      held = Buffer.concat([held, chunk]);
      while (held.length >= 2 && held.length >= 2 + held.readUInt16BE(0)) {
        const len = held.readUInt16BE(0);
        console.log(describe('tcp', socket.remoteAddress ?? '?', held.subarray(2, 2 + len)));
        held = held.subarray(2 + len);
      }
    });
    socket.on('error', () => undefined);
  });
  tcp.on('error', (err) => {
    console.log(`tcp ${address}: ${err.message}`);
  });
  tcp.listen(53, address, isBound);
}
