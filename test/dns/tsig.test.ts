/**
 * TSIG (dns/tsig.ts) against knot's kdig, an independent implementation: kdig's signed requests
 * verify (and fail with a wrong secret, an unknown key, a stale time), kdig accepts the answers
 * mesodns signs, single and multi-message (an AXFR over TCP), and refuses a tampered one.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import test from 'ava';
import {
  RCODE_NOTAUTH,
  TSIG_ERROR,
  TsigSigner,
  TsigVerifier,
  keyring,
  readTsig,
  unsignedTsigError,
  verifyTsig,
} from '../../src/dns/tsig.js';
import type { TsigKey, TsigRecord } from '../../src/dns/tsig.js';
import { encodeName } from '../../src/dns/wire.js';
import { kdig } from '../../support/dig.js';
import type { KdigResult } from '../../support/dig.js';

const SECRET = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0';
const KEY: TsigKey = {
  name: 'xfr-key.',
  algorithm: 'hmac-sha256',
  secret: Buffer.from(SECRET, 'base64'),
};
const KEYS = keyring([KEY]);
const now = (): number => Date.now() / 1000;

/** One UDP request from kdig, answered by `answer` (undefined: no answer). */
async function exchange(
  keyArg: string,
  answer: (request: Buffer) => Buffer | undefined,
  name = 'mesos.',
): Promise<{ request: Buffer; kdig: KdigResult }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  let request: Buffer | undefined;
  socket.on('message', (msg, rinfo) => {
    request = msg;
    const reply = answer(msg);
    if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
  });
  const result = await kdig(['-y', keyArg, '@127.0.0.1', '-p', String(port), name, 'SOA'], 2);
  socket.close();
  if (request === undefined) throw new Error(`kdig sent nothing: ${result.output}`);
  return { request, kdig: result };
}

/** A NOERROR answer header + question of `request`, without its additional section. */
function answerTo(request: Buffer, rcode = 0): Buffer {
  let off = 12;
  while ((request[off] ?? 0) !== 0) off += (request[off] ?? 0) + 1;
  const out = Buffer.from(request.subarray(0, off + 5));
  out[2] = 0x84 | ((request[2] ?? 0) & 0x01); // QR, AA
  out[3] = rcode;
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

function tsigOf(msg: Buffer): TsigRecord {
  const tsig = readTsig(msg);
  if (tsig === undefined || tsig === 'malformed') throw new Error(`no TSIG: ${String(tsig)}`);
  return tsig;
}

test('a request kdig signs verifies, and its answer signed here verifies in kdig', async (t) => {
  const { request, kdig: out } = await exchange(`hmac-sha256:xfr-key:${SECRET}`, (req) => {
    const verified = verifyTsig(req, tsigOf(req), KEYS, now());
    if (!verified.ok) return undefined;
    return new TsigSigner(verified.key, now, verified.tsig.mac).sign(answerTo(req));
  });
  const tsig = tsigOf(request);
  t.is(tsig.keyName, 'xfr-key.');
  t.is(tsig.algorithmName, 'hmac-sha256.');
  t.true(verifyTsig(request, tsig, KEYS, now()).ok);
  t.is(out.code, 0, out.output);
  t.regex(out.output, /status: NOERROR/);
  t.notRegex(out.output, /WARNING|;; ERROR/, out.output);
});

test('kdig refuses an answer whose signature does not match', async (t) => {
  const { kdig: out } = await exchange(`hmac-sha256:xfr-key:${SECRET}`, (req) => {
    const verified = verifyTsig(req, tsigOf(req), KEYS, now());
    if (!verified.ok) return undefined;
    const signed = new TsigSigner(verified.key, now, verified.tsig.mac).sign(answerTo(req));
    signed[3] = 3; // NXDOMAIN after signing
    return signed;
  });
  t.regex(out.output, /WARNING: reply verification .*failed to verify TSIG/, out.output);
});

test('a wrong secret, an unknown key, an old time and tampering fail with their TSIG errors', async (t) => {
  const { request } = await exchange(`hmac-sha256:xfr-key:${SECRET}`, (req) => answerTo(req));
  const tsig = tsigOf(request);
  const wrong = keyring([{ ...KEY, secret: Buffer.from('d3Jvbmc=', 'base64') }]);
  const badsig = verifyTsig(request, tsig, wrong, now());
  t.false(badsig.ok);
  if (!badsig.ok) t.deepEqual([badsig.rcode, badsig.error], [RCODE_NOTAUTH, TSIG_ERROR.BADSIG]);

  const unknown = verifyTsig(request, tsig, keyring([{ ...KEY, name: 'other.' }]), now());
  t.false(unknown.ok);
  if (!unknown.ok) t.is(unknown.error, TSIG_ERROR.BADKEY);

  const sha512 = verifyTsig(request, tsig, keyring([{ ...KEY, algorithm: 'hmac-sha512' }]), now());
  t.false(sha512.ok);
  if (!sha512.ok) t.is(sha512.error, TSIG_ERROR.BADKEY);

  const late = verifyTsig(request, tsig, KEYS, tsig.timeSigned + tsig.fudge + 1);
  t.false(late.ok);
  if (!late.ok) t.is(late.error, TSIG_ERROR.BADTIME);
  t.true(verifyTsig(request, tsig, KEYS, tsig.timeSigned + tsig.fudge).ok);

  const tampered = Buffer.from(request);
  tampered[13] = (tampered[13] ?? 0) ^ 0x20; // the case of one QNAME byte
  const changed = verifyTsig(tampered, tsigOf(tampered), KEYS, now());
  t.false(changed.ok);
  if (!changed.ok) t.is(changed.error, TSIG_ERROR.BADSIG);
});

/** A query for `mesos. SOA`. */
const query = (): Buffer =>
  Buffer.concat([
    Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    encodeName('mesos.'),
    Buffer.from([0, 6, 0, 1]),
  ]);

test('a TSIG that is not the last RR, or with trailing bytes, is malformed', (t) => {
  const signed = new TsigSigner(KEY, now).sign(query());
  t.true(verifyTsig(signed, tsigOf(signed), KEYS, now()).ok);
  t.is(readTsig(Buffer.concat([signed, Buffer.from([0])])), 'malformed');
  // A second RR after the TSIG.
  const opt = Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
  const after = Buffer.concat([signed, opt]);
  after.writeUInt16BE(2, 10);
  t.is(readTsig(after), 'malformed');
  t.is(readTsig(query()), undefined);
});

test('every message of a signed multi-message answer verifies in turn, and a swap fails', (t) => {
  const request = new TsigSigner(KEY, now).sign(query());
  const requestMac = tsigOf(request).mac;
  const answer = new TsigSigner(KEY, now, requestMac);
  const messages = [1, 2, 3].map((i) => {
    const m = answerTo(query());
    m[1] = i; // differs per message
    return answer.sign(m);
  });
  const verifier = new TsigVerifier(KEYS, now, requestMac);
  for (const m of messages) t.true((verifier.verify(m) as { ok: boolean }).ok);
  const swapped = new TsigVerifier(KEYS, now, requestMac);
  t.true((swapped.verify(messages[0] ?? Buffer.alloc(0)) as { ok: boolean }).ok);
  t.false((swapped.verify(messages[2] ?? Buffer.alloc(0)) as { ok: boolean }).ok);
});

test('an unsigned BADKEY answer echoes the request key and has no MAC', async (t) => {
  const { request } = await exchange(`hmac-sha256:xfr-key:${SECRET}`, (req) => answerTo(req));
  const tsig = tsigOf(request);
  const reply = unsignedTsigError(answerTo(request, RCODE_NOTAUTH), tsig, TSIG_ERROR.BADKEY, now());
  const echoed = tsigOf(reply);
  t.is(echoed.keyName, 'xfr-key.');
  t.is(echoed.mac.length, 0);
  t.is(echoed.error, TSIG_ERROR.BADKEY);
});

/** kdig AXFR over TCP from a server that answers in `count` messages, each signed here. */
async function signedTransfer(count: number, tamper: number | undefined): Promise<KdigResult> {
  const soa = Buffer.concat([
    Buffer.from([0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0, 60]),
    (() => {
      const rdata = Buffer.concat([
        encodeName('ns1.mesos.'),
        encodeName('root.ns1.mesos.'),
        Buffer.alloc(20),
      ]);
      rdata.writeUInt32BE(7, rdata.length - 20);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(rdata.length);
      return Buffer.concat([len, rdata]);
    })(),
  ]);
  const a = (i: number): Buffer =>
    Buffer.concat([
      encodeName(`h${String(i)}.mesos.`),
      Buffer.from([0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, i]),
    ]);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // kdig closes as soon as it has the last SOA
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const req = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      const verified = verifyTsig(req, tsigOf(req), KEYS, now());
      if (!verified.ok) {
        socket.end();
        return;
      }
      const signer = new TsigSigner(verified.key, now, verified.tsig.mac);
      for (let i = 0; i < count; i++) {
        const head = answerTo(req);
        const rrs = [...(i === 0 ? [soa] : []), a(i + 1), ...(i === count - 1 ? [soa] : [])];
        head.writeUInt16BE(rrs.length, 6);
        const signed = signer.sign(Buffer.concat([head, ...rrs]));
        if (i === tamper)
          signed.writeUInt8((signed.readUInt8(signed.length - 40) ^ 1) & 255, signed.length - 40);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(signed.length);
        socket.write(Buffer.concat([len, signed]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const out = await kdig(
    ['-y', `hmac-sha256:xfr-key:${SECRET}`, '@127.0.0.1', '-p', String(port), 'mesos.', 'AXFR'],
    2,
  );
  for (const s of sockets) s.destroy();
  server.close();
  return out;
}

test('kdig verifies a three-message AXFR signed here, and refuses it when one message is altered', async (t) => {
  const good = await signedTransfer(3, undefined);
  t.is(good.code, 0, good.output);
  t.notRegex(good.output, /WARNING|;; ERROR/, good.output);
  for (const i of [1, 2, 3]) t.regex(good.output, new RegExp(`h${String(i)}\\.mesos\\.`));
  const bad = await signedTransfer(3, 1);
  t.regex(bad.output, /failed to verify TSIG|;; ERROR/, bad.output);
});
