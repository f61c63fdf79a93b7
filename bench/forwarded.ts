/**
 * Forwarded names with a warm cache (issue 4), step 8 of `npm run bench` (bench/README.md): a
 * second mesodns with another domain forwards every name of the query file to knot and answers
 * it from its cache; dnsperf then runs against knot and that mesodns back to back.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import {
  HOST,
  MAIN_JS,
  ROUNDS,
  SECONDS,
  type Server,
  fmt,
  median,
  round,
  spawnServer,
  stopChild,
} from './common.js';
import {
  type PerfRun,
  type Sanity,
  ask,
  compareServers,
  dnsperf,
  perfLine,
  waitUntil,
} from './dns-load.js';

/**
 * A second mesodns whose domain is not `mesos.`: it forwards every name of the query file to
 * knot, and caches the answers (room for all of them).
 */
function forwardingConfig(stateFile: string, port: number, upstreamPort: number): string {
  return [
    'domain: forwarded.invalid',
    'mesos:',
    `  stateFile: ${JSON.stringify(stateFile)}`,
    'dns:',
    `  listen: ${HOST}:${port}`,
    'http:',
    '  enabled: false',
    'forward:',
    `  resolvers: ["${HOST}:${upstreamPort}"]`,
    '  timeout: 2s',
    '  maxConcurrent: 10000',
    '  cache: { maxEntries: 1000000, maxBytes: 1073741824 }',
    'log:',
    '  level: warn',
    '',
  ].join('\n');
}

/** One round: knot and the forwarding mesodns back to back. */
export interface ForwardedRound {
  readonly round: number;
  readonly order: string;
  readonly knot: PerfRun;
  readonly forwarded: PerfRun;
  readonly ratio: number;
}

/** What the forwarded-names section measured for one size. */
export interface ForwardedResult {
  /** One pass through the query file: every answer goes from knot into the cache. */
  readonly fill: PerfRun;
  /** Cached forwarded answers compared with knot's own. */
  readonly sanity: Sanity;
  readonly rounds: ForwardedRound[];
  readonly medians: {
    knotQps: number;
    forwardedQps: number;
    ratio: number;
    ratioOfRounds: number;
    knotCpuUsPerQuery: number;
    forwardedCpuUsPerQuery: number;
  };
}

/** knot against a mesodns that answers the same names from its forwarding cache, back to back. */
export async function benchForwarded(
  dir: string,
  statePath: string,
  lines: readonly string[],
  queryFile: string,
  knot: Server,
  probeName: string,
  log: (s: string) => void,
): Promise<ForwardedResult> {
  const port = await freePort();
  const configPath = join(dir, 'mesodns-forward.yaml');
  await writeFile(configPath, forwardingConfig(statePath, port, knot.port));
  const fwd = spawnServer('forwarded', port, process.execPath, [
    MAIN_JS,
    'serve',
    '--config',
    configPath,
  ]);
  try {
    await waitUntil('first forwarded answer', fwd, 120_000, async () => {
      return (await ask(port, probeName, 'A'))?.rcode === 0;
    });
    const timeFile = join(dir, 'time-forward.out');
    const fill = await dnsperf(fwd, queryFile, 120, ['-n', '1'], timeFile);
    log(`forward fill ${perfLine(fill)}`);
    const sanity = await compareServers(lines, knot.port, port);
    log(`forward sanity: ${sanity.agree}/${sanity.sampled} cached answers alike knot's`);
    for (const m of sanity.mismatches) log(`  mismatch: ${m}`);
    const rounds: ForwardedRound[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 === 1 ? [knot, fwd] : [fwd, knot];
      const runs = new Map<string, PerfRun>();
      for (const server of order) {
        const run = await dnsperf(server, queryFile, SECONDS, [], timeFile);
        runs.set(server.name, run);
        log(`forward round ${r} ${perfLine(run)}`);
      }
      const k = runs.get('knot');
      const f = runs.get('forwarded');
      if (k === undefined || f === undefined) throw new Error('missing run');
      rounds.push({
        round: r,
        order: order.map((x) => x.name).join(' then '),
        knot: k,
        forwarded: f,
        ratio: f.qps / k.qps,
      });
      log(`forward round ${r} ratio forwarded/knot ${fmt(f.qps / k.qps, 2)}`);
    }
    const knotQps = median(rounds.map((x) => x.knot.qps));
    const forwardedQps = median(rounds.map((x) => x.forwarded.qps));
    return {
      fill,
      sanity,
      rounds,
      medians: {
        knotQps: round(knotQps),
        forwardedQps: round(forwardedQps),
        ratio: round(forwardedQps / knotQps, 3),
        ratioOfRounds: round(median(rounds.map((x) => x.ratio)), 3),
        knotCpuUsPerQuery: round(median(rounds.map((x) => x.knot.cpuUsPerQuery)), 2),
        forwardedCpuUsPerQuery: round(median(rounds.map((x) => x.forwarded.cpuUsPerQuery)), 2),
      },
    };
  } finally {
    await stopChild(fwd.child);
  }
}
