const path = require('node:path');
const { jestModuleNameMapper } = require('./scripts/entries');

// STIGG_GATE_IOREDIS=ioredis6 (npm run test:ioredis6) runs every suite against that installed alias
// instead of ioredis: the peer range admits two majors, and the Redis suites prove both. Child
// processes the suites start get the same package through test/redis/helpers.ts's childNodePath().
const ioredis = process.env.STIGG_GATE_IOREDIS;
const ioredisMapper = ioredis ? { '^ioredis(/.*)?$': `${path.join(__dirname, 'node_modules', ioredis)}$1` } : {};

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
  moduleNameMapper: { ...jestModuleNameMapper(), ...ioredisMapper },
  testTimeout: 30000,
  // Suites start servers and workers; two cores are what CI has.
  maxWorkers: 2,
};
