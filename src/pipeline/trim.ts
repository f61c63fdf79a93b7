/**
 * Gives the C heap's free memory back to the system after a load (native/mem_trim.c:
 * malloc_trim(3)). A large load frees hundreds of megabytes of socket chunks and typed arrays
 * that glibc keeps in the pipeline worker's arena, resident and unused in stream mode without
 * this (docs/performance.md). The addon is optional: without it (not built, not glibc) nothing
 * is trimmed.
 */
import { loadAddon } from '../native.js';

type Trim = () => boolean;

let trimFunction: Trim | null | undefined;

/** The addon's `trim`, or null when it cannot be loaded (the memory stays with the C library). */
function load(): Trim | null {
  const { module } = loadAddon('mem_trim');
  if (
    typeof module === 'object' &&
    module !== null &&
    'trim' in module &&
    typeof module.trim === 'function'
  ) {
    const trim = module.trim as () => unknown;
    return () => trim() === true;
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
