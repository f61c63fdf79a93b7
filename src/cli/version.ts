import { readFileSync } from 'node:fs';
import { packageFile } from '../package-root.js';

/** The package version (package.json), or `dev` when it cannot be read. */
export const VERSION = readVersion();

function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(packageFile('package.json'), 'utf8'));
    if (
      typeof pkg === 'object' &&
      pkg !== null &&
      'version' in pkg &&
      typeof pkg.version === 'string'
    ) {
      return pkg.version;
    }
  } catch {
    // Fall through.
  }
  return 'dev';
}
