import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError, statusForReason } from '../../src/core/errors';
import { KeyCache } from '../../src/core/key-cache';
import { MemoryStore } from '../../src/core/memory-store';
import type { Entitlements, EntitlementsUpstream, Lease } from '../../src/core/types';
import { ANALYTICS, CAMPAIGNS, customer, startRig, TEMPLATES } from './helpers';
import { forSuite } from '../support/suite';

const opened: Entitlements[] = [];

function make(options: Omit<Parameters<typeof createEntitlements>[0], 'client'> & { client?: EntitlementsUpstream } = {}): Entitlements {
  const entitlements = createEntitlements({ client: rig.client, usage: { flushIntervalMs: 60_000 }, ...options });
  opened.push(entitlements);
  return entitlements;
}

function attempt<T>(call: () => T | Promise<T>): Promise<T> {
  return Promise.resolve().then(call);
}

const rig = forSuite(() =>
  startRig(
    [customer('fb-a', 'plan-revvenu-basic'), customer('fb-b', 'plan-revvenu-basic'), customer('future', 'plan-revvenu-basic')],
    {},
    { maxRetries: 0 },
  ),
);
afterEach(async () => {
  rig.emulator.setFaults({ failureRate: 0 });
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 500 })));
});

describe('fallback during an outage', () => {
  test('usageLimit caps the total a key is granted, not each request; released units come back', async () => {
    const entitlements = make({
      fallback: { [TEMPLATES]: { hasAccess: true, usageLimit: 4 } },
      circuitBreaker: { failureThreshold: 1000 },
    });
    rig.emulator.setFaults({ failureRate: 1 });
    const granted: Lease[] = [];
    let unavailable = 0;
    for (let i = 0; i < 8; i += 1) {
      try {
        granted.push(await attempt(() => entitlements.acquire({ customerId: 'fb-a', featureId: TEMPLATES, requestedUsage: 1 })));
      } catch (error) {
        expect(error).toBeInstanceOf(EntitlementUnavailableError);
        unavailable += 1;
      }
    }
    expect(granted).toHaveLength(4);
    expect(unavailable).toBe(4);
    expect(granted.map((lease) => lease.decision.currentUsage)).toEqual([0, 1, 2, 3]);
    // Another customer has its own total.
    expect(
      (await attempt(() => entitlements.acquire({ customerId: 'fb-b', featureId: TEMPLATES, requestedUsage: 4 }))).decision.granted,
    ).toBe(true);
    // A check() only looks: it takes nothing from the total.
    rig.emulator.setFaults({ failureRate: 1 });
    await expect(attempt(() => entitlements.check({ customerId: 'fb-a', featureId: TEMPLATES, requestedUsage: 1 }))).rejects.toBeInstanceOf(
      EntitlementUnavailableError,
    );
    expect(await attempt(() => entitlements.check({ customerId: 'fb-c', featureId: TEMPLATES, requestedUsage: 4 }))).toMatchObject({
      granted: true,
      source: 'fallback',
    });
    expect(
      (await attempt(() => entitlements.acquire({ customerId: 'fb-c', featureId: TEMPLATES, requestedUsage: 4 }))).decision.granted,
    ).toBe(true);
    granted[0]?.release();
    expect(
      (await attempt(() => entitlements.acquire({ customerId: 'fb-a', featureId: TEMPLATES, requestedUsage: 1 }))).decision,
    ).toMatchObject({ granted: true, source: 'fallback' });
    for (const lease of granted) lease.commit();
    rig.emulator.setFaults({ failureRate: 0 });
    await entitlements.flush();
  });

  test('a hasAccess:false fallback answers 503 (try again), never a 402 that asks the user to upgrade', async () => {
    const entitlements = make({ fallback: { [ANALYTICS]: { hasAccess: false } } });
    rig.emulator.setFaults({ failureRate: 1 });
    const error = await attempt(() => entitlements.check({ customerId: 'fb-a', featureId: ANALYTICS })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EntitlementUnavailableError);
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 5 });
  });
});

test('a reason Stigg added after this version flows through decisions verbatim, as a 403', async () => {
  const client: EntitlementsUpstream = {
    getEntitlement: async (query) => ({
      ...(await rig.client.getEntitlement(query)),
      isGranted: false,
      accessDeniedReason: 'EntitlementNotFound' as never,
    }),
    reportUsageBulk: (input) => rig.client.reportUsageBulk(input),
  };
  const entitlements = make({ client });
  const decision = await entitlements.check({ customerId: 'future', featureId: CAMPAIGNS });
  expect(decision).toMatchObject({ granted: false, accessDeniedReason: 'EntitlementNotFound' });
  expect(statusForReason(decision.accessDeniedReason)).toBe(403);
  const lease = await entitlements.acquire({ customerId: 'future', featureId: CAMPAIGNS, requestedUsage: 1 });
  expect(lease.decision).toMatchObject({ granted: false, accessDeniedReason: 'EntitlementNotFound' });
});

test('the memory store never reserves above 0 units at the limit, however small', () => {
  const store = new MemoryStore();
  store.setEntitlement(
    'k',
    'c',
    {
      accessDeniedReason: null,
      featureType: 'NUMBER',
      meterType: 'Incremental',
      hasUnlimitedUsage: false,
      usageLimit: 4,
      currentUsage: 4,
      usagePeriodEnd: null,
      resetPeriod: null,
      fetchedAt: Date.now(),
    },
    60_000,
  );
  expect(store.reserve('k', 1e-16, 4, 60_000).ok).toBe(false);
  store.setEntitlement(
    'k',
    'c',
    {
      accessDeniedReason: null,
      featureType: 'NUMBER',
      meterType: 'Incremental',
      hasUnlimitedUsage: false,
      usageLimit: 4,
      currentUsage: 3.5,
      usagePeriodEnd: null,
      resetPeriod: null,
      fetchedAt: Date.now(),
    },
    60_000,
  );
  expect(store.reserve('k', 0.5, 4, 60_000).ok).toBe(true);
  expect(store.reserve('k', 1e-16, 4, 60_000).ok).toBe(false);
});

test('the key cache is bounded in total, not per level', () => {
  const keys = new KeyCache(100);
  for (let resource = 0; resource < 1_000; resource += 1) {
    for (const feature of ['f1', 'f2', 'f3']) keys.get('one-customer', `resource-${resource}`, feature);
  }
  for (let customerIndex = 0; customerIndex < 1_000; customerIndex += 1) keys.get(`customer-${customerIndex}`, undefined, 'f1');
  expect(keys.size).toBeLessThanOrEqual(100);
  expect(keys.get('a', 'r', 'f')).toBe(keys.get('a', 'r', 'f'));
});
