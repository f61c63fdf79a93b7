/**
 * Transfers made in the transfer worker (dns/transfer-offload.ts, transfer-worker.ts): the bytes
 * on the wire are those of the main thread's own path (AXFR, IXFR, after changesets, for a
 * worker that followed the store and one that started late), every message is signed, a reader
 * that goes away stops the job, a worker whose zone is not the one answered declines, and a
 * worker that cannot start leaves transfers on the main thread.
 */
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { Acl } from '../../src/dns/acl.js';
import type { Changeset, Zone } from '../../src/dns/index.js';
import { ZoneTransfers } from '../../src/dns/transfer.js';
import type { TransferEvent, TransferSettings } from '../../src/dns/transfer.js';
import {
  TransferOffload,
  restartDelay,
  startTransferWorker,
} from '../../src/dns/transfer-offload.js';
import type { TransferSink } from '../../src/dns/transfer-offload.js';
import { WINDOW } from '../../src/dns/transfer-producer.js';
import { TsigSigner, TsigVerifier, keyring } from '../../src/dns/tsig.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { silentLogger } from '../../src/log.js';
import { CompactRecordSet, toRecordData } from '../../src/records/index.js';
import { ZoneStore } from '../../src/store.js';
import { encodeQuery } from '../../support/dns-message.js';
import { waitFor } from '../../support/mesodns.js';
import { recordsFromText, zoneFromText } from '../../support/records-text.js';

const KEY: TsigKey = { name: 'k.', algorithm: 'hmac-sha256', secret: Buffer.from('secret') };

/**
 * 37,000 A, AAAA and SRV records: about 80 messages (1.3 MB), more chunks than a job may have
 * unwritten (`WINDOW` of `CHUNK_SIZE`).
 */
function bigZoneText(tag = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < 16_000; i++) {
    const app = `app${String(i % 2900)}.fw${String(i % 13)}.mesos.`;
    lines.push(`${app} A 10.${String(tag)}.${String(i >> 8)}.${String(i & 255)}`);
    if (i % 3 === 0) lines.push(`${app} AAAA fd00::${(i + tag).toString(16)}`);
    lines.push(`_${app.replace(/\.mesos\.$/, '')}._tcp.mesos. SRV ${String(31000 + i)} ${app}`);
  }
  return lines.join('\n');
}

/** A store with `zone` installed, its changes told to `offload`. */
function storeWith(zone: Zone, offload?: TransferOffload): ZoneStore {
  const store = new ZoneStore();
  if (offload !== undefined) {
    store.onChange = (change) => {
      if (change.type === 'install') offload.installed(change.zone, change.diff);
      else offload.applied(change.changeset);
    };
  }
  store.install({
    records: new CompactRecordSet(zone.records),
    zone,
    loadedAt: 0,
    changed: true,
  });
  return store;
}

function offloadFor(store: () => ZoneStore | undefined): TransferOffload {
  return new TransferOffload({
    logger: silentLogger,
    source: { zone: () => store()?.zone(), journal: () => store()?.journal },
  });
}

function service(
  store: ZoneStore,
  offload?: TransferOffload,
  settings: Partial<TransferSettings> = {},
): { transfers: ZoneTransfers; events: TransferEvent[] } {
  const events: TransferEvent[] = [];
  const transfers = new ZoneTransfers(
    { allow: new Acl(['127.0.0.0/8']), keys: keyring([]), maxConcurrent: 2, ...settings },
    {
      logger: silentLogger,
      onTransfer: (e) => events.push(e),
      journal: (serial) => store.journal?.since(serial),
      ...(offload === undefined ? {} : { offload }),
    },
  );
  return { transfers, events };
}

/** The bytes a transfer puts on the connection (lengths and messages), and how many writes. */
async function wire(
  transfers: ZoneTransfers,
  request: Buffer,
  zone: Zone | undefined,
): Promise<{ bytes: Buffer; writes: number; framed: number }> {
  const parts: Buffer[] = [];
  let framed = 0;
  const send: TransferSink = (data, isFramed = false, written) => {
    if (isFramed) {
      framed++;
    } else {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(data.length);
      parts.push(length);
    }
    parts.push(Buffer.from(data));
    // Copied: the worker may make the next chunk in its buffer.
    written?.();
    return Promise.resolve(true);
  };
  await transfers.serve(request, '127.0.0.1', zone, send);
  return { bytes: Buffer.concat(parts), writes: parts.length, framed };
}

/** The messages of a framed byte stream. */
function messagesOf(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 2 <= bytes.length;) {
    const length = bytes.readUInt16BE(off);
    out.push(bytes.subarray(off + 2, off + 2 + length));
    off += 2 + length;
  }
  return out;
}

/** An IXFR query from a secondary at `serial`. */
function ixfrQuery(serial: number): Buffer {
  const query = encodeQuery('mesos.', 'IXFR');
  const soa = Buffer.alloc(2 + 10 + 22);
  soa.writeUInt16BE(0xc00c, 0);
  soa.writeUInt16BE(6, 2);
  soa.writeUInt16BE(1, 4);
  soa.writeUInt16BE(22, 10);
  soa.writeUInt32BE(serial, 14);
  const out = Buffer.concat([query, soa]);
  out.writeUInt16BE(1, 8);
  return out;
}

/** A changeset from `serial` replacing a few names of `bigZoneText()`. */
function changesetFrom(serial: number, tag: number): Changeset {
  const text = `
    app1.fw1.mesos.      A 10.200.0.${String(tag)}
    new${String(tag)}.fw2.mesos.  A 10.201.0.1
  `;
  const contents = toRecordData(recordsFromText(text));
  const set = new CompactRecordSet(contents);
  return {
    serialFrom: serial,
    serialTo: serial + 1,
    contents,
    names: Int32Array.from(
      ['app1.fw1.mesos.', `new${String(tag)}.fw2.mesos.`].map((n) => set.nameId(n)),
    ),
    removed: toRecordData(recordsFromText('app1.fw1.mesos. A 10.0.0.1')),
    added: toRecordData(recordsFromText(text)),
  };
}

test('AXFR and IXFR from the worker are the main thread’s bytes, before and after changesets', async (t) => {
  let store: ZoneStore | undefined;
  const offload = offloadFor(() => store);
  offload.start();
  try {
    store = storeWith(zoneFromText(bigZoneText(), { serial: 10 }), offload);
    const inThread = service(store);
    const offloaded = service(store, offload);
    const axfr = encodeQuery('mesos.', 'AXFR');
    const expected = await wire(inThread.transfers, axfr, store.zone());
    const got = await wire(offloaded.transfers, axfr, store.zone());
    t.true(messagesOf(expected.bytes).length > 20);
    // More chunks than a job may have unwritten (the last test counts on it).
    t.true(got.framed > WINDOW, `${String(got.framed)} chunks`);
    t.true(got.bytes.equals(expected.bytes));
    t.deepEqual(
      offloaded.events.map((e) => [e.result, e.messages, e.bytes]),
      inThread.events.map((e) => [e.result, e.messages, e.bytes]),
    );
    // Two changesets: the worker's zone follows; an IXFR from 10 and one from 11.
    store.apply(changesetFrom(10, 1), 0);
    store.apply(changesetFrom(11, 2), 0);
    for (const request of [axfr, ixfrQuery(10), ixfrQuery(11), ixfrQuery(3)]) {
      const want = await wire(inThread.transfers, request, store.zone());
      const have = await wire(offloaded.transfers, request, store.zone());
      t.true(have.framed > 0);
      t.true(have.bytes.equals(want.bytes));
    }
    // A worker started late begins from the zone and journal as they are.
    const late = offloadFor(() => store);
    late.start();
    try {
      const lateService = service(store, late);
      for (const request of [axfr, ixfrQuery(10)]) {
        const want = await wire(inThread.transfers, request, store.zone());
        const have = await wire(lateService.transfers, request, store.zone());
        t.true(have.framed > 0);
        t.true(have.bytes.equals(want.bytes));
      }
    } finally {
      await late.close();
    }
  } finally {
    await offload.close();
  }
});

test('every message from the worker is signed with the request’s key', async (t) => {
  let store: ZoneStore | undefined;
  const offload = offloadFor(() => store);
  offload.start();
  try {
    store = storeWith(zoneFromText(bigZoneText(), { serial: 5 }), offload);
    const { transfers, events } = service(store, offload, { keys: keyring([KEY]) });
    const signer = new TsigSigner(KEY, () => Date.now() / 1000);
    const request = signer.sign(encodeQuery('mesos.', 'AXFR'));
    const got = await wire(transfers, request, store.zone());
    t.true(got.framed > 0);
    const verifier = new TsigVerifier(
      keyring([KEY]),
      () => Date.now() / 1000,
      signer.lastMac ?? Buffer.alloc(0),
    );
    const messages = messagesOf(got.bytes);
    t.true(messages.length > 20);
    for (const m of messages) {
      const result = verifier.verify(m);
      if (typeof result === 'string' || !result.ok) {
        t.fail(`message not verified: ${JSON.stringify(result)}`);
        return;
      }
    }
    t.deepEqual(
      events.map((e) => [e.result, e.key, e.messages]),
      [['ok', 'k.', messages.length]],
    );
  } finally {
    await offload.close();
  }
});

test('a reader that goes away aborts the job; a worker at another serial declines', async (t) => {
  let store: ZoneStore | undefined;
  const offload = offloadFor(() => store);
  offload.start();
  try {
    store = storeWith(zoneFromText(bigZoneText(), { serial: 5 }), offload);
    const { transfers, events } = service(store, offload);
    let writes = 0;
    await transfers.serve(encodeQuery('mesos.', 'AXFR'), '127.0.0.1', store.zone(), () => {
      writes++;
      return Promise.resolve(writes < 2);
    });
    t.is(writes, 2);
    t.deepEqual(
      events.map((e) => e.result),
      ['aborted'],
    );
    t.is(transfers.running, 0);
    // A zone the worker never saw: made on the main thread, the same way.
    const other = zoneFromText(bigZoneText(7), { serial: 99 });
    const got = await wire(transfers, encodeQuery('mesos.', 'AXFR'), other);
    t.is(got.framed, 0);
    t.true(messagesOf(got.bytes).length > 20);
    t.is(events.at(-1)?.result, 'ok');
  } finally {
    await offload.close();
  }
});

test('a worker that cannot start leaves transfers on the main thread', async (t) => {
  const store = storeWith(zoneFromText(bigZoneText(), { serial: 5 }));
  const warnings: string[] = [];
  let warned: () => void = () => undefined;
  const failed = new Promise<void>((resolve) => {
    warned = resolve;
  });
  const offload = new TransferOffload({
    logger: {
      ...silentLogger,
      warn: (message) => {
        warnings.push(message);
        warned();
      },
    },
    source: { zone: () => store.zone(), journal: () => store.journal },
    startWorker: () => new Worker('throw new Error("no worker here")', { eval: true }),
    // No restart while the test looks (the default 1 s passed during a slow AXFR on a loaded
    // machine, and a worker starting again was `available`); restarts have a test of their own.
    restartDelayMs: () => 600_000,
  });
  offload.start();
  try {
    const { transfers, events } = service(store, offload);
    const got = await wire(transfers, encodeQuery('mesos.', 'AXFR'), store.zone());
    t.true(messagesOf(got.bytes).length > 20);
    t.deepEqual(
      events.map((e) => e.result),
      ['ok'],
    );
    // The worker's failure is reported; transfers after it are made here too.
    await failed;
    t.false(offload.available);
    t.deepEqual(warnings, ['transfer worker unavailable; transfers are made on the main thread']);
    const again = await wire(transfers, encodeQuery('mesos.', 'AXFR'), store.zone());
    t.is(again.framed, 0);
    t.true(again.bytes.equals(got.bytes));
  } finally {
    await offload.close();
  }
});

test('a worker that stops mid-transfer closes the connection; later transfers are made here', async (t) => {
  const store = storeWith(zoneFromText(bigZoneText(), { serial: 5 }));
  let worker: Worker | undefined;
  const offload = new TransferOffload({
    logger: silentLogger,
    source: { zone: () => store.zone(), journal: () => store.journal },
    startWorker: () => {
      worker = startTransferWorker();
      return worker;
    },
    // Not started again within the test (the next test restarts one).
    restartDelayMs: () => 3_600_000,
  });
  offload.start();
  try {
    const { transfers, events } = service(store, offload);
    let writes = 0;
    const goOn = await transfers.serve(
      encodeQuery('mesos.', 'AXFR'),
      '127.0.0.1',
      store.zone(),
      () => {
        writes++;
        if (writes === 1) void worker?.terminate();
        return Promise.resolve(true);
      },
    );
    t.false(goOn);
    t.false(offload.available);
    t.deepEqual(
      events.map((e) => [e.result, e.reason]),
      [['aborted', 'the transfer worker stopped']],
    );
    const got = await wire(transfers, encodeQuery('mesos.', 'AXFR'), store.zone());
    t.is(got.framed, 0);
    t.is(events.at(-1)?.result, 'ok');
  } finally {
    await offload.close();
  }
});

test('a worker that died is started again, and makes the transfers again', async (t) => {
  const store = storeWith(zoneFromText(bigZoneText(), { serial: 5 }));
  const workers: Worker[] = [];
  const delays: number[] = [];
  const offload = new TransferOffload({
    logger: silentLogger,
    source: { zone: () => store.zone(), journal: () => store.journal },
    startWorker: () => {
      const worker = startTransferWorker();
      workers.push(worker);
      return worker;
    },
    restartDelayMs: (failures) => {
      delays.push(failures);
      return 10;
    },
  });
  offload.start();
  try {
    const { transfers, events } = service(store, offload);
    t.true((await wire(transfers, encodeQuery('mesos.', 'AXFR'), store.zone())).framed > 0);
    await workers[0]?.terminate();
    await waitFor(() => workers.length === 2 && offload.available, 10_000, 'a new worker');
    t.is(offload.restarts, 1);
    t.deepEqual(delays, [1], 'the first failure in a row');
    // The new worker has the zone (given whole at its start) and makes the transfer.
    const again = await wire(transfers, encodeQuery('mesos.', 'AXFR'), store.zone());
    t.true(again.framed > 0);
    t.deepEqual(
      events.map((e) => e.result),
      ['ok', 'ok'],
    );
  } finally {
    await offload.close();
  }
});

test('restartDelay: 1 s, doubling for every failure in a row, at most a minute', (t) => {
  t.deepEqual([1, 2, 3, 6, 7, 20].map(restartDelay), [1000, 2000, 4000, 32_000, 60_000, 60_000]);
});
