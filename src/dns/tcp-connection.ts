/**
 * One DNS connection over TCP (RFC 7766): 2-byte length framing, several and pipelined queries,
 * answers written as they are ready; an idle timer restarted by whole queries only (and answers),
 * so that a client dripping bytes cannot hold the connection; a query begun must be whole within
 * `ioTimeoutMs`; a client that stops reading is cut off once `MAX_TCP_BACKLOG` is queued. A zone
 * transfer request is handed to `transfer`, which writes its messages one at a time as the socket
 * takes them; answers to later queries on the connection wait for its end.
 */
import type net from 'node:net';
import type { TcpLimits } from '../config/index.js';
import type { TransferSink } from './transfer.js';
import { isTransferRequest } from './transfer.js';

/**
 * Why a TCP connection was closed by a limit: `connections` (`maxConnections` open), `client`
 * (that client had `maxConnectionsPerClient` open), `idle` (no whole query for `idleTimeoutMs`),
 * `partial` (a query begun but not whole within `ioTimeoutMs`).
 */
export type TcpRefusal = 'connections' | 'client' | 'idle' | 'partial';

/** A TCP client that stops reading is cut off once this much output is queued. */
const MAX_TCP_BACKLOG = 1 << 20;

/** What a connection needs from the server. */
export interface TcpConnectionContext {
  readonly limits: TcpLimits;
  /** Counts the refusal and destroys the socket. */
  readonly refuse: (reason: TcpRefusal) => void;
  /** Answers one message (a Promise when forwarded; undefined: nothing to send). */
  readonly handle: (msg: Buffer) => Buffer | Promise<Buffer | undefined> | undefined;
  /**
   * Serves a zone transfer request, resolving false when the connection must be closed (a
   * transfer cut short); undefined: such requests are handled like any query.
   */
  readonly transfer: ((msg: Buffer, send: TransferSink) => Promise<boolean>) | undefined;
  /** The socket closed. */
  readonly onClose: () => void;
}

/** Serves DNS on an accepted TCP connection (see the module comment). */
export function serveTcpConnection(socket: net.Socket, ctx: TcpConnectionContext): void {
  // The idle timer restarts on whole queries only (and on answers), never on bytes: a client
  // dripping a byte at a time cannot hold the connection (RFC 7766 6.2.3).
  let answering = 0;
  let idle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      if (answering > 0) arm();
      else ctx.refuse('idle');
    }, ctx.limits.idleTimeoutMs);
  };
  arm();
  // Started by the first bytes of a query, stopped when it is whole.
  let partial: NodeJS.Timeout | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  const frameOf = (reply: Buffer): Buffer => {
    const frame = Buffer.allocUnsafe(reply.length + 2);
    frame.writeUInt16BE(reply.length, 0);
    reply.copy(frame, 2);
    return frame;
  };
  // While a zone transfer runs, later answers on the connection wait for its end.
  let transferring: Promise<void> | undefined;
  const write = (reply: Buffer | undefined): void => {
    if (reply === undefined || socket.destroyed) return;
    if (transferring !== undefined) {
      void transferring.then(() => {
        write(reply);
      });
      return;
    }
    arm();
    if (socket.writableLength > MAX_TCP_BACKLOG) {
      socket.destroy();
      return;
    }
    socket.write(frameOf(reply));
  };
  /**
   * A transfer's messages: each written when the socket took the last (a slow reader waits).
   * `framed`: whole messages with their lengths (the transfer worker's chunks), written as they are.
   */
  const send = (reply: Buffer, framed = false, written?: () => void): Promise<boolean> => {
    if (socket.destroyed) return Promise.resolve(false);
    arm();
    let flowing: boolean;
    if (framed) {
      flowing = socket.write(
        reply,
        written === undefined
          ? undefined
          : () => {
              written();
            },
      );
    } else {
      // The length and the message as two writes sent as one: no copy of the 16 KiB message.
      const length = Buffer.allocUnsafe(2);
      length.writeUInt16BE(reply.length, 0);
      socket.cork();
      socket.write(length);
      flowing = socket.write(reply);
      socket.uncork();
    }
    if (flowing) return Promise.resolve(true);
    // A reader that takes nothing for `idleTimeoutMs` is cut off: it holds a transfer slot.
    return new Promise((resolve) => {
      const stalled = setTimeout(() => {
        ctx.refuse('idle');
      }, ctx.limits.idleTimeoutMs);
      const done = (): void => {
        clearTimeout(stalled);
        socket.off('drain', done);
        socket.off('close', done);
        resolve(!socket.destroyed);
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  };
  const transfer = (msg: Buffer, serve: NonNullable<TcpConnectionContext['transfer']>): void => {
    answering++;
    const previous = transferring ?? Promise.resolve();
    const running = previous
      .then(async () => {
        if (!(await serve(msg, send))) socket.destroy();
      })
      .finally(() => {
        answering--;
        if (transferring === running) transferring = undefined;
      });
    transferring = running;
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let off = 0;
    while (buffered.length - off >= 2) {
      const len = buffered.readUInt16BE(off);
      if (buffered.length - off - 2 < len) break;
      const msg = buffered.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      arm();
      if (ctx.transfer !== undefined && isTransferRequest(msg)) {
        transfer(Buffer.from(msg), ctx.transfer);
        continue;
      }
      const result = ctx.handle(Buffer.from(msg));
      if (result === undefined) continue;
      if (result instanceof Promise) {
        answering++;
        void result.then((reply) => {
          answering--;
          write(reply);
        });
      } else {
        write(result);
      }
    }
    buffered = off === 0 ? buffered : buffered.subarray(off);
    if (buffered.length === 0) {
      clearTimeout(partial);
      partial = undefined;
    } else if (off > 0 || partial === undefined) {
      clearTimeout(partial);
      partial = setTimeout(() => {
        ctx.refuse('partial');
      }, ctx.limits.ioTimeoutMs);
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    clearTimeout(idle);
    clearTimeout(partial);
    ctx.onClose();
  });
}
