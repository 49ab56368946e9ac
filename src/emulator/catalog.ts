import { readFileSync } from 'node:fs';
import { unknownKey, type CatalogObjectKind } from './catalog-keys';
import { enumValuesProblem } from './enum-values';
import type {
  BillingModel,
  BillingPeriod,
  Catalog,
  CatalogFeature,
  CouponStatus,
  CouponType,
  Currency,
  FeatureType,
  MeterType,
  PricingType,
  PromotionalEntitlementPeriod,
  ResetPeriod,
} from './catalog-types';
import { markStiggGateError } from '../core/internal';

const FEATURE_TYPES: readonly FeatureType[] = ['BOOLEAN', 'NUMBER', 'ENUM'];
const METER_TYPES: readonly MeterType[] = ['None', 'Fluctuating', 'Incremental'];
const RESET_PERIODS: readonly ResetPeriod[] = ['DAY', 'WEEK', 'MONTH', 'YEAR'];
const PRICING_TYPES: readonly PricingType[] = ['FREE', 'PAID', 'CUSTOM'];
const BILLING_PERIODS: readonly BillingPeriod[] = ['MONTHLY', 'ANNUALLY'];
const BILLING_MODELS: readonly BillingModel[] = ['FLAT_FEE', 'PER_UNIT', 'USAGE_BASED'];
const CURRENCIES: readonly Currency[] = ['USD', 'EUR', 'GBP', 'DKK'];
const COUPON_TYPES: readonly CouponType[] = ['FIXED', 'PERCENTAGE'];
const COUPON_STATUSES: readonly CouponStatus[] = ['ACTIVE', 'ARCHIVED'];
const PROMO_PERIODS: readonly PromotionalEntitlementPeriod[] = ['ONE_WEEK', 'ONE_MONTH', 'SIX_MONTH', 'ONE_YEAR', 'LIFETIME', 'CUSTOM'];

/** Thrown for a catalog that cannot be served; `path` points at the offending value (e.g. `plans[1].entitlements[0].featureId`). */
export class CatalogError extends TypeError {
  override readonly name = 'CatalogError';
  readonly errorCode: string = 'ERR_STIGG_GATE_EMULATOR_CATALOG';
  constructor(
    readonly path: string,
    problem: string,
    readonly source?: string,
  ) {
    super(`Invalid emulator catalog${source === undefined ? '' : ` (${source})`}: ${path} ${problem}`);
  }
}
markStiggGateError(CatalogError);

type Obj = Record<string, unknown>;

/** Checks a catalog's shape and cross-references and returns it unchanged (typed); throws CatalogError. */
export function validateCatalog(input: unknown, source?: string): Catalog {
  function fail(path: string, problem: string): never {
    throw new CatalogError(path, problem, source);
  }
  function object(value: unknown, path: string, kind?: CatalogObjectKind): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object.');
    const unknown = kind === undefined ? null : unknownKey(value, kind);
    if (unknown !== null) fail(`${path}.${unknown.key}`, unknown.problem);
    return value as Obj;
  }
  function array(value: unknown, path: string, required: boolean): unknown[] {
    if (value === undefined && !required) return [];
    if (!Array.isArray(value)) fail(path, required ? 'must be an array (it is required).' : 'must be an array when present.');
    return value;
  }
  function string(o: Obj, key: string, path: string, required: boolean): string | undefined {
    const value = o[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.length === 0)
      fail(`${path}.${key}`, `must be a non-empty string, got ${JSON.stringify(value)}.`);
    return value;
  }
  function number(o: Obj, key: string, path: string, required: boolean, min = 0): number | undefined {
    const value = o[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      fail(`${path}.${key}`, `must be a finite number >= ${min}, got ${JSON.stringify(value)}.`);
    }
    return value;
  }
  function boolean(o: Obj, key: string, path: string): void {
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      fail(`${path}.${key}`, `must be true or false, got ${JSON.stringify(o[key])}.`);
  }
  function oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[], required: boolean): T | undefined {
    const value = o[key];
    if (value === undefined && !required) return undefined;
    if (!allowed.includes(value as T)) fail(`${path}.${key}`, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}.`);
    return value as T;
  }
  function date(o: Obj, key: string, path: string): void {
    const value = o[key];
    if (value === undefined) return;
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
      fail(`${path}.${key}`, `must be an ISO 8601 date string, got ${JSON.stringify(value)}.`);
  }
  function metadata(o: Obj, path: string): void {
    if (o.additionalMetaData !== undefined) object(o.additionalMetaData, `${path}.additionalMetaData`);
  }
  function uniqueIds(list: unknown[], path: string, kind: CatalogObjectKind): Set<string> {
    const ids = new Set<string>();
    list.forEach((item, i) => {
      const id = string(object(item, `${path}[${i}]`, kind), 'id', `${path}[${i}]`, true) as string;
      if (ids.has(id)) fail(`${path}[${i}].id`, `"${id}" is declared twice.`);
      ids.add(id);
    });
    return ids;
  }
  function reference(o: Obj, key: string, path: string, ids: Set<string>, kind: string, required: boolean): void {
    const id = string(o, key, path, required);
    if (id !== undefined && !ids.has(id))
      fail(`${path}.${key}`, `"${id}" does not name a ${kind} (declared: ${[...ids].join(', ') || 'none'}).`);
  }

  const root = object(input, 'catalog', 'catalog');
  oneOf(root, 'currency', 'catalog', CURRENCIES, false);
  boolean(root, 'paidPlansRequirePaymentMethod', 'catalog');
  const products = array(root.products, 'products', true);
  const features = array(root.features, 'features', true);
  const plans = array(root.plans, 'plans', true);
  const addons = array(root.addons, 'addons', false);
  const coupons = array(root.coupons, 'coupons', false);
  const customers = array(root.customers, 'customers', false);
  const currencies = array(root.currencies, 'currencies', false);

  const productIds = uniqueIds(products, 'products', 'product');
  const featureIds = uniqueIds(features, 'features', 'feature');
  const planIds = uniqueIds(plans, 'plans', 'plan');
  const addonIds = uniqueIds(addons, 'addons', 'addon');
  const couponIds = uniqueIds(coupons, 'coupons', 'coupon');
  uniqueIds(customers, 'customers', 'customer');
  const currencyIds = uniqueIds(currencies, 'currencies', 'currency');
  currencies.forEach((raw, i) => {
    const path = `currencies[${i}]`;
    const c = raw as Obj;
    for (const key of ['displayName', 'symbol']) string(c, key, path, false);
    if (c.units !== undefined) {
      const units = object(c.units, `${path}.units`, 'currencyUnits');
      for (const key of ['singular', 'plural']) string(units, key, `${path}.units`, true);
    }
  });
  const featureDefs = new Map<string, CatalogFeature>();

  features.forEach((raw, i) => {
    const path = `features[${i}]`;
    const f = raw as Obj;
    const type = oneOf(f, 'featureType', path, FEATURE_TYPES, true) as FeatureType;
    const meter = oneOf(f, 'meterType', path, METER_TYPES, false);
    if (type !== 'NUMBER' && meter !== undefined && meter !== 'None')
      fail(`${path}.meterType`, `must be None (or absent) for a ${type} feature, got "${meter}".`);
    if (f.enumValues !== undefined) {
      const problem = enumValuesProblem(f.enumValues, { id: f.id as string, featureType: type });
      if (problem !== null) fail(`${path}.enumValues`, problem);
      if ((f.enumValues as unknown[]).length === 0) fail(`${path}.enumValues`, 'must list at least one value when present.');
    }
    featureDefs.set(f.id as string, f as unknown as CatalogFeature);
    for (const key of ['displayName', 'description', 'featureUnits', 'featureUnitsPlural', 'eventName']) string(f, key, path, false);
    if (f.eventName !== undefined && meter === undefined)
      fail(`${path}.eventName`, 'needs a metered feature (meterType Fluctuating or Incremental).');
    metadata(f, path);
  });

  /** What a plan's, add-on's or promotional entitlement grants of its (checked) feature. */
  function grant(e: Obj, p: string): void {
    const feature = featureDefs.get(e.featureId as string) as CatalogFeature;
    number(e, 'usageLimit', p, false);
    boolean(e, 'hasUnlimitedUsage', p);
    boolean(e, 'hasSoftLimit', p);
    oneOf(e, 'resetPeriod', p, RESET_PERIODS, false);
    if (feature.featureType !== 'NUMBER' && (e.usageLimit !== undefined || e.resetPeriod !== undefined)) {
      fail(p, `grants the ${feature.featureType} feature "${feature.id}": usageLimit and resetPeriod only apply to NUMBER features.`);
    }
    if (e.hasSoftLimit === true) {
      if (e.hasUnlimitedUsage === true)
        fail(`${p}.hasSoftLimit`, 'cannot be true with hasUnlimitedUsage: an unlimited entitlement has no limit to be soft.');
      if (feature.featureType !== 'NUMBER' || (feature.meterType ?? 'None') === 'None')
        fail(`${p}.hasSoftLimit`, `only applies to metered NUMBER features; "${feature.id}" is not metered.`);
    }
    if (e.enumValues !== undefined) {
      const problem = enumValuesProblem(e.enumValues, feature);
      if (problem !== null) fail(`${p}.enumValues`, problem);
    }
  }
  function entitlements(list: unknown, path: string): Set<string> {
    const seen = new Set<string>();
    array(list, path, false).forEach((raw, i) => {
      const p = `${path}[${i}]`;
      const e = object(raw, p, 'entitlement');
      reference(e, 'featureId', p, featureIds, 'feature in features[]', true);
      const featureId = e.featureId as string;
      if (seen.has(featureId)) fail(`${p}.featureId`, `"${featureId}" is entitled twice in one package.`);
      seen.add(featureId);
      grant(e, p);
    });
    return seen;
  }
  function prices(list: unknown, path: string, entitled: Set<string>): void {
    array(list, path, false).forEach((raw, i) => {
      const p = `${path}[${i}]`;
      const price = object(raw, p, 'price');
      oneOf(price, 'billingPeriod', p, BILLING_PERIODS, true);
      number(price, 'amount', p, true);
      const model = oneOf(price, 'billingModel', p, BILLING_MODELS, false);
      if (model === 'PER_UNIT') {
        reference(price, 'featureId', p, featureIds, 'feature in features[]', true);
        if (!entitled.has(price.featureId as string))
          fail(`${p}.featureId`, `"${String(price.featureId)}" is priced per unit but not entitled by this package.`);
      } else if (price.featureId !== undefined) {
        reference(price, 'featureId', p, featureIds, 'feature in features[]', false);
      }
    });
  }

  products.forEach((raw, i) => {
    const path = `products[${i}]`;
    const p = raw as Obj;
    string(p, 'displayName', path, false);
    string(p, 'description', path, false);
    reference(p, 'defaultPlanId', path, planIds, 'plan in plans[]', false);
  });
  plans.forEach((raw, i) => {
    const path = `plans[${i}]`;
    const p = raw as Obj;
    reference(p, 'productId', path, productIds, 'product in products[]', true);
    oneOf(p, 'pricingType', path, PRICING_TYPES, true);
    string(p, 'displayName', path, false);
    string(p, 'description', path, false);
    boolean(p, 'requiresPaymentMethod', path);
    if (p.trialDays !== undefined && !Number.isInteger(p.trialDays))
      fail(`${path}.trialDays`, `must be a whole number of days, got ${JSON.stringify(p.trialDays)}.`);
    number(p, 'trialDays', path, false);
    prices(p.prices, `${path}.prices`, entitlements(p.entitlements, `${path}.entitlements`));
    metadata(p, path);
  });
  addons.forEach((raw, i) => {
    const path = `addons[${i}]`;
    const a = raw as Obj;
    string(a, 'displayName', path, false);
    string(a, 'description', path, false);
    prices(a.prices, `${path}.prices`, entitlements(a.entitlements, `${path}.entitlements`));
    metadata(a, path);
  });
  coupons.forEach((raw, i) => {
    const path = `coupons[${i}]`;
    const c = raw as Obj;
    string(c, 'name', path, true);
    string(c, 'description', path, false);
    const type = oneOf(c, 'type', path, COUPON_TYPES, true);
    number(c, 'discountValue', path, true);
    if (type === 'PERCENTAGE' && (c.discountValue as number) > 100)
      fail(`${path}.discountValue`, `is a percentage and must be <= 100, got ${String(c.discountValue)}.`);
    oneOf(c, 'status', path, COUPON_STATUSES, false);
    date(c, 'createdAt', path);
    metadata(c, path);
  });
  customers.forEach((raw, i) => {
    const path = `customers[${i}]`;
    const c = raw as Obj;
    for (const key of ['name', 'email', 'billingId']) string(c, key, path, false);
    boolean(c, 'hasPaymentMethod', path);
    boolean(c, 'archived', path);
    reference(c, 'couponId', path, couponIds, 'coupon in coupons[]', false);
    metadata(c, path);
    array(c.subscriptions, `${path}.subscriptions`, false).forEach((rawSub, j) => {
      const p = `${path}.subscriptions[${j}]`;
      const s = object(rawSub, p, 'subscription');
      string(s, 'id', p, false);
      reference(s, 'planId', p, planIds, 'plan in plans[]', true);
      string(s, 'resourceId', p, false);
      oneOf(s, 'billingPeriod', p, BILLING_PERIODS, false);
      date(s, 'startDate', p);
      metadata(s, p);
      array(s.addons, `${p}.addons`, false).forEach((rawAddon, k) => {
        const q = `${p}.addons[${k}]`;
        const a = object(rawAddon, q, 'subscriptionAddon');
        reference(a, 'addonId', q, addonIds, 'add-on in addons[]', true);
        number(a, 'quantity', q, false, 1);
      });
      array(s.billableFeatures, `${p}.billableFeatures`, false).forEach((rawFeature, k) => {
        const q = `${p}.billableFeatures[${k}]`;
        const f = object(rawFeature, q, 'billableFeature');
        reference(f, 'featureId', q, featureIds, 'feature in features[]', true);
        number(f, 'quantity', q, true);
      });
    });
    array(c.usage, `${path}.usage`, false).forEach((rawUsage, j) => {
      const p = `${path}.usage[${j}]`;
      const u = object(rawUsage, p, 'usage');
      reference(u, 'featureId', p, featureIds, 'feature in features[]', true);
      if (featureDefs.get(u.featureId as string)?.featureType !== 'NUMBER')
        fail(`${p}.featureId`, `"${String(u.featureId)}" is not a NUMBER feature; only NUMBER features have usage.`);
      string(u, 'resourceId', p, false);
      number(u, 'value', p, true, -Infinity);
    });
    array(c.promotionalEntitlements, `${path}.promotionalEntitlements`, false).forEach((rawPromo, j) => {
      const p = `${path}.promotionalEntitlements[${j}]`;
      const pe = object(rawPromo, p, 'promotionalEntitlement');
      reference(pe, 'featureId', p, featureIds, 'feature in features[]', true);
      const period = oneOf(pe, 'period', p, PROMO_PERIODS, true);
      date(pe, 'customEndDate', p);
      if (period === 'CUSTOM' && pe.customEndDate === undefined) fail(`${p}.customEndDate`, 'is required when period is CUSTOM.');
      grant(pe, p);
    });
    array(c.creditGrants, `${path}.creditGrants`, false).forEach((rawGrant, j) => {
      const p = `${path}.creditGrants[${j}]`;
      const g = object(rawGrant, p, 'creditGrant');
      reference(g, 'currencyId', p, currencyIds, 'currency in currencies[]', true);
      if (number(g, 'amount', p, true) === 0) fail(`${p}.amount`, 'must be > 0 credits.');
      string(g, 'resourceId', p, false);
      string(g, 'displayName', p, false);
      oneOf(g, 'grantType', p, ['PAID', 'PROMOTIONAL'] as const, false);
      number(g, 'priority', p, false);
      date(g, 'effectiveAt', p);
      date(g, 'expireAt', p);
    });
  });
  return input as Catalog;
}

/** Reads and validates a catalog JSON file. */
export function loadCatalogFile(file: string): Catalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CatalogError('file', `could not be read: ${(error as Error).message}`, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CatalogError('file', `is not valid JSON: ${(error as Error).message}`, file);
  }
  return validateCatalog(parsed, file);
}
