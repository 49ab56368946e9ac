/** Objects shaped like Stigg's, served by the local GraphQL server (graphql-js picks the selected fields). */

const createdAt = '2024-03-01T10:00:00.000Z';
const updatedAt = '2024-03-02T11:30:00.000Z';

export const entitlementFeature = {
  id: 'f1e1d7f2-1111-4a4b-9c9d-000000000001',
  refId: 'feature-01-templates',
  displayName: 'Templates',
  description: null,
  featureType: 'NUMBER',
  meterType: 'Fluctuating',
  featureUnits: 'template',
  featureUnitsPlural: 'templates',
  additionalMetaData: { color: 'blue' },
};

export const coupon = {
  id: 'd7644ee3-6370-444e-bd0a-f73ed8f9cc76',
  refId: 'coupon-vip',
  name: 'VIP',
  description: null,
  type: 'PERCENTAGE',
  discountValue: 20,
  percentOff: 20,
  amountsOff: null,
  additionalMetaData: null,
  createdAt,
  updatedAt,
  billingId: 'TYvB8jF8',
  billingLinkUrl: null,
  status: 'ACTIVE',
};

export const promotionalEntitlement = {
  id: 'f77c7c8c-098b-42f2-a82b-134f69241e2d',
  status: 'Active',
  featureId: 'feature-04-analytics',
  usageLimit: null,
  hasUnlimitedUsage: null,
  hasSoftLimit: false,
  resetPeriod: null,
  period: 'LIFETIME',
  startDate: createdAt,
  endDate: null,
  isVisible: true,
  feature: {
    ...entitlementFeature,
    refId: 'feature-04-analytics',
    displayName: 'Analytics',
    featureType: 'BOOLEAN',
    meterType: 'None',
  },
};

export const customer = {
  id: 'a1c08d83-4175-4402-99de-0924a158eaa1',
  customerId: 'customer-demo-01',
  refId: 'customer-demo-01',
  name: 'Acme',
  email: 'billing@acme.test',
  createdAt,
  updatedAt,
  billingId: null,
  crmId: null,
  hasPaymentMethod: false,
  hasActiveSubscription: true,
  additionalMetaData: { key: 'value' },
  coupon,
  promotionalEntitlements: [promotionalEntitlement],
};

export const subscription = {
  id: '7d4be2d9-ffc8-42f4-a79e-19960b631ef2',
  refId: 'subscription-plan-revvenu-essentials-65768c',
  subscriptionId: 'subscription-plan-revvenu-essentials-65768c',
  status: 'ACTIVE',
  pricingType: 'PAID',
  startDate: createdAt,
  endDate: null,
  trialEndDate: null,
  cancellationDate: null,
  effectiveEndDate: null,
  currentBillingPeriodStart: createdAt,
  currentBillingPeriodEnd: '2024-04-01T10:00:00.000Z',
  billingPeriod: 'MONTHLY',
  billingId: null,
  billingLinkUrl: null,
  additionalMetaData: null,
  prices: [
    {
      usageLimit: 10,
      price: {
        billingModel: 'PER_UNIT',
        billingPeriod: 'MONTHLY',
        price: { amount: 3, currency: 'USD' },
        feature: { ...entitlementFeature },
      },
    },
  ],
  totalPrice: { subTotal: { amount: 30, currency: 'USD' }, total: { amount: 30, currency: 'USD' } },
  plan: {
    id: '3b0c9144-f6ea-4a39-af7b-2c9dda38a813',
    refId: 'plan-revvenu-essentials',
    displayName: 'Essentials',
    description: null,
    pricingType: 'PAID',
    additionalMetaData: null,
  },
  addons: [
    {
      id: 'b1',
      quantity: 2,
      addon: {
        id: '83763342-93af-4ea7-995f-9598be7393f0',
        refId: 'addon-10-campaigns',
        displayName: '10 campaigns',
        description: null,
        additionalMetaData: null,
      },
    },
  ],
  customer: { id: customer.id, customerId: customer.customerId, refId: customer.refId },
  resource: null,
  paymentCollection: 'NOT_REQUIRED',
  latestInvoice: {
    billingId: 'invoice-01',
    status: 'PAID',
    createdAt,
    updatedAt,
    requiresAction: false,
    paymentUrl: null,
    paymentSecret: null,
    errorMessage: null,
  },
};

export const preview = {
  subTotal: { amount: 30, currency: 'USD' },
  totalExcludingTax: { amount: 24, currency: 'USD' },
  total: { amount: 24, currency: 'USD' },
  discountAmount: { amount: 6, currency: 'USD' },
  tax: null,
  taxDetails: null,
  isPlanDowngrade: false,
  hasScheduledUpdates: false,
  billingPeriodRange: { start: createdAt, end: '2024-04-01T10:00:00.000Z' },
  proration: {
    prorationDate: createdAt,
    credit: { amount: -10, currency: 'USD' },
    debit: { amount: 17, currency: 'USD' },
    netAmount: { amount: 7, currency: 'USD' },
  },
};

export function entitlement(customerId: string, featureId: string, requestedUsage: number | null) {
  const usageLimit = 5;
  const currentUsage = 3;
  const granted = (requestedUsage ?? 0) + currentUsage <= usageLimit;
  return {
    isGranted: granted,
    accessDeniedReason: granted ? null : 'RequestedUsageExceedingLimit',
    customerId,
    resourceId: null,
    usageLimit,
    hasUnlimitedUsage: false,
    hasSoftLimit: false,
    currentUsage,
    requestedUsage,
    usagePeriodAnchor: null,
    usagePeriodStart: null,
    usagePeriodEnd: null,
    nextResetDate: null,
    resetPeriod: null,
    feature: { ...entitlementFeature, refId: featureId },
  };
}

export function usageMeasurement(
  usage: { customerId: string; featureId: string; value: number; resourceId?: string | null },
  index: number,
) {
  return {
    id: `05e3a286-acaa-42cd-b76b-${String(index).padStart(12, '0')}`,
    customerId: usage.customerId,
    resourceId: usage.resourceId ?? null,
    featureId: usage.featureId,
    currentUsage: 3 + usage.value,
    usagePeriodStart: null,
    usagePeriodEnd: null,
    nextResetDate: null,
    timestamp: updatedAt,
  };
}

const currency = { currencyId: 'ai-credits', displayName: 'AI credits', symbol: null, units: { singular: 'credit', plural: 'credits' } };

export function creditBalance(customerId: string) {
  return {
    customerId,
    resourceId: null,
    currencyId: 'ai-credits',
    currency,
    currentBalance: 70,
    totalConsumed: 30,
    totalGranted: 100,
    validUntil: null,
  };
}

export function creditGrant(customerId: string) {
  return {
    id: 'c0ffee00-0000-4000-8000-000000000001',
    grantId: 'grant-1',
    amount: 100,
    consumedAmount: 30,
    comment: null,
    currencyId: 'ai-credits',
    customerId,
    resourceId: null,
    displayName: 'Starter pack',
    effectiveAt: updatedAt,
    expireAt: null,
    grantType: 'PAID',
    priority: 1,
    cost: { amount: 10, currency: 'USD' },
    status: 'ACTIVE',
    paymentCollection: 'NOT_REQUIRED',
    createdAt: updatedAt,
    updatedAt,
    additionalMetaData: null,
  };
}

export function creditLedgerEvent(customerId: string) {
  return {
    timestamp: updatedAt,
    eventType: 'CREDITS_CONSUMED',
    customerId,
    resourceId: null,
    eventId: 'k-1',
    featureId: null,
    amount: 30,
    creditGrantId: 'grant-1',
    creditCurrencyId: 'ai-credits',
  };
}

export function creditConsumption(input: { customerId: string; currencyId: string; amount: number; resourceId?: string | null }) {
  return {
    amount: input.amount,
    currencyId: input.currencyId,
    customerId: input.customerId,
    resourceId: input.resourceId ?? null,
    timestamp: updatedAt,
    credit: { currencyId: input.currencyId, currentUsage: 30 + input.amount, usageLimit: 100, timestamp: updatedAt, usagePeriodEnd: null },
  };
}
