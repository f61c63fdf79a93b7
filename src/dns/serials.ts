/**
 * SOA serial arithmetic (RFC 1982): serials are 32-bit and wrap, so "later" means ahead by less
 * than half the space. And asking peers for their serial: the secondaries mesodns notifies hold
 * the serial they last transferred, which a restarted mesodns must go beyond (docs/transfers.md).
 */
import { ipFamily } from '../net/ip.js';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { HostPort } from '../config/index.js';
import { readCanonicalName } from './tsig.js';
import { sameAddress } from './upstream.js';
import { HEADER_SIZE, TYPE, encodeName, questionMessage, u16 } from './wire.js';

/** RFC 1982 3.2: whether serial `a` comes after serial `b`. */
export function isSerialAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}

/** The later of two serials (RFC 1982); `a` when neither is (they are equal or undefined). */
export function laterSerial(a: number, b: number | undefined): number {
  return b !== undefined && isSerialAfter(b, a) ? b : a;
}

/** The SOA serial in the answer section of `msg`, or undefined. */
function soaSerialOf(msg: Buffer): number | undefined {
  if (msg.length < HEADER_SIZE || (msg[3] ?? 0) % 16 !== 0 || u16(msg, 6) < 1) return undefined;
  const question = readCanonicalName(msg, HEADER_SIZE);
  return question === undefined ? undefined : soaSerialAt(msg, question.end + 4);
}

/** The serial of the RR at `off` when it is an SOA with all its RDATA, else undefined. */
export function soaSerialAt(msg: Buffer, off: number): number | undefined {
  const owner = readCanonicalName(msg, off);
  if (owner === undefined || owner.end + 10 > msg.length) return undefined;
  if (u16(msg, owner.end) !== TYPE.SOA) return undefined;
  const mname = readCanonicalName(msg, owner.end + 10);
  const rname = mname === undefined ? undefined : readCanonicalName(msg, mname.end);
  if (rname === undefined || rname.end + 20 > msg.length) return undefined;
  return msg.readUInt32BE(rname.end);
}

/** When the SOA query to a silent peer is sent again (ms after the first; see `peerSerials`). */
const PEER_RESEND_MS: readonly number[] = [300, 900];

/**
 * The serials `peers` serve for `zone` (`mesos.`), asked over UDP at once and again after
 * `PEER_RESEND_MS` while a peer is silent (a lost datagram must not make a restarted primary
 * start behind its secondaries); a peer that does not answer within `timeoutMs`, or not with the
 * zone's SOA, is left out.
 */
export async function peerSerials(
  peers: readonly HostPort[],
  zone: string,
  timeoutMs: number,
): Promise<number[]> {
  const asked = peers.map(
    (peer) =>
      new Promise<number | undefined>((resolve) => {
        const socket = dgram.createSocket(ipFamily(peer.host) === 6 ? 'udp6' : 'udp4');
        const id = randomInt(65536);
        const query = questionMessage(id, 0, encodeName(zone), TYPE.SOA);
        const send = (): void => {
          socket.send(query, peer.port, peer.host);
        };
        const resends = PEER_RESEND_MS.filter((ms) => ms < timeoutMs).map((ms) =>
          setTimeout(send, ms),
        );
        const done = (serial: number | undefined): void => {
          clearTimeout(timer);
          for (const resend of resends) clearTimeout(resend);
          socket.close();
          resolve(serial);
        };
        const timer = setTimeout(() => {
          done(undefined);
        }, timeoutMs);
        socket.on('error', () => {
          done(undefined);
        });
        socket.on('message', (msg, rinfo) => {
          if (!sameAddress(rinfo.address, peer.host)) return;
          if (msg.length < HEADER_SIZE || u16(msg, 0) !== id) return;
          done(soaSerialOf(msg));
        });
        send();
      }),
  );
  const serials = await Promise.all(asked);
  return serials.filter((s): s is number => s !== undefined);
}
