import type { DeniedReason, CachedEntitlement, CheckInput, Decision, DecisionSource, UpstreamEntitlement } from './types';

const KEY_SEPARATOR = '\u001f';

/** The cache key of one (customer, resource, feature). */
export function entitlementKey(customerId: string, resourceId: string | undefined | null, featureId: string): string {
  return customerId + KEY_SEPARATOR + (resourceId ?? '') + KEY_SEPARATOR + featureId;
}

/** A NUMBER feature whose usage is counted (Fluctuating/Incremental), as opposed to a configuration value. */
export function isMetered(cached: CachedEntitlement): boolean {
  return cached.featureType === 'NUMBER' && cached.meterType !== 'None';
}

/** A metered feature with a finite limit: decisions depend on usage. */
export function isLimited(cached: CachedEntitlement): boolean {
  return cached.accessDeniedReason === null && isMetered(cached) && !cached.hasUnlimitedUsage && cached.usageLimit !== null;
}

/** True when granting `requestedUsage` must hold units against a finite limit. */
export function needsReservation(cached: CachedEntitlement, requestedUsage: number): boolean {
  return requestedUsage > 0 && isLimited(cached);
}

/**
 * Fractional usage is allowed (GB, hours). Nothing above 0 is granted once usage reaches the limit
 * (4 + 1e-16 === 4 in floating point), and a sum that lands on the limit but for rounding is not
 * over it (0.1 + 0.2 against 0.3): a relative tolerance of 1e-12 of the limit, never more.
 */
export function exceeds(used: number, requested: number, limit: number): boolean {
  if (requested > 0 && used >= limit) return true;
  return used + requested > limit + Math.abs(limit) * LIMIT_TOLERANCE;
}

const LIMIT_TOLERANCE = 1e-12;

/** The one place a Decision is built. */
function buildDecision(
  input: CheckInput,
  requested: number,
  reason: DeniedReason | null,
  currentUsage: number | null,
  usageLimit: number | null,
  hasUnlimitedUsage: boolean,
  usagePeriodEnd: string | null,
  metered: boolean,
  source: DecisionSource,
): Decision {
  return {
    granted: reason === null,
    customerId: input.customerId,
    resourceId: input.resourceId ?? undefined,
    featureId: input.featureId,
    accessDeniedReason: reason,
    requestedUsage: requested,
    currentUsage,
    usageLimit,
    hasUnlimitedUsage,
    usagePeriodEnd,
    metered,
    source,
  };
}

/**
 * The local decision for `input` (asking for `requested` units) against a cached entitlement.
 * `currentUsage` is the usage to compare with (cached usage plus units reserved by other requests).
 */
export function decide(
  input: CheckInput,
  requested: number,
  cached: CachedEntitlement,
  currentUsage: number,
  source: DecisionSource,
): Decision {
  const number = cached.featureType === 'NUMBER';
  const metered = isMetered(cached);
  let reason: DeniedReason | null = cached.accessDeniedReason;
  if (reason === null && requested > 0 && cached.featureType === 'BOOLEAN') {
    // As Stigg answers: usage asked of an on/off feature is a misconfiguration, not a grant.
    reason = 'FeatureTypeMismatch';
  } else if (reason === null && number && !cached.hasUnlimitedUsage && cached.usageLimit !== null) {
    if (exceeds(metered ? currentUsage : 0, requested, cached.usageLimit)) reason = 'RequestedUsageExceedingLimit';
  }
  return buildDecision(
    input,
    requested,
    reason,
    metered ? currentUsage : null,
    cached.usageLimit,
    cached.hasUnlimitedUsage,
    cached.usagePeriodEnd,
    metered && requested > 0,
    source,
  );
}

/** The decision after the store tried to reserve `requested` units. */
export function reservedDecision(
  input: CheckInput,
  requested: number,
  cached: CachedEntitlement,
  granted: boolean,
  currentUsage: number,
  source: DecisionSource,
): Decision {
  const reason = granted ? null : 'RequestedUsageExceedingLimit';
  return buildDecision(input, requested, reason, currentUsage, cached.usageLimit, false, cached.usagePeriodEnd, true, source);
}

export interface FallbackRule {
  readonly hasAccess: boolean;
  readonly usageLimit?: number | undefined;
}

/**
 * A grant from the configured per-feature fallback (`source: 'fallback'`) or, without a rule,
 * fail-open. `usedBefore`: the fallback's units granted before this one, when it has a usageLimit.
 */
export function fallbackDecision(
  input: CheckInput,
  requested: number,
  rule: FallbackRule | undefined,
  usedBefore: number | null,
): Decision {
  const limit = rule?.usageLimit ?? null;
  const source = rule === undefined ? 'fail-open' : 'fallback';
  return buildDecision(input, requested, null, usedBefore, limit, false, null, requested > 0, source);
}

/** Parses an ISO date once; null when absent or unparsable. */
export function parseDate(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export function periodEndOf(cached: CachedEntitlement): number | null {
  return cached.usagePeriodEndMs !== undefined ? cached.usagePeriodEndMs : parseDate(cached.usagePeriodEnd);
}

/**
 * Turns Stigg's answer to `entitlement(query:)` at requestedUsage 0 into the cached form. A
 * RequestedUsageExceedingLimit answer means "has access, at or over the limit": it is decided locally.
 */
export function toCachedEntitlement(result: UpstreamEntitlement, fetchedAt: number, unreportedUsage: number): CachedEntitlement {
  const upstreamReason = result.isGranted ? null : (result.accessDeniedReason ?? 'Unknown');
  const reason = upstreamReason === 'RequestedUsageExceedingLimit' ? null : upstreamReason;
  const usageLimit = result.usageLimit ?? null;
  let featureType = result.feature?.featureType ?? null;
  if (featureType === null && (usageLimit !== null || result.hasUnlimitedUsage || typeof result.currentUsage === 'number')) {
    featureType = 'NUMBER';
  } else if (featureType === null && result.isGranted) {
    featureType = 'BOOLEAN';
  }
  const usagePeriodEnd = result.usagePeriodEnd ?? null;
  return {
    accessDeniedReason: reason,
    featureType,
    meterType: result.feature?.meterType ?? null,
    hasUnlimitedUsage: result.hasUnlimitedUsage === true,
    usageLimit,
    currentUsage: (result.currentUsage ?? 0) + unreportedUsage,
    usagePeriodEnd,
    usagePeriodEndMs: parseDate(usagePeriodEnd),
    resetPeriod: result.resetPeriod ?? null,
    fetchedAt,
  };
}

const HOUR_MS = 60 * 60 * 1000;
const FIXED_PERIOD_MS = { HOUR: HOUR_MS, DAY: 24 * HOUR_MS, WEEK: 7 * 24 * HOUR_MS } as const;

/** The first period end after `now`, stepping from `periodEnd` by `resetPeriod` (UTC calendar). */
export function nextPeriodEnd(periodEnd: number, resetPeriod: CachedEntitlement['resetPeriod'], now: number): number | null {
  if (resetPeriod === null) return null;
  if (periodEnd > now) return periodEnd;
  if (resetPeriod === 'HOUR' || resetPeriod === 'DAY' || resetPeriod === 'WEEK') {
    const period = FIXED_PERIOD_MS[resetPeriod];
    return periodEnd + (Math.floor((now - periodEnd) / period) + 1) * period;
  }
  const start = new Date(periodEnd);
  const anchorDay = start.getUTCDate();
  const stepMonths = resetPeriod === 'MONTH' ? 1 : 12;
  for (let months = stepMonths; ; months += stepMonths) {
    const date = new Date(periodEnd);
    date.setUTCDate(1);
    date.setUTCMonth(start.getUTCMonth() + months);
    const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    date.setUTCDate(Math.min(anchorDay, lastDay));
    if (date.getTime() > now) return date.getTime();
  }
}
