/**
 * Gives the C heap's free memory back to the system after a load (native/mem_trim.c:
 * malloc_trim(3)). A load of 100k tasks frees hundreds of megabytes of socket chunks and typed
 * arrays that glibc keeps in the pipeline worker's arena: about 100 MB stays resident and unused
 * in stream mode without this. The addon is optional: without it (not built, not glibc) nothing
 * is trimmed.
 */
import { createRequire } from 'node:module';

/** Where node-gyp puts the addon, from this module in src/build or dist/build. */
const ADDON_PATH = '../../build/Release/mem_trim.node';

type Trim = () => boolean;

let trimFunction: Trim | null | undefined;

function load(): Trim | null {
  if (process.platform !== 'linux') return null;
  try {
    const mod: unknown = createRequire(import.meta.url)(ADDON_PATH);
    if (
      typeof mod === 'object' &&
      mod !== null &&
      'trim' in mod &&
      typeof mod.trim === 'function'
    ) {
      const trim = mod.trim as () => unknown;
      return () => trim() === true;
    }
  } catch {
    // Not built: the memory stays with the C library, which is all this costs.
  }
  return null;
}

/**
 * Releases the free pages of every malloc arena of the process. Returns whether memory was
 * released, or undefined when the addon is not available.
 */
export function trimMallocArenas(): boolean | undefined {
  trimFunction ??= load();
  return trimFunction === null ? undefined : trimFunction();
}
