/**
 * Talking to upstream resolvers. `UpstreamClient` owns the sockets: a UDP socket per exchange,
 * on a port the kernel picks at random from the ephemeral range and connected to the upstream,
 * with a random ID (RFC 5452 9.2: a forger must guess about 2^31 combinations, not the 2^18 of
 * a fixed pool of four sockets, which 262,144 forged replies covered in under a second); replies
 * are matched on ID, source address and port and question (RFC 5452 9.1); and one TCP connection
 * per exchange (2-byte framing, RFC 1035 4.2.2). It also
 * remembers every query in flight, so that one of our own queries arriving at our listener (a
 * forwarding loop) is recognised. `Upstream` is one resolver with its health: `maxFails`
 * consecutive failures mark it down, and a probe (`. IN NS`) every `healthCheckMs` brings it back
 * once it answers anything.
 */
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { HostPort } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Transport } from './response.js';
import type { ExchangeOutcome, ForwardObserver } from './upstream-stats.js';
import type { Candidate } from './policy.js';
import { HEADER_SIZE, TYPE, encodeName, questionMessage } from './wire.js';
import { ipFamily, ipv6Bytes } from '../net/ip.js';

/** `. IN NS` with RD set: the health probe (what CoreDNS sends). */
const PROBE = Buffer.from([0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);

/** Spacing of the loop probes to an upstream that does not answer them. */
const LOOP_PROBE_DELAY_MS = 1_000;
/** Loop probes sent to an upstream that does not answer them. */
const LOOP_PROBE_TRIES = 5;

/**
 * A loop probe (as CoreDNS's `loop` plugin): `HINFO <random>.<random>.invalid.` with RD set.
 * Only a forwarding loop can bring this name back to our own listener.
 */
function loopProbe(): { readonly query: Buffer; readonly question: string } {
  const name = encodeName(
    `${randomBytes(8).toString('hex')}.${randomBytes(8).toString('hex')}.mesodns-loop.invalid.`,
  );
  const query = questionMessage(0, 0x01, name, TYPE.HINFO); // RD
  return { query, question: questionOf(query, query.length) };
}

/** Formats an upstream as `ip:port` / `[v6]:port`. */
export function formatHostPort(hp: HostPort): string {
  return ipFamily(hp.host) === 6
    ? `[${hp.host}]:${String(hp.port)}`
    : `${hp.host}:${String(hp.port)}`;
}

/** True when two IP literals are the same address (IPv4-mapped and IPv6 spellings included). */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (s: string): string => s.replace(/^::ffff:/i, '').toLowerCase();
  if (strip(a) === strip(b)) return true;
  if (ipFamily(a) !== 6 || ipFamily(b) !== 6) return false;
  const x = ipv6Bytes(a);
  const y = ipv6Bytes(b);
  return x !== undefined && y !== undefined && x.equals(y);
}

/** The reply of an exchange, or why there is none. */
export type ExchangeResult =
  { readonly reply: Buffer } | { readonly failure: Exclude<ExchangeOutcome, 'ok'> };

interface InFlight {
  /** Set when the query came back to our own listener. */
  looped: boolean;
}

/** The sockets of forwarding, for every upstream of a forwarder. `close()` releases them. */
export class UpstreamClient {
  /** Ends each UDP exchange in flight (as an error). */
  readonly #udpExchanges = new Set<() => void>();
  readonly #tcp = new Set<net.Socket>();
  readonly #inFlight = new Map<string, InFlight>();
  /** Questions of the loop probes sent, and the upstream each went to. */
  readonly #probes = new Map<string, Upstream>();
  #isClosed = false;

  /**
   * True when `msg` is a query this client has in flight (same ID and question): it left this
   * server and came back, so forwarding it again would loop. The exchange it belongs to then
   * ends as a `loop` failure.
   */
  isOwnQuery(msg: Buffer, questionEnd: number): boolean {
    if (this.#probes.size > 0) {
      const upstream = this.#probes.get(questionOf(msg, questionEnd));
      if (upstream !== undefined) {
        upstream.markLooping();
        return true;
      }
    }
    if (this.#inFlight.size === 0) return false;
    const entry = this.#inFlight.get(
      inFlightKey(msg.readUInt16BE(0), questionOf(msg, questionEnd)),
    );
    if (entry === undefined) return false;
    entry.looped = true;
    return true;
  }

  /**
   * Sends a loop probe (see `loopProbe`) to `upstream`; if it ever reaches our own listener
   * (`isOwnQuery`), the upstream forwards back to us, possibly through other servers that
   * rewrite IDs (two mesodns pointing at each other): it is marked looping and not used again.
   */
  async sendLoopProbe(upstream: Upstream, timeoutMs: number): Promise<boolean> {
    const { query, question } = loopProbe();
    this.#probes.set(question, upstream);
    const result = await this.exchange(query, query.length, upstream.address, 'udp', timeoutMs);
    return 'reply' in result;
  }

  /**
   * Sends `msg` (a query; its ID is replaced by a fresh random one) to `upstream` over
   * `transport` and resolves with the reply (still carrying that ID), or why there is none.
   * Never rejects.
   */
  exchange(
    msg: Buffer,
    questionEnd: number,
    upstream: HostPort,
    transport: Transport,
    timeoutMs: number,
  ): Promise<ExchangeResult> {
    if (this.#isClosed) return Promise.resolve({ failure: 'error' });
    const question = questionOf(msg, questionEnd);
    const id = randomInt(0, 0x10000);
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    const key = inFlightKey(id, question);
    const entry: InFlight = { looped: false };
    this.#inFlight.set(key, entry);
    const sent =
      transport === 'udp'
        ? this.#udp(out, id, upstream, question, timeoutMs)
        : this.#tcpExchange(out, id, upstream, question, timeoutMs);
    return sent.then((result) => {
      if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
      return entry.looped ? { failure: 'loop' } : result;
    });
  }

  /**
   * One UDP exchange on a socket of its own: bound by the kernel to a random ephemeral port and
   * connected to the upstream, so that only the upstream's address and port reach it (and an
   * ICMP port unreachable ends it at once); closed when the exchange ends.
   */
  #udp(
    out: Buffer,
    id: number,
    upstream: HostPort,
    question: string,
    timeoutMs: number,
  ): Promise<ExchangeResult> {
    return new Promise((settle) => {
      let socket: dgram.Socket;
      try {
        socket = dgram.createSocket(ipFamily(upstream.host) === 6 ? 'udp6' : 'udp4');
      } catch {
        settle({ failure: 'error' });
        return;
      }
      let isDone = false;
      const finish = (result: ExchangeResult): void => {
        if (isDone) return;
        isDone = true;
        clearTimeout(timer);
        this.#udpExchanges.delete(abort);
        socket.close();
        settle(result);
      };
      const abort = (): void => {
        finish({ failure: 'error' });
      };
      const timer = setTimeout(() => {
        finish({ failure: 'timeout' });
      }, timeoutMs);
      this.#udpExchanges.add(abort);
      socket.on('message', (reply, rinfo) => {
        if (reply.length < HEADER_SIZE || ((reply[2] ?? 0) & 0x80) === 0) return;
        if (reply.readUInt16BE(0) !== id) return;
        if (rinfo.port !== upstream.port || !sameAddress(rinfo.address, upstream.host)) return;
        // Another question: not ours (a late reply, or a forgery), keep waiting. No question:
        // the upstream failed (nothing in it can be checked or passed on to a client; RFC 5452).
        const echo = echoOf(reply, question);
        if (echo === 'other') return;
        finish(echo === 'match' ? { reply } : { failure: 'error' });
      });
      socket.on('error', abort);
      socket.connect(upstream.port, upstream.host, () => {
        socket.send(out, (err) => {
          if (err !== null) abort();
        });
      });
    });
  }

  #tcpExchange(
    out: Buffer,
    id: number,
    upstream: HostPort,
    question: string,
    timeoutMs: number,
  ): Promise<ExchangeResult> {
    return new Promise((settle) => {
      const frame = Buffer.allocUnsafe(out.length + 2);
      frame.writeUInt16BE(out.length, 0);
      out.copy(frame, 2);
      const socket = net.connect({ host: upstream.host, port: upstream.port, noDelay: true });
      this.#tcp.add(socket);
      let buffered: Buffer = Buffer.alloc(0);
      let isDone = false;
      const finish = (result: ExchangeResult): void => {
        if (isDone) return;
        isDone = true;
        clearTimeout(timer);
        this.#tcp.delete(socket);
        socket.destroy();
        settle(result);
      };
      const timer = setTimeout(() => {
        finish({ failure: 'timeout' });
      }, timeoutMs);
      socket.on('connect', () => socket.write(frame));
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const len = buffered.readUInt16BE(0);
          if (buffered.length < 2 + len) return;
          const reply = buffered.subarray(2, 2 + len);
          buffered = buffered.subarray(2 + len);
          if (
            reply.length >= HEADER_SIZE &&
            reply.readUInt16BE(0) === id &&
            ((reply[2] ?? 0) & 0x80) !== 0
          ) {
            const echo = echoOf(reply, question);
            if (echo !== 'other') {
              finish(echo === 'match' ? { reply: Buffer.from(reply) } : { failure: 'error' });
              return;
            }
          }
        }
      });
      socket.on('error', () => {
        finish({ failure: 'error' });
      });
      socket.on('close', () => {
        finish({ failure: 'error' });
      });
    });
  }

  /** Ends every exchange in flight (as errors) and closes the sockets. */
  close(): void {
    this.#isClosed = true;
    for (const abort of [...this.#udpExchanges]) abort();
    for (const s of this.#tcp) s.destroy();
  }
}

/** The question section of a query, lower-cased, as a latin1 string. */
function questionOf(msg: Buffer, questionEnd: number): string {
  return msg.toString('latin1', HEADER_SIZE, questionEnd).toLowerCase();
}

function inFlightKey(id: number, question: string): string {
  return String.fromCharCode(id) + question;
}

/**
 * Whether a reply echoes our question (case-insensitively): `match`; `none` when it has no
 * question at all (QDCOUNT 0, e.g. a FORMERR); `other` for another question or several.
 */
function echoOf(reply: Buffer, question: string): 'match' | 'none' | 'other' {
  const count = reply.readUInt16BE(4);
  if (count === 0) return 'none';
  if (count !== 1) return 'other';
  const echoed = reply.toString('latin1', HEADER_SIZE, HEADER_SIZE + question.length);
  return echoed.toLowerCase() === question ? 'match' : 'other';
}

/** Settings of one upstream. */
export interface UpstreamOptions {
  readonly address: HostPort;
  readonly client: UpstreamClient;
  /** Consecutive failures that mark it down; 0 never marks it down. */
  readonly maxFails: number;
  /** Probe period while down. */
  readonly healthCheckMs: number;
  /** How long a probe waits for its answer. */
  readonly probeTimeoutMs: number;
  readonly observer: ForwardObserver;
  readonly logger: Logger;
}

/** One upstream resolver and its health. `close()` stops its probes. */
export class Upstream implements Candidate {
  /** `ip:port` / `[v6]:port`. */
  readonly name: string;
  readonly address: HostPort;
  readonly #options: UpstreamOptions;
  #fails = 0;
  #isDown = false;
  #isLooping = false;
  /** Whether the loop probes were started (on the first exchange). */
  #hasLoopProbe = false;
  #loopProbe: NodeJS.Timeout | undefined;
  #probe: NodeJS.Timeout | undefined;
  #isProbing = false;
  #isClosed = false;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    this.address = options.address;
    this.name = formatHostPort(options.address);
  }

  /** False while marked down (until a probe is answered). */
  get isHealthy(): boolean {
    return !this.#isDown && !this.#isLooping;
  }

  /** True once a loop probe sent to it came back to us: it is never asked again. */
  get isLooping(): boolean {
    return this.#isLooping;
  }

  /**
   * Sends the loop probe (`UpstreamClient.sendLoopProbe`) now, and again while the upstream does
   * not answer it (it may be starting too), up to `LOOP_PROBE_TRIES` times. It runs once, on the
   * first query forwarded to this upstream: an upstream nobody forwards to is never sent anything
   * (a server whose clients ask only for the cluster domain stays off the network).
   */
  #scheduleLoopProbe(attempt = 1): void {
    this.#loopProbe = setTimeout(
      () => {
        this.#loopProbe = undefined;
        if (this.#isClosed || this.#isLooping) return;
        void this.#options.client
          .sendLoopProbe(this, this.#options.probeTimeoutMs)
          .then((isAnswered) => {
            if (!isAnswered && attempt < LOOP_PROBE_TRIES) this.#scheduleLoopProbe(attempt + 1);
          });
      },
      LOOP_PROBE_DELAY_MS * (attempt - 1),
    );
    this.#loopProbe.unref();
  }

  /** Our loop probe came back through this upstream (see `isLooping`). */
  markLooping(): void {
    if (this.#isLooping) return;
    this.#isLooping = true;
    this.#options.observer.health(this.name, false);
    this.#options.logger.error(
      'forwarding loop: this upstream sends our queries back to us (directly or through other resolvers); it is not used until the configuration is reloaded',
      { upstream: this.name },
    );
  }

  /**
   * Sends a query to this upstream and resolves with the reply (ID still the upstream one), or
   * undefined. Failures count towards marking it down unless `countsForHealth` is false.
   */
  async exchange(
    msg: Buffer,
    questionEnd: number,
    transport: Transport,
    timeoutMs: number,
    countsForHealth = true,
  ): Promise<Buffer | undefined> {
    if (!this.#hasLoopProbe) {
      this.#hasLoopProbe = true;
      this.#scheduleLoopProbe();
    }
    const started = performance.now();
    const result = await this.#options.client.exchange(
      msg,
      questionEnd,
      this.address,
      transport,
      timeoutMs,
    );
    const durationMs = performance.now() - started;
    const isOk = 'reply' in result;
    this.#options.observer.exchange({
      upstream: this.name,
      transport,
      outcome: isOk ? 'ok' : result.failure,
      rcode: isOk ? (result.reply[3] ?? 0) & 0x0f : undefined,
      durationMs,
    });
    if (isOk) {
      this.#fails = 0;
      if (this.#isDown) this.#markUp();
      return result.reply;
    }
    this.#options.logger.debug('upstream exchange failed', {
      upstream: this.name,
      transport,
      reason: result.failure,
    });
    if (countsForHealth) this.#failed();
    return undefined;
  }

  #failed(): void {
    this.#fails++;
    const { maxFails } = this.#options;
    if (this.#isDown || maxFails === 0 || this.#fails < maxFails || this.#isClosed) return;
    this.#isDown = true;
    this.#options.observer.health(this.name, false);
    this.#options.logger.warn('upstream marked down', {
      upstream: this.name,
      failures: this.#fails,
    });
    this.#scheduleProbe();
  }

  #markUp(): void {
    this.#isDown = false;
    this.#fails = 0;
    if (this.#probe !== undefined) clearTimeout(this.#probe);
    this.#probe = undefined;
    this.#options.observer.health(this.name, true);
    this.#options.logger.info('upstream is back', { upstream: this.name });
  }

  #scheduleProbe(): void {
    if (this.#isClosed || this.#probe !== undefined || this.#isProbing) return;
    this.#probe = setTimeout(() => {
      this.#probe = undefined;
      void this.#runProbe();
    }, this.#options.healthCheckMs);
    this.#probe.unref();
  }

  async #runProbe(): Promise<void> {
    const { client, probeTimeoutMs } = this.#options;
    this.#isProbing = true;
    const result = await client.exchange(PROBE, PROBE.length, this.address, 'udp', probeTimeoutMs);
    this.#isProbing = false;
    if (this.#isClosed || !this.#isDown) return;
    if ('reply' in result) this.#markUp();
    else this.#scheduleProbe();
  }

  /** Stops probing. */
  close(): void {
    this.#isClosed = true;
    if (this.#loopProbe !== undefined) clearTimeout(this.#loopProbe);
    if (this.#probe !== undefined) clearTimeout(this.#probe);
    this.#probe = undefined;
  }
}
