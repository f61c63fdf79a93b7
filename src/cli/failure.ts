/** Failures of the command line that are explained in one line. */

/** An expected failure explained in one line (what, where, what to do); exit 1. */
export class CliFailure extends Error {}

/** The message of an error, or the thrown value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
