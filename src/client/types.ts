// Generated from schema.graphql, fragments.graphql and operations/*.graphql by
// test/client/helpers/codegen.ts. Do not edit by hand; after changing a document run:
//   STIGG_WRITE_TYPES=1 npx jest test/client/types.test.ts

import type { AccessDeniedReason } from '../core/types';

/** An ISO-8601 date-time string, as Stigg sends it. */
export type DateTime = string;
/** Inputs also accept a Date (it is sent as its ISO-8601 string). */
export type DateTimeInput = string | Date;
/** The JSON scalar (additionalMetaData, dimensions): passed through as is. */
export type JsonObject = { [key: string]: unknown };
type SameUnion<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;

// ---------------------------------------------------------------- enums

// AccessDeniedReason is core's own type (one symbol for the root entry point); this fails to compile when they drift.
export type { AccessDeniedReason };
export type AccessDeniedReasonMatchesSchema = Expect<SameUnion<
  AccessDeniedReason,
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
  | 'FLAT_FEE'
  | 'PER_UNIT'
  | 'USAGE_BASED';

export type BillingPeriod =
  | 'MONTHLY'
  | 'ANNUALLY';

export type CouponSortFields =
  | 'createdAt'
  | 'name'
  | 'refId';

export type CouponStatus =
  | 'ACTIVE'
  | 'ARCHIVED';

export type CouponType =
  | 'FIXED'
  | 'PERCENTAGE';

export type Currency =
  | 'USD'
  | 'EUR'
  | 'GBP'
  | 'DKK';

export type EntitlementResetPeriod =
  | 'DAY'
  | 'WEEK'
  | 'MONTH'
  | 'YEAR';

export type FeatureType =
  | 'BOOLEAN'
  | 'NUMBER';

export type MeterType =
  | 'None'
  | 'Fluctuating'
  | 'Incremental';

export type PaymentCollection =
  | 'NOT_REQUIRED'
  | 'FAILED'
  | 'ACTION_REQUIRED'
  | 'PROCESSING';

export type PricingType =
  | 'FREE'
  | 'PAID'
  | 'CUSTOM';

export type PromotionalEntitlementPeriod =
  | 'ONE_WEEK'
  | 'ONE_MONTH'
  | 'SIX_MONTH'
  | 'ONE_YEAR'
  | 'LIFETIME'
  | 'CUSTOM';

export type PromotionalEntitlementStatus =
  | 'Active'
  | 'Expired'
  | 'Paused';

export type ProvisionSubscriptionStatus =
  | 'SUCCESS'
  | 'PAYMENT_REQUIRED';

export type SortDirection =
  | 'ASC'
  | 'DESC';

export type SubscriptionCancellationTime =
  | 'IMMEDIATE'
  | 'END_OF_BILLING_PERIOD'
  | 'SPECIFIC_DATE';

export type SubscriptionDecisionStrategy =
  | 'REQUESTED_PLAN'
  | 'PREDEFINED_FREE_PLAN'
  | 'PREDEFINED_TRIAL_PLAN'
  | 'SKIPPED_SUBSCRIPTION_CREATION';

export type SubscriptionInvoiceStatus =
  | 'OPEN'
  | 'CANCELED'
  | 'PAID';

export type SubscriptionMigrationTime =
  | 'IMMEDIATE'
  | 'END_OF_BILLING_PERIOD';

export type SubscriptionStatus =
  | 'ACTIVE'
  | 'CANCELED'
  | 'EXPIRED'
  | 'IN_TRIAL'
  | 'NOT_STARTED'
  | 'PAYMENT_PENDING';

export type UsageUpdateBehavior =
  | 'DELTA'
  | 'SET';

// ---------------------------------------------------------------- inputs

export interface AddressInput {
  country?: string | null;
  city?: string | null;
  state?: string | null;
  addressLine1?: string | null;
  addressLine2?: string | null;
  phoneNumber?: string | null;
  postalCode?: string | null;
}

export interface ArchiveCustomerInput {
  customerId: string;
}

export interface BillableFeatureInput {
  featureId: string;
  quantity: number;
}

export interface CheckoutOptions {
  successUrl: string;
  cancelUrl: string;
  allowPromoCodes?: boolean | null;
  collectBillingAddress?: boolean | null;
  collectPhoneNumber?: boolean | null;
}

export interface CouponFilter {
  and?: ReadonlyArray<CouponFilter> | null;
  or?: ReadonlyArray<CouponFilter> | null;
  id?: StringFieldComparison | null;
  refId?: StringFieldComparison | null;
  name?: StringFieldComparison | null;
  status?: CouponStatusFilterComparison | null;
  type?: CouponTypeFilterComparison | null;
}

export interface CouponSort {
  field: CouponSortFields;
  direction: SortDirection;
}

export interface CouponStatusFilterComparison {
  eq?: CouponStatus | null;
  neq?: CouponStatus | null;
  in?: ReadonlyArray<CouponStatus> | null;
  notIn?: ReadonlyArray<CouponStatus> | null;
}

export interface CouponTypeFilterComparison {
  eq?: CouponType | null;
  neq?: CouponType | null;
  in?: ReadonlyArray<CouponType> | null;
  notIn?: ReadonlyArray<CouponType> | null;
}

export interface CursorPaging {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface CustomerBillingInfo {
  language?: string | null;
  timezone?: string | null;
  currency?: Currency | null;
  billingAddress?: AddressInput | null;
  shippingAddress?: AddressInput | null;
  taxIds?: ReadonlyArray<TaxExemptInput> | null;
  taxRateIds?: ReadonlyArray<string> | null;
}

export interface EntitlementOptions {
  requestedUsage?: number | null;
  shouldTrack?: boolean | null;
}

export interface EstimateSubscriptionInput {
  customerId: string;
  planId: string;
  resourceId?: string | null;
  billingPeriod?: BillingPeriod | null;
  billingCountryCode?: string | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  startDate?: DateTimeInput | null;
  billingInformation?: CustomerBillingInfo | null;
  promotionCode?: string | null;
}

export interface EstimateSubscriptionUpdateInput {
  subscriptionId: string;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
}

export interface FetchEntitlementQuery {
  customerId: string;
  featureId: string;
  resourceId?: string | null;
  options?: EntitlementOptions | null;
}

export interface FetchEntitlementsQuery {
  customerId: string;
  resourceId?: string | null;
}

export interface GetActiveSubscriptionsInput {
  customerId: string;
  resourceId?: string | null;
}

export interface GetCustomerByRefIdInput {
  customerId: string;
}

export interface GetSubscriptionInput {
  subscriptionId: string;
}

export interface GrantPromotionalEntitlementInput {
  featureId: string;
  period: PromotionalEntitlementPeriod;
  customEndDate?: DateTimeInput | null;
  usageLimit?: number | null;
  hasUnlimitedUsage?: boolean | null;
  resetPeriod?: EntitlementResetPeriod | null;
  isVisible?: boolean | null;
}

export interface GrantPromotionalEntitlementsInput {
  customerId: string;
  promotionalEntitlements: ReadonlyArray<GrantPromotionalEntitlementInput>;
}

export interface ProvisionCustomerInput {
  customerId?: string | null;
  refId?: string | null;
  name?: string | null;
  email?: string | null;
  couponRefId?: string | null;
  billingId?: string | null;
  crmId?: string | null;
  billingInformation?: CustomerBillingInfo | null;
  additionalMetaData?: JsonObject | null;
  subscriptionParams?: ProvisionCustomerSubscriptionInput | null;
  excludeFromExperiment?: boolean | null;
}

export interface ProvisionCustomerSubscriptionInput {
  planId: string;
  billingPeriod?: BillingPeriod | null;
  billingCountryCode?: string | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  resourceId?: string | null;
  additionalMetaData?: JsonObject | null;
}

export interface ProvisionSubscriptionInput {
  customerId: string;
  planId: string;
  resourceId?: string | null;
  billingPeriod?: BillingPeriod | null;
  billingCountryCode?: string | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  startDate?: DateTimeInput | null;
  skipTrial?: boolean | null;
  checkoutOptions?: CheckoutOptions | null;
  awaitPaymentConfirmation?: boolean | null;
  promotionCode?: string | null;
  additionalMetaData?: JsonObject | null;
}

export interface ReportUsageBaseInput {
  customerId: string;
  featureId: string;
  value: number;
  resourceId?: string | null;
  updateBehavior?: UsageUpdateBehavior | null;
  dimensions?: JsonObject | null;
  createdAt?: DateTimeInput | null;
  idempotencyKey?: string | null;
}

export interface ReportUsageBulkInput {
  usages: ReadonlyArray<ReportUsageBaseInput>;
}

export interface ReportUsageInput {
  customerId: string;
  featureId: string;
  value: number;
  resourceId?: string | null;
  updateBehavior?: UsageUpdateBehavior | null;
  dimensions?: JsonObject | null;
  createdAt?: DateTimeInput | null;
  idempotencyKey?: string | null;
}

export interface RevokePromotionalEntitlementInput {
  customerId: string;
  featureId: string;
}

export interface StringFieldComparison {
  eq?: string | null;
  neq?: string | null;
  in?: ReadonlyArray<string> | null;
  notIn?: ReadonlyArray<string> | null;
}

export interface SubscriptionAddonInput {
  addonId: string;
  quantity?: number | null;
}

export interface SubscriptionCancellationInput {
  subscriptionRefId: string;
  subscriptionCancellationTime?: SubscriptionCancellationTime | null;
  endDate?: DateTimeInput | null;
}

export interface SubscriptionMigrationInput {
  subscriptionId: string;
  subscriptionMigrationTime?: SubscriptionMigrationTime | null;
}

export interface TaxExemptInput {
  type: string;
  value: string;
}

export interface UnarchiveCustomerInput {
  customerId: string;
}

export interface UpdateCustomerInput {
  customerId?: string | null;
  refId?: string | null;
  name?: string | null;
  email?: string | null;
  couponRefId?: string | null;
  billingId?: string | null;
  crmId?: string | null;
  billingInformation?: CustomerBillingInfo | null;
  additionalMetaData?: JsonObject | null;
}

export interface UpdateSubscriptionInput {
  subscriptionId?: string | null;
  refId?: string | null;
  billingPeriod?: BillingPeriod | null;
  billableFeatures?: ReadonlyArray<BillableFeatureInput> | null;
  addons?: ReadonlyArray<SubscriptionAddonInput> | null;
  additionalMetaData?: JsonObject | null;
}

export interface UsageEventReportInput {
  customerId: string;
  eventName: string;
  idempotencyKey: string;
  resourceId?: string | null;
  dimensions?: JsonObject | null;
  timestamp?: DateTimeInput | null;
}

export interface UsageEventsReportInput {
  usageEvents: ReadonlyArray<UsageEventReportInput>;
}

// ---------------------------------------------------------------- results (fragments.graphql)

/** Selected by MoneyFragment (on Money). */
export interface Money {
  amount: number;
  currency: Currency;
}

/** Selected by FeatureFragment (on Feature). */
export interface Feature {
  id: string;
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
  id: string;
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
  resetPeriod: EntitlementResetPeriod | null;
  period: PromotionalEntitlementPeriod;
  startDate: DateTime;
  endDate: DateTime | null;
  isVisible: boolean;
  feature: EntitlementFeature;
}

/** Selected by CustomerFragment (on Customer). */
export interface Customer {
  id: string;
  customerId: string;
  refId: string;
  name: string | null;
  email: string | null;
  createdAt: DateTime;
  updatedAt: DateTime;
  billingId: string | null;
  crmId: string | null;
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
  price: Money;
  feature: Feature | null;
}

/** Selected by SubscriptionInvoiceFragment (on SubscriptionInvoice). */
export interface SubscriptionInvoice {
  billingId: string;
  status: SubscriptionInvoiceStatus;
  createdAt: DateTime;
  updatedAt: DateTime | null;
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
  currentBillingPeriodStart: DateTime | null;
  currentBillingPeriodEnd: DateTime | null;
  billingPeriod: BillingPeriod | null;
  billingId: string | null;
  billingLinkUrl: string | null;
  additionalMetaData: JsonObject | null;
  prices: {
    usageLimit: number | null;
    price: Price | null;
  }[];
  totalPrice: {
    subTotal: Money;
    total: Money;
  } | null;
  plan: Plan;
  addons: {
    id: string;
    quantity: number;
    addon: Addon;
  }[];
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
}

/** Selected by ProvisionSubscriptionResultFragment (on ProvisionSubscriptionResult). */
export interface ProvisionSubscriptionResult {
  id: string;
  status: ProvisionSubscriptionStatus;
  checkoutUrl: string | null;
  checkoutBillingId: string | null;
  subscription: CustomerSubscription | null;
}

/** Selected by SubscriptionMigrationResultFragment (on SubscriptionMigrationResult). */
export interface SubscriptionMigrationResult {
  subscriptionId: string;
}

/** Selected by SubscriptionPreviewFragment (on SubscriptionPreview). */
export interface SubscriptionPreview {
  subTotal: Money;
  total: Money;
  billingPeriodRange: {
    start: DateTime | null;
    end: DateTime | null;
  };
  proration: {
    prorationDate: DateTime;
    credit: Money | null;
    debit: Money | null;
    netAmount: Money | null;
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
      sorting?: ReadonlyArray<CouponSort> | null;
      paging?: CursorPaging | null;
    };
    result: CouponConnection;
  };
  getCustomer: {
    kind: 'query';
    rootField: 'getCustomerByRefId';
    variables: {
      input: GetCustomerByRefIdInput;
    };
    result: Customer;
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
  getSubscription: {
    kind: 'query';
    rootField: 'getSubscription';
    variables: {
      input: GetSubscriptionInput;
    };
    result: CustomerSubscription;
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
    result: SubscriptionMigrationResult;
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
}
