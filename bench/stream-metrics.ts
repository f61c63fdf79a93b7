/**
 * What the stream section (bench/stream.ts) reads from mesodns itself: its `/metrics`
 * (metrics.ts) for every figure (the propagation histogram, the incremental updates and full
 * builds, the events counted, the subscriptions), and, for people, its log: copied to a file,
 * with the warnings and errors kept as notes for the report.
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Server } from './common.js';
import { histogram, scrape, value, type Histogram, type Scrape } from './metrics.js';

/** Copies the server's output to a file and keeps its warning and error lines. */
export class LogCopy {
  /** Warning and error lines (the first 300 characters of each), in order. */
  readonly notes: string[] = [];

  /** Listens to the server's stdout and stderr, and copies them to `logFile`. */
  attach(server: Server, logFile: string): void {
    const file = createWriteStream(logFile);
    server.child.once('exit', () => file.end());
    const listen = (stream: Readable | null): void => {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        file.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (/\b(WARN|ERROR)\b/.test(line)) this.notes.push(line.slice(0, 300));
        }
      });
    };
    listen(server.child.stdout);
    listen(server.child.stderr);
  }
}

/** The figures of one scrape the section uses. */
export interface StreamMetrics {
  /** `mesodns_stream_propagation_seconds`. */
  readonly propagation: Histogram;
  /** `mesodns_zone_update_duration_seconds`: one observation per incremental update. */
  readonly updates: Histogram;
  /** Names replaced and task changes applied by the incremental updates so far. */
  readonly updateNames: number;
  readonly updateTaskChanges: number;
  /** Names served from changesets, replaced since the last full build. */
  readonly changedNames: number;
  /** `mesodns_zone_build_duration_seconds`: one observation per full build. */
  readonly builds: Histogram;
  /** Batches applied by a full build instead of an update, by reason. */
  readonly fallbacks: Readonly<Record<string, number>>;
  /** Events received, by type. */
  readonly events: Readonly<Record<string, number>>;
  readonly subscriptions: number;
}

/** The samples of `name` by the value of their label `label`. */
function byLabel(s: Scrape, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of s.get(name)?.samples ?? []) {
    const key = sample.labels[label];
    if (key !== undefined) out[key] = (out[key] ?? 0) + sample.value;
  }
  return out;
}

/** Scrapes `/metrics` once for the section's figures. */
export async function readStreamMetrics(httpPort: number): Promise<StreamMetrics> {
  const s = await scrape(httpPort);
  return {
    propagation: histogram(s, 'mesodns_stream_propagation_seconds'),
    updates: histogram(s, 'mesodns_zone_update_duration_seconds'),
    updateNames: value(s, 'mesodns_zone_update_names_total'),
    updateTaskChanges: value(s, 'mesodns_zone_update_task_changes_total'),
    changedNames: value(s, 'mesodns_zone_changed_names'),
    builds: histogram(s, 'mesodns_zone_build_duration_seconds'),
    fallbacks: byLabel(s, 'mesodns_zone_update_fallbacks_total', 'reason'),
    events: byLabel(s, 'mesodns_stream_events_total', 'type'),
    subscriptions: value(s, 'mesodns_stream_subscriptions_total'),
  };
}
