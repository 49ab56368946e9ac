import { randomBytes, randomUUID } from 'node:crypto';
import type {
  BillingPeriod,
  Catalog,
  CatalogAddon,
  CatalogCoupon,
  CatalogEntitlement,
  CatalogFeature,
  CatalogPlan,
  CatalogPrice,
  CatalogProduct,
  Currency,
  PromotionalEntitlementPeriod,
  ResetPeriod,
} from './catalog';
import { validateCatalog } from './catalog';
import { EmulatorError } from './errors';
import { billingUnit, iso, periodAt, promotionEnd, type Period } from './time';

export type AccessDeniedReason =
  | 'CustomerIsArchived'
  | 'CustomerNotFound'
  | 'CustomerResourceNotFound'
  | 'FeatureNotFound'
  | 'FeatureTypeMismatch'
  | 'NoActiveSubscription'
  | 'NoFeatureEntitlementInSubscription'
  | 'RequestedUsageExceedingLimit'
  | 'Revoked';

export type SubscriptionStatus = 'ACTIVE' | 'CANCELED' | 'EXPIRED' | 'IN_TRIAL' | 'NOT_STARTED' | 'PAYMENT_PENDING';

export interface EmulatorClock {
  now(): number;
  /** Jump to an absolute time (ms since epoch). */
  set(ms: number): void;
  /** Move forward (or back, with a negative value). */
  advance(ms: number): void;
}

export interface EmulatorStats {
  /** POST /graphql received, faults included. */
  requests: number;
  /** Root field name → times executed (requests failed by fault injection are not counted). */
  operations: Record<string, number>;
  faults: { http5xx: number; dropped: number };
  /** `${customerId}|${resourceId ?? ''}|${featureId}` → units applied by DELTA reports (idempotent replays excluded). */
  usage: Record<string, number>;
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

type Json = Record<string, unknown>;
type Maybe<T> = T | null | undefined;

interface Indexed<T> {
  uid: string;
  def: T;
}

interface PlanVersion extends Indexed<CatalogPlan> {
  version: number;
  out: Json;
}

interface CustomerRecord {
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

interface PromotionRecord {
  uid: string;
  featureId: string;
  usageLimit: number | null;
  hasUnlimitedUsage: boolean;
  resetPeriod: ResetPeriod | null;
  period: PromotionalEntitlementPeriod;
  startDate: number;
  endDate: number | null;
  isVisible: boolean;
  revokedAt: number | null;
}

interface SubscriptionRecord {
  uid: string;
  refId: string;
  customer: CustomerRecord;
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

interface UsageRecord {
  value: number;
  periodStart: number | null;
}

interface PendingCheckout {
  id: string;
  input: ProvisionSubscriptionArgs;
}

/** What a customer is entitled to for one feature, before usage is compared. */
interface Effective {
  reason: AccessDeniedReason | null;
  hasUnlimitedUsage: boolean;
  usageLimit: number | null;
  resetPeriod: ResetPeriod | null;
  anchor: number | null;
}

interface SubscriptionParams {
  planId: string;
  resourceId?: Maybe<string>;
  billingPeriod?: Maybe<BillingPeriod>;
  billableFeatures?: Maybe<Array<{ featureId: string; quantity: number }>>;
  addons?: Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>;
  startDate?: Maybe<string>;
  skipTrial?: Maybe<boolean>;
  promotionCode?: Maybe<string>;
  additionalMetaData?: unknown;
  [key: string]: unknown;
}

interface ProvisionSubscriptionArgs extends SubscriptionParams {
  customerId: string;
}

interface UsageArgs {
  customerId: string;
  featureId: string;
  value: number;
  resourceId?: Maybe<string>;
  updateBehavior?: Maybe<'DELTA' | 'SET'>;
  createdAt?: Maybe<string>;
  idempotencyKey?: Maybe<string>;
  [key: string]: unknown;
}

const IDEMPOTENCY_LIMIT = 100_000;
const ACTIVE_STATUSES: ReadonlySet<SubscriptionStatus> = new Set(['ACTIVE', 'IN_TRIAL']);
const LIVE_STATUSES: ReadonlySet<SubscriptionStatus> = new Set(['ACTIVE', 'IN_TRIAL', 'NOT_STARTED', 'PAYMENT_PENDING']);

function money(amount: number, currency: Currency): { amount: number; currency: Currency } {
  return { amount: Math.round(amount * 100) / 100, currency };
}

/** Sources of one feature (subscriptions, promotions) do not add up: the most generous one applies. */
function moreGenerous(current: Effective | null, candidate: Effective): Effective {
  if (current === null || current.hasUnlimitedUsage) return current ?? candidate;
  if (candidate.hasUnlimitedUsage || (candidate.usageLimit ?? 0) > (current.usageLimit ?? 0)) return candidate;
  return current;
}

function usageKey(customerId: string, resourceId: string | null, featureId: string): string {
  return `${customerId}|${resourceId ?? ''}|${featureId}`;
}

function shortId(): string {
  return randomBytes(3).toString('hex');
}

function parseDate(value: Maybe<string>, field: string): number | null {
  if (value === null || value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new EmulatorError('BadUserInput', `${field} must be an ISO 8601 date, got "${value}"`, value);
  return ms;
}

/** Remember a bounded number of keys (oldest forgotten first). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= IDEMPOTENCY_LIMIT) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}

/**
 * The emulated Stigg environment: catalog, customers, subscriptions, usage. Every method takes the
 * operation's GraphQL input and returns the wire shape, so it can be driven without HTTP as well.
 */
export class EmulatorState {
  private readonly catalog: Catalog;
  private readonly currency: Currency;
  private readonly features = new Map<string, Indexed<CatalogFeature> & { out: Json }>();
  private readonly products = new Map<string, Indexed<CatalogProduct> & { out: Json }>();
  private readonly plans = new Map<string, PlanVersion>();
  private readonly addons = new Map<string, Indexed<CatalogAddon> & { out: Json }>();
  private readonly couponIndex = new Map<string, Json>();
  private readonly customers = new Map<string, CustomerRecord>();
  private readonly subscriptions = new Map<string, SubscriptionRecord>();
  private readonly usage = new Map<string, UsageRecord>();
  private readonly usageReplays = new Map<string, Json>();
  private readonly eventKeys = new Map<string, true>();
  private readonly checkouts = new Map<string, PendingCheckout>();
  private readonly eventFeatures = new Map<string, CatalogFeature[]>();
  private readonly recordedEvents: RecordedEvent[] = [];
  private statsData: EmulatorStats = EmulatorState.emptyStats();
  /** Origin the checkout URLs point at (set by the server once it listens). */
  baseUrl = 'http://127.0.0.1';

  constructor(
    catalog: Catalog,
    readonly clock: EmulatorClock,
  ) {
    this.catalog = structuredClone(validateCatalog(catalog));
    this.currency = this.catalog.currency ?? 'USD';
    this.load();
  }

  private static emptyStats(): EmulatorStats {
    return { requests: 0, operations: {}, faults: { http5xx: 0, dropped: 0 }, usage: {} };
  }

  /** Back to the catalog: customers, subscriptions, usage, events and stats are dropped. */
  reset(): void {
    for (const map of [this.features, this.products, this.plans, this.addons, this.couponIndex, this.customers, this.subscriptions, this.usage, this.usageReplays, this.eventKeys, this.checkouts, this.eventFeatures]) {
      (map as Map<string, unknown>).clear();
    }
    this.recordedEvents.length = 0;
    this.statsData = EmulatorState.emptyStats();
    this.load();
  }

  /** A snapshot (a copy) of the counters. */
  stats(): EmulatorStats {
    const s = this.statsData;
    return { requests: s.requests, operations: { ...s.operations }, faults: { ...s.faults }, usage: { ...s.usage } };
  }

  /** The live counters, for the server. */
  get counters(): EmulatorStats {
    return this.statsData;
  }

  /** Raw events accepted by reportEvent, oldest first (the newest 100,000 at most). */
  get events(): readonly RecordedEvent[] {
    return this.recordedEvents;
  }

  /** Current usage as the entitlement would report it (after any period rollover). */
  currentUsage(customerId: string, featureId: string, resourceId?: string | null): number {
    const eff = this.customers.has(customerId) ? this.effective(customerId, featureId, resourceId ?? null, this.clock.now()) : null;
    return this.readUsage(customerId, resourceId ?? null, featureId, eff === null ? null : this.periodOf(eff, this.clock.now()));
  }

  /** Publish a new version of a plan: new subscriptions get it, existing ones keep theirs until migrated. */
  publishPlan(plan: CatalogPlan): void {
    const plans = this.catalog.plans.some((p) => p.id === plan.id) ? this.catalog.plans.map((p) => (p.id === plan.id ? plan : p)) : [...this.catalog.plans, plan];
    validateCatalog({ ...this.catalog, plans, customers: [] }, `publishPlan("${plan.id}")`);
    const previous = this.plans.get(plan.id);
    this.indexPlan(structuredClone(plan), (previous?.version ?? 0) + 1, previous?.uid);
  }

  // ------------------------------------------------------------------ loading

  private load(): void {
    const c = this.catalog;
    for (const f of c.features) {
      const uid = randomUUID();
      const out = {
        id: uid,
        refId: f.id,
        displayName: f.displayName ?? f.id,
        description: f.description ?? null,
        featureType: f.featureType,
        meterType: f.meterType ?? 'None',
        featureUnits: f.featureUnits ?? null,
        featureUnitsPlural: f.featureUnitsPlural ?? null,
        additionalMetaData: f.additionalMetaData ?? null,
      };
      this.features.set(f.id, { uid, def: f, out });
      if (f.eventName !== undefined) this.eventFeatures.set(f.eventName, [...(this.eventFeatures.get(f.eventName) ?? []), f]);
    }
    for (const p of c.products) {
      const uid = randomUUID();
      this.products.set(p.id, { uid, def: p, out: { id: uid, refId: p.id, displayName: p.displayName ?? p.id, description: p.description ?? null } });
    }
    for (const p of c.plans) this.indexPlan(p, 1);
    for (const a of c.addons ?? []) {
      const uid = randomUUID();
      const out = {
        id: uid,
        refId: a.id,
        displayName: a.displayName ?? a.id,
        description: a.description ?? null,
        additionalMetaData: a.additionalMetaData ?? null,
        entitlements: this.packageEntitlements(a.entitlements),
      };
      this.addons.set(a.id, { uid, def: a, out });
    }
    const now = this.clock.now();
    for (const coupon of c.coupons ?? []) this.couponIndex.set(coupon.id, this.couponOut(coupon, now));
    for (const customer of c.customers ?? []) {
      this.provisionCustomer({
        customerId: customer.id,
        name: customer.name,
        email: customer.email,
        billingId: customer.billingId,
        couponRefId: customer.couponId,
        additionalMetaData: customer.additionalMetaData,
      }, { skipJourney: true });
      const record = this.customers.get(customer.id) as CustomerRecord;
      record.hasPaymentMethod = customer.hasPaymentMethod ?? record.hasPaymentMethod;
      for (const s of customer.subscriptions ?? []) {
        const sub = this.createSubscription(record, {
          customerId: customer.id,
          planId: s.planId,
          resourceId: s.resourceId,
          billingPeriod: s.billingPeriod,
          startDate: s.startDate,
          addons: s.addons,
          billableFeatures: s.billableFeatures,
          additionalMetaData: s.additionalMetaData,
          skipTrial: true,
        }, now);
        if (s.id !== undefined) {
          this.subscriptions.delete(sub.refId);
          sub.refId = s.id;
          this.subscriptions.set(s.id, sub);
        }
      }
      if (customer.promotionalEntitlements !== undefined) {
        this.grantPromotionalEntitlements({ customerId: customer.id, promotionalEntitlements: customer.promotionalEntitlements });
      }
      for (const u of customer.usage ?? []) {
        this.reportUsage({ customerId: customer.id, featureId: u.featureId, resourceId: u.resourceId, value: u.value, updateBehavior: 'SET' });
      }
      record.archived = customer.archived ?? false;
      if (record.archived) {
        record.name = null;
        record.email = null;
      }
    }
    this.statsData = EmulatorState.emptyStats();
  }

  private indexPlan(p: CatalogPlan, version: number, uid: string = randomUUID()): void {
    const product = this.products.get(p.productId);
    const out = {
      id: uid,
      refId: p.id,
      displayName: p.displayName ?? p.id,
      description: p.description ?? null,
      additionalMetaData: p.additionalMetaData ?? null,
      pricingType: p.pricingType,
      product: product?.out ?? null,
      entitlements: this.packageEntitlements(p.entitlements),
    };
    this.plans.set(p.id, { uid, def: p, version, out });
  }

  private packageEntitlements(list: CatalogEntitlement[] | undefined): Json[] {
    return (list ?? []).map((e) => ({
      featureId: e.featureId,
      usageLimit: e.hasUnlimitedUsage === true ? null : e.usageLimit ?? null,
      hasUnlimitedUsage: e.hasUnlimitedUsage ?? false,
      resetPeriod: e.resetPeriod ?? null,
      feature: this.features.get(e.featureId)?.out,
    }));
  }

  private couponOut(c: CatalogCoupon, now: number): Json {
    const created = iso(parseDate(c.createdAt, 'createdAt') ?? now);
    return {
      id: c.id,
      refId: c.id,
      name: c.name,
      description: c.description ?? null,
      type: c.type,
      discountValue: c.discountValue,
      additionalMetaData: c.additionalMetaData ?? null,
      createdAt: created,
      updatedAt: created,
      billingId: null,
      billingLinkUrl: null,
      status: c.status ?? 'ACTIVE',
    };
  }

  // ------------------------------------------------------------------ lookups

  private customer(customerId: Maybe<string>): CustomerRecord {
    const record = customerId === null || customerId === undefined ? undefined : this.customers.get(customerId);
    if (record === undefined || record.archived) {
      throw new EmulatorError('CustomerNotFound', `Customer not found: ${String(customerId)}`, customerId ?? undefined);
    }
    return record;
  }

  private subscription(refId: Maybe<string>): SubscriptionRecord {
    const record = refId === null || refId === undefined ? undefined : this.subscriptions.get(refId);
    if (record === undefined) throw new EmulatorError('SubscriptionNotFound', `Subscription not found: ${String(refId)}`, refId ?? undefined);
    return record;
  }

  private plan(planId: string): PlanVersion {
    const plan = this.plans.get(planId);
    if (plan === undefined) throw new EmulatorError('PlanNotFound', `Plan not found: ${planId}`, planId);
    return plan;
  }

  private feature(featureId: string): CatalogFeature {
    const feature = this.features.get(featureId);
    if (feature === undefined) throw new EmulatorError('FeatureNotFound', `Feature not found: ${featureId}`, featureId);
    return feature.def;
  }

  private coupon(couponId: string): Json {
    const coupon = this.couponIndex.get(couponId);
    if (coupon === undefined) throw new EmulatorError('CouponNotFound', `Coupon not found: ${couponId}`, couponId);
    return coupon;
  }

  private status(sub: SubscriptionRecord, now: number): SubscriptionStatus {
    if (sub.effectiveEndDate !== null && now >= sub.effectiveEndDate) return 'CANCELED';
    if (sub.paymentPending) return 'PAYMENT_PENDING';
    if (now < sub.startDate) return 'NOT_STARTED';
    if (sub.trialEndDate !== null) {
      if (now < sub.trialEndDate) return 'IN_TRIAL';
      if (!sub.customer.hasPaymentMethod && this.requiresPayment(sub.plan.def)) return 'EXPIRED';
    }
    return 'ACTIVE';
  }

  private planOf(sub: SubscriptionRecord, now: number): PlanVersion {
    if (sub.migrateAt !== null && now >= sub.migrateAt) {
      sub.plan = this.plans.get(sub.plan.def.id) ?? sub.plan;
      sub.migrateAt = null;
    }
    return sub.plan;
  }

  private requiresPayment(plan: CatalogPlan): boolean {
    return plan.pricingType === 'PAID' && (plan.requiresPaymentMethod ?? this.catalog.paidPlansRequirePaymentMethod ?? false);
  }

  private billingPeriodOf(sub: SubscriptionRecord, now: number): Period {
    return periodAt(sub.startDate, billingUnit(sub.billingPeriod), now);
  }

  // ------------------------------------------------------------------ entitlements

  private effective(customerId: string, featureId: string, resourceId: string | null, now: number): Effective {
    const denied = (reason: AccessDeniedReason): Effective => ({ reason, hasUnlimitedUsage: false, usageLimit: null, resetPeriod: null, anchor: null });
    const customer = this.customers.get(customerId);
    if (customer === undefined) return denied('CustomerNotFound');
    if (customer.archived) return denied('CustomerIsArchived');
    const feature = this.features.get(featureId);
    if (feature === undefined) return denied('FeatureNotFound');

    let scoped = 0;
    let active = 0;
    let best: Effective | null = null;
    for (const sub of customer.subscriptions) {
      if (sub.resourceId !== resourceId) continue;
      scoped += 1;
      if (!ACTIVE_STATUSES.has(this.status(sub, now))) continue;
      active += 1;
      const plan = this.planOf(sub, now).def;
      const planEntitlement = plan.entitlements?.find((e) => e.featureId === featureId);
      let found = planEntitlement !== undefined;
      let unlimited = planEntitlement?.hasUnlimitedUsage === true;
      const billable = sub.billableFeatures.find((b) => b.featureId === featureId);
      let limit = billable?.quantity ?? planEntitlement?.usageLimit ?? 0;
      let resetPeriod = planEntitlement?.resetPeriod ?? null;
      for (const { addonId, quantity } of sub.addons) {
        const entitlement = this.addons.get(addonId)?.def.entitlements?.find((e) => e.featureId === featureId);
        if (entitlement === undefined) continue;
        found = true;
        unlimited ||= entitlement.hasUnlimitedUsage === true;
        limit += (entitlement.usageLimit ?? 0) * quantity;
        resetPeriod ??= entitlement.resetPeriod ?? null;
      }
      if (found) best = moreGenerous(best, { reason: null, hasUnlimitedUsage: unlimited, usageLimit: unlimited ? null : limit, resetPeriod, anchor: sub.usageAnchor });
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
      best = moreGenerous(best, {
        reason: null,
        hasUnlimitedUsage: promo.hasUnlimitedUsage,
        usageLimit: promo.hasUnlimitedUsage ? null : promo.usageLimit ?? 0,
        resetPeriod: promo.resetPeriod,
        anchor: promo.startDate,
      });
    }
    if (best !== null) {
      return feature.def.featureType === 'BOOLEAN' ? { reason: null, hasUnlimitedUsage: false, usageLimit: null, resetPeriod: null, anchor: null } : best;
    }
    if (revoked) return denied('Revoked');
    return denied(active === 0 ? 'NoActiveSubscription' : 'NoFeatureEntitlementInSubscription');
  }

  private periodOf(eff: Effective, now: number): Period | null {
    return eff.resetPeriod === null || eff.anchor === null ? null : periodAt(eff.anchor, eff.resetPeriod, now);
  }

  private readUsage(customerId: string, resourceId: string | null, featureId: string, period: Period | null): number {
    const record = this.usage.get(usageKey(customerId, resourceId, featureId));
    if (record === undefined) return 0;
    if (period !== null && record.periodStart !== period.start) {
      if (record.periodStart !== null && record.periodStart < period.start) record.value = 0;
      record.periodStart = period.start;
    }
    return record.value;
  }

  private entitlementOut(customerId: string, resourceId: string | null, featureId: string, requestedUsage: number, now: number): Json {
    const eff = this.effective(customerId, featureId, resourceId, now);
    const feature = this.features.get(featureId);
    const metered = feature !== undefined && feature.def.featureType === 'NUMBER' && (feature.def.meterType ?? 'None') !== 'None';
    const period = this.periodOf(eff, now);
    const currentUsage = metered && eff.reason !== 'CustomerNotFound' ? this.readUsage(customerId, resourceId, featureId, period) : 0;
    let reason = eff.reason;
    if (reason === null && feature !== undefined) {
      if (feature.def.featureType === 'BOOLEAN') {
        if (requestedUsage > 0) reason = 'FeatureTypeMismatch';
      } else if (!eff.hasUnlimitedUsage && currentUsage + requestedUsage > (eff.usageLimit ?? 0)) {
        reason = 'RequestedUsageExceedingLimit';
      }
    }
    return {
      isGranted: reason === null,
      accessDeniedReason: reason,
      customerId,
      resourceId,
      usageLimit: eff.usageLimit,
      hasUnlimitedUsage: eff.hasUnlimitedUsage,
      currentUsage,
      requestedUsage,
      usagePeriodAnchor: period === null ? null : iso(eff.anchor),
      usagePeriodStart: period === null ? null : iso(period.start),
      usagePeriodEnd: period === null ? null : iso(period.end),
      nextResetDate: period === null ? null : iso(period.end),
      resetPeriod: eff.resetPeriod,
      feature: feature?.out ?? null,
    };
  }

  /** `entitlement(query:)`: never throws for unknown customers, features or resources; it answers isGranted false with the reason. */
  entitlement(query: { customerId: string; featureId: string; resourceId?: Maybe<string>; options?: Maybe<{ requestedUsage?: Maybe<number> }> }): Json {
    const requested = query.options?.requestedUsage ?? 0;
    if (!Number.isFinite(requested) || requested < 0) throw new EmulatorError('BadUserInput', `requestedUsage must be a finite number >= 0, got ${requested}`);
    return this.entitlementOut(query.customerId, query.resourceId ?? null, query.featureId, requested, this.clock.now());
  }

  /** `cachedEntitlements(query:)`: every feature the customer (and resource) is entitled to. */
  cachedEntitlements(query: { customerId: string; resourceId?: Maybe<string> }): Json[] {
    const customer = this.customer(query.customerId);
    const resourceId = query.resourceId ?? null;
    if (resourceId !== null && !customer.subscriptions.some((s) => s.resourceId === resourceId)) {
      throw new EmulatorError('ResourceNotFound', `Resource not found: ${resourceId}`, resourceId);
    }
    const now = this.clock.now();
    const result: Json[] = [];
    for (const featureId of this.features.keys()) {
      const eff = this.effective(customer.refId, featureId, resourceId, now);
      if (eff.reason === null) result.push(this.entitlementOut(customer.refId, resourceId, featureId, 0, now));
    }
    return result;
  }

  // ------------------------------------------------------------------ usage

  private validateUsage(u: UsageArgs): CatalogFeature {
    const customer = this.customer(u.customerId);
    const feature = this.feature(u.featureId);
    if (feature.featureType !== 'NUMBER' || (feature.meterType ?? 'None') === 'None') {
      throw new EmulatorError('BadUserInput', `Feature ${feature.id} is not metered: usage can only be reported for NUMBER features with meterType Fluctuating or Incremental`, feature.id);
    }
    if (!Number.isFinite(u.value)) throw new EmulatorError('BadUserInput', `value must be a finite number, got ${u.value}`);
    const resourceId = u.resourceId ?? null;
    if (resourceId !== null && !customer.subscriptions.some((s) => s.resourceId === resourceId)) {
      throw new EmulatorError('ResourceNotFound', `Resource not found: ${resourceId}`, resourceId);
    }
    parseDate(u.createdAt, 'createdAt');
    return feature;
  }

  private applyUsage(u: UsageArgs, now: number): Json {
    if (u.idempotencyKey !== null && u.idempotencyKey !== undefined) {
      const previous = this.usageReplays.get(u.idempotencyKey);
      if (previous !== undefined) return previous;
    }
    const resourceId = u.resourceId ?? null;
    const eff = this.effective(u.customerId, u.featureId, resourceId, now);
    const period = this.periodOf(eff, now);
    const key = usageKey(u.customerId, resourceId, u.featureId);
    this.readUsage(u.customerId, resourceId, u.featureId, period);
    let record = this.usage.get(key);
    if (record === undefined) {
      record = { value: 0, periodStart: period?.start ?? null };
      this.usage.set(key, record);
    }
    if (u.updateBehavior === 'SET') {
      record.value = u.value;
    } else {
      record.value += u.value;
      const totals = this.statsData.usage;
      totals[key] = (totals[key] ?? 0) + u.value;
    }
    const result = {
      id: randomUUID(),
      customerId: u.customerId,
      resourceId,
      featureId: u.featureId,
      currentUsage: record.value,
      usagePeriodStart: period === null ? null : iso(period.start),
      usagePeriodEnd: period === null ? null : iso(period.end),
      nextResetDate: period === null ? null : iso(period.end),
      timestamp: iso(parseDate(u.createdAt, 'createdAt') ?? now),
    };
    if (u.idempotencyKey !== null && u.idempotencyKey !== undefined) remember(this.usageReplays, u.idempotencyKey, result);
    return result;
  }

  reportUsage(input: UsageArgs): Json {
    this.validateUsage(input);
    return this.applyUsage(input, this.clock.now());
  }

  /** All reports are validated before any is applied: one bad report fails the batch and changes nothing. */
  reportUsageBulk(input: { usages: UsageArgs[] }): Json[] {
    for (const u of input.usages) this.validateUsage(u);
    const now = this.clock.now();
    return input.usages.map((u) => this.applyUsage(u, now));
  }

  reportEvent(events: { usageEvents: Array<{ customerId: string; eventName: string; idempotencyKey: string; resourceId?: Maybe<string>; dimensions?: unknown; timestamp?: Maybe<string> }> }): null {
    for (const e of events.usageEvents) parseDate(e.timestamp, 'timestamp');
    const now = this.clock.now();
    for (const e of events.usageEvents) {
      if (this.eventKeys.has(e.idempotencyKey)) continue;
      remember(this.eventKeys, e.idempotencyKey, true);
      const resourceId = e.resourceId ?? null;
      if (this.recordedEvents.length >= IDEMPOTENCY_LIMIT) this.recordedEvents.splice(0, IDEMPOTENCY_LIMIT / 10);
      this.recordedEvents.push({
        customerId: e.customerId,
        eventName: e.eventName,
        idempotencyKey: e.idempotencyKey,
        resourceId,
        dimensions: (e.dimensions as Record<string, unknown> | null | undefined) ?? null,
        timestamp: iso(parseDate(e.timestamp, 'timestamp') ?? now),
      });
      const customer = this.customers.get(e.customerId);
      if (customer === undefined || customer.archived) continue;
      for (const feature of this.eventFeatures.get(e.eventName) ?? []) {
        this.applyUsage({ customerId: e.customerId, featureId: feature.id, resourceId, value: 1 }, now);
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ customers

  private customerOut(c: CustomerRecord): Json {
    const now = this.clock.now();
    return {
      id: c.uid,
      customerId: c.refId,
      refId: c.refId,
      name: c.name,
      email: c.email,
      createdAt: iso(c.createdAt),
      updatedAt: iso(c.updatedAt),
      billingId: c.billingId,
      crmId: c.crmId,
      hasPaymentMethod: c.hasPaymentMethod,
      hasActiveSubscription: c.subscriptions.some((s) => ACTIVE_STATUSES.has(this.status(s, now))),
      additionalMetaData: c.additionalMetaData ?? null,
      coupon: c.couponRefId === null ? null : this.couponIndex.get(c.couponRefId) ?? null,
      promotionalEntitlements: c.promotions.filter((p) => p.revokedAt === null && p.isVisible).map((p) => this.promotionOut(p, now)),
    };
  }

  provisionCustomer(
    input: {
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
    },
    internal?: { skipJourney: boolean },
  ): Json {
    const now = this.clock.now();
    const refId = input.customerId ?? input.refId ?? `customer-${shortId()}`;
    if (input.couponRefId !== null && input.couponRefId !== undefined) this.coupon(input.couponRefId);
    if (input.subscriptionParams !== null && input.subscriptionParams !== undefined) {
      this.validateSubscriptionParams(input.subscriptionParams);
    }
    let record = this.customers.get(refId);
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
      this.customers.set(refId, record);
    } else {
      record.archived = false;
      this.applyCustomerUpdate(record, input, now);
    }
    let strategy = 'SKIPPED_SUBSCRIPTION_CREATION';
    let subscription: SubscriptionRecord | null = null;
    if (input.subscriptionParams !== null && input.subscriptionParams !== undefined) {
      strategy = 'REQUESTED_PLAN';
      subscription = this.createSubscription(record, { ...input.subscriptionParams, customerId: refId }, now, { allowPending: true });
    } else if (internal?.skipJourney !== true) {
      for (const product of this.products.values()) {
        if (product.def.defaultPlanId === undefined) continue;
        if (record.subscriptions.some((s) => s.productId === product.def.id && LIVE_STATUSES.has(this.status(s, now)))) continue;
        strategy = 'PREDEFINED_FREE_PLAN';
        subscription ??= this.createSubscription(record, { customerId: refId, planId: product.def.defaultPlanId }, now, { allowPending: true });
      }
    }
    return {
      customer: this.customerOut(record),
      subscriptionDecisionStrategy: strategy,
      subscription: subscription === null ? null : this.subscriptionOut(subscription),
    };
  }

  private applyCustomerUpdate(record: CustomerRecord, input: Record<string, unknown>, now: number): void {
    if (input.name !== undefined) record.name = (input.name as string | null) ?? null;
    if (input.email !== undefined) record.email = (input.email as string | null) ?? null;
    if (input.billingId !== undefined) record.billingId = (input.billingId as string | null) ?? null;
    if (input.crmId !== undefined) record.crmId = (input.crmId as string | null) ?? null;
    if (input.additionalMetaData !== undefined) record.additionalMetaData = input.additionalMetaData ?? null;
    if (input.couponRefId !== undefined) record.couponRefId = (input.couponRefId as string | null) ?? null;
    record.updatedAt = now;
  }

  updateOneCustomer(input: { customerId?: Maybe<string>; refId?: Maybe<string>; couponRefId?: Maybe<string>; [key: string]: unknown }): Json {
    const id = input.customerId ?? input.refId;
    if (id === null || id === undefined) throw new EmulatorError('BadUserInput', 'customerId (or refId) is required');
    const record = this.customer(id);
    if (input.couponRefId !== null && input.couponRefId !== undefined) this.coupon(input.couponRefId);
    this.applyCustomerUpdate(record, input, this.clock.now());
    return this.customerOut(record);
  }

  getCustomerByRefId(input: { customerId: string }): Json {
    return this.customerOut(this.customer(input.customerId));
  }

  /** PII (name, email) is nulled and the customer is no longer returned; subscriptions stay for unarchive. */
  archiveCustomer(input: { customerId: string }): Json {
    const record = this.customer(input.customerId);
    record.archived = true;
    record.name = null;
    record.email = null;
    record.updatedAt = this.clock.now();
    return this.customerOut(record);
  }

  unarchiveCustomer(input: { customerId: string }): Json {
    const record = this.customers.get(input.customerId);
    if (record === undefined) throw new EmulatorError('CustomerNotFound', `Customer not found: ${input.customerId}`, input.customerId);
    record.archived = false;
    record.updatedAt = this.clock.now();
    return this.customerOut(record);
  }

  // ------------------------------------------------------------------ subscriptions

  private validateSubscriptionArgs(input: ProvisionSubscriptionArgs): { customer: CustomerRecord; plan: PlanVersion } {
    const customer = this.customer(input.customerId);
    return { customer, plan: this.validateSubscriptionParams(input) };
  }

  private validateSubscriptionParams(input: SubscriptionParams): PlanVersion {
    const plan = this.plan(input.planId);
    this.validatePackage(plan.def, input.billableFeatures, input.addons);
    const billingPeriod = input.billingPeriod ?? 'MONTHLY';
    if (plan.def.pricingType === 'PAID' && (plan.def.prices?.length ?? 0) > 0 && !plan.def.prices?.some((p) => p.billingPeriod === billingPeriod)) {
      throw new EmulatorError('BadUserInput', `Plan ${plan.def.id} has no ${billingPeriod} price`, plan.def.id);
    }
    parseDate(input.startDate, 'startDate');
    if (input.promotionCode !== null && input.promotionCode !== undefined) this.coupon(input.promotionCode);
    return plan;
  }

  private validatePackage(
    plan: CatalogPlan,
    billableFeatures: Maybe<Array<{ featureId: string; quantity: number }>>,
    addons: Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>,
  ): void {
    for (const b of billableFeatures ?? []) {
      this.feature(b.featureId);
      if (!plan.prices?.some((p) => p.billingModel === 'PER_UNIT' && p.featureId === b.featureId)) {
        throw new EmulatorError('BadUserInput', `Feature ${b.featureId} is not billable per unit in plan ${plan.id}`, b.featureId);
      }
      if (!Number.isFinite(b.quantity) || b.quantity <= 0) throw new EmulatorError('BadUserInput', `quantity of ${b.featureId} must be a positive number`, b.featureId);
    }
    for (const a of addons ?? []) {
      if (!this.addons.has(a.addonId)) throw new EmulatorError('AddonNotFound', `Addon not found: ${a.addonId}`, a.addonId);
      if (a.quantity !== null && a.quantity !== undefined && a.quantity < 1) throw new EmulatorError('BadUserInput', `quantity of ${a.addonId} must be >= 1`, a.addonId);
    }
  }

  private createSubscription(customer: CustomerRecord, input: ProvisionSubscriptionArgs, now: number, options?: { allowPending: boolean }): SubscriptionRecord {
    const plan = this.plan(input.planId);
    const startDate = parseDate(input.startDate, 'startDate') ?? now;
    const resourceId = input.resourceId ?? null;
    const trialDays = input.skipTrial === true ? 0 : plan.def.trialDays ?? 0;
    const pending = options?.allowPending === true && trialDays === 0 && this.requiresPayment(plan.def) && !customer.hasPaymentMethod;
    let replaced: SubscriptionRecord | undefined;
    for (const old of customer.subscriptions) {
      if (old.productId !== plan.def.productId || old.resourceId !== resourceId) continue;
      if (!LIVE_STATUSES.has(this.status(old, now))) continue;
      old.cancellationDate = now;
      old.effectiveEndDate = Math.max(now, Math.min(startDate, old.effectiveEndDate ?? Infinity));
      replaced ??= old;
    }
    let refId = `subscription-${plan.def.id}-${shortId()}`;
    while (this.subscriptions.has(refId)) refId = `subscription-${plan.def.id}-${shortId()}`;
    const sub: SubscriptionRecord = {
      uid: randomUUID(),
      refId,
      customer,
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
    this.subscriptions.set(refId, sub);
    return sub;
  }

  private pricesOf(sub: SubscriptionRecord, now: number): Json[] {
    const plan = this.planOf(sub, now).def;
    return (plan.prices ?? [])
      .filter((p) => p.billingPeriod === sub.billingPeriod)
      .map((p) => ({
        usageLimit: p.billingModel === 'PER_UNIT' && p.featureId !== undefined ? this.unitsOf(plan, p, sub.billableFeatures) : null,
        price: {
          billingModel: p.billingModel ?? 'FLAT_FEE',
          billingPeriod: p.billingPeriod,
          price: money(p.amount, this.currency),
          feature: p.featureId === undefined ? null : this.features.get(p.featureId)?.out ?? null,
        },
      }));
  }

  private unitsOf(plan: CatalogPlan, price: CatalogPrice, billable: Array<{ featureId: string; quantity: number }>): number {
    return billable.find((b) => b.featureId === price.featureId)?.quantity ?? plan.entitlements?.find((e) => e.featureId === price.featureId)?.usageLimit ?? 1;
  }

  /** Price of one billing period before and after the coupon. */
  private cost(
    plan: CatalogPlan,
    billingPeriod: BillingPeriod,
    billable: Array<{ featureId: string; quantity: number }>,
    addons: Array<{ addonId: string; quantity: number }>,
    couponRefId: string | null,
  ): { subTotal: number; total: number } {
    let subTotal = 0;
    for (const price of plan.prices ?? []) {
      if (price.billingPeriod !== billingPeriod) continue;
      subTotal += price.billingModel === 'PER_UNIT' ? price.amount * this.unitsOf(plan, price, billable) : price.amount;
    }
    for (const { addonId, quantity } of addons) {
      for (const price of this.addons.get(addonId)?.def.prices ?? []) {
        if (price.billingPeriod === billingPeriod) subTotal += price.amount * quantity;
      }
    }
    let total = subTotal;
    const coupon = couponRefId === null ? undefined : this.couponIndex.get(couponRefId);
    if (coupon !== undefined && coupon.status === 'ACTIVE') {
      const value = coupon.discountValue as number;
      total = coupon.type === 'PERCENTAGE' ? subTotal * (1 - value / 100) : Math.max(0, subTotal - value);
    }
    return { subTotal, total };
  }

  private subscriptionOut(sub: SubscriptionRecord): Json {
    const now = this.clock.now();
    const plan = this.planOf(sub, now);
    const billing = this.billingPeriodOf(sub, now);
    const cost = this.cost(plan.def, sub.billingPeriod, sub.billableFeatures, sub.addons, sub.customer.couponRefId);
    return {
      id: sub.uid,
      refId: sub.refId,
      subscriptionId: sub.refId,
      status: this.status(sub, now),
      pricingType: plan.def.pricingType,
      startDate: iso(sub.startDate),
      endDate: iso(sub.effectiveEndDate),
      trialEndDate: iso(sub.trialEndDate),
      cancellationDate: iso(sub.cancellationDate),
      effectiveEndDate: iso(sub.effectiveEndDate),
      currentBillingPeriodStart: iso(billing.start),
      currentBillingPeriodEnd: iso(billing.end),
      billingPeriod: sub.billingPeriod,
      billingId: null,
      billingLinkUrl: null,
      additionalMetaData: sub.additionalMetaData ?? null,
      prices: this.pricesOf(sub, now),
      totalPrice: plan.def.pricingType === 'FREE' ? null : { subTotal: money(cost.subTotal, this.currency), total: money(cost.total, this.currency) },
      plan: plan.out,
      addons: sub.addons.map((a, i) => ({ id: `${sub.uid}-addon-${i}`, quantity: a.quantity, addon: this.addons.get(a.addonId)?.out })),
      customer: () => this.customerOut(sub.customer),
      resource: sub.resourceId === null ? null : { resourceId: sub.resourceId },
      paymentCollection: sub.paymentPending ? 'ACTION_REQUIRED' : 'NOT_REQUIRED',
      latestInvoice: null,
    };
  }

  getActiveSubscriptions(input: { customerId: string; resourceId?: Maybe<string> }): Json[] {
    const customer = this.customer(input.customerId);
    const now = this.clock.now();
    const resourceId = input.resourceId ?? null;
    return customer.subscriptions
      .filter((s) => (resourceId === null || s.resourceId === resourceId) && ACTIVE_STATUSES.has(this.status(s, now)))
      .map((s) => this.subscriptionOut(s));
  }

  getSubscription(input: { subscriptionId: string }): Json {
    return this.subscriptionOut(this.subscription(input.subscriptionId));
  }

  /**
   * Free plans (and trials) become active at once. A paid plan that requires a payment method, for a
   * customer without one, answers PAYMENT_REQUIRED with a checkout URL (served by the emulator: opening
   * it records a payment method and creates the subscription). A subscription to a product the customer
   * (and resource) already has replaces the old one.
   */
  provisionSubscriptionV2(input: ProvisionSubscriptionArgs): Json {
    const { customer, plan } = this.validateSubscriptionArgs(input);
    const now = this.clock.now();
    const trial = input.skipTrial !== true && (plan.def.trialDays ?? 0) > 0;
    if (!trial && this.requiresPayment(plan.def) && !customer.hasPaymentMethod) {
      const id = randomUUID();
      this.checkouts.set(id, { id, input: structuredClone(input) });
      return { id, status: 'PAYMENT_REQUIRED', checkoutUrl: `${this.baseUrl}/checkout/${id}`, checkoutBillingId: `cs_emulator_${id.replace(/-/g, '')}`, subscription: null };
    }
    const sub = this.createSubscription(customer, input, now);
    return { id: sub.uid, status: 'SUCCESS', checkoutUrl: null, checkoutBillingId: null, subscription: this.subscriptionOut(sub) };
  }

  /** What the checkout page does: the customer now has a payment method and the subscription is created. */
  completeCheckout(checkoutId: string): Json | null {
    const checkout = this.checkouts.get(checkoutId);
    if (checkout === undefined) return null;
    this.checkouts.delete(checkoutId);
    const customer = this.customer(checkout.input.customerId);
    customer.hasPaymentMethod = true;
    return this.subscriptionOut(this.createSubscription(customer, checkout.input, this.clock.now()));
  }

  updateOneSubscription(input: {
    subscriptionId?: Maybe<string>;
    refId?: Maybe<string>;
    billingPeriod?: Maybe<BillingPeriod>;
    billableFeatures?: Maybe<Array<{ featureId: string; quantity: number }>>;
    addons?: Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>;
    additionalMetaData?: unknown;
  }): Json {
    const id = input.subscriptionId ?? input.refId;
    if (id === null || id === undefined) throw new EmulatorError('BadUserInput', 'subscriptionId (or refId) is required');
    const sub = this.subscription(id);
    const now = this.clock.now();
    if (this.status(sub, now) === 'CANCELED') throw new EmulatorError('BadUserInput', `Subscription ${id} is canceled`, id);
    this.validatePackage(this.planOf(sub, now).def, input.billableFeatures, input.addons);
    if (input.billableFeatures !== null && input.billableFeatures !== undefined) {
      sub.billableFeatures = input.billableFeatures.map((b) => ({ featureId: b.featureId, quantity: b.quantity }));
    }
    if (input.addons !== null && input.addons !== undefined) sub.addons = input.addons.map((a) => ({ addonId: a.addonId, quantity: a.quantity ?? 1 }));
    if (input.billingPeriod !== null && input.billingPeriod !== undefined) sub.billingPeriod = input.billingPeriod;
    if (input.additionalMetaData !== undefined) sub.additionalMetaData = input.additionalMetaData ?? null;
    return this.subscriptionOut(sub);
  }

  /** IMMEDIATE (the default) ends access now; END_OF_BILLING_PERIOD keeps it until the period ends; SPECIFIC_DATE needs endDate. */
  cancelSubscription(input: { subscriptionRefId: string; subscriptionCancellationTime?: Maybe<'IMMEDIATE' | 'END_OF_BILLING_PERIOD' | 'SPECIFIC_DATE'>; endDate?: Maybe<string> }): Json {
    const sub = this.subscription(input.subscriptionRefId);
    const now = this.clock.now();
    if (this.status(sub, now) === 'CANCELED') return this.subscriptionOut(sub);
    const when = input.subscriptionCancellationTime ?? 'IMMEDIATE';
    let end: number;
    if (when === 'SPECIFIC_DATE') {
      const date = parseDate(input.endDate, 'endDate');
      if (date === null) throw new EmulatorError('BadUserInput', 'endDate is required when subscriptionCancellationTime is SPECIFIC_DATE');
      end = Math.max(now, date);
    } else {
      end = when === 'IMMEDIATE' ? now : this.billingPeriodOf(sub, now).end;
    }
    sub.cancellationDate = now;
    sub.effectiveEndDate = end;
    return this.subscriptionOut(sub);
  }

  migrateSubscriptionToLatest(input: { subscriptionId: string; subscriptionMigrationTime?: Maybe<'IMMEDIATE' | 'END_OF_BILLING_PERIOD'> }): Json {
    const sub = this.subscription(input.subscriptionId);
    const now = this.clock.now();
    sub.migrateAt = input.subscriptionMigrationTime === 'END_OF_BILLING_PERIOD' ? this.billingPeriodOf(sub, now).end : now;
    this.planOf(sub, now);
    return { subscriptionId: sub.refId };
  }

  estimateSubscription(input: ProvisionSubscriptionArgs & { billingInformation?: unknown }): Json {
    const { customer, plan } = this.validateSubscriptionArgs(input);
    const now = this.clock.now();
    const billingPeriod = input.billingPeriod ?? 'MONTHLY';
    const start = parseDate(input.startDate, 'startDate') ?? now;
    const cost = this.cost(
      plan.def,
      billingPeriod,
      (input.billableFeatures ?? []).map((b) => ({ featureId: b.featureId, quantity: b.quantity })),
      (input.addons ?? []).map((a) => ({ addonId: a.addonId, quantity: a.quantity ?? 1 })),
      input.promotionCode ?? customer.couponRefId,
    );
    const range = periodAt(start, billingUnit(billingPeriod), start);
    return {
      subTotal: money(cost.subTotal, this.currency),
      total: money(cost.total, this.currency),
      billingPeriodRange: { start: iso(range.start), end: iso(range.end) },
      proration: null,
    };
  }

  /** The net of crediting the unused part of the current period and charging the new price for it. */
  estimateSubscriptionUpdate(input: {
    subscriptionId: string;
    billableFeatures?: Maybe<Array<{ featureId: string; quantity: number }>>;
    addons?: Maybe<Array<{ addonId: string; quantity?: Maybe<number> }>>;
  }): Json {
    const sub = this.subscription(input.subscriptionId);
    const now = this.clock.now();
    const plan = this.planOf(sub, now).def;
    this.validatePackage(plan, input.billableFeatures, input.addons);
    const billable = input.billableFeatures?.map((b) => ({ featureId: b.featureId, quantity: b.quantity })) ?? sub.billableFeatures;
    const addons = input.addons?.map((a) => ({ addonId: a.addonId, quantity: a.quantity ?? 1 })) ?? sub.addons;
    const coupon = sub.customer.couponRefId;
    const before = this.cost(plan, sub.billingPeriod, sub.billableFeatures, sub.addons, coupon).total;
    const after = this.cost(plan, sub.billingPeriod, billable, addons, coupon).total;
    const period = this.billingPeriodOf(sub, now);
    const remaining = Math.min(1, Math.max(0, (period.end - now) / (period.end - period.start)));
    const credit = money(-before * remaining, this.currency);
    const debit = money(after * remaining, this.currency);
    const net = money(credit.amount + debit.amount, this.currency);
    return {
      subTotal: net,
      total: net,
      billingPeriodRange: { start: iso(period.start), end: iso(period.end) },
      proration: { prorationDate: iso(now), credit, debit, netAmount: net },
    };
  }

  // ------------------------------------------------------------------ coupons and promotions

  coupons(args: {
    filter?: Maybe<CouponFilter>;
    sorting?: Maybe<Array<{ field: 'createdAt' | 'name' | 'refId'; direction: 'ASC' | 'DESC' }>>;
    paging?: Maybe<{ first?: Maybe<number>; after?: Maybe<string>; last?: Maybe<number>; before?: Maybe<string> }>;
  }): Json {
    let nodes = [...this.couponIndex.values()].filter((c) => matchesCoupon(c, args.filter ?? null));
    for (const sort of [...(args.sorting ?? [])].reverse()) {
      const sign = sort.direction === 'DESC' ? -1 : 1;
      nodes = nodes.sort((a, b) => sign * String(a[sort.field]).localeCompare(String(b[sort.field])));
    }
    const total = nodes.length;
    const cursor = (i: number): string => Buffer.from(`cursor:${i}`).toString('base64');
    const decode = (c: Maybe<string>): number | null => {
      if (c === null || c === undefined) return null;
      const match = /^cursor:(\d+)$/.exec(Buffer.from(c, 'base64').toString('utf8'));
      if (match === null) throw new EmulatorError('BadUserInput', `Invalid cursor: ${c}`, c);
      return Number(match[1]);
    };
    let from = 0;
    let to = total;
    const after = decode(args.paging?.after);
    const before = decode(args.paging?.before);
    if (after !== null) from = after + 1;
    if (before !== null) to = Math.min(to, before);
    const first = args.paging?.first;
    const last = args.paging?.last;
    if (first !== null && first !== undefined) to = Math.min(to, from + Math.max(0, first));
    if (last !== null && last !== undefined) from = Math.max(from, to - Math.max(0, last));
    const edges = nodes.slice(from, to).map((node, i) => ({ cursor: cursor(from + i), node }));
    return {
      edges,
      pageInfo: {
        hasNextPage: to < total,
        hasPreviousPage: from > 0,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
      totalCount: total,
    };
  }

  private promotionOut(p: PromotionRecord, now: number): Json {
    const ended = p.revokedAt !== null || (p.endDate !== null && now >= p.endDate);
    return {
      id: p.uid,
      status: ended ? 'Expired' : 'Active',
      featureId: p.featureId,
      usageLimit: p.usageLimit,
      hasUnlimitedUsage: p.hasUnlimitedUsage,
      resetPeriod: p.resetPeriod,
      period: p.period,
      startDate: iso(p.startDate),
      endDate: iso(p.revokedAt ?? p.endDate),
      isVisible: p.isVisible,
      feature: this.features.get(p.featureId)?.out,
    };
  }

  /** A grant replaces any earlier grant of the same feature to the customer. */
  grantPromotionalEntitlements(input: {
    customerId: string;
    promotionalEntitlements: Array<{
      featureId: string;
      period: PromotionalEntitlementPeriod;
      customEndDate?: Maybe<string>;
      usageLimit?: Maybe<number>;
      hasUnlimitedUsage?: Maybe<boolean>;
      resetPeriod?: Maybe<ResetPeriod>;
      isVisible?: Maybe<boolean>;
    }>;
  }): Json[] {
    const customer = this.customer(input.customerId);
    const now = this.clock.now();
    for (const grant of input.promotionalEntitlements) {
      this.feature(grant.featureId);
      const custom = parseDate(grant.customEndDate, 'customEndDate');
      if (grant.period === 'CUSTOM' && custom === null) throw new EmulatorError('BadUserInput', 'customEndDate is required when period is CUSTOM', grant.featureId);
    }
    return input.promotionalEntitlements.map((grant) => {
      customer.promotions = customer.promotions.filter((p) => p.featureId !== grant.featureId);
      const unlimited = grant.hasUnlimitedUsage ?? false;
      const record: PromotionRecord = {
        uid: randomUUID(),
        featureId: grant.featureId,
        usageLimit: unlimited ? null : grant.usageLimit ?? null,
        hasUnlimitedUsage: unlimited,
        resetPeriod: grant.resetPeriod ?? null,
        period: grant.period,
        startDate: now,
        endDate: promotionEnd(grant.period, now, parseDate(grant.customEndDate, 'customEndDate')),
        isVisible: grant.isVisible ?? true,
        revokedAt: null,
      };
      customer.promotions.push(record);
      return this.promotionOut(record, now);
    });
  }

  /** The grant ends now; entitlement checks that only it granted answer Revoked. */
  revokePromotionalEntitlement(input: { customerId: string; featureId: string }): Json {
    const customer = this.customer(input.customerId);
    const now = this.clock.now();
    const promo = customer.promotions.find((p) => p.featureId === input.featureId && p.revokedAt === null);
    if (promo === undefined) {
      throw new EmulatorError('PromotionalEntitlementNotFound', `Promotional entitlement not found: ${input.customerId}/${input.featureId}`, input.featureId);
    }
    promo.revokedAt = now;
    return this.promotionOut(promo, now);
  }
}

interface StringComparison {
  eq?: Maybe<string>;
  neq?: Maybe<string>;
  in?: Maybe<string[]>;
  notIn?: Maybe<string[]>;
}

export interface CouponFilter {
  and?: Maybe<CouponFilter[]>;
  or?: Maybe<CouponFilter[]>;
  id?: Maybe<StringComparison>;
  refId?: Maybe<StringComparison>;
  name?: Maybe<StringComparison>;
  status?: Maybe<StringComparison>;
  type?: Maybe<StringComparison>;
}

function compare(value: unknown, c: Maybe<StringComparison>): boolean {
  if (c === null || c === undefined) return true;
  const v = String(value);
  if (c.eq !== null && c.eq !== undefined && v !== c.eq) return false;
  if (c.neq !== null && c.neq !== undefined && v === c.neq) return false;
  if (c.in !== null && c.in !== undefined && !c.in.includes(v)) return false;
  if (c.notIn !== null && c.notIn !== undefined && c.notIn.includes(v)) return false;
  return true;
}

function matchesCoupon(coupon: Json, filter: CouponFilter | null): boolean {
  if (filter === null) return true;
  if (filter.and !== null && filter.and !== undefined && !filter.and.every((f) => matchesCoupon(coupon, f))) return false;
  if (filter.or !== null && filter.or !== undefined && filter.or.length > 0 && !filter.or.some((f) => matchesCoupon(coupon, f))) return false;
  return (
    compare(coupon.id, filter.id) &&
    compare(coupon.refId, filter.refId) &&
    compare(coupon.name, filter.name) &&
    compare(coupon.status, filter.status) &&
    compare(coupon.type, filter.type)
  );
}
