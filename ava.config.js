// The tests run compiled: `npm test` emits src, test, bench and scripts into .test-build/ with
// tsc (tsconfig.test.json), which also type-checks them, and @ava/typescript maps each
// test/**/*.test.ts to its .test-build/test/**/*.test.js. Loading TypeScript through tsx in each
// of the ~70 test processes cost about 0.7 s of CPU per file. `npx ava test/x.test.ts` runs one
// file after `npm run build:test`.
export default {
  typescript: { rewritePaths: { 'test/': '.test-build/test/' }, compile: false },
  files: ['test/**/*.test.ts'],
  nodeArguments: ['--enable-source-maps'],
  workerThreads: false,
  concurrency: 2,
  timeout: '120s',
};
