import { startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { post, T0 } from './helpers';

/**
 * The decision rules of Stigg's SDK (entitlementDecisionService) and the generous merge of sources,
 * asserted over HTTP with the fields the client's documents do not select (hasSoftLimit, enumValues,
 * requestedValues).
 */
const catalog: Catalog = {
  products: [{ id: 'app' }, { id: 'extra' }],
  features: [
    { id: 'seats', featureType: 'NUMBER', meterType: 'Fluctuating' },
    { id: 'region', featureType: 'ENUM', enumValues: ['eu', 'us', 'ap'] },
    { id: 'sso', featureType: 'BOOLEAN' },
    { id: 'max-upload', featureType: 'NUMBER', meterType: 'None' },
  ],
  plans: [
    {
      id: 'soft',
      productId: 'app',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'seats', usageLimit: 5, hasSoftLimit: true },
        { featureId: 'region', enumValues: ['eu'] },
        { featureId: 'sso' },
        { featureId: 'max-upload', usageLimit: 10 },
      ],
    },
    { id: 'hard', productId: 'app', pricingType: 'FREE', entitlements: [{ featureId: 'seats', usageLimit: 5 }] },
    {
      id: 'hard-20',
      productId: 'extra',
      pricingType: 'FREE',
      entitlements: [
        { featureId: 'seats', usageLimit: 20 },
        { featureId: 'region', enumValues: ['us'] },
      ],
    },
    { id: 'unlimited', productId: 'extra', pricingType: 'FREE', entitlements: [{ featureId: 'seats', hasUnlimitedUsage: true }] },
  ],
  addons: [
    { id: 'seats-pack', entitlements: [{ featureId: 'seats', usageLimit: 3 }] },
    { id: 'seats-soft', entitlements: [{ featureId: 'seats', usageLimit: 1, hasSoftLimit: true }] },
    { id: 'region-ap', entitlements: [{ featureId: 'region', enumValues: ['ap'] }] },
  ],
  customers: [
    { id: 'soft', subscriptions: [{ planId: 'soft' }], usage: [{ featureId: 'seats', value: 7 }] },
    { id: 'hard', subscriptions: [{ planId: 'hard' }], usage: [{ featureId: 'seats', value: 5 }] },
    // Two subscriptions (two products): soft 5 against hard 20.
    { id: 'soft-and-hard', subscriptions: [{ planId: 'soft' }, { planId: 'hard-20' }], usage: [{ featureId: 'seats', value: 30 }] },
    { id: 'soft-and-unlimited', subscriptions: [{ planId: 'soft' }, { planId: 'unlimited' }] },
    {
      id: 'hard-with-addons',
      subscriptions: [{ planId: 'hard', addons: [{ addonId: 'seats-pack', quantity: 2 }] }],
      usage: [{ featureId: 'seats', value: 11 }],
    },
    {
      id: 'hard-with-soft-addon',
      subscriptions: [{ planId: 'hard', addons: [{ addonId: 'seats-soft' }] }],
      usage: [{ featureId: 'seats', value: 100 }],
    },
    { id: 'regions', subscriptions: [{ planId: 'soft', addons: [{ addonId: 'region-ap' }] }, { planId: 'hard-20' }] },
  ],
};

const ENTITLEMENT = /* GraphQL */ `
  query E($query: FetchEntitlementQuery!) {
    entitlement(query: $query) {
      isGranted
      accessDeniedReason
      usageLimit
      hasUnlimitedUsage
      hasSoftLimit
      currentUsage
      requestedUsage
      requestedValues
      enumValues
    }
  }
`;

const STATE = /* GraphQL */ `
  query S($query: FetchEntitlementsQuery!) {
    entitlementsState(query: $query) {
      accessDeniedReason
      entitlements {
        isGranted
        usageLimit
        hasSoftLimit
        currentUsage
        enumValues
        feature {
          refId
        }
      }
    }
  }
`;

const GRANT = /* GraphQL */ `
  mutation G($input: GrantPromotionalEntitlementsInput!) {
    grantPromotionalEntitlements(input: $input) {
      usageLimit
      hasSoftLimit
      enumValues
    }
  }
`;

type Entitlement = Record<string, unknown>;

describe('entitlement decisions and merging, over HTTP', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ catalog, now: () => T0 });
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  async function check(
    customerId: string,
    featureId: string,
    options: { requestedUsage?: number; requestedValues?: string[] } = {},
  ): Promise<Entitlement> {
    const res = await post<{ entitlement: Entitlement }>(emulator, ENTITLEMENT, { query: { customerId, featureId, options } });
    expect(res.errors).toBeUndefined();
    return res.data!.entitlement;
  }

  async function state(customerId: string): Promise<Record<string, Entitlement>> {
    const res = await post<{ entitlementsState: { entitlements: Array<Entitlement & { feature: { refId: string } }> } }>(emulator, STATE, {
      query: { customerId },
    });
    expect(res.errors).toBeUndefined();
    return Object.fromEntries(res.data!.entitlementsState.entitlements.map((e) => [e.feature.refId, e]));
  }

  async function grant(customerId: string, promotion: Record<string, unknown>): Promise<Entitlement> {
    const res = await post<{ grantPromotionalEntitlements: Entitlement[] }>(emulator, GRANT, {
      input: { customerId, promotionalEntitlements: [{ period: 'ONE_MONTH', ...promotion }] },
    });
    expect(res.errors).toBeUndefined();
    return res.data!.grantPromotionalEntitlements[0]!;
  }

  describe('soft limits', () => {
    it('a soft limit grants past the limit; the same usage on a hard limit is denied', async () => {
      expect(await check('soft', 'seats', { requestedUsage: 1 })).toMatchObject({
        isGranted: true,
        accessDeniedReason: null,
        hasSoftLimit: true,
        usageLimit: 5,
        currentUsage: 7,
        requestedUsage: 1,
      });
      expect(await check('hard', 'seats', { requestedUsage: 1 })).toMatchObject({
        isGranted: false,
        accessDeniedReason: 'RequestedUsageExceedingLimit',
        hasSoftLimit: false,
      });
    });

    it('entitlementsState lists a soft-limited entitlement past its limit, with hasSoftLimit', async () => {
      expect((await state('soft')).seats).toEqual({
        isGranted: true,
        usageLimit: 5,
        hasSoftLimit: true,
        currentUsage: 7,
        enumValues: null,
        feature: { refId: 'seats' },
      });
    });
  });

  describe('merging sources', () => {
    it('within one subscription add-on limits add, times the quantity', async () => {
      expect(await check('hard-with-addons', 'seats')).toMatchObject({ isGranted: true, usageLimit: 11, hasSoftLimit: false });
      expect(await check('hard-with-addons', 'seats', { requestedUsage: 1 })).toMatchObject({ isGranted: false });
    });

    it('within one subscription a soft add-on makes the summed limit soft', async () => {
      expect(await check('hard-with-soft-addon', 'seats', { requestedUsage: 1 })).toMatchObject({
        isGranted: true,
        usageLimit: 6,
        hasSoftLimit: true,
        currentUsage: 100,
      });
    });

    it('across subscriptions a soft limit beats a larger hard limit', async () => {
      expect(await check('soft-and-hard', 'seats', { requestedUsage: 1 })).toMatchObject({
        isGranted: true,
        usageLimit: 5,
        hasSoftLimit: true,
      });
    });

    it('across subscriptions unlimited beats a soft limit', async () => {
      expect(await check('soft-and-unlimited', 'seats')).toMatchObject({
        isGranted: true,
        hasUnlimitedUsage: true,
        hasSoftLimit: false,
        usageLimit: null,
      });
    });

    it('a promotion: the larger hard limit prevails, a soft one beats a larger hard one, a smaller soft one loses to a soft one', async () => {
      expect(await grant('hard', { featureId: 'seats', usageLimit: 9 })).toMatchObject({ usageLimit: 9, hasSoftLimit: false });
      expect(await check('hard', 'seats', { requestedUsage: 4 })).toMatchObject({ isGranted: true, usageLimit: 9 });
      expect(await check('hard', 'seats', { requestedUsage: 5 })).toMatchObject({ isGranted: false, usageLimit: 9 });

      await grant('hard-with-addons', { featureId: 'seats', usageLimit: 2, hasSoftLimit: true });
      expect(await check('hard-with-addons', 'seats', { requestedUsage: 1 })).toMatchObject({
        isGranted: true,
        usageLimit: 2,
        hasSoftLimit: true,
      });

      await grant('soft', { featureId: 'seats', usageLimit: 3, hasSoftLimit: true });
      expect(await check('soft', 'seats')).toMatchObject({ usageLimit: 5, hasSoftLimit: true });
      await grant('soft', { featureId: 'seats', usageLimit: 8, hasSoftLimit: true });
      expect(await check('soft', 'seats')).toMatchObject({ usageLimit: 8, hasSoftLimit: true });
    });
  });

  describe('ENUM features', () => {
    it('grants requested values the plan entitles and answers RequestedValuesMismatch for others', async () => {
      expect(await check('soft', 'region', { requestedValues: ['eu'] })).toMatchObject({
        isGranted: true,
        requestedValues: ['eu'],
        enumValues: ['eu'],
        usageLimit: null,
      });
      expect(await check('soft', 'region', { requestedValues: ['eu', 'us'] })).toMatchObject({
        isGranted: false,
        accessDeniedReason: 'RequestedValuesMismatch',
        requestedValues: ['eu', 'us'],
      });
    });

    it('grants an empty request, echoing requestedValues null', async () => {
      expect(await check('soft', 'region')).toMatchObject({ isGranted: true, requestedValues: null, enumValues: ['eu'] });
      expect(await check('soft', 'region', { requestedValues: [] })).toMatchObject({ isGranted: true, requestedValues: null });
    });

    it('unites the values of plan, add-on, other subscriptions and promotions', async () => {
      const merged = await check('regions', 'region', { requestedValues: ['eu', 'us', 'ap'] });
      expect(merged).toMatchObject({ isGranted: true });
      expect([...(merged.enumValues as string[])].sort()).toEqual(['ap', 'eu', 'us']);

      expect(await check('soft', 'region', { requestedValues: ['ap'] })).toMatchObject({ isGranted: false });
      expect(await grant('soft', { featureId: 'region', enumValues: ['ap'] })).toMatchObject({ enumValues: ['ap'] });
      expect(await check('soft', 'region', { requestedValues: ['eu', 'ap'] })).toMatchObject({ isGranted: true });
    });

    it('entitlementsState lists an ENUM entitlement with its values', async () => {
      expect((await state('soft')).region).toMatchObject({ isGranted: true, enumValues: ['eu'], usageLimit: null });
    });

    it('refuses a promotion with values of a non-ENUM feature or not among the feature values', async () => {
      for (const promotion of [
        { featureId: 'seats', enumValues: ['eu'] },
        { featureId: 'region', enumValues: ['mars'] },
      ]) {
        const res = await post(emulator, GRANT, {
          input: { customerId: 'soft', promotionalEntitlements: [{ period: 'ONE_MONTH', ...promotion }] },
        });
        expect(res.errors?.[0]?.message).toMatch(/enumValues/);
      }
    });
  });

  describe('FeatureTypeMismatch', () => {
    it.each<[string, { requestedUsage?: number; requestedValues?: string[] }]>([
      ['sso', { requestedUsage: 1 }],
      ['sso', { requestedValues: ['eu'] }],
      ['region', { requestedUsage: 1 }],
      ['seats', { requestedValues: ['eu'] }],
      ['max-upload', { requestedValues: ['eu'] }],
    ])('%s with %j', async (featureId, options) => {
      expect(await check('soft', featureId)).toMatchObject({ isGranted: true });
      expect(await check('soft', featureId, options)).toMatchObject({ isGranted: false, accessDeniedReason: 'FeatureTypeMismatch' });
    });
  });

  it('a configuration value (NUMBER, meterType None) is granted to a plain check; usage asked of it is FeatureTypeMismatch', async () => {
    expect(await check('soft', 'max-upload')).toMatchObject({ isGranted: true, usageLimit: 10, currentUsage: 0 });
    expect(await check('soft', 'max-upload', { requestedUsage: 1 })).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'FeatureTypeMismatch',
      usageLimit: 10,
      requestedUsage: 1,
    });
  });
});
