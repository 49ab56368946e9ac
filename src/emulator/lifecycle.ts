import { randomUUID } from 'node:crypto';
import type { CatalogPlan } from './catalog-types';
import { EmulatorError } from './errors';
import { billingUnit, periodAt, type Period } from './time';
import {
  parseDate,
  shortId,
  type CustomerRecord,
  type Maybe,
  type PlanVersion,
  type ProvisionSubscriptionArgs,
  type Store,
  type SubscriptionParams,
  type SubscriptionRecord,
  type SubscriptionStatus,
} from './store';

export const ACTIVE_STATUSES: ReadonlySet<SubscriptionStatus> = new Set(['ACTIVE', 'IN_TRIAL']);
export const LIVE_STATUSES: ReadonlySet<SubscriptionStatus> = new Set(['ACTIVE', 'IN_TRIAL', 'NOT_STARTED', 'PAYMENT_PENDING']);

export function requiresPayment(store: Store, plan: CatalogPlan): boolean {
  return plan.pricingType === 'PAID' && (plan.requiresPaymentMethod ?? store.catalog.paidPlansRequirePaymentMethod ?? false);
}

export function statusOf(store: Store, sub: SubscriptionRecord, now: number): SubscriptionStatus {
  if (sub.effectiveEndDate !== null && now >= sub.effectiveEndDate) return 'CANCELED';
  if (sub.paymentPending) return 'PAYMENT_PENDING';
  if (now < sub.startDate) return 'NOT_STARTED';
  if (sub.trialEndDate !== null) {
    if (now < sub.trialEndDate) return 'IN_TRIAL';
    if (!sub.customer.hasPaymentMethod && requiresPayment(store, sub.plan.def)) return 'EXPIRED';
  }
  return 'ACTIVE';
}

/** The plan version in force: a scheduled migration to the latest version happens when its time comes. */
export function planOf(store: Store, sub: SubscriptionRecord, now: number): PlanVersion {
  if (sub.migrateAt !== null && now >= sub.migrateAt) {
    sub.plan = store.plans.get(sub.plan.def.id) ?? sub.plan;
    sub.migrateAt = null;
  }
  return sub.plan;
}

export function billingPeriodOf(sub: SubscriptionRecord, now: number): Period {
  return periodAt(sub.startDate, billingUnit(sub.billingPeriod), now);
}

export function validatePackage(
  store: Store,
  plan: CatalogPlan,
  billableFeatures: Maybe<Array<{ featureId: string; quantity: number }>>,
  addons: Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>,
): void {
  for (const b of billableFeatures ?? []) {
    store.feature(b.featureId);
    if (!plan.prices?.some((p) => p.billingModel === 'PER_UNIT' && p.featureId === b.featureId)) {
      throw new EmulatorError('BadUserInput', `Feature ${b.featureId} is not billable per unit in plan ${plan.id}`, b.featureId);
    }
    if (!Number.isFinite(b.quantity) || b.quantity <= 0)
      throw new EmulatorError('BadUserInput', `quantity of ${b.featureId} must be a positive number`, b.featureId);
  }
  for (const a of addons ?? []) {
    if (!store.addons.has(a.addonId)) throw new EmulatorError('AddonNotFound', `Addon not found: ${a.addonId}`, a.addonId);
    if (a.quantity !== null && a.quantity !== undefined && a.quantity < 1)
      throw new EmulatorError('BadUserInput', `quantity of ${a.addonId} must be >= 1`, a.addonId);
  }
}

export function validateSubscriptionParams(store: Store, input: SubscriptionParams): PlanVersion {
  const plan = store.plan(input.planId);
  validatePackage(store, plan.def, input.billableFeatures, input.addons);
  const billingPeriod = input.billingPeriod ?? 'MONTHLY';
  if (
    plan.def.pricingType === 'PAID' &&
    (plan.def.prices?.length ?? 0) > 0 &&
    !plan.def.prices?.some((p) => p.billingPeriod === billingPeriod)
  ) {
    throw new EmulatorError('BadUserInput', `Plan ${plan.def.id} has no ${billingPeriod} price`, plan.def.id);
  }
  parseDate(input.startDate, 'startDate');
  if (input.promotionCode !== null && input.promotionCode !== undefined) store.coupon(input.promotionCode);
  if (input.payingCustomerId !== null && input.payingCustomerId !== undefined) store.customer(input.payingCustomerId);
  return plan;
}

export function validateSubscriptionArgs(store: Store, input: ProvisionSubscriptionArgs): { customer: CustomerRecord; plan: PlanVersion } {
  const customer = store.customer(input.customerId);
  return { customer, plan: validateSubscriptionParams(store, input) };
}

/**
 * A subscription to a product the customer (and resource) already has replaces the old one, which
 * ends when the new one starts; the usage period carries over.
 */
export function createSubscription(
  store: Store,
  customer: CustomerRecord,
  input: ProvisionSubscriptionArgs,
  now: number,
  options?: { allowPending: boolean },
): { sub: SubscriptionRecord; replaced: SubscriptionRecord | undefined } {
  const plan = store.plan(input.planId);
  const startDate = parseDate(input.startDate, 'startDate') ?? now;
  const resourceId = input.resourceId ?? null;
  const trialDays = input.skipTrial === true ? 0 : (plan.def.trialDays ?? 0);
  const pending = options?.allowPending === true && trialDays === 0 && requiresPayment(store, plan.def) && !customer.hasPaymentMethod;
  let replaced: SubscriptionRecord | undefined;
  for (const old of customer.subscriptions) {
    if (old.productId !== plan.def.productId || old.resourceId !== resourceId) continue;
    if (!LIVE_STATUSES.has(statusOf(store, old, now))) continue;
    old.cancellationDate = now;
    old.effectiveEndDate = Math.max(now, Math.min(startDate, old.effectiveEndDate ?? Infinity));
    replaced ??= old;
  }
  let refId = input.subscriptionId ?? input.refId ?? `subscription-${plan.def.id}-${shortId()}`;
  if (store.subscriptions.has(refId)) {
    if (input.subscriptionId !== undefined && input.subscriptionId !== null)
      throw new EmulatorError('BadUserInput', `Subscription ${refId} already exists`, refId);
    while (store.subscriptions.has(refId)) refId = `subscription-${plan.def.id}-${shortId()}`;
  }
  const paying = input.payingCustomerId === null || input.payingCustomerId === undefined ? null : store.customer(input.payingCustomerId);
  const sub: SubscriptionRecord = {
    uid: randomUUID(),
    refId,
    customer,
    payingCustomer: paying,
    resourceId,
    productId: plan.def.productId,
    plan,
    migrateAt: null,
    billingPeriod: input.billingPeriod ?? 'MONTHLY',
    startDate,
    usageAnchor: replaced?.usageAnchor ?? startDate,
    trialEndDate: trialDays > 0 ? startDate + trialDays * 86_400_000 : null,
    cancellationDate: null,
    effectiveEndDate: null,
    paymentPending: pending,
    addons: (input.addons ?? []).map((a) => ({ addonId: a.addonId, quantity: a.quantity ?? 1 })),
    billableFeatures: (input.billableFeatures ?? []).map((b) => ({ featureId: b.featureId, quantity: b.quantity })),
    additionalMetaData: input.additionalMetaData ?? null,
    createdAt: now,
  };
  customer.subscriptions.push(sub);
  store.subscriptions.set(refId, sub);
  return { sub, replaced };
}
