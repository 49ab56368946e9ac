'use strict';
// The metered benchmark's catalog: one metered feature whose limit no run reaches, and CUSTOMERS customers on it.
const METERED_FEATURE = 'feature-bench-units';
const CUSTOMERS = Number(process.env.BENCH_METERED_CUSTOMERS ?? 100);

function meteredCustomers() {
  return Array.from({ length: CUSTOMERS }, (_, i) => `bench-metered-${i}`);
}

function meteredCatalog(defaultCatalog) {
  return {
    ...defaultCatalog,
    features: [...defaultCatalog.features, { id: METERED_FEATURE, displayName: 'Units', featureType: 'NUMBER', meterType: 'Incremental' }],
    plans: [
      ...defaultCatalog.plans,
      {
        id: 'plan-bench-metered',
        productId: defaultCatalog.products[0].id,
        pricingType: 'FREE',
        entitlements: [{ featureId: METERED_FEATURE, usageLimit: 1e12 }],
      },
    ],
    customers: meteredCustomers().map((id) => ({ id, subscriptions: [{ planId: 'plan-bench-metered' }] })),
  };
}

module.exports = { METERED_FEATURE, meteredCustomers, meteredCatalog };
