import { EntitlementUnavailableError, MemoryStore } from '../../src/core';
import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from '../core/helpers';
import { forSuite } from '../support/suite';

// Found by the adversarial pass (issues 26 and 27): shadow mode turned the 503 of a full outbox into a
// served request like any would-be 503, and the same full outbox then refused its report — room for 3
// reports (maxPendingUsage 3), Stigg down, 6 metered requests: 6 served, 3 reports dropped, 3 counted.
// A full outbox (or the commits held for a shared store at their bound) answers 503 in shadow mode too,
// as under enforcement and fail open: shadow never denies on entitlements, but it does not serve work
// whose units it could only drop.

const CUSTOMERS = ['sh-1', 'sh-2', 'sh-3', 'sh-4', 'sh-5', 'sh-6'];
const rig = forSuite(() =>
  startRig(
    CUSTOMERS.map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  ),
);

test.each([
  ['entitlements cached', true],
  ['nothing cached', false],
])('shadow mode, a full memory outbox during an outage, %s: 3 served and counted, 3 answered 503, nothing dropped', async (_name, warm) => {
  const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 3 }), usage: { flushIntervalMs: 60_000 }, mode: 'shadow' });
  const dropped: unknown[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  const before = Object.fromEntries(CUSTOMERS.map((id) => [id, rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0]));
  if (warm) for (const id of CUSTOMERS) await entitlements.check({ customerId: id, featureId: CAMPAIGNS });
  rig.emulator.setFaults({ failureRate: 1 });
  let served = 0;
  let unavailable = 0;
  try {
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
      served += 1;
      lease.commit();
    }
  } finally {
    rig.emulator.setFaults({ failureRate: 0 });
  }
  await entitlements.flush();
  let counted = 0;
  for (const id of CUSTOMERS) counted += (rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0) - (before[id] ?? 0);
  await entitlements.close();
  expect({ served, unavailable, dropped: dropped.length, counted }).toEqual({ served: 3, unavailable: 3, dropped: 0, counted: 3 });
});
