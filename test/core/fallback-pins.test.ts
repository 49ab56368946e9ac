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

// The fallback totals are bounded by cache.maxEntries (3 here). FailurePolicy.local asks makeRoom()
// only for a key with no total yet, once the totals are full; makeRoom() forgets only the totals of an
// outage Stigg has since answered.
function boundedFallback(): Entitlements {
  const entitlements = createEntitlements({
    client: rig.client,
    cache: { maxEntries: 3 },
    usage: { flushIntervalMs: 60_000 },
    fallback: { [TEMPLATES]: { hasAccess: true, usageLimit: 2 } },
    circuitBreaker: { failureThreshold: 1000 },
  });
  opened.push(entitlements);
  return entitlements;
}

const granted = (lease: Lease | 'unavailable'): boolean => lease !== 'unavailable' && lease.decision.granted;

// Mutants: `total === undefined` → `true` and `&&` → `||` (line 123): a key already counting was asked for room and refused.
test('with the fallback totals full, a key that already has a total is still granted up to its usageLimit, and no further', async () => {
  const entitlements = boundedFallback();
  rig.emulator.setFaults({ failureRate: 1 });
  for (const id of ['fp-full-1', 'fp-full-2', 'fp-full-3']) expect(granted(await acquire(entitlements, id))).toBe(true);
  expect(await acquire(entitlements, 'fp-full-4')).toBe('unavailable');
  expect(granted(await acquire(entitlements, 'fp-full-1'))).toBe(true);
  expect(await acquire(entitlements, 'fp-full-1')).toBe('unavailable');
});

// Mutants: `total === undefined` → `false`, `this.totals.size >= maxEntries` → `false` or `>`, `!this.makeRoom()` → `false`
// (line 123): the totals grew past cache.maxEntries during one outage.
test('with the fallback totals full in one outage, a new key gets 503 (the totals never grow past cache.maxEntries)', async () => {
  const entitlements = boundedFallback();
  rig.emulator.setFaults({ failureRate: 1 });
  for (const id of ['fp-cap-1', 'fp-cap-2', 'fp-cap-3']) expect(granted(await acquire(entitlements, id))).toBe(true);
  expect(await acquire(entitlements, 'fp-cap-4')).toBe('unavailable');
  expect(await acquire(entitlements, 'fp-cap-5')).toBe('unavailable');
});

// Mutant: `this.totals.size >= maxEntries` → `true` (line 123): makeRoom(), already found nothing to forget in this outage, refused a slot that was free.
test('a release that empties a total frees its slot: a new key is granted in the same outage', async () => {
  const entitlements = boundedFallback();
  rig.emulator.setFaults({ failureRate: 1 });
  const first = await acquire(entitlements, 'fp-slot-1');
  for (const id of ['fp-slot-2', 'fp-slot-3']) expect(granted(await acquire(entitlements, id))).toBe(true);
  expect(await acquire(entitlements, 'fp-slot-4')).toBe('unavailable');
  (first as Lease).release();
  expect(granted(await acquire(entitlements, 'fp-slot-4'))).toBe(true);
});

// Mutants: makeRoom() never forgetting a total (line 189) or never trying (line 188): the totals of an outage Stigg has answered since kept a new key out.
test("once Stigg has answered, the last outage's totals make room: a new key in the next outage is granted", async () => {
  const entitlements = boundedFallback();
  rig.emulator.setFaults({ failureRate: 1 });
  for (const id of ['fp-old-1', 'fp-old-2', 'fp-old-3']) expect(granted(await acquire(entitlements, id))).toBe(true);
  expect(await acquire(entitlements, 'fp-old-4')).toBe('unavailable');
  rig.emulator.setFaults({ failureRate: 0 });
  // Stigg answers for another key (fp-a has no fallback total to end): only the answer count moves.
  expect(await acquire(entitlements, 'fp-a')).not.toBe('unavailable');
  rig.emulator.setFaults({ failureRate: 1 });
  expect(granted(await acquire(entitlements, 'fp-new-1'))).toBe(true);
  expect(granted(await acquire(entitlements, 'fp-new-2'))).toBe(true);
});

// Mutant: `requested > 0` → true (line 120): a check of no units was counted like a grant of units, and with the
// totals full a new key's plain access check answered 503.
test('with the fallback totals full, a check of a new key (no units asked) is still answered by the fallback', async () => {
  const entitlements = boundedFallback();
  rig.emulator.setFaults({ failureRate: 1 });
  for (const id of ['fp-look-1', 'fp-look-2', 'fp-look-3']) expect(granted(await acquire(entitlements, id))).toBe(true);
  expect(await acquire(entitlements, 'fp-look-4')).toBe('unavailable');
  const decision = await Promise.resolve().then(() => entitlements.check({ customerId: 'fp-look-4', featureId: TEMPLATES }));
  expect(decision).toMatchObject({ granted: true, source: 'fallback' });
});
