import { randomUUID } from 'node:crypto';
import type { CatalogCoupon, CatalogEntitlement, CatalogPlan, CatalogPrice } from './catalog-types';
import { connection } from './connection';
import { iso } from './time';
import { money, parseDate, type Indexed, type Json, type Store } from './store';

/** The one environment the emulator serves. */
export const ENVIRONMENT_ID = '00000000-0000-4000-8000-00000e0a1a70';

/** Products, features, plans, add-ons and coupons of the catalog in their wire shapes (Feature, Product, Plan, Addon, Price, Coupon). */
export function indexCatalog(store: Store): void {
  const c = store.catalog;
  const created = iso(store.clock.now());
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
      featureStatus: 'ACTIVE',
      additionalMetaData: f.additionalMetaData ?? null,
      unitTransformation: null,
      enumConfiguration: f.enumValues?.map((value) => ({ value, displayName: value, deletedAt: null })) ?? null,
      environmentId: ENVIRONMENT_ID,
      hasEntitlements: true,
      hasMeter: (f.meterType ?? 'None') !== 'None',
      createdAt: created,
      updatedAt: created,
    };
    store.features.set(f.id, { uid, def: f, out });
    if (f.eventName !== undefined) store.eventFeatures.set(f.eventName, [...(store.eventFeatures.get(f.eventName) ?? []), f]);
  }
  for (const p of c.products) {
    const uid = randomUUID();
    const out: Json = {
      id: uid,
      refId: p.id,
      displayName: p.displayName ?? p.id,
      description: p.description ?? null,
      additionalMetaData: null,
      environmentId: ENVIRONMENT_ID,
      isDefaultProduct: c.products.length === 1,
      multipleSubscriptions: false,
      hasSubscriptions: false,
      status: 'PUBLISHED',
      createdAt: created,
      updatedAt: created,
      subscriptionUpdateUsageResetCutoffRule: { behavior: 'NEVER_RESET' },
      productSettings: {
        subscriptionCancellationTime: 'IMMEDIATE',
        subscriptionEndSetup: p.defaultPlanId === undefined ? 'CANCEL_SUBSCRIPTION' : 'DOWNGRADE_TO_FREE',
        subscriptionStartSetup: p.defaultPlanId === undefined ? 'PLAN_SELECTION' : 'FREE_PLAN',
        downgradePlanId: p.defaultPlanId ?? null,
        subscriptionStartPlanId: p.defaultPlanId ?? null,
        downgradePlan: () => (p.defaultPlanId === undefined ? null : (store.plans.get(p.defaultPlanId)?.out ?? null)),
        subscriptionStartPlan: () => (p.defaultPlanId === undefined ? null : (store.plans.get(p.defaultPlanId)?.out ?? null)),
        prorateAtEndOfBillingPeriod: false,
      },
    };
    store.products.set(p.id, { uid, def: p, out });
  }
  for (const p of c.plans) indexPlan(store, p, 1);
  for (const a of c.addons ?? []) {
    const uid = randomUUID();
    const pkg = { id: uid, refId: a.id, displayName: a.displayName ?? a.id };
    const out = {
      ...pkg,
      description: a.description ?? null,
      additionalMetaData: a.additionalMetaData ?? null,
      billingId: null,
      billingLinkUrl: null,
      hiddenFromWidgets: [],
      entitlements: packageEntitlements(store, a.entitlements, uid),
      prices: (a.prices ?? []).map((price) => priceOut(store, price, pkg)),
      overagePrices: [],
      pricingType: (a.prices ?? []).length === 0 ? 'FREE' : 'PAID',
      maxQuantity: null,
      dependencies: [],
      environmentId: ENVIRONMENT_ID,
      hasSubscriptions: false,
      status: 'PUBLISHED',
      type: 'ADDON',
      versionNumber: 1,
      isLatest: true,
      createdAt: created,
      updatedAt: created,
    };
    store.addons.set(a.id, { uid, def: a, out });
  }
  const now = store.clock.now();
  for (const coupon of c.coupons ?? []) store.coupons.set(coupon.id, couponOut(store, coupon, now));
}

/** Indexes (or publishes a new version of) a plan. */
export function indexPlan(store: Store, p: CatalogPlan, version: number, uid: string = randomUUID()): void {
  const product = store.products.get(p.productId);
  const pkg = { id: uid, refId: p.id, displayName: p.displayName ?? p.id };
  const now = iso(store.clock.now());
  const out = {
    ...pkg,
    description: p.description ?? null,
    additionalMetaData: p.additionalMetaData ?? null,
    billingId: null,
    billingLinkUrl: null,
    versionNumber: version,
    isLatest: true,
    isParent: false,
    status: 'PUBLISHED',
    type: 'PLAN',
    hiddenFromWidgets: [],
    pricingType: p.pricingType,
    productId: p.productId,
    product: product?.out ?? null,
    basePlan: null,
    entitlements: packageEntitlements(store, p.entitlements, uid),
    inheritedEntitlements: [],
    compatibleAddons: () => [...store.addons.values()].map((a) => a.out),
    compatiblePackageGroups: [],
    prices: (p.prices ?? []).map((price) => priceOut(store, price, pkg)),
    overagePrices: [],
    defaultTrialConfig:
      (p.trialDays ?? 0) > 0 ? { duration: p.trialDays, units: 'DAY', budget: null, trialEndBehavior: 'CONVERT_TO_PAID' } : null,
    environmentId: ENVIRONMENT_ID,
    createdAt: now,
    updatedAt: now,
  };
  const previous = store.plans.get(p.id);
  if (previous !== undefined) previous.out.isLatest = false;
  store.plans.set(p.id, { uid, def: p, version, out });
}

function packageEntitlements(store: Store, list: CatalogEntitlement[] | undefined, packageId: string): Json[] {
  return (list ?? []).map((e, i) => ({
    id: `${packageId}-entitlement-${i}`,
    featureId: e.featureId,
    packageId,
    usageLimit: e.hasUnlimitedUsage === true ? null : (e.usageLimit ?? null),
    hasUnlimitedUsage: e.hasUnlimitedUsage ?? false,
    hasSoftLimit: e.hasSoftLimit ?? false,
    resetPeriod: e.resetPeriod ?? null,
    resetPeriodConfiguration: null,
    behavior: 'Increment',
    hiddenFromWidgets: [],
    isCustom: false,
    isGranted: true,
    displayNameOverride: null,
    description: null,
    enumValues: e.enumValues ?? null,
    order: i,
    environmentId: ENVIRONMENT_ID,
    feature: store.features.get(e.featureId)?.out,
  }));
}

export function priceOut(store: Store, p: CatalogPrice, pkg: { id: string; refId: string; displayName: string }): Json {
  return {
    id: `${pkg.id}-price-${p.billingPeriod}-${p.featureId ?? 'base'}`,
    billingModel: p.billingModel ?? 'FLAT_FEE',
    billingPeriod: p.billingPeriod,
    billingCadence: 'RECURRING',
    billingId: null,
    billingCountryCode: null,
    minUnitQuantity: p.billingModel === 'PER_UNIT' ? 1 : null,
    maxUnitQuantity: null,
    price: money(p.amount, store.currency),
    creditRate: null,
    tiersMode: null,
    tiers: null,
    blockSize: null,
    isOverridePrice: false,
    featureId: p.featureId ?? null,
    feature: p.featureId === undefined ? null : (store.features.get(p.featureId)?.out ?? null),
    package: pkg,
    packageId: pkg.id,
    environmentId: ENVIRONMENT_ID,
  };
}

function couponOut(store: Store, c: CatalogCoupon, now: number): Json {
  const created = iso(parseDate(c.createdAt, 'createdAt') ?? now);
  return {
    id: randomUUID(),
    refId: c.id,
    name: c.name,
    description: c.description ?? null,
    type: c.type,
    discountValue: c.discountValue,
    percentOff: c.type === 'PERCENTAGE' ? c.discountValue : null,
    amountsOff: c.type === 'FIXED' ? [money(c.discountValue, store.currency)] : null,
    durationInMonths: null,
    additionalMetaData: c.additionalMetaData ?? null,
    createdAt: created,
    updatedAt: created,
    billingId: null,
    billingLinkUrl: null,
    syncStates: [],
    source: 'STIGG',
    environmentId: ENVIRONMENT_ID,
    status: c.status ?? 'ACTIVE',
  };
}

export function featureOut(store: Store, featureId: string): Json | null {
  return (store.features.get(featureId) as Indexed<unknown> | undefined)?.out ?? null;
}

/** `products(paging:)`: the catalog's products in catalog order. */
export function products(
  store: Store,
  args: {
    paging?: { first?: number | null; after?: string | null; last?: number | null; before?: string | null } | null;
  },
): Json {
  return connection(
    [...store.products.values()].map((p) => ({
      ...p.out,
      plans: () => [...store.plans.values()].filter((plan) => plan.def.productId === p.def.id).map((plan) => plan.out),
    })),
    args.paging,
  );
}
