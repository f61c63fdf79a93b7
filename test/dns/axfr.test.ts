/**
 * AXFR messages (dns/axfr.ts) and the transfer service (dns/transfer.ts), decoded by dns-packet
 * (an independent parser): every RR of the zone once, the SOA first and last, names changesets
 * replaced read from their changeset, messages within the size asked for; and the service's
 * refusals (allow, TSIG, busy, name) and a reader that goes away.
 */
import test from 'ava';
import { Acl } from '../../src/dns/acl.js';
import { axfrMessages } from '../../src/dns/axfr.js';
import type { Changeset, Zone } from '../../src/dns/index.js';
import { applyChangeset } from '../../src/dns/index.js';
import { ZoneTransfers } from '../../src/dns/transfer.js';
import type { Journal, TransferEvent, TransferSettings } from '../../src/dns/transfer.js';
import { TsigSigner, keyring, readTsig } from '../../src/dns/tsig.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { CompactRecordSet, toRecordData } from '../../src/records/index.js';
import { silentLogger } from '../../src/log.js';
import { decodeMessage, encodeQuery, soaData } from '../../support/dns-message.js';
import type { Rec } from '../../support/dns-message.js';
import { recordsFromText, zoneFromText } from '../../support/records-text.js';

const ZONE = `
  web.marathon.mesos.          A    10.0.0.1
  web.marathon.mesos.          A    10.0.0.2
  web.marathon.mesos.          AAAA fd00::1
  db.marathon.mesos.           A    10.0.0.3
  _web._tcp.marathon.mesos.    SRV  31000 web.marathon.mesos.
  _web._tcp.marathon.mesos.    SRV  31001 web.marathon.mesos.
  ns1.mesos.                   A    127.0.0.1
  mesos.                       A    10.0.0.9
`;

const QUESTION = (name = 'mesos.'): Buffer => encodeQuery(name, 'AXFR').subarray(12);

function rrText(r: Rec): string {
  const data =
    typeof r.data === 'object' && r.data !== null ? JSON.stringify(r.data) : String(r.data);
  return `${r.name} ${r.type} ${r.ttl} ${data}`;
}

/** Every RR of the messages in order, and the messages decoded. */
function transferOf(zone: Zone, maxSize?: number): { rrs: string[]; count: number } {
  const rrs: string[] = [];
  let count = 0;
  for (const m of axfrMessages(zone, { id: 7, question: QUESTION() }, maxSize)) {
    if (maxSize !== undefined) if (m.length > maxSize) throw new Error(`${String(m.length)} bytes`);
    const decoded = decodeMessage(m);
    if (decoded.id !== 7 || !decoded.aa || decoded.questions[0]?.type !== 'AXFR') {
      throw new Error('bad header or question');
    }
    rrs.push(...decoded.answers.map(rrText));
    count++;
  }
  return { rrs, count };
}

/** The records of `text` as AXFR would list them (without SOA and NS). */
function expected(text: string): string[] {
  const out: string[] = [];
  for (const line of text.trim().split('\n')) {
    const [name = '', type = '', a = '', b = ''] = line.trim().split(/\s+/);
    const owner = name.replace(/\.$/, '');
    if (type === 'SRV') {
      out.push(
        `${owner} SRV 60 ${JSON.stringify({ priority: 0, weight: 1, port: Number(a), target: b.replace(/\.$/, '') })}`,
      );
    } else {
      out.push(`${owner} ${type} 60 ${a}`);
    }
  }
  return out.sort();
}

test('one message: the SOA, the NS, every record once, the SOA again', (t) => {
  const zone = zoneFromText(ZONE, { serial: 42 });
  const { rrs, count } = transferOf(zone);
  t.is(count, 1);
  t.regex(rrs[0] ?? '', /^mesos SOA 60 .*"serial":42/);
  t.is(rrs.at(-1), rrs[0]);
  t.is(rrs[1], 'mesos NS 60 ns1.mesos');
  t.deepEqual(rrs.slice(2, -1).sort(), expected(ZONE));
});

test('small messages split the same records, none over the size, SOA first and last', (t) => {
  const lines = Array.from(
    { length: 300 },
    (_, i) => `h${String(i)}.app.mesos. A 10.1.${String(i >> 8)}.${String(i & 255)}`,
  );
  const text = lines.join('\n');
  const zone = zoneFromText(text);
  const { rrs, count } = transferOf(zone, 512);
  t.true(count > 10, `${String(count)} messages`);
  t.regex(rrs[0] ?? '', /^mesos SOA/);
  t.regex(rrs.at(-1) ?? '', /^mesos SOA/);
  t.deepEqual(rrs.slice(2, -1).sort(), expected(text));
});

test('default messages: owners compressed against the one before, every record once', (t) => {
  // 6,000 A records of 1,500 apps in 30 frameworks: several messages.
  const lines: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const app = `app${String(i % 1500)}.fw${String(i % 30)}.mesos.`;
    lines.push(`${app} A 10.3.${String(i >> 8)}.${String(i & 255)}`);
  }
  const text = lines.join('\n');
  const zone = zoneFromText(text);
  let bytes = 0;
  const rrs: string[] = [];
  for (const m of axfrMessages(zone, { id: 1, question: QUESTION() })) {
    bytes += m.length;
    rrs.push(...decodeMessage(m).answers.map(rrText));
  }
  t.deepEqual(rrs.slice(2, -1).sort(), expected(text));
  // An A RR is 14 bytes after its owner; a repeated owner costs a 2-byte pointer.
  t.true(bytes / 6000 < 20, `${String(bytes / 6000)} bytes per record`);
});

test('names a changeset replaced come from the changeset, removed names are gone', (t) => {
  const base = zoneFromText(ZONE, { serial: 1 });
  const text = `
    web.marathon.mesos.   A 10.0.0.7
    new.chronos.mesos.    A 10.0.1.1
    _x._tcp.keep.mesos.   SRV 1 db.marathon.mesos.
  `;
  const contents = toRecordData(recordsFromText(text));
  const set = new CompactRecordSet(contents);
  const empty = toRecordData(recordsFromText(''));
  const changeset: Changeset = {
    serialFrom: 1,
    serialTo: 2,
    contents,
    names: Int32Array.from(
      ['web.marathon.mesos.', 'new.chronos.mesos.', 'db.marathon.mesos.'].map((n) => set.nameId(n)),
    ),
    removed: empty,
    added: empty,
  };
  const next = applyChangeset(base, changeset);
  const { rrs } = transferOf(next);
  t.regex(rrs[0] ?? '', /"serial":2/);
  t.deepEqual(
    rrs.slice(2, -1).sort(),
    expected(`
      web.marathon.mesos.          A    10.0.0.7
      new.chronos.mesos.           A    10.0.1.1
      _web._tcp.marathon.mesos.    SRV  31000 web.marathon.mesos.
      _web._tcp.marathon.mesos.    SRV  31001 web.marathon.mesos.
      ns1.mesos.                   A    127.0.0.1
      mesos.                       A    10.0.0.9
    `),
  );
  // The zone it applied to transfers as it was.
  t.deepEqual(transferOf(base).rrs.slice(2, -1).sort(), expected(ZONE));
});

// --- the service -------------------------------------------------------------------------------

const KEY: TsigKey = { name: 'k.', algorithm: 'hmac-sha256', secret: Buffer.from('secret') };

function service(
  settings: Partial<TransferSettings> = {},
  journal?: Journal,
): {
  transfers: ZoneTransfers;
  events: TransferEvent[];
} {
  const events: TransferEvent[] = [];
  const transfers = new ZoneTransfers(
    { allow: new Acl(['127.0.0.0/8']), keys: keyring([]), maxConcurrent: 2, ...settings },
    {
      logger: silentLogger,
      onTransfer: (e) => events.push(e),
      ...(journal === undefined ? {} : { journal }),
    },
  );
  return { transfers, events };
}

async function serve(
  transfers: ZoneTransfers,
  request: Buffer,
  client = '127.0.0.1',
  zone: Zone | null = zoneFromText(ZONE),
): Promise<Buffer[]> {
  const sent: Buffer[] = [];
  await transfers.serve(request, client, zone ?? undefined, (m) => {
    sent.push(m);
    return Promise.resolve(true);
  });
  return sent;
}

test('refused outside allow, unsigned with keys set, NOTAUTH for another name; counted', async (t) => {
  const open = service();
  const [outside] = await serve(open.transfers, encodeQuery('mesos.', 'AXFR'), '10.0.0.1');
  t.is(decodeMessage(outside ?? Buffer.alloc(0)).rcode, 'REFUSED');
  const [other] = await serve(open.transfers, encodeQuery('example.org.', 'AXFR'));
  t.is((other?.[3] ?? 0) & 15, 9); // NOTAUTH
  const [none] = await serve(open.transfers, encodeQuery('mesos.', 'AXFR'), '127.0.0.1', null);
  t.is(decodeMessage(none ?? Buffer.alloc(0)).rcode, 'SERVFAIL');
  t.deepEqual(
    open.events.map((e) => e.result),
    ['refused', 'notauth', 'unavailable'],
  );

  const keyed = service({ keys: keyring([KEY]) });
  const [unsigned] = await serve(keyed.transfers, encodeQuery('mesos.', 'AXFR'));
  t.is(decodeMessage(unsigned ?? Buffer.alloc(0)).rcode, 'REFUSED');
  const signed = new TsigSigner(KEY, () => Date.now() / 1000).sign(encodeQuery('mesos.', 'AXFR'));
  const answer = await serve(keyed.transfers, signed);
  t.is(answer.length, 1);
  const tsig = readTsig(answer[0] ?? Buffer.alloc(0));
  t.true(tsig !== undefined && tsig !== 'malformed' && tsig.mac.length === 32);
  t.deepEqual(
    keyed.events.map((e) => [e.result, e.key]),
    [
      ['refused', undefined],
      ['ok', 'k.'],
    ],
  );
});

test('transfers beyond maxConcurrent are refused; a reader that goes away aborts its transfer', async (t) => {
  const { transfers, events } = service({ maxConcurrent: 1 });
  const lines = Array.from(
    { length: 5000 },
    (_, i) => `h${String(i)}.app.mesos. A 10.2.${String(i >> 8)}.${String(i & 255)}`,
  );
  const zone = zoneFromText(lines.join('\n'));
  let release: (() => void) | undefined;
  const first = transfers.serve(
    encodeQuery('mesos.', 'AXFR'),
    '127.0.0.1',
    zone,
    () =>
      new Promise<boolean>((resolve) => {
        release = () => {
          resolve(false);
        };
      }),
  );
  const [busy] = await serve(transfers, encodeQuery('mesos.', 'AXFR'), '127.0.0.1', zone);
  t.is(decodeMessage(busy ?? Buffer.alloc(0)).rcode, 'REFUSED');
  t.is(transfers.running, 1);
  release?.();
  await first;
  t.is(transfers.running, 0);
  t.deepEqual(
    events.map((e) => e.result),
    ['busy', 'aborted'],
  );
});

/** An IXFR query from a secondary at `serial`: the question and its SOA in the authority. */
function ixfrQuery(serial: number): Buffer {
  const query = encodeQuery('mesos.', 'IXFR');
  const soa = Buffer.alloc(2 + 10 + 22);
  soa.writeUInt16BE(0xc00c, 0);
  soa.writeUInt16BE(6, 2); // SOA
  soa.writeUInt16BE(1, 4); // IN
  soa.writeUInt16BE(22, 10); // RDLENGTH: two root names and five numbers
  soa.writeUInt32BE(serial, 14); // after the two root names
  const out = Buffer.concat([query, soa]);
  out.writeUInt16BE(1, 8); // NSCOUNT
  return out;
}

test('an IXFR the journal reaches is answered with the difference, else with the zone', async (t) => {
  const zone = zoneFromText(ZONE, { serial: 8 });
  const diff = {
    serialFrom: 7,
    serialTo: 8,
    removed: toRecordData(recordsFromText('db.marathon.mesos. A 10.0.0.4')),
    added: toRecordData(recordsFromText('db.marathon.mesos. A 10.0.0.3')),
  };
  const journal: Journal = (serial) => (serial === 7 ? [diff] : undefined);
  const { transfers, events } = service({}, journal);
  const [incremental] = await serve(transfers, ixfrQuery(7), '127.0.0.1', zone);
  t.deepEqual(
    decodeMessage(incremental ?? Buffer.alloc(0)).answers.map((r) =>
      r.type === 'SOA' ? `SOA ${String(soaData(r).serial)}` : `${r.name} ${String(r.data)}`,
    ),
    [
      'SOA 8',
      'SOA 7',
      'db.marathon.mesos 10.0.0.4',
      'SOA 8',
      'db.marathon.mesos 10.0.0.3',
      'SOA 8',
    ],
  );
  // Serial 6 is not in the journal: the whole zone.
  const [whole] = await serve(transfers, ixfrQuery(6), '127.0.0.1', zone);
  const rrs = decodeMessage(whole ?? Buffer.alloc(0)).answers;
  t.is(rrs.length, 2 + expected(ZONE).length + 1);
  t.deepEqual(
    events.map((e) => [e.type, e.result]),
    [
      ['IXFR', 'ok'],
      ['IXFR', 'ok'],
    ],
  );
});
