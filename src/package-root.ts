/**
 * Where the package's own files are (package.json, config/, build/Release/). This module sits at
 * the top of src/ and its code at the top of dist/ (the bundle, scripts/build.ts), one level
 * below the package root either way; modules in subdirectories of src/ are bundled into files at
 * the top of dist/, so they must not count `../` from their own location.
 */
export const PACKAGE_ROOT = new URL('../', import.meta.url);

/** `path` (relative, with `/`) inside the package. */
export function packageFile(path: string): URL {
  return new URL(path, PACKAGE_ROOT);
}
