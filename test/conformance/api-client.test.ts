import { StiggManagement, type StiggManagementClient } from '@stigg/api-client-js';
import { ClientError } from '@stigg/api-client-js/node_modules/graphql-request';
import { join } from 'node:path';
import { loadCatalogFile, startEmulator, type Catalog, type Emulator } from '../../src/emulator';

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const catalog: Catalog = {
  ...loadCatalogFile(join(__dirname, '..', '..', 'examples', 'emulator-catalog.json')),
  customers: [],
};

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error.response.errors?.[0]?.extensions?.code as string | undefined;
    throw error;
  }
  throw new Error('expected a GraphQL error');
}

/**
 * Stigg's official management client, @stigg/api-client-js 3.108.0, unchanged: StiggManagement.createClient()
 * is getSdk() over the graphql-request client the package ships, sending X-API-KEY and x-graphql-operation-name.
 */
describe('conformance: @stigg/api-client-js drives the emulator unchanged', () => {
  let emulator: Emulator;
  let stigg: StiggManagementClient;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, catalog, now: () => T0 });
    stigg = StiggManagement.createClient({ apiUrl: emulator.url, apiKey: emulator.apiKey });
  });
  afterAll(() => emulator.stop());

  it('walks a customer from provisioning to archive, each answer meaning what Stigg means', async () => {
    // provision a customer with a plan
    const { provisionCustomer } = await stigg.ProvisionCustomer({
      input: {
        customerId: 'acme',
        name: 'Acme',
        email: 'ops@acme.test',
        subscriptionParams: { planId: 'plan-revvenu-essentials' },
      },
    });
    expect(provisionCustomer.subscriptionDecisionStrategy).toBe('REQUESTED_PLAN');
    expect(provisionCustomer.customer).toMatchObject({ customerId: 'acme', name: 'Acme', email: 'ops@acme.test' });
    expect(provisionCustomer.subscription).toMatchObject({
      status: 'ACTIVE',
      plan: { refId: 'plan-revvenu-essentials' },
      pricingType: 'PAID',
    });
    expect(provisionCustomer.subscription?.totalPrice?.total).toEqual({ amount: 60, currency: 'USD' });
    expect(provisionCustomer.entitlements?.find((e) => e.feature?.refId === 'feature-02-campaigns')).toMatchObject({
      isGranted: true,
      usageLimit: 20,
      hasSoftLimit: false,
      resetPeriod: 'MONTH',
    });

    // boolean, numeric and metered entitlements, with requestedUsage
    const entitlement = async (featureId: string, requestedUsage?: number) =>
      (
        await stigg.GetEntitlement({
          query: {
            customerId: 'acme',
            featureId,
            ...(requestedUsage === undefined ? {} : { options: { requestedUsage } }),
          },
        })
      ).entitlement;
    expect(await entitlement('feature-03-custom-domain')).toMatchObject({
      isGranted: true,
      accessDeniedReason: null,
      feature: { featureType: 'BOOLEAN' },
    });
    expect(await entitlement('feature-04-analytics')).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'NoFeatureEntitlementInSubscription',
    });
    expect(await entitlement('feature-05-seats')).toMatchObject({
      isGranted: true,
      usageLimit: 5,
      feature: { featureType: 'NUMBER', meterType: 'None' },
    });
    expect(await entitlement('feature-02-campaigns', 20)).toMatchObject({
      isGranted: true,
      usageLimit: 20,
      currentUsage: 0,
      requestedUsage: 20,
    });
    expect(await entitlement('feature-02-campaigns', 21)).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
    });

    // report usage: single, bulk, with an idempotency key, replayed
    const single = (await stigg.ReportUsage({ input: { customerId: 'acme', featureId: 'feature-02-campaigns', value: 3 } })).reportUsage;
    expect(single).toMatchObject({
      customerId: 'acme',
      featureId: 'feature-02-campaigns',
      currentUsage: 3,
      usagePeriodStart: '2026-03-02T09:00:00.000Z',
    });
    const bulk = (
      await stigg.ReportUsageBulk({
        input: {
          usages: [
            { customerId: 'acme', featureId: 'feature-02-campaigns', value: 2 },
            { customerId: 'acme', featureId: 'feature-01-templates', value: 4, updateBehavior: 'SET' as never },
          ],
        },
      })
    ).reportUsageBulk;
    expect(bulk.map((u) => u.currentUsage)).toEqual([5, 4]);
    const keyed = {
      customerId: 'acme',
      featureId: 'feature-02-campaigns',
      value: 1,
      idempotencyKey: 'acme-campaign-42',
    };
    const first = (await stigg.ReportUsage({ input: keyed })).reportUsage;
    const replay = (await stigg.ReportUsage({ input: keyed })).reportUsage;
    expect(first.currentUsage).toBe(6);
    expect(replay).toEqual(first);

    // raw events count toward the feature metering their name (examples/emulator-catalog.json: campaign_sent)
    const event = {
      customerId: 'acme',
      eventName: 'campaign_sent',
      idempotencyKey: 'evt-1',
      dimensions: { channel: 'email' },
    };
    expect((await stigg.ReportEvent({ input: { usageEvents: [event, event] } })).reportEvent).toBeNull();
    expect(emulator.state.currentUsage('acme', 'feature-02-campaigns')).toBe(7);
    await stigg.ReportUsage({ input: { customerId: 'acme', featureId: 'feature-02-campaigns', value: -1 } });

    expect(await entitlement('feature-02-campaigns', 14)).toMatchObject({ isGranted: true, currentUsage: 6 });
    expect(await entitlement('feature-02-campaigns', 15)).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      currentUsage: 6,
    });
    const all = (await stigg.GetEntitlements({ query: { customerId: 'acme' } })).entitlements;
    expect(all.map((e) => e.feature?.refId).sort()).toEqual([
      'feature-01-templates',
      'feature-02-campaigns',
      'feature-03-custom-domain',
      'feature-05-seats',
    ]);
    expect(all.find((e) => e.feature?.refId === 'feature-01-templates')).toMatchObject({
      currentUsage: 4,
      usageLimit: 10,
    });

    // update the customer; the check-requested report is acknowledged
    const updatedCustomer = (await stigg.UpdateCustomer({ input: { customerId: 'acme', name: 'Acme Inc', couponRefId: 'coupon-welcome' } }))
      .updateCustomer;
    expect(updatedCustomer).toMatchObject({ customerId: 'acme', name: 'Acme Inc', email: 'ops@acme.test' });
    const full = (await stigg.GetCustomerById({ input: { customerId: 'acme' } })).getCustomerByRefId;
    expect(full).toMatchObject({
      coupon: { refId: 'coupon-welcome', amountsOff: [{ amount: 5, currency: 'USD' }] },
      hasActiveSubscription: true,
      promotionalEntitlements: [],
    });
    expect(full?.subscriptions?.map((sub) => sub.plan.refId)).toEqual(['plan-revvenu-essentials']);
    await stigg.UpdateCustomer({ input: { customerId: 'acme', couponRefId: null } });
    const check = {
      customerId: 'acme',
      featureId: 'feature-02-campaigns',
      entitlementCheckResult: { hasAccess: true },
    };
    expect((await stigg.ReportEntitlementCheckRequested({ entitlementCheckRequested: check })).reportEntitlementCheckRequested).toBe(true);

    const active = (await stigg.GetActiveSubscriptions({ input: { customerId: 'acme' } })).getActiveSubscriptions;
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({
      status: 'ACTIVE',
      plan: { refId: 'plan-revvenu-essentials' },
      payingCustomer: null,
    });
    expect(active[0]?.prices?.map((p) => p.price?.price?.amount)).toEqual([10, 5]);
    expect(active[0]?.plan.entitlements?.find((e) => e.feature.refId === 'feature-02-campaigns')).toMatchObject({
      usageLimit: 20,
      resetPeriod: 'MONTH',
      isGranted: true,
    });

    // provision, update, cancel and migrate a subscription
    const growth = (
      await stigg.ProvisionSubscription({
        input: { customerId: 'acme', planId: 'plan-revvenu-growth', skipTrial: true },
      })
    ).provisionSubscription;
    expect(growth.status).toBe('SUCCESS');
    const subscriptionId = growth.subscription?.subscriptionId as string;
    expect(growth.subscription).toMatchObject({ status: 'ACTIVE', plan: { refId: 'plan-revvenu-growth' } });
    expect(growth.entitlements?.find((e) => e.feature?.refId === 'feature-04-analytics')).toMatchObject({
      isGranted: true,
    });
    expect((await stigg.GetSubscription({ input: { subscriptionId: active[0]?.subscriptionId as string } })).getSubscription.status).toBe(
      'CANCELED',
    );
    expect(await entitlement('feature-04-analytics')).toMatchObject({ isGranted: true });
    expect(await entitlement('feature-02-campaigns')).toMatchObject({ usageLimit: 100, currentUsage: 6 });

    const updated = (
      await stigg.UpdateSubscription({
        input: { subscriptionId, addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }] },
      })
    ).updateSubscription;
    expect(updated.addons?.map((a) => [a.addon.refId, a.quantity])).toEqual([['addon-10-campaigns', 2]]);
    expect(updated.totalPrice?.total.amount).toBe(60);
    expect(await entitlement('feature-02-campaigns')).toMatchObject({ usageLimit: 120 });

    const growthPlan = catalog.plans.find((p) => p.id === 'plan-revvenu-growth');
    emulator.state.publishPlan({
      ...growthPlan!,
      entitlements: growthPlan!.entitlements!.map((e) => (e.featureId === 'feature-05-seats' ? { ...e, usageLimit: 50 } : e)),
    });
    expect(await entitlement('feature-05-seats')).toMatchObject({ usageLimit: 20 });
    const migrated = (await stigg.MigrateSubscriptionToLatest({ input: { subscriptionId } })).migrateSubscriptionToLatest;
    expect(migrated).toEqual({ subscriptionId });
    expect((await stigg.GetSubscription({ input: { subscriptionId } })).getSubscription.plan).toMatchObject({
      refId: 'plan-revvenu-growth',
      versionNumber: 2,
    });
    expect(await entitlement('feature-05-seats')).toMatchObject({ usageLimit: 50 });

    // coupons and estimates
    const coupons = (await stigg.GetCoupons()).coupons.edges.map((e) => e.node);
    expect(coupons.find((c) => c.refId === 'coupon-vip')).toMatchObject({
      type: 'PERCENTAGE',
      discountValue: 20,
      percentOff: 20,
      amountsOff: null,
      status: 'ACTIVE',
    });
    expect(coupons.find((c) => c.refId === 'coupon-welcome')).toMatchObject({
      type: 'FIXED',
      percentOff: null,
      amountsOff: [{ amount: 5, currency: 'USD' }],
    });
    const estimate = (
      await stigg.EstimateSubscription({
        input: { customerId: 'acme', planId: 'plan-revvenu-essentials', promotionCode: 'coupon-vip' },
      })
    ).estimateSubscription;
    expect(estimate).toMatchObject({
      subTotal: { amount: 60 },
      total: { amount: 48 },
      discountAmount: { amount: 12 },
      discount: { type: 'PERCENTAGE', value: 20 },
    });
    const change = (
      await stigg.EstimateSubscriptionUpdate({
        input: { subscriptionId, addons: [{ addonId: 'addon-10-campaigns', quantity: 4 }] },
      })
    ).estimateSubscriptionUpdate;
    expect(change.proration).toMatchObject({
      credit: { amount: -60 },
      debit: { amount: 70 },
      netAmount: { amount: 10 },
    });

    // grant and revoke a promotional entitlement
    const cancelled = (await stigg.CancelSubscription({ input: { subscriptionRefId: subscriptionId } })).cancelSubscription;
    expect(cancelled.status).toBe('CANCELED');
    expect(await entitlement('feature-04-analytics')).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'NoActiveSubscription',
    });
    const granted = (
      await stigg.GrantPromotionalEntitlements({
        input: {
          customerId: 'acme',
          promotionalEntitlements: [{ featureId: 'feature-04-analytics', period: 'ONE_MONTH' as never }],
        },
      })
    ).grantPromotionalEntitlements;
    expect(granted[0]).toMatchObject({ status: 'Active', isVisible: true, feature: { refId: 'feature-04-analytics' } });
    expect(await entitlement('feature-04-analytics')).toMatchObject({ isGranted: true });
    const revoked = (await stigg.RevokePromotionalEntitlement({ input: { customerId: 'acme', featureId: 'feature-04-analytics' } }))
      .revokePromotionalEntitlement;
    expect(revoked.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await entitlement('feature-04-analytics')).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'Revoked',
    });

    // archive and unarchive
    const archived = (await stigg.ArchiveCustomer({ input: { customerId: 'acme' } })).archiveCustomer;
    expect(archived).toEqual({ customerId: 'acme' });
    expect(await errorCode(stigg.GetCustomerById({ input: { customerId: 'acme' } }))).toBe('CustomerNotFound');
    expect(await entitlement('feature-03-custom-domain')).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'CustomerIsArchived',
    });
    expect((await stigg.UnarchiveCustomer({ input: { customerId: 'acme' } })).unarchiveCustomer.customerId).toBe('acme');
    expect((await stigg.GetCustomerById({ input: { customerId: 'acme' } })).getCustomerByRefId?.customerId).toBe('acme');
  });

  it('answers the read queries the SDKs use: entitlementsState, products, subscriptions, customer statistics, SDK configuration', async () => {
    await stigg.ProvisionCustomer({
      input: { customerId: 'reader', subscriptionParams: { planId: 'plan-revvenu-essentials' } },
    });
    await stigg.ProvisionSubscription({
      input: { customerId: 'reader', planId: 'plan-revvenu-basic', resourceId: 'ws-1' },
    });
    const state = (await stigg.GetEntitlementsState({ query: { customerId: 'reader' } })).entitlementsState;
    expect(state.accessDeniedReason).toBeNull();
    expect(state.entitlements.map((e) => e.feature?.refId)).toContain('feature-03-custom-domain');
    expect((await stigg.GetEntitlementsState({ query: { customerId: 'nobody' } })).entitlementsState).toEqual({
      entitlements: [],
      accessDeniedReason: 'CustomerNotFound',
    });

    const products = (await stigg.GetProducts()).products.edges.map((e) => e.node);
    expect(products).toEqual([
      expect.objectContaining({
        refId: 'product-revvenu',
        displayName: 'Revvenu',
        productSettings: { downgradePlan: { refId: 'plan-revvenu-basic', displayName: 'Basic' } },
      }),
    ]);

    const all = (await stigg.GetSubscriptions({ filter: { customerId: { eq: 'reader' } } })).subscriptions;
    expect(all.edges.map((e) => [e.node.plan.planId, e.node.resource?.resourceId ?? null, e.node.status])).toEqual([
      ['plan-revvenu-basic', 'ws-1', 'ACTIVE'],
      ['plan-revvenu-essentials', null, 'ACTIVE'],
    ]);
    const paged = (await stigg.GetSubscriptions({ filter: { customerId: { eq: 'reader' } }, paging: { first: 1 } })).subscriptions;
    expect(paged).toMatchObject({
      edges: [{ node: { plan: { planId: 'plan-revvenu-basic' } } }],
      pageInfo: { hasNextPage: true },
    });
    expect(
      (await stigg.GetSubscriptions({ filter: { customerId: { eq: 'reader' }, resourceId: { eq: 'ws-1' } } })).subscriptions.edges,
    ).toHaveLength(1);
    expect(
      (await stigg.GetActiveSubscriptionsList({ input: { customerId: 'reader', resourceIds: ['ws-1'] } })).getActiveSubscriptions.map(
        (s) => s.plan.planId,
      ),
    ).toEqual(['plan-revvenu-basic']);

    const statistics = (await stigg.GetCustomerStatistics({ input: { customerId: 'reader' } })).getCustomerByRefId?.statistics;
    expect(statistics?.activeSubscriptionsByPricingType).toEqual(
      expect.arrayContaining([
        { pricingType: 'FREE', totalCount: 1 },
        { pricingType: 'PAID', totalCount: 1 },
      ]),
    );
    expect((await stigg.GetSdkConfiguration()).sdkConfiguration).toEqual({
      sentryDsn: null,
      isWidgetWatermarkEnabled: false,
    });
  });

  it('answers an operation the emulator does not model with a NOT_MODELLED error naming it', async () => {
    expect(await errorCode(stigg.GetPaywall({ input: {} }))).toBe('NOT_MODELLED');
    expect(await errorCode(stigg.GetMockPaywall({ input: {} }))).toBe('NOT_MODELLED');
  });
});
