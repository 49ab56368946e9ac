import type { StiggClient } from '../../src/client';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { clientFor, DAY, T0 } from './helpers';

const catalog: Catalog = {
  ...defaultCatalog,
  features: [...defaultCatalog.features, { id: 'feature-max-upload-mb', featureType: 'NUMBER', meterType: 'None' }],
  plans: defaultCatalog.plans.map((plan) =>
    plan.id === 'plan-revvenu-basic'
      ? {
          ...plan,
          entitlements: [...(plan.entitlements ?? []), { featureId: 'feature-max-upload-mb', usageLimit: 10 }],
        }
      : plan,
  ),
};

describe('emulator entitlements (through StiggClient)', () => {
  let emulator: Emulator;
  let client: StiggClient;

  beforeAll(async () => {
    emulator = await startEmulator({ catalog, now: () => T0 });
    client = clientFor(emulator);
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.clock.set(T0);
  });

  async function customerOn(customerId: string, planId?: string, extra: Record<string, unknown> = {}): Promise<void> {
    await client.provisionCustomer({
      customerId,
      ...(planId === undefined ? {} : { subscriptionParams: { planId, ...extra } }),
    });
  }

  describe('every accessDeniedReason', () => {
    it('CustomerNotFound for an unknown customer, answered (not an error)', async () => {
      const e = await client.getEntitlement({ customerId: 'nobody', featureId: 'feature-01-templates' });
      expect(e).toMatchObject({ isGranted: false, accessDeniedReason: 'CustomerNotFound', customerId: 'nobody' });
      expect(e.feature?.refId).toBe('feature-01-templates');
    });

    it('FeatureNotFound for a feature the catalog does not have', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      const e = await client.getEntitlement({ customerId: 'c', featureId: 'feature-nope' });
      expect(e).toMatchObject({ isGranted: false, accessDeniedReason: 'FeatureNotFound', feature: null });
    });

    it('NoActiveSubscription for a customer without a subscription', async () => {
      await customerOn('c');
      const e = await client.getEntitlement({ customerId: 'c', featureId: 'feature-03-custom-domain' });
      expect(e).toMatchObject({ isGranted: false, accessDeniedReason: 'NoActiveSubscription' });
    });

    it('NoFeatureEntitlementInSubscription when the plan lacks the feature', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      const e = await client.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' });
      expect(e).toMatchObject({ isGranted: false, accessDeniedReason: 'NoFeatureEntitlementInSubscription' });
    });

    it('RequestedUsageExceedingLimit exactly when currentUsage + requestedUsage > usageLimit', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      await client.reportUsage({ customerId: 'c', featureId: 'feature-01-templates', value: 2 });
      const fits = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-01-templates',
        options: { requestedUsage: 1 },
      });
      expect(fits).toMatchObject({
        isGranted: true,
        accessDeniedReason: null,
        currentUsage: 2,
        usageLimit: 3,
        requestedUsage: 1,
      });
      const over = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-01-templates',
        options: { requestedUsage: 2 },
      });
      expect(over).toMatchObject({
        isGranted: false,
        accessDeniedReason: 'RequestedUsageExceedingLimit',
        currentUsage: 2,
        usageLimit: 3,
        requestedUsage: 2,
      });
    });

    it('CustomerIsArchived after archiveCustomer, granted again after unarchiveCustomer', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      await client.archiveCustomer('c');
      const archived = await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' });
      expect(archived).toMatchObject({ isGranted: false, accessDeniedReason: 'CustomerIsArchived' });
      await client.unarchiveCustomer('c');
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' })).isGranted).toBe(true);
    });

    it('CustomerResourceNotFound for a resource the customer has no subscription for', async () => {
      await customerOn('c', 'plan-revvenu-basic', { resourceId: 'site-1' });
      const e = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-01-templates',
        resourceId: 'site-2',
      });
      expect(e).toMatchObject({
        isGranted: false,
        accessDeniedReason: 'CustomerResourceNotFound',
        resourceId: 'site-2',
      });
    });

    it('Revoked when a revoked promotional grant was the only source', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      await client.grantPromotionalEntitlements({
        customerId: 'c',
        promotionalEntitlements: [{ featureId: 'feature-04-analytics', period: 'ONE_MONTH' }],
      });
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' })).isGranted).toBe(true);
      await client.revokePromotionalEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' });
      const e = await client.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' });
      expect(e).toMatchObject({ isGranted: false, accessDeniedReason: 'Revoked' });
    });

    it('FeatureTypeMismatch when usage is requested of a BOOLEAN feature', async () => {
      await customerOn('c', 'plan-revvenu-growth');
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' })).isGranted).toBe(true);
      const e = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-04-analytics',
        options: { requestedUsage: 1 },
      });
      expect(e).toMatchObject({ isGranted: false, accessDeniedReason: 'FeatureTypeMismatch' });
    });
  });

  describe('effective entitlement', () => {
    it('unlimited usage always grants', async () => {
      await customerOn('c', 'plan-revvenu-growth');
      await client.reportUsage({ customerId: 'c', featureId: 'feature-01-templates', value: 1_000 });
      const e = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-01-templates',
        options: { requestedUsage: 1e9 },
      });
      expect(e).toMatchObject({ isGranted: true, hasUnlimitedUsage: true, usageLimit: null, currentUsage: 1_000 });
    });

    it('add-ons add their limit times their quantity', async () => {
      await customerOn('c', 'plan-revvenu-basic', { addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }] });
      const e = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 24 },
      });
      expect(e).toMatchObject({ isGranted: true, usageLimit: 24, resetPeriod: 'MONTH' });
    });

    it('a billable feature quantity becomes the limit, and updateSubscription changes it', async () => {
      const { subscription } = await client.provisionSubscription({
        customerId: (await client.provisionCustomer({ customerId: 'c' })).customer.customerId,
        planId: 'plan-revvenu-essentials',
        billableFeatures: [{ featureId: 'feature-01-templates', quantity: 7 }],
      });
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' })).usageLimit).toBe(7);
      await client.updateSubscription({
        subscriptionId: subscription!.subscriptionId,
        billableFeatures: [{ featureId: 'feature-01-templates', quantity: 12 }],
      });
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' })).usageLimit).toBe(12);
    });

    it('a promotional grant wins when it is more generous than the plan', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      await client.grantPromotionalEntitlements({
        customerId: 'c',
        promotionalEntitlements: [{ featureId: 'feature-01-templates', period: 'ONE_WEEK', usageLimit: 50 }],
      });
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' })).usageLimit).toBe(50);
      emulator.clock.advance(7 * DAY);
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' })).usageLimit).toBe(3);
    });

    it('a NUMBER feature without a meter is a configuration value: a plain check is granted, usage asked of it is a type mismatch (as the SDK decides)', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      const plain = await client.getEntitlement({ customerId: 'c', featureId: 'feature-max-upload-mb' });
      expect(plain).toMatchObject({ isGranted: true, usageLimit: 10, currentUsage: 0 });
      const over = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-max-upload-mb',
        options: { requestedUsage: 11 },
      });
      expect(over).toMatchObject({ isGranted: false, accessDeniedReason: 'FeatureTypeMismatch', usageLimit: 10, currentUsage: 0 });
    });

    it('resources have their own subscriptions and usage', async () => {
      await customerOn('c');
      await client.provisionSubscription({ customerId: 'c', planId: 'plan-revvenu-basic', resourceId: 'site-1' });
      await client.provisionSubscription({ customerId: 'c', planId: 'plan-revvenu-growth', resourceId: 'site-2' });
      await client.reportUsage({ customerId: 'c', resourceId: 'site-1', featureId: 'feature-01-templates', value: 3 });
      const site1 = await client.getEntitlement({
        customerId: 'c',
        resourceId: 'site-1',
        featureId: 'feature-01-templates',
        options: { requestedUsage: 1 },
      });
      expect(site1).toMatchObject({
        isGranted: false,
        accessDeniedReason: 'RequestedUsageExceedingLimit',
        currentUsage: 3,
        resourceId: 'site-1',
      });
      const site2 = await client.getEntitlement({
        customerId: 'c',
        resourceId: 'site-2',
        featureId: 'feature-04-analytics',
      });
      expect(site2.isGranted).toBe(true);
      const customerLevel = await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' });
      expect(customerLevel.accessDeniedReason).toBe('NoActiveSubscription');
      expect(await client.getActiveSubscriptions({ customerId: 'c', resourceId: 'site-2' })).toHaveLength(1);
      expect(await client.getActiveSubscriptions({ customerId: 'c' })).toHaveLength(2);
    });

    it('cachedEntitlements lists every granted feature with its usage', async () => {
      await customerOn('c', 'plan-revvenu-essentials');
      await client.reportUsage({ customerId: 'c', featureId: 'feature-02-campaigns', value: 5 });
      const all = await client.getEntitlements({ customerId: 'c' });
      expect(all.map((e) => e.feature?.refId).sort()).toEqual(['feature-01-templates', 'feature-02-campaigns', 'feature-03-custom-domain']);
      expect(all.find((e) => e.feature?.refId === 'feature-02-campaigns')).toMatchObject({
        isGranted: true,
        currentUsage: 5,
        usageLimit: 20,
        resetPeriod: 'MONTH',
      });
      // As Stigg answers it (its node SDK reads the empty list as CustomerNotFound): no error for an unknown customer or resource.
      expect(await client.getEntitlements({ customerId: 'nobody' })).toEqual([]);
      expect(await client.getEntitlements({ customerId: 'c', resourceId: 'no-such-site' })).toEqual([]);
    });
  });

  describe('reset periods by the emulator clock, anchored at the subscription start', () => {
    it('MONTH: usage rolls over at usagePeriodEnd; a Fluctuating feature does not reset', async () => {
      await customerOn('c', 'plan-revvenu-basic');
      await client.reportUsage({ customerId: 'c', featureId: 'feature-02-campaigns', value: 4 });
      await client.reportUsage({ customerId: 'c', featureId: 'feature-01-templates', value: 2 });
      const full = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 1 },
      });
      expect(full).toMatchObject({
        isGranted: false,
        accessDeniedReason: 'RequestedUsageExceedingLimit',
        usagePeriodAnchor: '2026-01-15T10:00:00.000Z',
        usagePeriodStart: '2026-01-15T10:00:00.000Z',
        usagePeriodEnd: '2026-02-15T10:00:00.000Z',
        nextResetDate: '2026-02-15T10:00:00.000Z',
      });

      emulator.clock.set(Date.parse(full.usagePeriodEnd!) - 1);
      expect(
        (
          await client.getEntitlement({
            customerId: 'c',
            featureId: 'feature-02-campaigns',
            options: { requestedUsage: 1 },
          })
        ).isGranted,
      ).toBe(false);

      emulator.clock.set(Date.parse(full.usagePeriodEnd!));
      const next = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 1 },
      });
      expect(next).toMatchObject({
        isGranted: true,
        currentUsage: 0,
        usagePeriodStart: '2026-02-15T10:00:00.000Z',
        usagePeriodEnd: '2026-03-15T10:00:00.000Z',
      });
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' })).currentUsage).toBe(2);
      const reported = await client.reportUsage({ customerId: 'c', featureId: 'feature-02-campaigns', value: 1 });
      expect(reported).toMatchObject({ currentUsage: 1, usagePeriodEnd: '2026-03-15T10:00:00.000Z' });
    });

    it.each([
      ['DAY', DAY, '2026-01-16T10:00:00.000Z'],
      ['WEEK', 7 * DAY, '2026-01-22T10:00:00.000Z'],
      ['YEAR', 365 * DAY, '2027-01-15T10:00:00.000Z'],
    ] as const)('%s', async (resetPeriod, length, end) => {
      await customerOn('c');
      await client.grantPromotionalEntitlements({
        customerId: 'c',
        promotionalEntitlements: [{ featureId: 'feature-02-campaigns', period: 'LIFETIME', usageLimit: 2, resetPeriod }],
      });
      await client.reportUsage({ customerId: 'c', featureId: 'feature-02-campaigns', value: 2 });
      const full = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 1 },
      });
      expect(full).toMatchObject({ isGranted: false, resetPeriod, usagePeriodEnd: end });
      emulator.clock.advance(length);
      const next = await client.getEntitlement({
        customerId: 'c',
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 1 },
      });
      expect(next).toMatchObject({ isGranted: true, currentUsage: 0, usagePeriodStart: end });
    });
  });
});
