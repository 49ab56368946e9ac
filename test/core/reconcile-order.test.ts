import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements, EntitlementsUpstream } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig, closedAfterEach } from './helpers';
import { forSuite } from '../support/suite';

/*
 * Stigg answers a bulk report with the usage after each report. When a batch is replayed (a lost
 * response, or reports reclaimed from a shared outbox in another order), reports it had already
 * applied answer with the usage of their first application: older, lower values, possibly last in
 * the answer. The cached usage must follow the newest state Stigg reported, not the last row.
 */
const opened = closedAfterEach();

const rig = forSuite(() =>
  startRig([customer('ordered', 'plan-revvenu-growth'), customer('mixed', 'plan-revvenu-growth')], {}, { maxRetries: 0 }),
);
/** The real client, whose bulk answers come back in reverse order (as a replay can produce them). */
function reversing(): EntitlementsUpstream {
  return {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: async (input) => [...(await rig.client.reportUsageBulk(input))].reverse(),
  };
}

async function commitUnits(entitlements: Entitlements, customerId: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const lease = await entitlements.acquire({ customerId, featureId: CAMPAIGNS, requestedUsage: 1 });
    expect(lease.decision.granted).toBe(true);
    lease.commit();
  }
}

it('a batch of DELTAs answered out of order caches the newest usage Stigg reported, not the last row', async () => {
  const entitlements = createEntitlements({ client: reversing(), usage: { flushIntervalMs: 60_000 } });
  opened.push(entitlements);
  await commitUnits(entitlements, 'ordered', 3);
  await entitlements.flush();
  const decision = await entitlements.check({ customerId: 'ordered', featureId: CAMPAIGNS });
  expect(decision.currentUsage).toBe(3);
  expect(rig.emulator.stats().usage['ordered||feature-02-campaigns']).toBe(3);
});

it('a batch with a SET keeps the answer order: the last row wins', async () => {
  const entitlements = createEntitlements({ client: rig.client, usage: { flushIntervalMs: 60_000 } });
  opened.push(entitlements);
  await commitUnits(entitlements, 'mixed', 3);
  await entitlements.report({ customerId: 'mixed', featureId: CAMPAIGNS, value: 1, updateBehavior: 'SET' });
  await entitlements.flush();
  const decision = await entitlements.check({ customerId: 'mixed', featureId: CAMPAIGNS });
  expect(decision.currentUsage).toBe(1);
});
