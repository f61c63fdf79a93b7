/**
 * A throw-away certificate authority for TLS tests, made at test time with the `openssl` CLI in a
 * temp dir (no private key is committed): a CA, a server certificate for 127.0.0.1 and
 * localhost, a client certificate, and a second, unrelated CA that verifies nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files (paths) and their PEM text. */
export interface Pem {
  readonly path: string;
  readonly pem: string;
}

/** What `makeTestCa` produced; `remove()` deletes the directory. */
export interface TestCa {
  readonly dir: string;
  readonly ca: Pem;
  readonly serverCert: Pem;
  readonly serverKey: Pem;
  readonly clientCert: Pem;
  readonly clientKey: Pem;
  /** A CA that signed none of the above. */
  readonly otherCa: Pem;
  remove(): Promise<void>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

async function selfSigned(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
  ]);
}

async function signed(dir: string, name: string, cn: string, extensions: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, [
    'req',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** Creates the CA and certificates (a few hundred milliseconds of openssl). */
export async function makeTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-ca-'));
  await selfSigned(dir, 'ca', 'mesodns test CA');
  await selfSigned(dir, 'other-ca', 'unrelated test CA');
  await signed(
    dir,
    'server',
    'localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await signed(dir, 'client', 'mesodns', 'extendedKeyUsage=clientAuth\n');
  const pem = async (file: string): Promise<Pem> => {
    const path = join(dir, file);
    return { path, pem: await readFile(path, 'utf8') };
  };
  return {
    dir,
    ca: await pem('ca.pem'),
    serverCert: await pem('server.pem'),
    serverKey: await pem('server.key'),
    clientCert: await pem('client.pem'),
    clientKey: await pem('client.key'),
    otherCa: await pem('other-ca.pem'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
