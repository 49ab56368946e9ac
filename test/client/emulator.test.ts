/** The client against the emulator over HTTP: one customer's life through every method, on the Revvenu catalog. */
import { Stigg, StiggAuthError, StiggClient, StiggGraphQLError } from '../../src/client';
import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';

let emulator: Emulator;
let client: StiggClient;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, retryBaseDelayMs: 1 });
});
afterAll(() => emulator.stop());

const customerId = 'customer-journey-01';

describe('StiggClient against the emulator', () => {
  it('provisions, reads and updates a customer', async () => {
    const provisioned = await client.provisionCustomer({
      customerId,
      name: 'Acme',
      email: 'billing@acme.test',
      additionalMetaData: { tier: 'smb' },
      subscriptionParams: { planId: 'plan-revvenu-basic' },
    });
    expect(provisioned.customer).toMatchObject({ customerId, name: 'Acme', additionalMetaData: { tier: 'smb' } });
    expect(provisioned.subscription?.plan.refId).toBe('plan-revvenu-basic');
    expect(provisioned.entitlements?.map((e) => e.feature?.refId)).toContain('feature-01-templates');

    const updated = await client.updateCustomer({ customerId, email: 'finance@acme.test' });
    expect(updated.email).toBe('finance@acme.test');
    const read = await client.getCustomer(customerId);
    expect(read).toMatchObject({ customerId, email: 'finance@acme.test', hasActiveSubscription: true });
  });

  it('checks entitlements and reports usage idempotently', async () => {
    const templates = await client.getEntitlement({
      customerId,
      featureId: 'feature-01-templates',
      options: { requestedUsage: 2 },
    });
    expect(templates).toMatchObject({
      isGranted: true,
      usageLimit: 3,
      currentUsage: 0,
      feature: { refId: 'feature-01-templates', featureType: 'NUMBER' },
    });

    const report = { customerId, featureId: 'feature-01-templates', value: 2, idempotencyKey: 'journey-usage-1' };
    await client.reportUsage(report);
    await client.reportUsage(report);
    const bulk = await client.reportUsageBulk({
      usages: [{ customerId, featureId: 'feature-02-campaigns', value: 3, idempotencyKey: 'journey-usage-2' }],
    });
    expect(bulk[0]).toMatchObject({ customerId, featureId: 'feature-02-campaigns', currentUsage: 3 });
    expect(emulator.stats().usage[`${customerId}||feature-01-templates`]).toBe(2);

    const denied = await client.getEntitlement({
      customerId,
      featureId: 'feature-01-templates',
      options: { requestedUsage: 2 },
    });
    expect(denied).toMatchObject({
      isGranted: false,
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      currentUsage: 2,
    });
    const analytics = await client.getEntitlement({ customerId, featureId: 'feature-04-analytics' });
    expect(analytics.isGranted).toBe(false);
    const all = await client.getEntitlements({ customerId });
    expect(all.map((e) => e.feature?.refId)).toEqual(expect.arrayContaining(['feature-01-templates', 'feature-02-campaigns']));

    await client.reportEvent({
      usageEvents: [{ customerId, eventName: 'template_opened', idempotencyKey: 'journey-event-1', dimensions: { id: 't1' } }],
    });
    expect(emulator.stats().operations).toMatchObject({ reportEvent: 1, reportUsage: 2, reportUsageBulk: 1 });
  });

  it('answers entitlement(query:) for an unknown customer with a denial, not an error', async () => {
    const entitlement = await client.getEntitlement({ customerId: 'nobody', featureId: 'feature-04-analytics' });
    expect(entitlement).toMatchObject({ isGranted: false, accessDeniedReason: 'CustomerNotFound' });
  });

  it('estimates, provisions, updates, migrates and cancels a subscription', async () => {
    const estimate = await client.estimateSubscription({
      customerId,
      planId: 'plan-revvenu-growth',
      billingPeriod: 'MONTHLY',
      billingInformation: {
        billingAddress: { line1: '1 Main St', city: 'Berlin', country: 'DE', postalCode: '10115' },
      },
    });
    expect(estimate.total.currency).toBeDefined();

    const result = await client.provisionSubscription({
      customerId,
      planId: 'plan-revvenu-growth',
      billingPeriod: 'MONTHLY',
      addons: [{ addonId: 'addon-10-campaigns', quantity: 1 }],
    });
    expect(result.status).toBe('SUCCESS');
    const subscriptionId = result.subscription?.subscriptionId ?? '';
    expect(result.subscription?.plan.refId).toBe('plan-revvenu-growth');

    const active = await client.getActiveSubscriptions({ customerId });
    expect(active.map((s) => s.subscriptionId)).toContain(subscriptionId);
    const fetched = await client.getSubscription(subscriptionId);
    expect(fetched).toMatchObject({ subscriptionId, status: 'ACTIVE' });

    const preview = await client.estimateSubscriptionUpdate({
      subscriptionId,
      addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }],
    });
    expect(typeof preview.total.amount).toBe('number');
    const updated = await client.updateSubscription({
      subscriptionId,
      addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }],
    });
    expect(updated.addons?.[0]).toMatchObject({ quantity: 2, addon: { refId: 'addon-10-campaigns' } });

    expect(await client.migrateSubscriptionToLatest({ subscriptionId })).toMatchObject({
      subscriptionId,
      plan: { refId: 'plan-revvenu-growth' },
    });
    const canceled = await client.cancelSubscription({
      subscriptionRefId: subscriptionId,
      subscriptionCancellationTime: 'IMMEDIATE',
    });
    expect(canceled.status).toBe('CANCELED');
  });

  it('lists coupons and grants and revokes promotional entitlements', async () => {
    const coupons = await client.getCoupons({ filter: { status: { eq: 'ACTIVE' } } });
    expect(coupons.edges.map((edge) => edge.node.refId)).toContain('coupon-vip');

    const granted = await client.grantPromotionalEntitlements({
      customerId,
      promotionalEntitlements: [{ featureId: 'feature-04-analytics', period: 'ONE_MONTH' }],
    });
    expect(granted[0]).toMatchObject({ featureId: 'feature-04-analytics', status: 'Active' });
    expect((await client.getEntitlement({ customerId, featureId: 'feature-04-analytics' })).isGranted).toBe(true);
    const revoked = await client.revokePromotionalEntitlement({ customerId, featureId: 'feature-04-analytics' });
    expect(revoked.featureId).toBe('feature-04-analytics');
    expect((await client.getEntitlement({ customerId, featureId: 'feature-04-analytics' })).isGranted).toBe(false);
  });

  it('archives and unarchives a customer', async () => {
    await client.archiveCustomer(customerId);
    const archived = await client.getEntitlement({ customerId, featureId: 'feature-01-templates' });
    expect(archived).toMatchObject({ isGranted: false, accessDeniedReason: 'CustomerIsArchived' });
    const restored = await client.unarchiveCustomer(customerId);
    expect(restored.customerId).toBe(customerId);
  });

  it("maps the emulator's error conventions to typed errors", async () => {
    const missing = await client.getCustomer('customer-that-does-not-exist').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StiggGraphQLError);
    expect(missing).toMatchObject({ code: 'CustomerNotFound', path: ['getCustomerByRefId'], transient: false });
    expect((missing as StiggGraphQLError).traceId).toEqual(expect.any(String));

    const unauthorized = await new StiggClient({ apiKey: 'not-the-key', apiUrl: emulator.url })
      .getEntitlements({ customerId })
      .catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(StiggAuthError);
    expect(unauthorized).toMatchObject({ status: 401 });
  });
});
