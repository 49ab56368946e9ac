// `decision.metered` says a grant's usage is reported: a NUMBER feature AND a usage asked. A check
// without a usage (may the customer use campaigns at all?) reserves nothing and reports nothing,
// whatever the route does next. A usage of 0 asked (a route whose usage function answered 0, e.g. a
// client's max_tokens: 0) reserves nothing and commits nothing, but what it settles is reported: it
// was reported by nobody before (adversarial pass 4 on issue 23: 6 requests at a limit of 3, settling 2
// each, 0 counted). Pinned against the mutants of decide.ts's `metered && (requested > 0 ||
// input.requestedUsage === 0)` (the mutation review of 2026-12-07, issue 25), through the engine and the
// emulator over HTTP.
import { CAMPAIGNS, customer, startRig, usageKey, type Rig } from './helpers';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig([customer('zero-check', 'plan-revvenu-growth'), customer('zero-asked', 'plan-revvenu-growth')]);
});
afterAll(() => rig.stop());

test('a granted check of a metered feature without a usage is not flagged metered: committed or settled, Stigg receives no usage call', async () => {
  const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 } });
  const committed = await entitlements.acquire({ customerId: 'zero-check', featureId: CAMPAIGNS });
  expect(committed.decision).toMatchObject({ granted: true, metered: false, requestedUsage: 0 });
  committed.commit();
  const settled = await entitlements.acquire({ customerId: 'zero-check', featureId: CAMPAIGNS });
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

test('a usage of 0 asked is metered: its commit reports nothing, what it settles is reported', async () => {
  const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 } });
  const committed = await entitlements.acquire({ customerId: 'zero-asked', featureId: CAMPAIGNS, requestedUsage: 0 });
  expect(committed.decision).toMatchObject({ granted: true, metered: true, requestedUsage: 0 });
  const before = rig.emulator.stats().operations['reportUsageBulk'] ?? 0;
  committed.commit();
  await entitlements.flush();
  expect(rig.emulator.stats().operations['reportUsageBulk'] ?? 0).toBe(before);
  const settled = await entitlements.acquire({ customerId: 'zero-asked', featureId: CAMPAIGNS, requestedUsage: 0 });
  settled.settle(2);
  await entitlements.flush();
  expect(rig.emulator.stats().usage[usageKey('zero-asked', CAMPAIGNS)]).toBe(2);
});
