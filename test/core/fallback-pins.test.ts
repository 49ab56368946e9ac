// The fallback's usageLimit is a total per key for one outage: lines where a one-token change lets a
// key hold more than its cap, each pinned and run against its mutant.
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import type { Entitlements, Lease } from '../../src/core/types';
import { customer, startRig, TEMPLATES, type Rig } from './helpers';

let rig: Rig;
const opened: Entitlements[] = [];

beforeAll(async () => {
  rig = await startRig([customer('fp-a', 'plan-revvenu-basic')], {}, { maxRetries: 0 });
});
afterEach(async () => {
  rig.emulator.setFaults({ failureRate: 0 });
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 500 })));
});
afterAll(() => rig.stop());

async function acquire(entitlements: Entitlements, customerId: string): Promise<Lease | 'unavailable'> {
  try {
    return await Promise.resolve().then(() => entitlements.acquire({ customerId, featureId: TEMPLATES, requestedUsage: 1 }));
  } catch (error) {
    expect(error).toBeInstanceOf(EntitlementUnavailableError);
    return 'unavailable';
  }
}

// Mutant: `total.used <= 0` → `true` in FailurePolicy.giveBack (releasing one lease deleted the whole total).
test('releasing one of two fallback leases gives back one unit, not the whole total: usageLimit 2 never holds 3', async () => {
  const entitlements = createEntitlements({
    client: rig.client,
    usage: { flushIntervalMs: 60_000 },
    fallback: { [TEMPLATES]: { hasAccess: true, usageLimit: 2 } },
    circuitBreaker: { failureThreshold: 1000 },
  });
  opened.push(entitlements);
  rig.emulator.setFaults({ failureRate: 1 });
  const first = await acquire(entitlements, 'fp-cold');
  const second = await acquire(entitlements, 'fp-cold');
  expect([first, second].every((lease) => lease !== 'unavailable' && lease.decision.granted)).toBe(true);
  expect(await acquire(entitlements, 'fp-cold')).toBe('unavailable');
  (first as Lease).release();
  const third = await acquire(entitlements, 'fp-cold');
  expect(third).not.toBe('unavailable');
  expect((third as Lease).decision).toMatchObject({ granted: true, source: 'fallback', currentUsage: 1 });
  // Two held (the second and the third): the cap is full again.
  expect(await acquire(entitlements, 'fp-cold')).toBe('unavailable');
  (second as Lease).release();
  (third as Lease).release();
});

// Mutant: `total?.shared` → `total.shared` in FailurePolicy.giveBack (a fallback without a usageLimit has no total).
test('a fallback lease of a feature without a usageLimit releases without error (it took from no total)', async () => {
  const entitlements = createEntitlements({
    client: rig.client,
    usage: { flushIntervalMs: 60_000 },
    fallback: { [TEMPLATES]: { hasAccess: true } },
    circuitBreaker: { failureThreshold: 1000 },
  });
  opened.push(entitlements);
  rig.emulator.setFaults({ failureRate: 1 });
  const lease = await acquire(entitlements, 'fp-open');
  expect(lease).not.toBe('unavailable');
  // Nothing counted, and Stigg did not say: the usage is unknown, not 0 (mutant: usedBefore 0 for a rule without usageLimit).
  expect((lease as Lease).decision).toMatchObject({ granted: true, source: 'fallback', currentUsage: null });
  expect(() => (lease as Lease).release()).not.toThrow();
});
