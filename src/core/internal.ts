/**
 * The core's package-internal face: NOT part of the package's API. Nothing re-exports this file
 * (src/index.ts exports './core', which is core/index.ts, the public face), so none of these names
 * reach users and any of them may change in any release.
 *
 * Outside src/core, a file imports the core through two modules only (eslint.config.mjs enforces it):
 * core/index.ts for what the package publishes, and this file for what the rest of the package
 * needs on top: the client, the adapters, nest, decorators, redis, testing, webhook, emulator and
 * otel. A name belongs here only when such a file needs it; everything else stays private to src/core.
 *
 * It re-exports light modules only, never the engine (entitlements.ts, memory-store.ts and lru-cache):
 * the client bundles for edge runtimes with graphql-request alone (test/client/generated.test.ts), so it
 * takes StiggGateError from here rather than from core/index.ts, which loads everything.
 */

/** The request context as the adapters enter it (stigg(), the Nest interceptor, withCustomer()). */
export { afterRequestContextEnabled, isRequestContextEnabled, requestContextStorage } from './context';
/** The period calendar, for FakeStigg's usage resets (testing/fake-stigg.ts). */
export { nextPeriodEnd } from './decide';
/** The check of a request's requestedValues, shared by the middleware and the decorators with the engine. */
export { valuesProblem } from './input';
/** settle()'s check of its argument (middleware/settle.ts), as EntitlementLease.settle makes it. */
export { checkActualUnits } from './leases';
/** The default logger of every factory. */
export { silentLogger } from './silent-logger';
/** Brands an error class that must extend a built-in error (TypeError…) as a StiggGateError. StiggGateError is public too. */
export { StiggGateError, markStiggGateError } from './stigg-gate-error';
