/**
 * Building a `Config` from a document in the YAML layout (a Mesos-DNS file is mapped to it
 * first): one builder per section (sections/), called in the order of the file, each applying the
 * defaults and the checks the schema cannot express.
 */
import { DEFAULT_CONFIG } from './defaults.js';
import type { Reporter } from './report.js';
import { buildDns } from './sections/dns.js';
import { fields } from './sections/fields.js';
import type { Fields } from './sections/fields.js';
import { buildForward } from './sections/forward.js';
import { buildHttp } from './sections/http.js';
import { buildLog } from './sections/log.js';
import { buildMesos } from './sections/mesos.js';
import { buildRecords } from './sections/records.js';
import { buildTransfer } from './sections/transfer.js';
import type { Config } from './types.js';
import { domainProblem, normalizeDomain } from './values.js';

/** How `buildConfig` reads a document. */
export interface BuildOptions {
  /** Check that exactly one master source is set (the JSON mapper does its own check). */
  readonly checkSource: boolean;
}

/** Reads `domain`: lower case, without a trailing dot. */
function buildDomain(f: Fields): string {
  const domain = normalizeDomain(f.str(['domain'], DEFAULT_CONFIG.domain));
  const badDomain = domainProblem(domain);
  if (badDomain !== undefined) f.r.error(['domain'], badDomain);
  return domain;
}

/**
 * Reads every key of `doc` (already checked by the schema), applies defaults and the checks the
 * schema cannot express. Values at flagged paths are skipped and replaced by defaults.
 */
export function buildConfig(doc: unknown, r: Reporter, options: BuildOptions): Config {
  const f = fields(doc, r);
  const domain = buildDomain(f);
  const mesos = buildMesos(f, options.checkSource);
  const records = buildRecords(f);
  const dns = buildDns(f, domain);
  const forward = buildForward(f, domain);
  const transfer = buildTransfer(f);
  const http = buildHttp(f, mesos);
  const log = buildLog(f);
  return { domain, mesos, records, dns, forward, transfer, http, log };
}
