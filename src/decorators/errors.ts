/**
 * A gated method was called with no customer: outside a request handled by stigg(), outside
 * withCustomer(), and without a `customer` option (or the request's resolver found none: 401).
 */
export class MissingCustomerError extends Error {
  override readonly name = 'MissingCustomerError';
  readonly status = 401;
  readonly featureId: string;

  constructor(featureId: string, method: string, inRequest: boolean) {
    super(
      inRequest
        ? `No customer for feature "${featureId}" in ${method}: the customer resolver given to stigg() returned none for this request`
        : `No customer for feature "${featureId}" in ${method}. Call it inside a request handled by stigg() ` +
            `(stigg-gate/express or stigg-gate/koa), inside withCustomer({ entitlements, customerId }, fn) ` +
            `from stigg-gate/decorators, or give the decorator a customer option: ` +
            `{ customer: (...args) => customerId, entitlements }.`,
    );
    this.featureId = featureId;
  }
}

/** A requested or reported usage computed from the method's arguments is not a usable number. */
export class InvalidUsageError extends RangeError {
  override readonly name = 'InvalidUsageError';
  readonly status = 400;
  readonly featureId: string;
  readonly value: unknown;

  constructor(featureId: string, method: string, value: unknown, expected: string) {
    super(`The usage computed for feature "${featureId}" in ${method} must be ${expected}; got ${describe(value)}`);
    this.featureId = featureId;
    this.value = value;
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'symbol' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
