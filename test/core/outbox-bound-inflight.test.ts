import { MemoryStore } from '../../src/core';
import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from './helpers';

// The memory outbox bound counts the granted metered requests still at work: requests granted
// together while it had room would otherwise all commit into a full outbox and have their served
// units dropped (6 granted at once with room for 3 reports dropped 3).
it('6 requests at once with room for 3 reports and Stigg down: 3 granted, the rest answered by the failure policy, nothing dropped', async () => {
  const ids = ['inflight-1', 'inflight-2', 'inflight-3', 'inflight-4', 'inflight-5', 'inflight-6'];
  const rig = await startRig(
    ids.map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  );
  try {
    const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 3 }), usage: { flushIntervalMs: 60_000 } });
    const dropped: unknown[] = [];
    entitlements.on('usage:dropped', (report) => dropped.push(report));
    for (const id of ids) await entitlements.check({ customerId: id, featureId: CAMPAIGNS });
    rig.emulator.setFaults({ failureRate: 1 });
    const settled = await Promise.allSettled(
      ids.map(async (id) => entitlements.acquire({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 })),
    );
    const leases = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const granted = leases.filter((lease: Lease) => lease.decision.granted);
    expect(granted).toHaveLength(3);
    expect(settled.filter((result) => result.status === 'rejected')).toHaveLength(3);
    for (const lease of leases) lease.commit();
    expect(dropped).toEqual([]);

    // The outbox now holds the 3 reports Stigg has not taken: the next metered request is refused too.
    await expect(async () => entitlements.acquire({ customerId: 'inflight-1', featureId: CAMPAIGNS, requestedUsage: 1 })).rejects.toThrow(
      /No entitlement decision could be made/,
    );
  } finally {
    await rig.stop();
  }
});
