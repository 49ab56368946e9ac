const { jestModuleNameMapper } = require('./scripts/entries');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // TypeScript first: a stray compiled .js beside a source must never shadow the code under test.
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
  },
  // The package's own names (as the README and the example use them) resolve to the sources under test.
  moduleNameMapper: jestModuleNameMapper(),
  testTimeout: 30000,
  // Suites start servers and workers; two cores are what CI has.
  maxWorkers: 2,
};
