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

/**
 * A metered feature with a limit, hard or soft: granted units are reserved until commit or release,
 * so requests at work at the same time count each other's (a hard limit refuses on them; a soft one
 * never refuses, and says which grants are past it). A metered feature without a limit and not
 * unlimited has a limit of 0, as Stigg's evaluator reads it.
 */
export function isLimited(cached: CachedEntitlement): boolean {
  return cached.accessDeniedReason === null && isMetered(cached) && !cached.hasUnlimitedUsage;
}

/** True when granting `requestedUsage` must hold units against a limit. */
export function needsReservation(cached: CachedEntitlement, requestedUsage: number): boolean {
  return requestedUsage > 0 && isLimited(cached);
}

/** The limit a reservation is held against: none (Infinity) for a soft limit, which grants past it. */
export function reservationLimitOf(cached: CachedEntitlement): number {
  return cached.hasSoftLimit === true ? Infinity : (cached.usageLimit ?? 0);
}

/** The hard or soft limit usage is counted against; null when there is none (unlimited, not metered). */
export function limitOf(cached: CachedEntitlement): number | null {
  return isMetered(cached) && !cached.hasUnlimitedUsage ? (cached.usageLimit ?? 0) : null;
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
const NO_VALUES: readonly string[] = Object.freeze([]);

/** The one place a Decision is built. `limit`: the limit usage counts against (null: none). */
function buildDecision(
  input: CheckInput,
  requested: number,
  reason: DeniedReason | null,
  currentUsage: number | null,
  limit: number | null,
  cached: CachedEntitlement | null,
  metered: boolean,
  source: DecisionSource,
): Decision {
  const granted = reason === null;
  let remaining: number | null = null;
  let softLimitExceeded = false;
  if (limit !== null && currentUsage !== null) {
    const after = currentUsage + (granted ? requested : 0);
    remaining = Math.max(0, limit - after);
    softLimitExceeded = granted && cached?.hasSoftLimit === true && after > limit;
  }
  return {
    granted,
    customerId: input.customerId,
    resourceId: input.resourceId ?? undefined,
    featureId: input.featureId,
    accessDeniedReason: reason,
    requestedUsage: requested,
    currentUsage,
    usageLimit: cached === null ? limit : cached.usageLimit,
    remaining,
    hasUnlimitedUsage: cached?.hasUnlimitedUsage === true,
    hasSoftLimit: cached?.hasSoftLimit === true,
    softLimitExceeded,
    requestedValues: input.requestedValues ?? NO_VALUES,
    enumValues: cached?.enumValues ?? null,
    usagePeriodEnd: cached?.usagePeriodEnd ?? null,
    metered,
    source,
    enforced: true,
    wouldDenyReason: null,
  };
}

/**
 * The reason Stigg's evaluator gives a feature the customer is entitled to, asked for `requested`
 * units and `values`; null: granted. A check is read as the SDK call it amounts to: values asked is
 * getEnumEntitlement, units asked is getMeteredEntitlement, neither is getEntitlement; a call that
 * does not fit the feature's type is FeatureTypeMismatch, as the SDK answers it.
 */
function entitledReason(
  cached: CachedEntitlement,
  requested: number,
  values: readonly string[] | undefined,
  currentUsage: number,
): DeniedReason | null {
  const asksValues = values !== undefined && values.length > 0;
  switch (cached.featureType) {
    case 'BOOLEAN':
      // As Stigg answers a metered or enum check of an on/off feature: a misconfiguration, not a grant.
      return requested > 0 || asksValues ? 'FeatureTypeMismatch' : null;
    case 'ENUM': {
      if (requested > 0) return 'FeatureTypeMismatch';
      if (!asksValues) return null;
      const entitled = cached.enumValues ?? NO_VALUES;
      for (const value of values) if (!entitled.includes(value)) return 'RequestedValuesMismatch';
      return null;
    }
    default: {
      if (asksValues) return 'FeatureTypeMismatch';
      const metered = isMetered(cached);
      // Usage asked of a configuration value (meterType None): as Stigg answers a metered check of it.
      if (!metered) return requested > 0 ? 'FeatureTypeMismatch' : null;
      const limit = limitOf(cached);
      if (limit === null || cached.hasSoftLimit === true) return null;
      return exceeds(currentUsage, requested, limit) ? 'RequestedUsageExceedingLimit' : null;
    }
  }
}

/**
 * The local decision for `input` (asking for `requested` units) against a cached entitlement, by the
 * rules of Stigg's own evaluator (docs/decisions.md). `currentUsage` is the usage to compare with
 * (cached usage plus units reserved by other requests).
 */
export function decide(
  input: CheckInput,
  requested: number,
  cached: CachedEntitlement,
  currentUsage: number,
  source: DecisionSource,
): Decision {
  const metered = isMetered(cached);
  const reason = cached.accessDeniedReason ?? entitledReason(cached, requested, input.requestedValues, metered ? currentUsage : 0);
  // A usage asked (0 too: a route whose usage function answered 0 may still settle what its work used).
  const counts = metered && (requested > 0 || input.requestedUsage === 0);
  return buildDecision(input, requested, reason, metered ? currentUsage : null, limitOf(cached), cached, counts, source);
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
  return buildDecision(input, requested, reason, currentUsage, limitOf(cached), cached, true, source);
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
  // A usage of 0 asked is metered as in decide(): what its work settles is reported, Stigg down or not.
  return buildDecision(input, requested, null, usedBefore, limit, null, requested > 0 || input.requestedUsage === 0, source);
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
  // Answers about the amount or values asked (none were) are decided locally, per request.
  const reason = upstreamReason === 'RequestedUsageExceedingLimit' || upstreamReason === 'RequestedValuesMismatch' ? null : upstreamReason;
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
    hasSoftLimit: result.hasSoftLimit === true,
    enumValues: result.enumValues ?? null,
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
