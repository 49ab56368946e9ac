const kStiggGateError = Symbol.for('stigg-gate.error');

/**
 * The base of every error stigg-gate throws or hands to the app (events, callbacks, `cause`s): check
 * `error instanceof StiggGateError`, then switch on `error.errorCode`, a stable string such as
 * 'ERR_STIGG_GATE_CLOSED' that never changes once released (docs/errors.md lists them all, with what
 * to do). Class names and messages stay as they were; a message may be reworded, a code may not.
 *
 * The code is `errorCode`, not `code`: `StiggGraphQLError.code` is Stigg's own code
 * ('CustomerNotFound'), `StiggNetworkError.code` the system's ('ECONNREFUSED') and
 * `UsageAssertionError.code` the 'ERR_ASSERTION' test runners look for.
 *
 * Three errors keep the built-in class they always extended, so that `instanceof TypeError` (or
 * `RangeError`) still holds: InvalidIdError, CatalogError, InvalidUsageError. They carry the brand
 * markStiggGateError() sets, which `instanceof StiggGateError` reads (a registered symbol: it also holds
 * across the package's CommonJS and ES module builds loaded side by side).
 */
export abstract class StiggGateError extends Error {
  /** A stable identifier of what went wrong, e.g. 'ERR_STIGG_GATE_CLOSED' (docs/errors.md). */
  abstract readonly errorCode: string;

  static [Symbol.hasInstance](value: unknown): boolean {
    if (this !== StiggGateError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [kStiggGateError]?: unknown })[kStiggGateError] === true;
  }
}

/** Makes `instanceof StiggGateError` true for the instances of a class that must extend a built-in error. */
export function markStiggGateError(errorClass: abstract new (...args: never[]) => Error & { readonly errorCode: string }): void {
  Object.defineProperty(errorClass.prototype, kStiggGateError, { value: true });
}

markStiggGateError(StiggGateError);
