/**
 * How a reload moves the listeners, with fake servers (issue #17): a new address is bound before
 * the old listener closes; one that needs the old port closes the old listener first and brings
 * it back when it still cannot bind; a failed HTTP move undoes the DNS move.
 */
import test from 'ava';
import type { HostPort } from '../../src/config/index.js';
import type { ListenConfig, Listener } from '../../src/serve/listeners.js';
import { Listeners } from '../../src/serve/listeners.js';

/** A fake listener: `busy` holds the addresses bound now; binding a busy one fails. */
class Fake implements Listener {
  static busy = new Set<string>();
  static refused = new Set<string>();
  static log: string[] = [];
  readonly at: string;
  isOpen = false;

  constructor(kind: string, address: HostPort) {
    this.at = `${kind} ${address.host}:${String(address.port)}`;
  }

  start(): Promise<void> {
    const port = this.at.replace(/ .*:/, ' :');
    if (Fake.refused.has(this.at) || [...Fake.busy].some((b) => b.replace(/ .*:/, ' :') === port)) {
      Fake.log.push(`bind ${this.at} failed`);
      const err = Object.assign(new Error(`EADDRINUSE ${this.at}`), { code: 'EADDRINUSE' });
      return Promise.reject(err);
    }
    Fake.busy.add(this.at);
    this.isOpen = true;
    Fake.log.push(`bind ${this.at}`);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.isOpen) {
      Fake.busy.delete(this.at);
      Fake.log.push(`close ${this.at}`);
    }
    this.isOpen = false;
    return Promise.resolve();
  }
}

const quiet = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

function config(dns: string, http: string | undefined): ListenConfig {
  const hp = (text: string): HostPort => {
    const [host = '', port = '0'] = text.split(/:(?=\d+$)/);
    return { host, port: Number(port) };
  };
  return {
    dns: { listen: hp(dns), batchedUdp: false },
    http: { enabled: http !== undefined, listen: hp(http ?? '127.0.0.1:8123') },
  };
}

async function running(c: ListenConfig): Promise<Listeners<Fake, Fake>> {
  Fake.busy.clear();
  Fake.refused.clear();
  Fake.log = [];
  const listeners = new Listeners<Fake, Fake>(
    {
      newDns: (address) => new Fake('dns', address),
      newHttp: (address) => new Fake('http', address),
      resolve: (address) => Promise.resolve(address),
      logger: quiet,
    },
    c,
    c.dns.listen,
    c.http.enabled ? c.http.listen : undefined,
  );
  await listeners.dns.start();
  await listeners.http?.start();
  Fake.log = [];
  return listeners;
}

test.serial('a new DNS address is bound before the old listener closes', async (t) => {
  const before = config('127.0.0.1:8053', undefined);
  const listeners = await running(before);
  const rebound = await listeners.rebind(before, config('127.0.0.2:9053', undefined));
  t.deepEqual(Fake.log, ['bind dns 127.0.0.2:9053']);
  await listeners.adopt(rebound);
  t.deepEqual(Fake.log, ['bind dns 127.0.0.2:9053', 'close dns 127.0.0.1:8053']);
  t.is(listeners.dns.at, 'dns 127.0.0.2:9053');
  t.deepEqual(listeners.listen, { host: '127.0.0.2', port: 9053 });
});

test.serial('the same port on another address: the old listener closes first', async (t) => {
  const before = config('127.0.0.1:8053', undefined);
  const listeners = await running(before);
  const rebound = await listeners.rebind(before, config('0.0.0.0:8053', undefined));
  t.true(rebound.dns?.isOldClosed);
  t.deepEqual(Fake.log, [
    'bind dns 0.0.0.0:8053 failed',
    'close dns 127.0.0.1:8053',
    'bind dns 0.0.0.0:8053',
  ]);
  await listeners.adopt(rebound);
  t.deepEqual([...Fake.busy], ['dns 0.0.0.0:8053']);
});

test.serial('a new address that still cannot bind brings the old listener back', async (t) => {
  const before = config('127.0.0.1:8053', undefined);
  const listeners = await running(before);
  Fake.refused.add('dns 0.0.0.0:8053');
  await t.throwsAsync(() => listeners.rebind(before, config('0.0.0.0:8053', undefined)), {
    message: /EADDRINUSE/,
  });
  t.deepEqual([...Fake.busy], ['dns 127.0.0.1:8053']);
  t.is(listeners.dns.at, 'dns 127.0.0.1:8053');
  t.true(listeners.dns.isOpen);
});

test.serial('an HTTP listener that cannot bind undoes the DNS move', async (t) => {
  const before = config('127.0.0.1:8053', '127.0.0.1:8123');
  const listeners = await running(before);
  Fake.refused.add('http 127.0.0.1:9123');
  await t.throwsAsync(() => listeners.rebind(before, config('127.0.0.2:9053', '127.0.0.1:9123')));
  t.deepEqual([...Fake.busy].sort(), ['dns 127.0.0.1:8053', 'http 127.0.0.1:8123']);
  t.is(listeners.dns.at, 'dns 127.0.0.1:8053');
  t.deepEqual(Fake.log, [
    'bind dns 127.0.0.2:9053',
    'bind http 127.0.0.1:9123 failed',
    'close dns 127.0.0.2:9053',
  ]);
});

test.serial('turning HTTP off closes it on adopt; an unchanged config binds nothing', async (t) => {
  const before = config('127.0.0.1:8053', '127.0.0.1:8123');
  const listeners = await running(before);
  t.deepEqual(await listeners.rebind(before, before), { dns: undefined, http: undefined });
  t.deepEqual(Fake.log, []);
  const rebound = await listeners.rebind(before, config('127.0.0.1:8053', undefined));
  await listeners.adopt(rebound);
  t.is(listeners.http, undefined);
  t.deepEqual([...Fake.busy], ['dns 127.0.0.1:8053']);
});
