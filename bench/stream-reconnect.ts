/**
 * Stream mode, a cut stream at a given cluster size (issue #20): how long after the cut a task
 * launched and a task killed while the stream was down are served (answered / NXDOMAIN). A fake
 * master serves the synthetic cluster over the v1 API; mesodns follows it; each round adds a
 * task by event (the victim), cuts the stream, then launches one task and kills the victim on
 * the master (nobody is subscribed: only the next snapshot tells), and probes both names from
 * this process every 20 ms. Usage:
 *   npm run build && node --import tsx bench/stream-reconnect.ts [tasks=100000] [rounds=3]
 */
import { setTimeout as delay } from 'node:timers/promises';
import { syntheticState } from '../support/cluster.js';
import { FakeMaster } from '../support/fake-master.js';
import { answerData, ask, metricValue, startMesodns } from '../support/mesodns.js';

const tasks = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
/** Give up on a round after this long. */
const ROUND_TIMEOUT_MS = 120_000;

const master = new FakeMaster(syntheticState({ tasks }), {
  heartbeatSeconds: 1,
  cacheTaskJson: true,
});
await master.start();
const started = Date.now();
const srv = await startMesodns({
  config: {
    mesos: { masters: [master.url], mode: 'stream', refresh: '5m' },
    log: { level: process.env.BENCH_LOG ?? 'info' },
  },
  readiness: 'soa',
  readyTimeoutMs: 600_000,
});
console.log(`${String(tasks)} tasks: first answer after ${String(Date.now() - started)} ms`);

const subscriptions = (): Promise<number> => metricValue(srv, 'mesodns_stream_subscriptions_total');
const fullBuilds = (): Promise<number> =>
  metricValue(srv, 'mesodns_state_loads_total{result="published"}');

/** Resolves with the ms from `from` until `check` holds (probed every 20 ms). */
async function until(from: number, check: () => Promise<boolean>): Promise<number> {
  while (Date.now() - from < ROUND_TIMEOUT_MS) {
    if (await check()) return Date.now() - from;
    await delay(20);
  }
  throw new Error('round timed out');
}

try {
  for (let r = 1; r <= rounds; r++) {
    const victim = `victim${String(r)}`;
    const victimId = master.launchTask({ name: victim, ip: `10.250.0.${String(r)}` });
    await until(Date.now(), async () => {
      const m = await ask(srv.dnsPort, `${victim}.marathon.mesos`, 'A');
      return answerData(m).length > 0;
    });
    const subscribed = await subscriptions();
    const builds = await fullBuilds();
    const cut = Date.now();
    master.dropStreams();
    const launched = `meanwhile${String(r)}`;
    master.launchTask({ name: launched, ip: `10.251.0.${String(r)}` });
    master.killTask(victimId);
    const [launchMs, killMs] = await Promise.all([
      until(cut, async () => {
        const m = await ask(srv.dnsPort, `${launched}.marathon.mesos`, 'A');
        return answerData(m).includes(`10.251.0.${String(r)}`);
      }),
      until(cut, async () => {
        const m = await ask(srv.dnsPort, `${victim}.marathon.mesos`, 'A');
        return m.rcode === 'NXDOMAIN';
      }),
    ]);
    // The counters reach /metrics up to a second after the zone.
    await delay(1500);
    const line =
      `round ${String(r)}: launched answered ${String(launchMs)} ms, killed NXDOMAIN ` +
      `${String(killMs)} ms after the cut; subscriptions +${String((await subscriptions()) - subscribed)}, ` +
      `full builds +${String((await fullBuilds()) - builds)}; of it the fake master rendering ` +
      `the snapshot ${String(master.lastSnapshotRenderMs)} ms`;
    console.log(line);
    if (process.env.BENCH_LOG !== undefined) {
      console.log(
        srv
          .logs()
          .split('\n')
          .filter((l) => /stream|subscri|update|load|GET_MASTER|state-summary/i.test(l))
          .slice(-12)
          .join('\n'),
      );
    }
  }
} finally {
  await srv.stop();
  await master.close();
}
