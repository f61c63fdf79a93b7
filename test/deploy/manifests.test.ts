/**
 * helm-free-deploy/ (issue 7): every manifest parses, the ports, probe paths, config paths,
 * selectors and image tags agree with each other and with the config each directory ships, every
 * shipped config passes `mesodns check-config`, and the compose demo's fake master and config
 * work together. Needs the built server (`npm run build`).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, posix, relative, resolve } from 'node:path';
import test from 'ava';
import { parse, parseAllDocuments } from 'yaml';
import { dig } from '../../support/dig.js';
import { startMesodns } from '../../support/mesodns.js';
import { freePort } from '../../support/ports.js';
import { REPO_ROOT, checkConfig, isRecord, run, spawnServer } from './recipe.js';

const DEPLOY = join(REPO_ROOT, 'helm-free-deploy');
const CONFIG_PATH = '/etc/mesodns/mesodns.yaml';
const VERSION = await packageVersion();
const IMAGE = `registry.example.internal/mesodns:${VERSION}`;

async function packageVersion(): Promise<string> {
  const pkg: unknown = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
  if (!isRecord(pkg) || typeof pkg.version !== 'string') throw new Error('package.json version');
  return pkg.version;
}

// ---------------------------------------------------------------------------------------------
// Narrowing of parsed documents (they are data: no `as`).

type Obj = Record<string, unknown>;

function obj(value: unknown, what: string): Obj {
  if (!isRecord(value)) throw new Error(`${what}: not a mapping`);
  return value;
}

function arr(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: not a list`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: not a string`);
  return value;
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new Error(`${what}: not a number`);
  return value;
}

/** Follows a path of keys and indexes, e.g. `at(doc, 'spec', 'template', 'spec')`. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') current = arr(current, path.join('.'))[key];
    else current = obj(current, path.join('.'))[key];
  }
  return current;
}

async function readYaml(file: string): Promise<Obj> {
  return obj(parse(await readFile(file, 'utf8')), file);
}

async function readJson(file: string): Promise<Obj> {
  return obj(JSON.parse(await readFile(file, 'utf8')), file);
}

/** The port of a `host:port` / `[v6]:port` listen address. */
function portOf(listen: unknown): number {
  const m = /:(\d+)$/.exec(str(listen, 'listen'));
  return Number(m?.[1]);
}

/** The listen ports of a mesodns config object. */
function listenPorts(config: Obj): { dns: number; http: number } {
  return { dns: portOf(at(config, 'dns', 'listen')), http: portOf(at(config, 'http', 'listen')) };
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// Every file.

test('every file in helm-free-deploy parses, and every directory has a README', async (t) => {
  const files = await allFiles(DEPLOY);
  t.true(files.length >= 15, files.join('\n'));
  for (const file of files) {
    const name = relative(DEPLOY, file);
    const text = await readFile(file, 'utf8');
    switch (extname(file)) {
      case '.yaml':
      case '.yml':
        for (const doc of parseAllDocuments(text)) {
          t.deepEqual(
            [...doc.errors, ...doc.warnings].map((e) => e.message),
            [],
            name,
          );
        }
        break;
      case '.json':
        t.notThrows((): unknown => JSON.parse(text), name);
        break;
      case '.service':
        t.regex(text, /^\[Unit\]$/m, name);
        t.regex(text, /^\[Service\]$/m, name);
        break;
      case '.Corefile':
        t.is(text.split('{').length, text.split('}').length, `${name}: balanced braces`);
        break;
      case '.md':
        break;
      default:
        t.fail(`${name}: no check for this kind of file; add one to this test`);
    }
  }
  for (const dir of ['.', 'marathon', 'systemd', 'kubernetes', 'compose', 'monitoring']) {
    t.true(existsSync(join(DEPLOY, dir, 'README.md')), `${dir}/README.md`);
  }
});

/** The configs shipped, by where they come from; a ConfigMap's is written to a temp file. */
async function shippedConfigs(
  dir: string,
): Promise<{ name: string; file: string; text: string }[]> {
  const configMap = await readYaml(join(DEPLOY, 'kubernetes', 'configmap.yaml'));
  const k8sText = str(at(configMap, 'data', 'mesodns.yaml'), 'ConfigMap data mesodns.yaml');
  const k8sFile = join(dir, 'kubernetes-configmap-mesodns.yaml');
  await writeFile(k8sFile, k8sText);
  const out = [{ name: 'kubernetes/configmap.yaml data', file: k8sFile, text: k8sText }];
  for (const d of ['marathon', 'systemd', 'compose']) {
    const file = join(DEPLOY, d, 'mesodns.yaml');
    out.push({ name: `${d}/mesodns.yaml`, file, text: await readFile(file, 'utf8') });
  }
  return out;
}

test('every config shipped passes mesodns check-config and listens on 53 and 8123', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-configs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const { name, file, text } of await shippedConfigs(dir)) {
    const r = await checkConfig(file);
    t.is(r.code, 0, `${name}: ${r.out}`);
    t.regex(r.out, /: OK$/m, name);
    const config = obj(parse(text), name);
    t.deepEqual(listenPorts(config), { dns: 53, http: 8123 }, name);
    t.true(at(config, 'http', 'enabled') !== false, `${name}: probes need the HTTP API`);
    // Readiness must never fail for old data: all replicas age together in a master outage.
    const readyMaxAge = isRecord(config.http) ? config.http.readyMaxAge : undefined;
    t.true(
      readyMaxAge === undefined || readyMaxAge === 0 || readyMaxAge === '0s',
      `${name}: http.readyMaxAge stays off`,
    );
  }
});

test('the probe paths of every manifest answer 200 on a running mesodns', async (t) => {
  const marathon = await readJson(join(DEPLOY, 'marathon', 'mesodns.json'));
  const deployment = await readYaml(join(DEPLOY, 'kubernetes', 'deployment.yaml'));
  const container = at(deployment, 'spec', 'template', 'spec', 'containers', 0);
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const healthUrl = /MESODNS_HEALTH_URL=(\S+)/.exec(dockerfile)?.[1] ?? '';
  const paths = new Set([
    str(at(marathon, 'healthChecks', 0, 'path'), 'marathon health path'),
    str(at(container, 'readinessProbe', 'httpGet', 'path'), 'readiness path'),
    str(at(container, 'livenessProbe', 'httpGet', 'path'), 'liveness path'),
    new URL(healthUrl).pathname,
  ]);
  t.deepEqual([...paths].sort(), ['/health', '/ready']);
  const server = await startMesodns({ stateFile: 'config/demo-state.json' });
  t.teardown(() => server.stop());
  for (const path of paths) {
    const res = await fetch(server.httpUrl + path);
    t.is(res.status, 200, path);
  }
});

// ---------------------------------------------------------------------------------------------
// Marathon.

for (const variant of ['mesodns.json', 'mesodns-volume.json']) {
  test(`marathon/${variant}: host network, one per master, /health on the config's port`, async (t) => {
    const app = await readJson(join(DEPLOY, 'marathon', variant));
    const config = await readYaml(join(DEPLOY, 'marathon', 'mesodns.yaml'));
    t.is(app.id, '/mesodns');
    t.deepEqual(app.networks, [{ mode: 'host' }]);
    t.is(at(app, 'container', 'type'), 'DOCKER');
    t.is(at(app, 'container', 'docker', 'image'), IMAGE);
    const constraints = arr(app.constraints, 'constraints');
    t.true(constraints.some((c) => JSON.stringify(c) === '["hostname","UNIQUE"]'));
    t.true(
      constraints.some((c) => Array.isArray(c) && c[1] === 'CLUSTER'),
      'pinned to masters',
    );
    const check = obj(at(app, 'healthChecks', 0), 'healthChecks[0]');
    t.is(check.protocol, 'MESOS_HTTP');
    t.is(check.path, '/health');
    t.is(num(check.port, 'health check port'), listenPorts(config).http);
    t.is(listenPorts(config).dns, 53);
    t.is(at(app, 'upgradeStrategy', 'maximumOverCapacity'), 0, 'no spare host under UNIQUE');

    const args = arr(app.args, 'args').map((a) => str(a, 'arg'));
    t.deepEqual(args.slice(0, 2), ['serve', '--config']);
    const configPath = args[2] ?? '';
    if (variant === 'mesodns.json') {
      const uri = str(at(app, 'fetch', 0, 'uri'), 'fetch uri');
      t.is(basename(new URL(uri).pathname), 'mesodns.yaml', 'the shipped file name');
      t.is(configPath, `/mnt/mesos/sandbox/${basename(new URL(uri).pathname)}`);
    } else {
      t.is(app.fetch, undefined);
      const volumes = arr(at(app, 'container', 'volumes'), 'volumes');
      t.true(
        volumes.some(
          (v) => isRecord(v) && v.containerPath === dirname(configPath) && v.mode === 'RO',
        ),
        'the config directory is a read-only volume',
      );
      t.is(configPath, CONFIG_PATH);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// systemd.

const UNIT = join(DEPLOY, 'systemd', 'mesodns.service');

/** `Key=value` settings of one unit-file section, in order. */
function unitSettings(text: string, section: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      current = header[1] ?? '';
    } else if (current === section) {
      const eq = line.indexOf('=');
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return out;
}

test('systemd unit: transient user, only CAP_NET_BIND_SERVICE, hardening, reload and restart', async (t) => {
  const text = await readFile(UNIT, 'utf8');
  const service = unitSettings(text, 'Service');
  const get = (key: string): string[] => service.filter(([k]) => k === key).map(([, v]) => v);
  t.deepEqual(get('DynamicUser'), ['yes']);
  t.deepEqual(get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
  t.deepEqual(get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
  t.deepEqual(get('NoNewPrivileges'), ['yes']);
  t.deepEqual(get('ProtectSystem'), ['strict']);
  t.deepEqual(get('Restart'), ['always']);
  t.deepEqual(get('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  t.deepEqual(get('ExecStart'), [
    `/usr/bin/node /opt/mesodns/dist/main.js serve --config ${CONFIG_PATH}`,
  ]);
  t.deepEqual(get('ExecStartPre'), [
    `/usr/bin/node /opt/mesodns/dist/main.js check-config ${CONFIG_PATH}`,
  ]);
  t.deepEqual(get('MemoryDenyWriteExecute'), [], "V8's JIT needs W+X memory");
  t.deepEqual(unitSettings(text, 'Install'), [['WantedBy', 'multi-user.target']]);
  // The install steps put the files where the unit looks for them.
  const readme = await readFile(join(DEPLOY, 'systemd', 'README.md'), 'utf8');
  t.true(readme.includes(`helm-free-deploy/systemd/mesodns.yaml ${CONFIG_PATH}`));
  t.true(readme.includes('mesodns.service /etc/systemd/system/mesodns.service'));
  t.true(readme.includes('-C /opt/mesodns --strip-components=1'));
});

test('systemd-analyze verifies the unit and rates its exposure', async (t) => {
  const which = await run('sh', ['-c', 'command -v systemd-analyze']);
  if (which.code !== 0) {
    t.log('systemd-analyze not installed: skipped');
    t.pass();
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let text = await readFile(UNIT, 'utf8');
  // verify checks that the executables exist: use this machine's node when it lives elsewhere.
  if (!existsSync('/usr/bin/node')) text = text.replaceAll('/usr/bin/node', process.execPath);
  const copy = join(dir, 'mesodns.service');
  await writeFile(copy, text);
  const verify = await run('systemd-analyze', ['verify', copy]);
  t.is(verify.code, 0, verify.out);
  t.notRegex(verify.out, /mesodns\.service:\d+:/, `no warning about a line:\n${verify.out}`);
  const security = await run('systemd-analyze', ['security', '--offline=true', copy]);
  const level = /Overall exposure level for mesodns\.service: ([\d.]+)/.exec(security.out)?.[1];
  if (level === undefined) {
    t.log(`systemd-analyze security --offline unsupported here: ${security.out.slice(0, 200)}`);
    return;
  }
  t.log(`systemd-analyze security: exposure ${level}`);
  t.true(Number(level) <= 2.5, `exposure ${level}`);
});

// ---------------------------------------------------------------------------------------------
// Kubernetes.

const K8S = join(DEPLOY, 'kubernetes');

async function k8s(file: string): Promise<Obj> {
  const docs = parseAllDocuments(await readFile(join(K8S, file), 'utf8'));
  t_assert(docs.length === 1, `${file}: one document`);
  return obj(docs[0]?.toJS(), file);
}

function t_assert(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function labelsMatch(selector: unknown, labels: unknown): boolean {
  const sel = obj(selector, 'selector');
  const lab = obj(labels, 'labels');
  return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => lab[k] === v);
}

test('kubernetes: the kustomization lists every manifest, each a single named object', async (t) => {
  const kustomization = await k8s('kustomization.yaml');
  t.is(kustomization.kind, 'Kustomization');
  const resources = arr(kustomization.resources, 'resources').map((r) => str(r, 'resource'));
  const files = (await readdir(K8S)).filter(
    (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
  );
  t.deepEqual([...resources].sort(), files.sort());
  const kinds: string[] = [];
  for (const file of resources) {
    const doc = await k8s(file);
    t.is(typeof doc.apiVersion, 'string', file);
    kinds.push(str(doc.kind, `${file} kind`));
    t.is(typeof at(doc, 'metadata', 'name'), 'string', file);
    t.is(at(doc, 'metadata', 'namespace'), undefined, `${file}: the kustomization sets it`);
  }
  t.deepEqual(kinds.sort(), [
    'ConfigMap',
    'Deployment',
    'Namespace',
    'PodDisruptionBudget',
    'Service',
  ]);
  const namespace = await k8s('namespace.yaml');
  t.is(kustomization.namespace, at(namespace, 'metadata', 'name'));
  const image = str(at(kustomization, 'images', 0, 'name'), 'images[0].name');
  const tag = str(at(kustomization, 'images', 0, 'newTag'), 'images[0].newTag');
  t.is(`${image}:${tag}`, IMAGE);
});

test('kubernetes: selectors, ports, probes and the config mount agree with the config', async (t) => {
  const deployment = await k8s('deployment.yaml');
  const service = await k8s('service.yaml');
  const pdb = await k8s('pdb.yaml');
  const configMap = await k8s('configmap.yaml');
  const config = obj(parse(str(at(configMap, 'data', 'mesodns.yaml'), 'data')), 'config');
  const ports = listenPorts(config);
  const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels');
  t.true(labelsMatch(at(deployment, 'spec', 'selector', 'matchLabels'), podLabels));
  t.true(labelsMatch(at(service, 'spec', 'selector'), podLabels));
  t.true(labelsMatch(at(pdb, 'spec', 'selector', 'matchLabels'), podLabels));
  t.true(
    num(at(deployment, 'spec', 'replicas'), 'replicas') >
      num(at(pdb, 'spec', 'minAvailable'), 'minAvailable'),
  );

  const pod = obj(at(deployment, 'spec', 'template', 'spec'), 'pod spec');
  const container = obj(at(pod, 'containers', 0), 'container');
  t.is(container.image, IMAGE);
  const containerPorts = new Map(
    arr(container.ports, 'ports').map((p) => {
      const o = obj(p, 'port');
      return [
        str(o.name, 'port name'),
        { port: num(o.containerPort, 'containerPort'), protocol: o.protocol },
      ];
    }),
  );
  t.deepEqual(containerPorts.get('dns'), { port: ports.dns, protocol: 'UDP' });
  t.deepEqual(containerPorts.get('dns-tcp'), { port: ports.dns, protocol: 'TCP' });
  t.deepEqual(containerPorts.get('http'), { port: ports.http, protocol: 'TCP' });
  t.deepEqual(at(container, 'readinessProbe', 'httpGet'), { path: '/ready', port: 'http' });
  t.deepEqual(at(container, 'livenessProbe', 'httpGet'), { path: '/health', port: 'http' });

  // Service ports point at named container ports with the same protocol; DNS on 53 UDP and TCP.
  const servicePorts = arr(at(service, 'spec', 'ports'), 'service ports').map((p) =>
    obj(p, 'port'),
  );
  for (const p of servicePorts) {
    const target = containerPorts.get(str(p.targetPort, 'targetPort'));
    t.truthy(target, `targetPort ${String(p.targetPort)}`);
    t.is(p.protocol, target?.protocol);
  }
  const dnsPorts = servicePorts.filter((p) => p.port === 53).map((p) => p.protocol);
  t.deepEqual(dnsPorts.sort(), ['TCP', 'UDP']);

  // The config: args name the file that the ConfigMap volume puts there.
  const args = arr(container.args, 'args').map((a) => str(a, 'arg'));
  t.deepEqual(args, ['serve', '--config', CONFIG_PATH]);
  const mount = obj(at(container, 'volumeMounts', 0), 'volumeMount');
  t.is(mount.mountPath, dirname(CONFIG_PATH));
  t.is(mount.readOnly, true);
  const volume = obj(
    arr(pod.volumes, 'volumes').find((v) => isRecord(v) && v.name === mount.name),
    'config volume',
  );
  t.is(at(volume, 'configMap', 'name'), at(configMap, 'metadata', 'name'));
  t.deepEqual(at(volume, 'configMap', 'items'), [
    { key: 'mesodns.yaml', path: basename(CONFIG_PATH) },
  ]);

  // Non-root on port 53: the sysctl, the capability kept for the image's node, no escalation.
  t.is(at(pod, 'securityContext', 'runAsNonRoot'), true);
  t.is(at(pod, 'securityContext', 'runAsUser'), 1000);
  const sysctls = arr(at(pod, 'securityContext', 'sysctls'), 'sysctls').map((s) =>
    obj(s, 'sysctl'),
  );
  const start = sysctls.find((s) => s.name === 'net.ipv4.ip_unprivileged_port_start');
  t.true(Number(start?.value) <= ports.dns, 'the DNS port is unprivileged in the pod');
  t.is(at(container, 'securityContext', 'allowPrivilegeEscalation'), false);
  t.deepEqual(at(container, 'securityContext', 'capabilities'), {
    drop: ['ALL'],
    add: ['NET_BIND_SERVICE'],
  });
  t.is(at(config, 'forward', 'enabled'), false, 'CoreDNS sends only the domain');
});

test('kubernetes: the CoreDNS stub domain forwards the mesodns domain to the Service', async (t) => {
  const corefile = await readFile(join(K8S, 'coredns-stub-domain.Corefile'), 'utf8');
  const service = await k8s('service.yaml');
  const configMap = await k8s('configmap.yaml');
  const config = obj(parse(str(at(configMap, 'data', 'mesodns.yaml'), 'data')), 'config');
  const domain = typeof config.domain === 'string' ? config.domain : 'mesos';
  const code = corefile
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  const block = new RegExp(`^${domain}:53 \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(code);
  if (block === null) return t.fail(`no "${domain}:53 { ... }" server block`);
  const forward = /^\s*forward \. (\S+):(\d+)\s*$/m.exec(block[1] ?? '');
  if (forward === null) return t.fail('no "forward . IP:PORT" line');
  t.is(forward[1], str(at(service, 'spec', 'clusterIP'), 'clusterIP'));
  const dnsPort = arr(at(service, 'spec', 'ports'), 'ports').find(
    (p) => isRecord(p) && p.name === 'dns',
  );
  t.is(Number(forward[2]), num(at(dnsPort, 'port'), 'dns port'));
});

// ---------------------------------------------------------------------------------------------
// Compose.

const COMPOSE = join(DEPLOY, 'compose');

/** `source:target[:mode]` of a short-syntax volume, the source resolved against the compose dir. */
function volumeOf(spec: unknown): { source: string; target: string; mode: string | undefined } {
  const [source = '', target = '', mode] = str(spec, 'volume').split(':');
  return { source: resolve(COMPOSE, source), target, mode };
}

test('compose: the mesodns service builds this repo, mounts the config and publishes its ports', async (t) => {
  const text = await readFile(join(COMPOSE, 'compose.yaml'), 'utf8');
  t.false(text.includes('$'), 'Compose would interpolate $');
  const compose = obj(parse(text), 'compose.yaml');
  const services = obj(compose.services, 'services');
  t.deepEqual(Object.keys(services).sort(), ['fake-master', 'mesodns']);
  const mesodns = obj(services.mesodns, 'mesodns');
  t.is(mesodns.image, IMAGE);
  t.is(resolve(COMPOSE, str(at(mesodns, 'build', 'context'), 'context')), REPO_ROOT);
  t.true(existsSync(join(REPO_ROOT, str(at(mesodns, 'build', 'dockerfile'), 'dockerfile'))));
  t.is(at(mesodns, 'depends_on', 'fake-master', 'condition'), 'service_healthy');

  const volumes = arr(mesodns.volumes, 'volumes').map(volumeOf);
  t.deepEqual(volumes, [
    { source: join(COMPOSE, 'mesodns.yaml'), target: CONFIG_PATH, mode: 'ro' },
  ]);
  const config = await readYaml(join(COMPOSE, 'mesodns.yaml'));
  const ports = listenPorts(config);
  const published = arr(mesodns.ports, 'ports').map((p) => str(p, 'port'));
  t.deepEqual(published, [
    `127.0.0.1:8053:${String(ports.dns)}/udp`,
    `127.0.0.1:8053:${String(ports.dns)}/tcp`,
    `127.0.0.1:8123:${String(ports.http)}/tcp`,
  ]);

  // The config names the fake master by its service name and port.
  const fake = obj(services['fake-master'], 'fake-master');
  const master = new URL(str(at(config, 'mesos', 'masters', 0), 'masters[0]'));
  t.is(master.hostname, 'fake-master');
  t.is(master.port, str(at(fake, 'environment', 'PORT'), 'PORT'));
  for (const v of arr(fake.volumes, 'volumes').map(volumeOf))
    t.true(existsSync(v.source), v.source);
});

test('compose: the fake master serves the demo state and mesodns answers from it', async (t) => {
  const compose = obj(parse(await readFile(join(COMPOSE, 'compose.yaml'), 'utf8')), 'compose');
  const fake = obj(at(compose, 'services', 'fake-master'), 'fake-master');
  const command = arr(fake.command, 'command').map((c) => str(c, 'command'));
  t.deepEqual(command.slice(0, 2), ['node', '-e']);
  // The container's paths and port, mapped to this machine.
  const env = obj(fake.environment, 'environment');
  const mounts = arr(fake.volumes, 'volumes').map(volumeOf);
  const stateFile = mounts.find((m) => m.target === env.STATE_FILE)?.source ?? '';
  t.true(existsSync(stateFile));
  const port = await freePort();
  const master = spawnServer(process.execPath, command.slice(1), {
    env: { PORT: String(port), STATE_FILE: stateFile, PATH: process.env.PATH ?? '' },
  });
  t.teardown(() => master.stop());

  // The healthcheck compose runs, on this port.
  const check = arr(at(fake, 'healthcheck', 'test'), 'healthcheck').map((c) => str(c, 'test'));
  t.is(check[0], 'CMD');
  const [, , ...checkArgs] = check.map((c) => c.replace(':5050/', `:${String(port)}/`));
  let healthy = await run(process.execPath, checkArgs);
  for (let i = 0; i < 100 && healthy.code !== 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    healthy = await run(process.execPath, checkArgs);
  }
  t.is(healthy.code, 0, `${healthy.out}\n${master.logs()}`);
  t.is((await fetch(`http://127.0.0.1:${String(port)}/master/state.json`)).status, 404);

  // The compose config, with the master and the listeners moved to loopback.
  const config = await readYaml(join(COMPOSE, 'mesodns.yaml'));
  const rest = Object.fromEntries(
    Object.entries(config).filter(([key]) => !['dns', 'http', 'forward'].includes(key)),
  );
  const mesos = obj(config.mesos, 'mesos');
  const server = await startMesodns({
    config: { ...rest, mesos: { ...mesos, masters: [`http://127.0.0.1:${String(port)}`] } },
  });
  t.teardown(() => server.stop());
  const web = await dig(server.dnsPort, ['web.marathon.mesos', 'A']);
  t.is(web.status, 'NOERROR', web.raw);
  t.is(web.answer.length, 3, web.raw);
  // The fake master names itself as the leader.
  const leader = await dig(server.dnsPort, ['leader.mesos', 'A']);
  t.deepEqual(
    leader.answer.map((r) => r.data),
    ['127.0.0.1'],
    leader.raw,
  );
});

test('the deployment READMEs and manifests name the image of this version', async (t) => {
  const files = (await allFiles(DEPLOY)).filter((f) => /\.(md|json|yaml)$/.test(f));
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/registry\.example\.internal\/mesodns:([\w.-]+)/g)) {
      t.is(m[1], VERSION, `${posix.join(...relative(REPO_ROOT, file).split('/'))}: ${m[0]}`);
    }
  }
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  t.true(dockerfile.includes(IMAGE));
});
