/**
 * Messages of JSON Schema (ajv) errors for humans: an ajv error becomes a problem at the key path
 * of the value it concerns, with a hint where one helps (`did you mean 'records.ttl'?`, a bare
 * number where a duration is expected, `yes` where YAML 1.2 wants `true`).
 */
import type { ErrorObject } from 'ajv';
import { closest } from '../did-you-mean.js';
import { DURATION_PATTERN } from '../duration.js';
import { isRecord } from '../is-record.js';
import { valueAt } from './report.js';
import type { Reporter, Segment } from './report.js';

function collectKeyPaths(schema: unknown, prefix: string, out: Map<string, string[]>): void {
  const properties = isRecord(schema) ? schema.properties : undefined;
  if (!isRecord(properties)) return;
  for (const [name, child] of Object.entries(properties)) {
    const full = prefix === '' ? name : `${prefix}.${name}`;
    const list = out.get(name.toLowerCase()) ?? [];
    list.push(full);
    out.set(name.toLowerCase(), list);
    collectKeyPaths(child, full, out);
  }
}

/**
 * Lower-cased key name -> every full path where `schema` defines it: the hint for a key written
 * at the wrong level.
 */
export function schemaKeyPaths(schema: unknown): Map<string, string[]> {
  const keyPaths = new Map<string, string[]>();
  collectKeyPaths(schema, '', keyPaths);
  return keyPaths;
}

function pointerToPath(pointer: string, data: unknown): Segment[] {
  const path: Segment[] = [];
  if (pointer === '') return path;
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const index = Number(seg);
    const next: Segment = Array.isArray(node) && Number.isInteger(index) ? index : seg;
    path.push(next);
    node = valueAt(node, [next]);
  }
  return path;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

function typeMessage(
  expected: unknown,
  data: unknown,
  custom: string | undefined,
  schema: unknown,
): string {
  const types: readonly unknown[] = Array.isArray(expected) ? expected : [expected];
  const wanted = types.find((t) => t !== 'null');
  const isDuration =
    isRecord(schema) && schema.type === 'string' && schema.pattern === DURATION_PATTERN.source;
  if (isDuration && typeof data === 'number') {
    return `must be a duration with a unit such as '${data}s' (a bare number is ambiguous)`;
  }
  if (custom !== undefined) return custom;
  if (wanted === 'boolean' && typeof data === 'string' && /^(yes|no|on|off|y|n)$/i.test(data)) {
    return `must be true or false ('${data}' is a string in YAML 1.2)`;
  }
  const name = typeof wanted === 'string' ? (TYPE_NAMES[wanted] ?? wanted) : 'of another type';
  return data === null ? `must be ${name}, not empty` : `must be ${name}`;
}

function unknownKeyMessage(
  key: string,
  allowed: readonly string[],
  parent: string,
  keyPaths: ReadonlyMap<string, readonly string[]> | undefined,
): string {
  const near = closest(key, allowed);
  if (near !== undefined) return `unknown key '${key}' (did you mean '${near}'?)`;
  const elsewhere = (keyPaths?.get(key.toLowerCase()) ?? []).filter(
    (p) => p !== (parent === '' ? key : `${parent}.${key}`),
  );
  if (elsewhere.length > 0) {
    return `unknown key '${key}' (did you mean ${elsewhere.map((p) => `'${p}'`).join(' or ')}?)`;
  }
  return allowed.length > 0
    ? `unknown key '${key}' (allowed: ${allowed.join(', ')})`
    : `unknown key '${key}'`;
}

/** Turns ajv errors into problems at their key paths, with messages for humans. */
export function reportAjvErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  reporter: Reporter,
  keyPaths: ReadonlyMap<string, readonly string[]> | undefined,
): void {
  for (const error of errors) {
    if (error.keyword === 'propertyNames') continue; // the failing inner keyword is reported
    const path = pointerToPath(error.instancePath, data);
    const params: Record<string, unknown> = error.params;
    const schema: unknown = error.parentSchema;
    const custom =
      isRecord(schema) && typeof schema.errorMessage === 'string' ? schema.errorMessage : undefined;
    if (typeof error.propertyName === 'string') {
      reporter.error([...path, error.propertyName], custom ?? 'is not a valid key', 'key');
      continue;
    }
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        const properties = isRecord(schema) ? schema.properties : undefined;
        const allowed = isRecord(properties) ? Object.keys(properties) : [];
        const parent = path.filter((s) => typeof s === 'string').join('.');
        reporter.error([...path, key], unknownKeyMessage(key, allowed, parent, keyPaths), 'key');
        break;
      }
      case 'type':
        reporter.error(path, typeMessage(params.type, error.data, custom, schema));
        break;
      case 'enum': {
        const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
        const near = typeof error.data === 'string' ? closest(error.data, allowed) : undefined;
        const hint = near === undefined ? '' : ` (did you mean '${near}'?)`;
        reporter.error(path, `must be one of ${allowed.join(', ')}${hint}`);
        break;
      }
      case 'uniqueItems': {
        // ajv reports the pair in either order, depending on the item type.
        const i = typeof params.i === 'number' ? params.i : 0;
        const j = typeof params.j === 'number' ? params.j : 0;
        const first = Math.min(i, j);
        reporter.error(
          [...path, Math.max(i, j)],
          `duplicate of ${reporter.display([...path, first])}`,
        );
        break;
      }
      case 'minItems':
        reporter.error(
          path,
          params.limit === 1
            ? 'must not be empty'
            : `must have at least ${String(params.limit)} items`,
        );
        break;
      case 'minimum':
        reporter.error(path, `must be at least ${String(params.limit)}`);
        break;
      case 'maximum':
        reporter.error(path, `must be at most ${String(params.limit)}`);
        break;
      case 'pattern':
        reporter.error(path, custom ?? `must match ${String(params.pattern)}`);
        break;
      default:
        reporter.error(path, custom ?? error.message ?? 'is invalid');
    }
  }
}
