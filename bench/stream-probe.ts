/**
 * Propagation probes of the stream section (bench/stream.ts): after a launch or a kill, a probe
 * asks mesodns for the task's own name until the change is served, so the delay is measured
 * from outside, as a client sees it. One UDP socket serves every probe, with one query per
 * pending probe every `probeIntervalMs`. Also the one-shot query that checks the computed task
 * names before the runs, and the percentiles of the probes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { decode } from 'dns-packet';
import { buildQuery, rcodeOf } from '../support/mesodns.js';
import { HOST, percentile, round } from './common.js';
import type { StreamSettings } from './stream-settings.js';
import type { TaskRef } from './stream-tasks.js';

/** A query of a probe that got no answer within this is sent again (with a new id). */
const PROBE_QUERY_TIMEOUT_MS = 250;

/** What a probe waits for. */
export type ProbeKind = 'launch' | 'kill';

/** The outcome of one probe. */
export interface ProbeResult {
  readonly kind: ProbeKind;
  /** From the launch or kill to the first matching answer, ms; undefined: timed out. */
  readonly ms: number | undefined;
  readonly queries: number;
}

interface Probe {
  readonly kind: ProbeKind;
  readonly task: TaskRef;
  readonly startedAt: number;
  queries: number;
  /** Id and send time of the query in flight. */
  inFlight: { id: number; at: number } | undefined;
  lastSentAt: number;
}

/** Follows launched and killed task names until mesodns serves the change. */
export class Prober {
  readonly #socket: Socket;
  readonly #port: number;
  readonly #settings: StreamSettings;
  readonly #probes = new Set<Probe>();
  readonly #byId = new Map<number, Probe>();
  readonly #results: ProbeResult[] = [];
  readonly #timer: NodeJS.Timeout;
  #nextId = 1;
  #idle: (() => void) | undefined;

  constructor(port: number, settings: StreamSettings) {
    this.#port = port;
    this.#settings = settings;
    this.#socket = createSocket('udp4');
    this.#socket.on('message', (message) => {
      this.#onMessage(message);
    });
    this.#socket.on('error', () => undefined);
    this.#timer = setInterval(
      () => {
        this.#tick();
      },
      Math.max(1, Math.floor(settings.probeIntervalMs / 2)),
    );
  }

  /** Starts following `task` (called right after its launch or kill). */
  follow(kind: ProbeKind, task: TaskRef, startedAt: number): void {
    const probe: Probe = {
      kind,
      task,
      startedAt,
      queries: 0,
      inFlight: undefined,
      lastSentAt: -Infinity,
    };
    this.#probes.add(probe);
    this.#send(probe, performance.now());
  }

  /** Probes still waiting. */
  get pending(): number {
    return this.#probes.size;
  }

  /** Resolves when no probe is pending (each gives up after `probeTimeoutMs`). */
  async idle(): Promise<void> {
    if (this.#probes.size === 0) return;
    await new Promise<void>((done) => {
      this.#idle = done;
    });
  }

  /** The results so far; the probes' sockets close. */
  close(): ProbeResult[] {
    clearInterval(this.#timer);
    this.#socket.close();
    return [...this.#results];
  }

  /** Results so far (probes finished). */
  get results(): readonly ProbeResult[] {
    return this.#results;
  }

  #send(probe: Probe, now: number): void {
    if (probe.inFlight !== undefined) this.#byId.delete(probe.inFlight.id);
    const id = this.#nextId;
    this.#nextId = (this.#nextId % 0xffff) + 1;
    probe.inFlight = { id, at: now };
    probe.lastSentAt = now;
    probe.queries++;
    this.#byId.set(id, probe);
    this.#socket.send(
      buildQuery(probe.task.fqdn, 'A', { id, rd: false, edns: 1232 }),
      this.#port,
      HOST,
    );
  }

  #tick(): void {
    const now = performance.now();
    const { probeIntervalMs, probeTimeoutMs } = this.#settings;
    for (const probe of this.#probes) {
      if (now - probe.startedAt > probeTimeoutMs) {
        this.#finish(probe, undefined);
        continue;
      }
      const flight = probe.inFlight;
      const isWaiting = flight !== undefined && now - flight.at < PROBE_QUERY_TIMEOUT_MS;
      if (!isWaiting && now - probe.lastSentAt >= probeIntervalMs) this.#send(probe, now);
    }
  }

  #onMessage(message: Buffer): void {
    if (message.length < 12) return;
    const now = performance.now();
    const probe = this.#byId.get(message.readUInt16BE(0));
    if (probe === undefined) return;
    this.#byId.delete(message.readUInt16BE(0));
    probe.inFlight = undefined;
    const rcode = rcodeOf(message);
    let isDone = false;
    if (probe.kind === 'kill') {
      isDone = rcode === 3;
    } else if (rcode === 0 && message.readUInt16BE(6) > 0) {
      try {
        isDone = (decode(message).answers ?? []).some(
          (a) => a.type === 'A' && a.data === probe.task.ip,
        );
      } catch {
        isDone = false;
      }
    }
    if (isDone) this.#finish(probe, now - probe.startedAt);
  }

  #finish(probe: Probe, ms: number | undefined): void {
    if (!this.#probes.delete(probe)) return;
    if (probe.inFlight !== undefined) this.#byId.delete(probe.inFlight.id);
    if (probe.kind === 'launch' && ms !== undefined) probe.task.isSeen = true;
    this.#results.push({ kind: probe.kind, ms, queries: probe.queries });
    if (this.#probes.size === 0) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle?.();
    }
  }
}

/** Percentiles of a list of latencies (ms). */
export interface LatencySummary {
  readonly probes: number;
  readonly answered: number;
  readonly timedOut: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly within1sPct: number;
  /** Queries the probes sent, on average per probe. */
  readonly queriesPerProbe: number;
}

/** Percentiles of the probes of one kind (`launch` or `kill`). */
export function summarize(results: readonly ProbeResult[], kind: ProbeKind): LatencySummary {
  const mine = results.filter((r) => r.kind === kind);
  const ms = mine.flatMap((r) => (r.ms === undefined ? [] : [r.ms])).sort((a, b) => a - b);
  const timedOut = mine.length - ms.length;
  // A probe that timed out counts as slower than any answer.
  const all = [...ms, ...Array.from({ length: timedOut }, () => Infinity)];
  return {
    probes: mine.length,
    answered: ms.length,
    timedOut,
    p50Ms: round(percentile(all, 0.5)),
    p99Ms: round(percentile(all, 0.99)),
    maxMs: round(all.at(-1) ?? Number.NaN),
    within1sPct:
      mine.length === 0
        ? Number.NaN
        : round((ms.filter((x) => x <= 1000).length / mine.length) * 100),
    queriesPerProbe: round(mine.reduce((n, r) => n + r.queries, 0) / Math.max(1, mine.length)),
  };
}

/** Asks for `fqdn` A once; whether it answered NOERROR with an address. */
export async function answers(port: number, fqdn: string): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<boolean>((done) => {
      const timer = setTimeout(() => {
        done(false);
      }, 1000);
      socket.on('message', (m) => {
        clearTimeout(timer);
        done(m.length >= 12 && rcodeOf(m) === 0 && m.readUInt16BE(6) > 0);
      });
      socket.on('error', () => {
        clearTimeout(timer);
        done(false);
      });
      socket.send(buildQuery(fqdn, 'A', { rd: false }), port, HOST);
    });
  } finally {
    socket.close();
  }
}
