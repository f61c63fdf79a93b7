/**
 * Batched UDP I/O: the DNS listener's socket served by the native addon in native/udp_batch.c
 * (built by node-gyp at `npm ci`, Linux). Node's dgram makes one JavaScript callback per datagram,
 * with a fresh buffer and address object, and one system call per reply; here one recvmmsg(2)
 * reads up to `BATCH` queries into a receive arena, JavaScript answers them in one call, and one
 * sendmmsg(2) sends the replies it wrote into the send arena, each to its query's sender. On this
 * machine that halves the cost of a datagram (bench/README.md).
 *
 * Without the addon (not built, another OS) `loadBatchUdp` says why and the server uses dgram.
 */
import { loadAddon } from '../native.js';
import { formatIpv6, intToIpv4 } from '../records/index.js';

/** What the addon exports (checked when loaded). */
export interface BatchUdpBinding {
  /** Datagrams per batch, bytes per arena slot, bytes per sender address. */
  readonly BATCH: number;
  readonly SLOT: number;
  readonly ADDR: number;
  /** Binds `host:port` (an IP literal) and starts polling; throws with `code` (EADDRINUSE...). */
  open(
    host: string,
    port: number,
    recv: ArrayBuffer,
    send: ArrayBuffer,
    lengths: ArrayBuffer,
    addresses: ArrayBuffer,
    onBatch: (count: number) => void,
  ): object;
  port(handle: object): number;
  /** Sends one datagram to a sender address (an `ADDR`-byte record); bytes sent or -errno. */
  sendTo(handle: object, data: Uint8Array, address: Uint8Array): number;
  close(handle: object): void;
}

function isBinding(value: unknown): value is BatchUdpBinding {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['open'] === 'function' &&
    typeof v['port'] === 'function' &&
    typeof v['sendTo'] === 'function' &&
    typeof v['close'] === 'function' &&
    typeof v['BATCH'] === 'number' &&
    typeof v['SLOT'] === 'number' &&
    typeof v['ADDR'] === 'number'
  );
}

let loaded: { binding?: BatchUdpBinding; reason?: string } | undefined;

/** Datagrams longer than a slot, dropped by every batched socket of the process so far. */
let oversized = 0;

/** How many datagrams longer than a slot the batched sockets dropped (no DNS query is that long). */
export function oversizedDatagrams(): number {
  return oversized;
}

/**
 * The addon, or the reason it cannot be used (`reason`). Loaded once; set
 * `MESODNS_BATCHED_UDP=0` in the environment to behave as if it were missing.
 */
export function loadBatchUdp(): { binding?: BatchUdpBinding; reason?: string } {
  if (loaded !== undefined) return loaded;
  if (process.env['MESODNS_BATCHED_UDP'] === '0') {
    loaded = { reason: 'disabled by MESODNS_BATCHED_UDP=0' };
  } else if (process.platform !== 'linux') {
    loaded = { reason: `recvmmsg/sendmmsg are Linux only (platform ${process.platform})` };
  } else {
    const { module, reason } = loadAddon('udp_batch');
    if (reason !== undefined) loaded = { reason };
    else if (isBinding(module)) loaded = { binding: module };
    else loaded = { reason: 'the addon has an unexpected shape' };
  }
  return loaded;
}

/**
 * Answers one query: the reply to send now, a promise of one (sent when it settles), or
 * undefined (nothing to send). `msg` is a view of the receive arena, valid only during the call:
 * whatever outlives the call must copy it. `client` is the sender's IP address.
 */
export type BatchHandler = (
  msg: Buffer,
  client: string,
) => Buffer | Promise<Buffer | undefined> | undefined;

/** A bound UDP socket served in batches by the addon. */
export class BatchUdpSocket {
  readonly #binding: BatchUdpBinding;
  readonly #handle: object;
  readonly #handler: BatchHandler;
  readonly #recv: Buffer;
  readonly #send: Buffer;
  readonly #lengths: Int32Array;
  readonly #addresses: Uint8Array;
  #closed = false;
  /** The last sender seen and its text form: replies mostly go to a few resolvers. */
  readonly #lastAddress = new Uint8Array(17);
  #lastText = '';

  private constructor(binding: BatchUdpBinding, host: string, port: number, handler: BatchHandler) {
    this.#binding = binding;
    this.#handler = handler;
    const { BATCH, SLOT, ADDR } = binding;
    const recv = new ArrayBuffer(BATCH * SLOT);
    const send = new ArrayBuffer(BATCH * SLOT);
    const lengths = new ArrayBuffer(BATCH * 2 * 4);
    const addresses = new ArrayBuffer(BATCH * ADDR);
    this.#recv = Buffer.from(recv);
    this.#send = Buffer.from(send);
    this.#lengths = new Int32Array(lengths);
    this.#addresses = new Uint8Array(addresses);
    this.#handle = binding.open(host, port, recv, send, lengths, addresses, (count) => {
      this.#onBatch(count);
    });
  }

  /** Binds `host:port` (an IP literal; port 0 picks one). Throws as bind(2) fails. */
  static open(
    binding: BatchUdpBinding,
    host: string,
    port: number,
    handler: BatchHandler,
  ): BatchUdpSocket {
    return new BatchUdpSocket(binding, host, port, handler);
  }

  /** The bound port. */
  get port(): number {
    return this.#closed ? 0 : this.#binding.port(this.#handle);
  }

  /** Stops reading and closes the socket; replies still pending are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#binding.close(this.#handle);
  }

  #onBatch(count: number): void {
    const { SLOT, ADDR } = this.#binding;
    const lengths = this.#lengths;
    for (let i = 0; i < count; i++) {
      const length = lengths[2 * i] ?? -1;
      if (length < 0) {
        oversized++;
        continue;
      }
      const off = i * SLOT;
      const result = this.#handler(this.#recv.subarray(off, off + length), this.#client(i * ADDR));
      if (result === undefined) continue;
      if (result instanceof Promise) {
        const address = this.#addresses.slice(i * ADDR, (i + 1) * ADDR);
        void result.then((reply) => {
          if (reply !== undefined && !this.#closed)
            this.#binding.sendTo(this.#handle, reply, address);
        });
      } else if (result.length <= SLOT) {
        this.#send.set(result, off);
        lengths[2 * i + 1] = result.length;
      } else {
        this.#binding.sendTo(this.#handle, result, this.#addresses.subarray(i * ADDR));
      }
    }
  }

  /** The text form of the sender address at `at` in the address arena. */
  #client(at: number): string {
    const a = this.#addresses;
    const last = this.#lastAddress;
    const size = a[at] === 6 ? 16 : 4;
    let same = last[0] === a[at];
    for (let k = 0; same && k < size; k++) same = last[k + 1] === a[at + 3 + k];
    if (same) return this.#lastText;
    last[0] = a[at] ?? 0;
    for (let k = 0; k < size; k++) last[k + 1] = a[at + 3 + k] ?? 0;
    if (size === 4) {
      this.#lastText = intToIpv4(
        ((last[1] ?? 0) << 24) | ((last[2] ?? 0) << 16) | ((last[3] ?? 0) << 8) | (last[4] ?? 0),
      );
    } else {
      const groups: number[] = [];
      for (let g = 0; g < 8; g++)
        groups.push(((last[1 + 2 * g] ?? 0) << 8) | (last[2 + 2 * g] ?? 0));
      this.#lastText = formatIpv6(groups);
    }
    return this.#lastText;
  }
}
