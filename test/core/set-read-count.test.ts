/**
 * Attack on the entitlement-set read (issue 22: "one upstream read per customer"; every read counts
 * against Stigg's per-key rate limit): a feature the customer's set does not hold (outside the plan,
 * an unknown customer) is read on its own, and must not cost a new set read each time as well, the
 * set having just been read without it. Before sets: one read per feature.
 */
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { ANALYTICS, CAMPAIGNS, CUSTOM_DOMAIN, entitlementReads, TEMPLATES } from './helpers';
import { forSuite } from '../support/suite';

let entitlements: Entitlements;

const emulator = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: 'basic', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);
beforeEach(() => {
  entitlements = createEntitlements({ client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }) });
});
afterEach(async () => {
  await entitlements.close();
});

async function readsFor(customerId: string, features: string[]): Promise<{ reads: number; reasons: Array<string | null> }> {
  const before = entitlementReads(emulator);
  const reasons: Array<string | null> = [];
  for (const featureId of features) reasons.push((await entitlements.check({ customerId, featureId })).accessDeniedReason);
  return { reads: entitlementReads(emulator) - before, reasons };
}

test('an unknown customer asked 4 features: 1 set read and 1 read per feature, not 2 per feature', async () => {
  const { reads, reasons } = await readsFor('nobody', [TEMPLATES, CAMPAIGNS, CUSTOM_DOMAIN, ANALYTICS]);
  expect(reasons).toEqual(['CustomerNotFound', 'CustomerNotFound', 'CustomerNotFound', 'CustomerNotFound']);
  expect(reads).toBe(5);
});

test('a customer asked 2 features in its plan and 2 outside it: 1 set read and 1 read per feature outside', async () => {
  const { reads, reasons } = await readsFor('basic', [TEMPLATES, CAMPAIGNS, CUSTOM_DOMAIN, ANALYTICS]);
  expect(reasons).toEqual([null, null, 'NoFeatureEntitlementInSubscription', 'NoFeatureEntitlementInSubscription']);
  expect(reads).toBe(3);
});

test('a set read for a feature it lacks still caches the features it holds', async () => {
  await readsFor('basic', [TEMPLATES, ANALYTICS]);
  await entitlements.invalidate('basic');
  const { reads } = await readsFor('basic', [ANALYTICS, TEMPLATES, CAMPAIGNS]);
  // The set (for analytics, not in it, then its own read); templates and campaigns came with the set.
  expect(reads).toBe(2);
});

test('once the plan changes (invalidate), a feature the old set lacked is read with the set again', async () => {
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  await client.provisionCustomer({ customerId: 'upgrader', subscriptionParams: { planId: 'plan-revvenu-basic' } });
  expect(await readsFor('upgrader', [TEMPLATES, ANALYTICS])).toMatchObject({
    reads: 2,
    reasons: [null, 'NoFeatureEntitlementInSubscription'],
  });
  await client.provisionSubscription({ customerId: 'upgrader', planId: 'plan-revvenu-growth' });
  await entitlements.invalidate('upgrader');
  // Growth has analytics: the set holds it, and templates with it.
  expect(await readsFor('upgrader', [ANALYTICS, TEMPLATES])).toEqual({ reads: 1, reasons: [null, null] });
});
