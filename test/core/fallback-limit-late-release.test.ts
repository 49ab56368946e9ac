import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from './helpers';

// A fallback's usageLimit caps the units it grants per key in total until Stigg answers for that key
// again; released units come back. But a lease granted in one outage and released in the next gave
// its units back to the new outage's total: fallback usageLimit 5, an outage grants 5 (lease L),
// Stigg answers (a new total), the cache goes (invalidate), a second outage grants 5 (M), then L is
// released late and the second outage granted 5 more: 10 units out against a cap of 5. A release
// gives its units back only to the total they were taken from.
it('a lease from an earlier outage, released late, gives nothing back to the current fallback total', async () => {
  const rig = await startRig([customer('fb-late', 'plan-revvenu-growth')], {}, { maxRetries: 0 });
  try {
    const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 }, fallback: { [CAMPAIGNS]: { hasAccess: true, usageLimit: 5 } } });
    const input = { customerId: 'fb-late', featureId: CAMPAIGNS, requestedUsage: 5 };
    const attempt = async (): Promise<string> => {
      let lease: Lease;
      try {
        lease = await entitlements.acquire(input);
      } catch (error) {
        return (error as Error).name;
      }
      return lease.decision.granted ? `granted:${lease.decision.source}` : 'denied';
    };

    rig.emulator.setFaults({ failureRate: 1 });
    const first = await entitlements.acquire(input);
    expect(first.decision).toMatchObject({ granted: true, source: 'fallback' });
    rig.emulator.setFaults({ failureRate: 0 });
    const answered = await entitlements.acquire({ ...input, requestedUsage: 1 }); // Stigg answers: a new total
    expect(answered.decision.source).toBe('upstream');
    answered.release();
    await entitlements.invalidate('fb-late');

    rig.emulator.setFaults({ failureRate: 1 });
    const second = await entitlements.acquire(input);
    expect(second.decision).toMatchObject({ granted: true, source: 'fallback' });
    first.release(); // late: its units were taken from the first outage's total
    expect(await attempt()).toBe('EntitlementUnavailableError');
    second.release();
  } finally {
    await rig.stop();
  }
});
