import { MemoryStore } from '../../src/core';
import type { EntitlementsOptions } from '../../src/core/entitlements';
import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig } from './helpers';
import { forSuite } from '../support/suite';

// The memory outbox bound (maxPendingUsage) promises no metered unit served and then dropped: during
// an outage a full outbox refuses metered requests (503) rather than serving units it cannot keep. With a
// fallback rule or failMode 'open', a full outbox went to the failure policy, which granted anyway;
// and a request with nothing cached (Stigg down) was granted by the policy without looking at the
// bound at all. Room for 3 reports, Stigg down: 6 served, 3 reports dropped. A full outbox answers
// 503 whatever the policy; the policy serves only what the outbox can keep.
const CUSTOMERS = ['fb-1', 'fb-2', 'fb-3', 'fb-4', 'fb-5', 'fb-6'];

const rig = forSuite(() =>
  startRig(
    CUSTOMERS.map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  ),
);

afterEach(() => rig.emulator.setFaults({ failureRate: 0 }));

type Policy = Pick<EntitlementsOptions, 'fallback' | 'failMode'>;

async function outage(policy: Policy, warm: boolean) {
  const ids = CUSTOMERS;
  const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 3 }), usage: { flushIntervalMs: 60_000 }, ...policy });
  const dropped: unknown[] = [];
  const storeErrors: Error[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  entitlements.on('store:error', (error) => storeErrors.push(error));
  const before = Object.fromEntries(ids.map((id) => [id, rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0]));
  if (warm) for (const id of ids) await entitlements.check({ customerId: id, featureId: CAMPAIGNS });
  rig.emulator.setFaults({ failureRate: 1 });
  let served = 0;
  const refusals: string[] = [];
  for (const id of ids) {
    let lease: Lease;
    try {
      lease = await entitlements.acquire({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 });
    } catch (error) {
      refusals.push((error as Error).name);
      continue;
    }
    if (!lease.decision.granted) {
      refusals.push(`denied:${lease.decision.accessDeniedReason}`);
      continue;
    }
    served += 1;
    lease.commit();
  }
  rig.emulator.setFaults({ failureRate: 0 });
  await entitlements.flush();
  let counted = 0;
  for (const id of ids) counted += (rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0) - (before[id] ?? 0);
  await entitlements.close();
  return { served, refusals, dropped: dropped.length, counted, outboxFull: storeErrors.some((error) => error.name === 'OutboxFullError') };
}

const unavailable = ['EntitlementUnavailableError', 'EntitlementUnavailableError', 'EntitlementUnavailableError'];
const expected = { served: 3, refusals: unavailable, dropped: 0, counted: 3, outboxFull: true };

test.each([
  ["failMode 'closed' (the default), entitlement cached", {}, true],
  ['a fallback with access, entitlement cached', { fallback: { [CAMPAIGNS]: { hasAccess: true } } }, true],
  ["failMode 'open', entitlement cached", { failMode: 'open' as const }, true],
  ['a fallback with access, nothing cached', { fallback: { [CAMPAIGNS]: { hasAccess: true } } }, false],
  ["failMode 'open', nothing cached", { failMode: 'open' as const }, false],
])('full memory outbox during an outage, %s: 3 served and kept, 3 refused with 503, none dropped', async (_name, policy, warm) => {
  expect(await outage(policy, warm)).toEqual(expected);
});

test("a boolean check under failMode 'open' is still granted with the outbox full (no report to keep)", async () => {
  const entitlements = rig.make({ store: new MemoryStore({ maxPendingUsage: 1 }), usage: { flushIntervalMs: 60_000 }, failMode: 'open' });
  try {
    rig.emulator.setFaults({ failureRate: 1 });
    const metered = await entitlements.acquire({ customerId: 'fb-1', featureId: CAMPAIGNS, requestedUsage: 1 });
    expect(metered.decision.granted).toBe(true);
    await expect(async () => entitlements.acquire({ customerId: 'fb-2', featureId: CAMPAIGNS, requestedUsage: 1 })).rejects.toThrow(
      /No entitlement decision could be made/,
    );
    const look = await entitlements.acquire({ customerId: 'fb-2', featureId: CAMPAIGNS });
    expect(look.decision).toMatchObject({ granted: true, source: 'fail-open' });
    metered.release();
    look.release();
  } finally {
    rig.emulator.setFaults({ failureRate: 0 });
    await entitlements.close();
  }
});
