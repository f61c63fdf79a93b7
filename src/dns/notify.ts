/**
 * NOTIFY (RFC 1996): tells secondaries that the zone has a new serial, so that they transfer it
 * at once instead of at the SOA refresh. One NOTIFY per target is in flight at a time: a serial
 * that comes while one is unanswered waits for its answer and is sent then, so a burst of
 * changes costs a secondary one more NOTIFY, not one per change (coalescing). An unanswered
 * NOTIFY is sent again with a growing interval until the target answers or a newer serial
 * replaces it. With TSIG keys, every NOTIFY is signed with the first key and only an answer
 * signed with it counts.
 *
 * Sockets: one UDP socket per address family, on an ephemeral port, replies matched on the ID,
 * the target's address and port, and the opcode.
 */
import { ipFamily } from '../net/ip.js';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import type { HostPort } from '../config/index.js';
import type { Logger } from '../log.js';
import type { TsigKey } from './tsig.js';
import { TsigSigner, keyring, readTsig, verifyTsig } from './tsig.js';
import { formatHostPort } from './upstream.js';
import {
  HEADER_SIZE,
  TYPE,
  encodeName,
  plainQnameEnd,
  questionMessage,
  setU16,
  u16,
} from './wire.js';
import type { Zone } from './zone.js';

/** The NOTIFY opcode. */
export const OPCODE_NOTIFY = 4;

/** First wait for an answer; doubled after each unanswered try, up to `MAX_RETRY_MS`. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

/** What may be notified, and how (`transfer.notify`, the first TSIG key); a reload replaces it. */
export interface NotifySettings {
  readonly targets: readonly HostPort[];
  /** Signs every NOTIFY; undefined: unsigned. */
  readonly key: TsigKey | undefined;
}

/** How one NOTIFY exchange ended, for metrics and logs. */
export type NotifyResult = 'acked' | 'timeout' | 'refused';

/** One NOTIFY exchange. */
export interface NotifyEvent {
  readonly target: string;
  readonly serial: number;
  readonly result: NotifyResult;
  /** Tries so far for this serial (1 for the first). */
  readonly attempt: number;
}

/** Timers, so that tests run the retries without waiting. */
export interface NotifyTimers {
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
  /** Seconds since the epoch (TSIG). */
  readonly now: () => number;
}

const REAL_TIMERS: NotifyTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
  now: () => Date.now() / 1000,
};

/** The NOTIFY message for `zone` with ID `id`: the apex SOA question and the SOA as answer. */
export function notifyMessage(zone: Zone, id: number): Buffer {
  const apex = encodeName(zone.records.zone);
  const question = questionMessage(id, (OPCODE_NOTIFY << 3) | 0x04, apex, TYPE.SOA); // AA
  // The zone's SOA answer: its owner points at the question's name, the apex.
  const out = Buffer.concat([question, zone.soaAnswer]);
  setU16(out, 6, 1);
  return out;
}

/**
 * The answer to a NOTIFY a peer sent (RFC 1996 4.7): NOERROR with the question, or undefined
 * when `msg` is not a NOTIFY with one readable question. mesodns is no secondary: the NOTIFY
 * changes nothing, it is only acknowledged so that the peer stops sending it.
 */
export function notifyAnswer(msg: Buffer): Buffer | undefined {
  if (msg.length < HEADER_SIZE || (((msg[2] ?? 0) >> 3) & 0x0f) !== OPCODE_NOTIFY) return undefined;
  if (((msg[2] ?? 0) & 0x80) !== 0 || u16(msg, 4) !== 1) return undefined;
  const qnameEnd = plainQnameEnd(msg);
  const end = qnameEnd + 4;
  if (qnameEnd < 0 || end > msg.length) return undefined;
  const out = Buffer.alloc(end);
  msg.copy(out, 0, 0, end);
  out[2] = 0x80 | (OPCODE_NOTIFY << 3) | 0x04; // QR, NOTIFY, AA
  out[3] = 0;
  setU16(out, 6, 0);
  setU16(out, 8, 0);
  setU16(out, 10, 0);
  return out;
}

/** One target's state. */
interface Target {
  readonly address: HostPort;
  readonly label: string;
  /** The zone whose serial is being notified, and the zone waiting behind it. */
  sending:
    | {
        zone: Zone;
        id: number;
        attempt: number;
        timer: unknown;
        mac: Buffer | undefined;
        /** The target refused this try (reported); the timer only sends the next. */
        refused: boolean;
      }
    | undefined;
  waiting: Zone | undefined;
}

/** Sends NOTIFY to the configured secondaries (see the module comment). */
export class Notifier {
  #settings: NotifySettings;
  #targets = new Map<string, Target>();
  readonly #logger: Logger;
  readonly #timers: NotifyTimers;
  readonly #onNotify: ((event: NotifyEvent) => void) | undefined;
  #sockets = new Map<4 | 6, dgram.Socket>();
  #closed = false;

  constructor(
    settings: NotifySettings,
    logger: Logger,
    onNotify?: (event: NotifyEvent) => void,
    timers: NotifyTimers = REAL_TIMERS,
  ) {
    this.#settings = settings;
    this.#logger = logger;
    this.#onNotify = onNotify;
    this.#timers = timers;
    this.#setTargets(settings.targets);
  }

  update(settings: NotifySettings): void {
    this.#settings = settings;
    this.#setTargets(settings.targets);
  }

  #setTargets(addresses: readonly HostPort[]): void {
    const next = new Map<string, Target>();
    for (const address of addresses) {
      const label = formatHostPort(address);
      next.set(
        label,
        this.#targets.get(label) ?? { address, label, sending: undefined, waiting: undefined },
      );
    }
    for (const [label, target] of this.#targets) {
      if (!next.has(label) && target.sending !== undefined)
        this.#timers.clearTimeout(target.sending.timer);
    }
    this.#targets = next;
  }

  /** Targets with a NOTIFY unanswered now. */
  get pending(): number {
    let n = 0;
    for (const t of this.#targets.values()) if (t.sending !== undefined) n++;
    return n;
  }

  /** The zone has a new serial: notify every target (coalesced, see the module comment). */
  serialChanged(zone: Zone): void {
    if (this.#closed) return;
    for (const target of this.#targets.values()) {
      if (target.sending === undefined) this.#send(target, zone, 1);
      else target.waiting = zone;
    }
  }

  #socket(family: 4 | 6): dgram.Socket {
    let socket = this.#sockets.get(family);
    if (socket === undefined) {
      const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      s.on('message', (msg, rinfo) => {
        this.#onAnswer(msg, rinfo);
      });
      s.on('error', (err) => {
        this.#logger.warn('NOTIFY socket error', { error: err.message });
      });
      s.bind(0);
      s.unref();
      this.#sockets.set(family, s);
      socket = s;
    }
    return socket;
  }

  #send(target: Target, zone: Zone, attempt: number): void {
    const id = randomInt(65536);
    const key = this.#settings.key;
    let message = notifyMessage(zone, id);
    let mac: Buffer | undefined;
    if (key !== undefined) {
      const signer = new TsigSigner(key, this.#timers.now);
      message = signer.sign(message);
      mac = signer.lastMac;
    }
    const retryMs = Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), MAX_RETRY_MS);
    const timer = this.#timers.setTimeout(() => {
      this.#unanswered(target, 'timeout');
    }, retryMs);
    target.sending = { zone, id, attempt, timer, mac, refused: false };
    const family = ipFamily(target.address.host) === 6 ? 6 : 4;
    this.#socket(family).send(message, target.address.port, target.address.host, (err) => {
      if (err !== null) {
        this.#logger.debug('NOTIFY not sent', { target: target.label, error: err.message });
      }
    });
  }

  /** No good answer: try again later (a newer serial, if one came, replaces this one). */
  #unanswered(target: Target, result: NotifyResult): void {
    const sending = target.sending;
    if (sending === undefined || this.#closed) return;
    if (!sending.refused) {
      this.#onNotify?.({
        target: target.label,
        serial: sending.zone.serial,
        result,
        attempt: sending.attempt,
      });
    }
    if (sending.attempt === 3) {
      this.#logger.warn('a secondary does not answer NOTIFY; still trying', {
        target: target.label,
        serial: sending.zone.serial,
      });
    }
    const zone = target.waiting ?? sending.zone;
    target.waiting = undefined;
    this.#send(target, zone, zone === sending.zone ? sending.attempt + 1 : 1);
  }

  #onAnswer(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < HEADER_SIZE) return;
    const flags = msg[2] ?? 0;
    if ((flags & 0x80) === 0 || ((flags >> 3) & 0x0f) !== OPCODE_NOTIFY) return;
    const label = formatHostPort({ host: rinfo.address, port: rinfo.port });
    const target = this.#targets.get(label);
    const sending = target?.sending;
    if (target === undefined || sending === undefined || u16(msg, 0) !== sending.id) return;
    const key = this.#settings.key;
    if (key !== undefined && sending.mac !== undefined) {
      const tsig = readTsig(msg);
      if (tsig === undefined || tsig === 'malformed') return; // not from the secondary: ignored
      const verified = verifyTsig(msg, tsig, keyring([key]), this.#timers.now(), sending.mac);
      if (!verified.ok) return;
    }
    const rcode = (msg[3] ?? 0) & 0x0f;
    if (rcode !== 0) {
      // A secondary that refuses (not configured for the zone, wrong key) is told again when the
      // timer of this try fires.
      if (sending.refused) return;
      sending.refused = true;
      this.#logger.warn('a secondary refused NOTIFY', { target: label, rcode });
      this.#onNotify?.({
        target: label,
        serial: sending.zone.serial,
        result: 'refused',
        attempt: sending.attempt,
      });
      return;
    }
    this.#timers.clearTimeout(sending.timer);
    this.#onNotify?.({
      target: label,
      serial: sending.zone.serial,
      result: 'acked',
      attempt: sending.attempt,
    });
    target.sending = undefined;
    const waiting = target.waiting;
    target.waiting = undefined;
    if (waiting !== undefined && waiting.serial !== sending.zone.serial)
      this.#send(target, waiting, 1);
  }

  /** Stops retrying and closes the sockets. */
  close(): void {
    this.#closed = true;
    for (const t of this.#targets.values()) {
      if (t.sending !== undefined) this.#timers.clearTimeout(t.sending.timer);
      t.sending = undefined;
    }
    for (const s of this.#sockets.values()) s.close();
    this.#sockets.clear();
  }
}
