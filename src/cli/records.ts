/** `mesodns records`: the records a state document produces, as zone-file lines. */
import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG, loadConfig } from '../config/index.js';
import { StateParseError } from '../errors.js';
import { masterHosts, reverseOptions } from '../pipeline/loader.js';
import type { ParsedState } from '../mesos/index.js';
import {
  EXPECTED_STATE,
  StateSyntaxError,
  hostnamesOf,
  parseJsonText,
  parseStateDocument,
  readStateFile,
  resolveHosts,
  systemLookup,
} from '../mesos/index.js';
import { fileReadProblem } from '../os-errors.js';
import { generateRecords, toZoneFile } from '../records/index.js';
import { CliFailure } from './failure.js';
import { listenerAddresses, resolveListenAt } from './listen.js';

/**
 * A `/master/state` file read as its bytes arrive (`readStateFile`, as serve reads it: a 1M-task
 * file is longer than the longest string V8 makes); undefined when it is anything else, or
 * cannot be read so (the caller then reads it whole, for a v1 `GET_STATE` answer and for the
 * exact message of a fault).
 */
async function streamedState(stateFile: string): Promise<ParsedState | undefined> {
  try {
    const read = await readStateFile(stateFile);
    return read.hasLists ? read.parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `stateFile` read whole and validated (a v0 or v1 state); a fault is a `CliFailure`. */
async function wholeState(stateFile: string): Promise<ParsedState> {
  let text: string;
  try {
    text = await readFile(stateFile, 'utf8');
  } catch (err) {
    const why = fileReadProblem(err, stateFile, process.cwd());
    throw new CliFailure(`${stateFile}: cannot read the Mesos state: ${why}`, { cause: err });
  }
  try {
    return parseStateDocument(parseJsonText(text));
  } catch (err) {
    if (err instanceof StateSyntaxError) {
      const where = err.line > 0 ? `${stateFile}:${err.line}:${err.column}` : stateFile;
      throw new CliFailure(`${where}: ${err.message}; ${EXPECTED_STATE}`, { cause: err });
    }
    if (err instanceof StateParseError) {
      throw new CliFailure(`${stateFile}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Prints the records of `stateFile` for `configFile` (or the defaults); the exit code. */
export async function printRecords(
  stateFile: string,
  configFile: string | undefined,
): Promise<number> {
  const config = configFile === undefined ? DEFAULT_CONFIG : loadConfig(configFile);
  const parsed = (await streamedState(stateFile)) ?? (await wholeState(stateFile));
  // As serve does (pipeline/loader.ts and serve()): the same masters, host lookups and N1 addresses, so
  // that records and serve agree on every record for the same config.
  const masters = masterHosts(config);
  const hostIps = await resolveHosts(
    hostnamesOf(parsed.state, masters),
    systemLookup,
    Math.min(2000, config.mesos.timeoutMs),
  );
  const listen = await resolveListenAt('dns.listen', config.dns.listen);
  const records = generateRecords(parsed.state, {
    domain: config.domain,
    ipSources: config.records.ipSources,
    enforceRFC952: config.records.enforceRFC952,
    addressViews: config.records.addressViews,
    health: { mode: config.records.health, failOpen: config.records.healthFailOpen },
    nsName: config.dns.soa.mname,
    nsIps: listenerAddresses(listen),
    masters,
    hostIps,
    reverse: reverseOptions(config),
  });
  const lines = toZoneFile(records, {
    ttl: config.records.ttl,
    srvWeight: config.records.srvWeight,
  });
  process.stdout.write(lines.join('\n') + (lines.length > 0 ? '\n' : ''));
  const skipped = parsed.report.skippedTasks + records.stats.skippedTasks;
  if (skipped > 0) process.stderr.write(`${String(skipped)} task(s) skipped because of bad data\n`);
  return 0;
}
