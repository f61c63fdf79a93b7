// The tests run compiled: `npm test` emits src, test, bench and scripts into .test-build/ with
// tsc (tsconfig.test.json), which also type-checks them, and @ava/typescript maps each
// test/**/*.test.ts to its .test-build/test/**/*.test.js. Loading TypeScript through tsx in each
// of the ~70 test processes cost about 0.7 s of CPU per file. `npx ava test/x.test.ts` runs one
// file after `npm run build:test`.

// The files that take longest (mostly waiting on servers and timers) start first, so that their
// waits overlap the short files instead of trailing alone at the end of the run.
const LONGEST_FIRST = [
  'integration/stream',
  'integration/forward',
  'integration/failover-carry',
  'integration/cli',
  'integration/master-zk',
  'integration/readiness',
  'integration/master-failover',
  'deploy/dockerfile',
  'integration/server',
];

/** @param {string} file */
function rank(file) {
  const index = LONGEST_FIRST.findIndex((name) => file.includes(`test/${name}.test.`));
  return index === -1 ? LONGEST_FIRST.length : index;
}

export default {
  typescript: { rewritePaths: { 'test/': '.test-build/test/' }, compile: false },
  files: ['test/**/*.test.ts'],
  nodeArguments: ['--enable-source-maps'],
  workerThreads: false,
  concurrency: 2,
  timeout: '120s',
  /** @type {(a: string, b: string) => number} */
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
