// ESLint 9 flat config: eslint's recommended rules everywhere, typescript-eslint's type-aware
// recommended rules on TypeScript (the tsconfig.json of each file through the project service).
// Formatting is Prettier's job (.prettierrc.json); no rule here is about layout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const node = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'fetch',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'performance',
    'AbortController',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);
const commonjs = { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'test/**/.snippets-*/**',
      'scripts/*.d.ts',
      '.stryker-tmp/**',
      'reports/**',
      '**/.next/**',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // check() and acquire() return MaybePromise (synchronous on a cache hit) by design, so
      // Promise.all over their results mixes values and promises; an all-non-promise array still fails.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // tsconfig's noUnused* convention: a leading underscore marks a binding unused on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The library never writes to the console: it logs through the injected logger (STYLE.md).
    files: ['src/**/*.ts'],
    ignores: ['src/emulator/cli.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Outside src/core, the core is reached through its two faces only (ARCHITECTURE.md, "Import
    // direction"): core/index.ts, the package's API (src/index.ts re-exports it), and core/internal.ts,
    // what the rest of the package needs and users must not see. Every other core module is private.
    files: ['src/**/*.ts'],
    ignores: ['src/core/**', 'src/util/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.{1,2}/(.*/)?core/(?!(index|internal)$)',
              message: "Import the core from '…/core' (its public API) or '…/core/internal' (package-internal), not its modules.",
            },
          ],
        },
      ],
    },
  },
  {
    // The core is framework-free: of the package, it imports only src/util.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./(?!util/)', message: 'src/core imports nothing of the package outside src/core but src/util.' }] },
      ],
    },
  },
  {
    // src/util holds the helpers that know nothing of entitlements: it imports its own files and node:
    // built-ins, nothing else of the package and no dependency.
    files: ['src/util/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./|node:)|\\.\\./',
              message: 'src/util imports only src/util (./…) and node: built-ins.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read untyped bodies (supertest's res.body, JSON.parse), throw and reject non-Errors on
    // purpose to prove the library copes, hand methods to expect(), and give async signatures to
    // handlers that need no await. What stays on still catches real mistakes: floating promises,
    // awaiting non-promises, misused promises, unused bindings.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // The example apps' handlers and services stand in for real I/O (a database, a report job):
    // they keep the async signatures a real app has, with nothing to await in the stand-in.
    files: ['examples/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...node, ...commonjs } },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: node },
  },
  {
    // The Next.js app test/next runs: ES modules ("type": "module" in its package.json).
    files: ['test/next/fixture/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { ...node, fetch: 'readonly', Response: 'readonly', ReadableStream: 'readonly', TextEncoder: 'readonly' },
    },
  },
);
