/**
 * `convertConfig` (mesodns convert-config): a Mesos-DNS config.json becomes YAML that loads to
 * the same config, with its warnings and the settings that changed meaning as comments.
 * Also the warning of `http.readyMaxAge`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  configToYaml,
  convertConfig,
  loadConfig,
  parseConfig,
  parseConfigWithWarnings,
} from '../../src/config/index.js';
import { fixturePath } from '../../support/paths.js';

const SAMPLE = fixturePath('mesos-dns-config.json');

async function jsonFile(
  t: { teardown: (fn: () => unknown) => void },
  text: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-convert-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  await writeFile(file, text);
  return file;
}

/** The comment lines directly above the line `key:` (first match), without `# `. */
function commentsAbove(yaml: string, key: string): string[] {
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => l.trimStart().startsWith(`${key}:`));
  const out: string[] = [];
  for (let i = at - 1; i >= 0 && (lines[i] ?? '').trimStart().startsWith('#'); i--) {
    out.unshift((lines[i] ?? '').trim().replace(/^# ?/, ''));
  }
  return out;
}

test('the converted sample reads back to the same config', (t) => {
  const yaml = convertConfig(SAMPLE);
  t.deepEqual(parseConfig(yaml, 'converted.yaml'), loadConfig(SAMPLE), yaml);
});

test('warnings become comments at the keys they concern, or in the header', (t) => {
  const yaml = convertConfig(SAMPLE);
  const header = yaml.slice(0, yaml.indexOf('domain:'));
  t.regex(header, /^# Converted from the Mesos-DNS configuration .*mesos-dns-config\.json/);
  t.regex(header, /# Not carried over:\n# {3}Mesos-DNS ns: unknown key 'ns' ignored/);
  t.deepEqual(commentsAbove(yaml, 'masters'), [
    'Mesos-DNS Masters: ignored: Zk is also set and mesodns uses one master source (the leader is found through Zk)',
  ]);
});

test('settings that changed meaning say how', (t) => {
  const yaml = convertConfig(SAMPLE);
  const forward = yaml.slice(yaml.indexOf('forward:'));
  t.deepEqual(commentsAbove(forward, 'timeout'), [
    'Changed meaning: Timeout was the limit of each exchange with each resolver; here it bounds the whole forwarded query, every upstream included.',
  ]);
  t.regex(commentsAbove(yaml, 'soa')[0] ?? '', /^minimum: Changed meaning: SOAMinttl was unused/);
  t.regex(commentsAbove(yaml, 'refresh')[0] ?? '', /^Changed meaning: RefreshSeconds/);
});

test('the event stream settings, new to Mesos-DNS files, say that they are defaults', (t) => {
  const yaml = convertConfig(SAMPLE);
  t.regex(yaml, /\n {2}mode: stream\n/);
  t.regex(yaml, /\n {2}stream: \{resync: 10m, batch: 50ms, missedHeartbeats: 3\}\n/);
  const [mode] = commentsAbove(yaml, 'mode');
  t.regex(mode ?? '', /^No Mesos-DNS equivalent: Mesos-DNS always polls every RefreshSeconds;/);
  t.regex(mode ?? '', /Write poll to keep polling\.$/);
  t.deepEqual(commentsAbove(yaml, 'stream'), [
    'No Mesos-DNS equivalent: settings of the event stream (mode stream), at the mesodns defaults.',
  ]);
});

test('keys without an equivalent are listed in the header; mapped keys go to their YAML key', async (t) => {
  const file = await jsonFile(
    t,
    JSON.stringify({
      masters: ['10.0.0.1:5050'],
      ZkDetectionTimeout: 10,
      SetTruncateBit: false,
      EnumerationOn: false,
      MesosCredentials: { Principal: 'dns', Secret: 'x' },
      email: 'root.ns1.mesos',
    }),
  );
  const yaml = convertConfig(file);
  const header = yaml.slice(0, yaml.indexOf('domain:'));
  for (const key of ['ZkDetectionTimeout', 'SetTruncateBit', 'EnumerationOn', 'email']) {
    t.regex(header, new RegExp(`Mesos-DNS ${key}: `), key);
  }
  t.regex(commentsAbove(yaml, 'auth')[0] ?? '', /^Mesos-DNS MesosCredentials: ignored because/);
  t.deepEqual(parseConfig(yaml, 'c.yaml'), loadConfig(file));
});

test('a YAML file converts without comments', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mesodns-convert-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.yaml');
  await writeFile(file, 'mesos: { stateFile: s.json }\n');
  t.is(convertConfig(file), configToYaml(loadConfig(file)));
});

test('configToYaml puts comments above keys, above the group of a one-line key, or on top', (t) => {
  const config = parseConfig('mesos: { stateFile: s.json }', 'a.yaml');
  const yaml = configToYaml(config, {
    header: ['top'],
    keys: new Map([
      ['records.ttl', ['about ttl', 'second line']],
      ['dns.soa.minimum', ['about minimum']],
      ['no.such.key', ['orphan']],
    ]),
  });
  t.deepEqual(commentsAbove(yaml, 'ttl'), ['about ttl', 'second line']);
  t.deepEqual(commentsAbove(yaml, 'soa'), ['minimum: about minimum']);
  t.regex(yaml, /^# top\n# orphan\n/);
  t.deepEqual(parseConfig(yaml, 'b.yaml'), config);
});

test('http.readyMaxAge shorter than mesos.refresh is a warning', (t) => {
  const { warnings } = parseConfigWithWarnings(
    'mesos: { masters: ["10.0.0.1:5050"], refresh: 1m }\nhttp: { readyMaxAge: 30s }\n',
    'a.yaml',
  );
  t.is(warnings.length, 1);
  t.like(warnings[0], { path: 'http.readyMaxAge', line: 2 });
  t.regex(warnings[0]?.message ?? '', /shorter than mesos.refresh/);
  const quiet = parseConfigWithWarnings(
    'mesos: { stateFile: s.json, refresh: 1m }\nhttp: { readyMaxAge: 30s }\n',
    'a.yaml',
  );
  t.is(quiet.warnings.length, 0, 'not checked with a state file');
  const off = parseConfigWithWarnings(
    'mesos: { masters: ["10.0.0.1:5050"], refresh: 1m }\nhttp: { readyMaxAge: 0s }\n',
    'a.yaml',
  );
  t.is(off.warnings.length, 0, '0 turns the check off: nothing to warn about');
});
