/**
 * The DNS server: UDP and TCP (RFC 7766: 2-byte length framing, several and pipelined queries per
 * connection, idle timeout) on one address. Each packet goes through a short chain: parse
 * (malformed -> FORMERR or drop), authority (names in the zone, open to every client), forward
 * (everything else: `allowFrom`, cache, loop guard, `maxConcurrent`, upstreams), REFUSED when
 * forwarding is off. Steps return responses; only this file (and batch-udp.ts, which it drives)
 * writes sockets. UDP goes through the batched native socket (batch-udp.ts) when the addon is
 * built, otherwise through Node's dgram.
 */
import { ipFamily } from '../net/ip.js';
import dgram from 'node:dgram';
import net from 'node:net';
import type { HostPort, TcpLimits } from '../config/index.js';
import { PerClient, clientKey } from './acl.js';
import type { Logger } from '../log.js';
import type { BatchUdpBinding } from './batch-udp.js';
import { BatchUdpSocket, loadBatchUdp } from './batch-udp.js';
import type { Forwarder } from './forwarder.js';
import { answerAuthoritative, isInZone } from './authority.js';
import { answerReverse } from './reverse.js';
import type { ReverseZones } from './reverse.js';
import type { AnswerKind } from './authority.js';
import type { ResponseRateLimiter } from './rrl.js';
import type { Transport } from './response.js';
import { errorResponse } from './response.js';
import { notifyAnswer } from './notify.js';
import { serveTcpConnection } from './tcp-connection.js';
import type { TcpRefusal } from './tcp-connection.js';
import type { ZoneTransfers } from './transfer.js';
import type { Zone } from './zone.js';
import type { Query } from './wire.js';
import { RCODE, isProblem, nameKey, parseQuery } from './wire.js';

/** What happened to one query, for metrics and query logs. */
export interface QueryEvent {
  readonly transport: Transport;
  readonly qtype: number;
  readonly rcode: number;
  /**
   * `authoritative`, `forwarded` (upstream reply, stale answer, or SERVFAIL), `cached` (a fresh
   * answer from the forwarding cache), `refused` (forwarding off, client outside
   * `forward.allowFrom`, or `forward.maxConcurrent` reached) or `malformed`.
   */
  readonly path: 'authoritative' | 'forwarded' | 'cached' | 'refused' | 'malformed';
  readonly durationMs: number;
  /** The parsed question (its `key` names it, see `keyToName`); undefined when malformed. */
  readonly query: Query | undefined;
  /** The client's IP address; undefined for in-process callers. */
  readonly client: string | undefined;
}

/** Settings that a config reload may change without rebinding. */
export interface DnsSettings {
  /** Lower case, no trailing dot. */
  readonly domain: string;
  readonly recursionAvailable: boolean;
  /** Undefined: forwarding disabled, other names get REFUSED. */
  readonly forwarder: Forwarder | undefined;
  /** Limits of DNS over TCP (`dns.tcp`); defaults `DEFAULT_TCP_LIMITS`. */
  readonly tcp?: TcpLimits;
  /** Response rate limiting of authoritative UDP answers (`dns.rrl`); undefined: off. */
  readonly rrl?: ResponseRateLimiter | undefined;
  /** At most this many A and AAAA records per answer, chosen at random; 0 or absent: all. */
  readonly maxAddresses?: number;
  /** The reverse zones (`records.reverse`, dns/reverse.ts); undefined: off. */
  readonly reverse?: ReverseZones | undefined;
}

export type { TcpRefusal } from './tcp-connection.js';

/** `dns.tcp`'s defaults. */
export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: 1_000,
  maxConnectionsPerClient: 32,
  idleTimeoutMs: 10_000,
  ioTimeoutMs: 2_000,
};

/** Constructor options of the server. */
export interface DnsServerOptions {
  /** Address to bind (an IP literal; resolve hostnames before) and port. */
  readonly listen: HostPort;
  readonly settings: DnsSettings;
  /** The current zone; undefined until the first state load. */
  readonly zone: () => Zone | undefined;
  readonly logger: Logger;
  readonly onQuery?: (event: QueryEvent) => void;
  /** Told about every TCP connection a limit closed (see `TcpRefusal`). */
  readonly onTcpRefused?: (reason: TcpRefusal) => void;
  /** Told about every authoritative UDP response that rate limiting truncated or dropped. */
  readonly onRateLimited?: (action: 'slip' | 'drop') => void;
  /**
   * Serve UDP in batches through the native addon when it is built (default true); false, or
   * an addon that cannot be loaded, uses Node's dgram (`udpEngine` tells which).
   */
  readonly batchedUdp?: boolean;
  /**
   * Zone transfers over TCP (AXFR, IXFR); undefined: transfer requests are answered like other
   * queries (REFUSED).
   */
  readonly transfers?: ZoneTransfers;
}

type LiteralLookup = (
  address: string,
  options: unknown,
  callback: (err: Error | null, address: string, family: number) => void,
) => void;

/**
 * The UDP socket's address lookup: replies only ever go to the IP literal a query came from, so
 * the default (`dns.lookup`, which defers every send by a tick) is skipped. The family is the
 * socket's: no need to parse the literal again per reply.
 */
function literalLookup(family: 4 | 6): LiteralLookup {
  return (address, _options, callback) => {
    callback(null, address, family);
  };
}

/** The bucket of a response for rate limiting (see `ResponseRateLimiter.decide`). */
function rrlKind(kind: AnswerKind, query: Query): string {
  switch (kind) {
    case 'answer':
      return `${String(query.qtype)}:${query.key}`;
    case 'nodata':
      return `nodata:${query.key}`;
    case 'nxdomain':
      return 'nxdomain';
    default:
      return 'error';
  }
}

/** How often `start` picks another port when port 0's TCP twin is taken. */
const PORT_ZERO_ATTEMPTS = 5;

/** UDP+TCP DNS server. */
export class DnsServer {
  readonly #options: DnsServerOptions;
  #settings: DnsSettings;
  #apexKey: string;
  /** `isInZone`'s argument, built once per settings change rather than per query. */
  #apex: { readonly apexKey: string };
  #udp: dgram.Socket | undefined;
  #batch: BatchUdpSocket | undefined;
  #tcp: net.Server | undefined;
  readonly #connections = new Set<net.Socket>();
  /** TCP connections open by client (`clientKey`). */
  readonly #perClient = new PerClient();
  #inflight = 0;
  #closing = false;

  constructor(options: DnsServerOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#apexKey = nameKey(options.settings.domain + '.');
    this.#apex = { apexKey: this.#apexKey };
  }

  /** Replaces the reloadable settings; queries in flight finish with the old ones. */
  update(settings: DnsSettings): void {
    this.#settings = settings;
    this.#apexKey = nameKey(settings.domain + '.');
    this.#apex = { apexKey: this.#apexKey };
  }

  /**
   * How UDP is served: `batched` (the native addon) or `dgram`, with the reason the addon is not
   * used. Known before `start`.
   */
  get udpEngine(): { readonly engine: 'batched' | 'dgram'; readonly reason?: string } {
    const { binding, reason } = this.#batchBinding();
    return binding === undefined
      ? { engine: 'dgram', reason: reason ?? '' }
      : { engine: 'batched' };
  }

  /** The addon when this server uses it, else why not (`batchedUdp` off, or not loadable). */
  #batchBinding(): { binding?: BatchUdpBinding; reason?: string } {
    if (this.#options.batchedUdp === false) return { reason: 'dns.batchedUdp is off' };
    return loadBatchUdp();
  }

  /**
   * Binds UDP and TCP. Resolves once both listen. With port 0 the kernel picks the UDP port and
   * TCP takes the same number; when another socket holds that number for TCP, it picks again.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#bind();
        return;
      } catch (err) {
        const isTaken = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (this.#options.listen.port !== 0 || !isTaken || attempt >= PORT_ZERO_ATTEMPTS) throw err;
      }
    }
  }

  async #bind(): Promise<void> {
    const { host, port } = this.#options.listen;
    const { binding } = this.#batchBinding();
    if (binding !== undefined) {
      this.#batch = BatchUdpSocket.open(binding, host, port, (msg, client) =>
        this.#safeHandle(msg, 'udp', client, true),
      );
    } else {
      await this.#startDgram(host, port);
    }
    const tcp = net.createServer({ noDelay: true }, (socket) => {
      this.#onConnection(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: port === 0 ? this.port : port, host }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.#batch?.close();
      this.#batch = undefined;
      this.#udp?.close();
      this.#udp = undefined;
      throw err;
    }
    tcp.on('error', (err) => {
      this.#options.logger.error('TCP server error', { error: err.message });
    });
    this.#tcp = tcp;
  }

  async #startDgram(host: string, port: number): Promise<void> {
    const family = ipFamily(host) === 6 ? 6 : 4;
    const udp = dgram.createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      reuseAddr: false,
      lookup: literalLookup(family),
    });
    udp.on('message', (msg, rinfo) => {
      this.#onDatagram(udp, msg, rinfo);
    });
    // Bind errors reject start() (a reload may retry); only later errors are logged here.
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (err) => {
        udp.close();
        reject(err);
      });
      udp.bind(port, host, () => {
        udp.removeAllListeners('error');
        resolve();
      });
    });
    udp.on('error', (err) => {
      this.#options.logger.error('UDP socket error', { error: err.message });
    });
    this.#udp = udp;
  }

  /**
   * Whether UDP and TCP are bound and accepting: true after `start` resolved, false before and
   * from `close` on (the HTTP API's `/ready`).
   */
  get listening(): boolean {
    return (
      !this.#closing &&
      (this.#batch !== undefined || this.#udp !== undefined) &&
      this.#tcp !== undefined
    );
  }

  /** The bound UDP port (useful with port 0). */
  get port(): number {
    return this.#batch?.port ?? this.#udp?.address().port ?? 0;
  }

  /**
   * Handles one DNS message and returns the response (a Promise only when forwarded), or
   * undefined when nothing must be sent. Never throws. `client` is the sender's IP address, for
   * `forward.allowFrom`; undefined (in-process callers) is trusted. `borrowed`: `msg` is valid
   * only during the call (a receive arena), so a query that is forwarded is copied first.
   */
  handle(
    msg: Buffer,
    transport: Transport,
    client?: string,
    borrowed = false,
  ): Buffer | Promise<Buffer | undefined> | undefined {
    const started = performance.now();
    const parsed = parseQuery(msg);
    const settings = this.#settings;
    if (isProblem(parsed)) {
      if (parsed.action === 'drop') return undefined;
      if (parsed.action === RCODE.NOTIMP) {
        // A NOTIFY from a peer is acknowledged (it changes nothing here).
        const ack = notifyAnswer(msg);
        if (ack !== undefined) {
          this.#emit(transport, 0, RCODE.NOERROR, 'authoritative', started, undefined, client);
          return ack;
        }
      }
      // An IXFR carries the secondary's SOA, which the query parser calls malformed; over UDP
      // it gets the current SOA (a transfer over TCP never comes here).
      const ixfr =
        parsed.action === RCODE.FORMERR
          ? this.#options.transfers?.answerUdp(msg, client ?? '', this.#options.zone())
          : undefined;
      if (ixfr !== undefined) {
        const rcode = (ixfr[3] ?? 0) & 0x0f;
        this.#emit(transport, 251, rcode, 'authoritative', started, undefined, client);
        return ixfr;
      }
      this.#emit(transport, 0, parsed.action, 'malformed', started, undefined, client);
      return errorResponse(
        msg,
        parsed.action,
        parsed.questionEnd,
        parsed.edns,
        settings.recursionAvailable,
      );
    }
    // The zone, else (reverse lookups on) a reverse name mesodns answers, else the forwarder.
    const result = isInZone(msg, parsed, this.#apex)
      ? answerAuthoritative(
          msg,
          parsed,
          this.#options.zone(),
          settings.recursionAvailable,
          transport,
          settings.maxAddresses,
        )
      : settings.reverse === undefined
        ? undefined
        : answerReverse(
            msg,
            parsed,
            this.#options.zone(),
            settings.reverse,
            settings.recursionAvailable,
            transport,
          );
    if (result !== undefined) {
      this.#emit(transport, parsed.qtype, result.rcode, 'authoritative', started, parsed, client);
      // A signed query (a secondary asking for the SOA) gets a signed answer, or why not.
      const transfers = this.#options.transfers;
      if (parsed.signed && transfers !== undefined) {
        return transfers.signAnswer(msg, parsed.questionEnd, result.response);
      }
      const rrl = settings.rrl;
      if (rrl !== undefined && transport === 'udp' && client !== undefined) {
        const action = rrl.decide(client, rrlKind(result.kind, parsed));
        if (action !== 'send') {
          this.#options.onRateLimited?.(action);
          if (action === 'drop') return undefined;
          const slipped = errorResponse(
            msg,
            RCODE.NOERROR,
            parsed.questionEnd,
            parsed.edns,
            settings.recursionAvailable,
          );
          slipped[2] = (slipped[2] ?? 0) | 0x06; // AA and TC: ask again over TCP
          return slipped;
        }
      }
      return result.response;
    }
    // The forward step: access control, cache, loop guard, concurrency, then the upstreams.
    const forwarder = settings.forwarder;
    const refuse = (): Buffer => {
      this.#emit(transport, parsed.qtype, RCODE.REFUSED, 'refused', started, parsed, client);
      return errorResponse(
        msg,
        RCODE.REFUSED,
        parsed.questionEnd,
        parsed.edns,
        settings.recursionAvailable,
      );
    };
    if (forwarder?.allows(client) !== true) return refuse();
    const hit = forwarder.cached(msg, parsed, transport);
    if (hit !== undefined) {
      this.#emit(transport, parsed.qtype, (hit[3] ?? 0) & 0x0f, 'cached', started, parsed, client);
      return hit;
    }
    if (forwarder.isLoop(msg, parsed)) {
      this.#emit(transport, parsed.qtype, RCODE.SERVFAIL, 'forwarded', started, parsed, client);
      return errorResponse(
        msg,
        RCODE.SERVFAIL,
        parsed.questionEnd,
        parsed.edns,
        settings.recursionAvailable,
      );
    }
    if (!forwarder.admits(client)) return refuse();
    // The query outlives this call: a borrowed packet is copied (and parsed again, so that the
    // query's lazily built name reads the copy).
    const own = borrowed ? Buffer.from(msg) : msg;
    const ownParsed = borrowed ? parseQuery(own) : parsed;
    if (isProblem(ownParsed)) return refuse();
    this.#inflight++;
    return forwarder
      .forward(own, ownParsed, transport, client)
      .then((reply) => {
        this.#emit(
          transport,
          ownParsed.qtype,
          (reply[3] ?? 0) & 0x0f,
          'forwarded',
          started,
          ownParsed,
          client,
        );
        return reply;
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
    query: Query | undefined,
    client: string | undefined,
  ): void {
    const hook = this.#options.onQuery;
    if (hook !== undefined) {
      const durationMs = performance.now() - started;
      hook({ transport, qtype, rcode, path, durationMs, query, client });
    }
  }

  #safeHandle(
    msg: Buffer,
    transport: Transport,
    client: string | undefined,
    borrowed = false,
  ): Buffer | Promise<Buffer | undefined> | undefined {
    try {
      return this.handle(msg, transport, client, borrowed);
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
    const result = this.#safeHandle(msg, 'udp', rinfo.address);
    if (result === undefined) return;
    if (!(result instanceof Promise)) {
      // The hot path: no closure, no send callback (which would cost a tick per reply; a reply
      // that cannot be sent is lost like any UDP datagram).
      if (this.#udp === udp) udp.send(result, rinfo.port, rinfo.address);
      return;
    }
    void result.then((reply) => {
      if (reply === undefined || this.#udp !== udp) return;
      udp.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) this.#options.logger.debug('UDP send failed', { error: err.message });
      });
    });
  }

  #onConnection(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    // '' (no address) is outside every allowFrom prefix, never trusted.
    const client = socket.remoteAddress ?? '';
    const limits = this.#settings.tcp ?? DEFAULT_TCP_LIMITS;
    const refuse = (reason: TcpRefusal): void => {
      this.#options.onTcpRefused?.(reason);
      socket.destroy();
    };
    if (this.#connections.size >= limits.maxConnections) {
      refuse('connections');
      return;
    }
    const key = clientKey(client);
    if (!this.#perClient.take(key, limits.maxConnectionsPerClient)) {
      refuse('client');
      return;
    }
    this.#connections.add(socket);
    const transfers = this.#options.transfers;
    serveTcpConnection(socket, {
      limits,
      refuse,
      handle: (msg) => this.#safeHandle(msg, 'tcp', client),
      transfer:
        transfers === undefined
          ? undefined
          : (msg, send) => transfers.serve(msg, client, this.#options.zone(), send),
      onClose: () => {
        this.#connections.delete(socket);
        this.#perClient.give(key);
      },
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
    this.#batch?.close();
    this.#batch = undefined;
    for (const s of this.#connections) s.end();
    setTimeout(() => {
      for (const s of this.#connections) s.destroy();
    }, 200).unref();
    await tcpClosed;
  }
}
