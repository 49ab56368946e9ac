import type { AccessDeniedReason, Decision, DeniedReason } from './types';
import { StiggGateError, markStiggGateError } from './stigg-gate-error';
import { describeValue } from '../util/describe-value';

/** Denials an upgrade would fix answer 402; everything else Stigg decided answers 403. */
export const PAYMENT_REQUIRED_REASONS: ReadonlySet<AccessDeniedReason> = new Set<AccessDeniedReason>([
  'RequestedUsageExceedingLimit',
  'BudgetExceeded',
  'InsufficientCredits',
  'NoActiveSubscription',
  'NoFeatureEntitlementInSubscription',
]);

/** Reasons that point at a misconfiguration on the app's side; adapters log them once as warnings. */
export const MISCONFIGURATION_REASONS: ReadonlySet<AccessDeniedReason> = new Set<AccessDeniedReason>([
  'FeatureNotFound',
  'FeatureTypeMismatch',
  'RequestedValuesMismatch',
  'Unknown',
]);

export type StatusMapping = Partial<Record<DeniedReason, number>>;

/** A reason this version does not know is 403: Stigg decided, and an upgrade is not known to help. */
export function statusForReason(reason: DeniedReason | null, overrides?: StatusMapping): number {
  const key = (reason ?? 'Unknown') as AccessDeniedReason;
  return overrides?.[key] ?? (PAYMENT_REQUIRED_REASONS.has(key) ? 402 : 403);
}

/**
 * Thrown by decorated methods (and available to apps) when Stigg denied access. Rendered as
 * problem+json by entitlementErrorHandler() / the Koa middleware.
 */
export class EntitlementDeniedError extends StiggGateError {
  override readonly name = 'EntitlementDeniedError';
  readonly errorCode: string = 'ERR_STIGG_GATE_DENIED';
  readonly status: number;
  readonly featureId: string;
  readonly accessDeniedReason: DeniedReason;
  readonly requestedUsage: number;
  readonly currentUsage: number | null;
  readonly usageLimit: number | null;
  readonly usagePeriodEnd: string | null;
  readonly decision: Decision;

  constructor(decision: Decision, options?: { status?: number; cause?: unknown }) {
    const reason = decision.accessDeniedReason ?? 'Unknown';
    super(
      `Access to feature "${decision.featureId}" denied: ${reason}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.status = options?.status ?? statusForReason(reason);
    this.featureId = decision.featureId;
    this.accessDeniedReason = reason;
    this.requestedUsage = decision.requestedUsage;
    this.currentUsage = decision.currentUsage;
    this.usageLimit = decision.usageLimit;
    this.usagePeriodEnd = decision.usagePeriodEnd;
    this.decision = decision;
  }
}

/** No decision could be made (Stigg unreachable, nothing cached, no fallback) under fail-closed: 503. */
export class EntitlementUnavailableError extends StiggGateError {
  override readonly name = 'EntitlementUnavailableError';
  readonly errorCode: string = 'ERR_STIGG_GATE_UNAVAILABLE';
  readonly status = 503;
  readonly featureId: string;
  readonly retryAfterSeconds: number;

  constructor(featureId: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(
      `No entitlement decision could be made for feature "${featureId}"; try again in ${retryAfterSeconds}s`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.featureId = featureId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A call made on an Entitlements instance after close(). A request gated during shutdown answers 503
 * with Retry-After (another instance, or this one restarted, will decide), never a 500.
 */
export class EntitlementsClosedError extends StiggGateError {
  override readonly name = 'EntitlementsClosedError';
  readonly errorCode: string = 'ERR_STIGG_GATE_CLOSED';
  readonly status = 503;
  /** The feature asked for (null for calls that name none, or name it wrongly). */
  readonly featureId: string | null;
  readonly retryAfterSeconds: number;

  constructor(what: string, featureId: string | null = null, retryAfterSeconds = 5) {
    super(`${what} was called after entitlements.close(); create a new instance with createEntitlements()`);
    this.featureId = featureId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A gated method was called with no customer: outside a request handled by stigg(), outside
 * withCustomer(), and without a `customer` option (or the request's resolver found none: 401).
 */
export class MissingCustomerError extends StiggGateError {
  override readonly name = 'MissingCustomerError';
  readonly errorCode: string = 'ERR_STIGG_GATE_MISSING_CUSTOMER';
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

/**
 * A requested or reported usage computed from the method's arguments is not a usable number. A
 * requested usage comes from the caller's input (400); a reported one is computed from what the
 * method returned, after it ran — the app's own bug (500, never rendered as the client's mistake).
 */
export class InvalidUsageError extends RangeError {
  override readonly name = 'InvalidUsageError';
  readonly errorCode: string = 'ERR_STIGG_GATE_INVALID_USAGE';
  readonly status: 400 | 500;
  readonly featureId: string;
  readonly value: unknown;
  /** What was computed wrongly: units (requestedUsage, a reported usage), or the ENUM values asked (requestedValues). */
  readonly field: 'usage' | 'requestedValues';

  /**
   * `expected`: what a usage must be; for `field` 'requestedValues', what is wrong with the values
   * (they are the client's input, and never echoed: a long or hostile string stays out of the message).
   */
  constructor(
    featureId: string,
    method: string,
    value: unknown,
    expected: string,
    status: 400 | 500 = 400,
    field: 'usage' | 'requestedValues' = 'usage',
  ) {
    super(
      field === 'requestedValues'
        ? `The requestedValues computed for feature "${featureId}" in ${method} ${expected}`
        : `The usage computed for feature "${featureId}" in ${method} must be ${expected}; got ${describeValue(value)}`,
    );
    this.status = status;
    this.featureId = featureId;
    this.value = value;
    this.field = field;
  }
}
markStiggGateError(InvalidUsageError);
