// `decision.metered` says a grant's usage is reported: a NUMBER feature AND requestedUsage > 0. A check
// of 0 units (may the customer use campaigns at all?) reserves nothing and reports nothing, whatever
// the route does next. Pinned against its mutant (decide.ts: `metered && requested > 0` → `metered`,
// the mutation review of 2026-12-07, issue 25), through the engine and the emulator over HTTP.
import { CAMPAIGNS, customer, startRig, usageKey, type Rig } from './helpers';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig([customer('zero-check', 'plan-revvenu-growth')]);
});
afterAll(() => rig.stop());

test('a granted 0-unit check of a metered feature is not flagged metered: committed or settled, Stigg receives no usage call', async () => {
  const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 } });
  const committed = await entitlements.acquire({ customerId: 'zero-check', featureId: CAMPAIGNS, requestedUsage: 0 });
  expect(committed.decision).toMatchObject({ granted: true, metered: false, requestedUsage: 0 });
  committed.commit();
  const settled = await entitlements.acquire({ customerId: 'zero-check', featureId: CAMPAIGNS, requestedUsage: 0 });
  settled.settle(2);
  await entitlements.flush();
  expect(rig.emulator.stats().operations['reportUsageBulk'] ?? 0).toBe(0);
  expect(rig.emulator.stats().usage[usageKey('zero-check', CAMPAIGNS)] ?? 0).toBe(0);
  // The same route asking for 1 unit is metered, and its unit reaches Stigg.
  const one = await entitlements.acquire({ customerId: 'zero-check', featureId: CAMPAIGNS, requestedUsage: 1 });
  expect(one.decision.metered).toBe(true);
  one.commit();
  await entitlements.flush();
  expect(rig.emulator.stats().usage[usageKey('zero-check', CAMPAIGNS)]).toBe(1);
});
