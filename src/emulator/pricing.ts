import type { BillingPeriod, CatalogPlan, CatalogPrice } from './catalog-types';
import { priceOut } from './catalog-index';
import { planOf } from './lifecycle';
import { iso } from './time';
import type { Json, Store, SubscriptionRecord } from './store';

type Quantities = Array<{ featureId: string; quantity: number }>;

export function unitsOf(plan: CatalogPlan, price: CatalogPrice, billable: Quantities): number {
  return (
    billable.find((b) => b.featureId === price.featureId)?.quantity ??
    plan.entitlements?.find((e) => e.featureId === price.featureId)?.usageLimit ??
    1
  );
}

export interface Cost {
  /** Plan prices of one billing period. */
  planTotal: number;
  addonsTotal: number;
  subTotal: number;
  /** What the coupon takes off (0 without one). */
  discount: number;
  total: number;
}

/** Price of one billing period before and after the coupon. */
export function cost(
  store: Store,
  plan: CatalogPlan,
  billingPeriod: BillingPeriod,
  billable: Quantities,
  addons: Array<{ addonId: string; quantity: number }>,
  couponRefId: string | null,
): Cost {
  let planTotal = 0;
  for (const price of plan.prices ?? []) {
    if (price.billingPeriod !== billingPeriod) continue;
    planTotal += price.billingModel === 'PER_UNIT' ? price.amount * unitsOf(plan, price, billable) : price.amount;
  }
  let addonsTotal = 0;
  for (const { addonId, quantity } of addons) {
    for (const price of store.addons.get(addonId)?.def.prices ?? []) {
      if (price.billingPeriod === billingPeriod) addonsTotal += price.amount * quantity;
    }
  }
  const subTotal = planTotal + addonsTotal;
  let total = subTotal;
  const coupon = couponRefId === null ? undefined : store.coupons.get(couponRefId);
  if (coupon !== undefined && coupon.status === 'ACTIVE') {
    const value = coupon.discountValue as number;
    total = coupon.type === 'PERCENTAGE' ? subTotal * (1 - value / 100) : Math.max(0, subTotal - value);
  }
  return { planTotal, addonsTotal, subTotal, discount: subTotal - total, total };
}

/** CustomerSubscription.prices: the plan's prices for the subscription's billing period, with the units bought. */
export function subscriptionPrices(store: Store, sub: SubscriptionRecord, now: number): Json[] {
  const plan = planOf(store, sub, now);
  const pkg = { id: plan.uid, refId: plan.def.id, displayName: plan.def.displayName ?? plan.def.id };
  return (plan.def.prices ?? [])
    .filter((p) => p.billingPeriod === sub.billingPeriod)
    .map((p, i) => ({
      id: `${sub.uid}-price-${i}`,
      subscriptionId: sub.refId,
      billingModel: p.billingModel ?? 'FLAT_FEE',
      featureId: p.featureId ?? null,
      usageLimit: p.billingModel === 'PER_UNIT' && p.featureId !== undefined ? unitsOf(plan.def, p, sub.billableFeatures) : null,
      hasSoftLimit: false,
      createdAt: iso(sub.createdAt),
      updatedAt: iso(sub.createdAt),
      price: priceOut(store, p, pkg),
    }));
}
