import { MemoryStore } from '../../src/core';
import type { Lease } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig, type Rig } from '../core/helpers';

const CUSTOMERS = ['bound-1', 'bound-2', 'bound-3', 'bound-4', 'bound-5', 'bound-6'];
let rig: Rig;

beforeAll(async () => {
  rig = await startRig(
    CUSTOMERS.map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0 },
  );
});

afterAll(async () => {
  await rig.stop();
});

test('the memory outbox full during an outage: a metered request is not granted when its usage could not be kept (no unit served and then dropped)', async () => {
  const store = new MemoryStore({ maxPendingUsage: 3 });
  const entitlements = rig.make({ store, usage: { flushIntervalMs: 60_000 } });
  const dropped: unknown[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  for (const id of CUSTOMERS) await entitlements.check({ customerId: id, featureId: CAMPAIGNS });
  rig.emulator.setFaults({ failureRate: 1 });
  let served = 0;
  let refused = 0;
  for (const id of CUSTOMERS) {
    let lease: Lease;
    try {
      lease = await entitlements.acquire({ customerId: id, featureId: CAMPAIGNS, requestedUsage: 1 });
    } catch {
      refused += 1;
      continue;
    }
    if (!lease.decision.granted) {
      refused += 1;
      continue;
    }
    served += 1;
    lease.commit();
  }
  expect({ served, refused, dropped: dropped.length }).toEqual({ served: 3, refused: 3, dropped: 0 });
  rig.emulator.setFaults({ failureRate: 0 });
  await entitlements.flush();
  let counted = 0;
  for (const id of CUSTOMERS) counted += rig.emulator.stats().usage[`${id}||${CAMPAIGNS}`] ?? 0;
  expect(counted).toBe(3);
});
