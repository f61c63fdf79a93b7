/**
 * Loads the native addons of native/ (built by node-gyp at `npm ci` into build/Release). They
 * are optional: a missing or unloadable addon comes back as the reason, and each caller falls
 * back to plain Node.js.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { packageFile } from './package-root.js';

/**
 * The exports of `build/Release/<name>.node`, or why it cannot be loaded: not Linux (the
 * addons are Linux-only), or not built (`npm run build:native`).
 */
export function loadAddon(name: string): { module?: unknown; reason?: string } {
  if (process.platform !== 'linux') {
    return { reason: `the native addons are Linux only (platform ${process.platform})` };
  }
  try {
    const addon = packageFile(`build/Release/${name}.node`);
    return { module: createRequire(import.meta.url)(fileURLToPath(addon)) as unknown };
  } catch (err) {
    const first = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      reason: `the native addon is not built (${first ?? ''}); run \`npm run build:native\``,
    };
  }
}
