import type { Catalog, CatalogCustomer } from './catalog-types';

/** The "Revvenu" demo environment from Stigg's documentation. No customers: provision them. */
export const defaultCatalog: Catalog = {
  currency: 'USD',
  paidPlansRequirePaymentMethod: false,
  products: [{ id: 'product-revvenu', displayName: 'Revvenu', description: 'Revvenu demo product' }],
  features: [
    {
      id: 'feature-01-templates',
      displayName: 'Templates',
      featureType: 'NUMBER',
      meterType: 'Fluctuating',
      featureUnits: 'template',
      featureUnitsPlural: 'templates',
    },
    {
      id: 'feature-02-campaigns',
      displayName: 'Campaigns',
      featureType: 'NUMBER',
      meterType: 'Incremental',
      featureUnits: 'campaign',
      featureUnitsPlural: 'campaigns',
    },
    { id: 'feature-03-custom-domain', displayName: 'Custom domain', featureType: 'BOOLEAN', meterType: 'None' },
    { id: 'feature-04-analytics', displayName: 'Analytics', featureType: 'BOOLEAN', meterType: 'None' },
  ],
  plans: [
    {
      id: 'plan-revvenu-basic',
      productId: 'product-revvenu',
      displayName: 'Basic',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'feature-01-templates', usageLimit: 3 },
        { featureId: 'feature-02-campaigns', usageLimit: 4, resetPeriod: 'MONTH' },
      ],
    },
    {
      id: 'plan-revvenu-essentials',
      productId: 'product-revvenu',
      displayName: 'Essentials',
      pricingType: 'PAID',
      entitlements: [
        { featureId: 'feature-01-templates', usageLimit: 10 },
        { featureId: 'feature-02-campaigns', usageLimit: 20, resetPeriod: 'MONTH' },
        { featureId: 'feature-03-custom-domain' },
      ],
      prices: [
        { billingPeriod: 'MONTHLY', amount: 10 },
        { billingPeriod: 'MONTHLY', amount: 5, billingModel: 'PER_UNIT', featureId: 'feature-01-templates' },
        { billingPeriod: 'ANNUALLY', amount: 100 },
        { billingPeriod: 'ANNUALLY', amount: 50, billingModel: 'PER_UNIT', featureId: 'feature-01-templates' },
      ],
    },
    {
      id: 'plan-revvenu-growth',
      productId: 'product-revvenu',
      displayName: 'Growth',
      pricingType: 'PAID',
      entitlements: [
        { featureId: 'feature-01-templates', hasUnlimitedUsage: true },
        { featureId: 'feature-02-campaigns', usageLimit: 100, resetPeriod: 'MONTH' },
        { featureId: 'feature-03-custom-domain' },
        { featureId: 'feature-04-analytics' },
      ],
      prices: [
        { billingPeriod: 'MONTHLY', amount: 50 },
        { billingPeriod: 'ANNUALLY', amount: 500 },
      ],
    },
  ],
  addons: [
    {
      id: 'addon-10-campaigns',
      displayName: '10 campaigns',
      entitlements: [{ featureId: 'feature-02-campaigns', usageLimit: 10, resetPeriod: 'MONTH' }],
      prices: [
        { billingPeriod: 'MONTHLY', amount: 5 },
        { billingPeriod: 'ANNUALLY', amount: 50 },
      ],
    },
  ],
  coupons: [{ id: 'coupon-vip', name: 'VIP', type: 'PERCENTAGE', discountValue: 20, status: 'ACTIVE' }],
};

/** The customers `stigg-gate-emulator --demo` provisions into the default catalog: one per plan, some usage, a promotion. */
export const demoCustomers: CatalogCustomer[] = [
  {
    id: 'demo-basic',
    name: 'Basic Demo',
    email: 'basic@demo.test',
    subscriptions: [{ planId: 'plan-revvenu-basic' }],
    usage: [{ featureId: 'feature-01-templates', value: 1 }],
  },
  {
    id: 'demo-essentials',
    name: 'Essentials Demo',
    email: 'essentials@demo.test',
    hasPaymentMethod: true,
    subscriptions: [{ planId: 'plan-revvenu-essentials' }],
    usage: [{ featureId: 'feature-02-campaigns', value: 18 }],
  },
  {
    id: 'demo-growth',
    name: 'Growth Demo',
    email: 'growth@demo.test',
    hasPaymentMethod: true,
    couponId: 'coupon-vip',
    subscriptions: [{ planId: 'plan-revvenu-growth', addons: [{ addonId: 'addon-10-campaigns', quantity: 1 }] }],
  },
  {
    id: 'demo-promoted',
    name: 'Promoted Demo',
    subscriptions: [{ planId: 'plan-revvenu-basic' }],
    promotionalEntitlements: [{ featureId: 'feature-04-analytics', period: 'ONE_MONTH' }],
  },
];
