import { MemoryStore } from '../../src/core';
import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from './helpers';

// The memory outbox bound counts granted metered leases still at work, but report() looked only at
// the reports already queued: with room for 3 reports and 3 leases granted (the bound full), a
// report() still went in, and the last lease's commit found the outbox full, its served unit
// dropped ('usage:dropped'). Room 3, Stigg down: 3 leases served + 1 report queued, 1 served unit
// dropped. report() must leave the leases their places: it is refused (OutboxFullError) instead.
it('report() does not take the place of a granted lease still at work', async () => {
  const ids = ['rep-1', 'rep-2', 'rep-3', 'rep-4'];
  const rig = await startRig(
    ids.map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  );
  try {
    const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 3 }), usage: { flushIntervalMs: 60_000 } });
    const dropped: Array<{ customerId: string }> = [];
    entitlements.on('usage:dropped', (report) => dropped.push(report));
    for (const id of ids) await entitlements.check({ customerId: id, featureId: CAMPAIGNS });
    rig.emulator.setFaults({ failureRate: 1 });
    const leases: Lease[] = [];
    for (const id of ids.slice(0, 3)) leases.push(await entitlements.acquire({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 }));
    expect(leases.map((lease) => lease.decision.granted)).toEqual([true, true, true]);
    let reportRefused: string | undefined;
    try {
      await entitlements.report({ customerId: 'rep-4', featureId: CAMPAIGNS, value: 1 });
    } catch (error) {
      reportRefused = (error as Error).name;
    }
    for (const lease of leases) lease.commit();
    const servedDropped = dropped.filter((report) => report.customerId !== 'rep-4').length;
    expect({ servedDropped, reportRefused }).toEqual({ servedDropped: 0, reportRefused: 'OutboxFullError' });
  } finally {
    await rig.stop();
  }
});
