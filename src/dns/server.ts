/**
 * The DNS server: UDP and TCP (RFC 7766: 2-byte length framing, several and pipelined queries per
 * connection, idle timeout) on one address. Each packet goes through a short chain: parse
 * (malformed -> FORMERR or drop), authority (names in the zone), forward (everything else),
 * REFUSED when forwarding is off. Steps return responses; only this file writes sockets.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { HostPort } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Forwarder } from './forwarder.js';
import { answerAuthoritative, isInZone } from './authority.js';
import type { Transport } from './response.js';
import { errorResponse } from './response.js';
import type { Zone } from './zone.js';
import { RCODE, isProblem, nameKey, parseQuery } from './wire.js';

/** What happened to one query, for metrics and query logs. */
export interface QueryEvent {
  readonly transport: Transport;
  readonly qtype: number;
  readonly rcode: number;
  /** `authoritative`, `forwarded`, `refused` (forwarding off) or `malformed`. */
  readonly path: 'authoritative' | 'forwarded' | 'refused' | 'malformed';
  readonly durationMs: number;
}

/** Settings that a config reload may change without rebinding. */
export interface DnsSettings {
  /** Lower case, no trailing dot. */
  readonly domain: string;
  readonly recursionAvailable: boolean;
  /** Undefined: forwarding disabled, other names get REFUSED. */
  readonly forwarder: Forwarder | undefined;
}

/** Constructor options of the server. */
export interface DnsServerOptions {
  /** Address to bind (an IP literal; resolve hostnames before) and port. */
  readonly listen: HostPort;
  readonly settings: DnsSettings;
  /** The current zone; undefined until the first state load. */
  readonly zone: () => Zone | undefined;
  readonly logger: Logger;
  readonly onQuery?: (event: QueryEvent) => void;
  /** Idle timeout of TCP connections (RFC 7766 6.2.3). */
  readonly tcpIdleMs?: number;
  readonly maxTcpConnections?: number;
}

const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 1_000;
/** A TCP client that stops reading is cut off once this much output is queued. */
const MAX_TCP_BACKLOG = 1 << 20;

/** UDP+TCP DNS server. */
export class DnsServer {
  readonly #options: DnsServerOptions;
  #settings: DnsSettings;
  #apexKey: string;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #connections = new Set<net.Socket>();
  #inflight = 0;
  #closing = false;

  constructor(options: DnsServerOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#apexKey = nameKey(options.settings.domain + '.');
  }

  /** Replaces the reloadable settings; queries in flight finish with the old ones. */
  update(settings: DnsSettings): void {
    this.#settings = settings;
    this.#apexKey = nameKey(settings.domain + '.');
  }

  /** Binds UDP and TCP. Resolves once both listen. */
  async start(): Promise<void> {
    const { host, port } = this.#options.listen;
    const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    udp.on('message', (msg, rinfo) => {
      this.#onDatagram(udp, msg, rinfo);
    });
    udp.on('error', (err) => {
      this.#options.logger.error('UDP socket error', { error: err.message });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.#udp = udp;
    const tcp = net.createServer({ noDelay: true }, (socket) => {
      this.#onConnection(socket);
    });
    tcp.maxConnections = this.#options.maxTcpConnections ?? MAX_TCP_CONNECTIONS;
    tcp.on('error', (err) => {
      this.#options.logger.error('TCP server error', { error: err.message });
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ port: port === 0 ? udp.address().port : port, host }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.#tcp = tcp;
  }

  /** The bound UDP port (useful with port 0). */
  get port(): number {
    return this.#udp?.address().port ?? 0;
  }

  /**
   * Handles one DNS message and returns the response (a Promise only when forwarded), or
   * undefined when nothing must be sent. Never throws.
   */
  handle(msg: Buffer, transport: Transport): Buffer | Promise<Buffer | undefined> | undefined {
    const started = performance.now();
    const parsed = parseQuery(msg);
    const settings = this.#settings;
    if (isProblem(parsed)) {
      if (parsed.action === 'drop') return undefined;
      this.#emit(transport, 0, parsed.action, 'malformed', started);
      return errorResponse(
        msg,
        parsed.action,
        parsed.questionEnd,
        parsed.edns,
        settings.recursionAvailable,
      );
    }
    if (isInZone(msg, parsed, { apexKey: this.#apexKey })) {
      const result = answerAuthoritative(
        msg,
        parsed,
        this.#options.zone(),
        settings.recursionAvailable,
        transport,
      );
      this.#emit(transport, parsed.qtype, result.rcode, 'authoritative', started);
      return result.response;
    }
    const forwarder = settings.forwarder;
    if (forwarder === undefined) {
      this.#emit(transport, parsed.qtype, RCODE.REFUSED, 'refused', started);
      return errorResponse(
        msg,
        RCODE.REFUSED,
        parsed.questionEnd,
        parsed.edns,
        settings.recursionAvailable,
      );
    }
    this.#inflight++;
    return forwarder
      .forward(msg, parsed, transport)
      .then((reply) => {
        this.#emit(transport, parsed.qtype, (reply[3] ?? 0) & 0x0f, 'forwarded', started);
        return reply;
      })
      .catch((err: unknown) => {
        this.#options.logger.debug('forwarding failed', {
          error: err instanceof Error ? err.message : String(err),
        });
        this.#emit(transport, parsed.qtype, RCODE.SERVFAIL, 'forwarded', started);
        return errorResponse(
          msg,
          RCODE.SERVFAIL,
          parsed.questionEnd,
          parsed.edns,
          settings.recursionAvailable,
        );
      })
      .finally(() => {
        this.#inflight--;
      });
  }

  #emit(
    transport: Transport,
    qtype: number,
    rcode: number,
    path: QueryEvent['path'],
    started: number,
  ): void {
    const hook = this.#options.onQuery;
    if (hook !== undefined)
      hook({ transport, qtype, rcode, path, durationMs: performance.now() - started });
  }

  #safeHandle(msg: Buffer, transport: Transport): Buffer | Promise<Buffer | undefined> | undefined {
    try {
      return this.handle(msg, transport);
    } catch (err) {
      // A bug must cost one answer, never the server.
      this.#options.logger.error('query handling failed', {
        error: err instanceof Error ? err.stack : String(err),
      });
      if (msg.length < 12 || ((msg[2] ?? 0) & 0x80) !== 0) return undefined;
      return errorResponse(msg, RCODE.SERVFAIL, 0, undefined, this.#settings.recursionAvailable);
    }
  }

  #onDatagram(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const result = this.#safeHandle(msg, 'udp');
    if (result === undefined) return;
    const send = (reply: Buffer | undefined): void => {
      if (reply === undefined || this.#udp !== udp) return;
      udp.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) this.#options.logger.debug('UDP send failed', { error: err.message });
      });
    };
    if (result instanceof Promise) void result.then(send);
    else send(result);
  }

  #onConnection(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    socket.setTimeout(this.#options.tcpIdleMs ?? TCP_IDLE_MS, () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    const write = (reply: Buffer | undefined): void => {
      if (reply === undefined || socket.destroyed) return;
      if (socket.writableLength > MAX_TCP_BACKLOG) {
        socket.destroy();
        return;
      }
      const frame = Buffer.allocUnsafe(reply.length + 2);
      frame.writeUInt16BE(reply.length, 0);
      reply.copy(frame, 2);
      socket.write(frame);
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let off = 0;
      while (buffered.length - off >= 2) {
        const len = buffered.readUInt16BE(off);
        if (buffered.length - off - 2 < len) break;
        const msg = buffered.subarray(off + 2, off + 2 + len);
        off += 2 + len;
        const result = this.#safeHandle(Buffer.from(msg), 'tcp');
        if (result === undefined) continue;
        if (result instanceof Promise) void result.then(write);
        else write(result);
      }
      buffered = off === 0 ? buffered : buffered.subarray(off);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#connections.delete(socket);
    });
  }

  /** Stops accepting, lets forwarded queries in flight finish (bounded), then closes everything. */
  async close(graceMs = 2_000): Promise<void> {
    this.#closing = true;
    const tcp = this.#tcp;
    this.#tcp = undefined;
    const tcpClosed =
      tcp === undefined
        ? Promise.resolve()
        : new Promise<void>((r) =>
            tcp.close(() => {
              r();
            }),
          );
    const deadline = Date.now() + graceMs;
    while (this.#inflight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const udp = this.#udp;
    this.#udp = undefined;
    udp?.close();
    for (const s of this.#connections) s.end();
    setTimeout(() => {
      for (const s of this.#connections) s.destroy();
    }, 200).unref();
    await tcpClosed;
  }
}
