// Tests run as TypeScript through tsx. workerThreads must be off: tsx's loader hooks do not
// reach ava's worker threads on Node 20 (each test file fails with ERR_UNKNOWN_FILE_EXTENSION).
export default {
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  files: ['test/**/*.test.ts'],
  workerThreads: false,
  concurrency: 2,
  timeout: '120s',
};
