/**
 * The load entry points: read a configuration file (or text), pick its format, run the reader
 * of that format and throw a `ConfigError` listing every problem, or hand back the frozen
 * `Config` and its warnings. `check-config` and `convert-config` start here too.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { cwd } from 'node:process';
import { ConfigError, formatConfigProblem } from '../errors.js';
import type { ConfigProblem } from '../errors.js';
import { isRecord } from '../is-record.js';
import { fileReadProblem } from '../os-errors.js';
import { analyzeMesosDnsJson, conversionComments, hasMesosDnsKey } from './mesos-dns-json.js';
import { configToYaml } from './render.js';
import { byPosition } from './report.js';
import type { Analysis } from './report.js';
import type { Config } from './types.js';
import { analyzeYaml } from './yaml-file.js';

/** A configuration together with the warnings found while reading it. */
export interface ParsedConfig {
  readonly config: Config;
  /** Problems that do not stop the configuration from being used (same shape as errors). */
  readonly warnings: readonly ConfigProblem[];
}

/** What `checkConfig` found: `ok` is false when there is at least one error. */
export interface CheckResult {
  readonly ok: boolean;
  /** `file:line:column: key: message` lines, errors and warnings (`warning: ...`) by position. */
  readonly messages: readonly string[];
}

/** Freezes a value and everything in it: the `Config` handed out is deep-frozen. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Extensions that name a format mesodns does not read: rejected rather than guessed at. */
const FOREIGN_EXTENSIONS = new Set(['.toml', '.ini', '.xml', '.hcl', '.properties', '.env']);

/**
 * The format of a configuration file: by its extension when that says `.yaml`/`.yml` (mesodns
 * YAML) or `.json` (Mesos-DNS `config.json`); otherwise (`config.json.sample`, `mesodns.conf`) by
 * its content: a JSON object with a Mesos-DNS key is a Mesos-DNS file, anything else is YAML.
 * `domain` alone decides nothing: both formats have it.
 */
export function configFormat(text: string, file: string): 'yaml' | 'mesos-dns-json' | 'foreign' {
  const extension = extname(file).toLowerCase();
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  if (extension === '.json') return 'mesos-dns-json';
  if (FOREIGN_EXTENSIONS.has(extension)) return 'foreign';
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return 'yaml';
  }
  if (!isRecord(root)) return 'yaml';
  return hasMesosDnsKey(root) ? 'mesos-dns-json' : 'yaml';
}

function analyze(text: string, file: string): Analysis {
  const format = configFormat(text, file);
  if (format === 'yaml') return analyzeYaml(text);
  if (format === 'mesos-dns-json') return analyzeMesosDnsJson(text);
  return {
    config: undefined,
    errors: [
      {
        path: '',
        line: 0,
        column: 0,
        message: `unsupported file type '${extname(file).toLowerCase()}': use .yaml or .yml (or a Mesos-DNS .json)`,
      },
    ],
    warnings: [],
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [], { cause: error });
  }
}

/**
 * Parses configuration text and returns the frozen `Config` with the warnings found.
 *
 * The format follows the extension of `file`: `.yaml`/`.yml` is the YAML of docs/configuration.md,
 * `.json` a Mesos-DNS `config.json` (keys case-insensitive, Mesos-DNS defaults, unknown keys
 * ignored with a warning); any other extension is decided by the content (`configFormat`). Every problem is collected and thrown at once in one `ConfigError`
 * (`ERR_CONFIG_INVALID`), each with its key path and line:column.
 */
export function parseConfigWithWarnings(text: string, file: string): ParsedConfig {
  const result = analyze(text, file);
  if (result.config === undefined || result.errors.length > 0) {
    throw new ConfigError(file, result.errors);
  }
  return { config: deepFreeze(result.config), warnings: result.warnings };
}

/**
 * Parses configuration text (YAML or Mesos-DNS JSON, chosen as `configFormat` says) into a
 * validated, deep-frozen `Config`; throws a `ConfigError` listing every problem. Warnings are
 * dropped: use `parseConfigWithWarnings` to get them.
 */
export function parseConfig(text: string, file: string): Config {
  return parseConfigWithWarnings(text, file).config;
}

/**
 * Reads and parses a configuration file, returning the config and its warnings.
 *
 * A file that cannot be read throws a `ConfigError` with code `ERR_CONFIG_READ`, no problems and
 * the OS error as `cause`; invalid content throws `ERR_CONFIG_INVALID`.
 */
export function loadConfigWithWarnings(file: string): ParsedConfig {
  return parseConfigWithWarnings(readText(file), file);
}

/** Reads and parses a configuration file into a frozen `Config` (see `loadConfigWithWarnings`). */
export function loadConfig(file: string): Config {
  return loadConfigWithWarnings(file).config;
}

/**
 * Describes a `ConfigError` as `file:line:column: key: message` lines; a read error (no
 * problems) gives one line with the OS message.
 */
export function describeConfigError(error: ConfigError): string[] {
  if (error.problems.length > 0)
    return error.problems.map((p) => formatConfigProblem(error.file, p));
  const reason =
    error.cause === undefined ? error.message : fileReadProblem(error.cause, error.file, cwd());
  return [`${error.file}: cannot read the configuration: ${reason}`];
}

/**
 * Validates a configuration file for `mesodns check-config`: every error and warning as
 * `file:line:column: key: message` lines (warnings prefixed `warning:`), sorted by position;
 * `ok` is false when there is an error (the CLI exits 1).
 */
export function checkConfig(file: string): CheckResult {
  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, messages: describeConfigError(error) };
    throw error;
  }
  const result = analyze(text, file);
  const all = [
    ...result.errors,
    ...result.warnings.map((w) => ({ ...w, message: `warning: ${w.message}` })),
  ].sort(byPosition);
  return {
    ok: result.errors.length === 0,
    messages: all.map((p) => formatConfigProblem(file, p)),
  };
}

/**
 * Converts a configuration file to the mesodns YAML file (`mesodns convert-config`). For a
 * Mesos-DNS `config.json`, every warning becomes a comment above the YAML key its Mesos-DNS key
 * maps to (or in the header when the key has no equivalent), and settings that changed meaning
 * carry a comment saying how. Throws a `ConfigError` for an invalid file.
 */
export function convertConfig(file: string): string {
  const text = readText(file);
  const { config, warnings } = parseConfigWithWarnings(text, file);
  if (configFormat(text, file) !== 'mesos-dns-json') return configToYaml(config);
  return configToYaml(config, conversionComments(file, warnings));
}
