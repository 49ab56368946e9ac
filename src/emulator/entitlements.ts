import { EmulatorError } from './errors';
import { ACTIVE_STATUSES, planOf, statusOf } from './lifecycle';
import { iso, periodAt, type Period } from './time';
import type { AccessDeniedReason } from '../core';
import { usageKey, type Json, type Maybe, type Store } from './store';
import type { ResetPeriod } from './catalog-types';

/** What a customer is entitled to for one feature, before usage is compared. */
export interface Effective {
  reason: AccessDeniedReason | null;
  hasUnlimitedUsage: boolean;
  hasSoftLimit: boolean;
  usageLimit: number | null;
  /** ENUM features: the union of the values every source grants; null otherwise. */
  enumValues: string[] | null;
  resetPeriod: ResetPeriod | null;
  anchor: number | null;
  /** When the source of this entitlement last changed. */
  updatedAt: number | null;
}

const NONE = {
  hasUnlimitedUsage: false,
  hasSoftLimit: false,
  usageLimit: null,
  enumValues: null,
  resetPeriod: null,
  anchor: null,
  updatedAt: null,
} as const;

/** How generous a source is: unlimited > soft limit > hard limit. */
function rank(e: Effective): number {
  return e.hasUnlimitedUsage ? 2 : e.hasSoftLimit ? 1 : 0;
}

/**
 * Sources of one feature (subscriptions, promotions) do not add up: the more generous one prevails
 * (unlimited > soft limit > hard limit; between two of a kind, the larger usageLimit). On a tie the
 * earlier source stays. ENUM values are not chosen but united: see effective().
 */
function moreGenerous(current: Effective | null, candidate: Effective): Effective {
  if (current === null) return candidate;
  const byRank = rank(candidate) - rank(current);
  if (byRank !== 0) return byRank > 0 ? candidate : current;
  return (candidate.usageLimit ?? 0) > (current.usageLimit ?? 0) ? candidate : current;
}

function unite(values: Set<string>, more: readonly string[] | undefined | null): void {
  for (const value of more ?? []) values.add(value);
}

export function effective(store: Store, customerId: string, featureId: string, resourceId: string | null, now: number): Effective {
  const denied = (reason: AccessDeniedReason): Effective => ({ reason, ...NONE });
  const customer = store.customers.get(customerId);
  if (customer === undefined) return denied('CustomerNotFound');
  if (customer.archived) return denied('CustomerIsArchived');
  const feature = store.features.get(featureId);
  if (feature === undefined) return denied('FeatureNotFound');

  let scoped = 0;
  let active = 0;
  let best: Effective | null = null;
  const enumValues = new Set<string>();
  for (const sub of customer.subscriptions) {
    if (sub.resourceId !== resourceId) continue;
    scoped += 1;
    if (!ACTIVE_STATUSES.has(statusOf(store, sub, now))) continue;
    active += 1;
    const plan = planOf(store, sub, now).def;
    const planEntitlement = plan.entitlements?.find((e) => e.featureId === featureId);
    let found = planEntitlement !== undefined;
    let unlimited = planEntitlement?.hasUnlimitedUsage === true;
    let soft = planEntitlement?.hasSoftLimit === true;
    if (planEntitlement !== undefined) unite(enumValues, planEntitlement.enumValues);
    const billable = sub.billableFeatures.find((b) => b.featureId === featureId);
    let limit = billable?.quantity ?? planEntitlement?.usageLimit ?? 0;
    let resetPeriod = planEntitlement?.resetPeriod ?? null;
    for (const { addonId, quantity } of sub.addons) {
      const entitlement = store.addons.get(addonId)?.def.entitlements?.find((e) => e.featureId === featureId);
      if (entitlement === undefined) continue;
      found = true;
      unlimited ||= entitlement.hasUnlimitedUsage === true;
      soft ||= entitlement.hasSoftLimit === true;
      unite(enumValues, entitlement.enumValues);
      limit += (entitlement.usageLimit ?? 0) * quantity;
      resetPeriod ??= entitlement.resetPeriod ?? null;
    }
    if (found) {
      best = moreGenerous(best, {
        reason: null,
        hasUnlimitedUsage: unlimited,
        hasSoftLimit: soft && !unlimited,
        usageLimit: unlimited ? null : limit,
        enumValues: null,
        resetPeriod,
        anchor: sub.usageAnchor,
        updatedAt: sub.createdAt,
      });
    }
  }
  if (resourceId !== null && scoped === 0) return denied('CustomerResourceNotFound');
  let revoked = false;
  for (const promo of customer.promotions) {
    if (promo.featureId !== featureId) continue;
    if (promo.revokedAt !== null) {
      revoked = true;
      continue;
    }
    if (promo.endDate !== null && now >= promo.endDate) continue;
    unite(enumValues, promo.enumValues);
    best = moreGenerous(best, {
      reason: null,
      hasUnlimitedUsage: promo.hasUnlimitedUsage,
      hasSoftLimit: promo.hasSoftLimit && !promo.hasUnlimitedUsage,
      usageLimit: promo.hasUnlimitedUsage ? null : (promo.usageLimit ?? 0),
      enumValues: null,
      resetPeriod: promo.resetPeriod,
      anchor: promo.startDate,
      updatedAt: promo.startDate,
    });
  }
  if (best !== null) {
    const type = feature.def.featureType;
    if (type === 'NUMBER') return best;
    // BOOLEAN and ENUM features have no limit; an ENUM entitlement is the union of its sources' values.
    return { reason: null, ...NONE, enumValues: type === 'ENUM' ? [...enumValues] : null, updatedAt: best.updatedAt };
  }
  if (revoked) return denied('Revoked');
  return denied(active === 0 ? 'NoActiveSubscription' : 'NoFeatureEntitlementInSubscription');
}

export function periodOf(eff: Effective, now: number): Period | null {
  return eff.resetPeriod === null || eff.anchor === null ? null : periodAt(eff.anchor, eff.resetPeriod, now);
}

/** Usage of the current period (a record from an earlier period reads as 0 and is reset). */
export function readUsage(store: Store, customerId: string, resourceId: string | null, featureId: string, period: Period | null): number {
  const record = store.usage.get(usageKey(customerId, resourceId, featureId));
  if (record === undefined) return 0;
  if (period !== null && record.periodStart !== period.start) {
    if (record.periodStart !== null && record.periodStart < period.start) record.value = 0;
    record.periodStart = period.start;
  }
  return record.value;
}

export function isMetered(store: Store, featureId: string): boolean {
  const feature = store.features.get(featureId)?.def;
  return feature !== undefined && feature.featureType === 'NUMBER' && (feature.meterType ?? 'None') !== 'None';
}

/**
 * The decision once the customer is entitled, as Stigg's SDK makes it (entitlementDecisionService):
 * requested values on a non-ENUM feature, or usage requested of a BOOLEAN or ENUM feature, are
 * FeatureTypeMismatch (a check is read as the SDK call it amounts to: values asked is
 * getEnumEntitlement, usage asked is getMeteredEntitlement); ENUM grants when every requested value
 * is entitled; a NUMBER configuration value (meterType None) grants a plain check, and usage asked
 * of it is FeatureTypeMismatch; a metered NUMBER grants when unlimited or soft-limited, else when
 * currentUsage + requestedUsage <= usageLimit.
 */
function decide(
  eff: Effective,
  featureType: string,
  metered: boolean,
  currentUsage: number,
  requestedUsage: number,
  requestedValues: readonly string[],
): string | null {
  if (requestedValues.length > 0 && featureType !== 'ENUM') return 'FeatureTypeMismatch';
  if (featureType === 'BOOLEAN') return requestedUsage > 0 ? 'FeatureTypeMismatch' : null;
  if (featureType === 'ENUM') {
    if (requestedUsage > 0) return 'FeatureTypeMismatch';
    const entitled = new Set(eff.enumValues ?? []);
    return requestedValues.every((value) => entitled.has(value)) ? null : 'RequestedValuesMismatch';
  }
  if (!metered) return requestedUsage > 0 ? 'FeatureTypeMismatch' : null;
  if (eff.hasUnlimitedUsage || eff.hasSoftLimit) return null;
  return currentUsage + requestedUsage <= (eff.usageLimit ?? 0) ? null : 'RequestedUsageExceedingLimit';
}

export function entitlementOut(
  store: Store,
  customerId: string,
  resourceId: string | null,
  featureId: string,
  requested: { usage: number; values: readonly string[] },
  now: number,
): Json {
  const eff = effective(store, customerId, featureId, resourceId, now);
  const feature = store.features.get(featureId);
  const period = periodOf(eff, now);
  const metered = isMetered(store, featureId);
  const currentUsage = metered && eff.reason !== 'CustomerNotFound' ? readUsage(store, customerId, resourceId, featureId, period) : 0;
  let reason: string | null = eff.reason;
  if (reason === null && feature !== undefined)
    reason = decide(eff, feature.def.featureType, metered, currentUsage, requested.usage, requested.values);
  if (reason !== null && store.deniedReasonOverride !== null) reason = store.deniedReasonOverride;
  const usageUpdatedAt = metered ? (store.usage.get(usageKey(customerId, resourceId, featureId))?.updatedAt ?? null) : null;
  return {
    isGranted: reason === null,
    accessDeniedReason: reason,
    customerId,
    resourceId,
    usageLimit: eff.usageLimit,
    hasUnlimitedUsage: eff.hasUnlimitedUsage,
    hasSoftLimit: eff.hasSoftLimit,
    currentUsage,
    requestedUsage: requested.usage,
    requestedValues: requested.values.length === 0 ? null : [...requested.values],
    enumValues: eff.enumValues,
    displayNameOverride: null,
    hiddenFromWidgets: [],
    entitlementUpdatedAt: iso(eff.updatedAt),
    usageUpdatedAt: iso(usageUpdatedAt),
    usagePeriodAnchor: period === null ? null : iso(eff.anchor),
    usagePeriodStart: period === null ? null : iso(period.start),
    usagePeriodEnd: period === null ? null : iso(period.end),
    nextResetDate: period === null ? null : iso(period.end),
    resetPeriod: eff.resetPeriod,
    resetPeriodConfiguration: null,
    creditRate: null,
    meterId: null,
    validUntil: null,
    feature: feature?.out ?? null,
  };
}

/** `entitlement(query:)`: never throws for unknown customers, features or resources; it answers isGranted false with the reason. */
export function entitlement(
  store: Store,
  query: {
    customerId: string;
    featureId: string;
    resourceId?: Maybe<string>;
    options?: Maybe<{ requestedUsage?: Maybe<number>; requestedValues?: Maybe<readonly string[]> }>;
  },
): Json {
  const usage = query.options?.requestedUsage ?? 0;
  if (!Number.isFinite(usage) || usage < 0)
    throw new EmulatorError('BadUserInput', `requestedUsage must be a finite number >= 0, got ${usage}`);
  const values = query.options?.requestedValues ?? [];
  const requested = { usage, values };
  return entitlementOut(store, query.customerId, query.resourceId ?? null, query.featureId, requested, store.clock.now());
}

const NOTHING_REQUESTED = { usage: 0, values: [] } as const;

/** Every feature the customer (and resource) is entitled to, granted. */
export function grantedEntitlements(store: Store, customerId: string, resourceId: string | null, now: number): Json[] {
  const result: Json[] = [];
  for (const featureId of store.features.keys()) {
    if (effective(store, customerId, featureId, resourceId, now).reason === null)
      result.push(entitlementOut(store, customerId, resourceId, featureId, NOTHING_REQUESTED, now));
  }
  return result;
}

/**
 * `cachedEntitlements(query:)`: the granted entitlements. As Stigg's node SDK documents it, an unknown
 * customer (or resource) gets an empty list, not an error: the SDK reads an empty list as CustomerNotFound.
 */
export function cachedEntitlements(store: Store, query: { customerId: string; resourceId?: Maybe<string> }): Json[] {
  const customer = store.customers.get(query.customerId);
  if (customer === undefined || customer.archived) return [];
  return grantedEntitlements(store, customer.refId, query.resourceId ?? null, store.clock.now());
}

/** `entitlementsState(query:)`: the granted entitlements, and why there are none (never throws for an unknown customer). */
export function entitlementsState(store: Store, query: { customerId: string; resourceId?: Maybe<string> }): Json {
  const customer = store.customers.get(query.customerId);
  if (customer === undefined || customer.archived)
    return { entitlements: [], accessDeniedReason: 'CustomerNotFound', entitlementsV2: null };
  const now = store.clock.now();
  const entitlements = grantedEntitlements(store, customer.refId, query.resourceId ?? null, now);
  const active = customer.subscriptions.some((s) => ACTIVE_STATUSES.has(statusOf(store, s, now)));
  return {
    entitlements,
    accessDeniedReason: active || entitlements.length > 0 ? null : 'NoActiveSubscription',
    entitlementsV2: null,
  };
}
