/** OS errors explained in one line: files that cannot be read, addresses that cannot be bound. */
import test from 'ava';
import { bindProblem, bindProtocol, errnoText, fileReadProblem } from '../src/os-errors.js';
import type { Listener } from '../src/os-errors.js';

function sysError(code: string, message: string, syscall?: string): Error {
  return Object.assign(new Error(message), { code, ...(syscall === undefined ? {} : { syscall }) });
}

test('errnoText says what an errno means, and keeps unknown errors as they are', (t) => {
  t.is(errnoText(sysError('ENOENT', 'x')), 'no such file or directory (ENOENT)');
  t.is(errnoText(sysError('EWHATEVER', 'something odd')), 'something odd');
  t.is(errnoText('text'), 'text');
});

const FILE_CASES: readonly (readonly [string, string, string])[] = [
  ['ENOENT', 'state.json', 'no such file or directory (ENOENT); check the path (relative to /srv)'],
  ['ENOENT', '/etc/x.json', 'no such file or directory (ENOENT); check the path'],
  [
    'EACCES',
    '/etc/x.json',
    'permission denied (EACCES); check the permissions of the file and its directories for this user',
  ],
  ['EISDIR', '/etc', 'is a directory (EISDIR); give a file'],
  ['EIO', '/etc/x', 'input/output error (EIO)'],
];

for (const [code, file, want] of FILE_CASES) {
  test(`fileReadProblem: ${code} on ${file}`, (t) => {
    t.is(fileReadProblem(sysError(code, 'raw'), file, '/srv'), want);
  });
}

test('bindProtocol tells UDP (dgram, the addon) from TCP (net)', (t) => {
  t.is(bindProtocol(sysError('EADDRINUSE', 'bind EADDRINUSE 0.0.0.0:53', 'bind')), 'UDP');
  t.is(bindProtocol(sysError('EADDRINUSE', 'bind EADDRINUSE 0.0.0.0:53 (Address in use)')), 'UDP');
  t.is(bindProtocol(sysError('EADDRINUSE', 'listen EADDRINUSE', 'listen')), 'TCP');
  t.is(bindProtocol(new Error('other')), undefined);
});

const DNS: Listener = { key: 'dns.listen', host: '0.0.0.0', port: 53, protocol: 'UDP' };
const BIND_CASES: readonly (readonly [string, string, Listener, string | undefined, string])[] = [
  [
    'EADDRINUSE with the holder found',
    'EADDRINUSE',
    DNS,
    'named (pid 42)',
    'cannot listen on 0.0.0.0:53 UDP (dns.listen): address already in use (EADDRINUSE) by named (pid 42); stop it or set dns.listen to another port',
  ],
  [
    'EADDRINUSE, holder unknown, IPv6',
    'EADDRINUSE',
    { key: 'http.listen', host: '::1', port: 8123, protocol: 'TCP' },
    undefined,
    'cannot listen on [::1]:8123 TCP (http.listen): address already in use (EADDRINUSE) by another process; stop it or set http.listen to another port',
  ],
  [
    'EACCES below 1024',
    'EACCES',
    DNS,
    undefined,
    "cannot listen on 0.0.0.0:53 UDP (dns.listen): permission denied (EACCES), ports below 1024 need privileges; run as root, grant CAP_NET_BIND_SERVICE (setcap 'cap_net_bind_service=+ep' $(command -v node), or AmbientCapabilities=CAP_NET_BIND_SERVICE in the systemd unit), or set dns.listen to a port of 1024 or more",
  ],
  [
    'EACCES above 1024',
    'EACCES',
    { key: 'dns.listen', host: '10.0.0.1', port: 8053 },
    undefined,
    'cannot listen on 10.0.0.1:8053 (dns.listen): permission denied (EACCES); a security policy forbids this address',
  ],
  [
    'EADDRNOTAVAIL',
    'EADDRNOTAVAIL',
    { key: 'dns.listen', host: '10.9.9.9', port: 8053, protocol: 'UDP' },
    undefined,
    'cannot listen on 10.9.9.9:8053 UDP (dns.listen): 10.9.9.9 is not an address of this host; use one of its addresses, or 0.0.0.0 or [::] for all',
  ],
];

for (const [title, code, listener, holder, want] of BIND_CASES) {
  test(`bindProblem: ${title}`, (t) => {
    t.is(bindProblem(sysError(code, 'raw'), listener, holder), want);
  });
}

test('bindProblem leaves errors it cannot explain alone', (t) => {
  t.is(bindProblem(sysError('ENOMEM', 'raw'), DNS), undefined);
  t.is(bindProblem(new Error('plain'), DNS), undefined);
});
