/**
 * Forwarding of names outside the zone: the client's packet is relayed as is (EDNS options and
 * all) with a fresh ID, over the client's transport, to the upstreams of the longest matching
 * `forward.zones` entry or else `forward.resolvers`, tried in order within one overall deadline.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { HostPort } from '../config/index.js';
import { UpstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Query } from './wire.js';
import { HEADER_SIZE, keyToName } from './wire.js';
import type { Transport } from './response.js';
import { ipv6Bytes } from './zone.js';

/** Options of the forwarder. */
export interface ForwarderOptions {
  readonly resolvers: readonly HostPort[];
  /** Zone (lower case, no trailing dot) -> upstreams. */
  readonly zones: Readonly<Record<string, readonly HostPort[]>>;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

interface Pending {
  readonly upstream: HostPort;
  readonly question: string;
  readonly resolve: (reply: Buffer | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

/** Formats an upstream as `ip:port` / `[v6]:port`. */
export function formatHostPort(hp: HostPort): string {
  return net.isIPv6(hp.host) ? `[${hp.host}]:${String(hp.port)}` : `${hp.host}:${String(hp.port)}`;
}

/** Relays queries to upstream resolvers. `close()` releases its sockets. */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #zones: readonly (readonly [string, readonly HostPort[]])[];
  #udp4: dgram.Socket | undefined;
  #udp6: dgram.Socket | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #sockets = new Set<net.Socket>();

  constructor(options: ForwarderOptions) {
    this.#options = options;
    // Longest zone first, so the first suffix match is the most specific.
    this.#zones = Object.entries(options.zones)
      .map(([zone, ups]) => [zone.toLowerCase().replace(/\.$/, ''), ups] as const)
      .sort((a, b) => b[0].length - a[0].length);
  }

  /** The upstreams for a lower-case dotted FQDN. */
  upstreamsFor(name: string): readonly HostPort[] {
    const bare = name.replace(/\.$/, '');
    for (const [zone, ups] of this.#zones) {
      if (bare === zone || bare.endsWith('.' + zone)) return ups;
    }
    return this.#options.resolvers;
  }

  /**
   * Forwards `msg` (a parsed query) and resolves with the upstream's reply, its ID restored and
   * AA cleared. Rejects with UpstreamError when every upstream failed within `forward.timeout`.
   */
  async forward(msg: Buffer, query: Query, transport: Transport): Promise<Buffer> {
    const upstreams = this.upstreamsFor(keyToName(query.key));
    if (upstreams.length === 0) {
      throw new UpstreamError([], transport, 'no upstream resolvers configured');
    }
    const deadline = Date.now() + this.#options.timeoutMs;
    const question = msg.toString('latin1', HEADER_SIZE, query.questionEnd).toLowerCase();
    for (let i = 0; i < upstreams.length; i++) {
      const upstream = upstreams[i];
      if (upstream === undefined) continue;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      // Share what is left of the deadline among the upstreams not yet tried.
      const budget = Math.max(1, Math.floor(remaining / (upstreams.length - i)));
      const reply =
        transport === 'udp'
          ? await this.#exchangeUdp(msg, upstream, question, budget)
          : await this.#exchangeTcp(msg, upstream, question, budget);
      if (reply !== undefined) {
        reply.writeUInt16BE(query.id, 0);
        reply[2] = (reply[2] ?? 0) & ~0x04; // AA cleared: we are not the authority.
        return reply;
      }
      this.#options.logger.debug('upstream failed', {
        upstream: formatHostPort(upstream),
        transport,
      });
    }
    throw new UpstreamError(upstreams.map(formatHostPort), transport, 'all upstreams failed');
  }

  #socket(family: 4 | 6): dgram.Socket {
    const existing = family === 4 ? this.#udp4 : this.#udp6;
    if (existing !== undefined) return existing;
    const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    socket.on('message', (reply, rinfo) => {
      this.#onReply(reply, rinfo);
    });
    socket.on('error', (err) => {
      this.#options.logger.warn('forwarder socket error', { error: err.message });
    });
    socket.unref();
    if (family === 4) this.#udp4 = socket;
    else this.#udp6 = socket;
    return socket;
  }

  #onReply(reply: Buffer, rinfo: dgram.RemoteInfo): void {
    if (reply.length < HEADER_SIZE || ((reply[2] ?? 0) & 0x80) === 0) return;
    const id = reply.readUInt16BE(0);
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    if (rinfo.port !== pending.upstream.port || !sameAddress(rinfo.address, pending.upstream.host))
      return;
    // The question must match too (RFC 5452 9.1), unless the upstream sent none (e.g. FORMERR).
    if (reply.readUInt16BE(4) === 1) {
      const q = reply
        .toString('latin1', HEADER_SIZE, HEADER_SIZE + pending.question.length)
        .toLowerCase();
      if (q !== pending.question) return;
    }
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(reply);
  }

  #exchangeUdp(
    msg: Buffer,
    upstream: HostPort,
    question: string,
    timeoutMs: number,
  ): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      let id = randomInt(0, 0x10000);
      for (let tries = 0; this.#pending.has(id) && tries < 16; tries++) id = randomInt(0, 0x10000);
      if (this.#pending.has(id)) {
        resolve(undefined);
        return;
      }
      const out = Buffer.from(msg);
      out.writeUInt16BE(id, 0);
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#pending.set(id, { upstream, question, resolve, timer });
      const socket = this.#socket(net.isIPv6(upstream.host) ? 6 : 4);
      socket.send(out, upstream.port, upstream.host, (err) => {
        if (err !== null && this.#pending.get(id)?.timer === timer) {
          this.#pending.delete(id);
          clearTimeout(timer);
          resolve(undefined);
        }
      });
    });
  }

  #exchangeTcp(
    msg: Buffer,
    upstream: HostPort,
    question: string,
    timeoutMs: number,
  ): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const id = randomInt(0, 0x10000);
      const frame = Buffer.allocUnsafe(msg.length + 2);
      frame.writeUInt16BE(msg.length, 0);
      msg.copy(frame, 2);
      frame.writeUInt16BE(id, 2);
      const socket = net.connect({ host: upstream.host, port: upstream.port });
      this.#sockets.add(socket);
      let buffered = Buffer.alloc(0);
      let done = false;
      const finish = (reply: Buffer | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#sockets.delete(socket);
        socket.destroy();
        resolve(reply);
      };
      const timer = setTimeout(() => {
        finish(undefined);
      }, timeoutMs);
      socket.on('connect', () => socket.write(frame));
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const len = buffered.readUInt16BE(0);
          if (buffered.length < 2 + len) return;
          const reply = buffered.subarray(2, 2 + len);
          buffered = buffered.subarray(2 + len);
          if (reply.length >= HEADER_SIZE && reply.readUInt16BE(0) === id) {
            const q = reply
              .toString('latin1', HEADER_SIZE, HEADER_SIZE + question.length)
              .toLowerCase();
            if (reply.readUInt16BE(4) !== 1 || q === question) {
              finish(Buffer.from(reply));
              return;
            }
          }
        }
      });
      socket.on('error', () => {
        finish(undefined);
      });
      socket.on('close', () => {
        finish(undefined);
      });
    });
  }

  /** Stops every exchange in flight and closes the sockets. */
  close(): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.resolve(undefined);
      this.#pending.delete(id);
    }
    for (const s of this.#sockets) s.destroy();
    this.#udp4?.close();
    this.#udp6?.close();
    this.#udp4 = undefined;
    this.#udp6 = undefined;
  }
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  // IPv4-mapped IPv6 forms, and different spellings of the same IPv6 address.
  const strip = (s: string): string => s.replace(/^::ffff:/i, '').toLowerCase();
  if (strip(a) === strip(b)) return true;
  if (!net.isIPv6(a) || !net.isIPv6(b)) return false;
  const x = ipv6Bytes(a);
  const y = ipv6Bytes(b);
  return x !== undefined && y !== undefined && x.equals(y);
}
