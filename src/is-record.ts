/** True for a plain object: not null, not an array (remote JSON is checked with it). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True for a plain object with a string `type`: the tag of the messages between threads (their
 * channels are internal; only the tag is checked before the message is dispatched on it).
 */
export function isTagged(value: unknown): value is Record<string, unknown> & { type: string } {
  return isRecord(value) && typeof value['type'] === 'string';
}
