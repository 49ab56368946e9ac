// Run: npx jest --testMatch '**/*.repro.ts' test/attack/repro/outbox-bound-inflight.repro.ts
// The memory outbox bound is checked when a metered request is granted, not counting the granted
// requests still at work: requests granted together while it had room all commit into a full one.
import { MemoryStore } from '../../../src/core';
import { CAMPAIGNS, customer, startRig } from '../../core/helpers';

it('6 requests granted at once with room for 3 reports, Stigg down: 3 units are served and then dropped', async () => {
  const ids = ['inflight-1', 'inflight-2', 'inflight-3', 'inflight-4', 'inflight-5', 'inflight-6'];
  const rig = await startRig(
    ids.map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  );
  const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 3 }), usage: { flushIntervalMs: 60_000 } });
  const dropped: unknown[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  for (const id of ids) await entitlements.check({ customerId: id, featureId: CAMPAIGNS });
  rig.emulator.setFaults({ failureRate: 1 });
  const leases = await Promise.all(
    ids.map(async (id) => entitlements.acquire({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 })),
  );
  for (const lease of leases) lease.commit();
  console.log(`granted ${leases.filter((lease) => lease.decision.granted).length}, dropped ${dropped.length}`);
  await rig.stop();
  expect(dropped).toEqual([]);
});
