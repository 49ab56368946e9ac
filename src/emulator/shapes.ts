import { ENVIRONMENT_ID } from './catalog-index';
import { ACTIVE_STATUSES, billingPeriodOf, planOf, statusOf } from './lifecycle';
import { cost, subscriptionPrices } from './pricing';
import { iso } from './time';
import { money, type CustomerRecord, type Json, type PromotionRecord, type Store, type SubscriptionRecord } from './store';

/** Wire shape of a Customer. Related objects resolve lazily (graphql-js calls functions), so cycles cost nothing. */
export function customerOut(store: Store, c: CustomerRecord): Json {
  const now = store.clock.now();
  const active = c.subscriptions.filter((s) => ACTIVE_STATUSES.has(statusOf(store, s, now)));
  const promotions = c.promotions.filter((p) => p.revokedAt === null && p.isVisible);
  return {
    id: c.uid,
    customerId: c.refId,
    refId: c.refId,
    name: c.name,
    email: c.email,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    billingId: c.billingId,
    billingLinkUrl: null,
    billingCurrency: null,
    crmId: c.crmId,
    salesforceId: null,
    awsMarketplaceCustomerId: null,
    environmentId: ENVIRONMENT_ID,
    hasPaymentMethod: c.hasPaymentMethod,
    defaultPaymentMethodId: c.hasPaymentMethod ? `pm_emulator_${c.uid.slice(0, 8)}` : null,
    defaultPaymentMethodType: c.hasPaymentMethod ? 'CARD' : null,
    defaultPaymentMethodLast4Digits: c.hasPaymentMethod ? '4242' : null,
    defaultPaymentExpirationMonth: c.hasPaymentMethod ? 12 : null,
    defaultPaymentExpirationYear: c.hasPaymentMethod ? new Date(now).getUTCFullYear() + 3 : null,
    hasActiveSubscription: active.length > 0,
    hasActiveResource: active.some((s) => s.resourceId !== null),
    totalActiveSubscription: active.length,
    totalActivePromotionalEntitlements: promotions.length,
    additionalMetaData: c.additionalMetaData ?? null,
    excludeFromExperiment: false,
    experimentInfo: null,
    experiment: null,
    eligibleForTrial: [],
    trialedPlans: () =>
      c.subscriptions
        .filter((s) => s.trialEndDate !== null)
        .map((s) => ({
          productId: s.productId,
          productRefId: s.productId,
          planRefId: s.plan.def.id,
          planId: s.plan.uid,
        })),
    syncStates: [],
    statistics: () => ({
      activeSubscriptionsByPricingType: (['FREE', 'PAID', 'CUSTOM'] as const).map((pricingType) => ({
        pricingType,
        totalCount: active.filter((s) => s.plan.def.pricingType === pricingType).length,
      })),
    }),
    coupon: c.couponRefId === null ? null : (store.coupons.get(c.couponRefId) ?? null),
    promotionalEntitlements: () => promotions.map((p) => promotionOut(store, c, p, now)),
    subscriptions: () => c.subscriptions.filter((s) => statusOf(store, s, now) !== 'CANCELED').map((s) => subscriptionOut(store, s)),
  };
}

export function promotionOut(store: Store, customer: CustomerRecord, p: PromotionRecord, now: number): Json {
  const ended = p.revokedAt !== null || (p.endDate !== null && now >= p.endDate);
  return {
    id: p.uid,
    status: ended ? 'Expired' : 'Active',
    featureId: p.featureId,
    usageLimit: p.usageLimit,
    hasUnlimitedUsage: p.hasUnlimitedUsage,
    unlimited: p.hasUnlimitedUsage,
    hasSoftLimit: p.hasSoftLimit,
    resetPeriod: p.resetPeriod,
    resetPeriodConfiguration: null,
    period: p.period,
    startDate: iso(p.startDate),
    endDate: iso(p.revokedAt ?? p.endDate),
    createdAt: iso(p.startDate),
    updatedAt: iso(p.revokedAt ?? p.startDate),
    isVisible: p.isVisible,
    description: null,
    enumValues: p.enumValues,
    environmentId: ENVIRONMENT_ID,
    feature: store.features.get(p.featureId)?.out,
    customer: () => customerOut(store, customer),
  };
}

export function subscriptionOut(store: Store, sub: SubscriptionRecord): Json {
  const now = store.clock.now();
  const plan = planOf(store, sub, now);
  const billing = billingPeriodOf(sub, now);
  const total = cost(store, plan.def, sub.billingPeriod, sub.billableFeatures, sub.addons, sub.customer.couponRefId);
  const paid = plan.def.pricingType !== 'FREE';
  return {
    id: sub.uid,
    refId: sub.refId,
    subscriptionId: sub.refId,
    status: statusOf(store, sub, now),
    pricingType: plan.def.pricingType,
    startDate: iso(sub.startDate),
    endDate: iso(sub.effectiveEndDate),
    trialEndDate: iso(sub.trialEndDate),
    cancellationDate: iso(sub.cancellationDate),
    effectiveEndDate: iso(sub.effectiveEndDate),
    currentBillingPeriodStart: iso(billing.start),
    currentBillingPeriodEnd: iso(billing.end),
    billingCycleAnchor: iso(sub.startDate),
    billingPeriod: sub.billingPeriod,
    billingId: null,
    billingLinkUrl: null,
    billingSyncError: null,
    crmId: null,
    crmLinkUrl: null,
    salesforceId: null,
    createdAt: iso(sub.createdAt),
    customerId: sub.customer.refId,
    resourceId: sub.resourceId,
    payingCustomerId: sub.payingCustomer?.refId ?? null,
    environmentId: ENVIRONMENT_ID,
    additionalMetaData: sub.additionalMetaData ?? null,
    prices: subscriptionPrices(store, sub, now),
    totalPrice: paid
      ? {
          subTotal: money(total.subTotal, store.currency),
          total: money(total.total, store.currency),
          addonsTotal: money(total.addonsTotal, store.currency),
        }
      : null,
    plan: plan.out,
    addons: sub.addons.map((a, i) => ({
      id: `${sub.uid}-addon-${i}`,
      addonId: a.addonId,
      quantity: a.quantity,
      addon: store.addons.get(a.addonId)?.out,
      createdAt: iso(sub.createdAt),
      updatedAt: iso(sub.createdAt),
    })),
    customer: () => customerOut(store, sub.customer),
    payingCustomer: () => (sub.payingCustomer === null ? null : customerOut(store, sub.payingCustomer)),
    resource: sub.resourceId === null ? null : { resourceId: sub.resourceId, createdAt: iso(sub.createdAt), environmentId: ENVIRONMENT_ID },
    paymentCollection: sub.paymentPending ? 'ACTION_REQUIRED' : 'NOT_REQUIRED',
    paymentCollectionMethod: paid ? 'CHARGE' : 'NONE',
    latestInvoice: null,
    lastUsageInvoice: null,
    experimentInfo: null,
    scheduledUpdates: [],
    futureUpdates: [],
    trialConfiguration: sub.trialEndDate === null ? null : { trialEndBehavior: 'CONVERT_TO_PAID' },
    budget: null,
    budgetExceeded: null,
    coupon: null,
    coupons: [],
    cancelReason: null,
  };
}
