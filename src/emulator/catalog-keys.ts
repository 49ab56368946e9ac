import { closest } from '../util/unknown-options';
import type {
  Catalog,
  CatalogAddon,
  CatalogCoupon,
  CatalogCreditGrant,
  CatalogCurrency,
  CatalogCustomer,
  CatalogEntitlement,
  CatalogFeature,
  CatalogPlan,
  CatalogPrice,
  CatalogProduct,
  CatalogPromotionalEntitlement,
  CatalogSubscription,
  CatalogUsage,
} from './catalog-types';

/**
 * The keys each object of the catalog format may hold (docs/emulator.md). Any other key is a typo
 * until proven otherwise (`hasSoftlimit` silently left a limit hard), so the catalog is refused.
 */
export const CATALOG_KEYS = {
  catalog: ['currency', 'paidPlansRequirePaymentMethod', 'products', 'features', 'plans', 'addons', 'coupons', 'customers', 'currencies'],
  product: ['id', 'displayName', 'description', 'defaultPlanId'],
  feature: [
    'id',
    'displayName',
    'description',
    'featureType',
    'meterType',
    'enumValues',
    'featureUnits',
    'featureUnitsPlural',
    'additionalMetaData',
    'eventName',
  ],
  entitlement: ['featureId', 'usageLimit', 'hasUnlimitedUsage', 'hasSoftLimit', 'enumValues', 'resetPeriod'],
  price: ['billingPeriod', 'amount', 'billingModel', 'featureId'],
  plan: [
    'id',
    'productId',
    'displayName',
    'description',
    'pricingType',
    'entitlements',
    'prices',
    'requiresPaymentMethod',
    'trialDays',
    'additionalMetaData',
  ],
  addon: ['id', 'displayName', 'description', 'entitlements', 'prices', 'additionalMetaData'],
  coupon: ['id', 'name', 'description', 'type', 'discountValue', 'status', 'additionalMetaData', 'createdAt'],
  customer: [
    'id',
    'name',
    'email',
    'billingId',
    'hasPaymentMethod',
    'couponId',
    'archived',
    'additionalMetaData',
    'subscriptions',
    'usage',
    'promotionalEntitlements',
    'creditGrants',
  ],
  subscription: ['id', 'planId', 'resourceId', 'billingPeriod', 'startDate', 'addons', 'billableFeatures', 'additionalMetaData'],
  subscriptionAddon: ['addonId', 'quantity'],
  billableFeature: ['featureId', 'quantity'],
  usage: ['featureId', 'resourceId', 'value'],
  promotionalEntitlement: [
    'featureId',
    'period',
    'customEndDate',
    'usageLimit',
    'hasUnlimitedUsage',
    'hasSoftLimit',
    'enumValues',
    'resetPeriod',
  ],
  currency: ['id', 'displayName', 'symbol', 'units'],
  currencyUnits: ['singular', 'plural'],
  creditGrant: ['currencyId', 'amount', 'resourceId', 'grantType', 'displayName', 'priority', 'effectiveAt', 'expireAt'],
} as const satisfies Record<string, readonly string[]>;

/** Compiles only when the list names exactly the keys of T: the lists cannot drift from catalog-types.ts. */
type Exact<T, K extends readonly string[]> = [Exclude<keyof T, K[number]>, Exclude<K[number], keyof T>] extends [never, never]
  ? true
  : false;
type Item<T> = NonNullable<T> extends ReadonlyArray<infer I> ? I : never;
type K = typeof CATALOG_KEYS;
export const CATALOG_KEYS_MATCH_TYPES: Record<CatalogObjectKind, true> = {
  catalog: true satisfies Exact<Catalog, K['catalog']>,
  product: true satisfies Exact<CatalogProduct, K['product']>,
  feature: true satisfies Exact<CatalogFeature, K['feature']>,
  entitlement: true satisfies Exact<CatalogEntitlement, K['entitlement']>,
  price: true satisfies Exact<CatalogPrice, K['price']>,
  plan: true satisfies Exact<CatalogPlan, K['plan']>,
  addon: true satisfies Exact<CatalogAddon, K['addon']>,
  coupon: true satisfies Exact<CatalogCoupon, K['coupon']>,
  customer: true satisfies Exact<CatalogCustomer, K['customer']>,
  subscription: true satisfies Exact<CatalogSubscription, K['subscription']>,
  subscriptionAddon: true satisfies Exact<Item<CatalogSubscription['addons']>, K['subscriptionAddon']>,
  billableFeature: true satisfies Exact<Item<CatalogSubscription['billableFeatures']>, K['billableFeature']>,
  usage: true satisfies Exact<CatalogUsage, K['usage']>,
  promotionalEntitlement: true satisfies Exact<CatalogPromotionalEntitlement, K['promotionalEntitlement']>,
  currency: true satisfies Exact<CatalogCurrency, K['currency']>,
  currencyUnits: true satisfies Exact<NonNullable<CatalogCurrency['units']>, K['currencyUnits']>,
  creditGrant: true satisfies Exact<CatalogCreditGrant, K['creditGrant']>,
};

export type CatalogObjectKind = keyof typeof CATALOG_KEYS;

/** The first key of `o` its kind does not know, with the problem to report, or null. */
export function unknownKey(o: object, kind: CatalogObjectKind): { key: string; problem: string } | null {
  const known: readonly string[] = CATALOG_KEYS[kind];
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const problem =
      suggestion === undefined ? `is not a known key (known: ${known.join(', ')}).` : `is not a known key; did you mean "${suggestion}"?`;
    return { key, problem };
  }
  return null;
}
