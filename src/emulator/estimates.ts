import { billingPeriodOf, planOf, validatePackage, validateSubscriptionArgs } from './lifecycle';
import { cost, type Cost } from './pricing';
import { billingUnit, iso, periodAt } from './time';
import { money, parseDate, type Json, type Maybe, type ProvisionSubscriptionArgs, type Store } from './store';

type Addons = Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>;
type Billable = Maybe<Array<{ featureId: string; quantity: number }>>;

function discountOf(store: Store, couponRefId: string | null, start: number): Json | null {
  const coupon = couponRefId === null ? undefined : store.coupons.get(couponRefId);
  if (coupon === undefined || coupon.status !== 'ACTIVE') return null;
  return {
    name: coupon.name,
    type: coupon.type,
    value: coupon.discountValue,
    durationType: 'FOREVER',
    durationInMonths: null,
    start: iso(start),
    end: null,
  };
}

/** A SubscriptionPreview without tax (the emulator has no tax integration: tax 0, totals excluding tax = totals). */
function preview(store: Store, c: Cost, couponRefId: string | null, range: { start: number; end: number }, extra: Json): Json {
  const zero = money(0, store.currency);
  const discount = discountOf(store, couponRefId, range.start);
  const price = {
    subTotal: money(c.subTotal, store.currency),
    total: money(c.total, store.currency),
    totalExcludingTax: money(c.total, store.currency),
    tax: zero,
    taxDetails: null,
    discountAmount: discount === null ? null : money(c.discount, store.currency),
    discount,
  };
  return {
    ...price,
    tax: null,
    billingPeriodRange: { start: iso(range.start), end: iso(range.end) },
    subscription: price,
    minimumSpendAdjustment: zero,
    credits: null,
    isPlanDowngrade: false,
    hasScheduledUpdates: false,
    proration: null,
    ...extra,
  };
}

export function estimateSubscription(store: Store, input: ProvisionSubscriptionArgs & { billingInformation?: unknown }): Json {
  const { customer, plan } = validateSubscriptionArgs(store, input);
  const now = store.clock.now();
  const billingPeriod = input.billingPeriod ?? 'MONTHLY';
  const start = parseDate(input.startDate, 'startDate') ?? now;
  const coupon = input.promotionCode ?? customer.couponRefId;
  const c = cost(
    store,
    plan.def,
    billingPeriod,
    (input.billableFeatures ?? []).map((b) => ({ featureId: b.featureId, quantity: b.quantity })),
    (input.addons ?? []).map((a) => ({ addonId: a.addonId, quantity: a.quantity ?? 1 })),
    coupon,
  );
  return preview(store, c, coupon, periodAt(start, billingUnit(billingPeriod), start), {});
}

/** The net of crediting the unused part of the current period and charging the new price for it. */
export function estimateSubscriptionUpdate(
  store: Store,
  input: { subscriptionId: string; billableFeatures?: Billable; addons?: Addons; promotionCode?: Maybe<string> },
): Json {
  const sub = store.subscription(input.subscriptionId);
  const now = store.clock.now();
  const plan = planOf(store, sub, now).def;
  validatePackage(store, plan, input.billableFeatures, input.addons);
  if (input.promotionCode !== null && input.promotionCode !== undefined) store.coupon(input.promotionCode);
  const billable = input.billableFeatures?.map((b) => ({ featureId: b.featureId, quantity: b.quantity })) ?? sub.billableFeatures;
  const addons = input.addons?.map((a) => ({ addonId: a.addonId, quantity: a.quantity ?? 1 })) ?? sub.addons;
  const coupon = input.promotionCode ?? sub.customer.couponRefId;
  const before = cost(store, plan, sub.billingPeriod, sub.billableFeatures, sub.addons, sub.customer.couponRefId).total;
  const after = cost(store, plan, sub.billingPeriod, billable, addons, coupon);
  const period = billingPeriodOf(sub, now);
  const remaining = Math.min(1, Math.max(0, (period.end - now) / (period.end - period.start)));
  const credit = money(-before * remaining, store.currency);
  const debit = money(after.total * remaining, store.currency);
  const net = money(credit.amount + debit.amount, store.currency);
  const netCost: Cost = { planTotal: net.amount, addonsTotal: 0, subTotal: net.amount, discount: 0, total: net.amount };
  return preview(store, netCost, null, period, {
    proration: { prorationDate: iso(now), credit, debit, netAmount: net, hasProrations: remaining > 0 },
    isPlanDowngrade: after.total < before,
  });
}
