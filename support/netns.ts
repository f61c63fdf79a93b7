/**
 * Real clients that insist on port 53 and on /etc/resolv.conf (glibc, Java), run against mesodns
 * in network and mount namespaces of their own: a `support/netns-*.sh` script runs there (it
 * sources netns-mesodns.sh, which starts mesodns on 127.0.0.1:53 with private resolv.conf and
 * nsswitch.conf). Only loopback exists in the namespace, so nothing leaves it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { stringify } from 'yaml';
import { REPO_ROOT } from './paths.js';
import { findTool, haveTools } from './resolvers.js';

/** What a run in the namespace printed, and mesodns's log there. */
export interface NetnsRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly log: string;
}

/** How to enter fresh network and mount namespaces: plain as root, else in a user namespace. */
function unshareArgs(): string[] {
  const asRoot = process.getuid?.() === 0;
  return [...(asRoot ? [] : ['--user', '--map-root-user']), '--net', '--mount'];
}

function run(
  command: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 90_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Whether namespaces can be made here with the tools the scripts need; when not, the test is
 * passed with a log line saying why (as `haveTools` does).
 */
export async function canUseNetns(t: ExecutionContext): Promise<boolean> {
  if (!haveTools(t, ['unshare', 'ip', 'getent', 'dig', 'mount'])) return false;
  const probe = await run(findTool('unshare') ?? 'unshare', [...unshareArgs(), 'true']);
  if (probe.code === 0) return true;
  t.log(`skipped: cannot create network and mount namespaces here: ${probe.stderr.trim()}`);
  t.pass();
  return false;
}

/**
 * Runs `support/<script>` in fresh namespaces with mesodns serving `state` under `config` (its
 * `mesos.stateFile` and `dns.listen` 127.0.0.1:53 are set here), `args` after the script's
 * DIR NODE MAIN_JS.
 */
export async function runInNetns(
  t: ExecutionContext,
  script: string,
  state: unknown,
  config: Record<string, unknown>,
  args: readonly string[],
): Promise<NetnsRun> {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-netns-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'state.json'), JSON.stringify(state));
  const mesos = { refresh: '30s', ...(config['mesos'] as object | undefined) };
  await writeFile(
    join(dir, 'mesodns.yaml'),
    stringify({
      domain: 'mesos',
      forward: { enabled: false },
      http: { enabled: false },
      ...config,
      mesos: { ...mesos, stateFile: join(dir, 'state.json') },
      // Port 53 inside the namespace only (glibc asks port 53).
      dns: { listen: '127.0.0.1:53' },
    }),
  );
  await writeFile(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:5 attempts:2\n');
  await writeFile(join(dir, 'nsswitch.conf'), 'hosts: dns\n');
  const r = await run(findTool('unshare') ?? 'unshare', [
    ...unshareArgs(),
    'bash',
    join(REPO_ROOT, 'support', script),
    dir,
    process.execPath,
    join(REPO_ROOT, 'dist', 'main.js'),
    ...args,
  ]);
  const log = await readFile(join(dir, 'mesodns.log'), 'utf8').catch(() => '');
  return { ...r, log };
}
