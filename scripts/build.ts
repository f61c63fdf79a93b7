/**
 * The builds, made with esbuild (neither type-checks: `npm run typecheck` runs tsc over every
 * file, and CI runs it as its own step):
 *
 *   node --import tsx scripts/build.ts           dist/, the program (npm run build)
 *   node --import tsx scripts/build.ts --tests   .test-build/, the tests (npm run build:test)
 *   node --import tsx scripts/build.ts --all     both (npm test)
 *
 * dist/ is a bundle: main.js (the command line), pipeline-worker.js and transfer-worker.js (the
 * worker threads), with the code they share split into chunks beside them, all at the top of
 * dist/; the npm packages stay in node_modules. One file per entry instead of ~60 modules made every start about 0.15 s
 * of CPU cheaper, and the build takes a fraction of a second instead of tsc's ten.
 *
 * .test-build/ holds src, support, test, bench and scripts transpiled file by file with the same
 * layout, which the tests import and ava runs (ava.config.js), plus links to package.json,
 * config/ and build/ so that the package's own files are found from there as from the
 * repository. The small unit test files of a directory run in one ava worker
 * (scripts/test-groups.ts).
 *
 * Both get the config schema's validator as standalone code (config-schema.cjs, beside the
 * module that loads it: src/config/schema.ts), so that no start pays for ajv compiling it.
 */
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import {
  CONFIG_SCHEMA_URL,
  PRECOMPILED_VALIDATOR,
  precompiledValidatorSource,
} from '../src/config/index.js';

const COMMON: BuildOptions = {
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
};

/**
 * dist/: the program, bundled. Built beside it and swapped in, so that a server started from
 * dist/ meanwhile keeps finding the files of its own build (its worker thread starts later).
 */
async function buildDist(validator: string): Promise<void> {
  const next = 'dist.next';
  const old = 'dist.old';
  rmSync(next, { recursive: true, force: true });
  await build({
    ...COMMON,
    entryPoints: {
      main: 'src/main.ts',
      'pipeline-worker': 'src/pipeline/pipeline-worker.ts',
      'transfer-worker': 'src/dns/transfer-worker.ts',
    },
    bundle: true,
    splitting: true,
    // The dependencies are bundled too: resolving them from node_modules at every start (package
    // lookups, CommonJS wrappers) cost a tenth of a second of CPU per process. The CommonJS ones
    // among them call `require`, which an ES module lacks: the banner makes one.
    packages: 'bundle',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    outdir: next,
    // Every output file at the top of dist/: modules find the package's files from there
    // (src/package-root.ts), and the worker beside the pipeline's code.
    chunkNames: '[name]-[hash]',
  });
  writeFileSync(join(next, PRECOMPILED_VALIDATOR), validator);
  rmSync(old, { recursive: true, force: true });
  if (existsSync('dist')) renameSync('dist', old);
  renameSync(next, 'dist');
  rmSync(old, { recursive: true, force: true });
}

/** .test-build/: every TypeScript file, one JavaScript file each. */
async function buildTests(validator: string): Promise<void> {
  const out = '.test-build';
  rmSync(out, { recursive: true, force: true });
  await build({
    ...COMMON,
    entryPoints: [
      'src/**/*.ts',
      'support/**/*.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
    ],
    outbase: '.',
    outdir: out,
  });
  writeFileSync(join(out, 'src', 'config', PRECOMPILED_VALIDATOR), validator);
  for (const name of ['package.json', 'config', 'build']) {
    symlinkSync(join('..', name), join(out, name));
  }
  // Imported here: the image's build stage builds dist/ only and has no scripts/test-groups.ts.
  const { groupTests } = await import('./test-groups.js');
  groupTests(out);
}

const USAGE = 'usage: node --import tsx scripts/build.ts [--tests | --all]\n';
const args = process.argv.slice(2);
const mode = args[0] ?? '--dist';
if (args.length > 1 || !['--dist', '--tests', '--all'].includes(mode)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const validator = precompiledValidatorSource(readFileSync(CONFIG_SCHEMA_URL, 'utf8'));
await Promise.all([
  mode === '--tests' ? undefined : buildDist(validator),
  mode === '--dist' ? undefined : buildTests(validator),
]);
