// Lint enforces the architecture: layers import in one direction only, no `any`,
// no console outside the logger.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group, message })) }],
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist.next/**',
      'dist.old/**',
      '.test-build/**',
      'node_modules/**',
      'bench/out/**',
      '.tmp/**',
      '*.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/records/**'],
    rules: layer(
      [['**/dns/**', '**/http/**', '**/main.js']],
      'records/ is pure: it imports only types from mesos/ and config/',
    ),
  },
  {
    files: ['src/dns/**', 'src/http/**'],
    rules: layer([['**/mesos/**', '**/main.js']], 'dns/ and http/ never import mesos/'),
  },
  {
    files: ['src/config/**', 'src/mesos/**'],
    rules: layer(
      [['**/dns/**', '**/http/**', '**/main.js']],
      'data flows config -> mesos -> records -> dns|http',
    ),
  },
  { files: ['src/log.ts', 'test/**', 'bench/**'], rules: { 'no-console': 'off' } },
);
