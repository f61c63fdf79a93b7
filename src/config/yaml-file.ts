/**
 * The mesodns YAML file (docs/configuration.md): parsed with positions, checked against
 * config/mesodns.schema.json, then built section by section into a `Config`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { isRecord } from '../is-record.js';
import { packageFile } from '../package-root.js';
import { buildConfig } from './build.js';
import { locate, offsetPosition } from './positions.js';
import { Findings, Reporter, analysis, errorMessage, formatPath } from './report.js';
import type { Analysis } from './report.js';
import { reportAjvErrors, schemaKeyPaths } from './schema-errors.js';
import { configValidator } from './schema.js';
import type { Validator } from './schema.js';

/** Location of the JSON Schema of the YAML file: the package ships `config/`. */
export const CONFIG_SCHEMA_URL = packageFile('config/mesodns.schema.json');

interface SchemaInfo {
  readonly validate: Validator;
  /** Lower-cased key name -> every full path where the schema defines it (for hints). */
  readonly keyPaths: ReadonlyMap<string, readonly string[]>;
}

let schemaInfo: SchemaInfo | undefined;

/** The schema of the YAML file, read and compiled at first use. */
function yamlSchema(): SchemaInfo {
  if (schemaInfo === undefined) {
    const text = readFileSync(CONFIG_SCHEMA_URL, 'utf8');
    const schema: unknown = JSON.parse(text);
    if (!isRecord(schema)) throw new Error(`${CONFIG_SCHEMA_URL.pathname} is not a JSON Schema`);
    const keyPaths = schemaKeyPaths(schema);
    schemaInfo = { validate: configValidator(text, schema), keyPaths };
  }
  return schemaInfo;
}

/**
 * Reads the text of a mesodns YAML file: YAML syntax, then the JSON Schema, then the checks and
 * defaults of each section. Every problem found is in the result; nothing is thrown for bad
 * content.
 */
export function analyzeYaml(text: string): Analysis {
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    merge: true,
    uniqueKeys: true,
  });
  const findings = new Findings();
  const reporter = new Reporter(findings, {
    display: formatPath,
    position: (path, at) => locate(doc, counter, path, at, false),
  });
  for (const warning of doc.warnings) {
    findings.warnings.push({
      path: '',
      ...offsetPosition(counter, warning.pos[0]),
      message: warning.message,
    });
  }
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      findings.errors.push({
        path: '',
        ...offsetPosition(counter, error.pos[0]),
        message: error.message,
      });
    }
    return analysis(findings, undefined);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    reporter.error([], errorMessage(error));
    return analysis(findings, undefined);
  }
  data ??= {}; // an empty file or one with only comments: all defaults
  if (!isRecord(data)) {
    findings.errors.push({
      path: '',
      ...locate(doc, counter, [], 'value', false),
      message: 'the configuration must be a mapping of keys to values',
    });
    return analysis(findings, undefined);
  }
  const schema = yamlSchema();
  if (!schema.validate(data)) {
    reportAjvErrors(schema.validate.errors ?? [], data, reporter, schema.keyPaths);
  }
  const config = buildConfig(data, reporter, { checkSource: true });
  return analysis(findings, config);
}
