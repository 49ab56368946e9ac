import type { Catalog, CatalogEntitlement, CatalogFeature, CatalogPlan, CatalogPrice } from './catalog-types';

const PER: Record<string, string> = { DAY: 'a day', WEEK: 'a week', MONTH: 'a month', YEAR: 'a year' };

function featureLine(feature: CatalogFeature): string {
  const kind =
    feature.featureType === 'NUMBER'
      ? `NUMBER, ${feature.meterType === undefined || feature.meterType === 'None' ? 'a configuration value' : `metered (${feature.meterType})`}`
      : feature.featureType === 'ENUM'
        ? `ENUM: ${(feature.enumValues ?? []).join(', ')}`
        : feature.featureType;
  return `    ${feature.id}${feature.displayName === undefined ? '' : ` "${feature.displayName}"`}: ${kind}`;
}

/** One entitlement in a person's words: "feature-02-campaigns 4 a month", "feature-01-templates unlimited". */
function entitlementText(entitlement: CatalogEntitlement, features: Map<string, CatalogFeature>): string {
  const feature = features.get(entitlement.featureId);
  const units = feature?.featureUnitsPlural === undefined ? '' : ` ${feature.featureUnitsPlural}`;
  const per = entitlement.resetPeriod === undefined ? '' : ` ${PER[entitlement.resetPeriod] ?? entitlement.resetPeriod}`;
  let amount = '';
  if (entitlement.hasUnlimitedUsage === true) amount = ' unlimited';
  else if (entitlement.usageLimit !== undefined)
    amount = ` ${entitlement.usageLimit}${units}${per}${entitlement.hasSoftLimit === true ? ' (soft limit)' : ''}`;
  else if (entitlement.enumValues !== undefined) amount = ` ${entitlement.enumValues.join('/')}`;
  else if (feature?.featureType === 'NUMBER') amount = ' (no limit: 0)';
  return `${entitlement.featureId}${amount}`;
}

/** The flat prices, "10 USD/month or 100 USD/year"; '' without any. */
function priceText(prices: CatalogPrice[] | undefined, currency: string): string {
  const flat = (prices ?? []).filter((price) => (price.billingModel ?? 'FLAT_FEE') === 'FLAT_FEE');
  const period = (price: CatalogPrice) => (price.billingPeriod === 'MONTHLY' ? 'month' : 'year');
  return flat.map((price) => `${price.amount} ${currency}/${period(price)}`).join(' or ');
}

function planLine(plan: CatalogPlan, features: Map<string, CatalogFeature>, currency: string): string {
  const price = priceText(plan.prices, currency);
  const head = `    ${plan.id}${plan.displayName === undefined ? '' : ` "${plan.displayName}"`} (${plan.pricingType}${price === '' ? '' : `, ${price}`})`;
  const granted = (plan.entitlements ?? []).map((entitlement) => entitlementText(entitlement, features));
  return `${head}: ${granted.length === 0 ? 'nothing' : granted.join(', ')}`;
}

/**
 * The catalog in a person's words, for the CLI banner and docs/demo-catalog.md: its features, each
 * plan's entitlements and limits, add-ons, coupons and customers (with their plans).
 */
export function catalogSummary(catalog: Catalog): string {
  const features = new Map(catalog.features.map((feature) => [feature.id, feature]));
  const currency = catalog.currency ?? 'USD';
  const lines = ['  Features:', ...catalog.features.map(featureLine), '  Plans:'];
  lines.push(...catalog.plans.map((plan) => planLine(plan, features, currency)));
  const addons = catalog.addons ?? [];
  if (addons.length > 0) {
    lines.push('  Add-ons (on top of the plan, times the quantity):');
    for (const addon of addons) {
      const granted = (addon.entitlements ?? []).map((entitlement) => `+${entitlementText(entitlement, features)}`);
      const price = priceText(addon.prices, currency);
      lines.push(`    ${addon.id}${price === '' ? '' : ` (${price})`}: ${granted.join(', ')}`);
    }
  }
  const coupons = catalog.coupons ?? [];
  if (coupons.length > 0) {
    const off = (coupon: (typeof coupons)[number]) =>
      coupon.type === 'PERCENTAGE' ? `${coupon.discountValue}% off` : `${coupon.discountValue} ${currency} off`;
    lines.push(`  Coupons: ${coupons.map((coupon) => `${coupon.id} (${off(coupon)})`).join(', ')}`);
  }
  const customers = catalog.customers ?? [];
  if (customers.length > 0) {
    lines.push('  Customers:');
    for (const customer of customers) {
      const plans = (customer.subscriptions ?? []).map(
        (subscription) =>
          subscription.planId +
          (subscription.addons ?? [])
            .map((addon) => ` + ${addon.quantity === undefined ? '' : `${addon.quantity} × `}${addon.addonId}`)
            .join(''),
      );
      const extras = [
        ...(customer.archived === true ? ['archived'] : []),
        ...(customer.usage ?? []).map((usage) => `${usage.value} ${usage.featureId} used`),
        ...(customer.promotionalEntitlements ?? []).map((promotion) => `promotion ${promotion.featureId} (${promotion.period})`),
      ];
      lines.push(
        `    ${customer.id}: ${plans.length === 0 ? 'no plan' : plans.join(', ')}${extras.length ? `; ${extras.join(', ')}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
