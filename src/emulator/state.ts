import type { Catalog, CatalogPlan } from './catalog-types';
import { validateCatalog } from './catalog';
import { indexCatalog, indexPlan, products } from './catalog-index';
import { coupons } from './coupons';
import {
  archiveCustomer,
  getCustomerByRefId,
  provisionCustomer,
  unarchiveCustomer,
  updateOneCustomer,
  type ProvisionCustomerArgs,
} from './customers';
import { consumeCredits, consumeCreditsAsync, creditBalanceSummary, creditGrants, creditsLedger } from './credit-operations';
import {
  createCreditGrant,
  loadCatalogGrants,
  voidCreditGrant,
  walletBalance,
  type ConsumeArgs,
  type GrantArgs as CreditGrantArgs,
} from './credits';
import { cachedEntitlements, effective, entitlement, entitlementsState, grantedEntitlements, periodOf, readUsage } from './entitlements';
import { estimateSubscription, estimateSubscriptionUpdate } from './estimates';
import { createSubscription } from './lifecycle';
import { grantPromotionalEntitlements, revokePromotionalEntitlement, type GrantArgs } from './promotions';
import {
  emptyStats,
  Store,
  type ChangeEvent,
  type EmulatorClock,
  type EmulatorStats,
  type Json,
  type ProvisionSubscriptionArgs,
  type RecordedEvent,
} from './store';
import {
  cancelSubscription,
  completeCheckout,
  getActiveSubscriptions,
  getSubscription,
  listSubscriptions,
  migrateSubscriptionToLatest,
  provisionSubscriptionV2,
  updateOneSubscription,
} from './subscriptions';
import { reportEvent, reportUsage, reportUsageBulk, type UsageArgs } from './usage';
import { checkReportBodies, reportEntitlementCheckRequested, type CheckReportInput, type RecordedCheckReport } from './check-reports';

export type { CouponFilter } from './coupons';
export type { CheckReportInput, RecordedCheckReport } from './check-reports';
export type {
  AccessDeniedReason,
  ChangeEvent,
  EmulatorClock,
  EmulatorStats,
  RecordedEvent,
  SubscriptionStatus,
  WebhookDelivery,
} from './store';

/**
 * The emulated Stigg environment: catalog, customers, subscriptions, usage. A façade over one module
 * per domain; every method takes the operation's GraphQL input and returns the wire shape, so it can
 * be driven without HTTP as well.
 */
export class EmulatorState {
  private readonly store: Store;

  constructor(catalog: Catalog, clock: EmulatorClock) {
    this.store = new Store(structuredClone(validateCatalog(catalog)), clock);
    this.load();
  }

  get clock(): EmulatorClock {
    return this.store.clock;
  }

  /** Origin the checkout URLs point at (set by the server once it listens). */
  get baseUrl(): string {
    return this.store.baseUrl;
  }

  set baseUrl(origin: string) {
    this.store.baseUrl = origin;
  }

  /** Every denial answers this accessDeniedReason instead of the real one (null: the real one). */
  set deniedReasonOverride(reason: string | null) {
    this.store.deniedReasonOverride = reason;
  }

  get deniedReasonOverride(): string | null {
    return this.store.deniedReasonOverride;
  }

  /** Called after each change of a customer's entitlements by a subscription or a promotional grant. */
  set onChange(listener: ((event: ChangeEvent) => void) | null) {
    this.store.onChange = listener;
  }

  /** Back to the catalog: customers, subscriptions, usage, events and stats are dropped. */
  reset(): void {
    this.store.clear();
    this.load();
  }

  /** A snapshot (a copy) of the counters. */
  stats(): EmulatorStats {
    const s = this.store.stats;
    return {
      requests: s.requests,
      operations: { ...s.operations },
      faults: { ...s.faults },
      usage: { ...s.usage },
      webhooks: { deliveries: s.webhooks.deliveries.map((d) => ({ ...d })), failed: s.webhooks.failed },
      checkReports: { ...s.checkReports },
    };
  }

  /** The live counters, for the server. */
  get counters(): EmulatorStats {
    return this.store.stats;
  }

  /** Raw events accepted by reportEvent, oldest first (the newest 100,000 at most). */
  get events(): readonly RecordedEvent[] {
    return this.store.events;
  }

  /** Checks taken by reportEntitlementCheckRequested, oldest first (the newest 100,000 at most). */
  get checkReports(): readonly RecordedCheckReport[] {
    return this.store.checkReports;
  }

  /** Called for each check report taken (the webhook sender listens). */
  set onCheckReport(listener: ((report: RecordedCheckReport) => void) | null) {
    this.store.onCheckReport = listener;
  }

  /** The webhook bodies Stigg sends for a reported check (entitlement.requested, then .granted or .denied). */
  checkWebhookBodies(report: RecordedCheckReport): Json[] {
    return checkReportBodies(this.store, report);
  }

  /** Current usage as the entitlement would report it (after any period rollover). */
  currentUsage(customerId: string, featureId: string, resourceId?: string | null): number {
    const now = this.store.clock.now();
    const eff = this.store.customers.has(customerId) ? effective(this.store, customerId, featureId, resourceId ?? null, now) : null;
    return readUsage(this.store, customerId, resourceId ?? null, featureId, eff === null ? null : periodOf(eff, now));
  }

  hasCustomer(customerId: string): boolean {
    return this.store.customers.has(customerId);
  }

  /** The customer's granted entitlements (the body of an entitlements.updated webhook). */
  entitlementsOf(customerId: string, resourceId: string | null = null): Json[] {
    return this.store.customers.has(customerId) ? grantedEntitlements(this.store, customerId, resourceId, this.store.clock.now()) : [];
  }

  /** Publish a new version of a plan: new subscriptions get it, existing ones keep theirs until migrated. */
  publishPlan(plan: CatalogPlan): void {
    const catalog = this.store.catalog;
    const plans = catalog.plans.some((p) => p.id === plan.id)
      ? catalog.plans.map((p) => (p.id === plan.id ? plan : p))
      : [...catalog.plans, plan];
    validateCatalog({ ...catalog, plans, customers: [] }, `publishPlan("${plan.id}")`);
    const previous = this.store.plans.get(plan.id);
    indexPlan(this.store, structuredClone(plan), (previous?.version ?? 0) + 1, previous?.uid);
  }

  private load(): void {
    const store = this.store;
    indexCatalog(store);
    const now = store.clock.now();
    for (const customer of store.catalog.customers ?? []) {
      provisionCustomer(
        store,
        {
          customerId: customer.id,
          name: customer.name,
          email: customer.email,
          billingId: customer.billingId,
          couponRefId: customer.couponId,
          additionalMetaData: customer.additionalMetaData,
        },
        { skipJourney: true },
      );
      const record = store.customer(customer.id);
      record.hasPaymentMethod = customer.hasPaymentMethod ?? record.hasPaymentMethod;
      for (const s of customer.subscriptions ?? []) {
        const args: ProvisionSubscriptionArgs = {
          customerId: customer.id,
          planId: s.planId,
          subscriptionId: s.id,
          resourceId: s.resourceId,
          billingPeriod: s.billingPeriod,
          startDate: s.startDate,
          addons: s.addons,
          billableFeatures: s.billableFeatures,
          additionalMetaData: s.additionalMetaData,
          skipTrial: true,
        };
        createSubscription(store, record, args, now);
      }
      if (customer.promotionalEntitlements !== undefined) {
        grantPromotionalEntitlements(
          store,
          { customerId: customer.id, promotionalEntitlements: customer.promotionalEntitlements },
          { silent: true },
        );
      }
      if (customer.creditGrants !== undefined) loadCatalogGrants(store, customer.id, customer.creditGrants);
      for (const u of customer.usage ?? []) {
        reportUsage(store, {
          customerId: customer.id,
          featureId: u.featureId,
          resourceId: u.resourceId,
          value: u.value,
          updateBehavior: 'SET',
        });
      }
      record.archived = customer.archived ?? false;
      if (record.archived) {
        record.name = null;
        record.email = null;
      }
    }
    store.stats = emptyStats();
  }

  getCustomerByRefId = (input: Parameters<typeof getCustomerByRefId>[1]): Json => getCustomerByRefId(this.store, input);
  provisionCustomer = (input: ProvisionCustomerArgs): Json => provisionCustomer(this.store, input);
  updateOneCustomer = (input: Parameters<typeof updateOneCustomer>[1]): Json => updateOneCustomer(this.store, input);
  archiveCustomer = (input: Parameters<typeof archiveCustomer>[1]): Json => archiveCustomer(this.store, input);
  unarchiveCustomer = (input: Parameters<typeof unarchiveCustomer>[1]): Json => unarchiveCustomer(this.store, input);

  getActiveSubscriptions = (input: Parameters<typeof getActiveSubscriptions>[1]): Json[] => getActiveSubscriptions(this.store, input);
  getSubscription = (input: Parameters<typeof getSubscription>[1]): Json => getSubscription(this.store, input);
  subscriptions = (args: Parameters<typeof listSubscriptions>[1]): Json => listSubscriptions(this.store, args);
  provisionSubscriptionV2 = (input: ProvisionSubscriptionArgs): Json => provisionSubscriptionV2(this.store, input);
  completeCheckout = (checkoutId: string): Json | null => completeCheckout(this.store, checkoutId);
  updateOneSubscription = (input: Parameters<typeof updateOneSubscription>[1]): Json => updateOneSubscription(this.store, input);
  cancelSubscription = (input: Parameters<typeof cancelSubscription>[1]): Json => cancelSubscription(this.store, input);
  migrateSubscriptionToLatest = (input: Parameters<typeof migrateSubscriptionToLatest>[1]): Json =>
    migrateSubscriptionToLatest(this.store, input);

  entitlement = (query: Parameters<typeof entitlement>[1]): Json => entitlement(this.store, query);
  cachedEntitlements = (query: Parameters<typeof cachedEntitlements>[1]): Json[] => cachedEntitlements(this.store, query);
  entitlementsState = (query: Parameters<typeof entitlementsState>[1]): Json => entitlementsState(this.store, query);

  reportUsage = (input: UsageArgs): Json => reportUsage(this.store, input);
  reportUsageBulk = (input: { usages: UsageArgs[] }): Json[] => reportUsageBulk(this.store, input);
  reportEvent = (events: Parameters<typeof reportEvent>[1]): null => reportEvent(this.store, events);
  /** `request`: the HTTP call it came in (one batched document of several checks is one call). */
  reportEntitlementCheckRequested = (check: CheckReportInput, request = -1): boolean =>
    reportEntitlementCheckRequested(this.store, check, request);

  coupons = (args: Parameters<typeof coupons>[1]): Json => coupons(this.store, args);
  products = (args: Parameters<typeof products>[1]): Json => products(this.store, args);
  estimateSubscription = (input: Parameters<typeof estimateSubscription>[1]): Json => estimateSubscription(this.store, input);
  estimateSubscriptionUpdate = (input: Parameters<typeof estimateSubscriptionUpdate>[1]): Json =>
    estimateSubscriptionUpdate(this.store, input);

  creditBalanceSummary = (input: Parameters<typeof creditBalanceSummary>[1]): Json => creditBalanceSummary(this.store, input);
  creditGrants = (input: Parameters<typeof creditGrants>[1]): Json => creditGrants(this.store, input);
  creditsLedger = (input: Parameters<typeof creditsLedger>[1]): Json => creditsLedger(this.store, input);
  createCreditGrant = (input: CreditGrantArgs): Json => createCreditGrant(this.store, input);
  voidCreditGrant = (input: { id: string }): Json => voidCreditGrant(this.store, input);
  consumeCredits = (input: ConsumeArgs): Json => consumeCredits(this.store, input);
  consumeCreditsAsync = (input: { consumptions: ConsumeArgs[] }): string => consumeCreditsAsync(this.store, input);

  /** A wallet's balance as the emulator counts it, overdraft included (for tests and the admin API). */
  creditBalance(customerId: string, currencyId: string, resourceId: string | null = null): ReturnType<typeof walletBalance> {
    return walletBalance(this.store, customerId, resourceId, currencyId);
  }

  grantPromotionalEntitlements = (input: GrantArgs): Json[] => grantPromotionalEntitlements(this.store, input);
  revokePromotionalEntitlement = (input: Parameters<typeof revokePromotionalEntitlement>[1]): Json =>
    revokePromotionalEntitlement(this.store, input);
}
