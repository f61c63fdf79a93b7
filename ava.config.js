import { readFileSync } from 'node:fs';

// The tests run compiled: `npm test` transpiles src, support, test, bench and scripts into
// .test-build/ with esbuild (scripts/build.ts; `npm run typecheck` is the type check), and ava
// runs the compiled .test-build/test/**/*.test.js directly; their source maps point failures at
// the .ts lines. Loading TypeScript through tsx in each test file cost about 0.7 s of CPU per
// file; mapping test/*.ts to the compiled files with @ava/typescript, 0.3 s (its worker side
// loads execa and its dependencies in every file's thread). `npx ava
// .test-build/test/x.test.js` runs one file after `npm run build:test`.
//
// Each file runs in a worker thread of ava's process, not in a process of its own: a process
// (Node's start-up, IPC) cost about 0.25 s more CPU per file than a thread, 20 s over the suite.
// The tests keep to what a thread allows (no process.chdir, signal handlers or process.exit);
// whatever must be a process of its own (the server, the CLI, RSS measurements) is spawned.

// The files that take longest start first, so that they overlap the short files instead of
// trailing alone at the end of the run (a minute-long file started last made a run a minute
// longer; the randomized incremental test, 15 s of one core, ended runs at 1.3 cores busy).
// Those that mostly wait (the ZooKeeper files restart a ZooKeeper; the readiness test waits
// through a 20 s outage) alternate with those that keep a core busy: three waiting files at
// once left the two cores idle for seconds. Three files at a time: the integration files mostly
// wait on servers.
const LONGEST_FIRST = [
  'integration/master-zk',
  'records/incremental',
  'mesos',
  'dns',
  'mesos/zookeeper',
  'integration/stream',
  'integration/failover-carry',
  'integration/cli',
  'integration/readiness',
  'integration/forward',
  'integration/reverse',
  'integration/server',
  'integration/http-abuse',
  'integration/master-failover',
  'integration/transfer',
  'dns/transfer-offload',
  'integration/operations',
  'integration/mesos-dns-compat',
  'integration/reload',
];

/** @param {string} file */
function rank(file) {
  const index = LONGEST_FIRST.findIndex((name) => file.includes(`test/${name}.test.`));
  return index === -1 ? LONGEST_FIRST.length : index;
}

/**
 * The packaging test (the Dockerfile's stages and the systemd install steps, run for real: three
 * `npm ci`, two node-gyp builds, `npm pack`; about 30 s of CPU) is not in `npm test`: it is `npm
 * run test:package` (ava.package.config.js), a step of its own in .ci/run.
 */
export const PACKAGE_TESTS = ['.test-build/test/deploy/dockerfile.test.js'];

/**
 * The unit test files that run together, a worker per directory (scripts/test-groups.ts writes
 * the list at the build): left out of the run, their group file runs them, unless test files
 * are named on the command line (`npx ava .test-build/test/dns/journal.test.js` runs that one).
 */
function groupedTests() {
  if (process.argv.some((arg) => arg.endsWith('.test.js'))) return [];
  try {
    /** @type {unknown} */
    const list = JSON.parse(readFileSync('.test-build/test/groups.json', 'utf8'));
    return Array.isArray(list) ? list.filter((f) => typeof f === 'string') : [];
  } catch {
    return [];
  }
}

export default {
  files: [
    '.test-build/test/**/*.test.js',
    ...PACKAGE_TESTS.map((f) => `!${f}`),
    ...groupedTests().map((f) => `!${f}`),
  ],
  workerThreads: true,
  concurrency: 3,
  timeout: '120s',
  /** @type {(a: string, b: string) => number} */
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
