import type { StiggClient } from '../../src/client';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { clientFor, DAY, graphqlError, T0 } from './helpers';

const billingCatalog: Catalog = {
  ...defaultCatalog,
  paidPlansRequirePaymentMethod: true,
  products: defaultCatalog.products.map((p) => ({ ...p, defaultPlanId: 'plan-revvenu-basic' })),
  coupons: [
    ...(defaultCatalog.coupons ?? []),
    {
      id: 'coupon-old',
      name: 'Old',
      type: 'FIXED',
      discountValue: 10,
      status: 'ARCHIVED',
      createdAt: '2025-01-01T00:00:00.000Z',
    },
    {
      id: 'coupon-spring',
      name: 'Spring',
      type: 'FIXED',
      discountValue: 5,
      status: 'ACTIVE',
      createdAt: '2025-03-01T00:00:00.000Z',
    },
  ],
};

describe('emulator customers and subscriptions (through StiggClient)', () => {
  let emulator: Emulator;
  let client: StiggClient;

  beforeAll(async () => {
    emulator = await startEmulator({ now: () => T0 });
    client = clientFor(emulator);
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.clock.set(T0);
  });

  describe('customers', () => {
    it('provision, get, update', async () => {
      const provisioned = await client.provisionCustomer({
        customerId: 'c',
        name: 'Acme',
        email: 'billing@acme.test',
        additionalMetaData: { tier: 'gold' },
      });
      expect(provisioned.subscriptionDecisionStrategy).toBe('SKIPPED_SUBSCRIPTION_CREATION');
      expect(provisioned.subscription).toBeNull();
      expect(provisioned.customer).toMatchObject({
        customerId: 'c',
        refId: 'c',
        name: 'Acme',
        email: 'billing@acme.test',
        hasPaymentMethod: false,
        hasActiveSubscription: false,
        additionalMetaData: { tier: 'gold' },
        createdAt: new Date(T0).toISOString(),
        coupon: null,
        promotionalEntitlements: [],
      });
      expect(provisioned.customer.id).toMatch(/^[0-9a-f-]{36}$/);

      emulator.clock.advance(1_000);
      const updated = await client.updateCustomer({
        customerId: 'c',
        email: 'new@acme.test',
        couponRefId: 'coupon-vip',
      });
      expect(updated).toMatchObject({
        name: 'Acme',
        email: 'new@acme.test',
        updatedAt: new Date(T0 + 1_000).toISOString(),
      });
      expect(updated.coupon).toMatchObject({ refId: 'coupon-vip', type: 'PERCENTAGE', discountValue: 20 });
      expect(await client.getCustomer('c')).toEqual(updated);

      expect((await graphqlError(client.updateCustomer({ customerId: 'c', couponRefId: 'coupon-nope' }))).code).toBe('CouponNotFound');
      const missing = await graphqlError(client.getCustomer('nobody'));
      expect(missing).toMatchObject({ code: 'CustomerNotFound', path: ['getCustomerByRefId'] });
      expect(missing.errors[0]?.extensions).toMatchObject({ isValidationError: true, identifier: 'nobody' });
      expect(missing.traceId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('archive nulls name and email and hides the customer; unarchive brings it back', async () => {
      await client.provisionCustomer({
        customerId: 'c',
        name: 'Acme',
        email: 'a@acme.test',
        subscriptionParams: { planId: 'plan-revvenu-basic' },
      });
      const archived = await client.archiveCustomer('c');
      expect(archived).toMatchObject({ customerId: 'c', name: null, email: null });
      expect((await graphqlError(client.getCustomer('c'))).code).toBe('CustomerNotFound');
      expect((await graphqlError(client.archiveCustomer('c'))).code).toBe('CustomerNotFound');
      const back = await client.unarchiveCustomer('c');
      expect(back).toMatchObject({ customerId: 'c', name: null, email: null, hasActiveSubscription: true });
      expect((await client.getCustomer('c'))?.customerId).toBe('c');
      expect((await graphqlError(client.unarchiveCustomer('nobody'))).code).toBe('CustomerNotFound');
    });
  });

  describe('subscriptions', () => {
    it('a free plan is ACTIVE at once; getSubscription and getActiveSubscriptions return it', async () => {
      await client.provisionCustomer({ customerId: 'c' });
      const result = await client.provisionSubscription({
        customerId: 'c',
        planId: 'plan-revvenu-basic',
        additionalMetaData: { from: 'test' },
      });
      expect(result).toMatchObject({ status: 'SUCCESS', checkoutUrl: null });
      const sub = result.subscription!;
      expect(sub).toMatchObject({
        status: 'ACTIVE',
        pricingType: 'FREE',
        startDate: '2026-01-15T10:00:00.000Z',
        currentBillingPeriodEnd: '2026-02-15T10:00:00.000Z',
        plan: { refId: 'plan-revvenu-basic', pricingType: 'FREE' },
        customer: { customerId: 'c' },
        resource: null,
        paymentCollection: 'NOT_REQUIRED',
        totalPrice: null,
        additionalMetaData: { from: 'test' },
      });
      expect(sub.subscriptionId).toMatch(/^subscription-plan-revvenu-basic-[0-9a-f]{6}$/);
      expect(sub.refId).toBe(sub.subscriptionId);
      expect(await client.getSubscription(sub.subscriptionId)).toEqual(sub);
      expect((await client.getActiveSubscriptions({ customerId: 'c' })).map((s) => s.subscriptionId)).toEqual([sub.subscriptionId]);
      expect((await graphqlError(client.getSubscription('subscription-nope'))).code).toBe('SubscriptionNotFound');
      expect((await graphqlError(client.provisionSubscription({ customerId: 'c', planId: 'plan-nope' }))).code).toBe('PlanNotFound');
      expect(
        (
          await graphqlError(
            client.provisionSubscription({
              customerId: 'c',
              planId: 'plan-revvenu-basic',
              addons: [{ addonId: 'addon-nope' }],
            }),
          )
        ).code,
      ).toBe('AddonNotFound');
      expect((await graphqlError(client.provisionSubscription({ customerId: 'nobody', planId: 'plan-revvenu-basic' }))).code).toBe(
        'CustomerNotFound',
      );
    });

    it('a new subscription to the same product replaces the old one and keeps the usage period', async () => {
      await client.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } });
      const [basic] = await client.getActiveSubscriptions({ customerId: 'c' });
      await client.reportUsage({ customerId: 'c', featureId: 'feature-02-campaigns', value: 3 });
      emulator.clock.advance(DAY);
      const growth = (await client.provisionSubscription({ customerId: 'c', planId: 'plan-revvenu-growth' })).subscription!;
      expect(growth).toMatchObject({
        status: 'ACTIVE',
        pricingType: 'PAID',
        totalPrice: { total: { amount: 50, currency: 'USD' } },
      });
      expect(await client.getSubscription(basic!.subscriptionId)).toMatchObject({
        status: 'CANCELED',
        effectiveEndDate: new Date(T0 + DAY).toISOString(),
      });
      expect((await client.getActiveSubscriptions({ customerId: 'c' })).map((s) => s.subscriptionId)).toEqual([growth.subscriptionId]);
      const campaigns = await client.getEntitlement({ customerId: 'c', featureId: 'feature-02-campaigns' });
      expect(campaigns).toMatchObject({
        usageLimit: 100,
        currentUsage: 3,
        usagePeriodStart: '2026-01-15T10:00:00.000Z',
      });
    });

    it('update changes add-ons; cancel IMMEDIATE ends access now', async () => {
      await client.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } });
      const [sub] = await client.getActiveSubscriptions({ customerId: 'c' });
      const updated = await client.updateSubscription({
        subscriptionId: sub!.subscriptionId,
        addons: [{ addonId: 'addon-10-campaigns', quantity: 3 }],
      });
      expect(updated.addons).toMatchObject([{ quantity: 3, addon: { refId: 'addon-10-campaigns' } }]);
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-02-campaigns' })).usageLimit).toBe(34);

      const canceled = await client.cancelSubscription({
        subscriptionRefId: sub!.subscriptionId,
        subscriptionCancellationTime: 'IMMEDIATE',
      });
      expect(canceled).toMatchObject({
        status: 'CANCELED',
        cancellationDate: new Date(T0).toISOString(),
        effectiveEndDate: new Date(T0).toISOString(),
      });
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-02-campaigns' })).accessDeniedReason).toBe(
        'NoActiveSubscription',
      );
      expect((await graphqlError(client.updateSubscription({ subscriptionId: sub!.subscriptionId, addons: [] }))).code).toBe(
        'BadUserInput',
      );
    });

    it('cancel END_OF_BILLING_PERIOD keeps access until the billing period ends', async () => {
      await client.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-growth' } });
      const [sub] = await client.getActiveSubscriptions({ customerId: 'c' });
      emulator.clock.advance(3 * DAY);
      const canceled = await client.cancelSubscription({
        subscriptionRefId: sub!.subscriptionId,
        subscriptionCancellationTime: 'END_OF_BILLING_PERIOD',
      });
      expect(canceled).toMatchObject({
        status: 'ACTIVE',
        effectiveEndDate: '2026-02-15T10:00:00.000Z',
        cancellationDate: new Date(T0 + 3 * DAY).toISOString(),
      });
      emulator.clock.set(Date.parse('2026-02-15T10:00:00.000Z') - 1);
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' })).isGranted).toBe(true);
      emulator.clock.advance(1);
      expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' })).accessDeniedReason).toBe(
        'NoActiveSubscription',
      );
      expect((await client.getSubscription(sub!.subscriptionId)).status).toBe('CANCELED');
    });

    it('migrateSubscriptionToLatest moves a grandfathered subscription to the newest plan version', async () => {
      await client.provisionCustomer({ customerId: 'now', subscriptionParams: { planId: 'plan-revvenu-basic' } });
      await client.provisionCustomer({ customerId: 'later', subscriptionParams: { planId: 'plan-revvenu-basic' } });
      const basic = defaultCatalog.plans.find((p) => p.id === 'plan-revvenu-basic')!;
      emulator.state.publishPlan({ ...basic, entitlements: [{ featureId: 'feature-01-templates', usageLimit: 5 }] });
      await client.provisionCustomer({ customerId: 'new', subscriptionParams: { planId: 'plan-revvenu-basic' } });
      const limit = async (customerId: string): Promise<number | null | undefined> =>
        (await client.getEntitlement({ customerId, featureId: 'feature-01-templates' })).usageLimit;
      expect([await limit('now'), await limit('later'), await limit('new')]).toEqual([3, 3, 5]);

      const [nowSub] = await client.getActiveSubscriptions({ customerId: 'now' });
      const [laterSub] = await client.getActiveSubscriptions({ customerId: 'later' });
      expect(await client.migrateSubscriptionToLatest({ subscriptionId: nowSub!.subscriptionId })).toMatchObject({
        subscriptionId: nowSub!.subscriptionId,
        status: 'ACTIVE',
      });
      await client.migrateSubscriptionToLatest({
        subscriptionId: laterSub!.subscriptionId,
        subscriptionMigrationTime: 'END_OF_BILLING_PERIOD',
      });
      expect([await limit('now'), await limit('later')]).toEqual([5, 3]);
      emulator.clock.set(Date.parse(laterSub!.currentBillingPeriodEnd!));
      expect(await limit('later')).toBe(5);
      expect((await graphqlError(client.migrateSubscriptionToLatest({ subscriptionId: 'subscription-nope' }))).code).toBe(
        'SubscriptionNotFound',
      );
    });

    it('estimates use catalog prices, coupons and billing periods; update estimates prorate', async () => {
      await client.provisionCustomer({ customerId: 'c' });
      const input = {
        customerId: 'c',
        planId: 'plan-revvenu-essentials',
        billableFeatures: [{ featureId: 'feature-01-templates', quantity: 2 }],
        addons: [{ addonId: 'addon-10-campaigns', quantity: 2 }],
      };
      expect(await client.estimateSubscription({ ...input, billingPeriod: 'MONTHLY' })).toMatchObject({
        subTotal: { amount: 30, currency: 'USD' },
        total: { amount: 30, currency: 'USD' },
        billingPeriodRange: { start: '2026-01-15T10:00:00.000Z', end: '2026-02-15T10:00:00.000Z' },
        proration: null,
      });
      const vip = await client.estimateSubscription({ ...input, promotionCode: 'coupon-vip' });
      expect(vip).toMatchObject({ subTotal: { amount: 30 }, total: { amount: 24 } });
      const annual = await client.estimateSubscription({ ...input, billingPeriod: 'ANNUALLY' });
      expect(annual).toMatchObject({ total: { amount: 300 }, billingPeriodRange: { end: '2027-01-15T10:00:00.000Z' } });
      expect((await graphqlError(client.estimateSubscription({ ...input, promotionCode: 'coupon-nope' }))).code).toBe('CouponNotFound');

      const sub = (await client.provisionSubscription({ ...input, addons: [] })).subscription!;
      expect(sub.totalPrice).toEqual({
        subTotal: { amount: 20, currency: 'USD' },
        total: { amount: 20, currency: 'USD' },
      });
      expect(sub.prices?.map((p) => [p.price?.billingModel, p.price?.price?.amount, p.usageLimit])).toEqual([
        ['FLAT_FEE', 10, null],
        ['PER_UNIT', 5, 2],
      ]);
      emulator.clock.advance(15.5 * DAY); // half of January 15 → February 15
      const update = await client.estimateSubscriptionUpdate({
        subscriptionId: sub.subscriptionId,
        billableFeatures: [{ featureId: 'feature-01-templates', quantity: 4 }],
      });
      expect(update).toMatchObject({
        subTotal: { amount: 5, currency: 'USD' },
        total: { amount: 5, currency: 'USD' },
        billingPeriodRange: { start: '2026-01-15T10:00:00.000Z', end: '2026-02-15T10:00:00.000Z' },
        proration: {
          prorationDate: new Date(T0 + 15.5 * DAY).toISOString(),
          credit: { amount: -10, currency: 'USD' },
          debit: { amount: 15, currency: 'USD' },
          netAmount: { amount: 5, currency: 'USD' },
        },
      });
    });
  });

  describe('promotional entitlements', () => {
    it('grant shows on the customer; revoke ends it; revoking again is PromotionalEntitlementNotFound', async () => {
      await client.provisionCustomer({ customerId: 'c' });
      const [granted] = await client.grantPromotionalEntitlements({
        customerId: 'c',
        promotionalEntitlements: [{ featureId: 'feature-01-templates', period: 'ONE_MONTH', usageLimit: 9 }],
      });
      expect(granted).toMatchObject({
        status: 'Active',
        featureId: 'feature-01-templates',
        usageLimit: 9,
        endDate: '2026-02-15T10:00:00.000Z',
        isVisible: true,
        feature: { refId: 'feature-01-templates' },
      });
      expect((await client.getCustomer('c'))?.promotionalEntitlements).toEqual([granted]);
      const revoked = await client.revokePromotionalEntitlement({ customerId: 'c', featureId: 'feature-01-templates' });
      expect(revoked).toMatchObject({ status: 'Expired', endDate: new Date(T0).toISOString() });
      expect((await client.getCustomer('c'))?.promotionalEntitlements).toEqual([]);
      expect((await graphqlError(client.revokePromotionalEntitlement({ customerId: 'c', featureId: 'feature-01-templates' }))).code).toBe(
        'PromotionalEntitlementNotFound',
      );
      expect(
        (
          await graphqlError(
            client.grantPromotionalEntitlements({
              customerId: 'c',
              promotionalEntitlements: [{ featureId: 'feature-01-templates', period: 'CUSTOM' }],
            }),
          )
        ).code,
      ).toBe('BadUserInput');
    });
  });

  describe('with a billing integration (catalog: paidPlansRequirePaymentMethod, defaultPlanId)', () => {
    let billing: Emulator;
    let billingClient: StiggClient;
    beforeAll(async () => {
      billing = await startEmulator({ catalog: billingCatalog, now: () => T0 });
      billingClient = clientFor(billing);
    });
    afterAll(() => billing.stop());
    beforeEach(() => billing.reset());

    it('new customers get the product default plan', async () => {
      const provisioned = await billingClient.provisionCustomer({ customerId: 'c' });
      expect(provisioned.subscriptionDecisionStrategy).toBe('PREDEFINED_FREE_PLAN');
      expect(provisioned.subscription).toMatchObject({ status: 'ACTIVE', plan: { refId: 'plan-revvenu-basic' } });
    });

    it('a paid plan without a payment method answers PAYMENT_REQUIRED with a checkout URL that completes it', async () => {
      await billingClient.provisionCustomer({ customerId: 'c' });
      const result = await billingClient.provisionSubscription({ customerId: 'c', planId: 'plan-revvenu-growth' });
      expect(result).toMatchObject({ status: 'PAYMENT_REQUIRED', subscription: null });
      expect(result.checkoutUrl).toMatch(new RegExp(`^${billing.url.replace('/graphql', '')}/checkout/`));
      expect((await billingClient.getActiveSubscriptions({ customerId: 'c' })).map((s) => s.plan.refId)).toEqual(['plan-revvenu-basic']);

      const checkout = await fetch(result.checkoutUrl!);
      expect(checkout.status).toBe(200);
      expect(await checkout.json()).toMatchObject({ status: 'completed', subscriptionStatus: 'ACTIVE' });
      expect((await billingClient.getActiveSubscriptions({ customerId: 'c' })).map((s) => s.plan.refId)).toEqual(['plan-revvenu-growth']);
      expect((await billingClient.getCustomer('c'))?.hasPaymentMethod).toBe(true);
      expect((await fetch(result.checkoutUrl!)).status).toBe(404);

      const again = await billingClient.provisionSubscription({ customerId: 'c', planId: 'plan-revvenu-essentials' });
      expect(again).toMatchObject({ status: 'SUCCESS', subscription: { status: 'ACTIVE' } });
    });

    it('a trial needs no payment method and expires without one', async () => {
      const growth = billingCatalog.plans.find((p) => p.id === 'plan-revvenu-growth')!;
      billing.state.publishPlan({ ...growth, trialDays: 14 });
      await billingClient.provisionCustomer({ customerId: 'c' });
      const result = await billingClient.provisionSubscription({ customerId: 'c', planId: 'plan-revvenu-growth' });
      expect(result.subscription).toMatchObject({
        status: 'IN_TRIAL',
        trialEndDate: new Date(T0 + 14 * DAY).toISOString(),
      });
      expect((await billingClient.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' })).isGranted).toBe(true);
      billing.clock.advance(14 * DAY);
      expect((await billingClient.getSubscription(result.subscription!.subscriptionId)).status).toBe('EXPIRED');
      expect((await billingClient.getEntitlement({ customerId: 'c', featureId: 'feature-04-analytics' })).accessDeniedReason).toBe(
        'NoActiveSubscription',
      );
    });

    it('coupons: filter by status, refId, type, and/or; page in catalog order', async () => {
      const refIds = async (args: Parameters<StiggClient['getCoupons']>[0]): Promise<string[]> =>
        (await billingClient.getCoupons(args)).edges.map((e) => e.node.refId);
      expect(await refIds({ filter: { status: { eq: 'ACTIVE' } } })).toEqual(['coupon-vip', 'coupon-spring']);
      expect(await refIds({ filter: { status: { in: ['ARCHIVED'] } } })).toEqual(['coupon-old']);
      expect(await refIds({ filter: { refId: { eq: 'coupon-vip' } } })).toEqual(['coupon-vip']);
      expect(await refIds({ filter: { and: [{ type: { eq: 'FIXED' } }, { status: { neq: 'ARCHIVED' } }] } })).toEqual(['coupon-spring']);
      expect(await refIds({ filter: { or: [{ refId: { eq: 'coupon-old' } }, { name: { eq: 'VIP' } }] } })).toEqual([
        'coupon-vip',
        'coupon-old',
      ]);
      const page1 = await billingClient.getCoupons({ paging: { first: 2 } });
      expect(page1.edges.map((e) => e.node.refId)).toEqual(['coupon-vip', 'coupon-old']);
      expect(page1).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true, hasPreviousPage: false } });
      const page2 = await billingClient.getCoupons({ paging: { first: 2, after: page1.pageInfo.endCursor } });
      expect(page2.edges.map((e) => e.node.refId)).toEqual(['coupon-spring']);
      expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      expect((await billingClient.getCoupons()).edges[0]?.node).toMatchObject({
        refId: 'coupon-vip',
        name: 'VIP',
        type: 'PERCENTAGE',
        discountValue: 20,
        status: 'ACTIVE',
      });
    });
  });
});
