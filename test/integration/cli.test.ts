/** The command line: records, check-config, convert-config, usage errors. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseConfig } from '../../src/config/index.js';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/main.js', ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function tempFile(
  t: { teardown: (fn: () => unknown) => void },
  name: string,
  text: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

test('records prints the zone of a state document as zone-file lines', async (t) => {
  const r = await run(['records', '--state', 'test/fixtures/fake.json']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.true(
    lines.includes('liquor-store-4dfjd-0.marathon.mesos. 60 IN A 1.2.3.11'),
    lines.slice(0, 5).join('\n'),
  );
  t.true(
    lines.includes(
      '_http._liquor-store._tcp.marathon.mesos. 60 IN SRV 0 1 80 liquor-store-4dfjd-0.marathon.mesos.',
    ),
  );
  t.true(lines.includes('leader.mesos. 60 IN A 1.2.3.4'));
  t.true(
    lines.every((l) => /^\S+\.\s60\sIN\s(A|AAAA|SRV)\s/.test(l)),
    'every line is a record',
  );
});

test('records honours the config: RFC 952 labels, TTL and SRV weight', async (t) => {
  const config = await tempFile(
    t,
    'c.yaml',
    'mesos:\n  stateFile: x.json\nrecords:\n  enforceRFC952: true\n  ttl: 7\n  srvWeight: 3\n',
  );
  const r = await run(['records', '--state', 'test/fixtures/fake.json', '--config', config]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^some-box\.chronoswithaspaceandmixe\.mesos\. 7 IN A 1\.2\.3\.11$/m);
  t.regex(r.stdout, /^_car-store\._tcp\.marathon\.mesos\. 7 IN SRV 0 3 31364 /m);
});

test('check-config accepts a valid file and the shipped demo config', async (t) => {
  const r = await run(['check-config', 'config/demo.yaml']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /OK/);
});

test('check-config prints every problem with line:column and exits 1', async (t) => {
  const file = await tempFile(
    t,
    'bad.yaml',
    'mesos:\n  masters: [http://127.0.0.1:5050]\n  refesh: 30s\nrecords:\n  ttl: -1\n',
  );
  const r = await run(['check-config', file]);
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /bad\.yaml:3:3: mesos\.refesh: unknown key 'refesh' \(did you mean 'refresh'\?\)/,
  );
  t.regex(r.stderr, /bad\.yaml:5:8: records\.ttl: /);
});

test('serve refuses an invalid config with its problems and exit 1', async (t) => {
  const file = await tempFile(t, 'bad.yaml', 'dns:\n  listen: nowhere\n');
  const r = await run(['serve', '--config', file]);
  t.is(r.code, 1);
  t.regex(r.stderr, /bad\.yaml:\d+:\d+: /);
});

test('convert-config turns a Mesos-DNS config.json into YAML that loads to the same config', async (t) => {
  const r = await run(['convert-config', 'test/fixtures/mesos-dns-config.json']);
  t.is(r.code, 0, r.stderr);
  const fromYaml = parseConfig(r.stdout, 'converted.yaml');
  t.is(fromYaml.mesos.zk, 'zk://127.0.0.1:2181/mesos');
  t.deepEqual(fromYaml.records.ipSources, ['mesos', 'host']);
  t.is(fromYaml.dns.listen.port, 8053);
});

test('unknown commands print usage and exit 2', async (t) => {
  const r = await run(['frobnicate']);
  t.is(r.code, 2);
  t.regex(r.stderr, /usage:/);
});
