/**
 * Durations as the config and the logs write them (`500ms`, `30s`, `5m`, `1h`). A leaf beside
 * clock and log: the loader and the carry-over use it in the pipeline worker, which must not load
 * the config parser (ajv and yaml cost CPU at each start).
 */
/** Shape of a duration string: digits and one unit (`500ms`, `30s`, `5m`, `1h`). */
export const DURATION_PATTERN = /^[0-9]+(ms|s|m|h)$/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses a duration string (`500ms`, `30s`, `5m`, `1h`) into milliseconds.
 *
 * Only one number and one unit are accepted; a bare number is rejected because its unit would be
 * ambiguous. Throws a `RangeError` on anything else or on a value beyond `Number.MAX_SAFE_INTEGER`.
 */
export function parseDuration(text: string): number {
  const unit = DURATION_PATTERN.exec(text)?.[1];
  if (unit !== 'ms' && unit !== 's' && unit !== 'm' && unit !== 'h') {
    throw new RangeError(
      `invalid duration '${text}' (expected a number and a unit: 500ms, 30s, 5m, 1h)`,
    );
  }
  const ms = Number(text.slice(0, -unit.length)) * UNIT_MS[unit];
  if (!Number.isSafeInteger(ms)) throw new RangeError(`duration '${text}' is too large`);
  return ms;
}

/**
 * Formats milliseconds as the shortest duration string that `parseDuration` reads back exactly
 * (`90000` → `90s`, `3600000` → `1h`, `1500` → `1500ms`).
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}`);
  if (ms === 0) return '0s';
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
