import { MemoryStore } from '../../src/core';
import { CAMPAIGNS, customer, startRig } from './helpers';

// A lease neither committed nor released (a handler that threw past its lease, a dropped
// connection) counted toward the memory outbox bound forever: with room for 3 reports, 3 such
// leases refused every later metered request while Stigg was healthy and the outbox empty.
// Past reservationMaxMs a lease no longer counts (as its units are no longer held).
it('abandoned leases stop counting toward the outbox bound after reservationMaxMs', async () => {
  const rig = await startRig([customer('leak-1', 'plan-revvenu-growth')]);
  try {
    const entitlements = rig.make({
      store: new MemoryStore({ maxPendingUsage: 3 }),
      reservationMaxMs: 50,
      usage: { flushIntervalMs: 60_000 },
    });
    const input = { customerId: 'leak-1', featureId: CAMPAIGNS, requestedUsage: 1 };
    await entitlements.check({ customerId: 'leak-1', featureId: CAMPAIGNS });
    for (let i = 0; i < 3; i++) expect((await entitlements.acquire(input)).decision.granted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const lease = await entitlements.acquire(input);
    expect(lease.decision.granted).toBe(true);
    lease.commit();
  } finally {
    await rig.stop();
  }
});

// Leases are counted per time bucket (reservationMaxMs / 8), the current bucket in fields and older
// ones in a map: a lease settled after its bucket was left behind must still free its place.
it('leases settled after their time bucket was left behind free their place in the outbox bound', async () => {
  const rig = await startRig([customer('leak-2', 'plan-revvenu-growth')]);
  try {
    const entitlements = rig.make({
      store: new MemoryStore({ maxPendingUsage: 3 }),
      reservationMaxMs: 400, // buckets of 50 ms
      usage: { flushIntervalMs: 60_000 },
    });
    const input = { customerId: 'leak-2', featureId: CAMPAIGNS, requestedUsage: 1 };
    await entitlements.check({ customerId: 'leak-2', featureId: CAMPAIGNS });
    const older = [await entitlements.acquire(input), await entitlements.acquire(input)];
    await new Promise((resolve) => setTimeout(resolve, 60));
    const newer = await entitlements.acquire(input);
    for (const lease of [...older, newer]) expect(lease.decision.granted).toBe(true);
    // Full: three leases at work with room for three reports.
    await expect(async () => entitlements.acquire(input)).rejects.toThrow(/No entitlement decision could be made/);
    for (const lease of [...older, newer]) lease.release();
    const again = [await entitlements.acquire(input), await entitlements.acquire(input), await entitlements.acquire(input)];
    expect(again.map((lease) => lease.decision.granted)).toEqual([true, true, true]);
    for (const lease of again) lease.release();
  } finally {
    await rig.stop();
  }
});
