/**
 * Operating-system errors explained in one line, with what to do about them: a file that cannot
 * be read, an address that cannot be bound. Pure except `portHolder`, which reads /proc.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

/** What an errno means, in words. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EAFNOSUPPORT: 'address family not supported',
  EINVAL: 'invalid argument',
  ENOMEM: 'out of memory',
  ENOTFOUND: 'name not found',
};

/** The `code` of a Node.js system error (`ENOENT`), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** `no such file or directory (ENOENT)`, or the error's own message when its code is unknown. */
export function errnoText(error: unknown): string {
  const code = errnoCode(error);
  const text = code === undefined ? undefined : ERRNO_TEXT[code];
  if (code !== undefined && text !== undefined) return `${text} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why `file` could not be read and what to do: `no such file or directory (ENOENT); check the
 * path (relative to /srv)`. `cwd` is where a relative path starts.
 */
export function fileReadProblem(error: unknown, file: string, cwd: string): string {
  const why = errnoText(error);
  switch (errnoCode(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return isAbsolute(file)
        ? `${why}; check the path`
        : `${why}; check the path (relative to ${cwd})`;
    case 'EACCES':
    case 'EPERM':
      return `${why}; check the permissions of the file and its directories for this user`;
    case 'EISDIR':
      return `${why}; give a file`;
    default:
      return why;
  }
}

/** A listener mesodns opens: its config key and its address. */
export interface Listener {
  /** `dns.listen` or `http.listen`. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** UDP or TCP, when known. */
  readonly protocol?: 'UDP' | 'TCP' | undefined;
}

/** Which protocol a bind error came from: Node's dgram and the UDP addon `bind`, net `listen`. */
export function bindProtocol(error: unknown): 'UDP' | 'TCP' | undefined {
  if (!(error instanceof Error)) return undefined;
  const syscall = 'syscall' in error ? error.syscall : undefined;
  if (syscall === 'listen') return 'TCP';
  if (syscall === 'bind' || /^bind /.test(error.message)) return 'UDP';
  return undefined;
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}

/** A command that gives a program the right to bind ports below 1024 without root. */
export const SETCAP_HINT = "setcap 'cap_net_bind_service=+ep' $(command -v node)";

/**
 * One line for an error binding `listener`, or undefined when `error` is not a bind error
 * mesodns can explain. `holder` names the process holding the port, when known.
 */
export function bindProblem(
  error: unknown,
  listener: Listener,
  holder?: string,
): string | undefined {
  const code = errnoCode(error);
  const address = formatAddress(listener.host, listener.port);
  const proto = listener.protocol === undefined ? '' : ` ${listener.protocol}`;
  const what = `cannot listen on ${address}${proto} (${listener.key})`;
  switch (code) {
    case 'EADDRINUSE': {
      const who = holder === undefined ? 'another process' : holder;
      return `${what}: address already in use (EADDRINUSE) by ${who}; stop it or set ${listener.key} to another port`;
    }
    case 'EACCES':
    case 'EPERM':
      if (listener.port > 0 && listener.port < 1024) {
        return (
          `${what}: permission denied (${code}), ports below 1024 need privileges; ` +
          `run as root, grant CAP_NET_BIND_SERVICE ` +
          `(${SETCAP_HINT}, or AmbientCapabilities=CAP_NET_BIND_SERVICE in the systemd unit), ` +
          `or set ${listener.key} to a port of 1024 or more`
        );
      }
      return `${what}: permission denied (${code}); a security policy forbids this address`;
    case 'EADDRNOTAVAIL':
      return `${what}: ${listener.host} is not an address of this host; use one of its addresses, or 0.0.0.0 or [::] for all`;
    case 'EAFNOSUPPORT':
      return `${what}: this host has no ${listener.host.includes(':') ? 'IPv6' : 'IPv4'}; use an address of the other family`;
    default:
      return undefined;
  }
}

/** Socket inodes bound to `port` in /proc/net/{tcp,udp}{,6} (TCP: listening sockets only). */
async function socketInodes(
  port: number,
  protocol: 'UDP' | 'TCP' | undefined,
): Promise<Set<string>> {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const tables =
    protocol === 'TCP'
      ? ['tcp', 'tcp6']
      : protocol === 'UDP'
        ? ['udp', 'udp6']
        : ['tcp', 'tcp6', 'udp', 'udp6'];
  const inodes = new Set<string>();
  for (const table of tables) {
    const text = await readFile(`/proc/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const isListening = table.startsWith('udp') || f[3] === '0A';
      if (f[1]?.endsWith(hexPort) === true && isListening && f[9] !== undefined && f[9] !== '0') {
        inodes.add(f[9]);
      }
    }
  }
  return inodes;
}

/**
 * The process holding `port` (`node (pid 1234)`), found through /proc; undefined where /proc
 * cannot tell (another OS, another user's process without privileges, a process in another
 * network namespace). Reads at most a few thousand symlinks; best effort.
 */
export async function portHolder(
  port: number,
  protocol?: 'UDP' | 'TCP',
): Promise<string | undefined> {
  const inodes = await socketInodes(port, protocol);
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^[0-9]+$/.test(name));
  for (const pid of pids) {
    if (pid === String(process.pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[([0-9]+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        const name = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
        return name === '' ? `process ${pid}` : `${name} (pid ${pid})`;
      }
    }
  }
  return undefined;
}
