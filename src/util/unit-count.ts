/**
 * A count of units: a number >= 0 and at most Number.MAX_SAFE_INTEGER. Past it units are no longer
 * counted exactly, and two such counts add up to Infinity: a report Stigg cannot apply, retried for
 * ever, which opens the circuit breaker every customer's reads share.
 */
export function isUnitCount(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER;
}

/** A signed count (a usage report's value, DELTA or SET): |value| <= Number.MAX_SAFE_INTEGER. */
export function isSignedUnitCount(value: unknown): value is number {
  return typeof value === 'number' && Math.abs(value) <= Number.MAX_SAFE_INTEGER;
}
