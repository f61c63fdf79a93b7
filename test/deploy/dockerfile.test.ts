/**
 * The container image recipe without a Docker engine (issue 7): the Dockerfile is linted, its
 * contract checked (pinned slim base, two stages, production dependencies, non-root user, port 53
 * capability, HEALTHCHECK, config path, ports), and its build and start commands are run in a
 * clean copy of the repository, so that the recipe cannot rot. The systemd install steps run from
 * the same build.
 */
import { cp, chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { dig } from '../../support/dig.js';
import { waitForReload } from '../../support/mesodns.js';
import { freePort } from '../../support/ports.js';
import {
  REPO_ROOT,
  copyFiles,
  execForm,
  isIgnored,
  localConfig,
  parseDockerfile,
  parseDockerignore,
  repoFiles,
  run,
  spawnServer,
  splitFlags,
  waitForZone,
  type Instruction,
  type Stage,
} from './recipe.js';

const DOCKERFILE = join(REPO_ROOT, 'Dockerfile');
const BASE_IMAGE = 'node:20-bookworm-slim';
/** The config path the image documents (helm-free-deploy/README.md). */
const CONFIG_PATH = '/etc/mesodns/mesodns.yaml';
/** The node binary of the official image. */
const IMAGE_NODE = '/usr/local/bin/node';
/** The official image's `node` user. */
const NODE_UID = 1000;
const DEV_ONLY = ['typescript', 'esbuild', 'ava', 'tsx', 'eslint', 'prettier', 'dockerfilelint'];
const isRoot = process.getuid?.() === 0;

async function stages(): Promise<Stage[]> {
  return parseDockerfile(await readFile(DOCKERFILE, 'utf8'));
}

function only(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

function lastArgs(stage: Stage, keyword: string): string {
  const found = only(stage, keyword).at(-1);
  if (found === undefined) throw new Error(`no ${keyword} in the stage`);
  return found.args;
}

/** `apt-get ...` RUN lines change the operating system image, not the application. */
function isSystemStep(command: string): boolean {
  return /^apt-get\s/.test(command);
}

/** The HEALTHCHECK command as an argv. */
function healthcheckArgv(stage: Stage): string[] {
  const { rest } = splitFlags(lastArgs(stage, 'HEALTHCHECK') + ' ');
  const m = /^CMD\s+(.*)$/s.exec(rest.trim());
  if (m === null) throw new Error(`HEALTHCHECK without an exec-form CMD: ${rest}`);
  return execForm(m[1] ?? '');
}

/** ENV instructions (`K=V K2=V2` form) as a record. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of only(stage, 'ENV')) {
    for (const pair of ins.args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`line ${String(ins.line)}: ENV wants KEY=VALUE, got ${pair}`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Lint and contract.

test('dockerfilelint reports no problem in the Dockerfile', async (t) => {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'dockerfilelint');
  const r = await run(bin, ['Dockerfile'], { cwd: REPO_ROOT });
  t.is(r.code, 0, r.out);
});

test('dockerfilelint catches a defect in a mutated copy (the lint is not a no-op)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-lint-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const text = await readFile(DOCKERFILE, 'utf8');
  await writeFile(join(dir, 'Dockerfile'), text.replace(`FROM ${BASE_IMAGE}\n`, 'FROM node\n'));
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'dockerfilelint');
  const r = await run(bin, ['Dockerfile'], { cwd: dir });
  t.not(r.code, 0, r.out);
  t.regex(r.out, /Base Image Missing/);
});

test('the Dockerfile builds in a stage and ships a pinned slim Node 20 image', async (t) => {
  const all = await stages();
  t.true(all.length >= 2, 'multi-stage');
  for (const stage of all) t.is(stage.image, BASE_IMAGE, 'every stage on the pinned slim tag');
  const [build] = all;
  const final = all.at(-1);
  if (build === undefined || final === undefined) return;
  t.is(build.name, 'build');
  const buildRuns = only(build, 'RUN').map((i) => splitFlags(i.args).rest);
  t.true(buildRuns.some((c) => /\bnpm ci\b/.test(c) && !c.includes('--omit=dev')));
  t.true(buildRuns.includes('npm run build'));
  const finalRuns = only(final, 'RUN').map((i) => splitFlags(i.args).rest);
  t.true(
    finalRuns.some((c) => /^npm ci --omit=dev\b/.test(c)),
    'production dependencies only in the final stage',
  );
  t.false(
    finalRuns.some((c) => c.includes('npm run build')),
    'no compilation in the final stage',
  );
  const copies = only(final, 'COPY').map((i) => i.args);
  t.true(copies.some((c) => c.startsWith('--from=build ') && c.includes('/app/dist')));
  t.false(
    copies.some((c) => /(^|\s)src(\s|\/)/.test(c)),
    'sources stay in the build stage',
  );
  t.is(envOf(final).NODE_ENV, 'production');
});

test('the image runs as node, can bind port 53, checks /health and reads the documented config', async (t) => {
  const final = (await stages()).at(-1);
  if (final === undefined) return t.fail('no stage');
  t.is(lastArgs(final, 'USER'), 'node', 'non-root user of the official image');
  const system = only(final, 'RUN')
    .map((i) => i.args)
    .filter(isSystemStep);
  t.is(system.length, 1);
  t.regex(
    system[0] ?? '',
    /setcap cap_net_bind_service=\+ep "\$\(readlink -f \/usr\/local\/bin\/node\)"/,
  );
  t.regex(system[0] ?? '', /--no-install-recommends/);
  t.regex(system[0] ?? '', /rm -rf \/var\/lib\/apt\/lists\/\*$/);
  t.deepEqual(lastArgs(final, 'EXPOSE').split(' ').sort(), ['53/tcp', '53/udp', '8123/tcp']);
  const health = healthcheckArgv(final);
  t.is(health[0], 'node');
  t.regex(health.join(' '), /fetch\(process\.env\.MESODNS_HEALTH_URL\)/);
  t.is(envOf(final).MESODNS_HEALTH_URL, 'http://127.0.0.1:8123/health');
  t.deepEqual(execForm(lastArgs(final, 'ENTRYPOINT')), ['node', '/app/dist/main.js']);
  t.deepEqual(execForm(lastArgs(final, 'CMD')), ['serve', '--config', CONFIG_PATH]);
});

test('.dockerignore lets exactly the build inputs into the context', async (t) => {
  const rules = parseDockerignore(await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8'));
  const context = (await repoFiles()).filter((f) => !isIgnored(rules, f));
  t.true(context.length > 10, context.join('\n'));
  for (const f of context) {
    t.true(
      ['package.json', 'package-lock.json', 'tsconfig.json', 'binding.gyp'].includes(f) ||
        f.startsWith('src/') ||
        f.startsWith('native/') ||
        f === 'config/mesodns.schema.json' ||
        f === 'scripts/build.ts',
      `unexpected in the build context: ${f}`,
    );
  }
  t.true(context.includes('src/main.ts'));
  // Docker's rules: a parent directory matching decides for what is below it.
  t.true(isIgnored(rules, 'node_modules/yaml/package.json'));
  t.true(isIgnored(rules, 'dist/main.js'));
  t.true(isIgnored(rules, 'config/demo.yaml'));
});

// ---------------------------------------------------------------------------------------------
// Running the recipe.

/** The clean copy of the repository and the build context made from it. */
interface Workspace {
  readonly dir: string;
  /** The clean copy of the repository. */
  readonly repo: string;
  /** The build context (the clean copy minus .dockerignore). */
  readonly context: string;
  readonly stages: readonly Stage[];
}

/** What running one stage left behind. */
interface StageRun {
  /** The stage's root file system. */
  readonly root: string;
  readonly stage: Stage;
  /** Whether the system step's setcap ran on the stand-in for the image's node. */
  readonly hasCapability: boolean;
  readonly log: readonly string[];
}

/** The environment of RUN commands: this machine's, minus npm's script variables. */
function runEnv(stageEnv: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    // npm exports its whole state to scripts (npm_config_local_prefix, npm_package_*...): drop
    // it, keeping only settings that say where the registry and the cache are.
    if (
      /^npm_/i.test(key) &&
      !/^npm_config_(registry|cache|userconfig|.*proxy|cafile|strict_ssl)$/i.test(key)
    ) {
      continue;
    }
    if (['INIT_CWD', 'NODE_ENV', 'NODE_OPTIONS'].includes(key)) continue;
    env[key] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  // Speed only: take packages from npm's cache when they are there (the RUN's cache mount).
  env.npm_config_prefer_offline = 'true';
  env.npm_config_update_notifier = 'false';
  return { ...env, ...stageEnv };
}

/** Copies `src` (file or directory) to `dest` with Docker's COPY semantics. */
async function dockerCopy(src: string, dest: string, isDestDir: boolean): Promise<void> {
  if (!existsSync(src)) throw new Error(`COPY: ${src} does not exist`);
  const isDir = (await readdir(src).catch(() => undefined)) !== undefined;
  if (isDir) {
    await mkdir(dest, { recursive: true });
    await cp(src, dest, { recursive: true });
  } else {
    const target = isDestDir ? join(dest, basename(src)) : dest;
    await mkdir(dirname(target), { recursive: true });
    await cp(src, target);
  }
}

/**
 * Runs one stage: WORKDIR, ENV, COPY (from the context or an earlier stage) and RUN (`sh -c` in
 * the stage's working directory). The one `apt-get` line is the base-image step: of it, only the
 * `setcap` command runs (as root, on a copy of this node standing in for the image's).
 */
async function runStage(
  ws: Workspace,
  index: number,
  names: ReadonlyMap<string, string>,
): Promise<StageRun> {
  const stage = ws.stages[index];
  if (stage === undefined) throw new Error(`no stage ${String(index)}`);
  const root = join(ws.dir, `stage-${String(index)}`);
  const context = ws.context;
  const log: string[] = [];
  let hasCapability = false;
  await mkdir(join(root, dirname(IMAGE_NODE)), { recursive: true });
  let workdir = '/';
  const env: Record<string, string> = {};
  for (const ins of stage.instructions) {
    const { flags, rest } = splitFlags(ins.args + ' ');
    const args = rest.trim();
    switch (ins.keyword) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, args);
        await mkdir(join(root, workdir), { recursive: true });
        break;
      case 'ENV':
        Object.assign(env, envOf({ image: '', name: undefined, instructions: [ins] }));
        break;
      case 'COPY': {
        const from = flags.get('from')?.[0];
        const base = from === undefined ? context : names.get(from);
        if (base === undefined)
          throw new Error(`line ${String(ins.line)}: unknown stage ${from ?? ''}`);
        const parts = args.split(' ');
        const destArg = parts.pop() ?? '';
        if (parts.some((p) => /[*?[]/.test(p))) throw new Error('COPY wildcards are not emulated');
        const dest = join(root, posix.resolve(workdir, destArg));
        const isDestDir = destArg.endsWith('/') || parts.length > 1;
        for (const src of parts) await dockerCopy(join(base, src), dest, isDestDir);
        break;
      }
      case 'RUN': {
        for (const mount of flags.get('mount') ?? []) {
          // A cache mount of npm's cache: this machine's npm cache plays its part.
          if (mount !== 'type=cache,target=/root/.npm') throw new Error(`RUN --mount=${mount}`);
        }
        if (isSystemStep(args)) {
          await cp(process.execPath, join(root, IMAGE_NODE));
          const setcap = args.split('&&').find((c) => c.trim().startsWith('setcap '));
          if (
            isRoot &&
            setcap !== undefined &&
            (await run('sh', ['-c', 'command -v setcap'])).code === 0
          ) {
            const command = setcap.replaceAll(IMAGE_NODE, join(root, IMAGE_NODE));
            const r = await run('sh', ['-c', command]);
            if (r.code !== 0) throw new Error(`${command}: ${r.out}`);
            hasCapability = true;
            log.push(`ran: ${command.trim()}`);
          } else {
            log.push(`skipped (not root or no setcap): ${args}`);
          }
          break;
        }
        const started = Date.now();
        const r = await run('sh', ['-c', args], { cwd: join(root, workdir), env: runEnv(env) });
        if (r.code !== 0) throw new Error(`RUN ${args} (stage ${String(index)}) failed:\n${r.out}`);
        log.push(`ran: ${args} (${String(Date.now() - started)} ms)`);
        break;
      }
      case 'USER':
      case 'EXPOSE':
      case 'HEALTHCHECK':
      case 'ENTRYPOINT':
      case 'CMD':
      case 'LABEL':
      case 'ARG':
        break;
      default:
        throw new Error(`line ${String(ins.line)}: ${ins.keyword} is not emulated`);
    }
  }
  return { root, stage, hasCapability, log };
}

let workspace: Promise<Workspace> | undefined;
/** The clean copy and the context: once for this file's tests. */
function prepared(): Promise<Workspace> {
  workspace ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mesodns-image-'));
    // The server runs as uid 1000 below: it must be able to reach the files.
    await chmod(dir, 0o755);
    const files = await repoFiles();
    await copyFiles(files, join(dir, 'repo'));
    const rules = parseDockerignore(await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8'));
    const context = join(dir, 'context');
    await copyFiles(
      files.filter((f) => !isIgnored(rules, f)),
      context,
    );
    return { dir, repo: join(dir, 'repo'), context, stages: await stages() };
  })();
  return workspace;
}

const stageRuns = new Map<number, Promise<StageRun>>();
/** Stage `index` run (after the stages before it): once for this file's tests. */
function stageRun(index: number): Promise<StageRun> {
  let running = stageRuns.get(index);
  if (running === undefined) {
    running = (async () => {
      const ws = await prepared();
      const names = new Map<string, string>();
      for (let i = 0; i < index; i++) {
        const before = await stageRun(i);
        if (before.stage.name !== undefined) names.set(before.stage.name, before.root);
      }
      return runStage(ws, index, names);
    })();
    stageRuns.set(index, running);
  }
  return running;
}

/** The final stage's run. */
async function finalRun(): Promise<StageRun> {
  return stageRun((await prepared()).stages.length - 1);
}

test.after.always(async () => {
  if (workspace === undefined) return;
  const ws = await workspace.catch(() => undefined);
  if (ws !== undefined) await rm(ws.dir, { recursive: true, force: true });
});

/** Whether 127.0.0.1:`port` can be bound for UDP and TCP right now. */
async function canBind(port: number): Promise<boolean> {
  const tcp = createServer();
  const isTcp = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => {
      resolve(false);
    });
    tcp.listen(port, '127.0.0.1', () => {
      resolve(true);
    });
  });
  if (!isTcp) return false;
  const udp = createSocket('udp4');
  const isUdp = await new Promise<boolean>((resolve) => {
    udp.once('error', () => {
      resolve(false);
    });
    udp.bind(port, '127.0.0.1', () => {
      resolve(true);
    });
  });
  if (isUdp) {
    await new Promise<void>((resolve) => {
      udp.close(() => {
        resolve();
      });
    });
  }
  await new Promise<void>((resolve) => {
    tcp.close(() => {
      resolve();
    });
  });
  return isUdp;
}

test.serial(
  'build stage: npm ci and npm run build run in a clean copy of the repository',
  async (t) => {
    t.timeout(300_000);
    const r = await stageRun(0);
    for (const line of r.log) t.log(line);
    t.is(r.stage.name, 'build');
    t.true(existsSync(join(r.root, 'app', 'dist', 'main.js')));
    for (const addon of ['udp_batch.node', 'mem_trim.node', 'json_scan.node']) {
      t.true(existsSync(join(r.root, 'app', 'build', 'Release', addon)), `npm ci built ${addon}`);
    }
  },
);

test.serial(
  'final stage: the compiled program, its production dependencies, the schema',
  async (t) => {
    t.timeout(300_000);
    const r = await finalRun();
    for (const line of r.log) t.log(line);
    const app = join(r.root, 'app');
    t.deepEqual((await readdir(app)).sort(), [
      'build',
      'config',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
    ]);
    t.deepEqual(await readdir(join(app, 'config')), ['mesodns.schema.json']);
    t.true(existsSync(join(app, 'dist', 'main.js')));
    t.deepEqual(
      (await readdir(join(app, 'build', 'Release'))).sort(),
      ['json_scan.node', 'mem_trim.node', 'udp_batch.node'],
      'the native addons from the build stage',
    );
    t.true(existsSync(join(app, 'node_modules', 'yaml', 'package.json')));
    for (const dev of DEV_ONLY) {
      t.false(existsSync(join(app, 'node_modules', dev)), `dev dependency ${dev} in the image`);
    }
    const size = await run('du', ['-sm', app]);
    t.log(`/app: ${size.out.split(/\s/)[0] ?? '?'} MB on top of the base image`);
  },
);

test.serial('start: ENTRYPOINT + CMD as node on port 53, HEALTHCHECK, SIGTERM', async (t) => {
  t.timeout(120_000);
  const b = await finalRun();
  const root = b.root;

  // `docker run -v conf:/etc/mesodns`: a config (demo state, loopback ports) at the documented path.
  const usePort53 = isRoot && b.hasCapability && (await canBind(53));
  const ports = { dns: usePort53 ? 53 : await freePort(), http: await freePort() };
  const configDir = join(root, dirname(CONFIG_PATH));
  await mkdir(configDir, { recursive: true });
  await cp(join(REPO_ROOT, 'config', 'demo-state.json'), join(configDir, 'demo-state.json'));
  await writeFile(join(root, CONFIG_PATH), stringify(localConfig({}, ports, 'demo-state.json')));
  await run('chmod', ['-R', 'a+rX', root]);

  // ENTRYPOINT + CMD, image paths mapped into the stage's root; `USER node` when we can.
  const imagePath = (arg: string): string => (arg.startsWith('/') ? join(root, arg) : arg);
  const nodeBin = existsSync(join(root, IMAGE_NODE)) ? join(root, IMAGE_NODE) : process.execPath;
  const argv = [
    ...execForm(lastArgs(b.stage, 'ENTRYPOINT')),
    ...execForm(lastArgs(b.stage, 'CMD')),
  ].map((a) => (a === 'node' ? nodeBin : imagePath(a)));
  const env = {
    PATH: `${dirname(nodeBin)}:/usr/bin:/bin`,
    ...envOf(b.stage),
    // `docker run -e`: the health URL follows the HTTP port of this run.
    MESODNS_HEALTH_URL: `http://127.0.0.1:${String(ports.http)}/health`,
  };
  const user = isRoot ? { uid: NODE_UID, gid: NODE_UID } : {};
  t.log(
    usePort53
      ? `starting as uid ${String(NODE_UID)} on 127.0.0.1:53 with the file capability`
      : `starting as uid ${String(isRoot ? NODE_UID : process.getuid?.())} on 127.0.0.1:${String(ports.dns)} (no port-53 check: not root, no setcap, or port 53 busy)`,
  );
  const [cmd = '', ...args] = argv;
  const server = spawnServer(cmd, args, { cwd: join(root, workdirOf(b.stage)), env, ...user });
  t.teardown(() => server.stop('SIGKILL'));
  await waitForZone(server, ports.dns);
  t.regex(server.logs(), new RegExp(`mesodns started .*dns=127\\.0\\.0\\.1:${String(ports.dns)}`));

  const answer = await dig(ports.dns, ['web.marathon.mesos', 'A']);
  t.is(answer.status, 'NOERROR', answer.raw);
  t.is(answer.answer.length, 3, answer.raw);

  // HEALTHCHECK: healthy while running, unhealthy once stopped.
  const health = healthcheckArgv(b.stage).map((a) => (a === 'node' ? nodeBin : a));
  const [hcmd = '', ...hargs] = health;
  const healthy = await run(hcmd, hargs, { env, ...user });
  t.is(healthy.code, 0, healthy.out);

  t.is(await server.stop('SIGTERM'), 0, `SIGTERM: clean exit\n${server.logs()}`);
  const unhealthy = await run(hcmd, hargs, { env, ...user });
  t.not(unhealthy.code, 0);
});

function workdirOf(stage: Stage): string {
  return only(stage, 'WORKDIR').reduce((dir, ins) => posix.resolve(dir, ins.args), '/');
}

// ---------------------------------------------------------------------------------------------
// systemd/README.md's install steps, from the same build.

/** `Key=value` lines of one section of a unit file, in order. */
function unitValues(text: string, section: string, key: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      current = header[1] ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    if (current === section && eq > 0 && line.slice(0, eq) === key) out.push(line.slice(eq + 1));
  }
  return out;
}

test.serial(
  'the systemd install steps (npm pack, unpack, npm ci --omit=dev) give a runnable unit',
  async (t) => {
    t.timeout(300_000);
    const b = await prepared();
    // `npm ci && npm run build` in a checkout: the build stage did exactly that with these sources.
    const build = await stageRun(0);
    await cp(join(build.root, 'app', 'dist'), join(b.repo, 'dist'), { recursive: true });
    const packDir = join(b.dir, 'pack');
    await mkdir(packDir);
    const pack = await run('npm', ['pack', '--pack-destination', packDir], {
      cwd: b.repo,
      env: runEnv({}),
    });
    t.is(pack.code, 0, pack.out);
    const [tarball] = await readdir(packDir);
    if (tarball === undefined) return t.fail('npm pack made no tarball');
    const listing = await run('tar', ['-tzf', join(packDir, tarball)]);
    t.true(listing.out.includes('package/dist/main.js'));
    t.true(listing.out.includes('package/config/mesodns.schema.json'));
    t.false(listing.out.includes('package-lock.json'), 'npm pack leaves the lockfile out');

    const opt = join(b.dir, 'opt', 'mesodns');
    await mkdir(opt, { recursive: true });
    const untar = await run('tar', [
      '-xzf',
      join(packDir, tarball),
      '-C',
      opt,
      '--strip-components=1',
    ]);
    t.is(untar.code, 0, untar.out);
    await cp(join(b.repo, 'package-lock.json'), join(opt, 'package-lock.json'));
    const ci = await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: opt,
      env: runEnv({}),
    });
    t.is(ci.code, 0, ci.out);
    for (const dev of DEV_ONLY) t.false(existsSync(join(opt, 'node_modules', dev)));

    // The unit's commands with its paths mapped: /usr/bin/node, /opt/mesodns, /etc/mesodns.
    const unit = await readFile(
      join(REPO_ROOT, 'helm-free-deploy', 'systemd', 'mesodns.service'),
      'utf8',
    );
    const etc = join(b.dir, 'etc', 'mesodns');
    await mkdir(etc, { recursive: true });
    const shipped = await readFile(
      join(REPO_ROOT, 'helm-free-deploy', 'systemd', 'mesodns.yaml'),
      'utf8',
    );
    await writeFile(join(etc, 'mesodns.yaml'), shipped);
    const mapped = (line: string): string[] =>
      line
        .split(' ')
        .map((w) =>
          w === '/usr/bin/node'
            ? process.execPath
            : w.replace('/opt/mesodns', opt).replace('/etc/mesodns', etc),
        );
    const [pre] = unitValues(unit, 'Service', 'ExecStartPre');
    const [start] = unitValues(unit, 'Service', 'ExecStart');
    if (pre === undefined || start === undefined) return t.fail('ExecStartPre/ExecStart missing');
    const [preCmd = '', ...preArgs] = mapped(pre);
    const checked = await run(preCmd, preArgs);
    t.is(checked.code, 0, `ExecStartPre on the shipped config: ${checked.out}`);

    // ExecStart, with the config moved to loopback and the demo state (the masters do not exist).
    const ports = { dns: await freePort(), http: await freePort() };
    const local = localConfig(
      parseRecord(shipped),
      ports,
      join(REPO_ROOT, 'config', 'demo-state.json'),
    );
    await writeFile(join(etc, 'mesodns.yaml'), stringify(local));
    const [cmd = '', ...args] = mapped(start);
    const server = spawnServer(cmd, args, {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    });
    t.teardown(() => server.stop('SIGKILL'));
    await waitForZone(server, ports.dns);

    // ExecReload: kill -HUP $MAINPID re-reads the config.
    const [reload] = unitValues(unit, 'Service', 'ExecReload');
    t.is(reload, '/bin/kill -HUP $MAINPID');
    const hup = await run('kill', ['-HUP', String(server.proc.pid)]);
    t.is(hup.code, 0, hup.out);
    const http = { httpUrl: `http://127.0.0.1:${String(ports.http)}` };
    await waitForReload(http, { applied: 0, rejected: 0 });
    t.is(await server.stop('SIGTERM'), 0, server.logs());
  },
);

function parseRecord(text: string): Record<string, unknown> {
  const value: unknown = parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('config is not a mapping');
  }
  return Object.fromEntries(Object.entries(value));
}
