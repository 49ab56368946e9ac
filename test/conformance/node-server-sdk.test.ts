import Stigg from '@stigg/node-server-sdk';
import { join } from 'node:path';
import { loadCatalogFile, startEmulator, type Catalog, type Emulator } from '../../src/emulator';

const catalog: Catalog = {
  ...loadCatalogFile(join(__dirname, '..', '..', 'examples', 'emulator-catalog.json')),
  customers: [],
};

/** The SDK's warnings and errors go here, so a failure shows what the SDK saw. */
const logged: unknown[][] = [];
const logger = {
  log: () => undefined,
  debug: () => undefined,
  warn: (...a: unknown[]) => logged.push(a),
  error: (...a: unknown[]) => logged.push(a),
};

/**
 * Stigg's server SDK, @stigg/node-server-sdk 3.95.0 (the newest this registry installs), unchanged, with
 * realtime updates off (the emulator pushes no GraphQL subscriptions) and the edge API off (the
 * emulator serves the GraphQL API only). Errors inside the SDK turn into fallback entitlements, so each
 * step asserts isFallback false and values only the emulator can have produced.
 * The emulator runs on the real clock: the SDK rolls usage periods over by its own clock.
 */
describe('conformance: @stigg/node-server-sdk drives the emulator unchanged', () => {
  let emulator: Emulator;
  let stigg: Stigg;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, catalog });
    stigg = Stigg.initialize({
      apiKey: emulator.apiKey,
      baseUri: emulator.url.replace(/\/graphql$/, ''),
      realtimeUpdatesEnabled: false,
      enableEdge: false,
      logConfiguration: { logger, logLevel: 'error' as never },
    });
    await stigg.waitForInitialization();
  });
  afterAll(async () => {
    stigg.close();
    await emulator.stop();
  });

  it('initializes against the emulator (its SDK configuration query answered)', () => {
    expect(emulator.stats().operations.sdkConfiguration).toBe(1);
    expect(logged).toEqual([]);
  });

  it('walks a customer from provisioning to archive, each answer meaning what Stigg means', async () => {
    const provisioned = await stigg.provisionCustomer({
      customerId: 'acme',
      name: 'Acme',
      email: 'ops@acme.test',
      subscriptionParams: { planId: 'plan-revvenu-essentials' },
    });
    expect(provisioned.customer).toMatchObject({ id: 'acme', name: 'Acme', email: 'ops@acme.test' });
    expect(provisioned.subscription).toMatchObject({
      status: 'ACTIVE',
      planId: 'plan-revvenu-essentials',
      customerId: 'acme',
    });

    const customerId = 'acme';
    expect(await stigg.getBooleanEntitlement({ customerId, featureId: 'feature-03-custom-domain' })).toMatchObject({
      isFallback: false,
      hasAccess: true,
    });
    expect(await stigg.getBooleanEntitlement({ customerId, featureId: 'feature-04-analytics' })).toMatchObject({
      isFallback: false,
      hasAccess: false,
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
    });
    expect(await stigg.getNumericEntitlement({ customerId, featureId: 'feature-05-seats' })).toMatchObject({
      isFallback: false,
      hasAccess: true,
      value: 5,
    });
    expect(
      await stigg.getMeteredEntitlement({
        customerId,
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 20 },
      }),
    ).toMatchObject({
      isFallback: false,
      hasAccess: true,
      usageLimit: 20,
      currentUsage: 0,
      hasSoftLimit: false,
    });
    expect(
      await stigg.getMeteredEntitlement({
        customerId,
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 21 },
      }),
    ).toMatchObject({
      isFallback: false,
      hasAccess: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
    });

    expect(await stigg.getBooleanEntitlement({ customerId: 'nobody', featureId: 'feature-03-custom-domain' })).toMatchObject({
      isFallback: false,
      hasAccess: false,
      accessDeniedReason: 'CustomerNotFound',
    });

    // usage: single, bulk, bulk with an idempotency key replayed (the SDK's reportUsage drops unknown keys; bulk passes them on)
    expect(await stigg.reportUsage({ customerId, featureId: 'feature-02-campaigns', value: 3 })).toMatchObject({
      customerId,
      featureId: 'feature-02-campaigns',
      currentUsage: 3,
    });
    const keyed = { customerId, featureId: 'feature-02-campaigns', value: 2, idempotencyKey: 'acme-batch-1' } as never;
    const first = await stigg.reportUsageBulk({ usages: [keyed] });
    const replay = await stigg.reportUsageBulk({ usages: [keyed] });
    expect(first[0]).toMatchObject({ currentUsage: 5 });
    expect(replay).toEqual(first);
    expect(emulator.state.currentUsage(customerId, 'feature-02-campaigns')).toBe(5);
    const metered = await stigg.getMeteredEntitlement({
      customerId,
      featureId: 'feature-02-campaigns',
      options: { requestedUsage: 15 },
    });
    expect(metered).toMatchObject({ isFallback: false, hasAccess: true, currentUsage: 5, usageLimit: 20 });

    // subscriptions: active, provision, update, migrate, cancel
    const active = await stigg.getActiveSubscriptions({ customerId });
    expect(active.map((s) => [s.plan.id, s.status])).toEqual([['plan-revvenu-essentials', 'ACTIVE']]);
    const growth = await stigg.provisionSubscription({ customerId, planId: 'plan-revvenu-growth', skipTrial: true });
    expect(growth).toMatchObject({
      provisionStatus: 'SUCCESS',
      subscription: { status: 'ACTIVE', planId: 'plan-revvenu-growth' },
    });
    const subscriptionId = growth.subscription!.id;
    const updated = await stigg.updateSubscription({
      subscriptionId,
      addons: [{ addonId: 'addon-10-campaigns', quantity: 1 }],
    });
    expect(updated.addons.map((a) => [a.addonId, a.quantity])).toEqual([['addon-10-campaigns', 1]]);
    expect(await stigg.getMeteredEntitlement({ customerId, featureId: 'feature-02-campaigns' })).toMatchObject({
      isFallback: false,
      usageLimit: 110,
      currentUsage: 5,
    });
    expect(await stigg.migrateSubscriptionToLatest({ subscriptionId })).toMatchObject({ subscriptionId });
    const cancelled = await stigg.cancelSubscription({ subscriptionId });
    expect(cancelled.status).toBe('CANCELED');
    // No entitlement left: the SDK reads an empty list as CustomerNotFound (its doesCustomerExist() compromise).
    expect(await stigg.getBooleanEntitlement({ customerId, featureId: 'feature-03-custom-domain' })).toMatchObject({
      isFallback: false,
      hasAccess: false,
      accessDeniedReason: 'CustomerNotFound',
    });

    // coupons and an estimate
    const coupons = await stigg.getCoupons();
    expect(coupons.find((c) => c.id === 'coupon-vip')).toMatchObject({
      name: 'VIP',
      discountValue: 20,
      percentOff: 20,
      amountsOff: null,
    });
    const estimate = await stigg.estimateSubscription({
      customerId,
      planId: 'plan-revvenu-essentials',
      promotionCode: 'coupon-vip',
    });
    expect(estimate).toMatchObject({ subTotal: { amount: 60 }, total: { amount: 48 } });

    // promotional grant and revoke (on the free plan, which has no analytics)
    expect(await stigg.provisionSubscription({ customerId, planId: 'plan-revvenu-basic' })).toMatchObject({
      provisionStatus: 'SUCCESS',
    });
    expect(await stigg.getBooleanEntitlement({ customerId, featureId: 'feature-04-analytics' })).toMatchObject({
      hasAccess: false,
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
    });
    await stigg.grantPromotionalEntitlements({
      customerId,
      promotionalEntitlements: [{ featureId: 'feature-04-analytics', period: 'ONE_WEEK' as never }],
    });
    expect(await stigg.getBooleanEntitlement({ customerId, featureId: 'feature-04-analytics' })).toMatchObject({
      isFallback: false,
      hasAccess: true,
    });
    await stigg.revokePromotionalEntitlements({ customerId, featureId: 'feature-04-analytics' });
    // The SDK decides from the entitlement list, where a revoked feature is simply absent; the API itself says Revoked.
    expect(await stigg.getBooleanEntitlement({ customerId, featureId: 'feature-04-analytics' })).toMatchObject({
      isFallback: false,
      hasAccess: false,
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
    });
    expect(emulator.state.entitlement({ customerId, featureId: 'feature-04-analytics' })).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'Revoked',
    });

    // archive and unarchive
    await stigg.archiveCustomer(customerId);
    await expect(stigg.getCustomer(customerId)).rejects.toThrow(/Customer not found/);
    await stigg.unarchiveCustomer(customerId);
    expect(await stigg.getCustomer(customerId)).toMatchObject({ id: 'acme' });
  });
});

describe('conformance: @stigg/node-server-sdk with its edge API on (its default), pointed at the emulator', () => {
  let emulator: Emulator;
  let stigg: Stigg;

  beforeAll(async () => {
    logged.length = 0;
    emulator = await startEmulator({ port: 0, catalog });
    const origin = emulator.url.replace(/\/graphql$/, '');
    stigg = Stigg.initialize({
      apiKey: emulator.apiKey,
      baseUri: origin,
      baseEdgeUri: origin,
      realtimeUpdatesEnabled: false,
      logConfiguration: { logger, logLevel: 'error' as never },
    });
    await stigg.waitForInitialization();
  });
  afterAll(async () => {
    stigg.close();
    await emulator.stop();
  });

  it('reads entitlements and active subscriptions from the edge routes, and a new customer is CustomerNotFound', async () => {
    await stigg.provisionCustomer({
      customerId: 'edge-co',
      subscriptionParams: { planId: 'plan-revvenu-basic', resourceId: 'site-1' },
    });
    await stigg.provisionSubscription({ customerId: 'edge-co', planId: 'plan-revvenu-essentials' });
    expect(
      await stigg.getMeteredEntitlement({
        customerId: 'edge-co',
        featureId: 'feature-02-campaigns',
        options: { requestedUsage: 20 },
      }),
    ).toMatchObject({ isFallback: false, hasAccess: true, usageLimit: 20 });
    expect(await stigg.getNumericEntitlement({ customerId: 'edge-co', featureId: 'feature-05-seats', resourceId: 'site-1' })).toMatchObject(
      { isFallback: false, value: 1 },
    );
    expect(emulator.stats().operations.edgeEntitlements).toBeGreaterThanOrEqual(2);
    const list = await stigg.getActiveSubscriptionsList({ customerId: 'edge-co' });
    expect(list.map((s) => s.plan.planId).sort()).toEqual(['plan-revvenu-basic', 'plan-revvenu-essentials']);
    const scoped = await stigg.getActiveSubscriptionsList({ customerId: 'edge-co', resourceId: 'site-1' });
    expect(scoped.map((s) => [s.plan.planId, s.resource?.resourceId])).toEqual([['plan-revvenu-basic', 'site-1']]);
    expect(await stigg.getBooleanEntitlement({ customerId: 'nobody', featureId: 'feature-03-custom-domain' })).toMatchObject({
      isFallback: false,
      hasAccess: false,
      accessDeniedReason: 'CustomerNotFound',
    });
    expect(logged).toEqual([]);
  });
});
