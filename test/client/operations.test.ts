import { StiggClient, Stigg } from '../../src/client';
import type { EntitlementsUpstream } from '../../src/core/types';
import { startFakeStigg } from './helpers/graphql-server';
import type { FakeStigg } from './helpers/graphql-server';

let stigg: FakeStigg;
let client: StiggClient;

beforeAll(async () => {
  stigg = await startFakeStigg();
  client = Stigg.createClient(stigg.apiKey, { apiUrl: stigg.url, retryBaseDelayMs: 1 });
});
afterAll(() => stigg.close());
beforeEach(() => stigg.reset());

interface Case {
  method: keyof StiggClient;
  call: (c: StiggClient) => Promise<unknown>;
  operationName: string;
  rootField: string;
  variables: Record<string, unknown>;
  check: (result: any) => void;
}

const check = {
  customerId: 'customer-demo-01',
  featureId: 'feature-01-templates',
  requestedUsage: 2,
  entitlementCheckResult: { hasAccess: false, accessDeniedReason: 'RequestedUsageExceedingLimit' as const, usageLimit: 3, currentUsage: 2 },
};
const usage = { customerId: 'customer-demo-01', featureId: 'feature-02-campaigns', value: 2, idempotencyKey: 'k-1' };

const cases: Case[] = [
  {
    method: 'provisionCustomer',
    call: (c) =>
      c.provisionCustomer({
        customerId: 'customer-new',
        name: 'Acme',
        email: 'a@acme.test',
        billingInformation: {
          billingAddress: { addressLine1: '1 Main St', city: 'Berlin', country: 'DE', postalCode: '10115' },
          taxIds: [{ type: 'eu_vat', value: 'DE123456789' }],
        },
        subscriptionParams: { planId: 'plan-revvenu-basic' },
      }),
    operationName: 'ProvisionCustomer',
    rootField: 'provisionCustomer',
    variables: {
      input: {
        customerId: 'customer-new',
        name: 'Acme',
        email: 'a@acme.test',
        billingInformation: {
          billingAddress: { addressLine1: '1 Main St', city: 'Berlin', country: 'DE', postalCode: '10115' },
          taxIds: [{ type: 'eu_vat', value: 'DE123456789' }],
        },
        subscriptionParams: { planId: 'plan-revvenu-basic' },
      },
    },
    check: (r) => {
      expect(r.customer.customerId).toBe('customer-new');
      expect(r.subscriptionDecisionStrategy).toBe('REQUESTED_PLAN');
      expect(r.subscription.plan.refId).toBe('plan-revvenu-basic');
      expect(r.entitlements.map((e: any) => e.feature.refId)).toEqual(['feature-01-templates']);
    },
  },
  {
    method: 'updateCustomer',
    call: (c) => c.updateCustomer({ customerId: 'customer-demo-01', email: 'new@acme.test' }),
    operationName: 'UpdateOneCustomer',
    rootField: 'updateOneCustomer',
    variables: { input: { customerId: 'customer-demo-01', email: 'new@acme.test' } },
    check: (r) => expect(r.email).toBe('new@acme.test'),
  },
  {
    method: 'getCustomer',
    call: (c) => c.getCustomer('customer-demo-01'),
    operationName: 'GetCustomerByRefId',
    rootField: 'getCustomerByRefId',
    variables: { input: { customerId: 'customer-demo-01' } },
    check: (r) => {
      expect(r.customerId).toBe('customer-demo-01');
      expect(r.coupon.refId).toBe('coupon-vip');
      expect(r.promotionalEntitlements[0].feature.refId).toBe('feature-04-analytics');
      expect(r.additionalMetaData).toEqual({ key: 'value' });
    },
  },
  {
    method: 'archiveCustomer',
    call: (c) => c.archiveCustomer({ customerId: 'customer-demo-02' }),
    operationName: 'ArchiveCustomer',
    rootField: 'archiveCustomer',
    variables: { input: { customerId: 'customer-demo-02' } },
    check: (r) => expect([r.customerId, r.name, r.email]).toEqual(['customer-demo-02', null, null]),
  },
  {
    method: 'unarchiveCustomer',
    call: (c) => c.unarchiveCustomer('customer-demo-02'),
    operationName: 'UnarchiveCustomer',
    rootField: 'unarchiveCustomer',
    variables: { input: { customerId: 'customer-demo-02' } },
    check: (r) => expect(r.name).toBe('Acme'),
  },
  {
    method: 'getActiveSubscriptions',
    call: (c) => c.getActiveSubscriptions({ customerId: 'customer-demo-01', resourceId: 'site-1' }),
    operationName: 'GetActiveSubscriptionsList',
    rootField: 'getActiveSubscriptions',
    variables: { input: { customerId: 'customer-demo-01', resourceId: 'site-1' } },
    check: (r) => {
      expect(r).toHaveLength(1);
      expect(r[0].resource).toEqual({ resourceId: 'site-1' });
      expect(r[0].addons[0].addon.refId).toBe('addon-10-campaigns');
    },
  },
  {
    method: 'getSubscription',
    call: (c) => c.getSubscription('subscription-1'),
    operationName: 'GetSubscription',
    rootField: 'getSubscription',
    variables: { input: { subscriptionId: 'subscription-1' } },
    check: (r) => {
      expect(r.subscriptionId).toBe('subscription-1');
      expect(r.prices[0].price.price).toEqual({ amount: 3, currency: 'USD' });
      expect(r.latestInvoice.status).toBe('PAID');
    },
  },
  {
    method: 'provisionSubscription',
    call: (c) =>
      c.provisionSubscription({
        customerId: 'customer-demo-01',
        planId: 'plan-revvenu-growth',
        billingPeriod: 'MONTHLY',
        addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }],
      }),
    operationName: 'ProvisionSubscription',
    rootField: 'provisionSubscriptionV2',
    variables: {
      input: {
        customerId: 'customer-demo-01',
        planId: 'plan-revvenu-growth',
        billingPeriod: 'MONTHLY',
        addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }],
      },
    },
    check: (r) => {
      expect(r.status).toBe('SUCCESS');
      expect(r.subscription.plan.refId).toBe('plan-revvenu-growth');
      expect(r.entitlements[0]).toMatchObject({ customerId: 'customer-demo-01', hasSoftLimit: false });
    },
  },
  {
    method: 'updateSubscription',
    call: (c) =>
      c.updateSubscription({
        subscriptionId: 'subscription-1',
        billableFeatures: [{ featureId: 'feature-01-templates', quantity: 2 }],
      }),
    operationName: 'UpdateOneSubscription',
    rootField: 'updateOneSubscription',
    variables: {
      input: {
        subscriptionId: 'subscription-1',
        billableFeatures: [{ featureId: 'feature-01-templates', quantity: 2 }],
      },
    },
    check: (r) => expect(r.refId).toBe('subscription-1'),
  },
  {
    method: 'cancelSubscription',
    call: (c) => c.cancelSubscription({ subscriptionRefId: 'subscription-1', subscriptionCancellationTime: 'IMMEDIATE' }),
    operationName: 'CancelSubscription',
    rootField: 'cancelSubscription',
    variables: { input: { subscriptionRefId: 'subscription-1', subscriptionCancellationTime: 'IMMEDIATE' } },
    check: (r) => expect([r.refId, r.status]).toEqual(['subscription-1', 'CANCELED']),
  },
  {
    method: 'migrateSubscriptionToLatest',
    call: (c) =>
      c.migrateSubscriptionToLatest({
        subscriptionId: 'subscription-1',
        subscriptionMigrationTime: 'END_OF_BILLING_PERIOD',
      }),
    operationName: 'MigrateSubscriptionToLatest',
    rootField: 'migrateSubscriptionToLatest',
    variables: { input: { subscriptionId: 'subscription-1', subscriptionMigrationTime: 'END_OF_BILLING_PERIOD' } },
    check: (r) =>
      expect(r).toMatchObject({
        subscriptionId: 'subscription-1',
        status: 'ACTIVE',
        plan: { refId: 'plan-revvenu-essentials' },
      }),
  },
  {
    method: 'estimateSubscription',
    call: (c) =>
      c.estimateSubscription({
        customerId: 'customer-demo-01',
        planId: 'plan-revvenu-essentials',
        startDate: new Date('2024-03-01T00:00:00.000Z'),
        billingInformation: {
          billingAddress: { line1: '1 Main St', city: 'Berlin', country: 'DE', postalCode: '10115' },
          taxRateIds: ['txr_1'],
        },
      }),
    operationName: 'EstimateSubscription',
    rootField: 'estimateSubscription',
    variables: {
      input: {
        customerId: 'customer-demo-01',
        planId: 'plan-revvenu-essentials',
        startDate: '2024-03-01T00:00:00.000Z',
        billingInformation: {
          billingAddress: { line1: '1 Main St', city: 'Berlin', country: 'DE', postalCode: '10115' },
          taxRateIds: ['txr_1'],
        },
      },
    },
    check: (r) => {
      expect(r.total).toEqual({ amount: 24, currency: 'USD' });
      expect(r.discountAmount).toEqual({ amount: 6, currency: 'USD' });
      expect(r.proration).toBeNull();
    },
  },
  {
    method: 'estimateSubscriptionUpdate',
    call: (c) =>
      c.estimateSubscriptionUpdate({
        subscriptionId: 'subscription-1',
        addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }],
      }),
    operationName: 'EstimateSubscriptionUpdate',
    rootField: 'estimateSubscriptionUpdate',
    variables: {
      input: { subscriptionId: 'subscription-1', addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }] },
    },
    check: (r) => expect(r.proration.netAmount).toEqual({ amount: 7, currency: 'USD' }),
  },
  {
    method: 'getEntitlement',
    call: (c) =>
      c.getEntitlement({
        customerId: 'customer-demo-01',
        featureId: 'feature-01-templates',
        options: { requestedUsage: 3 },
      }),
    operationName: 'GetEntitlement',
    rootField: 'entitlement',
    variables: {
      query: { customerId: 'customer-demo-01', featureId: 'feature-01-templates', options: { requestedUsage: 3 } },
    },
    check: (r) => {
      expect(r.isGranted).toBe(false);
      expect(r.accessDeniedReason).toBe('RequestedUsageExceedingLimit');
      expect([r.currentUsage, r.usageLimit, r.requestedUsage]).toEqual([3, 5, 3]);
      expect(r.feature.featureType).toBe('NUMBER');
    },
  },
  {
    method: 'getEntitlements',
    call: (c) => c.getEntitlements({ customerId: 'customer-demo-01' }),
    operationName: 'GetEntitlements',
    rootField: 'cachedEntitlements',
    variables: { query: { customerId: 'customer-demo-01' } },
    check: (r) => expect(r.map((e: any) => e.feature.refId)).toEqual(['feature-01-templates', 'feature-02-campaigns']),
  },
  {
    method: 'getEntitlementsState',
    call: (c) => c.getEntitlementsState({ customerId: 'customer-demo-01' }),
    operationName: 'GetEntitlementsState',
    rootField: 'entitlementsState',
    variables: { query: { customerId: 'customer-demo-01' } },
    check: (r) => {
      expect(r.accessDeniedReason).toBeNull();
      expect(r.entitlements.map((e: any) => e.feature.refId)).toEqual(['feature-01-templates', 'feature-02-campaigns']);
    },
  },
  {
    method: 'reportUsage',
    call: (c) => c.reportUsage({ ...usage, updateBehavior: 'DELTA', dimensions: { region: 'eu' } }),
    operationName: 'ReportUsage',
    rootField: 'reportUsage',
    variables: { input: { ...usage, updateBehavior: 'DELTA', dimensions: { region: 'eu' } } },
    check: (r) => expect([r.featureId, r.currentUsage]).toEqual(['feature-02-campaigns', 5]),
  },
  {
    method: 'reportUsageBulk',
    call: (c) =>
      c.reportUsageBulk({
        usages: [usage, { ...usage, featureId: 'feature-01-templates', value: 1, idempotencyKey: 'k-2' }],
      }),
    operationName: 'ReportUsageBulk',
    rootField: 'reportUsageBulk',
    variables: {
      input: { usages: [usage, { ...usage, featureId: 'feature-01-templates', value: 1, idempotencyKey: 'k-2' }] },
    },
    check: (r) =>
      expect(r.map((m: any) => [m.featureId, m.currentUsage])).toEqual([
        ['feature-02-campaigns', 5],
        ['feature-01-templates', 4],
      ]),
  },
  {
    method: 'reportEvent',
    call: (c) =>
      c.reportEvent({
        usageEvents: [
          {
            customerId: 'customer-demo-01',
            eventName: 'user_login',
            idempotencyKey: '888888888',
            dimensions: { user_id: 'u1' },
          },
        ],
      }),
    operationName: 'ReportEvent',
    rootField: 'reportEvent',
    variables: {
      events: {
        usageEvents: [
          {
            customerId: 'customer-demo-01',
            eventName: 'user_login',
            idempotencyKey: '888888888',
            dimensions: { user_id: 'u1' },
          },
        ],
      },
    },
    check: (r) => expect(r).toBeUndefined(),
  },
  {
    method: 'reportEntitlementCheckRequested',
    call: (c) => c.reportEntitlementCheckRequested(check),
    operationName: 'ReportEntitlementCheckRequested',
    rootField: 'reportEntitlementCheckRequested',
    variables: { entitlementCheckRequested: check },
    check: (r) => expect(r).toBe(true),
  },
  {
    method: 'getCoupons',
    call: (c) => c.getCoupons({ filter: { status: { eq: 'ACTIVE' } }, paging: { first: 10 } }),
    operationName: 'GetCoupons',
    rootField: 'coupons',
    variables: { filter: { status: { eq: 'ACTIVE' } }, paging: { first: 10 } },
    check: (r) => {
      expect(r.totalCount).toBe(1);
      expect(r.edges[0].node).toMatchObject({
        refId: 'coupon-vip',
        type: 'PERCENTAGE',
        discountValue: 20,
        percentOff: 20,
      });
    },
  },
  {
    method: 'grantPromotionalEntitlements',
    call: (c) =>
      c.grantPromotionalEntitlements({
        customerId: 'customer-demo-01',
        promotionalEntitlements: [
          { featureId: 'feature-04-analytics', period: 'LIFETIME' },
          {
            featureId: 'feature-02-campaigns',
            period: 'CUSTOM',
            customEndDate: '2024-12-31T00:00:00.000Z',
            usageLimit: 100,
          },
        ],
      }),
    operationName: 'GrantPromotionalEntitlements',
    rootField: 'grantPromotionalEntitlements',
    variables: {
      input: {
        customerId: 'customer-demo-01',
        promotionalEntitlements: [
          { featureId: 'feature-04-analytics', period: 'LIFETIME' },
          {
            featureId: 'feature-02-campaigns',
            period: 'CUSTOM',
            customEndDate: '2024-12-31T00:00:00.000Z',
            usageLimit: 100,
          },
        ],
      },
    },
    check: (r) => {
      expect(r.map((p: any) => [p.featureId, p.status])).toEqual([
        ['feature-04-analytics', 'Active'],
        ['feature-02-campaigns', 'Active'],
      ]);
      expect(r[0].feature).toMatchObject({ refId: 'feature-04-analytics', featureType: 'BOOLEAN' });
    },
  },
  {
    method: 'revokePromotionalEntitlement',
    call: (c) => c.revokePromotionalEntitlement({ customerId: 'customer-demo-01', featureId: 'feature-04-analytics' }),
    operationName: 'RevokePromotionalEntitlement',
    rootField: 'revokePromotionalEntitlement',
    variables: { input: { customerId: 'customer-demo-01', featureId: 'feature-04-analytics' } },
    check: (r) => expect([r.featureId, r.status]).toEqual(['feature-04-analytics', 'Expired']),
  },
  {
    method: 'getCreditBalance',
    call: (c) => c.getCreditBalance({ customerId: 'customer-demo-01', currencyId: 'ai-credits' }),
    operationName: 'GetCreditBalance',
    rootField: 'creditBalanceSummary',
    variables: { input: { customerId: 'customer-demo-01', currencyId: 'ai-credits' } },
    check: (r) =>
      expect(r.balances[0]).toMatchObject({ currentBalance: 70, currency: { currencyId: 'ai-credits', units: { plural: 'credits' } } }),
  },
  {
    method: 'getCreditGrants',
    call: (c) => c.getCreditGrants({ customerId: 'customer-demo-01' }),
    operationName: 'GetCreditGrants',
    rootField: 'creditGrants',
    variables: { input: { customerId: 'customer-demo-01' } },
    check: (r) => expect(r.edges[0].node).toMatchObject({ grantId: 'grant-1', consumedAmount: 30, cost: { amount: 10, currency: 'USD' } }),
  },
  {
    method: 'getCreditLedger',
    call: (c) => c.getCreditLedger({ customerId: 'customer-demo-01' }),
    operationName: 'GetCreditLedger',
    rootField: 'creditsLedger',
    variables: { input: { customerId: 'customer-demo-01' } },
    check: (r) => expect(r.events[0]).toMatchObject({ eventType: 'CREDITS_CONSUMED', creditGrantId: 'grant-1', amount: 30 }),
  },
  {
    method: 'grantCredits',
    call: (c) =>
      c.grantCredits({
        customerId: 'customer-demo-01',
        currencyId: 'ai-credits',
        amount: 50,
        grantType: 'PROMOTIONAL',
        displayName: 'bonus',
      }),
    operationName: 'GrantCredits',
    rootField: 'createCreditGrant',
    variables: {
      input: { customerId: 'customer-demo-01', currencyId: 'ai-credits', amount: 50, grantType: 'PROMOTIONAL', displayName: 'bonus' },
    },
    check: (r) => expect([r.amount, r.displayName]).toEqual([50, 'bonus']),
  },
  {
    method: 'voidCreditGrant',
    call: (c) => c.voidCreditGrant({ id: 'grant-7' }),
    operationName: 'VoidCreditGrant',
    rootField: 'voidCreditGrant',
    variables: { input: { id: 'grant-7' } },
    check: (r) => expect(r.grantId).toBe('grant-7'),
  },
  {
    method: 'consumeCredits',
    call: (c) => c.consumeCredits({ customerId: 'customer-demo-01', currencyId: 'ai-credits', amount: 5, idempotencyKey: 'c-1' }),
    operationName: 'ConsumeCredits',
    rootField: 'consumeCredits',
    variables: { input: { customerId: 'customer-demo-01', currencyId: 'ai-credits', amount: 5, idempotencyKey: 'c-1' } },
    check: (r) => expect(r).toMatchObject({ amount: 5, credit: { currentUsage: 35, usageLimit: 100 } }),
  },
  {
    method: 'consumeCreditsAsync',
    call: (c) =>
      c.consumeCreditsAsync({
        consumptions: [{ customerId: 'customer-demo-01', currencyId: 'ai-credits', amount: 1, idempotencyKey: 'a-1' }],
      }),
    operationName: 'ConsumeCreditsAsync',
    rootField: 'consumeCreditsAsync',
    variables: {
      input: { consumptions: [{ customerId: 'customer-demo-01', currencyId: 'ai-credits', amount: 1, idempotencyKey: 'a-1' }] },
    },
    check: (r) => expect(r).toBe('accepted-1'),
  },
];

describe('every StiggClient method against a GraphQL server on loopback', () => {
  it('covers every method of the client', () => {
    const methods = Object.getOwnPropertyNames(StiggClient.prototype).filter((name) => name !== 'constructor');
    expect(cases.map((c) => c.method).sort()).toEqual(methods.sort());
  });

  it.each(cases.map((c) => [c.method, c] as const))('%s sends its document and resolves to the root field', async (_method, testCase) => {
    const result = await testCase.call(client);

    expect(stigg.requests).toHaveLength(1);
    const [request] = stigg.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/graphql');
    expect(request?.headers['x-api-key']).toBe(stigg.apiKey);
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(request?.body?.operationName).toBe(testCase.operationName);
    expect(request?.headers['x-graphql-operation-name']).toBe(testCase.operationName);
    expect(request?.body?.variables).toEqual(testCase.variables);
    expect(Object.keys(request?.resolved ?? {})).toEqual([testCase.rootField]);

    const [response] = stigg.responses;
    expect(response?.status).toBe(200);
    expect(response?.body.errors).toBeUndefined();
    const sent = response?.body.data[testCase.rootField];
    if (testCase.method === 'reportEvent') expect(sent).toBeNull();
    else expect(result).toEqual(sent);
    testCase.check(result);
  });

  it("never mutates the caller's input", async () => {
    const input = Object.freeze({
      customerId: 'customer-demo-01',
      featureId: 'feature-01-templates',
      options: Object.freeze({ requestedUsage: 1 }),
    });
    const before = JSON.stringify(input);
    await client.getEntitlement(input);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('serves as the upstream of the core (EntitlementsUpstream)', async () => {
    const upstream: EntitlementsUpstream = client;
    const entitlement = await upstream.getEntitlement({
      customerId: 'customer-demo-01',
      featureId: 'feature-01-templates',
      options: { requestedUsage: 1 },
    });
    expect(entitlement).toMatchObject({
      isGranted: true,
      currentUsage: 3,
      usageLimit: 5,
      feature: { refId: 'feature-01-templates', featureType: 'NUMBER' },
    });
    const [measurement] = await upstream.reportUsageBulk({
      usages: [
        {
          customerId: 'customer-demo-01',
          featureId: 'feature-01-templates',
          value: 1,
          updateBehavior: 'DELTA',
          idempotencyKey: 'k-9',
          createdAt: null,
        },
      ],
    });
    expect(measurement).toMatchObject({
      customerId: 'customer-demo-01',
      featureId: 'feature-01-templates',
      currentUsage: 4,
    });
  });

  it('new StiggClient({ apiKey, apiUrl }) talks to the same server as Stigg.createClient', async () => {
    const direct = new StiggClient({ apiKey: stigg.apiKey, apiUrl: stigg.url });
    const customer = await direct.getCustomer({ customerId: 'customer-demo-03' });
    expect(customer?.refId).toBe('customer-demo-03');
    expect(stigg.requests[0]?.headers['x-api-key']).toBe(stigg.apiKey);
  });
});
