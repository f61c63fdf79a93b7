/**
 * Where the repository is. The tests run compiled (`.test-build/`, see scripts/build.ts), so a
 * path relative to a test's own file would point into that tree: everything the tests read or
 * spawn is found from the repository root instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory above `from` that holds package-lock.json (the compiled tree has none). */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package-lock.json above ${from}`);
  }
}

/** The repository root: package.json, dist/, config/, Dockerfile, helm-free-deploy/. */
export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** The path of a file in test/fixtures/. */
export function fixturePath(name: string): string {
  return join(REPO_ROOT, 'test', 'fixtures', name);
}
