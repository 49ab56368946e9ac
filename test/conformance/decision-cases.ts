import type { Catalog, CatalogCustomer, CatalogEntitlement, CatalogPlan, CatalogPromotionalEntitlement } from '../../src/emulator';
import { random } from '../support/time';

/** The features of the differential suite; f-ghost is in no catalog (FeatureNotFound), f-extra only in promotions. */
export const FEATURES = ['f-bool', 'f-inc', 'f-flu', 'f-cfg', 'f-enum', 'f-extra', 'f-ghost'] as const;
const ENUM_VALUES = ['a', 'b', 'c', 'd'];

export interface Variant {
  readonly usage: number;
  readonly values: readonly string[];
}

/** What each (customer, resource, feature) is asked: amounts including fractions, values entitled or not, and both at once. */
export function requestVariants(): readonly Variant[] {
  return [
    ...[0, 0.5, 1, 2, 7].map((usage) => ({ usage, values: [] })),
    ...[['a'], ['a', 'b'], ['z'], ['c', 'd']].map((values) => ({ usage: 0, values })),
    { usage: 1, values: ['a'] },
  ];
}

export function generateCatalog(seed: number): Catalog {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const chance = (p: number): boolean => rand() < p;
  const limits = [0, 1, 2, 3, 5];
  const subset = (): string[] => {
    const values = ENUM_VALUES.filter(() => chance(0.5));
    return values.length > 0 ? values : [pick(ENUM_VALUES)];
  };
  const metered = (featureId: string): CatalogEntitlement | undefined => {
    switch (pick(['absent', 'hard', 'soft', 'unlimited', 'no-limit', 'hard'] as const)) {
      case 'absent':
        return undefined;
      case 'hard':
        return { featureId, usageLimit: pick(limits) };
      case 'soft':
        return { featureId, usageLimit: pick(limits), hasSoftLimit: true };
      case 'unlimited':
        return { featureId, hasUnlimitedUsage: true };
      case 'no-limit':
        return { featureId };
    }
  };
  const plans: CatalogPlan[] = Array.from({ length: 10 }, (_, i) => {
    const entitlements = [
      chance(0.6) ? { featureId: 'f-bool' } : undefined,
      metered('f-inc'),
      metered('f-flu'),
      chance(0.6) ? { featureId: 'f-cfg', usageLimit: pick([1, 10, 100]) } : undefined,
      chance(0.6) ? { featureId: 'f-enum', enumValues: subset() } : undefined,
    ].filter((e): e is CatalogEntitlement => e !== undefined);
    return { id: `plan-${i}`, productId: 'product', pricingType: 'FREE', entitlements };
  });
  const addons = [
    { id: 'addon-inc', entitlements: [{ featureId: 'f-inc', usageLimit: 2 }] },
    { id: 'addon-inc-soft', entitlements: [{ featureId: 'f-inc', usageLimit: 1, hasSoftLimit: true }] },
    { id: 'addon-enum', entitlements: [{ featureId: 'f-enum', enumValues: ['c'] }] },
    { id: 'addon-bool', entitlements: [{ featureId: 'f-bool' }] },
  ];
  const promotion = (): CatalogPromotionalEntitlement => {
    const featureId = pick(['f-inc', 'f-flu', 'f-enum', 'f-bool', 'f-extra']);
    const base = { featureId, period: 'LIFETIME' as const };
    if (featureId === 'f-enum') return { ...base, enumValues: subset() };
    if (featureId === 'f-bool' || featureId === 'f-extra') return base;
    const kind = pick(['hard', 'soft', 'unlimited'] as const);
    if (kind === 'unlimited') return { ...base, hasUnlimitedUsage: true };
    return { ...base, usageLimit: pick(limits), ...(kind === 'soft' ? { hasSoftLimit: true } : {}) };
  };
  const customers: CatalogCustomer[] = Array.from({ length: 240 }, (_, i) => {
    const id = `c-${String(i).padStart(3, '0')}`;
    const customer: CatalogCustomer = { id };
    const kind = rand();
    if (kind >= 0.08) {
      const addonsOf = addons.filter(() => chance(0.25)).map((a) => ({ addonId: a.id, quantity: pick([1, 2]) }));
      customer.subscriptions = [{ planId: pick(plans).id, addons: addonsOf }];
      if (chance(0.15)) customer.subscriptions.push({ planId: pick(plans).id, resourceId: 'r1' });
    }
    if (kind >= 0.08 && kind < 0.12) customer.archived = true;
    const promotions = new Map<string, CatalogPromotionalEntitlement>();
    // One promotion per feature at most (a grant replaces the earlier one of its feature).
    if (chance(0.35)) {
      for (let n = 0; n < pick([1, 2]); n += 1) {
        const granted = promotion();
        promotions.set(granted.featureId, granted);
      }
    }
    if (id.endsWith('7')) promotions.set('f-extra', { featureId: 'f-extra', period: 'LIFETIME' });
    if (promotions.size > 0) customer.promotionalEntitlements = [...promotions.values()];
    customer.usage = ['f-inc', 'f-flu'].flatMap((featureId) => {
      const value = pick([0, 1, 2, 2.5, 3, 4, 5]);
      const resourceUsage = customer.subscriptions?.some((s) => s.resourceId === 'r1') === true ? pick([0, 1, 3]) : 0;
      return [
        ...(value > 0 ? [{ featureId, value }] : []),
        ...(resourceUsage > 0 ? [{ featureId, value: resourceUsage, resourceId: 'r1' }] : []),
      ];
    });
    return customer;
  });
  return {
    products: [{ id: 'product' }],
    features: [
      { id: 'f-bool', featureType: 'BOOLEAN' },
      { id: 'f-inc', featureType: 'NUMBER', meterType: 'Incremental' },
      { id: 'f-flu', featureType: 'NUMBER', meterType: 'Fluctuating' },
      { id: 'f-cfg', featureType: 'NUMBER', meterType: 'None' },
      { id: 'f-enum', featureType: 'ENUM', enumValues: ENUM_VALUES },
      { id: 'f-extra', featureType: 'BOOLEAN' },
    ],
    plans,
    addons,
    customers,
  };
}

/** Customers whose f-extra promotion the suite revokes before it starts (Revoked). */
export function revokedOf(catalog: Catalog): string[] {
  return (catalog.customers ?? []).filter((c) => c.id.endsWith('7') && c.archived !== true).map((c) => c.id);
}
