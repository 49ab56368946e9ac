import { EntitlementUnavailableError, MemoryStore } from '../../src/core';
import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from '../core/helpers';
import { forSuite } from '../support/suite';

// Adversarial pass 3: shadow mode serves a would-be denial past the limit (RequestedUsageExceedingLimit)
// and reports its units. The full-outbox 503 (aced799) covered only enforcement's 503: with customers at
// their limit, Stigg up and room for 3 reports, 6 metered requests were served and 3 reports dropped.

const CUSTOMERS = ['so-1', 'so-2', 'so-3', 'so-4', 'so-5', 'so-6'];
const rig = forSuite(() =>
  startRig(CUSTOMERS.map((id) => customer(id, 'plan-revvenu-growth', { usage: [{ featureId: CAMPAIGNS, value: 100 }] }))),
);

test('shadow mode, customers at their limit, a full memory outbox: nothing served is dropped', async () => {
  const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 3 }), usage: { flushIntervalMs: 60_000 }, mode: 'shadow' });
  const dropped: unknown[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  const before = Object.fromEntries(CUSTOMERS.map((id) => [id, rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0]));
  let served = 0;
  let unavailable = 0;
  let wouldDeny = 0;
  for (const id of CUSTOMERS) {
    let lease: Lease;
    try {
      lease = await entitlements.acquire({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 });
    } catch (error) {
      if (!(error instanceof EntitlementUnavailableError)) throw error;
      unavailable += 1;
      continue;
    }
    if (!lease.decision.granted) continue;
    if (lease.decision.wouldDenyReason) wouldDeny += 1;
    served += 1;
    lease.commit();
  }
  await entitlements.flush();
  let counted = 0;
  for (const id of CUSTOMERS) counted += (rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0) - (before[id] ?? 0);
  await entitlements.close();
  expect({ wouldDeny, dropped: dropped.length, servedMinusCounted: served - counted }).toEqual({
    wouldDeny: served,
    dropped: 0,
    servedMinusCounted: 0,
  });
  expect(served + unavailable).toBe(6);
});
