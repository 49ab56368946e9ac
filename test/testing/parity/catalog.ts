import type { Catalog, CatalogCustomer, CatalogEntitlement, CatalogFeature, CatalogPlan, CatalogUsage } from '../../../src/emulator';
import type { CustomerFixtures, FeatureFixture, ResourceFixtures } from '../../../src/testing';

/**
 * The emulator's catalog that means what the kit's fixtures mean: one plan per customer (and per
 * resource), a subscription started at `start`, the fixtures' `used` as usage. `false` leaves the
 * feature out of the plan; a customer 'no-subscription' has none; 'archived' is archived.
 */
export function catalogOf(customers: CustomerFixtures, resources: ResourceFixtures, start: number): Catalog {
  const features = new Map<string, CatalogFeature>();
  const plans: CatalogPlan[] = [];
  const catalogCustomers: CatalogCustomer[] = [];

  function feature(featureId: string, fixture: FeatureFixture): void {
    const known = features.get(featureId);
    if (typeof fixture === 'boolean') {
      if (known === undefined) features.set(featureId, { id: featureId, featureType: 'BOOLEAN' });
    } else if (typeof fixture === 'object' && 'values' in fixture) {
      const values = new Set([...(known?.enumValues ?? []), ...fixture.values]);
      features.set(featureId, { id: featureId, featureType: 'ENUM', enumValues: [...values] });
    } else if (typeof fixture === 'object' && 'denied' in fixture) {
      throw new Error(`${featureId}: { denied } has no catalog equivalent`);
    } else {
      features.set(featureId, { id: featureId, featureType: 'NUMBER', meterType: 'Incremental' });
    }
  }

  function entitlement(featureId: string, fixture: FeatureFixture): CatalogEntitlement | undefined {
    if (fixture === false) return undefined;
    if (fixture === true) return { featureId };
    if (fixture === 'unlimited') return { featureId, hasUnlimitedUsage: true };
    if ('values' in fixture) return { featureId, enumValues: [...fixture.values] };
    if ('denied' in fixture) return undefined;
    const reset = fixture.reset === undefined || fixture.reset === 'HOUR' ? {} : { resetPeriod: fixture.reset };
    if ('unlimited' in fixture) return { featureId, hasUnlimitedUsage: true, ...reset };
    return { featureId, usageLimit: fixture.limit, ...(fixture.soft === true ? { hasSoftLimit: true } : {}), ...reset };
  }

  function plan(
    id: string,
    entries: Readonly<Record<string, FeatureFixture>>,
    resourceId: string | undefined,
    usage: CatalogUsage[],
  ): void {
    const entitlements: CatalogEntitlement[] = [];
    for (const [featureId, fixture] of Object.entries(entries)) {
      feature(featureId, fixture);
      const granted = entitlement(featureId, fixture);
      if (granted !== undefined) entitlements.push(granted);
      if (typeof fixture === 'object' && 'used' in fixture && fixture.used !== undefined) {
        usage.push({ featureId, value: fixture.used, ...(resourceId === undefined ? {} : { resourceId }) });
      }
    }
    plans.push({ id, productId: 'product', pricingType: 'FREE', entitlements });
  }

  const ids = new Set([...Object.keys(customers), ...Object.keys(resources)]);
  for (const customerId of ids) {
    const fixture = customers[customerId];
    const customer: CatalogCustomer = { id: customerId, subscriptions: [], usage: [] };
    if (fixture === 'archived') customer.archived = true;
    if (typeof fixture === 'object') {
      plan(`plan-${customerId}`, fixture, undefined, customer.usage as CatalogUsage[]);
      customer.subscriptions?.push({ planId: `plan-${customerId}`, startDate: new Date(start).toISOString() });
    }
    for (const [resourceId, entries] of Object.entries(resources[customerId] ?? {})) {
      const planId = `plan-${customerId}-${resourceId}`;
      plan(planId, entries, resourceId, customer.usage as CatalogUsage[]);
      customer.subscriptions?.push({ planId, resourceId, startDate: new Date(start).toISOString() });
    }
    catalogCustomers.push(customer);
  }
  return { products: [{ id: 'product' }], features: [...features.values()], plans, customers: catalogCustomers };
}
