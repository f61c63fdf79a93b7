import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreshPort, startDaemon } from './daemon.js';
import { buildQuery, queryRaw, rcodeOf } from './mesodns.js';

const HOST = '127.0.0.1';
const KNOT_READY_TIMEOUT_MS = 10_000;
/** A relayed query whose upstream never answers is dropped after this long. */
const RELAY_GIVE_UP_MS = 10_000;

/** Name of the default test zone served by `startKnot()` without arguments. */
export const EXAMPLE_TEST_ZONE_NAME = 'example.test.';

/** Number of A records on `many.example.test.` (and AAAA records on `many6.example.test.`). */
export const EXAMPLE_TEST_MANY_COUNT = 60;

/**
 * The default upstream zone (documentation address ranges only, RFC 5737 / RFC 3849):
 *
 * - SOA `ns1.example.test. hostmaster.example.test. 2024060101 3600 600 86400 60`, TTL 300
 * - NS `ns1.example.test.`; `ns1` A 192.0.2.1, AAAA 2001:db8::1
 * - `www` A 192.0.2.10, AAAA 2001:db8::10; `mail` A 192.0.2.20; `alias` CNAME `www`
 * - `txt` TXT "v=spf1 -all" and TXT "hello world" "second string"
 * - `_http._tcp` SRV 0 1 80 www.example.test.
 * - `many`: 60 A records 198.51.100.1-60 (about 1 kB compressed: fits 1232-byte EDNS, truncated
 *   at +bufsize=512 or +noedns); `many6`: 60 AAAA 2001:db8:6::1-3c (truncated even at 1232)
 */
export const EXAMPLE_TEST_ZONE = [
  `$ORIGIN ${EXAMPLE_TEST_ZONE_NAME}`,
  '$TTL 300',
  '@ IN SOA ns1.example.test. hostmaster.example.test. 2024060101 3600 600 86400 60',
  '@ IN NS ns1.example.test.',
  'ns1 IN A 192.0.2.1',
  'ns1 IN AAAA 2001:db8::1',
  'www IN A 192.0.2.10',
  'www IN AAAA 2001:db8::10',
  'mail IN A 192.0.2.20',
  'alias IN CNAME www',
  'txt IN TXT "v=spf1 -all"',
  'txt IN TXT "hello world" "second string"',
  '_http._tcp IN SRV 0 1 80 www.example.test.',
  ...Array.from({ length: EXAMPLE_TEST_MANY_COUNT }, (_, i) => `many IN A 198.51.100.${i + 1}`),
  ...Array.from(
    { length: EXAMPLE_TEST_MANY_COUNT },
    (_, i) => `many6 IN AAAA 2001:db8:6::${(i + 1).toString(16)}`,
  ),
  '',
].join('\n');

/** A running upstream DNS server on 127.0.0.1. */
export interface Upstream {
  readonly port: number;
  /** `127.0.0.1:<port>`, ready for `forward.resolvers`. */
  readonly address: string;
  /** Stops the server; safe to call twice. */
  stop(): Promise<void>;
}

/** A knotd instance serving the given zones. */
export interface KnotUpstream extends Upstream {
  /** knotd's stderr/stdout so far. */
  logs(): string;
}

/** An upstream that counts what it receives. */
export interface CountingUpstream extends Upstream {
  /** UDP datagrams plus TCP connections received so far. */
  readonly queries: number;
}

function knotdPath(): string {
  return existsSync('/usr/sbin/knotd') ? '/usr/sbin/knotd' : 'knotd';
}

/** Zone-file name for a zone: `example.test.` -> `example.test.zone`, root -> `root.zone`. */
function zoneFileName(zone: string): string {
  const bare = zone.replace(/\.$/, '');
  if (!/^[A-Za-z0-9._-]*$/.test(bare)) {
    throw new Error(`startKnot: unsupported zone name ${zone}`);
  }
  return `${bare === '' ? 'root' : bare}.zone`;
}

function fqdn(zone: string): string {
  return zone.endsWith('.') ? zone : `${zone}.`;
}

/** knot.conf (YAML) for one foreground instance; knot expands no variables, so paths are real. */
/**
 * The `server`, `database` and `log` sections of a knot.conf for one foreground knotd on
 * 127.0.0.1 in `dir` (its `run` and `db` directories), root only when running as root.
 */
export function knotServerConf(
  dir: string,
  port: number,
  {
    udpWorkers = 1,
    backgroundWorkers = 1,
    log = 'info',
  }: { udpWorkers?: number; backgroundWorkers?: number; log?: 'info' | 'notice' } = {},
): string[] {
  return [
    'server:',
    `    rundir: "${join(dir, 'run')}"`,
    ...(process.getuid?.() === 0 ? ['    user: root:root'] : []),
    `    listen: ${HOST}@${String(port)}`,
    `    udp-workers: ${String(udpWorkers)}`,
    '    tcp-workers: 1',
    `    background-workers: ${String(backgroundWorkers)}`,
    'database:',
    `    storage: "${join(dir, 'db')}"`,
    'log:',
    '  - target: stderr',
    `    any: ${log}`,
  ];
}

function knotConf(dir: string, port: number, zones: readonly string[]): string {
  return [
    ...knotServerConf(dir, port),
    'template:',
    '  - id: default',
    `    storage: "${join(dir, 'zones')}"`,
    '    semantic-checks: off',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    ...zones.flatMap((zone) => [`  - domain: ${fqdn(zone)}`, `    file: ${zoneFileName(zone)}`]),
    '',
  ].join('\n');
}

/** Resolves true once every zone's SOA answers NOERROR over UDP. */
export async function soaAnswered(port: number, zones: readonly string[]): Promise<boolean> {
  for (const zone of zones) {
    const response = await queryRaw(port, buildQuery(fqdn(zone), 'SOA', { rd: false }), 'udp', 250);
    if (response === undefined || response.length < 12 || rcodeOf(response) !== 0) {
      return false;
    }
  }
  return true;
}

/**
 * Runs knotd in the foreground on 127.0.0.1 with the given zones (zone name -> zone-file text;
 * default: `example.test.` with `EXAMPLE_TEST_ZONE`) and resolves once every zone's SOA answers.
 *
 * The config, zone files, rundir and database live in a fresh temp dir, removed on `stop()`.
 * One UDP, one TCP and one background worker; `user: root:root` only when running as root.
 * Retries on a new port when knotd cannot bind (it exits with "address already in use").
 */
export async function startKnot(
  zones: Readonly<Record<string, string>> = { [EXAMPLE_TEST_ZONE_NAME]: EXAMPLE_TEST_ZONE },
): Promise<KnotUpstream> {
  const names = Object.keys(zones);
  if (names.length === 0) {
    throw new Error('startKnot: no zones');
  }
  return onFreshPort('startKnot', async (port) =>
    startKnotIn(await mkdtemp(join(tmpdir(), 'mesodns-knot-')), zones, names, port),
  );
}

async function startKnotIn(
  dir: string,
  zones: Readonly<Record<string, string>>,
  names: readonly string[],
  port: number,
): Promise<KnotUpstream> {
  await Promise.all(['run', 'db', 'zones'].map((d) => mkdir(join(dir, d))));
  for (const [zone, text] of Object.entries(zones)) {
    await writeFile(join(dir, 'zones', zoneFileName(zone)), text);
  }
  const confPath = join(dir, 'knot.conf');
  await writeFile(confPath, knotConf(dir, port, names));

  const daemon = await startDaemon({
    what: 'knotd',
    command: knotdPath(),
    args: ['-c', confPath],
    dir,
    isReady: () => soaAnswered(port, names),
    readyTimeoutMs: KNOT_READY_TIMEOUT_MS,
  });
  return { port, address: `${HOST}:${port}`, logs: () => daemon.logs(), stop: () => daemon.stop() };
}

/** Binds a UDP socket and a TCP server on the same 127.0.0.1 port, retrying on a clash. */
async function bindUdpAndTcp(
  onTcpConnection: (socket: TcpSocket) => void,
): Promise<{ udp: UdpSocket; tcp: Server; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 10; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, HOST, () => {
        udp.off('error', reject);
        resolve(udp.address().port);
      });
    });
    const tcp = createServer(onTcpConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: HOST, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port };
    } catch (error) {
      lastError = error;
      udp.close();
    }
  }
  throw new Error('could not bind UDP and TCP on the same loopback port', { cause: lastError });
}

function closeAll(udp: UdpSocket, tcp: Server, sockets: Set<TcpSocket>): Promise<void> {
  for (const socket of sockets) {
    socket.destroy();
  }
  sockets.clear();
  return new Promise((resolve) => {
    udp.close(() => {
      tcp.close(() => {
        resolve();
      });
    });
  });
}

const LOOP_PROBE_LABEL = Buffer.from('\x0cmesodns-loop', 'latin1');

/**
 * True for mesodns's forwarding-loop probe (`HINFO <random>.<random>.mesodns-loop.invalid.`, sent
 * to an upstream with the first query forwarded to it): not counted as a forwarded query.
 */
export function isLoopProbe(message: Buffer): boolean {
  return message.includes(LOOP_PROBE_LABEL);
}

/**
 * Starts an upstream that never answers: a UDP socket and a TCP listener on one 127.0.0.1 port
 * that read queries (and accept connections) and stay silent, for timeout and failover tests.
 */
export async function startDeadUpstream(): Promise<CountingUpstream> {
  const sockets = new Set<TcpSocket>();
  let queries = 0;
  const { udp, tcp, port } = await bindUdpAndTcp((socket) => {
    queries++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  udp.on('message', (message) => {
    if (!isLoopProbe(message)) queries++;
  });
  let stopping: Promise<void> | undefined;
  return {
    port,
    address: `${HOST}:${port}`,
    get queries() {
      return queries;
    },
    stop: () => (stopping ??= closeAll(udp, tcp, sockets)),
  };
}

/** The slow relay, with a knob to change its delay. */
export interface SlowUpstream extends CountingUpstream {
  /** Changes the delay for queries received from now on. */
  setDelay(ms: number): void;
}

/**
 * Starts a UDP relay on 127.0.0.1 that waits `delayMs` and then forwards each query to
 * 127.0.0.1:`answerFrom` (e.g. a `startKnot()` port), relaying the answer back unchanged.
 * UDP only: its TCP listener accepts and stays silent (like a dead upstream), so a TC fallback to
 * TCP through it times out. Pending relays are dropped after 10 s and on `stop()`.
 */
export async function startSlowUpstream(
  delayMs: number,
  answerFrom: number,
): Promise<SlowUpstream> {
  const sockets = new Set<TcpSocket>();
  const pending = new Set<{ timer: NodeJS.Timeout; upstream: UdpSocket | undefined }>();
  let queries = 0;
  let currentDelayMs = delayMs;
  const { udp, tcp, port } = await bindUdpAndTcp((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });

  const relay = (message: Buffer, client: RemoteInfo): void => {
    if (!isLoopProbe(message)) queries++;
    const entry: { timer: NodeJS.Timeout; upstream: UdpSocket | undefined } = {
      upstream: undefined,
      timer: setTimeout(() => {
        const upstream = createSocket('udp4');
        entry.upstream = upstream;
        entry.timer = setTimeout(() => {
          finish();
        }, RELAY_GIVE_UP_MS);
        upstream.on('error', () => {
          finish();
        });
        upstream.on('message', (answer) => {
          udp.send(answer, client.port, client.address);
          finish();
        });
        upstream.send(message, answerFrom, HOST);
      }, currentDelayMs),
    };
    const finish = (): void => {
      clearTimeout(entry.timer);
      entry.upstream?.close();
      entry.upstream = undefined;
      pending.delete(entry);
    };
    pending.add(entry);
  };
  udp.on('message', relay);

  let stopping: Promise<void> | undefined;
  return {
    port,
    address: `${HOST}:${port}`,
    get queries() {
      return queries;
    },
    setDelay: (ms: number) => {
      currentDelayMs = ms;
    },
    stop: () =>
      (stopping ??= (() => {
        for (const entry of pending) {
          clearTimeout(entry.timer);
          entry.upstream?.close();
        }
        pending.clear();
        return closeAll(udp, tcp, sockets);
      })()),
  };
}
