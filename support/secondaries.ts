/**
 * DNS secondaries of mesodns for the zone-transfer tests: Debian's knotd and NSD, each configured
 * from files written to a fresh temp dir, listening on a loopback port, transferring `mesos.`
 * from mesodns with a TSIG key and accepting its NOTIFY. Ready once the zone's SOA answers, i.e.
 * after the first transfer.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreshPort, startDaemon } from './daemon.js';
import { soaAnswered, knotServerConf } from './upstream.js';

/** The key both sides share. */
export interface SecondaryKey {
  readonly name: string;
  readonly algorithm: string;
  /** Base64. */
  readonly secret: string;
}

/** A running secondary. */
export interface Secondary {
  readonly port: number;
  logs(): string;
  stop(): Promise<void>;
}

/** Where the secondary listens and whom it follows. */
export interface SecondaryOptions {
  /** mesodns's DNS port on 127.0.0.1. */
  readonly primaryPort: number;
  readonly key: SecondaryKey;
  /** The secondary's port; default a free one (the primary's `transfer.notify` needs it first). */
  readonly port?: number;
  /** Default 15 s. */
  readonly readyTimeoutMs?: number;
}

const isRoot = (): boolean => process.getuid?.() === 0;

function sbin(name: string): string {
  return existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name;
}

/**
 * Whether the secondary answers the zone's SOA: a UDP query from this process, not a dig run
 * every 50 ms (a process each time, CPU that the secondary's first transfer needs).
 */
const answersSoa = (port: number): Promise<boolean> => soaAnswered(port, ['mesos.']);

/** knot.conf of a secondary of `mesos.` (knot expands no variables: paths are real). */
function knotConf(dir: string, port: number, o: SecondaryOptions): string {
  return [
    ...knotServerConf(dir, port, { backgroundWorkers: 2 }),
    'key:',
    `  - id: ${o.key.name}`,
    `    algorithm: ${o.key.algorithm}`,
    `    secret: ${o.key.secret}`,
    'remote:',
    '  - id: mesodns',
    `    address: 127.0.0.1@${String(o.primaryPort)}`,
    `    key: ${o.key.name}`,
    // Else a NOTIFY that comes within a second of a transfer waits for the end of that second
    // (docs/transfers.md, "A knot secondary").
    '    block-notify-after-transfer: on',
    'acl:',
    '  - id: notify-from-mesodns',
    '    address: 127.0.0.1',
    '    action: notify',
    `    key: ${o.key.name}`,
    'template:',
    '  - id: default',
    `    storage: "${join(dir, 'zones')}"`,
    '    zonefile-sync: -1',
    '    journal-content: none',
    'zone:',
    '  - domain: mesos.',
    '    master: mesodns',
    '    acl: notify-from-mesodns',
    '',
  ].join('\n');
}

/** knotd following mesodns (see the module comment). */
export function startKnotSecondary(o: SecondaryOptions): Promise<Secondary> {
  return onFreshPort(
    'knotd secondary',
    async (port) => {
      const dir = await mkdtemp(join(tmpdir(), 'mesodns-knot-secondary-'));
      await Promise.all(['run', 'db', 'zones'].map((d) => mkdir(join(dir, d))));
      await writeFile(join(dir, 'knot.conf'), knotConf(dir, port, o));
      const daemon = await startDaemon({
        what: 'knotd',
        command: sbin('knotd'),
        args: ['-c', join(dir, 'knot.conf')],
        dir,
        isReady: () => answersSoa(port),
        readyTimeoutMs: o.readyTimeoutMs ?? 15_000,
      });
      return { port, logs: () => daemon.logs(), stop: () => daemon.stop() };
    },
    o.port,
  );
}

/** nsd.conf of a secondary of `mesos` in the foreground (`nsd -d`). */
function nsdConf(dir: string, port: number, o: SecondaryOptions): string {
  return [
    'server:',
    `  ip-address: 127.0.0.1@${String(port)}`,
    `  port: ${String(port)}`,
    ...(isRoot() ? ['  username: ""'] : []),
    `  zonesdir: "${dir}"`,
    `  xfrdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    '  database: ""',
    '  server-count: 1',
    '  verbosity: 2',
    '  hide-version: yes',
    'remote-control:',
    '  control-enable: no',
    'key:',
    `  name: ${o.key.name}`,
    `  algorithm: ${o.key.algorithm}`,
    `  secret: "${o.key.secret}"`,
    'zone:',
    '  name: mesos',
    '  zonefile: mesos.zone',
    `  request-xfr: 127.0.0.1@${String(o.primaryPort)} ${o.key.name}`,
    `  allow-notify: 127.0.0.1 ${o.key.name}`,
    '',
  ].join('\n');
}

/** NSD following mesodns (see the module comment). */
export function startNsdSecondary(o: SecondaryOptions): Promise<Secondary> {
  return onFreshPort(
    'nsd secondary',
    async (port) => {
      const dir = await mkdtemp(join(tmpdir(), 'mesodns-nsd-secondary-'));
      await writeFile(join(dir, 'nsd.conf'), nsdConf(dir, port, o));
      const daemon = await startDaemon({
        what: 'nsd',
        command: sbin('nsd'),
        args: ['-d', '-c', join(dir, 'nsd.conf')],
        dir,
        isReady: () => answersSoa(port),
        readyTimeoutMs: o.readyTimeoutMs ?? 15_000,
      });
      return { port, logs: () => daemon.logs(), stop: () => daemon.stop() };
    },
    o.port,
  );
}
