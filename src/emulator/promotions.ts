import { randomUUID } from 'node:crypto';
import type { PromotionalEntitlementPeriod, ResetPeriod } from './catalog-types';
import { enumValuesProblem } from './enum-values';
import { EmulatorError } from './errors';
import { promotionOut } from './shapes';
import { promotionEnd } from './time';
import { parseDate, type Json, type Maybe, type PromotionRecord, type Store } from './store';

export interface GrantArgs {
  customerId: string;
  promotionalEntitlements: Array<{
    featureId: string;
    period: PromotionalEntitlementPeriod;
    customEndDate?: Maybe<string>;
    usageLimit?: Maybe<number>;
    hasUnlimitedUsage?: Maybe<boolean>;
    hasSoftLimit?: Maybe<boolean>;
    enumValues?: Maybe<string[]>;
    resetPeriod?: Maybe<ResetPeriod>;
    isVisible?: Maybe<boolean>;
  }>;
}

/** A grant replaces any earlier grant of the same feature to the customer. */
export function grantPromotionalEntitlements(store: Store, input: GrantArgs, internal?: { silent: boolean }): Json[] {
  const customer = store.customer(input.customerId);
  const now = store.clock.now();
  for (const grant of input.promotionalEntitlements) {
    const feature = store.feature(grant.featureId);
    const enumProblem = grant.enumValues === null || grant.enumValues === undefined ? null : enumValuesProblem(grant.enumValues, feature);
    if (enumProblem !== null) throw new EmulatorError('BadUserInput', `enumValues ${enumProblem}`, grant.featureId);
    const custom = parseDate(grant.customEndDate, 'customEndDate');
    if (grant.period === 'CUSTOM' && custom === null)
      throw new EmulatorError('BadUserInput', 'customEndDate is required when period is CUSTOM', grant.featureId);
  }
  const granted = input.promotionalEntitlements.map((grant) => {
    customer.promotions = customer.promotions.filter((p) => p.featureId !== grant.featureId);
    const unlimited = grant.hasUnlimitedUsage ?? false;
    const record: PromotionRecord = {
      uid: randomUUID(),
      featureId: grant.featureId,
      usageLimit: unlimited ? null : (grant.usageLimit ?? null),
      hasUnlimitedUsage: unlimited,
      hasSoftLimit: grant.hasSoftLimit ?? false,
      enumValues: grant.enumValues ?? null,
      resetPeriod: grant.resetPeriod ?? null,
      period: grant.period,
      startDate: now,
      endDate: promotionEnd(grant.period, now, parseDate(grant.customEndDate, 'customEndDate')),
      isVisible: grant.isVisible ?? true,
      revokedAt: null,
    };
    customer.promotions.push(record);
    return promotionOut(store, customer, record, now);
  });
  if (internal?.silent !== true)
    store.emit({
      trigger: 'promotional_entitlement_granted',
      customerId: customer.refId,
      resourceId: null,
      subscription: null,
    });
  return granted;
}

/** The grant ends now; entitlement checks that only it granted answer Revoked. */
export function revokePromotionalEntitlement(store: Store, input: { customerId: string; featureId: string }): Json {
  const customer = store.customer(input.customerId);
  const now = store.clock.now();
  const promo = customer.promotions.find((p) => p.featureId === input.featureId && p.revokedAt === null);
  if (promo === undefined) {
    throw new EmulatorError(
      'PromotionalEntitlementNotFound',
      `Promotional entitlement not found: ${input.customerId}/${input.featureId}`,
      input.featureId,
    );
  }
  promo.revokedAt = now;
  store.emit({
    trigger: 'promotional_entitlement_revoked',
    customerId: customer.refId,
    resourceId: null,
    subscription: null,
  });
  return promotionOut(store, customer, promo, now);
}
