/**
 * Zone transfers to DNS secondaries over TCP (RFC 5936 AXFR; IXFR, RFC 1995, from the journal of
 * the zone's differences, or with the whole zone in its AXFR form when the journal does not reach
 * back to the secondary's serial, which RFC 1995 4 allows). Who may transfer: clients in
 * `transfer.allow`, and, when TSIG keys are configured, only requests signed with one of them
 * (RFC 8945: a bad signature gets NOTAUTH with the TSIG error; an unsigned request REFUSED). At
 * most `maxConcurrent` transfers run at once; more get REFUSED.
 *
 * The messages are made in the transfer worker thread when it runs (transfer-offload.ts): this
 * thread then only writes the chunks of framed messages it gets to the socket. Without it (it
 * could not start, or its zone is not at the serial answered), they are made here: one message
 * at a time, waiting for the connection before the next (`send` resolves when the socket can
 * take more) and yielding to the event loop between messages so that queries keep being
 * answered while a large zone goes out.
 */
import type { Logger } from '../log.js';
import type { Acl } from './acl.js';
import { axfrMessages } from './axfr.js';
import { ixfrMessages } from './ixfr.js';
import type { TransferOffload, TransferSink } from './transfer-offload.js';
import { isSerialAfter, soaSerialAt } from './serials.js';
import type { ZoneDiff } from './changeset.js';
import { errorResponse } from './response.js';
import type { TsigKey, TsigKeyring } from './tsig.js';
import {
  RCODE_NOTAUTH,
  TsigSigner,
  readCanonicalName,
  readTsig,
  tsigRefusal,
  verifyTsig,
} from './tsig.js';
import { HEADER_SIZE, RCODE, TYPE, plainQnameEnd, u16 } from './wire.js';
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

export type { TransferSink } from './transfer-offload.js';

/** A parsed transfer request. */
interface TransferRequest {
  readonly id: number;
  readonly type: 'AXFR' | 'IXFR';
  /** QNAME, QTYPE, QCLASS as sent. */
  readonly question: Uint8Array;
  /** QNAME in canonical text form (`mesos.`). */
  readonly name: string;
  /** IXFR: the serial of the SOA in the authority section (the secondary's version). */
  readonly serial: number | undefined;
}

/**
 * True when `msg` asks for a zone transfer (opcode QUERY, one question of type AXFR or IXFR).
 * Cheap: the TCP path asks it of every message before the usual handling.
 */
export function isTransferRequest(msg: Uint8Array): boolean {
  if (msg.length < HEADER_SIZE + 5 || ((msg[2] ?? 0) & 0xf8) !== 0 || u16(msg, 4) !== 1) {
    return false;
  }
  const qnameEnd = plainQnameEnd(msg);
  const qtype = u16(msg, qnameEnd);
  return qnameEnd > 0 && qnameEnd + 4 <= msg.length && (qtype === TYPE.AXFR || qtype === TYPE.IXFR);
}

/** The request, or undefined when its question (or an IXFR's SOA) cannot be read. */
function parseRequest(msg: Buffer): TransferRequest | undefined {
  const name = readCanonicalName(msg, HEADER_SIZE);
  if (name === undefined || name.end + 4 > msg.length) return undefined;
  const type = u16(msg, name.end) === TYPE.IXFR ? 'IXFR' : 'AXFR';
  let serial: number | undefined;
  if (type === 'IXFR') {
    // RFC 1995 3: the secondary's SOA is the first RR of the authority section.
    if (u16(msg, 6) !== 0 || u16(msg, 8) < 1) return undefined;
    serial = soaSerialAt(msg, name.end + 4);
    if (serial === undefined) return undefined;
  }
  return {
    id: u16(msg, 0),
    type,
    question: msg.subarray(HEADER_SIZE, name.end + 4),
    name: name.text,
    serial,
  };
}

/** The one-message answer with the zone's SOA alone (RFC 1995 2: the secondary is current). */
function soaOnly(zone: Zone, request: TransferRequest): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + request.question.length + zone.soaAnswer.length);
  out.writeUInt16BE(request.id, 0);
  out[2] = 0x84; // QR, AA
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 6);
  out.set(request.question, HEADER_SIZE);
  // Its owner is a pointer to the question's name, which is the apex.
  zone.soaAnswer.copy(out, HEADER_SIZE + request.question.length);
  return out;
}

/**
 * The zone's differences from `serial` to the current serial, in order, or undefined when they
 * are not kept (too old, or a change without a difference came between).
 */
export type Journal = (serial: number) => readonly ZoneDiff[] | undefined;

/** A request admitted: what to answer it with, and how to sign. */
interface Admitted {
  readonly request: TransferRequest;
  readonly zone: Zone;
  /** The name of the key it was signed with, if any. */
  readonly key: string | undefined;
  readonly sign: (m: Buffer) => Buffer;
  /** The verified key and the request's MAC, when it was signed. */
  readonly tsig: { readonly key: TsigKey; readonly mac: Buffer } | undefined;
  /** A header-only answer with the question and `rcode`, unsigned. */
  readonly answer: (rcode: number) => Buffer;
}

/** What the transfer service is given (none of it changes on a reload). */
export interface TransferDeps {
  readonly logger: Logger;
  /** Milliseconds since the epoch, for TSIG times; default `Date.now`. */
  readonly now?: () => number;
  /** Every request's outcome, for metrics. */
  readonly onTransfer?: (event: TransferEvent) => void;
  /** The differences since a serial (IXFR); without it an IXFR gets the whole zone. */
  readonly journal?: Journal;
  /** The transfer worker; without it (or while it is not running) messages are made here. */
  readonly offload?: TransferOffload;
}

/** Serves zone transfers (see the module comment). */
export class ZoneTransfers {
  #settings: TransferSettings;
  readonly #logger: Logger;
  /** Milliseconds since the epoch (TSIG times are in seconds of it). */
  readonly #now: () => number;
  readonly #onTransfer: ((event: TransferEvent) => void) | undefined;
  readonly #journal: Journal | undefined;
  readonly #offload: TransferOffload | undefined;
  #running = 0;

  constructor(settings: TransferSettings, deps: TransferDeps) {
    this.#settings = settings;
    this.#logger = deps.logger;
    this.#now = deps.now ?? Date.now;
    this.#onTransfer = deps.onTransfer;
    this.#journal = deps.journal;
    this.#offload = deps.offload;
  }

  update(settings: TransferSettings): void {
    this.#settings = settings;
  }

  /** Transfers running now. */
  get running(): number {
    return this.#running;
  }

  /** Reports how a request ended (metrics hook and one log line). */
  #end(
    started: number,
    type: 'AXFR' | 'IXFR',
    client: string,
    key: string | undefined,
    result: TransferResult,
    reason?: string,
    serial = 0,
    messages = 0,
    bytes = 0,
  ): void {
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
      const ms = event.durationMs;
      this.#logger.info('zone transferred', { type, client, serial, messages, bytes, ms });
    } else if (result === 'notauth') {
      this.#logger.warn('zone transfer refused: TSIG', { type, client, reason });
    } else {
      this.#logger.debug('zone transfer not served', { type, client, result, reason });
    }
  }

  /**
   * The checks every request passes (the question, `allow`, TSIG, a zone, its name): the request
   * admitted, or the answer that refuses it (already reported).
   */
  #admit(msg: Buffer, client: string, zone: Zone | undefined, started: number): Admitted | Buffer {
    const settings = this.#settings;
    const request = parseRequest(msg);
    const type = request?.type ?? (u16(msg, 6) === 0 && u16(msg, 8) === 0 ? 'AXFR' : 'IXFR');
    const questionEnd = request === undefined ? 0 : HEADER_SIZE + request.question.length;
    const answer = (rcode: number): Buffer =>
      errorResponse(msg, rcode, questionEnd, undefined, false);
    let key: string | undefined;
    const refuse = (result: TransferResult, reason: string, reply: Buffer): Buffer => {
      this.#end(started, type, client, key, result, reason);
      return reply;
    };
    if (request === undefined) return refuse('formerr', 'bad question', answer(RCODE.FORMERR));
    if (!settings.allow.allows(client)) {
      return refuse('refused', 'client not in transfer.allow', answer(RCODE.REFUSED));
    }
    // TSIG: verified before anything about the zone is said.
    const tsig = readTsig(msg);
    if (tsig === 'malformed') return refuse('formerr', 'malformed TSIG', answer(RCODE.FORMERR));
    let signer: TsigSigner | undefined;
    let signed: Admitted['tsig'];
    const nowSeconds = (): number => this.#now() / 1000;
    if (tsig !== undefined) {
      key = tsig.keyName;
      const verified = verifyTsig(msg, tsig, settings.keys, nowSeconds());
      if (!verified.ok) {
        return refuse(
          verified.rcode === RCODE.FORMERR ? 'formerr' : 'notauth',
          verified.reason,
          tsigRefusal(answer(verified.rcode), tsig, verified, nowSeconds),
        );
      }
      signer = new TsigSigner(verified.key, nowSeconds, tsig.mac);
      signed = { key: verified.key, mac: tsig.mac };
    } else if (settings.keys.size > 0) {
      return refuse('refused', 'unsigned (transfer.tsig.keys are set)', answer(RCODE.REFUSED));
    }
    const sign = (m: Buffer): Buffer => (signer === undefined ? m : signer.sign(m));
    if (zone === undefined) {
      return refuse('unavailable', 'no zone loaded yet', sign(answer(RCODE.SERVFAIL)));
    }
    if (request.name !== zone.records.zone) {
      const reason = `not the zone ${zone.records.zone}: ${request.name}`;
      return refuse('notauth', reason, sign(answer(RCODE_NOTAUTH)));
    }
    return { request, zone, key, sign, tsig: signed, answer };
  }

  /**
   * The answer to a signed query (a secondary's SOA query before a transfer, RFC 8945 5.3):
   * `answer` signed with the query's key when its TSIG verifies, else the NOTAUTH (or FORMERR)
   * that says why, with the TSIG error. Without keys every signed query gets BADKEY.
   * `questionEnd` is where the query's question ends (the error answers echo it).
   */
  signAnswer(msg: Buffer, questionEnd: number, answer: Buffer): Buffer {
    const tsig = readTsig(msg);
    const error = (rcode: number): Buffer =>
      errorResponse(msg, rcode, questionEnd, undefined, false);
    if (tsig === undefined) return answer;
    if (tsig === 'malformed') return error(RCODE.FORMERR);
    const nowSeconds = (): number => this.#now() / 1000;
    const verified = verifyTsig(msg, tsig, this.#settings.keys, nowSeconds());
    if (verified.ok) return new TsigSigner(verified.key, nowSeconds, tsig.mac).sign(answer);
    this.#logger.debug('signed query refused: TSIG', { reason: verified.reason });
    return tsigRefusal(error(verified.rcode), tsig, verified, nowSeconds);
  }

  /**
   * An IXFR over UDP (RFC 1995 2): the current SOA alone, which tells a current secondary that
   * it is, and any other to ask again over TCP. Undefined for anything but an IXFR.
   */
  answerUdp(msg: Buffer, client: string, zone: Zone | undefined): Buffer | undefined {
    if (!isTransferRequest(msg) || u16(msg, 8) === 0) return undefined;
    const started = this.#now();
    const admitted = this.#admit(msg, client, zone, started);
    if (Buffer.isBuffer(admitted)) return admitted;
    const { request, sign } = admitted;
    const reply = sign(soaOnly(admitted.zone, request));
    this.#end(
      started,
      'IXFR',
      client,
      admitted.key,
      'ok',
      undefined,
      admitted.zone.serial,
      1,
      reply.length,
    );
    return reply;
  }

  /**
   * Answers the transfer request `msg` from `client` with `zone`, writing every message to
   * `send`. Resolves when the last message was written or the transfer was refused or aborted:
   * false when the connection must be closed (the transfer worker stopped mid-transfer, the
   * secondary has part of the zone), else true. Never rejects.
   */
  async serve(
    msg: Buffer,
    client: string,
    zone: Zone | undefined,
    send: TransferSink,
  ): Promise<boolean> {
    const started = this.#now();
    const admitted = this.#admit(msg, client, zone, started);
    if (Buffer.isBuffer(admitted)) {
      await send(admitted);
      return true;
    }
    const { request, sign, key } = admitted;
    const current = admitted.zone;
    const end = (result: TransferResult, reason?: string, messages = 0, bytes = 0): void => {
      this.#end(
        started,
        request.type,
        client,
        key,
        result,
        reason,
        current.serial,
        messages,
        bytes,
      );
    };
    // A secondary that is current gets the SOA alone (RFC 1995 2).
    if (
      request.serial !== undefined &&
      (request.serial === current.serial || isSerialAfter(request.serial, current.serial))
    ) {
      const reply = sign(soaOnly(current, request));
      const sent = await send(reply);
      end(sent ? 'ok' : 'aborted', sent ? undefined : 'the connection closed', 1, reply.length);
      return true;
    }
    if (this.#running >= this.#settings.maxConcurrent) {
      const limit = this.#settings.maxConcurrent;
      end('busy', `${String(limit)} transfers running (transfer.maxConcurrent)`);
      await send(sign(admitted.answer(RCODE.REFUSED)));
      return true;
    }
    this.#running++;
    let messages = 0;
    let bytes = 0;
    // IXFR from the journal when it reaches back to the secondary's serial, else the whole zone
    // (RFC 1995 4: an IXFR may be answered in AXFR form).
    const q = { id: request.id, question: request.question };
    const diffs = request.serial === undefined ? undefined : this.#journal?.(request.serial);
    const incremental =
      diffs !== undefined && diffs.length > 0 && diffs.at(-1)?.serialTo === current.serial;
    try {
      const offload = this.#offload;
      if (offload?.available === true) {
        const tsig = admitted.tsig;
        const outcome = await offload.run(
          {
            serial: current.serial,
            incremental:
              incremental && request.serial !== undefined
                ? { from: request.serial, diffs: diffs.length }
                : undefined,
            queryId: request.id,
            // Copies of exactly their bytes: a view would post its whole buffer.
            question: new Uint8Array(request.question),
            tsig:
              tsig === undefined
                ? undefined
                : {
                    name: tsig.key.name,
                    algorithm: tsig.key.algorithm,
                    secret: new Uint8Array(tsig.key.secret),
                    requestMac: new Uint8Array(tsig.mac),
                    clockOffsetMs: this.#now() - Date.now(),
                  },
          },
          send,
        );
        if (outcome.kind === 'sent') {
          end(outcome.ok ? 'ok' : 'aborted', outcome.reason, outcome.messages, outcome.bytes);
          return outcome.ok || outcome.reason === 'the connection closed';
        }
      }
      for (const message of incremental
        ? ixfrMessages(current, diffs, q)
        : axfrMessages(current, q)) {
        const signed = sign(message);
        if (!(await send(signed))) {
          end('aborted', 'the connection closed', messages, bytes);
          return true;
        }
        messages++;
        bytes += signed.length;
        // Queries run between two messages.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      end('ok', undefined, messages, bytes);
      return true;
    } finally {
      this.#running--;
    }
  }
}
