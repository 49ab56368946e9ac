import type { RecordedCheckReport } from './check-reports';
import { randomBytes } from 'node:crypto';
import type {
  BillingPeriod,
  Catalog,
  CatalogAddon,
  CatalogFeature,
  CatalogPlan,
  CatalogProduct,
  Currency,
  PromotionalEntitlementPeriod,
  ResetPeriod,
} from './catalog-types';
import { CreditBook } from './credit-book';
import { EmulatorError } from './errors';

/** The library's own list (one type for the whole package); the emulator answers the subset it models. */
export type { AccessDeniedReason } from '../core';

export type SubscriptionStatus = 'ACTIVE' | 'CANCELED' | 'EXPIRED' | 'IN_TRIAL' | 'NOT_STARTED' | 'PAYMENT_PENDING';

export interface EmulatorClock {
  now(): number;
  /** Jump to an absolute time (ms since epoch). */
  set(ms: number): void;
  /** Move forward (or back, with a negative value). */
  advance(ms: number): void;
}

/** One webhook POST the emulator made (or gave up on). */
export interface WebhookDelivery {
  type: string;
  customerId: string;
  messageId: string;
  /** HTTP status of the last attempt; 0 when the connection failed. */
  status: number;
  attempts: number;
  delivered: boolean;
}

export interface EmulatorStats {
  /** POST /graphql received, faults included. */
  requests: number;
  /** Root field name → times executed (requests failed by fault injection are not counted). */
  operations: Record<string, number>;
  faults: { http5xx: number; dropped: number };
  /** `${customerId}|${resourceId ?? ''}|${featureId}` → units applied by DELTA reports (idempotent replays excluded). */
  usage: Record<string, number>;
  /** Webhook deliveries, oldest first (the newest 1,000), and how many failed for good. */
  webhooks: { deliveries: WebhookDelivery[]; failed: number };
  /** reportEntitlementCheckRequested: checks taken (granted, denied), and the HTTP calls that carried them. */
  checkReports: { calls: number; reports: number; granted: number; denied: number };
}

/** A raw event accepted by reportEvent (duplicates by idempotencyKey dropped). */
export interface RecordedEvent {
  customerId: string;
  eventName: string;
  idempotencyKey: string;
  resourceId: string | null;
  dimensions: Record<string, unknown> | null;
  timestamp: string;
}

/** What changed, for the webhook sender: the customers whose entitlements changed and why. */
export type ChangeTrigger =
  | 'subscription_created'
  | 'subscription_updated'
  | 'subscription_canceled'
  | 'promotional_entitlement_granted'
  | 'promotional_entitlement_revoked';

export interface ChangeEvent {
  trigger: ChangeTrigger;
  customerId: string;
  resourceId: string | null;
  subscription: { id: string; status: SubscriptionStatus; planId: string } | null;
}

export type Json = Record<string, unknown>;
export type Maybe<T> = T | null | undefined;

export interface Indexed<T> {
  uid: string;
  def: T;
  out: Json;
}

export interface PlanVersion extends Indexed<CatalogPlan> {
  version: number;
}

export interface CustomerRecord {
  uid: string;
  refId: string;
  name: string | null;
  email: string | null;
  billingId: string | null;
  crmId: string | null;
  hasPaymentMethod: boolean;
  additionalMetaData: unknown;
  couponRefId: string | null;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
  promotions: PromotionRecord[];
  subscriptions: SubscriptionRecord[];
}

export interface PromotionRecord {
  uid: string;
  featureId: string;
  usageLimit: number | null;
  hasUnlimitedUsage: boolean;
  hasSoftLimit: boolean;
  enumValues: string[] | null;
  resetPeriod: ResetPeriod | null;
  period: PromotionalEntitlementPeriod;
  startDate: number;
  endDate: number | null;
  isVisible: boolean;
  revokedAt: number | null;
}

export interface SubscriptionRecord {
  uid: string;
  refId: string;
  customer: CustomerRecord;
  payingCustomer: CustomerRecord | null;
  resourceId: string | null;
  productId: string;
  plan: PlanVersion;
  migrateAt: number | null;
  billingPeriod: BillingPeriod;
  startDate: number;
  usageAnchor: number;
  trialEndDate: number | null;
  cancellationDate: number | null;
  effectiveEndDate: number | null;
  paymentPending: boolean;
  addons: Array<{ addonId: string; quantity: number }>;
  billableFeatures: Array<{ featureId: string; quantity: number }>;
  additionalMetaData: unknown;
  createdAt: number;
}

export interface UsageRecord {
  value: number;
  periodStart: number | null;
  updatedAt: number;
}

export interface SubscriptionParams {
  planId: string;
  resourceId?: Maybe<string>;
  billingPeriod?: Maybe<BillingPeriod>;
  billableFeatures?: Maybe<Array<{ featureId: string; quantity: number }>>;
  addons?: Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>;
  startDate?: Maybe<string>;
  skipTrial?: Maybe<boolean>;
  promotionCode?: Maybe<string>;
  payingCustomerId?: Maybe<string>;
  subscriptionId?: Maybe<string>;
  refId?: Maybe<string>;
  additionalMetaData?: unknown;
  [key: string]: unknown;
}

export interface ProvisionSubscriptionArgs extends SubscriptionParams {
  customerId: string;
}

const IDEMPOTENCY_LIMIT = 100_000;

/**
 * Everything the emulated environment holds. The domain modules (customers, subscriptions,
 * entitlements, usage, coupons, estimates, catalog) read and change it; EmulatorState is their façade.
 */
export class Store {
  readonly currency: Currency;
  readonly features = new Map<string, Indexed<CatalogFeature>>();
  readonly products = new Map<string, Indexed<CatalogProduct>>();
  readonly plans = new Map<string, PlanVersion>();
  readonly addons = new Map<string, Indexed<CatalogAddon>>();
  readonly coupons = new Map<string, Json>();
  readonly customers = new Map<string, CustomerRecord>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly usage = new Map<string, UsageRecord>();
  readonly usageReplays = new Map<string, Json>();
  readonly eventKeys = new Map<string, true>();
  readonly checkouts = new Map<string, ProvisionSubscriptionArgs>();
  readonly eventFeatures = new Map<string, CatalogFeature[]>();
  readonly events: RecordedEvent[] = [];
  readonly credits = new CreditBook();
  /** Checks taken by reportEntitlementCheckRequested, oldest first. */
  readonly checkReports: RecordedCheckReport[] = [];
  /** The POST /graphql the last check report came in (calls are counted when it changes). */
  checkReportRequest = -1;
  /** Called for each check report (the webhook sender listens). */
  onCheckReport: ((report: RecordedCheckReport) => void) | null = null;
  stats: EmulatorStats = emptyStats();
  /** Origin the checkout URLs point at (set by the server once it listens). */
  baseUrl = 'http://127.0.0.1';
  /** Answered instead of the real reason on every denial (fault injection: a reason this client version does not know). */
  deniedReasonOverride: string | null = null;
  /** Called after every change of a customer's entitlements (the webhook sender listens). */
  onChange: ((event: ChangeEvent) => void) | null = null;

  constructor(
    readonly catalog: Catalog,
    readonly clock: EmulatorClock,
  ) {
    this.currency = catalog.currency ?? 'USD';
  }

  clear(): void {
    for (const map of [
      this.features,
      this.products,
      this.plans,
      this.addons,
      this.coupons,
      this.customers,
      this.subscriptions,
      this.usage,
      this.usageReplays,
      this.eventKeys,
      this.checkouts,
      this.eventFeatures,
    ]) {
      (map as Map<string, unknown>).clear();
    }
    this.events.length = 0;
    this.credits.clear();
    this.checkReports.length = 0;
    this.checkReportRequest = -1;
    this.stats = emptyStats();
  }

  emit(event: ChangeEvent): void {
    this.onChange?.(event);
  }

  customer(customerId: Maybe<string>): CustomerRecord {
    const record = customerId === null || customerId === undefined ? undefined : this.customers.get(customerId);
    if (record === undefined || record.archived) {
      throw new EmulatorError('CustomerNotFound', `Customer not found: ${String(customerId)}`, customerId ?? undefined);
    }
    return record;
  }

  subscription(refId: Maybe<string>): SubscriptionRecord {
    const record = refId === null || refId === undefined ? undefined : this.subscriptions.get(refId);
    if (record === undefined)
      throw new EmulatorError('SubscriptionNotFound', `Subscription not found: ${String(refId)}`, refId ?? undefined);
    return record;
  }

  plan(planId: string): PlanVersion {
    const plan = this.plans.get(planId);
    if (plan === undefined) throw new EmulatorError('PlanNotFound', `Plan not found: ${planId}`, planId);
    return plan;
  }

  feature(featureId: string): CatalogFeature {
    const feature = this.features.get(featureId);
    if (feature === undefined) throw new EmulatorError('FeatureNotFound', `Feature not found: ${featureId}`, featureId);
    return feature.def;
  }

  coupon(couponId: string): Json {
    const coupon = this.coupons.get(couponId);
    if (coupon === undefined) throw new EmulatorError('CouponNotFound', `Coupon not found: ${couponId}`, couponId);
    return coupon;
  }
}

export function emptyStats(): EmulatorStats {
  return {
    requests: 0,
    operations: {},
    faults: { http5xx: 0, dropped: 0 },
    usage: {},
    webhooks: { deliveries: [], failed: 0 },
    checkReports: { calls: 0, reports: 0, granted: 0, denied: 0 },
  };
}

export function money(amount: number, currency: Currency): { amount: number; currency: Currency } {
  return { amount: Math.round(amount * 100) / 100, currency };
}

export function usageKey(customerId: string, resourceId: string | null, featureId: string): string {
  return `${customerId}|${resourceId ?? ''}|${featureId}`;
}

export function shortId(): string {
  return randomBytes(3).toString('hex');
}

export function parseDate(value: Maybe<string>, field: string): number | null {
  if (value === null || value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new EmulatorError('BadUserInput', `${field} must be an ISO 8601 date, got "${value}"`, value);
  return ms;
}

/** Remember a bounded number of keys (oldest forgotten first). */
export function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= IDEMPOTENCY_LIMIT) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}

export const EVENT_LIMIT = IDEMPOTENCY_LIMIT;
