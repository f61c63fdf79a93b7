// Lint enforces the architecture: layers import in one direction only, no `any`,
// no console outside the logger.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * A folder's import rule: `never` may not be imported at all, `typesOnly` only with
 * `import type` (typescript-eslint's rule, which knows type imports).
 */
const layer = (message, never, typesOnly = []) => ({
  'no-restricted-imports': 'off',
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      patterns: [
        ...(never.length > 0 ? [{ group: never, message }] : []),
        ...(typesOnly.length > 0
          ? [{ group: typesOnly, message: `${message} (types only)`, allowTypeImports: true }]
          : []),
      ],
    },
  ],
});

/** Every layer's import pattern, for the rules that forbid all layers but a few. */
const LAYERS = [
  '**/config/**',
  '**/mesos/**',
  '**/records/**',
  '**/dns/**',
  '**/http/**',
  '**/pipeline/**',
  '**/store.js',
  '**/metrics.js',
];

/** `LAYERS` without `allowed`. */
const layersBut = (...allowed) => LAYERS.filter((p) => !allowed.includes(p));

/** Import patterns of the composition root and the command line: nothing below imports them. */
const TOP = ['**/cli/**', '**/serve/**', '**/main.js'];

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
  // The data flows config -> mesos -> pipeline -> records -> store -> dns|http; metrics and
  // cli/ observe and wire it. Each folder may import only what lies upstream of it.
  {
    files: ['src/net/**'],
    rules: layer('net/ parses addresses for every layer; it imports none', [...TOP, ...LAYERS]),
  },
  {
    files: ['src/config/**'],
    rules: layer('config/ is the first step: it imports no other layer', [
      ...TOP,
      ...layersBut('**/config/**'),
    ]),
  },
  {
    files: ['src/mesos/**'],
    rules: layer('mesos/ reads the masters; it knows nothing of what is built from them', [
      ...TOP,
      ...layersBut('**/mesos/**'),
    ]),
  },
  {
    files: ['src/records/**'],
    rules: layer(
      'records/ is pure',
      [...TOP, '**/dns/**', '**/http/**', '**/pipeline/**', '**/store.js', '**/metrics.js'],
      ['**/mesos/**', '**/config/**'],
    ),
  },
  {
    files: ['src/dns/**'],
    rules: layer(
      'dns/ answers from the zone it is given',
      [...TOP, '**/mesos/**', '**/http/**', '**/pipeline/**', '**/store.js', '**/metrics.js'],
      ['**/config/**'],
    ),
  },
  {
    files: ['src/http/**'],
    rules: layer('http/ reads the store and the config it is given', [
      ...TOP,
      '**/mesos/**',
      '**/dns/**',
      '**/pipeline/**',
      '**/store.js',
      '**/metrics.js',
    ]),
  },
  {
    files: ['src/store.ts'],
    rules: layer('the store holds what dns/ and http/ read; it runs nothing', [
      ...TOP,
      '**/http/**',
      '**/pipeline/**',
      '**/metrics.js',
    ]),
  },
  {
    files: ['src/pipeline/**'],
    rules: layer('pipeline/ turns master states into zones; it does not serve', [
      ...TOP,
      '**/http/**',
      '**/metrics.js',
    ]),
  },
  // The composition of every layer's metrics module: those it registers, the rest by type only.
  {
    files: ['src/metrics.ts'],
    rules: layer(
      'metrics observe through events',
      [...TOP],
      [
        '**/http/**',
        '!**/http/metrics.js',
        '**/pipeline/**',
        '!**/pipeline/metrics.js',
        '**/mesos/**',
        '!**/mesos/metrics.js',
      ],
    ),
  },
  // Outside src/: support/ is what the tests, the benchmark and the scripts share, so it imports
  // none of them; the tests and the benchmark share through support/ only (support/README.md).
  {
    files: ['support/**'],
    rules: layer('support/ is shared by test/, bench/ and scripts/; it imports none of them', [
      '**/test/**',
      '**/bench/**',
      '**/scripts/**',
    ]),
  },
  {
    files: ['bench/**'],
    rules: layer(
      'bench/ takes what it shares with the tests from support/, never from test/, and not ' +
        'tests-at-once.ts, which imports ava (ava refuses to load outside a test run)',
      ['**/test/**', '**/tests-at-once.js'],
    ),
  },
  {
    files: ['test/**'],
    rules: layer('test/ takes what it shares with the benchmark from support/, never from bench/', [
      '**/bench/**',
    ]),
  },
  {
    files: ['scripts/**'],
    rules: layer('scripts/ import src/ and support/ only', ['**/test/**', '**/bench/**']),
  },
  { files: ['src/log.ts', 'support/**', 'test/**', 'bench/**'], rules: { 'no-console': 'off' } },
);
