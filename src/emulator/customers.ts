import { randomUUID } from 'node:crypto';
import { grantedEntitlements } from './entitlements';
import { EmulatorError } from './errors';
import { createSubscription, LIVE_STATUSES, statusOf, validateSubscriptionParams } from './lifecycle';
import { customerOut, subscriptionOut } from './shapes';
import { shortId, type CustomerRecord, type Json, type Maybe, type Store, type SubscriptionParams, type SubscriptionRecord } from './store';
import { subscriptionChanged } from './subscriptions';

export interface ProvisionCustomerArgs {
  customerId?: Maybe<string>;
  refId?: Maybe<string>;
  name?: Maybe<string>;
  email?: Maybe<string>;
  couponRefId?: Maybe<string>;
  billingId?: Maybe<string>;
  crmId?: Maybe<string>;
  additionalMetaData?: unknown;
  subscriptionParams?: Maybe<SubscriptionParams>;
  [key: string]: unknown;
}

function applyCustomerUpdate(record: CustomerRecord, input: Record<string, unknown>, now: number): void {
  if (input.name !== undefined) record.name = (input.name as string | null) ?? null;
  if (input.email !== undefined) record.email = (input.email as string | null) ?? null;
  if (input.billingId !== undefined) record.billingId = (input.billingId as string | null) ?? null;
  if (input.crmId !== undefined) record.crmId = (input.crmId as string | null) ?? null;
  if (input.additionalMetaData !== undefined) record.additionalMetaData = input.additionalMetaData ?? null;
  if (input.couponRefId !== undefined) record.couponRefId = (input.couponRefId as string | null) ?? null;
  record.updatedAt = now;
}

/**
 * Creates (or updates) the customer. With subscriptionParams it subscribes to that plan; without,
 * the customer journey subscribes it to each product's default plan (PREDEFINED_FREE_PLAN).
 */
export function provisionCustomer(store: Store, input: ProvisionCustomerArgs, internal?: { skipJourney: boolean }): Json {
  const now = store.clock.now();
  const refId = input.customerId ?? input.refId ?? `customer-${shortId()}`;
  if (input.couponRefId !== null && input.couponRefId !== undefined) store.coupon(input.couponRefId);
  if (input.subscriptionParams !== null && input.subscriptionParams !== undefined)
    validateSubscriptionParams(store, input.subscriptionParams);
  let record = store.customers.get(refId);
  if (record === undefined) {
    record = {
      uid: randomUUID(),
      refId,
      name: input.name ?? null,
      email: input.email ?? null,
      billingId: input.billingId ?? null,
      crmId: input.crmId ?? null,
      hasPaymentMethod: false,
      additionalMetaData: input.additionalMetaData ?? null,
      couponRefId: input.couponRefId ?? null,
      archived: false,
      createdAt: now,
      updatedAt: now,
      promotions: [],
      subscriptions: [],
    };
    store.customers.set(refId, record);
  } else {
    record.archived = false;
    applyCustomerUpdate(record, input, now);
  }
  let strategy = 'SKIPPED_SUBSCRIPTION_CREATION';
  let subscription: SubscriptionRecord | null = null;
  if (input.subscriptionParams !== null && input.subscriptionParams !== undefined) {
    strategy = 'REQUESTED_PLAN';
    subscription = createSubscription(store, record, { ...input.subscriptionParams, customerId: refId }, now, {
      allowPending: true,
    }).sub;
  } else if (internal?.skipJourney !== true) {
    for (const product of store.products.values()) {
      if (product.def.defaultPlanId === undefined) continue;
      const current = record.subscriptions.some((s) => s.productId === product.def.id && LIVE_STATUSES.has(statusOf(store, s, now)));
      if (current) continue;
      strategy = 'PREDEFINED_FREE_PLAN';
      subscription ??= createSubscription(store, record, { customerId: refId, planId: product.def.defaultPlanId }, now, {
        allowPending: true,
      }).sub;
    }
  }
  if (subscription !== null && internal?.skipJourney !== true) subscriptionChanged(store, subscription, 'subscription_created');
  const customer = record;
  return {
    customer: customerOut(store, record),
    subscriptionDecisionStrategy: strategy,
    subscriptionStrategyDecision: strategy,
    subscription: subscription === null ? null : subscriptionOut(store, subscription),
    entitlements: () => grantedEntitlements(store, customer.refId, null, store.clock.now()),
    entitlementsV2: null,
  };
}

export function updateOneCustomer(
  store: Store,
  input: { customerId?: Maybe<string>; refId?: Maybe<string>; couponRefId?: Maybe<string>; [key: string]: unknown },
): Json {
  const id = input.customerId ?? input.refId;
  if (id === null || id === undefined) throw new EmulatorError('BadUserInput', 'customerId (or refId) is required');
  const record = store.customer(id);
  if (input.couponRefId !== null && input.couponRefId !== undefined) store.coupon(input.couponRefId);
  applyCustomerUpdate(record, input, store.clock.now());
  return customerOut(store, record);
}

export function getCustomerByRefId(store: Store, input: { customerId: string }): Json {
  return customerOut(store, store.customer(input.customerId));
}

/** PII (name, email) is nulled and the customer is no longer returned; subscriptions stay for unarchive. */
export function archiveCustomer(store: Store, input: { customerId: string }): Json {
  const record = store.customer(input.customerId);
  record.archived = true;
  record.name = null;
  record.email = null;
  record.updatedAt = store.clock.now();
  return customerOut(store, record);
}

export function unarchiveCustomer(store: Store, input: { customerId: string }): Json {
  const record = store.customers.get(input.customerId);
  if (record === undefined) throw new EmulatorError('CustomerNotFound', `Customer not found: ${input.customerId}`, input.customerId);
  record.archived = false;
  record.updatedAt = store.clock.now();
  return customerOut(store, record);
}
