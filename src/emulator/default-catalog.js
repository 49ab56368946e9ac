"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.defaultCatalog = void 0;
/** The "Revvenu" demo environment from Stigg's documentation. No customers: provision them. */
exports.defaultCatalog = {
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
//# sourceMappingURL=default-catalog.js.map