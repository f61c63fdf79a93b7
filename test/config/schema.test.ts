// config/mesodns.schema.json is for editors; these tests keep it honest against the loader.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import {
  CONFIG_SCHEMA_URL,
  DEFAULT_CONFIG,
  configToYaml,
  newAjv,
  parseConfig,
  precompiledValidator,
} from '../../src/config/index.js';
import { isRecord } from '../../src/is-record.js';

const schema: unknown = JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8'));

/** Every object schema with `properties`, with its key path. */
function objectSchemas(
  node: unknown,
  path: string,
  out: Array<[string, Record<string, unknown>]>,
): void {
  if (!isRecord(node) || !isRecord(node.properties)) return;
  out.push([path, node]);
  for (const [key, child] of Object.entries(node.properties)) {
    objectSchemas(child, path === '' ? key : `${path}.${key}`, out);
  }
}

/** The document made of every `default` in the schema. */
function schemaDefaults(node: unknown): unknown {
  if (!isRecord(node)) return undefined;
  if (isRecord(node.properties)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node.properties)) {
      const value = schemaDefaults(child);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
  return node.default;
}

test('the schema is draft-07 and points at the file it is in', (t) => {
  t.true(isRecord(schema));
  if (!isRecord(schema)) return;
  t.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  t.true(CONFIG_SCHEMA_URL.pathname.endsWith('/config/mesodns.schema.json'));
});

test('every object in the schema forbids unknown keys', (t) => {
  const objects: Array<[string, Record<string, unknown>]> = [];
  objectSchemas(schema, '', objects);
  t.true(objects.length >= 10);
  for (const [path, node] of objects) t.is(node.additionalProperties, false, path || '(root)');
});

test('every key in the schema has a description, and every leaf a default', (t) => {
  const objects: Array<[string, Record<string, unknown>]> = [];
  objectSchemas(schema, '', objects);
  for (const [path, node] of objects) {
    const properties = isRecord(node.properties) ? node.properties : {};
    for (const [key, child] of Object.entries(properties)) {
      const where = path === '' ? key : `${path}.${key}`;
      t.true(isRecord(child) && typeof child.description === 'string', `${where} description`);
      if (isRecord(child) && !isRecord(child.properties)) {
        t.true('default' in child, `${where} default`);
      }
    }
  }
});

test('the schema defaults are the loader defaults (defaults.ts)', (t) => {
  const defaults = schemaDefaults(schema);
  t.true(isRecord(defaults));
  if (!isRecord(defaults)) return;
  // The defaults name no master source, which a config needs: add one.
  const mesos = isRecord(defaults.mesos) ? defaults.mesos : {};
  const text = stringify({ ...defaults, mesos: { ...mesos, stateFile: 'state.json' } });
  t.deepEqual(parseConfig(text, 'defaults.yaml'), {
    ...DEFAULT_CONFIG,
    mesos: { ...DEFAULT_CONFIG.mesos, stateFile: 'state.json' },
  });
});

test('an annotated example file with every section, with a master, is valid', (t) => {
  const spec = `
domain: mesos                 # zone served authoritatively
mesos:
  masters: ["http://10.0.0.1:5050", "https://m2:5050"]
  zk: ""                      # e.g. zk://10.0.0.1:2181,10.0.0.2:2181/mesos (leader detection)
  stateFile: ""               # serve from a state JSON file instead of a master (demo, offline)
  refresh: 30s                # poll period (durations: 500ms, 30s, 5m)
  timeout: 10s                # one state request
  auth: { principal: "", secret: "" }   # HTTP Basic; secretFile also accepted
  tls: { ca: "", cert: "", key: "", insecure: false }
records:
  ttl: 60
  ipSources: [netinfo, mesos, host]     # also: docker
  enforceRFC952: false
  srvWeight: 1
  addressViews: false         # true: also <task>.<framework>.agentip/containerip/autoip names
dns:
  listen: "0.0.0.0:53"        # UDP and TCP on the same address
  recursionAvailable: true
  soa: { mname: ns1.mesos, rname: root.ns1.mesos, refresh: 60, retry: 600, expire: 86400, minimum: 60 }
forward:
  enabled: true
  resolvers: []               # "ip" or "ip:port"; empty: the host's /etc/resolv.conf
  zones: {}                   # per-zone upstreams, e.g. { consul: ["10.0.0.5:8600"] }
  timeout: 5s
http:
  enabled: true
  listen: "0.0.0.0:8123"
log:
  level: info                 # error | warn | info | debug
  format: text                # text | json
`;
  t.deepEqual(parseConfig(spec, 'spec.yaml'), {
    ...DEFAULT_CONFIG,
    mesos: { ...DEFAULT_CONFIG.mesos, masters: ['http://10.0.0.1:5050', 'https://m2:5050'] },
  });
});

test('configToYaml of the defaults passes the schema', (t) => {
  const text = configToYaml({
    ...DEFAULT_CONFIG,
    mesos: { ...DEFAULT_CONFIG.mesos, zk: 'zk://z:2181/mesos' },
  });
  t.notThrows(() => parseConfig(text, 'out.yaml'));
});

test('the validator compiled at build gives the verdicts and errors ajv gives compiling the schema now', (t) => {
  const text = readFileSync(CONFIG_SCHEMA_URL, 'utf8');
  // npm run build:test wrote it beside the compiled src/config/schema.js, as npm run build does
  // beside the bundle in dist/.
  const precompiled = precompiledValidator(text);
  if (precompiled === undefined) return t.fail('no precompiled validator for this schema text');
  const compiled = newAjv().compile(JSON.parse(text) as Record<string, unknown>);
  const documents: unknown[] = [
    {},
    JSON.parse(JSON.stringify(DEFAULT_CONFIG)) as unknown,
    { mesos: { masters: ['http://127.0.0.1:5050'], refresh: '5s' }, dns: { listen: '[::1]:53' } },
    { mesos: { refresh: 30 } },
    { mesos: { refresh: '30 s' }, records: { ttl: '1h' }, forward: { cache: { maxTtl: -1 } } },
    { dns: { listen: 53, unknown: true }, nope: {} },
    { forward: { resolvers: 'not a list', policy: 'fastest' }, records: { ipSources: ['x'] } },
    [],
    'text',
  ];
  for (const document of documents) {
    const label = JSON.stringify(document).slice(0, 80);
    t.is(precompiled(document), compiled(document), label);
    t.deepEqual(precompiled.errors ?? null, compiled.errors ?? null, label);
  }
  t.true(documents.filter((d) => !compiled(d)).length >= 4, 'the documents include invalid ones');
});

test('a validator compiled from another text of the schema is not used', (t) => {
  const text = readFileSync(CONFIG_SCHEMA_URL, 'utf8');
  t.not(precompiledValidator(text), undefined);
  t.is(precompiledValidator(text.replace('"title"', '"title" ')), undefined);
});
