import test from 'ava';
import { recordingLogger } from '../../support/logs.js';
import { HealthReport } from '../../src/pipeline/health.js';
import type { HealthCounters } from '../../src/pipeline/health.js';

function report(): { health: HealthReport; counters: HealthCounters; logs: string[] } {
  const { logger, logs } = recordingLogger();
  const counters: HealthCounters = { healthExcludedTasks: 0, healthFailOpenApps: 0 };
  return { health: new HealthReport(logger, counters), counters, logs };
}

test('fail-open is logged when an app starts and when it stops being served whole, once', (t) => {
  const { health, counters, logs } = report();
  health.update({ excludedTasks: 2, failOpen: [] });
  t.deepEqual(counters, { healthExcludedTasks: 2, healthFailOpenApps: 0 });
  t.deepEqual(logs, []);

  health.update({ excludedTasks: 1, failOpen: ['web.marathon.mesos.'] });
  health.update({ excludedTasks: 1, failOpen: ['web.marathon.mesos.'] }); // the next poll
  t.deepEqual(counters, { healthExcludedTasks: 1, healthFailOpenApps: 1 });
  t.is(logs.length, 1);
  t.regex(logs[0] ?? '', /^warn every instance of an app is unhealthy; serving all of them/);
  t.regex(logs[0] ?? '', /"apps":"web\.marathon\.mesos\.","count":1,"failOpenApps":1/);

  health.update({ excludedTasks: 1, failOpen: [] });
  t.is(logs.length, 2);
  t.regex(logs[1] ?? '', /^info an app served whole has a healthy instance again.*web\.marathon/);
  t.deepEqual(counters, { healthExcludedTasks: 1, healthFailOpenApps: 0 });
});

test('a health-check outage turning many apps at once is one line naming ten of them', (t) => {
  const { health, logs } = report();
  const apps = Array.from({ length: 25 }, (_, i) => `app${String(i)}.marathon.mesos.`);
  health.update({ excludedTasks: 0, failOpen: apps });
  t.is(logs.length, 1);
  t.regex(logs[0] ?? '', /app9\.marathon\.mesos\. \(and 15 more\)","count":25/);
});

test('turning the rule off clears the counters without a log line', (t) => {
  const { health, counters, logs } = report();
  health.update({ excludedTasks: 3, failOpen: ['web.marathon.mesos.'] });
  health.update(undefined);
  t.deepEqual(counters, { healthExcludedTasks: 0, healthFailOpenApps: 0 });
  t.is(logs.length, 1);
});
