/**
 * The report of `npm run bench`: `bench-<date>.json` and `.md` in bench/out/ with copies as
 * `latest.json` and `latest.md`, and the summary lines on the console.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LATENCY_QPS,
  LATENCY_SECONDS,
  LOAD_ARGS,
  ONLY,
  OUT_DIR,
  RELOAD_PERIOD_MS,
  ROUNDS,
  SECONDS,
  SEED,
  SIZES,
  WARMUP_SECONDS,
  fmt,
} from './common.js';
import type { HistogramDelta } from './metrics.js';
import type { SizeResult } from './size.js';
import { streamMarkdown, streamSummary, type StreamResult } from './stream-report.js';
import type { StreamSettings } from './stream-settings.js';

function markdown(
  date: string,
  machine: Record<string, string | number>,
  results: readonly SizeResult[],
): string {
  const out: string[] = [
    `# mesodns benchmark, ${date}`,
    '',
    `Machine: ${String(machine['nproc'])} CPUs (${String(machine['cpuModel'])}), ` +
      `${String(machine['memTotalMB'])} MB RAM, Linux ${String(machine['kernel'])}, ` +
      `Node ${String(machine['node'])}, ${String(machine['knot'])}, ${String(machine['dnsperf'])}; ` +
      `load average at start ${String(machine['loadAvg1AtStart'])}; CPU busy in the second ` +
      `before the start ${String(machine['busyPctBeforeStart'])} %, ` +
      `steal during the run ${String(machine['stealPctDuringRun'])} %` +
      (Number(machine['busyPctBeforeStart']) > 10
        ? ' (other work was running: expect noisy figures, compare within a round).'
        : '.'),
    '',
    `dnsperf \`${LOAD_ARGS.join(' ')} -l ${SECONDS}\`, ${ROUNDS} rounds alternating which server ` +
      `goes first, after a ${WARMUP_SECONDS} s warm-up of each; paced latency run ` +
      `\`-Q ${LATENCY_QPS} -v -l ${LATENCY_SECONDS}\`. Query mix: 55 % A, 25 % SRV, 10 % AAAA, ` +
      '10 % nonexistent; 100k lines, names drawn uniformly from the distinct owners of the ' +
      'exported zone. knot 3.2 with 2 UDP workers serves the same records (exported with ' +
      '`mesodns records`) with the same SOA.',
    '',
  ];
  for (const r of results) {
    out.push(
      `## ${r.tasks} tasks`,
      '',
      `${r.agents} agents, state ${fmt(r.stateBytes / 2 ** 20, 1)} MB; zone ${r.zone.lines} records ` +
        `(${Object.entries(r.zone.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(
            ', ',
          )}); distinct names A ${r.zone.names['A'] ?? 0}, SRV ${r.zone.names['SRV'] ?? 0}, ` +
        `AAAA ${r.zone.names['AAAA'] ?? 0}. Sanity: ${r.sanity.agree}/${r.sanity.sampled} sampled ` +
        `queries answered alike by both servers (same RCODE and answers; ${r.sanity.tcOnlyOne} of ` +
        'them with TC set by only one server).',
      '',
      '| round | order | knot QPS | mesodns QPS | ratio | knot µs CPU/q | mesodns µs CPU/q | mesodns avg latency |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...r.rounds.map(
        (x) =>
          `| ${x.round} | ${x.order} | ${fmt(x.knot.qps)} | ${fmt(x.mesodns.qps)} | ${fmt(x.ratio, 2)} | ` +
          `${fmt(x.knot.cpuUsPerQuery, 1)} | ${fmt(x.mesodns.cpuUsPerQuery, 1)} | ${fmt(x.mesodns.avgLatencyMs, 2)} ms |`,
      ),
      `| **median** | | **${fmt(r.medians.knotQps)}** | **${fmt(r.medians.mesodnsQps)}** | ` +
        `**${fmt(r.medians.ratio, 2)}** | ${fmt(r.medians.knotCpuUsPerQuery, 1)} | ` +
        `${fmt(r.medians.mesodnsCpuUsPerQuery, 1)} | |`,
      '',
      `Ratio mesodns/knot: ${fmt(r.medians.ratio, 2)} from the median QPS, ` +
        `${fmt(r.medians.ratioOfRounds, 2)} as the median of the per-round ratios. ` +
        `CPU per query ratio: ${fmt(r.medians.mesodnsCpuUsPerQuery / r.medians.knotCpuUsPerQuery, 1)}x.`,
      '',
      ...r.rounds
        .slice(0, 1)
        .flatMap((x) => [
          `Response codes (round 1): knot ${x.knot.rcodes}; mesodns ${x.mesodns.rcodes}. ` +
            `Average response size: knot ${fmt(x.knot.responseBytes)} B, mesodns ` +
            `${fmt(x.mesodns.responseBytes)} B.`,
          '',
        ]),
      `Paced at ${LATENCY_QPS} qps: knot p50 ${fmt(r.latency.knot.p50Ms ?? Number.NaN, 3)} ms / ` +
        `p99 ${fmt(r.latency.knot.p99Ms ?? Number.NaN, 3)} ms; mesodns p50 ` +
        `${fmt(r.latency.mesodns.p50Ms ?? Number.NaN, 3)} ms / p99 ` +
        `${fmt(r.latency.mesodns.p99Ms ?? Number.NaN, 3)} ms ` +
        `(server CPU knot ${fmt(r.latency.knot.serverCpuPct)} %, mesodns ${fmt(r.latency.mesodns.serverCpuPct)} %).`,
      '',
      ...reloadLines(r),
      `### Forwarded names, warm cache`,
      '',
      'A second mesodns with another domain forwards the same query file to knot; one pass ' +
        `through the file fills its cache (${fmt(r.forwarded.fill.qps)} qps while filling), then ` +
        `it answers from the cache. Sanity: ${r.forwarded.sanity.agree}/${r.forwarded.sanity.sampled} ` +
        "sampled cached answers alike knot's.",
      '',
      '| round | order | knot QPS | forwarded QPS | ratio | knot µs CPU/q | forwarded µs CPU/q |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...r.forwarded.rounds.map(
        (x) =>
          `| ${x.round} | ${x.order} | ${fmt(x.knot.qps)} | ${fmt(x.forwarded.qps)} | ` +
          `${fmt(x.ratio, 2)} | ${fmt(x.knot.cpuUsPerQuery, 1)} | ${fmt(x.forwarded.cpuUsPerQuery, 1)} |`,
      ),
      `| **median** | | **${fmt(r.forwarded.medians.knotQps)}** | ` +
        `**${fmt(r.forwarded.medians.forwardedQps)}** | **${fmt(r.forwarded.medians.ratio, 2)}** | ` +
        `${fmt(r.forwarded.medians.knotCpuUsPerQuery, 1)} | ` +
        `${fmt(r.forwarded.medians.forwardedCpuUsPerQuery, 1)} |`,
      '',
      `Ratio forwarded/knot: ${fmt(r.forwarded.medians.ratio, 2)} from the median QPS, ` +
        `${fmt(r.forwarded.medians.ratioOfRounds, 2)} as the median of the per-round ratios ` +
        '(issue 4 asks for at least 0.5).',
      '',
      `mesodns first load (from its /metrics): state read, parsed and validated in ` +
        `${fmt(r.load.parseMs)} ms, then records and zone built in ${fmt(r.load.buildMs)} ms ` +
        `(issue #6: at most 1500 ms); heap after the load: main thread ${fmt(r.load.mainHeapUsedMB)} MB, ` +
        `pipeline worker ${fmt(r.load.workerHeapUsedMB)} MB used of ${fmt(r.load.workerHeapTotalMB)} MB.`,
      '',
      `mesodns startup: listening after ${fmt(r.mesodns.listenMs)} ms, first answer after ` +
        `${fmt(r.mesodns.firstAnswerMs)} ms; RSS ${fmt(r.mesodns.rssAtFirstAnswerMB)} MB at first ` +
        `answer, ${fmt(r.mesodns.rssAfterLoadMB)} MB 2 s later, ${fmt(r.mesodns.rssAfterBenchMB)} MB ` +
        `after the runs (${r.reload === undefined ? '' : '8 s after the reloads; '}peak ${fmt(r.mesodns.rssPeakMB)} MB). knot: zone loaded in ` +
        `${fmt(r.knot.loadMs)} ms, RSS ${fmt(r.knot.rssMB)} MB. State generated in ${fmt(r.generateMs)} ms, ` +
        `exported by \`mesodns records\` in ${fmt(r.exportMs)} ms.`,
      '',
    );
  }
  return out.join('\n');
}

/** The markdown paragraph of the reload run. */
function reloadLines(r: SizeResult): string[] {
  const x = r.reload;
  if (x === undefined) return [];
  const times = (h: HistogramDelta): string =>
    h.count === 0 ? 'none' : `mean ${fmt(h.meanMs)} ms, max <= ${fmt(h.maxBoundMs)} ms`;
  return [
    `Paced at ${LATENCY_QPS} qps for ${x.seconds} s while the state file is replaced every ` +
      `${RELOAD_PERIOD_MS / 1000} s (the original and a version with 1 % of the tasks killed, ` +
      `alternately): mesodns p50 ${fmt(x.run.p50Ms ?? Number.NaN, 3)} ms / p99 ` +
      `${fmt(x.run.p99Ms ?? Number.NaN, 3)} ms / p99.9 ${fmt(x.run.p999Ms ?? Number.NaN, 3)} ms, ` +
      `${fmt(x.run.lost)} lost (issue #6: p99 at most 5 ms). ${x.published} zones published ` +
      `from ${x.writes} writes; parse ${times(x.parse)}; build ${times(x.build)}; ` +
      `server CPU ${fmt(x.run.serverCpuPct)} %; peak RSS ${fmt(x.rssPeakMB)} MB.`,
    '',
  ];
}

/** Writes the JSON and markdown files and prints the summary lines. */
export async function writeReport(
  date: string,
  machine: Record<string, string | number>,
  results: readonly SizeResult[],
  streams: readonly StreamResult[],
  stream: StreamSettings,
): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  const report = {
    date,
    machine,
    settings: {
      sizes: SIZES,
      rounds: ROUNDS,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      latencySeconds: LATENCY_SECONDS,
      latencyQps: LATENCY_QPS,
      dnsperfArgs: LOAD_ARGS.join(' '),
      seed: SEED,
      only: ONLY === '' ? undefined : ONLY,
      stream,
    },
    results,
    stream: streams,
  };
  const md = [markdown(date, machine, results), ...streamMarkdown(streams)].join('\n');
  await writeFile(join(OUT_DIR, `bench-${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(OUT_DIR, `bench-${stamp}.md`), md);
  await writeFile(join(OUT_DIR, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(OUT_DIR, 'latest.md'), md);

  console.log('');
  for (const r of results) {
    console.log(
      `${r.tasks} tasks: knot ${fmt(r.medians.knotQps)} qps, mesodns ${fmt(r.medians.mesodnsQps)} qps ` +
        `(median of ${ROUNDS}), ratio ${fmt(r.medians.ratio, 2)} (median of round ratios ` +
        `${fmt(r.medians.ratioOfRounds, 2)}), CPU/query ${fmt(r.medians.knotCpuUsPerQuery, 1)} vs ` +
        `${fmt(r.medians.mesodnsCpuUsPerQuery, 1)} µs; paced p50/p99 knot ` +
        `${fmt(r.latency.knot.p50Ms ?? Number.NaN, 3)}/${fmt(r.latency.knot.p99Ms ?? Number.NaN, 3)} ms, ` +
        `mesodns ${fmt(r.latency.mesodns.p50Ms ?? Number.NaN, 3)}/` +
        `${fmt(r.latency.mesodns.p99Ms ?? Number.NaN, 3)} ms; first answer ` +
        `${fmt(r.mesodns.firstAnswerMs)} ms, RSS ${fmt(r.mesodns.rssAfterLoadMB)} MB; ` +
        `load: parse ${fmt(r.load.parseMs)} ms, build ${fmt(r.load.buildMs)} ms` +
        (r.reload === undefined
          ? ''
          : `; while reloading every ${RELOAD_PERIOD_MS / 1000} s: p99 ` +
            `${fmt(r.reload.run.p99Ms ?? Number.NaN, 3)} ms (${r.reload.published} reloads)`),
    );
    console.log(
      `${r.tasks} tasks, forwarded names from a warm cache: knot ` +
        `${fmt(r.forwarded.medians.knotQps)} qps, forwarded ${fmt(r.forwarded.medians.forwardedQps)} ` +
        `qps, ratio ${fmt(r.forwarded.medians.ratio, 2)} (median of round ratios ` +
        `${fmt(r.forwarded.medians.ratioOfRounds, 2)})`,
    );
  }
  for (const r of streams) console.log(streamSummary(r));
  console.log(`results: ${join(OUT_DIR, `bench-${stamp}.md`)} (and .json)`);
}
