/**
 * Writes the config schema's validator as standalone code into a build, so that no start pays
 * for ajv compiling it (src/config/schema.ts). Run by `npm run build` and `npm run build:test`:
 *
 *   node --import tsx scripts/compile-schema.ts dist/config
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONFIG_SCHEMA_URL,
  PRECOMPILED_VALIDATOR,
  precompiledValidatorSource,
} from '../src/config/index.js';

const outDir = process.argv[2];
if (outDir === undefined) {
  process.stderr.write('usage: compile-schema.ts OUT_DIR (the config/ directory of a build)\n');
  process.exit(2);
}
const target = join(outDir, PRECOMPILED_VALIDATOR);
writeFileSync(target, precompiledValidatorSource(readFileSync(CONFIG_SCHEMA_URL, 'utf8')));
