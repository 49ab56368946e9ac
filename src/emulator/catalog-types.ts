/** The catalog format (docs/emulator.md): what a catalog JSON file or object holds. */
export type FeatureType = 'BOOLEAN' | 'NUMBER' | 'ENUM';
export type MeterType = 'None' | 'Fluctuating' | 'Incremental';
export type ResetPeriod = 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
export type PricingType = 'FREE' | 'PAID' | 'CUSTOM';
export type BillingPeriod = 'MONTHLY' | 'ANNUALLY';
export type BillingModel = 'FLAT_FEE' | 'PER_UNIT' | 'USAGE_BASED';
export type Currency = 'USD' | 'EUR' | 'GBP' | 'DKK';
export type CouponType = 'FIXED' | 'PERCENTAGE';
export type CouponStatus = 'ACTIVE' | 'ARCHIVED';
export type PromotionalEntitlementPeriod = 'ONE_WEEK' | 'ONE_MONTH' | 'SIX_MONTH' | 'ONE_YEAR' | 'LIFETIME' | 'CUSTOM';

export interface CatalogProduct {
  id: string;
  displayName?: string;
  description?: string;
  /** Customer journey: the plan a customer provisioned without subscriptionParams gets (PREDEFINED_FREE_PLAN). */
  defaultPlanId?: string;
}

export interface CatalogFeature {
  id: string;
  displayName?: string;
  description?: string;
  featureType: FeatureType;
  /** NUMBER features only; default 'None' (a configuration value, not metered). */
  meterType?: MeterType;
  /** ENUM features only: the values the feature can take; entitlements' enumValues must be among them. */
  enumValues?: string[];
  featureUnits?: string;
  featureUnitsPlural?: string;
  additionalMetaData?: Record<string, unknown>;
  /** Raw events with this eventName (reportEvent) count one unit each toward this feature. */
  eventName?: string;
}

export interface CatalogEntitlement {
  featureId: string;
  usageLimit?: number;
  hasUnlimitedUsage?: boolean;
  /** Metered NUMBER features only, not with hasUnlimitedUsage: usage past usageLimit is granted. */
  hasSoftLimit?: boolean;
  /** ENUM features only: the values this entitlement grants. */
  enumValues?: string[];
  resetPeriod?: ResetPeriod;
}

export interface CatalogPrice {
  billingPeriod: BillingPeriod;
  amount: number;
  /** Default 'FLAT_FEE'; 'PER_UNIT' needs featureId and makes that feature billable (usageLimit = quantity bought). */
  billingModel?: BillingModel;
  featureId?: string;
}

export interface CatalogPlan {
  id: string;
  productId: string;
  displayName?: string;
  description?: string;
  pricingType: PricingType;
  entitlements?: CatalogEntitlement[];
  prices?: CatalogPrice[];
  /** PAID plans: answer PAYMENT_REQUIRED with a checkout URL for customers without a payment method. */
  requiresPaymentMethod?: boolean;
  /** Subscriptions start IN_TRIAL for this many days (unless skipTrial). */
  trialDays?: number;
  additionalMetaData?: Record<string, unknown>;
}

export interface CatalogAddon {
  id: string;
  displayName?: string;
  description?: string;
  entitlements?: CatalogEntitlement[];
  prices?: CatalogPrice[];
  additionalMetaData?: Record<string, unknown>;
}

export interface CatalogCoupon {
  id: string;
  name: string;
  description?: string;
  type: CouponType;
  discountValue: number;
  status?: CouponStatus;
  additionalMetaData?: Record<string, unknown>;
  /** ISO 8601; default: when the emulator state was created. */
  createdAt?: string;
}

export interface CatalogSubscription {
  id?: string;
  planId: string;
  resourceId?: string;
  billingPeriod?: BillingPeriod;
  /** ISO 8601; default: when the emulator state was created. */
  startDate?: string;
  addons?: Array<{ addonId: string; quantity?: number }>;
  billableFeatures?: Array<{ featureId: string; quantity: number }>;
  additionalMetaData?: Record<string, unknown>;
}

export interface CatalogUsage {
  featureId: string;
  resourceId?: string;
  value: number;
}

export interface CatalogPromotionalEntitlement {
  featureId: string;
  period: PromotionalEntitlementPeriod;
  /** ISO 8601, required when period is CUSTOM. */
  customEndDate?: string;
  usageLimit?: number;
  hasUnlimitedUsage?: boolean;
  /** As on a plan's entitlement. */
  hasSoftLimit?: boolean;
  /** As on a plan's entitlement. */
  enumValues?: string[];
  resetPeriod?: ResetPeriod;
}

/** A credit currency (Stigg's custom currency): what credit grants and consumptions are counted in. */
export interface CatalogCurrency {
  id: string;
  displayName?: string;
  symbol?: string;
  units?: { singular: string; plural: string };
}

/** A credit grant a customer starts with (docs/emulator.md, "Credits"). */
export interface CatalogCreditGrant {
  currencyId: string;
  amount: number;
  resourceId?: string;
  /** Default 'PAID'. */
  grantType?: 'PAID' | 'PROMOTIONAL';
  displayName?: string;
  /** Lower is burned first; default 1. */
  priority?: number;
  /** ISO 8601; default: when the emulator state was created. */
  effectiveAt?: string;
  /** ISO 8601; default: never. */
  expireAt?: string;
}

export interface CatalogCustomer {
  id: string;
  name?: string;
  email?: string;
  billingId?: string;
  hasPaymentMethod?: boolean;
  couponId?: string;
  archived?: boolean;
  additionalMetaData?: Record<string, unknown>;
  subscriptions?: CatalogSubscription[];
  usage?: CatalogUsage[];
  promotionalEntitlements?: CatalogPromotionalEntitlement[];
  creditGrants?: CatalogCreditGrant[];
}

export interface Catalog {
  /** Currency of every price; default 'USD'. */
  currency?: Currency;
  /** Default for plans that do not set requiresPaymentMethod; default false (no billing integration). */
  paidPlansRequirePaymentMethod?: boolean;
  products: CatalogProduct[];
  features: CatalogFeature[];
  plans: CatalogPlan[];
  addons?: CatalogAddon[];
  coupons?: CatalogCoupon[];
  customers?: CatalogCustomer[];
  /** Credit currencies; consumptions and grants in another currency answer CustomCurrencyNotFound. */
  currencies?: CatalogCurrency[];
}
