/**
 * A real ZooKeeper server for tests (Debian's `zookeeper` package, which .ci/run installs), on a
 * loopback port with its data in a temp dir, and a helper that registers fake masters the way
 * Mesos masters do: an ephemeral sequential `json.info_<seq>` znode holding `MasterInfo` JSON,
 * one ZooKeeper session per master (closing it removes the znode, as a master's death does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CreateMode, State, createClient } from 'node-zookeeper-client';
import type { Client, Exception } from 'node-zookeeper-client';
import { killOnExit } from './mesodns.js';
import { freePort } from './ports.js';

const HOST = '127.0.0.1';
/** The server jar of Debian's package; its manifest names the dependencies. */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/** A running (or stopped, between `stop` and `start`) ZooKeeper server. */
export interface ZooKeeperServer {
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly connectString: string;
  /** The temp dir holding the config and the data. */
  readonly dir: string;
  /** `zk://127.0.0.1:<port><path>` for `mesos.zk` (default path `/mesos`). */
  url(path?: string): string;
  /** Kills the server (SIGKILL, as a crash); the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port; with `wipe`, on empty data (every session is lost). */
  start(options?: { readonly wipe?: boolean }): Promise<void>;
  /** `stop()` then `start()`. */
  restart(options?: { readonly wipe?: boolean }): Promise<void>;
  /** Stops the server and removes the temp dir. */
  close(): Promise<void>;
  /** Everything the JVM printed. */
  logs(): string;
}

/** Whether the ZooKeeper server jar and a `java` are on this machine. */
export function hasZooKeeper(): boolean {
  return existsSync(ZOOKEEPER_JAR);
}

/** Sends a four-letter command and resolves the answer ('' on any error). */
function fourLetter(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('');
    }, timeoutMs);
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.on('error', () => {
      clearTimeout(timer);
      resolve('');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

/**
 * Starts a standalone ZooKeeper on a free loopback port (takes a second or two: it is a JVM).
 * Throws with the JVM's output when it does not answer `ruok` within 30 s, or a clear message
 * when the `zookeeper` package is missing.
 *
 * @example
 * const zk = await startZooKeeper();
 * t.teardown(() => zk.close());
 * const srv = await startMesodns({ config: { mesos: { zk: zk.url() } } });
 */
export async function startZooKeeper(): Promise<ZooKeeperServer> {
  if (!hasZooKeeper()) {
    throw new Error(
      `ZooKeeper is not installed (${ZOOKEEPER_JAR} is missing): apt-get install zookeeper (.ci/run does)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-zk-'));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const configPath = join(dir, 'zoo.cfg');
  await writeFile(
    configPath,
    [
      'tickTime=500',
      'minSessionTimeout=1000',
      'maxSessionTimeout=30000',
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      `clientPortAddress=${HOST}`,
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr',
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | undefined;
  let output = '';

  const start = async (options: { readonly wipe?: boolean } = {}): Promise<void> => {
    if (proc !== undefined) throw new Error('ZooKeeper: already running');
    if (options.wipe === true) await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    const child = spawn(
      'java',
      [
        '-Xms32m',
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.net.preferIPv4Stack=true',
        '-cp',
        ZOOKEEPER_JAR,
        'org.apache.zookeeper.server.ZooKeeperServerMain',
        configPath,
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    killOnExit(child);
    proc = child;
    const append = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-200_000);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const exited = { is: false };
    child.once('exit', () => {
      exited.is = true;
      if (proc === child) proc = undefined;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited.is) throw new Error(`ZooKeeper exited at start; output:\n${output}`);
      if ((await fourLetter(port, 'ruok')) === 'imok') return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `ZooKeeper did not start within ${START_TIMEOUT_MS} ms; output:\n${output}`,
        );
      }
      await delay(100);
    }
  };

  const stop = async (): Promise<void> => {
    const child = proc;
    if (child === undefined) return;
    const gone = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else
        child.once('exit', () => {
          resolve();
        });
    });
    child.kill('SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
    proc = undefined;
  };

  await start();
  return {
    port,
    connectString: `${HOST}:${port}`,
    dir,
    url: (path = '/mesos') => `zk://${HOST}:${port}${path}`,
    stop,
    start,
    restart: async (options) => {
      await stop();
      await start(options);
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    logs: () => output,
  };
}

/** `MasterInfo` as a Mesos master writes it into `json.info_*` (docs/mesos-api.md 5). */
export function masterInfoJson(ip: string, port: number, hostname = ip): string {
  const octets = ip.split('.').map(Number);
  // The deprecated packed ip: network-order bytes read as a little-endian uint32.
  const packed =
    ((octets[0] ?? 0) |
      ((octets[1] ?? 0) << 8) |
      ((octets[2] ?? 0) << 16) |
      ((octets[3] ?? 0) << 24)) >>>
    0;
  return JSON.stringify({
    id: `master-${String(port)}`,
    ip: packed,
    port,
    pid: `master@${ip}:${String(port)}`,
    hostname,
    version: '1.11.0',
    address: { hostname, ip, port },
  });
}

function promised<T>(
  run: (done: (err: Error | Exception | null, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    run((err, value) => {
      if (err !== null) reject(err instanceof Error ? err : new Error(err.toString()));
      else resolve(value);
    });
  });
}

/** Connects a ZooKeeper client (resolves once connected). */
export async function connectZk(connectString: string, sessionTimeoutMs = 5_000): Promise<Client> {
  const client = createClient(connectString, {
    sessionTimeout: sessionTimeoutMs,
    spinDelay: 500,
    retries: 1,
  });
  let timer: NodeJS.Timeout | undefined;
  const connected = new Promise<void>((resolve, reject) => {
    client.once('connected', () => {
      resolve();
    });
    timer = setTimeout(() => {
      client.close();
      reject(new Error(`ZooKeeper client: no connection to ${connectString}`));
    }, START_TIMEOUT_MS);
  });
  client.connect();
  try {
    await connected;
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** A fake master's membership in the group: its znode and its session. */
export interface Membership {
  /** Full znode path, e.g. `/mesos/json.info_0000000003`. */
  readonly path: string;
  /** Ends the session: ZooKeeper deletes the znode (the master "dies"). */
  leave(): Promise<void>;
}

/**
 * Resolves true once `client` is connected (at once when it is), false when its session expired
 * or `timeoutMs` passed first.
 */
async function reconnected(client: Client, timeoutMs: number): Promise<boolean> {
  const isUp = (state: State): boolean =>
    state === State.SYNC_CONNECTED || state === State.CONNECTED_READ_ONLY;
  if (isUp(client.getState())) return true;
  if (client.getState() === State.EXPIRED) return false;
  return new Promise<boolean>((resolve) => {
    const done = (value: boolean): void => {
      clearTimeout(timer);
      client.removeListener('state', onState);
      resolve(value);
    };
    const onState = (state: State): void => {
      if (isUp(state)) done(true);
      else if (state === State.EXPIRED) done(false);
    };
    const timer = setTimeout(() => {
      done(false);
    }, timeoutMs);
    client.on('state', onState);
  });
}

/** How long `leave` waits for its client to be back, and then for its znode's deletion. */
const LEAVE_TIMEOUT_MS = 10_000;

/**
 * A member's session timeout: Mesos masters' default (`--zk_session_timeout=10secs`). With 5 s,
 * a ZooKeeper restart on a busy machine expired every member's session before its client was
 * back, and the group emptied.
 */
const MEMBER_SESSION_TIMEOUT_MS = 10_000;

/**
 * Registers a master in the group `group` (created if missing) in a session of its own, as an
 * ephemeral sequential node named `<label><seq>` holding `data` (default label `json.info_`;
 * `info_` for the protobuf form; the unlabelled form needs a trailing `/`, which this client
 * cannot create: use `createNode` with a numeric name instead).
 */
export async function joinGroup(
  connectString: string,
  group: string,
  data: string | Buffer,
  label = 'json.info_',
): Promise<Membership> {
  const client = await connectZk(connectString, MEMBER_SESSION_TIMEOUT_MS);
  let path: string;
  try {
    await promised<string>((done) => {
      client.mkdirp(group, done);
    });
    path = await promised<string>((done) => {
      client.create(
        `${group}/${label}`,
        Buffer.isBuffer(data) ? data : Buffer.from(data),
        CreateMode.EPHEMERAL_SEQUENTIAL,
        done,
      );
    });
  } catch (error) {
    client.close();
    throw error;
  }
  let hasLeft = false;
  return {
    path,
    leave: async () => {
      if (hasLeft) return;
      hasLeft = true;
      // A client still reconnecting after a ZooKeeper restart would close without ending its
      // session, and the znode would stay until the session expired (the restart tests timed
      // out that way). So: wait until it is connected again, or its session is gone (then
      // ZooKeeper deletes the znode itself), and delete explicitly. Bounded, for a ZooKeeper
      // that is down for good.
      if (await reconnected(client, LEAVE_TIMEOUT_MS)) {
        const removed = promised<undefined>((done) => {
          client.remove(path, -1, (err) => {
            done(err, undefined);
          });
        }).catch(() => undefined);
        await Promise.race([removed, delay(LEAVE_TIMEOUT_MS)]);
      }
      client.close();
      await delay(0);
    },
  };
}

/** Creates a persistent znode (e.g. a non-member such as `log_replicas`) with a fresh client. */
export async function createNode(connectString: string, path: string, data = ''): Promise<void> {
  const client = await connectZk(connectString);
  try {
    await promised<string>((done) => {
      client.mkdirp(path, Buffer.from(data), done);
    });
  } finally {
    client.close();
  }
}
