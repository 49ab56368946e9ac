import type { AccessDeniedReason, Decision } from './types';

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

export type StatusMapping = Partial<Record<AccessDeniedReason, number>>;

export function statusForReason(reason: AccessDeniedReason | null, overrides?: StatusMapping): number {
  const key = reason ?? 'Unknown';
  return overrides?.[key] ?? (PAYMENT_REQUIRED_REASONS.has(key) ? 402 : 403);
}

/**
 * Thrown by decorated methods (and available to apps) when Stigg denied access. Rendered as
 * problem+json by entitlementErrorHandler() / the Koa middleware.
 */
export class EntitlementDeniedError extends Error {
  override readonly name = 'EntitlementDeniedError';
  readonly status: number;
  readonly featureId: string;
  readonly accessDeniedReason: AccessDeniedReason;
  readonly requestedUsage: number;
  readonly currentUsage: number | null;
  readonly usageLimit: number | null;
  readonly usagePeriodEnd: string | null;
  readonly decision: Decision;

  constructor(decision: Decision, options?: { status?: number; cause?: unknown }) {
    const reason = decision.accessDeniedReason ?? 'Unknown';
    super(`Access to feature "${decision.featureId}" denied: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
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
export class EntitlementUnavailableError extends Error {
  override readonly name = 'EntitlementUnavailableError';
  readonly status = 503;
  readonly featureId: string;
  readonly retryAfterSeconds: number;

  constructor(featureId: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(`No entitlement decision could be made for feature "${featureId}"; try again in ${retryAfterSeconds}s`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.featureId = featureId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A call made on an Entitlements instance after close(). */
export class EntitlementsClosedError extends Error {
  override readonly name = 'EntitlementsClosedError';
  constructor(what: string) {
    super(`${what} was called after entitlements.close(); create a new instance with createEntitlements()`);
  }
}
