import { CatalogError, validateCatalog, type Catalog } from '../../src/emulator';

type Raw = Record<string, unknown>;

/** A catalog with one of every object the format has, so each level can be given a typo. */
const full = (): Catalog => ({
  currency: 'USD',
  products: [{ id: 'p' }],
  features: [
    { id: 'seats', featureType: 'NUMBER', meterType: 'Fluctuating' },
    { id: 'region', featureType: 'ENUM', enumValues: ['eu', 'us'] },
    { id: 'sso', featureType: 'BOOLEAN' },
    { id: 'max-upload', featureType: 'NUMBER' },
  ],
  plans: [
    {
      id: 'free',
      productId: 'p',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'seats', usageLimit: 5, hasSoftLimit: true },
        { featureId: 'region', enumValues: ['eu'] },
      ],
      prices: [{ billingPeriod: 'MONTHLY', amount: 0 }],
    },
  ],
  addons: [{ id: 'a', entitlements: [{ featureId: 'seats', usageLimit: 1 }] }],
  coupons: [{ id: 'c10', name: 'Ten', type: 'PERCENTAGE', discountValue: 10 }],
  customers: [
    {
      id: 'acme',
      subscriptions: [{ planId: 'free', addons: [{ addonId: 'a', quantity: 1 }], billableFeatures: [{ featureId: 'seats', quantity: 2 }] }],
      usage: [{ featureId: 'seats', value: 1 }],
      promotionalEntitlements: [{ featureId: 'region', period: 'LIFETIME', enumValues: ['us'] }],
    },
  ],
});

function rejects(mutate: (c: Raw & Catalog) => void, message: string): void {
  const catalog = full() as Raw & Catalog;
  mutate(catalog);
  expect(() => validateCatalog(catalog)).toThrow(CatalogError);
  expect(() => validateCatalog(catalog)).toThrow(message);
}

const at = <T>(value: T): Raw => value as unknown as Raw;

describe('catalog keys', () => {
  it('accepts a catalog using every object, with soft limits and enum values', () => {
    expect(() => validateCatalog(full())).not.toThrow();
  });

  it.each<[string, (c: Raw & Catalog) => void, string]>([
    ['the root', (c) => (c.prodcts = []), 'catalog.prodcts is not a known key; did you mean "products"?'],
    [
      'a product',
      (c) => (at(c.products[0]).defaultPlan = 'free'),
      'products[0].defaultPlan is not a known key; did you mean "defaultPlanId"?',
    ],
    ['a feature', (c) => (at(c.features[0]).metertype = 'None'), 'features[0].metertype is not a known key; did you mean "meterType"?'],
    ['a plan', (c) => (at(c.plans[0]).entitlement = []), 'plans[0].entitlement is not a known key; did you mean "entitlements"?'],
    [
      "a plan's entitlement",
      (c) => (at(c.plans[0]!.entitlements![1]).hasSoftlimit = true),
      'plans[0].entitlements[1].hasSoftlimit is not a known key; did you mean "hasSoftLimit"?',
    ],
    ['a price', (c) => (at(c.plans[0]!.prices![0]).ammount = 1), 'plans[0].prices[0].ammount is not a known key; did you mean "amount"?'],
    ['an add-on', (c) => (at(c.addons![0]).price = []), 'addons[0].price is not a known key; did you mean "prices"?'],
    [
      "an add-on's entitlement",
      (c) => (at(c.addons![0]!.entitlements![0]).usagelimit = 1),
      'addons[0].entitlements[0].usagelimit is not a known key; did you mean "usageLimit"?',
    ],
    ['a coupon', (c) => (at(c.coupons![0]).discount = 1), 'coupons[0].discount is not a known key; did you mean "discountValue"?'],
    ['a customer', (c) => (at(c.customers![0]).emial = 'a@b.c'), 'customers[0].emial is not a known key; did you mean "email"?'],
    [
      'a subscription',
      (c) => (at(c.customers![0]!.subscriptions![0]).planID = 'free'),
      'customers[0].subscriptions[0].planID is not a known key; did you mean "planId"?',
    ],
    [
      "a subscription's add-on",
      (c) => (at(c.customers![0]!.subscriptions![0]!.addons![0]).qty = 1),
      'customers[0].subscriptions[0].addons[0].qty is not a known key',
    ],
    [
      'a billable feature',
      (c) => (at(c.customers![0]!.subscriptions![0]!.billableFeatures![0]).quantiy = 1),
      'customers[0].subscriptions[0].billableFeatures[0].quantiy is not a known key; did you mean "quantity"?',
    ],
    [
      'a usage record',
      (c) => (at(c.customers![0]!.usage![0]).resource = 'r'),
      'customers[0].usage[0].resource is not a known key; did you mean "resourceId"?',
    ],
    [
      'a promotional entitlement',
      (c) => (at(c.customers![0]!.promotionalEntitlements![0]).enumValue = ['eu']),
      'customers[0].promotionalEntitlements[0].enumValue is not a known key; did you mean "enumValues"?',
    ],
  ])('rejects an unknown key on %s with the path and a suggestion', (_, mutate, message) => rejects(mutate, message));

  it('lists the known keys when nothing is close', () => {
    rejects(
      (c) => (at(c.products[0]).zzzzzzzzzzzz = 1),
      'products[0].zzzzzzzzzzzz is not a known key (known: id, displayName, description, defaultPlanId).',
    );
  });
});

describe('soft limits and enum values in the catalog', () => {
  it.each<[string, (c: Raw & Catalog) => void, string]>([
    [
      'hasSoftLimit with hasUnlimitedUsage',
      (c) => (c.plans[0]!.entitlements![0] = { featureId: 'seats', hasUnlimitedUsage: true, hasSoftLimit: true }),
      'plans[0].entitlements[0].hasSoftLimit cannot be true with hasUnlimitedUsage',
    ],
    [
      'hasSoftLimit with hasUnlimitedUsage on a promotion',
      (c) =>
        (c.customers![0]!.promotionalEntitlements = [
          { featureId: 'seats', period: 'LIFETIME', hasUnlimitedUsage: true, hasSoftLimit: true },
        ]),
      'customers[0].promotionalEntitlements[0].hasSoftLimit cannot be true with hasUnlimitedUsage',
    ],
    [
      'hasSoftLimit on a configuration value',
      (c) => c.addons![0]!.entitlements!.push({ featureId: 'max-upload', usageLimit: 3, hasSoftLimit: true }),
      'addons[0].entitlements[1].hasSoftLimit only applies to metered NUMBER features',
    ],
    [
      'hasSoftLimit that is not a boolean',
      (c) => (at(c.plans[0]!.entitlements![0]).hasSoftLimit = 'yes'),
      'plans[0].entitlements[0].hasSoftLimit must be true or false',
    ],
    [
      'enumValues on a NUMBER feature',
      (c) => (c.plans[0]!.entitlements![0]!.enumValues = ['eu']),
      'plans[0].entitlements[0].enumValues only apply to ENUM features; "seats" is NUMBER.',
    ],
    [
      'a duplicate enum value',
      (c) => (c.plans[0]!.entitlements![1]!.enumValues = ['eu', 'eu']),
      'plans[0].entitlements[1].enumValues lists "eu" twice.',
    ],
    [
      'an empty enum value',
      (c) => (c.plans[0]!.entitlements![1]!.enumValues = ['']),
      'plans[0].entitlements[1].enumValues must hold non-empty strings',
    ],
    [
      'an enum value the feature does not declare',
      (c) => (c.customers![0]!.promotionalEntitlements![0]!.enumValues = ['ap']),
      'customers[0].promotionalEntitlements[0].enumValues holds "ap", which is not a value of the feature "region" (eu, us).',
    ],
    [
      'a usage limit on an ENUM feature',
      (c) => (c.plans[0]!.entitlements![1]!.usageLimit = 2),
      'plans[0].entitlements[1] grants the ENUM feature "region": usageLimit and resetPeriod only apply to NUMBER features.',
    ],
    [
      'a meter on an ENUM feature',
      (c) => (c.features[1]!.meterType = 'Incremental'),
      'features[1].meterType must be None (or absent) for a ENUM feature',
    ],
    [
      'enumValues on a NUMBER feature definition',
      (c) => (c.features[0]!.enumValues = ['a']),
      'features[0].enumValues only apply to ENUM features',
    ],
    [
      'an empty list of feature values',
      (c) => (c.features[1]!.enumValues = []),
      'features[1].enumValues must list at least one value when present.',
    ],
  ])('rejects %s', (_, mutate, message) => rejects(mutate, message));

  it('accepts an ENUM entitlement without values, and any values when the feature declares none', () => {
    const catalog = full();
    catalog.features[1] = { id: 'region', featureType: 'ENUM' };
    catalog.plans[0]!.entitlements![1] = { featureId: 'region', enumValues: ['anything'] };
    catalog.addons![0]!.entitlements!.push({ featureId: 'region' });
    expect(() => validateCatalog(catalog)).not.toThrow();
  });
});
