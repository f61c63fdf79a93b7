/**
 * NOTIFY (dns/notify.ts) against a fake secondary on a loopback UDP socket, with fake timers:
 * the message (decoded by dns-packet), coalescing while unanswered, retries with a growing
 * interval, TSIG on both ways, a refusal, and the acknowledgement of a NOTIFY a peer sends.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import test from 'ava';
import type { NotifyEvent, NotifySettings } from '../../src/dns/notify.js';
import { Notifier, notifyAnswer, notifyMessage } from '../../src/dns/notify.js';
import { TsigSigner, keyring, readTsig, verifyTsig } from '../../src/dns/tsig.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import type { Zone } from '../../src/dns/index.js';
import { silentLogger } from '../../src/log.js';
import { decodeMessage, soaData } from '../../support/dns-message.js';
import { zoneFromText } from '../../support/records-text.js';

const KEY: TsigKey = { name: 'xfr.', algorithm: 'hmac-sha256', secret: Buffer.from('notify') };

/** Timers that fire only when the test says. */
class ManualTimers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;
  readonly setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return id;
  };
  readonly clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };
  readonly now = (): number => Date.now() / 1000;
  /** Fires every pending timer; returns their delays. */
  fire(): number[] {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
    return due.map((t) => t.ms);
  }
}

/** A fake secondary: collects NOTIFYs and answers each with `answer` (undefined: silence). */
async function secondary(answer: (msg: Buffer) => Buffer | readonly Buffer[] | undefined): Promise<{
  socket: Socket;
  port: number;
  received: Buffer[];
  /** The port the notifier sends from. */
  from: () => number;
  next: () => Promise<Buffer>;
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const received: Buffer[] = [];
  const waiters: ((m: Buffer) => void)[] = [];
  let from = 0;
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    from = rinfo.port;
    waiters.shift()?.(msg);
    const reply = answer(msg);
    for (const r of reply === undefined ? [] : Buffer.isBuffer(reply) ? [reply] : reply) {
      socket.send(r, rinfo.port, rinfo.address);
    }
  });
  const next = (): Promise<Buffer> => new Promise((resolve) => waiters.push(resolve));
  return { socket, port: socket.address().port, received, from: () => from, next };
}

/** The answer to a NOTIFY with `rcode`: header and question. */
function ack(msg: Buffer, rcode = 0): Buffer {
  const out = notifyAnswer(msg);
  if (out === undefined) throw new Error('not a NOTIFY');
  out[3] = rcode;
  return out;
}

function zone(serial: number): Zone {
  return zoneFromText('web.marathon.mesos. A 10.0.0.1', { serial });
}

function notifierFor(
  port: number,
  key?: TsigKey,
): {
  notifier: Notifier;
  timers: ManualTimers;
  events: NotifyEvent[];
} {
  const timers = new ManualTimers();
  const events: NotifyEvent[] = [];
  const settings: NotifySettings = { targets: [{ host: '127.0.0.1', port }], key };
  const notifier = new Notifier(settings, silentLogger, (e) => events.push(e), timers);
  return { notifier, timers, events };
}

/** Resolves once `events` has `n` entries (answers arrive on the event loop). */
async function eventsReach(events: readonly NotifyEvent[], n: number): Promise<void> {
  for (let i = 0; i < 1000 && events.length < n; i++) await new Promise((r) => setTimeout(r, 2));
  if (events.length < n) throw new Error(`only ${String(events.length)} events`);
}

test('a NOTIFY carries the apex SOA question and the SOA with the serial', (t) => {
  const m = decodeMessage(notifyMessage(zone(77), 4321));
  t.is(m.id, 4321);
  t.true(m.aa);
  t.like(m.questions[0], { name: 'mesos', type: 'SOA' });
  t.is(soaData(m.answers[0] ?? { name: '', type: '', ttl: 0, data: {} }).serial, 77);
});

test('serials that come while one is unanswered are coalesced into the newest', async (t) => {
  const peer = await secondary(() => undefined);
  t.teardown(() => peer.socket.close());
  const { notifier, events } = notifierFor(peer.port);
  t.teardown(() => {
    notifier.close();
  });
  const first = peer.next();
  notifier.serialChanged(zone(1));
  notifier.serialChanged(zone(2));
  notifier.serialChanged(zone(3));
  const sent = await first;
  t.is(notifier.pending, 1);
  // The secondary acknowledges the first: the newest waiting serial goes next, once.
  const second = peer.next();
  peer.socket.send(ack(sent), peer.from(), '127.0.0.1');
  const then = await second;
  t.is(
    soaData(decodeMessage(then).answers[0] ?? { name: '', type: '', ttl: 0, data: {} }).serial,
    3,
  );
  await eventsReach(events, 1);
  t.deepEqual(
    events.map((e) => [e.serial, e.result]),
    [[1, 'acked']],
  );
  t.is(peer.received.length, 2);
});

test('an unanswered NOTIFY is sent again with a growing interval, until answered', async (t) => {
  const answers: (number | undefined)[] = [undefined, undefined, 0];
  const peer = await secondary((msg) => {
    const rcode = answers.shift();
    return rcode === undefined ? undefined : ack(msg, rcode);
  });
  t.teardown(() => peer.socket.close());
  const { notifier, timers, events } = notifierFor(peer.port);
  t.teardown(() => {
    notifier.close();
  });
  let got = peer.next();
  notifier.serialChanged(zone(5));
  await got;
  const delays: number[] = [];
  for (let i = 0; i < 2; i++) {
    got = peer.next();
    delays.push(...timers.fire());
    await got;
  }
  await eventsReach(events, 3);
  t.deepEqual(delays, [1000, 2000]);
  t.deepEqual(
    events.map((e) => [e.result, e.attempt]),
    [
      ['timeout', 1],
      ['timeout', 2],
      ['acked', 3],
    ],
  );
  t.is(notifier.pending, 0);
  t.is(timers.pending.size, 0);
});

test('with a key, NOTIFY is signed and only a signed answer counts; a refusal is retried', async (t) => {
  let refuse = true;
  const peer = await secondary((msg) => {
    const tsig = readTsig(msg);
    if (tsig === undefined || tsig === 'malformed') return undefined;
    const verified = verifyTsig(msg, tsig, keyring([KEY]), Date.now() / 1000);
    if (!verified.ok) return undefined;
    const signed = new TsigSigner(KEY, () => Date.now() / 1000, tsig.mac);
    // First an unsigned NOERROR, then the secondary's signed answer (loopback keeps the order).
    return refuse ? [ack(msg), signed.sign(ack(msg, 5))] : signed.sign(ack(msg));
  });
  t.teardown(() => peer.socket.close());
  const { notifier, timers, events } = notifierFor(peer.port, KEY);
  t.teardown(() => {
    notifier.close();
  });
  let got = peer.next();
  notifier.serialChanged(zone(9));
  await got;
  // The unsigned NOERROR came first, and did not count.
  await eventsReach(events, 1);
  t.deepEqual(
    events.map((e) => e.result),
    ['refused'],
  );
  t.is(notifier.pending, 1);
  refuse = false;
  got = peer.next();
  timers.fire();
  await got;
  await eventsReach(events, 2);
  t.deepEqual(
    events.map((e) => [e.result, e.attempt]),
    [
      ['refused', 1],
      ['acked', 2],
    ],
  );
  t.is(notifier.pending, 0);
});

test('a NOTIFY from a peer is acknowledged with its question; other opcodes are not', (t) => {
  const notify = notifyMessage(zone(1), 99);
  const answer = notifyAnswer(notify);
  t.truthy(answer);
  const m = decodeMessage(answer ?? Buffer.alloc(0));
  t.is(m.id, 99);
  t.true(m.qr);
  t.is(m.rcode, 'NOERROR');
  t.like(m.questions[0], { name: 'mesos', type: 'SOA' });
  const update = Buffer.from(notify);
  update[2] = 5 << 3; // UPDATE
  t.is(notifyAnswer(update), undefined);
  t.is(notifyAnswer(notify.subarray(0, 14)), undefined);
});
