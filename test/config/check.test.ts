import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkConfig,
  describeConfigError,
  loadConfig,
  loadConfigWithWarnings,
} from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'mesodns-config-'));
test.after.always(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('loadConfig reads a YAML file', (t) => {
  const file = write('ok.yaml', 'mesos:\n  masters: ["10.0.0.1:5050"]\n');
  t.deepEqual(loadConfig(file).mesos.masters, ['http://10.0.0.1:5050']);
});

test('a missing file is ERR_CONFIG_READ with the OS error as cause', (t) => {
  const file = join(dir, 'missing.yaml');
  const error = t.throws(() => loadConfig(file), { instanceOf: ConfigError });
  if (!(error instanceof ConfigError)) return;
  t.is(error.code, 'ERR_CONFIG_READ');
  t.deepEqual(error.problems, []);
  t.true(error.cause instanceof Error);
  t.is(
    describeConfigError(error)[0],
    `${file}: cannot read the configuration: no such file or directory (ENOENT); check the path`,
  );
});

test('check-config prints every problem as file:line:column: key: message', (t) => {
  const file = write('bad.yaml', 'mesos:\n  refesh: 30s\nrecords:\n  ttl: -1\n');
  const result = checkConfig(file);
  t.false(result.ok);
  t.deepEqual(result.messages, [
    `${file}:1:1: mesos: one of mesos.masters, mesos.zk or mesos.stateFile must be set`,
    `${file}:2:3: mesos.refesh: unknown key 'refesh' (did you mean 'refresh'?)`,
    `${file}:4:8: records.ttl: must be at least 0`,
  ]);
});

test('check-config names records.addressViews when it is not a boolean', (t) => {
  const file = write(
    'views.yaml',
    'mesos: { zk: "zk://z:2181/mesos" }\nrecords:\n  addressViews: 1\n',
  );
  t.deepEqual(checkConfig(file).messages, [
    `${file}:3:17: records.addressViews: must be true or false`,
  ]);
  const ok = write(
    'views-ok.yaml',
    'mesos: { zk: "zk://z:2181/mesos" }\nrecords:\n  addressViews: true\n',
  );
  t.deepEqual(checkConfig(ok), { ok: true, messages: [] });
  t.true(loadConfig(ok).records.addressViews);
});

test('check-config names the health keys with their line and column', (t) => {
  const file = write(
    'health.yaml',
    'mesos: { zk: "zk://z:2181/mesos" }\nrecords:\n  health: exclude\n  healthFailOpen: 1\n',
  );
  const result = checkConfig(file);
  t.false(result.ok);
  t.deepEqual(result.messages, [
    `${file}:3:11: records.health: must be one of ignore, exclude-unhealthy (did you mean 'exclude-unhealthy'?)`,
    `${file}:4:19: records.healthFailOpen: must be true or false`,
  ]);
  const clean = write(
    'health-ok.yaml',
    'mesos: { zk: "zk://z:2181/mesos" }\nrecords: { health: exclude-unhealthy, healthFailOpen: false }\n',
  );
  t.deepEqual(checkConfig(clean).messages, []);
});

test('check-config names a reverse zone off a label boundary, and a misspelt reverse key', (t) => {
  const file = write(
    'reverse.yaml',
    'mesos:\n  stateFile: s.json\nrecords:\n  reverse:\n    enabeld: true\n    zones: [10.32.0.0/20]\n',
  );
  const result = checkConfig(file);
  t.false(result.ok);
  t.deepEqual(result.messages, [
    `${file}:5:5: records.reverse.enabeld: unknown key 'enabeld' (did you mean 'enabled'?)`,
    `${file}:6:13: records.reverse.zones[0]: prefix length 20 is not on an octet boundary: a reverse zone covers a /16 or a /24`,
  ]);
});

test('check-config mixes warnings in, marked, and stays ok', (t) => {
  const file = write('warn.yaml', 'mesos:\n  masters: ["m:5050"]\n  auth: { principal: dns }\n');
  const result = checkConfig(file);
  t.true(result.ok);
  t.deepEqual(result.messages, [
    `${file}:3:11: mesos.auth.principal: warning: no secret is set: an empty password is sent`,
  ]);
  t.is(loadConfigWithWarnings(file).warnings.length, 1);
});

test('check-config of a clean file prints nothing', (t) => {
  const result = checkConfig(write('clean.yaml', 'mesos: { zk: "zk://z:2181/mesos" }\n'));
  t.deepEqual(result, { ok: true, messages: [] });
});

test('check-config of a missing file is not ok and says why', (t) => {
  const result = checkConfig(join(dir, 'nope.json'));
  t.false(result.ok);
  t.is(result.messages.length, 1);
  t.is(
    result.messages[0],
    `${join(dir, 'nope.json')}: cannot read the configuration: no such file or directory (ENOENT); check the path`,
  );
});

test('the error message of an invalid file lists every problem', (t) => {
  const file = write(
    'two.yaml',
    'mesos: { zk: "zk://z:2181/mesos" }\nlog: { level: loud, format: xml }\n',
  );
  const error = t.throws(() => loadConfig(file), { instanceOf: ConfigError });
  t.is(error.code, 'ERR_CONFIG_INVALID');
  t.is(
    error.message,
    [
      'invalid configuration:',
      `  ${file}:2:15: log.level: must be one of error, warn, info, debug`,
      `  ${file}:2:29: log.format: must be one of text, json`,
    ].join('\n'),
  );
});
