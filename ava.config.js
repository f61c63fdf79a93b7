// The tests run compiled: `npm test` emits src, test, bench and scripts into .test-build/ with
// tsc (tsconfig.test.json), which also type-checks them, and @ava/typescript maps each
// test/**/*.test.ts to its .test-build/test/**/*.test.js. Loading TypeScript through tsx in each
// of the ~70 test processes cost about 0.7 s of CPU per file. `npx ava test/x.test.ts` runs one
// file after `npm run build:test`.

// The files that take longest start first (the readiness test waits through a 20 s outage; the
// Dockerfile test runs npm ci), so that they overlap the short files instead of trailing alone
// at the end of the run. Three files at a time: the integration files mostly wait on servers.
const LONGEST_FIRST = [
  'integration/readiness',
  'deploy/dockerfile',
  'integration/stream',
  'integration/failover-carry',
  'integration/master-zk',
  'integration/cli',
  'integration/forward',
  'integration/server',
  'integration/master-failover',
];

/** @param {string} file */
function rank(file) {
  const index = LONGEST_FIRST.findIndex((name) => file.includes(`test/${name}.test.`));
  return index === -1 ? LONGEST_FIRST.length : index;
}

export default {
  typescript: { rewritePaths: { 'test/': '.test-build/test/' }, compile: false },
  files: ['test/**/*.test.ts'],
  workerThreads: false,
  concurrency: 3,
  timeout: '120s',
  /** @type {(a: string, b: string) => number} */
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
