import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CatalogError,
  defaultCatalog,
  EmulatorState,
  loadCatalogFile,
  startEmulator,
  validateCatalog,
  type Catalog,
} from '../../src/emulator';
import { clientFor, T0 } from './helpers';

const minimal = (): Catalog => ({
  products: [{ id: 'p' }],
  features: [
    { id: 'seats', featureType: 'NUMBER', meterType: 'Fluctuating' },
    { id: 'sso', featureType: 'BOOLEAN' },
  ],
  plans: [{ id: 'free', productId: 'p', pricingType: 'FREE', entitlements: [{ featureId: 'seats', usageLimit: 5 }] }],
});

describe('catalog validation', () => {
  it('accepts the default Revvenu catalog', () => {
    expect(validateCatalog(defaultCatalog)).toBe(defaultCatalog);
    expect(defaultCatalog.plans.map((p) => p.id)).toEqual(['plan-revvenu-basic', 'plan-revvenu-essentials', 'plan-revvenu-growth']);
  });

  it.each<[string, (c: Catalog & Record<string, unknown>) => void, string]>([
    ['a missing list', (c) => delete (c as Partial<Catalog>).plans, 'plans must be an array (it is required).'],
    [
      'an unknown feature in a plan',
      (c) => (c.plans[0]!.entitlements = [{ featureId: 'nope' }]),
      'plans[0].entitlements[0].featureId "nope" does not name a feature in features[] (declared: seats, sso).',
    ],
    ['an unknown product', (c) => (c.plans[0]!.productId = 'q'), 'plans[0].productId "q" does not name a product in products[]'],
    ['a duplicate id', (c) => c.features.push({ id: 'seats', featureType: 'BOOLEAN' }), 'features[2].id "seats" is declared twice.'],
    [
      'a bad enum',
      (c) => ((c.features[0] as unknown as Record<string, unknown>).meterType = 'Monthly'),
      'features[0].meterType must be one of None, Fluctuating, Incremental, got "Monthly".',
    ],
    [
      'a limit on a boolean feature',
      (c) => c.plans[0]!.entitlements!.push({ featureId: 'sso', usageLimit: 1 }),
      'plans[0].entitlements[1] grants the BOOLEAN feature "sso"',
    ],
    [
      'a negative limit',
      (c) => (c.plans[0]!.entitlements![0]!.usageLimit = -1),
      'plans[0].entitlements[0].usageLimit must be a finite number >= 0, got -1.',
    ],
    [
      'a per-unit price of a feature the plan lacks',
      (c) => (c.plans[0]!.prices = [{ billingPeriod: 'MONTHLY', amount: 1, billingModel: 'PER_UNIT', featureId: 'sso' }]),
      'plans[0].prices[0].featureId "sso" is priced per unit but not entitled by this package.',
    ],
    [
      'a customer on an unknown plan',
      (c) => (c.customers = [{ id: 'c', subscriptions: [{ planId: 'gold' }] }]),
      'customers[0].subscriptions[0].planId "gold" does not name a plan',
    ],
    [
      'usage of a boolean feature',
      (c) => (c.customers = [{ id: 'c', usage: [{ featureId: 'sso', value: 1 }] }]),
      'customers[0].usage[0].featureId "sso" is not a NUMBER feature',
    ],
    [
      'a bad date',
      (c) => (c.customers = [{ id: 'c', subscriptions: [{ planId: 'free', startDate: 'soon' }] }]),
      'customers[0].subscriptions[0].startDate must be an ISO 8601 date string, got "soon".',
    ],
    [
      'a CUSTOM promotion without an end',
      (c) => (c.customers = [{ id: 'c', promotionalEntitlements: [{ featureId: 'sso', period: 'CUSTOM' }] }]),
      'customers[0].promotionalEntitlements[0].customEndDate is required when period is CUSTOM.',
    ],
    [
      'a percentage over 100',
      (c) => (c.coupons = [{ id: 'x', name: 'X', type: 'PERCENTAGE', discountValue: 120 }]),
      'coupons[0].discountValue is a percentage and must be <= 100',
    ],
  ])('rejects %s with the path and the problem', (_, mutate, message) => {
    const catalog = minimal() as Catalog & Record<string, unknown>;
    mutate(catalog);
    expect(() => validateCatalog(catalog)).toThrow(CatalogError);
    expect(() => validateCatalog(catalog)).toThrow(message);
  });

  it('startEmulator rejects an invalid catalog before listening', async () => {
    await expect(startEmulator({ catalog: { ...minimal(), features: 'seats' } as unknown as Catalog })).rejects.toThrow(
      'features must be an array',
    );
  });

  describe('files', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'stigg-catalog-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('names the file in every error', () => {
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{ "products": [');
      expect(() => loadCatalogFile(broken)).toThrow(`Invalid emulator catalog (${broken}): file is not valid JSON`);
      expect(() => loadCatalogFile(join(dir, 'missing.json'))).toThrow('file could not be read');
      const wrong = join(dir, 'wrong.json');
      writeFileSync(wrong, JSON.stringify({ ...minimal(), plans: [{ id: 'free', productId: 'p', pricingType: 'GRATIS' }] }));
      expect(() => loadCatalogFile(wrong)).toThrow(`(${wrong}): plans[0].pricingType must be one of FREE, PAID, CUSTOM, got "GRATIS".`);
    });

    it('loads customers with subscriptions, usage, promotions and archived flags from a file', async () => {
      const file = join(dir, 'catalog.json');
      writeFileSync(
        file,
        JSON.stringify({
          ...minimal(),
          customers: [
            {
              id: 'acme',
              name: 'Acme',
              subscriptions: [{ id: 'sub-acme', planId: 'free', startDate: '2026-01-01T00:00:00.000Z' }],
              usage: [{ featureId: 'seats', value: 4 }],
              promotionalEntitlements: [{ featureId: 'sso', period: 'LIFETIME' }],
            },
            { id: 'gone', name: 'Gone', archived: true, subscriptions: [{ planId: 'free' }] },
          ],
        }),
      );
      const emulator = await startEmulator({ catalog: file, now: () => T0 });
      try {
        const client = clientFor(emulator);
        expect(await client.getEntitlement({ customerId: 'acme', featureId: 'seats', options: { requestedUsage: 1 } })).toMatchObject({
          isGranted: true,
          currentUsage: 4,
          usageLimit: 5,
        });
        expect((await client.getEntitlement({ customerId: 'acme', featureId: 'sso' })).isGranted).toBe(true);
        expect(await client.getSubscription('sub-acme')).toMatchObject({
          status: 'ACTIVE',
          startDate: '2026-01-01T00:00:00.000Z',
        });
        expect((await client.getEntitlement({ customerId: 'gone', featureId: 'seats' })).accessDeniedReason).toBe('CustomerIsArchived');
        expect(emulator.stats()).toEqual({
          requests: 4,
          operations: { entitlement: 3, getSubscription: 1 },
          faults: { http5xx: 0, dropped: 0 },
          usage: {},
          webhooks: { deliveries: [], failed: 0 },
          checkReports: { calls: 0, reports: 0, granted: 0, denied: 0 },
        });
      } finally {
        await emulator.stop();
      }
    });
  });

  it('EmulatorState can be driven in-process, and publishPlan validates the new version', () => {
    const state = new EmulatorState(minimal(), { now: () => T0, set: () => undefined, advance: () => undefined });
    state.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'free' } });
    state.reportUsage({ customerId: 'c', featureId: 'seats', value: 2 });
    expect(state.currentUsage('c', 'seats')).toBe(2);
    expect(state.entitlement({ customerId: 'c', featureId: 'seats', options: { requestedUsage: 4 } })).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
    });
    expect(() => state.publishPlan({ id: 'free', productId: 'p', pricingType: 'FREE', entitlements: [{ featureId: 'nope' }] })).toThrow(
      'plans[0].entitlements[0].featureId "nope"',
    );
  });
});
