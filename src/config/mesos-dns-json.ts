/**
 * The Mesos-DNS `config.json` importer (docs/mesos-dns-rules.md 4): the file is read as Mesos-DNS
 * reads it, mapped to the YAML layout and built like a YAML file; problems name the Mesos-DNS
 * keys. Also what `mesodns convert-config` says about the keys it converted.
 */
import type { SchemaObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { closest } from '../did-you-mean.js';
import type { ConfigProblem } from '../errors.js';
import { isRecord } from '../is-record.js';
import { jsonSyntaxProblem } from '../json-syntax.js';
import { buildConfig } from './build.js';
import { MESOS_DNS_DEFAULTS } from './defaults.js';
import { locate } from './positions.js';
import type { YamlComments } from './render.js';
import { Findings, NOWHERE, Reporter, analysis, formatPath } from './report.js';
import type { Analysis, Path, Position } from './report.js';
import { reportAjvErrors } from './schema-errors.js';
import { newAjv } from './schema.js';
import type { Validator } from './schema.js';
import { IP_SOURCES } from './sections/records.js';
import { joinHostPort } from './values.js';

const uint32 = { type: 'integer', minimum: 0, maximum: 4294967295 };
const port = { type: 'integer', minimum: 0, maximum: 65535 };
const strings = { type: 'array', items: { type: 'string' } };

/** Types of the keys Mesos-DNS reads (docs/mesos-dns-rules.md 4.2), canonical Go field names. */
const MESOS_DNS_PROPERTIES: Readonly<Record<string, SchemaObject>> = {
  Zk: { type: 'string' },
  Masters: strings,
  ZkDetectionTimeout: { type: 'integer' },
  RefreshSeconds: { type: 'integer', minimum: 1 },
  StateTimeoutSeconds: { type: 'integer', minimum: 1 },
  TTL: { type: 'integer', minimum: 0, maximum: 2147483647 },
  SRVRecordDefaultWeight: { type: 'integer', minimum: 0, maximum: 65535 },
  Domain: { type: 'string' },
  Port: port,
  Listener: { type: 'string' },
  HTTPListener: { type: 'string' },
  HttpPort: port,
  DnsOn: { type: 'boolean' },
  HttpOn: { type: 'boolean' },
  ExternalOn: { type: 'boolean' },
  Resolvers: strings,
  ZoneResolvers: { type: 'object', additionalProperties: strings },
  Timeout: { type: 'integer', minimum: 0 },
  RecurseOn: { type: 'boolean' },
  SOAMname: { type: 'string' },
  SOARname: { type: 'string' },
  SOASerial: uint32,
  SOARefresh: uint32,
  SOARetry: uint32,
  SOAExpire: uint32,
  SOAMinttl: uint32,
  IPSources: {
    type: 'array',
    minItems: 1,
    uniqueItems: true,
    items: { type: 'string', enum: IP_SOURCES },
  },
  EnforceRFC952: { type: 'boolean' },
  SetTruncateBit: { type: 'boolean' },
  EnumerationOn: { type: 'boolean' },
  MesosHTTPSOn: { type: 'boolean' },
  CACertFile: { type: 'string' },
  CertFile: { type: 'string' },
  KeyFile: { type: 'string' },
  MesosAuthentication: { type: 'string' },
  MesosCredentials: {
    type: 'object',
    properties: { Principal: { type: 'string' }, Secret: { type: 'string' } },
  },
  IAMConfigFile: { type: 'string' },
  File: { type: 'string' },
};

const MESOS_DNS_SCHEMA: SchemaObject = { type: 'object', properties: MESOS_DNS_PROPERTIES };
const MESOS_DNS_KEYS = Object.keys(MESOS_DNS_PROPERTIES);
const MESOS_DNS_COLLECTIONS = new Set(['Masters', 'Resolvers', 'ZoneResolvers', 'IPSources']);
const CREDENTIAL_KEYS = ['Principal', 'Secret'];

let mesosDnsValidator: Validator | undefined;

/** Where each key of the YAML layout comes from in a Mesos-DNS file (for problem reports). */
const JSON_KEY_OF: ReadonlyArray<readonly [Path, Path]> = [
  [['domain'], ['Domain']],
  [['mesos', 'masters'], ['Masters']],
  [['mesos', 'zk'], ['Zk']],
  [['mesos', 'refresh'], ['RefreshSeconds']],
  [['mesos', 'timeout'], ['StateTimeoutSeconds']],
  [['mesos', 'scheme'], ['MesosHTTPSOn']],
  [
    ['mesos', 'auth', 'principal'],
    ['MesosCredentials', 'Principal'],
  ],
  [
    ['mesos', 'auth', 'secret'],
    ['MesosCredentials', 'Secret'],
  ],
  [['mesos', 'auth'], ['MesosCredentials']],
  [['mesos', 'tls', 'ca'], ['CACertFile']],
  [['mesos', 'tls', 'cert'], ['CertFile']],
  [['mesos', 'tls', 'key'], ['KeyFile']],
  [['mesos', 'tls', 'insecure'], ['CACertFile']],
  [['mesos'], []],
  [['records', 'ttl'], ['TTL']],
  [['records', 'ipSources'], ['IPSources']],
  [['records', 'enforceRFC952'], ['EnforceRFC952']],
  [['records', 'srvWeight'], ['SRVRecordDefaultWeight']],
  [['dns', 'listen'], ['Listener']],
  [['dns', 'recursionAvailable'], ['RecurseOn']],
  [['dns', 'soa', 'mname'], ['SOAMname']],
  [['dns', 'soa', 'rname'], ['SOARname']],
  [['dns', 'soa', 'refresh'], ['SOARefresh']],
  [['dns', 'soa', 'retry'], ['SOARetry']],
  [['dns', 'soa', 'expire'], ['SOAExpire']],
  [['dns', 'soa', 'minimum'], ['SOAMinttl']],
  [['forward', 'enabled'], ['ExternalOn']],
  [['forward', 'resolvers'], ['Resolvers']],
  [['forward', 'zones'], ['ZoneResolvers']],
  [['forward', 'timeout'], ['Timeout']],
  [['http', 'enabled'], ['HttpOn']],
  [['http', 'listen'], ['HTTPListener']],
];

function toJsonPath(path: Path): Path {
  for (const [prefix, target] of JSON_KEY_OF) {
    if (prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg)) {
      return [...target, ...path.slice(prefix.length)];
    }
  }
  return path;
}

/** Copies an object with keys matched case-insensitively to `canonical` (Go's encoding/json). */
function canonicalKeys(
  object: Record<string, unknown>,
  canonical: readonly string[],
  onUnknown: (key: string) => void,
  onRepeat: (key: string, canonicalKey: string) => void,
): Record<string, unknown> {
  const byLower = new Map(canonical.map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const name = byLower.get(key.toLowerCase());
    if (name === undefined) {
      onUnknown(key);
      continue;
    }
    if (Object.hasOwn(out, name)) onRepeat(key, name);
    out[name] = value;
  }
  return out;
}

/**
 * Reads the text of a Mesos-DNS `config.json` as Mesos-DNS reads it (keys case-insensitive, the
 * last of repeated keys, Mesos-DNS defaults), maps it to the YAML layout and builds the `Config`
 * from that; problems name the Mesos-DNS keys. Nothing is thrown for bad content.
 */
export function analyzeMesosDnsJson(text: string): Analysis {
  const findings = new Findings();
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    const { line, column, message } = jsonSyntaxProblem(text, error);
    findings.errors.push({ path: '', line, column, message: `invalid JSON: ${message}` });
    return analysis(findings, undefined);
  }
  // JSON is YAML: the YAML parser gives the positions of keys and values for reports.
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  const jsonPosition = (path: Path, at: 'key' | 'value'): Position =>
    doc.errors.length > 0 ? NOWHERE : locate(doc, counter, path, at, true);
  const j = new Reporter(findings, { display: formatPath, position: jsonPosition });
  const y = new Reporter(findings, {
    display: (path) => formatPath(toJsonPath(path)),
    position: (path, at) => jsonPosition(toJsonPath(path), at),
  });

  if (!isRecord(root)) {
    j.error([], 'a Mesos-DNS config.json must be a JSON object');
    return analysis(findings, undefined);
  }
  const unknownKey = (path: Path, key: string, candidates: readonly string[]): void => {
    const near = closest(key, candidates);
    const hint = near === undefined ? '' : ` (did you mean '${near}'?)`;
    j.warn([...path, key], `unknown key '${key}' ignored, as Mesos-DNS does${hint}`, 'key');
  };
  const repeated = (path: Path) => (key: string, name: string) => {
    j.warn([...path, key], `'${name}' is given more than once; the last value is used`, 'key');
  };
  const data = canonicalKeys(
    root,
    MESOS_DNS_KEYS,
    (key) => {
      unknownKey([], key, MESOS_DNS_KEYS);
    },
    repeated([]),
  );
  // Go's decoder leaves a field at its default for `null`, and makes slices and maps empty.
  for (const [key, value] of Object.entries(data)) {
    if (value !== null) continue;
    if (MESOS_DNS_COLLECTIONS.has(key)) data[key] = key === 'ZoneResolvers' ? {} : [];
    else Reflect.deleteProperty(data, key);
  }
  if (isRecord(data.MesosCredentials)) {
    data.MesosCredentials = canonicalKeys(
      data.MesosCredentials,
      CREDENTIAL_KEYS,
      (key) => {
        unknownKey(['MesosCredentials'], key, CREDENTIAL_KEYS);
      },
      repeated(['MesosCredentials']),
    );
  }
  mesosDnsValidator ??= newAjv().compile(MESOS_DNS_SCHEMA);
  if (!mesosDnsValidator(data)) reportAjvErrors(mesosDnsValidator.errors ?? [], data, j, undefined);

  const D = MESOS_DNS_DEFAULTS;
  const get = (key: string): unknown => (j.isFlagged([key]) ? undefined : data[key]);
  const str = (key: string, fallback: string): string => {
    const v = get(key);
    return typeof v === 'string' ? v : fallback;
  };
  const num = (key: string, fallback: number): number => {
    const v = get(key);
    return typeof v === 'number' ? v : fallback;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = get(key);
    return typeof v === 'boolean' ? v : fallback;
  };
  const list = (key: string, fallback: readonly string[]): readonly string[] => {
    const v = get(key);
    return Array.isArray(v) ? v.filter((s) => typeof s === 'string') : fallback;
  };
  const present = (key: string): boolean => Object.hasOwn(data, key);

  // Master source: Mesos-DNS uses Zk for leader detection when both are set.
  const zk = str('Zk', D.Zk);
  let masters = list('Masters', D.Masters);
  if (zk !== '' && masters.length > 0) {
    j.warn(
      ['Masters'],
      'ignored: Zk is also set and mesodns uses one master source (the leader is found through Zk)',
      'key',
    );
    masters = [];
  }
  if (zk === '' && masters.length === 0 && !j.isFlagged(['Zk']) && !j.isFlagged(['Masters'])) {
    j.error([], 'one of Zk or Masters must be set', 'file');
  }
  const https = bool('MesosHTTPSOn', D.MesosHTTPSOn);
  const scheme = https ? 'https' : 'http';
  const masterUrls = masters.map((m) =>
    /^(\[[^\]]+\]|[^:/\s[\]]+):[0-9]+$/.test(m) ? `${scheme}://${m}` : m,
  );

  // Authentication
  let principal = '';
  let secret = '';
  const credentials = get('MesosCredentials');
  const givenPrincipal =
    isRecord(credentials) && typeof credentials.Principal === 'string' ? credentials.Principal : '';
  const givenSecret =
    isRecord(credentials) && typeof credentials.Secret === 'string' ? credentials.Secret : '';
  const authentication = str('MesosAuthentication', D.MesosAuthentication);
  if (authentication === 'basic') {
    if (givenPrincipal === '' || givenSecret === '') {
      j.error(
        ['MesosCredentials'],
        "Principal and Secret are required when MesosAuthentication is 'basic'",
        'key',
      );
    }
    principal = givenPrincipal;
    secret = givenSecret;
  } else if (authentication === 'iam') {
    j.error(
      ['MesosAuthentication'],
      "'iam' (DC/OS service accounts) is not supported; use 'basic'",
    );
  } else if (authentication !== '') {
    j.error(['MesosAuthentication'], "must be '', 'basic' or 'iam'");
  } else if (givenPrincipal !== '' || givenSecret !== '') {
    j.warn(['MesosCredentials'], "ignored because MesosAuthentication is not 'basic'", 'key');
  }

  // TLS: Mesos-DNS skips verification when HTTPS is on without a CA file; keep that, loudly.
  const caFile = str('CACertFile', D.CACertFile);
  const insecure = https && caFile === '';
  if (insecure) {
    j.warn(
      ['MesosHTTPSOn'],
      "without CACertFile the masters' certificates are not verified (as in Mesos-DNS); set CACertFile",
      'key',
    );
  }

  // Servers
  const dnsOn = bool('DnsOn', D.DnsOn);
  const httpOn = bool('HttpOn', D.HttpOn);
  if (!dnsOn && !httpOn) j.error(['DnsOn'], 'DnsOn or HttpOn must be true');
  else if (!dnsOn) j.warn(['DnsOn'], 'ignored: mesodns always serves DNS', 'key');
  if (present('ZkDetectionTimeout')) {
    j.warn(
      ['ZkDetectionTimeout'],
      'ignored: mesodns keeps serving and retrying while no leader is known',
      'key',
    );
  }
  if (!bool('SetTruncateBit', D.SetTruncateBit)) {
    j.warn(
      ['SetTruncateBit'],
      'ignored: truncated answers always carry the TC bit (RFC 1035)',
      'key',
    );
  }
  if (!bool('EnumerationOn', D.EnumerationOn)) {
    j.warn(['EnumerationOn'], 'ignored: /v1/enumerate and /v1/axfr are always served', 'key');
  }
  const listener = (key: string, fallback: string): string => {
    const host = str(key, fallback);
    return host === '' ? '0.0.0.0' : host;
  };

  // Forwarding: Mesos-DNS checks resolvers only when ExternalOn is true.
  const externalOn = bool('ExternalOn', D.ExternalOn);
  const zones = get('ZoneResolvers');
  const timeout = num('Timeout', D.Timeout);

  const draft = {
    domain: str('Domain', D.Domain),
    mesos: {
      masters: masterUrls,
      zk,
      refresh: `${num('RefreshSeconds', D.RefreshSeconds)}s`,
      timeout: `${num('StateTimeoutSeconds', D.StateTimeoutSeconds)}s`,
      scheme,
      auth: { principal, secret },
      tls: {
        ca: caFile,
        cert: str('CertFile', D.CertFile),
        key: str('KeyFile', D.KeyFile),
        insecure,
      },
    },
    records: {
      ttl: num('TTL', D.TTL),
      ipSources: list('IPSources', D.IPSources),
      enforceRFC952: bool('EnforceRFC952', D.EnforceRFC952),
      srvWeight: num('SRVRecordDefaultWeight', D.SRVRecordDefaultWeight),
    },
    dns: {
      listen: joinHostPort(listener('Listener', D.Listener), num('Port', D.Port)),
      recursionAvailable: bool('RecurseOn', D.RecurseOn),
      soa: {
        mname: str('SOAMname', D.SOAMname),
        rname: str('SOARname', D.SOARname),
        refresh: num('SOARefresh', D.SOARefresh),
        retry: num('SOARetry', D.SOARetry),
        expire: num('SOAExpire', D.SOAExpire),
        minimum: num('SOAMinttl', D.SOAMinttl),
      },
    },
    forward: {
      enabled: externalOn,
      resolvers: externalOn ? list('Resolvers', D.Resolvers) : [],
      zones: externalOn && isRecord(zones) ? zones : {},
      timeout: `${timeout === 0 ? D.Timeout : timeout}s`, // Mesos-DNS: 0 means the default
    },
    http: {
      enabled: httpOn,
      listen: joinHostPort(listener('HTTPListener', D.HTTPListener), num('HttpPort', D.HttpPort)),
    },
  };
  const config = buildConfig(draft, y, { checkSource: false });
  return analysis(findings, config);
}

/**
 * True when a JSON object has a key Mesos-DNS reads (in any case): the file is a Mesos-DNS one
 * even without the `.json` extension. `domain` alone decides nothing: both formats have it.
 */
export function hasMesosDnsKey(root: Record<string, unknown>): boolean {
  const mesosDnsKeys = new Set(MESOS_DNS_KEYS.map((k) => k.toLowerCase()));
  mesosDnsKeys.delete('domain');
  return Object.keys(root).some((k) => mesosDnsKeys.has(k.toLowerCase()));
}

/**
 * YAML keys whose Mesos-DNS counterpart meant something else: the comment `convertConfig` puts
 * above them. (The rest of the mapping keeps its meaning; src/config/README.md lists it.)
 */
const CHANGED_MEANING: ReadonlyArray<readonly [string, string]> = [
  [
    'mesos.refresh',
    'RefreshSeconds was a fixed ticker; mesodns polls this long after the previous poll ends (mode poll, or a master without the v1 API).',
  ],
  [
    'forward.timeout',
    'Timeout was the limit of each exchange with each resolver; here it bounds the whole forwarded query, every upstream included.',
  ],
  [
    'dns.soa.minimum',
    'SOAMinttl was unused by Mesos-DNS (its SOA minimum was TTL); here it is the SOA minimum and caps negative answer TTLs (RFC 2308).',
  ],
];

/**
 * YAML keys with no Mesos-DNS counterpart that change what a converted file does: the comment
 * `convertConfig` puts above them (their values are the mesodns defaults).
 */
const NO_EQUIVALENT: ReadonlyArray<readonly [string, string]> = [
  [
    'mesos.mode',
    "Mesos-DNS always polls every RefreshSeconds; mesodns follows the masters' v1 event stream (changes within a second) and polls only a master without the v1 API. Write poll to keep polling.",
  ],
  ['mesos.stream', 'settings of the event stream (mode stream), at the mesodns defaults.'],
];

/** Mesos-DNS keys placed elsewhere than `JSON_KEY_OF` says, or with no YAML key (header). */
const JSON_KEY_TARGET: Readonly<Record<string, string>> = {
  Port: 'dns.listen',
  HttpPort: 'http.listen',
  MesosAuthentication: 'mesos.auth',
  MesosCredentials: 'mesos.auth',
};

/** The YAML key a Mesos-DNS key (its canonical name) maps to, or undefined when none. */
function yamlKeyOf(jsonKey: string): string | undefined {
  const fixed = JSON_KEY_TARGET[jsonKey];
  if (fixed !== undefined) return fixed;
  const entry = JSON_KEY_OF.find(([, target]) => target.length === 1 && target[0] === jsonKey);
  return entry?.[0].join('.');
}

/**
 * The comments `mesodns convert-config` puts in the YAML of a Mesos-DNS file (`file`): every
 * warning above the YAML key its Mesos-DNS key maps to (or in the header when the key has no
 * equivalent), and on the settings that changed meaning or are new, what that means.
 */
export function conversionComments(file: string, warnings: readonly ConfigProblem[]): YamlComments {
  const keys = new Map<string, string[]>();
  const note = (key: string, line: string): void => {
    keys.set(key, [...(keys.get(key) ?? []), line]);
  };
  const header = [
    `Converted from the Mesos-DNS configuration ${file} by mesodns convert-config.`,
    'Absent keys took the Mesos-DNS defaults. Review the comments below.',
  ];
  const unmapped: string[] = [];
  for (const w of warnings) {
    const jsonKey = /^[^.[]*/.exec(w.path)?.[0] ?? '';
    const target = jsonKey === '' ? undefined : yamlKeyOf(jsonKey);
    const line = `Mesos-DNS ${w.path === '' ? 'file' : w.path}: ${w.message}`;
    if (target === undefined) unmapped.push(line);
    else note(target, line);
  }
  if (unmapped.length > 0) header.push('Not carried over:', ...unmapped.map((l) => `  ${l}`));
  for (const [key, line] of CHANGED_MEANING) note(key, `Changed meaning: ${line}`);
  for (const [key, line] of NO_EQUIVALENT) note(key, `No Mesos-DNS equivalent: ${line}`);
  return { header, keys };
}
