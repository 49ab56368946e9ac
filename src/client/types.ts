// Generated from schema.graphql, fragments.graphql and operations/*.graphql by
// test/client/helpers/codegen.ts. Do not edit by hand; after changing a document run:
//   npm run gen:client

import type { AccessDeniedReason } from '../core';

/** An ISO-8601 date-time string, as Stigg sends it. */
export type DateTime = string;
/** Inputs also accept a Date (it is sent as its ISO-8601 string). */
export type DateTimeInput = string | Date;
/** The JSON scalar (additionalMetaData, dimensions): passed through as is. */
export type JsonObject = { [key: string]: unknown };
type SameUnion<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The literal members of a string union, without an open `string` or `string & {}` member. */
type KnownValues<T> = T extends string ? (string extends T ? never : T) : never;
type Expect<T extends true> = T;

// ---------------------------------------------------------------- enums

// AccessDeniedReason is core's own type (one symbol for the root entry point); this fails to compile when its
// known values drift from the schema (an open `string & {}` end for values Stigg adds later is allowed).
export type { AccessDeniedReason };
export type AccessDeniedReasonMatchesSchema = Expect<SameUnion<
  KnownValues<AccessDeniedReason>,
  | 'BudgetExceeded'
  | 'CustomerIsArchived'
  | 'CustomerNotFound'
  | 'CustomerResourceNotFound'
  | 'FeatureNotFound'
  | 'FeatureTypeMismatch'
  | 'InsufficientCredits'
  | 'NoActiveSubscription'
  | 'NoFeatureEntitlementInSubscription'
  | 'RequestedUsageExceedingLimit'
  | 'RequestedValuesMismatch'
  | 'Revoked'
  | 'Unknown'
>>;

export type BillingModel =
  | 'CREDIT_BASED'
  | 'FLAT_FEE'
  | 'MINIMUM_SPEND'
  | 'PER_UNIT'
  | 'USAGE_BASED';

export type BillingPeriod =
  | 'ANNUALLY'
  | 'MONTHLY';

export type CouponSource =
  | 'STIGG'
  | 'STIGG_ADHOC'
  | 'STRIPE';

export type CouponStatus =
  | 'ACTIVE'
  | 'ARCHIVED';

export type CouponType =
  | 'FIXED'
  | 'PERCENTAGE';

export type CreditGrantType =
  | 'PAID'
  | 'PROMOTIONAL';

export type CreditLedgerEventType =
  | 'CREDITS_CONSUMED'
  | 'CREDITS_EXPIRED'
  | 'CREDITS_GRANTED'
  | 'CREDITS_VOIDED';

export type Currency =
  | 'AED'
  | 'ALL'
  | 'AMD'
  | 'ANG'
  | 'AUD'
  | 'AWG'
  | 'AZN'
  | 'BAM'
  | 'BBD'
  | 'BDT'
  | 'BGN'
  | 'BIF'
  | 'BMD'
  | 'BND'
  | 'BRL'
  | 'BSD'
  | 'BWP'
  | 'BYN'
  | 'BZD'
  | 'CAD'
  | 'CDF'
  | 'CHF'
  | 'CLP'
  | 'CNY'
  | 'CZK'
  | 'DJF'
  | 'DKK'
  | 'DOP'
  | 'DZD'
  | 'EGP'
  | 'ETB'
  | 'EUR'
  | 'FJD'
  | 'GBP'
  | 'GEL'
  | 'GIP'
  | 'GMD'
  | 'GNF'
  | 'GYD'
  | 'HKD'
  | 'HRK'
  | 'HTG'
  | 'IDR'
  | 'ILS'
  | 'INR'
  | 'ISK'
  | 'JMD'
  | 'JPY'
  | 'KES'
  | 'KGS'
  | 'KHR'
  | 'KMF'
  | 'KRW'
  | 'KYD'
  | 'KZT'
  | 'LBP'
  | 'LKR'
  | 'LRD'
  | 'LSL'
  | 'MAD'
  | 'MDL'
  | 'MGA'
  | 'MKD'
  | 'MMK'
  | 'MNT'
  | 'MOP'
  | 'MRO'
  | 'MVR'
  | 'MWK'
  | 'MXN'
  | 'MYR'
  | 'MZN'
  | 'NAD'
  | 'NGN'
  | 'NOK'
  | 'NPR'
  | 'NZD'
  | 'PGK'
  | 'PHP'
  | 'PKR'
  | 'PLN'
  | 'PYG'
  | 'QAR'
  | 'RON'
  | 'RSD'
  | 'RUB'
  | 'RWF'
  | 'SAR'
  | 'SBD'
  | 'SCR'
  | 'SEK'
  | 'SGD'
  | 'SLE'
  | 'SLL'
  | 'SOS'
  | 'SZL'
  | 'THB'
  | 'TJS'
  | 'TOP'
  | 'TRY'
  | 'TTD'
  | 'TZS'
  | 'UAH'
  | 'UGX'
  | 'USD'
  | 'UZS'
  | 'VND'
  | 'VUV'
  | 'WST'
  | 'XAF'
  | 'XCD'
  | 'XOF'
  | 'XPF'
  | 'YER'
  | 'ZAR'
  | 'ZMW';

export type EntitlementResetPeriod =
  | 'DAY'
  | 'HOUR'
  | 'MONTH'
  | 'WEEK'
  | 'YEAR';

export type EntitlementsStateAccessDeniedReason =
  | 'CustomerNotFound'
  | 'NoActiveSubscription';

export type FeatureType =
  | 'BOOLEAN'
  | 'ENUM'
  | 'NUMBER';

export type MeterType =
  | 'Fluctuating'
  | 'Incremental'
  | 'None';

export type MonthlyAccordingTo =
  | 'StartOfTheMonth'
  | 'SubscriptionStart';

export type PaymentCollection =
  | 'ACTION_REQUIRED'
  | 'FAILED'
  | 'NOT_REQUIRED'
  | 'PROCESSING';

export type PaymentCollectionMethod =
  | 'CHARGE'
  | 'INVOICE'
  | 'NONE';

export type PricingType =
  | 'CUSTOM'
  | 'FREE'
  | 'PAID';

export type PromotionalEntitlementPeriod =
  | 'CUSTOM'
  | 'LIFETIME'
  | 'ONE_MONTH'
  | 'ONE_WEEK'
  | 'ONE_YEAR'
  | 'SIX_MONTH';

export type PromotionalEntitlementStatus =
  | 'Active'
  | 'Expired'
  | 'Paused';

export type ProvisionSubscriptionStatus =
  | 'PAYMENT_REQUIRED'
  | 'SUCCESS';

export type ScheduleStrategy =
  | 'END_OF_BILLING_MONTH'
  | 'END_OF_BILLING_PERIOD'
  | 'IMMEDIATE';

export type SubscriptionCancellationAction =
  | 'DEFAULT'
  | 'REVOKE_ENTITLEMENTS';

export type SubscriptionCancellationTime =
  | 'END_OF_BILLING_PERIOD'
  | 'IMMEDIATE'
  | 'SPECIFIC_DATE';

export type SubscriptionDecisionStrategy =
  | 'PREDEFINED_FREE_PLAN'
  | 'PREDEFINED_TRIAL_PLAN'
  | 'REQUESTED_PLAN'
  | 'SKIPPED_SUBSCRIPTION_CREATION';

export type SubscriptionInvoiceStatus =
  | 'CANCELED'
  | 'OPEN'
  | 'PAID';

export type SubscriptionMigrationTime =
  | 'END_OF_BILLING_PERIOD'
  | 'IMMEDIATE';

export type SubscriptionProrationBehavior =
  | 'CREATE_PRORATIONS'
  | 'INVOICE_IMMEDIATELY'
  | 'NONE';

export type SubscriptionStatus =
  | 'ACTIVE'
  | 'CANCELED'
  | 'EXPIRED'
  | 'IN_TRIAL'
  | 'NOT_STARTED'
  | 'PAYMENT_PENDING';

export type TrialEndBehavior =
  | 'CANCEL_SUBSCRIPTION'
  | 'CONVERT_TO_PAID';

export type UsageUpdateBehavior =
  | 'DELTA'
  | 'SET';

export type WeeklyAccordingTo =
  | 'EveryFriday'
  | 'EveryMonday'
  | 'EverySaturday'
  | 'EverySunday'
  | 'EveryThursday'
  | 'EveryTuesday'
  | 'EveryWednesday'
  | 'SubscriptionStart';

export type YearlyAccordingTo =
  | 'SubscriptionStart';

// ---------------------------------------------------------------- inputs

export interface Address {
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  country?: string | null;
  phoneNumber?: string | null;
  postalCode?: string | null;
  state?: string | null;
}

export interface ArchiveCustomerInput {
  customerId: string;
  environmentId?: string | null;
}

export interface BillableFeatureInput {
  featureId: string;
  quantity: number;
}

export interface BillingAddress {
  city?: string | null;
  country?: string | null;
  line1?: string | null;
  line2?: string | null;
  postalCode?: string | null;
  state?: string | null;
}

export interface BudgetConfigurationInput {
  hasSoftLimit: boolean;
  limit: number;
}

export interface CheckoutOptions {
  allowPromoCodes?: boolean | null;
  allowTaxIdCollection?: boolean | null;
  cancelUrl: string;
  collectBillingAddress?: boolean | null;
  collectPhoneNumber?: boolean | null;
  referenceId?: string | null;
  successUrl: string;
}

export interface ConsumeCreditInput {
  amount: number;
  createdAt?: DateTimeInput | null;
  currencyId: string;
  customerId: string;
  dimensions?: JsonObject | null;
  environmentId?: string | null;
  idempotencyKey: string;
  resourceId?: string | null;
}

export interface ConsumeCreditsAsyncInput {
  consumptions: ReadonlyArray<ConsumeCreditInput>;
  environmentId?: string | null;
}

export interface CouponFilter {
  and?: ReadonlyArray<CouponFilter> | null;
  billingId?: StringFieldComparison | null;
  createdAt?: DateFieldComparison | null;
  customers?: CouponFilterCustomerFilter | null;
  description?: StringFieldComparison | null;
  environmentId?: UuidFilterComparison | null;
  id?: UuidFilterComparison | null;
  name?: StringFieldComparison | null;
  or?: ReadonlyArray<CouponFilter> | null;
  refId?: StringFieldComparison | null;
  source?: CouponSourceFilterComparison | null;
  status?: CouponStatusFilterComparison | null;
  type?: CouponTypeFilterComparison | null;
  updatedAt?: DateFieldComparison | null;
}

export interface CouponFilterCustomerFilter {
  and?: ReadonlyArray<CouponFilterCustomerFilter> | null;
  billingId?: StringFieldComparison | null;
  createdAt?: DateFieldComparison | null;
  crmHubspotCompanyId?: StringFieldComparison | null;
  crmHubspotCompanyUrl?: StringFieldComparison | null;
  crmId?: StringFieldComparison | null;
  customerId?: StringFieldComparison | null;
  deletedAt?: DateFieldComparison | null;
  email?: StringFieldComparison | null;
  environmentId?: UuidFilterComparison | null;
  id?: UuidFilterComparison | null;
  name?: StringFieldComparison | null;
  or?: ReadonlyArray<CouponFilterCustomerFilter> | null;
  refId?: StringFieldComparison | null;
  salesforceId?: StringFieldComparison | null;
  searchQuery?: CustomerSearchQueryFilterComparison | null;
  updatedAt?: DateFieldComparison | null;
}

export interface CouponSourceFilterComparison {
  eq?: CouponSource | null;
  in?: ReadonlyArray<CouponSource> | null;
}

export interface CouponStatusFilterComparison {
  eq?: CouponStatus | null;
  gt?: CouponStatus | null;
  gte?: CouponStatus | null;
  iLike?: CouponStatus | null;
  in?: ReadonlyArray<CouponStatus> | null;
  is?: boolean | null;
  isNot?: boolean | null;
  like?: CouponStatus | null;
  lt?: CouponStatus | null;
  lte?: CouponStatus | null;
  neq?: CouponStatus | null;
  notILike?: CouponStatus | null;
  notIn?: ReadonlyArray<CouponStatus> | null;
  notLike?: CouponStatus | null;
}

export interface CouponTypeFilterComparison {
  eq?: CouponType | null;
  gt?: CouponType | null;
  gte?: CouponType | null;
  iLike?: CouponType | null;
  in?: ReadonlyArray<CouponType> | null;
  is?: boolean | null;
  isNot?: boolean | null;
  like?: CouponType | null;
  lt?: CouponType | null;
  lte?: CouponType | null;
  neq?: CouponType | null;
  notILike?: CouponType | null;
  notIn?: ReadonlyArray<CouponType> | null;
  notLike?: CouponType | null;
}

export interface CreditBalanceSummaryInput {
  currencyId?: string | null;
  customerId: string;
  environmentId?: string | null;
  resourceId?: string | null;
}

export interface CreditGrantInput {
  additionalMetaData?: JsonObject | null;
  amount: number;
  awaitPaymentConfirmation?: boolean | null;
  comment?: string | null;
  cost?: MoneyInputDto | null;
  currencyId: string;
  customerId: string;
  displayName: string;
  effectiveAt?: DateTimeInput | null;
  environmentId?: string | null;
  expireAt?: DateTimeInput | null;
  grantType: CreditGrantType;
  paymentCollectionMethod?: PaymentCollectionMethod | null;
  priority?: number | null;
  resourceId?: string | null;
}

export interface CreditLedgerInput {
  customerId: string;
  environmentId?: string | null;
  resourceId?: string | null;
}

export interface CreditRateInput {
  amount: number;
  currencyId: string;
  customCurrencyId?: string | null;
}

export interface CursorPaging {
  after?: string | null;
  before?: string | null;
  first?: number | null;
  last?: number | null;
}

export interface CustomerBillingInfo {
  billingAddress?: Address | null;
  currency?: Currency | null;
  customerName?: string | null;
  integrationId?: string | null;
  invoiceCustomFields?: JsonObject | null;
  language?: string | null;
  metadata?: JsonObject | null;
  paymentMethodId?: string | null;
  shippingAddress?: Address | null;
  taxIds?: ReadonlyArray<TaxExempt> | null;
  timezone?: string | null;
}

export interface CustomerSearchQueryFilterComparison {
  iLike?: string | null;
}

export interface DateFieldComparison {
  between?: DateFieldComparisonBetween | null;
  eq?: DateTimeInput | null;
  gt?: DateTimeInput | null;
  gte?: DateTimeInput | null;
  in?: ReadonlyArray<DateTimeInput> | null;
  is?: boolean | null;
  isNot?: boolean | null;
  lt?: DateTimeInput | null;
  lte?: DateTimeInput | null;
  neq?: DateTimeInput | null;
  notBetween?: DateFieldComparisonBetween | null;
  notIn?: ReadonlyArray<DateTimeInput> | null;
}

export interface DateFieldComparisonBetween {
  lower: DateTimeInput;
  upper: DateTimeInput;
}

export interface EntitlementCheckRequested {
  customerId: string;
  entitlementCheckResult: EntitlementCheckResult;
  environmentId?: string | null;
  featureId: string;
  requestedUsage?: number | null;
  requestedValues?: ReadonlyArray<string> | null;
  resourceId?: string | null;
}

export interface EntitlementCheckResult {
  accessDeniedReason?: AccessDeniedReason | null;
  currentUsage?: number | null;
  enumValues?: ReadonlyArray<string> | null;
  hasAccess: boolean;
  hasSoftLimit?: boolean | null;
  hasUnlimitedUsage?: boolean | null;
  monthlyResetPeriodConfiguration?: MonthlyResetPeriodConfigInput | null;
  nextResetDate?: DateTimeInput | null;
  requestedUsage?: number | null;
  requestedValues?: ReadonlyArray<string> | null;
  resetPeriod?: EntitlementResetPeriod | null;
  usageLimit?: number | null;
  weeklyResetPeriodConfiguration?: WeeklyResetPeriodConfigInput | null;
  yearlyResetPeriodConfiguration?: YearlyResetPeriodConfigInput | null;
}

export interface EntitlementOptions {
  requestedUsage?: number | null;
  requestedValues?: ReadonlyArray<string> | null;
  shouldTrack?: boolean | null;
}

export interface EstimateSubscriptionInput {
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  appliedCoupon?: SubscriptionCouponInput | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  billingCountryCode?: string | null;
  billingInformation?: SubscriptionBillingInfo | null;
  billingPeriod?: BillingPeriod | null;
  customerId: string;
  environmentId?: string | null;
  payingCustomerId?: string | null;
  planId: string;
  priceUnitAmount?: number | null;
  promotionCode?: string | null;
  resourceId?: string | null;
  skipTrial?: boolean | null;
  startDate?: DateTimeInput | null;
  trialOverrideConfiguration?: TrialOverrideConfigurationInput | null;
  unitQuantity?: number | null;
}

export interface EstimateSubscriptionUpdateInput {
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  appliedCoupon?: SubscriptionCouponInput | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  environmentId?: string | null;
  promotionCode?: string | null;
  subscriptionId: string;
  unitQuantity?: number | null;
}

export interface FetchEntitlementQuery {
  customerId: string;
  environmentId?: string | null;
  featureId: string;
  options?: EntitlementOptions | null;
  resourceId?: string | null;
}

export interface FetchEntitlementsQuery {
  customerId: string;
  environmentId?: string | null;
  resourceId?: string | null;
}

export interface GetActiveSubscriptionsInput {
  customerId: string;
  environmentId?: string | null;
  resourceId?: string | null;
  resourceIds?: ReadonlyArray<string> | null;
}

export interface GetCreditGrantsInput {
  currencyId?: string | null;
  customerId: string;
  environmentId?: string | null;
  paging?: CursorPaging | null;
  resourceId?: string | null;
}

export interface GetCustomerByRefIdInput {
  customerId: string;
  environmentId?: string | null;
}

export interface GetSubscriptionInput {
  environmentId?: string | null;
  subscriptionId: string;
}

export interface GrantPromotionalEntitlementInput {
  customEndDate?: DateTimeInput | null;
  enumValues?: ReadonlyArray<string> | null;
  featureId: string;
  hasSoftLimit?: boolean | null;
  hasUnlimitedUsage?: boolean | null;
  isVisible?: boolean | null;
  monthlyResetPeriodConfiguration?: MonthlyResetPeriodConfigInput | null;
  period: PromotionalEntitlementPeriod;
  resetPeriod?: EntitlementResetPeriod | null;
  usageLimit?: number | null;
  weeklyResetPeriodConfiguration?: WeeklyResetPeriodConfigInput | null;
  yearlyResetPeriodConfiguration?: YearlyResetPeriodConfigInput | null;
}

export interface GrantPromotionalEntitlementsInput {
  customerId: string;
  environmentId?: string | null;
  promotionalEntitlements: ReadonlyArray<GrantPromotionalEntitlementInput>;
}

export interface MoneyInputDto {
  amount: number;
  currency?: Currency | null;
}

export interface MonthlyResetPeriodConfigInput {
  accordingTo: MonthlyAccordingTo;
}

export interface PriceOverrideInput {
  addonId?: string | null;
  baseCharge?: boolean | null;
  blockSize?: number | null;
  creditRate?: CreditRateInput | null;
  featureId?: string | null;
  price?: MoneyInputDto | null;
  tiers?: ReadonlyArray<PriceTierInput> | null;
}

export interface PriceTierInput {
  flatPrice?: MoneyInputDto | null;
  unitPrice?: MoneyInputDto | null;
  upTo?: number | null;
}

export interface ProvisionCustomerInput {
  additionalMetaData?: JsonObject | null;
  awsMarketplaceCustomerId?: string | null;
  billingId?: string | null;
  billingInformation?: CustomerBillingInfo | null;
  couponRefId?: string | null;
  createdAt?: DateTimeInput | null;
  crmId?: string | null;
  customerId?: string | null;
  email?: string | null;
  environmentId?: string | null;
  excludeFromExperiment?: boolean | null;
  name?: string | null;
  refId?: string | null;
  salesforceId?: string | null;
  shouldSyncFree?: boolean | null;
  subscriptionParams?: ProvisionCustomerSubscriptionInput | null;
}

export interface ProvisionCustomerSubscriptionInput {
  additionalMetaData?: JsonObject | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  appliedCoupon?: SubscriptionCouponInput | null;
  awaitPaymentConfirmation?: boolean | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  billingCountryCode?: string | null;
  billingId?: string | null;
  billingInformation?: SubscriptionBillingInfo | null;
  billingPeriod?: BillingPeriod | null;
  budget?: BudgetConfigurationInput | null;
  minimumSpend?: SubscriptionMinimumSpendValueInput | null;
  paymentCollectionMethod?: PaymentCollectionMethod | null;
  planId: string;
  priceOverrides?: ReadonlyArray<PriceOverrideInput> | null;
  priceUnitAmount?: number | null;
  promotionCode?: string | null;
  refId?: string | null;
  resourceId?: string | null;
  salesforceId?: string | null;
  startDate?: DateTimeInput | null;
  subscriptionEntitlements?: ReadonlyArray<SubscriptionEntitlementInput> | null;
  subscriptionId?: string | null;
  trialOverrideConfiguration?: TrialOverrideConfigurationInput | null;
  unitQuantity?: number | null;
}

export interface ProvisionSubscriptionInput {
  additionalMetaData?: JsonObject | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  appliedCoupon?: SubscriptionCouponInput | null;
  awaitPaymentConfirmation?: boolean | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  billingCountryCode?: string | null;
  billingId?: string | null;
  billingInformation?: SubscriptionBillingInfo | null;
  billingPeriod?: BillingPeriod | null;
  budget?: BudgetConfigurationInput | null;
  checkoutOptions?: CheckoutOptions | null;
  customerId: string;
  minimumSpend?: SubscriptionMinimumSpendValueInput | null;
  payingCustomerId?: string | null;
  paymentCollectionMethod?: PaymentCollectionMethod | null;
  planId: string;
  priceOverrides?: ReadonlyArray<PriceOverrideInput> | null;
  priceUnitAmount?: number | null;
  promotionCode?: string | null;
  refId?: string | null;
  resourceId?: string | null;
  salesforceId?: string | null;
  scheduleStrategy?: ScheduleStrategy | null;
  skipTrial?: boolean | null;
  startDate?: DateTimeInput | null;
  subscriptionEntitlements?: ReadonlyArray<SubscriptionEntitlementInput> | null;
  subscriptionId?: string | null;
  trialOverrideConfiguration?: TrialOverrideConfigurationInput | null;
  unitQuantity?: number | null;
}

export interface ReportUsageBaseInput {
  idempotencyKey?: string | null;
  createdAt?: DateTimeInput | null;
  customerId: string;
  dimensions?: JsonObject | null;
  featureId: string;
  resourceId?: string | null;
  updateBehavior?: UsageUpdateBehavior | null;
  value: number;
}

export interface ReportUsageBulkInput {
  environmentId?: string | null;
  usages: ReadonlyArray<ReportUsageBaseInput>;
}

export interface ReportUsageInput {
  idempotencyKey?: string | null;
  createdAt?: DateTimeInput | null;
  customerId: string;
  dimensions?: JsonObject | null;
  environmentId?: string | null;
  featureId: string;
  resourceId?: string | null;
  updateBehavior?: UsageUpdateBehavior | null;
  value: number;
}

export interface RevokePromotionalEntitlementInput {
  customerId: string;
  environmentId?: string | null;
  featureId: string;
}

export interface StringFieldComparison {
  eq?: string | null;
  gt?: string | null;
  gte?: string | null;
  iLike?: string | null;
  in?: ReadonlyArray<string> | null;
  is?: boolean | null;
  isNot?: boolean | null;
  like?: string | null;
  lt?: string | null;
  lte?: string | null;
  neq?: string | null;
  notILike?: string | null;
  notIn?: ReadonlyArray<string> | null;
  notLike?: string | null;
}

export interface SubscriptionAddonInput {
  addonId: string;
  quantity?: number | null;
}

export interface SubscriptionBillingInfo {
  billingAddress?: BillingAddress | null;
  chargeOnBehalfOfAccount?: string | null;
  couponId?: string | null;
  integrationId?: string | null;
  invoiceDaysUntilDue?: number | null;
  isBackdated?: boolean | null;
  isInvoicePaid?: boolean | null;
  metadata?: JsonObject | null;
  prorationBehavior?: SubscriptionProrationBehavior | null;
  taxPercentage?: number | null;
  taxRateIds?: ReadonlyArray<string> | null;
}

export interface SubscriptionCancellationInput {
  awaitSubscriptionCancellation?: boolean | null;
  endDate?: DateTimeInput | null;
  environmentId?: string | null;
  prorate?: boolean | null;
  subscriptionCancellationAction?: SubscriptionCancellationAction | null;
  subscriptionCancellationTime?: SubscriptionCancellationTime | null;
  subscriptionRefId: string;
}

export interface SubscriptionCouponConfigurationInput {
  startDate?: DateTimeInput | null;
}

export interface SubscriptionCouponDiscountInput {
  amountsOff?: ReadonlyArray<MoneyInputDto> | null;
  description?: string | null;
  durationInMonths?: number | null;
  name?: string | null;
  percentOff?: number | null;
}

export interface SubscriptionCouponInput {
  billingCouponId?: string | null;
  configuration?: SubscriptionCouponConfigurationInput | null;
  couponId?: string | null;
  discount?: SubscriptionCouponDiscountInput | null;
  promotionCode?: string | null;
}

export interface SubscriptionEntitlementInput {
  description?: string | null;
  featureId: string;
  hasSoftLimit?: boolean | null;
  hasUnlimitedUsage?: boolean | null;
  monthlyResetPeriodConfiguration?: MonthlyResetPeriodConfigInput | null;
  resetPeriod?: EntitlementResetPeriod | null;
  usageLimit?: number | null;
  weeklyResetPeriodConfiguration?: WeeklyResetPeriodConfigInput | null;
  yearlyResetPeriodConfiguration?: YearlyResetPeriodConfigInput | null;
}

export interface SubscriptionMigrationInput {
  environmentId?: string | null;
  subscriptionId: string;
  subscriptionMigrationTime?: SubscriptionMigrationTime | null;
}

export interface SubscriptionMinimumSpendValueInput {
  minimum?: MoneyInputDto | null;
}

export interface TaxExempt {
  type: string;
  value: string;
}

export interface TrialOverrideConfigurationInput {
  isTrial: boolean;
  trialEndBehavior?: TrialEndBehavior | null;
  trialEndDate?: DateTimeInput | null;
}

export interface UnarchiveCustomerInput {
  customerId: string;
  environmentId?: string | null;
}

export interface UpdateCustomerInput {
  additionalMetaData?: JsonObject | null;
  awsMarketplaceCustomerId?: string | null;
  billingId?: string | null;
  billingInformation?: CustomerBillingInfo | null;
  couponRefId?: string | null;
  crmId?: string | null;
  customerId?: string | null;
  email?: string | null;
  environmentId?: string | null;
  name?: string | null;
  refId?: string | null;
  salesforceId?: string | null;
  shouldWaitSync?: boolean | null;
}

export interface UpdateSubscriptionEntitlementInput {
  featureId?: string | null;
  hasSoftLimit?: boolean | null;
  hasUnlimitedUsage?: boolean | null;
  id?: string | null;
  monthlyResetPeriodConfiguration?: MonthlyResetPeriodConfigInput | null;
  resetPeriod?: EntitlementResetPeriod | null;
  usageLimit?: number | null;
  weeklyResetPeriodConfiguration?: WeeklyResetPeriodConfigInput | null;
  yearlyResetPeriodConfiguration?: YearlyResetPeriodConfigInput | null;
}

export interface UpdateSubscriptionInput {
  additionalMetaData?: JsonObject | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  appliedCoupon?: SubscriptionCouponInput | null;
  awaitPaymentConfirmation?: boolean | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  billingInformation?: SubscriptionBillingInfo | null;
  billingPeriod?: BillingPeriod | null;
  budget?: BudgetConfigurationInput | null;
  environmentId?: string | null;
  minimumSpend?: SubscriptionMinimumSpendValueInput | null;
  priceOverrides?: ReadonlyArray<PriceOverrideInput> | null;
  promotionCode?: string | null;
  refId?: string | null;
  scheduleStrategy?: ScheduleStrategy | null;
  subscriptionEntitlements?: ReadonlyArray<UpdateSubscriptionEntitlementInput> | null;
  subscriptionId?: string | null;
  trialEndDate?: DateTimeInput | null;
  unitQuantity?: number | null;
}

export interface UsageEventReportInput {
  customerId: string;
  dimensions?: JsonObject | null;
  eventName: string;
  idempotencyKey: string;
  resourceId?: string | null;
  timestamp?: DateTimeInput | null;
}

export interface UsageEventsReportInput {
  environmentId?: string | null;
  usageEvents: ReadonlyArray<UsageEventReportInput>;
}

export interface UuidFilterComparison {
  eq?: string | null;
  gt?: string | null;
  gte?: string | null;
  iLike?: string | null;
  in?: ReadonlyArray<string> | null;
  is?: boolean | null;
  isNot?: boolean | null;
  like?: string | null;
  lt?: string | null;
  lte?: string | null;
  neq?: string | null;
  notILike?: string | null;
  notIn?: ReadonlyArray<string> | null;
  notLike?: string | null;
}

export interface VoidCreditGrantInput {
  environmentId?: string | null;
  id: string;
}

export interface WeeklyResetPeriodConfigInput {
  accordingTo: WeeklyAccordingTo;
}

export interface YearlyResetPeriodConfigInput {
  accordingTo: YearlyAccordingTo;
}

// ---------------------------------------------------------------- results (fragments.graphql)

/** Selected by MoneyFragment (on Money). */
export interface Money {
  amount: number;
  currency: Currency;
}

/** Selected by FeatureFragment (on Feature). */
export interface Feature {
  refId: string;
  displayName: string;
  description: string | null;
  featureType: FeatureType;
  meterType: MeterType | null;
  featureUnits: string | null;
  featureUnitsPlural: string | null;
  additionalMetaData: JsonObject | null;
}

/** Selected by EntitlementFeatureFragment (on EntitlementFeature). */
export interface EntitlementFeature {
  refId: string;
  displayName: string;
  description: string | null;
  featureType: FeatureType;
  meterType: MeterType | null;
  featureUnits: string | null;
  featureUnitsPlural: string | null;
  additionalMetaData: JsonObject | null;
}

/** Selected by CouponFragment (on Coupon). */
export interface Coupon {
  id: string;
  refId: string;
  name: string;
  description: string | null;
  type: CouponType;
  discountValue: number;
  percentOff: number | null;
  amountsOff: Money[] | null;
  additionalMetaData: JsonObject | null;
  createdAt: DateTime;
  updatedAt: DateTime;
  billingId: string | null;
  billingLinkUrl: string | null;
  status: CouponStatus;
}

/** Selected by PromotionalEntitlementFragment (on PromotionalEntitlement). */
export interface PromotionalEntitlement {
  id: string;
  status: PromotionalEntitlementStatus;
  featureId: string;
  usageLimit: number | null;
  hasUnlimitedUsage: boolean | null;
  hasSoftLimit: boolean | null;
  resetPeriod: EntitlementResetPeriod | null;
  endDate: DateTime | null;
  isVisible: boolean;
  feature: Feature;
}

/** Selected by CustomerFragment (on Customer). */
export interface Customer {
  id: string;
  customerId: string;
  refId: string;
  name: string | null;
  email: string | null;
  createdAt: DateTime | null;
  updatedAt: DateTime;
  billingId: string | null;
  hasPaymentMethod: boolean;
  hasActiveSubscription: boolean;
  additionalMetaData: JsonObject | null;
  coupon: Coupon | null;
  promotionalEntitlements: PromotionalEntitlement[];
}

/** Selected by PlanFragment (on Plan). */
export interface Plan {
  id: string;
  refId: string;
  displayName: string;
  description: string | null;
  pricingType: PricingType | null;
  additionalMetaData: JsonObject | null;
}

/** Selected by AddonFragment (on Addon). */
export interface Addon {
  id: string;
  refId: string;
  displayName: string;
  description: string | null;
  additionalMetaData: JsonObject | null;
}

/** Selected by PriceFragment (on Price). */
export interface Price {
  billingModel: BillingModel;
  billingPeriod: BillingPeriod;
  price: Money | null;
  feature: Feature | null;
}

/** Selected by SubscriptionInvoiceFragment (on SubscriptionInvoice). */
export interface SubscriptionInvoice {
  billingId: string;
  status: SubscriptionInvoiceStatus;
  createdAt: DateTime;
  updatedAt: DateTime;
  requiresAction: boolean;
  paymentUrl: string | null;
  paymentSecret: string | null;
  errorMessage: string | null;
}

/** Selected by CustomerSubscriptionFragment (on CustomerSubscription). */
export interface CustomerSubscription {
  id: string;
  refId: string;
  subscriptionId: string;
  status: SubscriptionStatus;
  pricingType: PricingType;
  startDate: DateTime;
  endDate: DateTime | null;
  trialEndDate: DateTime | null;
  cancellationDate: DateTime | null;
  effectiveEndDate: DateTime | null;
  currentBillingPeriodEnd: DateTime | null;
  billingId: string | null;
  billingLinkUrl: string | null;
  additionalMetaData: JsonObject | null;
  prices: {
    usageLimit: number | null;
    price: Price | null;
  }[] | null;
  totalPrice: {
    subTotal: Money;
    total: Money;
  } | null;
  plan: Plan;
  addons: {
    id: string;
    quantity: number;
    addon: Addon;
  }[] | null;
  customer: {
    id: string;
    customerId: string;
    refId: string;
  };
  resource: {
    resourceId: string;
  } | null;
  paymentCollection: PaymentCollection;
  latestInvoice: SubscriptionInvoice | null;
}

/** Selected by ProvisionedCustomerFragment (on ProvisionedCustomer). */
export interface ProvisionedCustomer {
  customer: Customer;
  subscriptionDecisionStrategy: SubscriptionDecisionStrategy;
  subscription: CustomerSubscription | null;
  entitlements: Entitlement[] | null;
}

/** Selected by ProvisionSubscriptionResultFragment (on ProvisionSubscriptionResult). */
export interface ProvisionSubscriptionResult {
  status: ProvisionSubscriptionStatus;
  checkoutUrl: string | null;
  checkoutBillingId: string | null;
  subscription: CustomerSubscription | null;
  entitlements: Entitlement[] | null;
}

/** Selected by SubscriptionPreviewFragment (on SubscriptionPreview). */
export interface SubscriptionPreview {
  subTotal: Money;
  totalExcludingTax: Money;
  total: Money;
  discountAmount: Money | null;
  tax: Money | null;
  taxDetails: {
    displayName: string;
    percentage: number;
    inclusive: boolean;
  } | null;
  billingPeriodRange: {
    start: DateTime | null;
    end: DateTime | null;
  };
  isPlanDowngrade: boolean | null;
  hasScheduledUpdates: boolean | null;
  proration: {
    prorationDate: DateTime;
    credit: Money;
    debit: Money;
    netAmount: Money;
  } | null;
}

/** Selected by EntitlementFragment (on Entitlement). */
export interface Entitlement {
  isGranted: boolean;
  accessDeniedReason: AccessDeniedReason | null;
  customerId: string | null;
  resourceId: string | null;
  usageLimit: number | null;
  hasUnlimitedUsage: boolean;
  hasSoftLimit: boolean | null;
  enumValues: string[] | null;
  requestedValues: string[] | null;
  currentUsage: number | null;
  requestedUsage: number | null;
  usagePeriodAnchor: DateTime | null;
  usagePeriodStart: DateTime | null;
  usagePeriodEnd: DateTime | null;
  nextResetDate: DateTime | null;
  resetPeriod: EntitlementResetPeriod | null;
  feature: EntitlementFeature | null;
}

/** Selected by UsageMeasurementWithCurrentUsageFragment (on UsageMeasurementWithCurrentUsage). */
export interface UsageMeasurementWithCurrentUsage {
  id: string;
  customerId: string;
  resourceId: string | null;
  featureId: string;
  currentUsage: number | null;
  usagePeriodStart: DateTime | null;
  usagePeriodEnd: DateTime | null;
  nextResetDate: DateTime | null;
  timestamp: DateTime;
}

/** Selected by CouponConnectionFragment (on CouponConnection). */
export interface CouponConnection {
  edges: {
    cursor: string;
    node: Coupon;
  }[];
  pageInfo: {
    hasNextPage: boolean | null;
    hasPreviousPage: boolean | null;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

/** Selected by CreditGrantFragment (on CreditGrant). */
export interface CreditGrant {
  grantId: string;
  amount: number;
  comment: string | null;
  currencyId: string;
  customerId: string;
  displayName: string;
  effectiveAt: DateTime;
  expireAt: DateTime | null;
  grantType: CreditGrantType;
  priority: number;
  consumedAmount: number;
  cost: Money;
  createdAt: DateTime;
  updatedAt: DateTime;
  resourceId: string | null;
  additionalMetaData: JsonObject | null;
}

/** Selected by CreditBalanceFragment (on CreditBalance). */
export interface CreditBalance {
  customerId: string;
  currency: {
    currencyId: string;
    displayName: string;
    symbol: string | null;
    units: {
      singular: string;
      plural: string;
    } | null;
  };
  currentBalance: number;
  totalConsumed: number;
  totalGranted: number;
  resourceId: string | null;
  validUntil: number | null;
}

/** Selected by CreditBalanceSummaryFragment (on CreditBalanceSummary). */
export interface CreditBalanceSummary {
  customerId: string;
  balances: CreditBalance[];
}

/** Selected by CreditLedgerEventFragment (on CreditLedgerEvent). */
export interface CreditLedgerEvent {
  timestamp: string;
  eventType: CreditLedgerEventType;
  customerId: string;
  resourceId: string | null;
  eventId: string | null;
  featureId: string | null;
  amount: number;
  creditGrantId: string;
  creditCurrencyId: string;
}

/** Selected by CreditConsumptionFragment (on CreditConsumptionResponse). */
export interface CreditConsumption {
  amount: number;
  credit: {
    currencyId: string;
    currentUsage: number;
    timestamp: DateTime;
    usageLimit: number;
    usagePeriodEnd: DateTime | null;
  } | null;
  currencyId: string;
  customerId: string;
  resourceId: string | null;
  timestamp: DateTime;
}

// ---------------------------------------------------------------- operations (operations/*.graphql)

/** Every document in operations/, keyed by file name (= StiggClient method name). */
export interface Operations {
  archiveCustomer: {
    kind: 'mutation';
    rootField: 'archiveCustomer';
    variables: {
      input: ArchiveCustomerInput;
    };
    result: Customer;
  };
  cancelSubscription: {
    kind: 'mutation';
    rootField: 'cancelSubscription';
    variables: {
      input: SubscriptionCancellationInput;
    };
    result: CustomerSubscription;
  };
  consumeCredits: {
    kind: 'mutation';
    rootField: 'consumeCredits';
    variables: {
      input: ConsumeCreditInput;
    };
    result: CreditConsumption;
  };
  consumeCreditsAsync: {
    kind: 'mutation';
    rootField: 'consumeCreditsAsync';
    variables: {
      input: ConsumeCreditsAsyncInput;
    };
    result: string | null;
  };
  estimateSubscription: {
    kind: 'mutation';
    rootField: 'estimateSubscription';
    variables: {
      input: EstimateSubscriptionInput;
    };
    result: SubscriptionPreview;
  };
  estimateSubscriptionUpdate: {
    kind: 'mutation';
    rootField: 'estimateSubscriptionUpdate';
    variables: {
      input: EstimateSubscriptionUpdateInput;
    };
    result: SubscriptionPreview;
  };
  getActiveSubscriptions: {
    kind: 'query';
    rootField: 'getActiveSubscriptions';
    variables: {
      input: GetActiveSubscriptionsInput;
    };
    result: CustomerSubscription[];
  };
  getCoupons: {
    kind: 'query';
    rootField: 'coupons';
    variables: {
      filter?: CouponFilter | null;
      paging?: CursorPaging | null;
    };
    result: CouponConnection;
  };
  getCreditBalance: {
    kind: 'query';
    rootField: 'creditBalanceSummary';
    variables: {
      input: CreditBalanceSummaryInput;
    };
    result: CreditBalanceSummary;
  };
  getCreditGrants: {
    kind: 'query';
    rootField: 'creditGrants';
    variables: {
      input: GetCreditGrantsInput;
    };
    result: {
      pageInfo: {
        startCursor: string | null;
        endCursor: string | null;
        hasNextPage: boolean | null;
        hasPreviousPage: boolean | null;
      };
      edges: {
        node: CreditGrant;
      }[];
      totalCount: number;
    };
  };
  getCreditLedger: {
    kind: 'query';
    rootField: 'creditsLedger';
    variables: {
      input: CreditLedgerInput;
    };
    result: {
      events: CreditLedgerEvent[];
    };
  };
  getCustomer: {
    kind: 'query';
    rootField: 'getCustomerByRefId';
    variables: {
      input: GetCustomerByRefIdInput;
    };
    result: Customer | null;
  };
  getEntitlement: {
    kind: 'query';
    rootField: 'entitlement';
    variables: {
      query: FetchEntitlementQuery;
    };
    result: Entitlement;
  };
  getEntitlements: {
    kind: 'query';
    rootField: 'cachedEntitlements';
    variables: {
      query: FetchEntitlementsQuery;
    };
    result: Entitlement[];
  };
  getEntitlementsState: {
    kind: 'query';
    rootField: 'entitlementsState';
    variables: {
      query: FetchEntitlementsQuery;
    };
    result: {
      accessDeniedReason: EntitlementsStateAccessDeniedReason | null;
      entitlements: Entitlement[];
    };
  };
  getSubscription: {
    kind: 'query';
    rootField: 'getSubscription';
    variables: {
      input: GetSubscriptionInput;
    };
    result: CustomerSubscription;
  };
  grantCredits: {
    kind: 'mutation';
    rootField: 'createCreditGrant';
    variables: {
      input: CreditGrantInput;
    };
    result: CreditGrant;
  };
  grantPromotionalEntitlements: {
    kind: 'mutation';
    rootField: 'grantPromotionalEntitlements';
    variables: {
      input: GrantPromotionalEntitlementsInput;
    };
    result: PromotionalEntitlement[];
  };
  migrateSubscriptionToLatest: {
    kind: 'mutation';
    rootField: 'migrateSubscriptionToLatest';
    variables: {
      input: SubscriptionMigrationInput;
    };
    result: CustomerSubscription;
  };
  provisionCustomer: {
    kind: 'mutation';
    rootField: 'provisionCustomer';
    variables: {
      input: ProvisionCustomerInput;
    };
    result: ProvisionedCustomer;
  };
  provisionSubscription: {
    kind: 'mutation';
    rootField: 'provisionSubscriptionV2';
    variables: {
      input: ProvisionSubscriptionInput;
    };
    result: ProvisionSubscriptionResult;
  };
  reportEntitlementCheckRequested: {
    kind: 'mutation';
    rootField: 'reportEntitlementCheckRequested';
    variables: {
      entitlementCheckRequested: EntitlementCheckRequested;
    };
    result: boolean;
  };
  reportEvent: {
    kind: 'mutation';
    rootField: 'reportEvent';
    variables: {
      events: UsageEventsReportInput;
    };
    result: string | null;
  };
  reportUsage: {
    kind: 'mutation';
    rootField: 'reportUsage';
    variables: {
      input: ReportUsageInput;
    };
    result: UsageMeasurementWithCurrentUsage;
  };
  reportUsageBulk: {
    kind: 'mutation';
    rootField: 'reportUsageBulk';
    variables: {
      input: ReportUsageBulkInput;
    };
    result: UsageMeasurementWithCurrentUsage[];
  };
  revokePromotionalEntitlement: {
    kind: 'mutation';
    rootField: 'revokePromotionalEntitlement';
    variables: {
      input: RevokePromotionalEntitlementInput;
    };
    result: PromotionalEntitlement;
  };
  unarchiveCustomer: {
    kind: 'mutation';
    rootField: 'unarchiveCustomer';
    variables: {
      input: UnarchiveCustomerInput;
    };
    result: Customer;
  };
  updateCustomer: {
    kind: 'mutation';
    rootField: 'updateOneCustomer';
    variables: {
      input: UpdateCustomerInput;
    };
    result: Customer;
  };
  updateSubscription: {
    kind: 'mutation';
    rootField: 'updateOneSubscription';
    variables: {
      input: UpdateSubscriptionInput;
    };
    result: CustomerSubscription;
  };
  voidCreditGrant: {
    kind: 'mutation';
    rootField: 'voidCreditGrant';
    variables: {
      input: VoidCreditGrantInput;
    };
    result: CreditGrant;
  };
}
