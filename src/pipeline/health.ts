/**
 * The health rule's report (`records.health: exclude-unhealthy`, records/health.ts): the
 * counters of the zone served for the metrics (tasks left out of their app's shared names, apps
 * served whole because every instance is unhealthy), and one log line whenever apps start or
 * stop being served whole. Fed by every full build and every streamed batch (the incremental
 * updater's counters), so a poll that finds the same apps logs nothing.
 */
import type { Logger } from '../log.js';
import type { HealthStats } from '../records/index.js';

/** Apps named in one log line at most (a health-check outage can turn hundreds at once). */
const MAX_LOGGED_APPS = 10;

/** What the metrics read (the loader's `LoaderStats` holds them). */
export interface HealthCounters {
  /** Tasks left out of their app's shared names in the zone served. */
  healthExcludedTasks: number;
  /** Apps served whole because every instance is unhealthy (fail-open). */
  healthFailOpenApps: number;
}

/** Follows the health counters of the zone served (see the module comment). */
export class HealthReport {
  readonly #logger: Logger;
  readonly #counters: HealthCounters;
  #failOpen: ReadonlySet<string> = new Set();

  /** Writes the counters into `counters` (the loader's stats). */
  constructor(logger: Logger, counters: HealthCounters) {
    this.#logger = logger;
    this.#counters = counters;
  }

  /** The zone served now has these counters (undefined: health is ignored). */
  update(health: HealthStats | undefined): void {
    this.#counters.healthExcludedTasks = health?.excludedTasks ?? 0;
    this.#counters.healthFailOpenApps = health?.failOpen.length ?? 0;
    const now = new Set(health?.failOpen ?? []);
    const before = this.#failOpen;
    this.#failOpen = now;
    if (health === undefined) return;
    const entered = [...now].filter((name) => !before.has(name));
    const left = [...before].filter((name) => !now.has(name));
    if (entered.length > 0) {
      this.#logger.warn(
        'every instance of an app is unhealthy; serving all of them (records.healthFailOpen)',
        { apps: appList(entered), count: entered.length, failOpenApps: now.size },
      );
    }
    if (left.length > 0) {
      this.#logger.info('an app served whole has a healthy instance again, or is gone', {
        apps: appList(left),
        count: left.length,
        failOpenApps: now.size,
      });
    }
  }
}

/** Up to `MAX_LOGGED_APPS` shared names, space-separated, and how many more. */
function appList(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LOGGED_APPS).join(' ');
  const more = names.length - MAX_LOGGED_APPS;
  return more > 0 ? `${shown} (and ${String(more)} more)` : shown;
}
