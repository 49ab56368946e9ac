import { startEmulator, type Emulator } from '../../src/emulator';
import { ENTITLEMENT, post, PROVISION_CUSTOMER, REPORT_USAGE, REPORT_USAGE_BULK } from './helpers';

describe('emulator over HTTP (plain fetch)', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ now: () => Date.parse('2026-01-15T10:00:00.000Z') });
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  it('provisions a customer on the free plan and meters templates up to the limit', async () => {
    const provisioned = await post<any>(emulator, PROVISION_CUSTOMER, { input: { customerId: 'c1', subscriptionParams: { planId: 'plan-revvenu-basic' } } });
    expect(provisioned.status).toBe(200);
    expect(provisioned.errors).toBeUndefined();
    expect(provisioned.data.provisionCustomer.subscription.status).toBe('ACTIVE');
    expect(provisioned.data.provisionCustomer.subscriptionDecisionStrategy).toBe('REQUESTED_PLAN');

    const before = await post<any>(emulator, ENTITLEMENT, { query: { customerId: 'c1', featureId: 'feature-01-templates', options: { requestedUsage: 3 } } });
    expect(before.data.entitlement).toMatchObject({ isGranted: true, usageLimit: 3, currentUsage: 0, requestedUsage: 3 });

    const reported = await post<any>(emulator, REPORT_USAGE, { input: { customerId: 'c1', featureId: 'feature-01-templates', value: 2 } });
    expect(reported.data.reportUsage.currentUsage).toBe(2);
    const bulk = await post<any>(emulator, REPORT_USAGE_BULK, { input: { usages: [{ customerId: 'c1', featureId: 'feature-01-templates', value: 1 }] } });
    expect(bulk.data.reportUsageBulk[0].currentUsage).toBe(3);

    const after = await post<any>(emulator, ENTITLEMENT, { query: { customerId: 'c1', featureId: 'feature-01-templates', options: { requestedUsage: 1 } } });
    expect(after.data.entitlement).toMatchObject({ isGranted: false, accessDeniedReason: 'RequestedUsageExceedingLimit', currentUsage: 3 });
    expect(emulator.stats()).toMatchObject({ requests: 5, operations: { provisionCustomer: 1, entitlement: 2, reportUsage: 1, reportUsageBulk: 1 }, usage: { 'c1||feature-01-templates': 3 } });
  });

  it('refuses a wrong API key with 401 UNAUTHENTICATED', async () => {
    const res = await post(emulator, ENTITLEMENT, { query: { customerId: 'c1', featureId: 'x' } }, { 'x-api-key': 'nope' });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
