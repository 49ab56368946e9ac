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
  moduleNameMapper: {
    '^stigg-gate$': '<rootDir>/src/index.ts',
    '^stigg-gate/express$': '<rootDir>/src/middleware/express/index.ts',
    '^stigg-gate/koa$': '<rootDir>/src/middleware/koa/index.ts',
    '^stigg-gate/fastify$': '<rootDir>/src/middleware/fastify/index.ts',
    '^stigg-gate/hono$': '<rootDir>/src/middleware/hono/index.ts',
    '^stigg-gate/decorators$': '<rootDir>/src/decorators/index.ts',
    '^stigg-gate/emulator$': '<rootDir>/src/emulator/index.ts',
    '^stigg-gate/redis$': '<rootDir>/src/redis/index.ts',
  },
  testTimeout: 30000,
  // Suites start servers and workers; two cores are what CI has.
  maxWorkers: 2,
};
