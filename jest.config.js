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
    // NestJS 12 is ESM-only; jest's CommonJS loader needs it compiled (test/nest/esm-to-cjs.js).
    '/node_modules/@nestjs/.+\\.js$': '<rootDir>/test/nest/esm-to-cjs.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)', '\\.pnp\\.[^\\/]+$'],
  // The package's own names (as the README and the example use them) resolve to the sources under test.
  moduleNameMapper: jestModuleNameMapper(),
  testTimeout: 30000,
  // Suites start servers and workers; two cores are what CI has.
  maxWorkers: 2,
};
