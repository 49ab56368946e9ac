import type { StiggClient } from '../../src/client';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { clientFor, graphqlError, T0 } from './helpers';

const catalog: Catalog = {
  ...defaultCatalog,
  features: [
    ...defaultCatalog.features,
    { id: 'feature-logins', featureType: 'NUMBER', meterType: 'Incremental', eventName: 'user_login' },
  ],
  plans: defaultCatalog.plans.map((plan) =>
    plan.id === 'plan-revvenu-basic'
      ? {
          ...plan,
          entitlements: [...(plan.entitlements ?? []), { featureId: 'feature-logins', usageLimit: 100, resetPeriod: 'MONTH' as const }],
        }
      : plan,
  ),
};

describe('emulator usage (through StiggClient)', () => {
  let emulator: Emulator;
  let client: StiggClient;

  beforeAll(async () => {
    emulator = await startEmulator({ catalog, now: () => T0 });
    client = clientFor(emulator);
  });
  afterAll(() => emulator.stop());
  beforeEach(async () => {
    emulator.reset();
    emulator.clock.set(T0);
    await client.provisionCustomer({ customerId: 'c', subscriptionParams: { planId: 'plan-revvenu-basic' } });
  });

  it('DELTA adds (negative values too, for Fluctuating features), SET replaces', async () => {
    const a = await client.reportUsage({ customerId: 'c', featureId: 'feature-01-templates', value: 2 });
    expect(a).toMatchObject({
      customerId: 'c',
      featureId: 'feature-01-templates',
      resourceId: null,
      currentUsage: 2,
      usagePeriodEnd: null,
    });
    expect(a.timestamp).toBe(new Date(T0).toISOString());
    expect((await client.reportUsage({ customerId: 'c', featureId: 'feature-01-templates', value: -1 })).currentUsage).toBe(1);
    expect(
      (
        await client.reportUsage({
          customerId: 'c',
          featureId: 'feature-01-templates',
          value: 3,
          updateBehavior: 'SET',
        })
      ).currentUsage,
    ).toBe(3);
    expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-01-templates' })).currentUsage).toBe(3);
    // stats.usage sums DELTA reports only.
    expect(emulator.stats().usage).toEqual({ 'c||feature-01-templates': 1 });
  });

  it('an idempotencyKey seen before returns the first result and changes nothing', async () => {
    const first = await client.reportUsage({
      customerId: 'c',
      featureId: 'feature-02-campaigns',
      value: 2,
      idempotencyKey: 'k-1',
    });
    emulator.clock.advance(1_000);
    const replay = await client.reportUsage({
      customerId: 'c',
      featureId: 'feature-02-campaigns',
      value: 2,
      idempotencyKey: 'k-1',
    });
    expect(replay).toEqual(first);
    expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-02-campaigns' })).currentUsage).toBe(2);
    const other = await client.reportUsage({
      customerId: 'c',
      featureId: 'feature-02-campaigns',
      value: 1,
      idempotencyKey: 'k-2',
    });
    expect(other.currentUsage).toBe(3);
    expect(other.id).not.toBe(first.id);
    expect(emulator.stats().usage).toEqual({ 'c||feature-02-campaigns': 3 });
    expect(emulator.stats().operations.reportUsage).toBe(3);
  });

  it('reportUsageBulk applies each report in order and replays per idempotencyKey', async () => {
    const usages = [
      { customerId: 'c', featureId: 'feature-02-campaigns', value: 1, idempotencyKey: 'b-1' },
      { customerId: 'c', featureId: 'feature-02-campaigns', value: 2, idempotencyKey: 'b-2' },
      { customerId: 'c', featureId: 'feature-01-templates', value: 1, idempotencyKey: 'b-3' },
    ];
    const first = await client.reportUsageBulk({ usages });
    expect(first.map((r) => r.currentUsage)).toEqual([1, 3, 1]);
    const replay = await client.reportUsageBulk({
      usages: [...usages, { customerId: 'c', featureId: 'feature-02-campaigns', value: 1, idempotencyKey: 'b-4' }],
    });
    expect(replay.slice(0, 3)).toEqual(first);
    expect(replay[3]?.currentUsage).toBe(4);
    expect(emulator.stats().usage).toEqual({ 'c||feature-02-campaigns': 4, 'c||feature-01-templates': 1 });
  });

  it('a batch with one invalid report fails whole and applies nothing', async () => {
    const error = await graphqlError(
      client.reportUsageBulk({
        usages: [
          { customerId: 'c', featureId: 'feature-02-campaigns', value: 1 },
          { customerId: 'c', featureId: 'feature-nope', value: 1 },
        ],
      }),
    );
    expect(error.code).toBe('FeatureNotFound');
    expect(error.path).toEqual(['reportUsageBulk']);
    expect((await client.getEntitlement({ customerId: 'c', featureId: 'feature-02-campaigns' })).currentUsage).toBe(0);
    expect(emulator.stats().usage).toEqual({});
  });

  it('refuses usage for unknown customers, unknown resources and unmetered features', async () => {
    expect((await graphqlError(client.reportUsage({ customerId: 'nobody', featureId: 'feature-02-campaigns', value: 1 }))).code).toBe(
      'CustomerNotFound',
    );
    expect(
      (await graphqlError(client.reportUsage({ customerId: 'c', resourceId: 'site-x', featureId: 'feature-02-campaigns', value: 1 }))).code,
    ).toBe('ResourceNotFound');
    expect((await graphqlError(client.reportUsage({ customerId: 'c', featureId: 'feature-04-analytics', value: 1 }))).code).toBe(
      'BadUserInput',
    );
    await client.archiveCustomer('c');
    expect((await graphqlError(client.reportUsage({ customerId: 'c', featureId: 'feature-02-campaigns', value: 1 }))).code).toBe(
      'CustomerNotFound',
    );
  });

  it('reportEvent accepts batches, dedupes on idempotencyKey, and meters features that count the event', async () => {
    await client.reportEvent({
      usageEvents: [
        { customerId: 'c', eventName: 'user_login', idempotencyKey: 'e-1', dimensions: { user_id: 'u1' } },
        { customerId: 'c', eventName: 'user_login', idempotencyKey: 'e-2' },
        { customerId: 'c', eventName: 'user_login', idempotencyKey: 'e-1' },
        { customerId: 'c', eventName: 'page_view', idempotencyKey: 'e-3' },
      ],
    });
    await client.reportEvent({ usageEvents: [{ customerId: 'c', eventName: 'user_login', idempotencyKey: 'e-2' }] });
    expect(emulator.state.events.map((e) => e.idempotencyKey)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(emulator.state.events[0]).toMatchObject({
      customerId: 'c',
      eventName: 'user_login',
      dimensions: { user_id: 'u1' },
    });
    const logins = await client.getEntitlement({ customerId: 'c', featureId: 'feature-logins' });
    expect(logins).toMatchObject({ currentUsage: 2, usageLimit: 100 });
    expect(emulator.stats().operations.reportEvent).toBe(2);
  });
});
