/**
 * Zone transfers to DNS secondaries over TCP (RFC 5936 AXFR; IXFR, RFC 1995, answered with the
 * whole zone in its AXFR form, which RFC 1995 4 allows). Who may transfer: clients in
 * `transfer.allow`, and, when TSIG keys are configured, only requests signed with one of them
 * (RFC 8945: a bad signature gets NOTAUTH with the TSIG error; an unsigned request REFUSED). At
 * most `maxConcurrent` transfers run at once; more get REFUSED.
 *
 * A transfer sends one message at a time and waits for the connection before the next (`send`
 * resolves when the socket can take more), yielding to the event loop between messages so that
 * queries keep being answered while a large zone goes out.
 */
import type { Logger } from '../log.js';
import type { Acl } from './acl.js';
import { axfrMessages } from './axfr.js';
import { errorResponse } from './response.js';
import type { TsigKeyring } from './tsig.js';
import {
  RCODE_NOTAUTH,
  TSIG_ERROR,
  TsigSigner,
  readCanonicalName,
  readTsig,
  unsignedTsigError,
  verifyTsig,
} from './tsig.js';
import { HEADER_SIZE, RCODE, TYPE, u16 } from './wire.js';
import type { Zone } from './zone.js';

/** What may transfer the zone (`transfer.*`); a reload replaces it. */
export interface TransferSettings {
  /** Clients that may transfer; an empty Acl allows nobody. */
  readonly allow: Acl;
  /** TSIG keys; when there are any, requests must be signed with one. */
  readonly keys: TsigKeyring;
  readonly maxConcurrent: number;
}

/** How a transfer request ended. */
export type TransferResult =
  | 'ok'
  | 'refused' // client outside `allow`, or unsigned while keys are required
  | 'busy' // `maxConcurrent` transfers already running
  | 'notauth' // TSIG did not verify, or the name is not the zone
  | 'formerr'
  | 'unavailable' // no zone loaded yet
  | 'aborted'; // the client went away mid-transfer

/** One transfer request, for metrics and logs. */
export interface TransferEvent {
  readonly type: 'AXFR' | 'IXFR';
  readonly result: TransferResult;
  readonly client: string;
  /** The serial sent (0 when nothing was). */
  readonly serial: number;
  readonly messages: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** The TSIG key used, if any. */
  readonly key: string | undefined;
  /** Why it was not `ok`. */
  readonly reason: string | undefined;
}

/** Where a transfer writes its messages: resolves false once the connection is gone. */
export type TransferSink = (message: Buffer) => Promise<boolean>;

/** A parsed transfer request. */
interface TransferRequest {
  readonly id: number;
  readonly type: 'AXFR' | 'IXFR';
  /** QNAME, QTYPE, QCLASS as sent. */
  readonly question: Uint8Array;
  /** QNAME in canonical text form (`mesos.`). */
  readonly name: string;
}

/**
 * True when `msg` asks for a zone transfer (opcode QUERY, one question of type AXFR or IXFR).
 * Cheap: the TCP path asks it of every message before the usual handling.
 */
export function isTransferRequest(msg: Uint8Array): boolean {
  if (msg.length < HEADER_SIZE + 5 || ((msg[2] ?? 0) & 0xf8) !== 0 || u16(msg, 4) !== 1) {
    return false;
  }
  let off = HEADER_SIZE;
  for (let len = msg[off] ?? 0; len !== 0; len = msg[off] ?? 0) {
    if (len > 63) return false;
    off += len + 1;
    if (off >= msg.length) return false;
  }
  const qtype = u16(msg, off + 1);
  return off + 5 <= msg.length && (qtype === TYPE.AXFR || qtype === TYPE.IXFR);
}

function parseRequest(msg: Buffer): TransferRequest | undefined {
  const name = readCanonicalName(msg, HEADER_SIZE);
  if (name === undefined || name.end + 4 > msg.length) return undefined;
  const qtype = u16(msg, name.end);
  return {
    id: u16(msg, 0),
    type: qtype === TYPE.IXFR ? 'IXFR' : 'AXFR',
    question: msg.subarray(HEADER_SIZE, name.end + 4),
    name: name.text,
  };
}

/** Serves zone transfers (see the module comment). */
export class ZoneTransfers {
  #settings: TransferSettings;
  readonly #logger: Logger;
  /** Milliseconds since the epoch (TSIG times are in seconds of it). */
  readonly #now: () => number;
  readonly #onTransfer: ((event: TransferEvent) => void) | undefined;
  #running = 0;

  constructor(
    settings: TransferSettings,
    logger: Logger,
    now: () => number = Date.now,
    onTransfer?: (event: TransferEvent) => void,
  ) {
    this.#settings = settings;
    this.#logger = logger;
    this.#now = now;
    this.#onTransfer = onTransfer;
  }

  update(settings: TransferSettings): void {
    this.#settings = settings;
  }

  /** Transfers running now. */
  get running(): number {
    return this.#running;
  }

  /**
   * Answers the transfer request `msg` from `client` with `zone`, writing every message to
   * `send`. Resolves when the last message was written or the transfer was refused or aborted.
   * Never rejects.
   */
  async serve(
    msg: Buffer,
    client: string,
    zone: Zone | undefined,
    send: TransferSink,
  ): Promise<void> {
    const started = this.#now();
    const settings = this.#settings;
    const request = parseRequest(msg);
    const type = request?.type ?? 'AXFR';
    let key: string | undefined;
    const end = (
      result: TransferResult,
      reason?: string,
      serial = 0,
      messages = 0,
      bytes = 0,
    ): void => {
      const event: TransferEvent = {
        type,
        result,
        client,
        serial,
        messages,
        bytes,
        durationMs: this.#now() - started,
        key,
        reason,
      };
      this.#onTransfer?.(event);
      if (result === 'ok') {
        this.#logger.info('zone transferred', {
          type,
          client,
          serial,
          messages,
          bytes,
          ms: event.durationMs,
        });
      } else if (result === 'notauth') {
        this.#logger.warn('zone transfer refused: TSIG', { type, client, reason });
      } else {
        this.#logger.debug('zone transfer not served', { type, client, result, reason });
      }
    };
    const questionEnd = request === undefined ? 0 : HEADER_SIZE + request.question.length;
    const answer = (rcode: number): Buffer =>
      errorResponse(msg, rcode, questionEnd, undefined, false);
    const reply = async (rcode: number): Promise<void> => {
      await send(answer(rcode));
    };

    if (request === undefined) {
      end('formerr', 'bad question');
      await reply(RCODE.FORMERR);
      return;
    }
    if (!settings.allow.allows(client)) {
      end('refused', 'client not in transfer.allow');
      await reply(RCODE.REFUSED);
      return;
    }
    // TSIG: verified before anything about the zone is said.
    const tsig = readTsig(msg);
    if (tsig === 'malformed') {
      end('formerr', 'malformed TSIG');
      await reply(RCODE.FORMERR);
      return;
    }
    let signer: TsigSigner | undefined;
    const nowSeconds = (): number => this.#now() / 1000;
    if (tsig !== undefined) {
      key = tsig.keyName;
      const verified = verifyTsig(msg, tsig, settings.keys, nowSeconds());
      if (!verified.ok) {
        end(verified.rcode === RCODE.FORMERR ? 'formerr' : 'notauth', verified.reason);
        const error = answer(verified.rcode);
        await send(
          verified.error === TSIG_ERROR.BADTIME && verified.key !== undefined
            ? new TsigSigner(verified.key, nowSeconds, tsig.mac).sign(error, verified.error)
            : unsignedTsigError(error, tsig, verified.error, nowSeconds()),
        );
        return;
      }
      signer = new TsigSigner(verified.key, nowSeconds, tsig.mac);
    } else if (settings.keys.size > 0) {
      end('refused', 'unsigned (transfer.tsig.keys are set)');
      await reply(RCODE.REFUSED);
      return;
    }
    const sign = (m: Buffer): Buffer => (signer === undefined ? m : signer.sign(m));
    if (zone === undefined) {
      end('unavailable', 'no zone loaded yet');
      await send(sign(answer(RCODE.SERVFAIL)));
      return;
    }
    if (request.name !== zone.records.zone) {
      end('notauth', `not the zone ${zone.records.zone}: ${request.name}`);
      await send(sign(answer(RCODE_NOTAUTH)));
      return;
    }
    if (this.#running >= settings.maxConcurrent) {
      end('busy', `${String(settings.maxConcurrent)} transfers running (transfer.maxConcurrent)`);
      await send(sign(answer(RCODE.REFUSED)));
      return;
    }
    this.#running++;
    let messages = 0;
    let bytes = 0;
    try {
      for (const message of axfrMessages(zone, { id: request.id, question: request.question })) {
        const signed = sign(message);
        if (!(await send(signed))) {
          end('aborted', 'the connection closed', zone.serial, messages, bytes);
          return;
        }
        messages++;
        bytes += signed.length;
        // Queries run between two messages.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      end('ok', undefined, zone.serial, messages, bytes);
    } finally {
      this.#running--;
    }
  }
}
