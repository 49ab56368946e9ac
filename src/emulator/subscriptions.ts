import { randomUUID } from 'node:crypto';
import type { BillingPeriod } from './catalog-types';
import { grantedEntitlements } from './entitlements';
import { connection, matches, type Comparison, type Paging } from './connection';
import { EmulatorError } from './errors';
import {
  ACTIVE_STATUSES,
  billingPeriodOf,
  createSubscription,
  planOf,
  requiresPayment,
  statusOf,
  validatePackage,
  validateSubscriptionArgs,
} from './lifecycle';
import { subscriptionOut } from './shapes';
import {
  parseDate,
  type ChangeTrigger,
  type Json,
  type Maybe,
  type ProvisionSubscriptionArgs,
  type Store,
  type SubscriptionRecord,
} from './store';

export function subscriptionChanged(store: Store, sub: SubscriptionRecord, trigger: ChangeTrigger): void {
  const now = store.clock.now();
  store.emit({
    trigger,
    customerId: sub.customer.refId,
    resourceId: sub.resourceId,
    subscription: { id: sub.refId, status: statusOf(store, sub, now), planId: planOf(store, sub, now).def.id },
  });
}

export function getActiveSubscriptions(
  store: Store,
  input: { customerId: string; resourceId?: Maybe<string>; resourceIds?: Maybe<string[]> },
): Json[] {
  const customer = store.customer(input.customerId);
  const now = store.clock.now();
  const resources = input.resourceIds ?? (input.resourceId === null || input.resourceId === undefined ? null : [input.resourceId]);
  return customer.subscriptions
    .filter(
      (s) =>
        (resources === null || (s.resourceId !== null && resources.includes(s.resourceId))) && ACTIVE_STATUSES.has(statusOf(store, s, now)),
    )
    .map((s) => subscriptionOut(store, s));
}

export function getSubscription(store: Store, input: { subscriptionId: string }): Json {
  return subscriptionOut(store, store.subscription(input.subscriptionId));
}

/**
 * Free plans (and trials) become active at once. A paid plan that requires a payment method, for a
 * customer without one, answers PAYMENT_REQUIRED with a checkout URL (served by the emulator: opening
 * it records a payment method and creates the subscription).
 */
export function provisionSubscriptionV2(store: Store, input: ProvisionSubscriptionArgs): Json {
  const { customer, plan } = validateSubscriptionArgs(store, input);
  const now = store.clock.now();
  const trial = input.skipTrial !== true && (plan.def.trialDays ?? 0) > 0;
  if (!trial && requiresPayment(store, plan.def) && !customer.hasPaymentMethod) {
    const id = randomUUID();
    store.checkouts.set(id, structuredClone(input));
    return {
      id,
      status: 'PAYMENT_REQUIRED',
      checkoutUrl: `${store.baseUrl}/checkout/${id}`,
      checkoutBillingId: `cs_emulator_${id.replace(/-/g, '')}`,
      subscription: null,
      isScheduled: false,
      entitlements: null,
      entitlementsV2: null,
    };
  }
  const { sub } = createSubscription(store, customer, input, now);
  subscriptionChanged(store, sub, 'subscription_created');
  return {
    id: sub.uid,
    status: 'SUCCESS',
    checkoutUrl: null,
    checkoutBillingId: null,
    isScheduled: false,
    subscription: subscriptionOut(store, sub),
    entitlements: () => grantedEntitlements(store, customer.refId, sub.resourceId, store.clock.now()),
    entitlementsV2: null,
  };
}

/** What the checkout page does: the customer now has a payment method and the subscription is created. */
export function completeCheckout(store: Store, checkoutId: string): Json | null {
  const input = store.checkouts.get(checkoutId);
  if (input === undefined) return null;
  store.checkouts.delete(checkoutId);
  const customer = store.customer(input.customerId);
  customer.hasPaymentMethod = true;
  const { sub } = createSubscription(store, customer, input, store.clock.now());
  subscriptionChanged(store, sub, 'subscription_created');
  return subscriptionOut(store, sub);
}

export function updateOneSubscription(
  store: Store,
  input: {
    subscriptionId?: Maybe<string>;
    refId?: Maybe<string>;
    billingPeriod?: Maybe<BillingPeriod>;
    billableFeatures?: Maybe<Array<{ featureId: string; quantity: number }>>;
    addons?: Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>;
    promotionCode?: Maybe<string>;
    additionalMetaData?: unknown;
  },
): Json {
  const id = input.subscriptionId ?? input.refId;
  if (id === null || id === undefined) throw new EmulatorError('BadUserInput', 'subscriptionId (or refId) is required');
  const sub = store.subscription(id);
  const now = store.clock.now();
  if (statusOf(store, sub, now) === 'CANCELED') throw new EmulatorError('BadUserInput', `Subscription ${id} is canceled`, id);
  validatePackage(store, planOf(store, sub, now).def, input.billableFeatures, input.addons);
  if (input.promotionCode !== null && input.promotionCode !== undefined) store.coupon(input.promotionCode);
  if (input.billableFeatures !== null && input.billableFeatures !== undefined) {
    sub.billableFeatures = input.billableFeatures.map((b) => ({ featureId: b.featureId, quantity: b.quantity }));
  }
  if (input.addons !== null && input.addons !== undefined)
    sub.addons = input.addons.map((a) => ({ addonId: a.addonId, quantity: a.quantity ?? 1 }));
  if (input.billingPeriod !== null && input.billingPeriod !== undefined) sub.billingPeriod = input.billingPeriod;
  if (input.additionalMetaData !== undefined) sub.additionalMetaData = input.additionalMetaData ?? null;
  subscriptionChanged(store, sub, 'subscription_updated');
  return subscriptionOut(store, sub);
}

/** IMMEDIATE (the default) ends access now; END_OF_BILLING_PERIOD keeps it until the period ends; SPECIFIC_DATE needs endDate. */
export function cancelSubscription(
  store: Store,
  input: {
    subscriptionRefId: string;
    subscriptionCancellationTime?: Maybe<'IMMEDIATE' | 'END_OF_BILLING_PERIOD' | 'SPECIFIC_DATE'>;
    endDate?: Maybe<string>;
  },
): Json {
  const sub = store.subscription(input.subscriptionRefId);
  const now = store.clock.now();
  if (statusOf(store, sub, now) === 'CANCELED') return subscriptionOut(store, sub);
  const when = input.subscriptionCancellationTime ?? 'IMMEDIATE';
  let end: number;
  if (when === 'SPECIFIC_DATE') {
    const date = parseDate(input.endDate, 'endDate');
    if (date === null) throw new EmulatorError('BadUserInput', 'endDate is required when subscriptionCancellationTime is SPECIFIC_DATE');
    end = Math.max(now, date);
  } else {
    end = when === 'IMMEDIATE' ? now : billingPeriodOf(sub, now).end;
  }
  sub.cancellationDate = now;
  sub.effectiveEndDate = end;
  subscriptionChanged(store, sub, 'subscription_canceled');
  return subscriptionOut(store, sub);
}

/** Moves the subscription to the latest published version of its plan, now or at the end of the billing period. */
export function migrateSubscriptionToLatest(
  store: Store,
  input: { subscriptionId: string; subscriptionMigrationTime?: Maybe<'IMMEDIATE' | 'END_OF_BILLING_PERIOD'> },
): Json {
  const sub = store.subscription(input.subscriptionId);
  const now = store.clock.now();
  sub.migrateAt = input.subscriptionMigrationTime === 'END_OF_BILLING_PERIOD' ? billingPeriodOf(sub, now).end : now;
  planOf(store, sub, now);
  subscriptionChanged(store, sub, 'subscription_updated');
  return subscriptionOut(store, sub);
}

interface SubscriptionFilter {
  and?: Maybe<SubscriptionFilter[]>;
  or?: Maybe<SubscriptionFilter[]>;
  customerId?: Maybe<Comparison>;
  resourceId?: Maybe<Comparison>;
  productId?: Maybe<Comparison>;
  status?: Maybe<Comparison>;
  [key: string]: unknown;
}

const FILTERED = ['customerId', 'resourceId', 'productId', 'status'] as const;

/** `subscriptions(filter:, paging:)`: every subscription (canceled ones too), newest first, filtered by customer, resource, product and status. */
export function listSubscriptions(store: Store, args: { filter?: Maybe<SubscriptionFilter>; paging?: Maybe<Paging> }): Json {
  const now = store.clock.now();
  const nodes = [...store.subscriptions.values()]
    .filter((s) => !s.customer.archived)
    .reverse()
    .filter((s) => {
      const fields: Record<string, unknown> = {
        customerId: s.customer.refId,
        resourceId: s.resourceId,
        productId: s.productId,
        status: statusOf(store, s, now),
      };
      return matches(args.filter, FILTERED, (field) => fields[field]);
    })
    .map((s) => {
      const out = subscriptionOut(store, s);
      return { ...out, id: String(out.id), additionalMetaData: out.additionalMetaData ?? {} };
    });
  return connection(nodes, args.paging);
}
