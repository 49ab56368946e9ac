import { StiggClient } from '../../src/client';
import { createEntitlements, type Entitlements, type UsageOverrun } from '../../src/core';
import type { Logger } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { forSuite, onFirstUse } from '../support/suite';

// Issue 23: Lease.settle(actualUnits) reports what the work used instead of the reservation.
// c-basic has 4 campaigns a month.

const CAMPAIGNS = 'feature-02-campaigns';
const CUSTOMER = 'c-basic';

const emu = forSuite(() =>
  startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);
const client = onFirstUse(() => new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 }));

let entitlements: Entitlements;
let warnings: Array<Record<string, unknown>>;
let overruns: UsageOverrun[];
beforeEach(() => {
  emu.reset();
  warnings = [];
  overruns = [];
  const logger: Logger = { warn: (meta) => warnings.push(meta), error: () => {} };
  entitlements = createEntitlements({ client, logger, usage: { flushIntervalMs: 60_000 } });
  entitlements.on('usage:overrun', (overrun) => overruns.push(overrun));
});
afterEach(async () => {
  await entitlements.close();
});

async function acquire(units: number) {
  return entitlements.acquire({ customerId: CUSTOMER, featureId: CAMPAIGNS, requestedUsage: units });
}

async function reported(): Promise<number> {
  await entitlements.flush();
  return emu.stats().usage[`${CUSTOMER}||${CAMPAIGNS}`] ?? 0;
}

test('fewer units than reserved: those are reported, the rest is free again at once', async () => {
  const lease = await acquire(3);
  expect(lease.decision.granted).toBe(true);
  lease.settle(1);
  expect((await acquire(3)).decision.granted).toBe(true); // 1 used + 3 = 4
  expect(await reported()).toBe(1);
  expect(overruns).toEqual([]);
});

test('more units than reserved: all are reported, later requests count them, and crossing the limit is signalled', async () => {
  const lease = await acquire(2);
  lease.settle(5);
  expect(await reported()).toBe(5);
  expect((await acquire(1)).decision).toMatchObject({ granted: false, accessDeniedReason: 'RequestedUsageExceedingLimit' });
  expect(overruns).toHaveLength(1);
  expect(overruns[0]).toMatchObject({ actualUnits: 5, usage: 5, usageLimit: 4 });
  expect(warnings).toEqual([expect.objectContaining({ featureId: CAMPAIGNS, actualUnits: 5, usageLimit: 4 })]);
});

test('more units than reserved, up to the limit exactly: reported, nothing signalled', async () => {
  (await acquire(1)).settle(4);
  expect(await reported()).toBe(4);
  expect(overruns).toEqual([]);
  expect(warnings).toEqual([]);
});

test('0 units: nothing is reported and the reservation is given back', async () => {
  (await acquire(4)).settle(0);
  expect((await acquire(4)).decision.granted).toBe(true);
  expect(await reported()).toBe(0);
});

test.each([
  ['settle twice', (lease: { settle(n: number): void; commit(): void; release(): void }) => (lease.settle(2), lease.settle(3))],
  ['settle, then commit', (lease: { settle(n: number): void; commit(): void; release(): void }) => (lease.settle(2), lease.commit())],
  ['settle, then release', (lease: { settle(n: number): void; commit(): void; release(): void }) => (lease.settle(2), lease.release())],
])('idempotent: %s reports the first settlement only', async (_name, act) => {
  act(await acquire(3));
  expect(await reported()).toBe(2);
});

test('commit, then settle: the commit stands', async () => {
  const lease = await acquire(3);
  lease.commit();
  lease.settle(1);
  expect(await reported()).toBe(3);
});

test.each([Number.NaN, -1, Number.POSITIVE_INFINITY, '2' as unknown as number, undefined as unknown as number])(
  'settle(%p) throws a TypeError and leaves the lease to settle',
  async (bad) => {
    const lease = await acquire(2);
    expect(() => lease.settle(bad)).toThrow(TypeError);
    lease.settle(1);
    expect(await reported()).toBe(1);
  },
);

test('a denied lease settles nothing', async () => {
  const lease = await acquire(9);
  expect(lease.decision.granted).toBe(false);
  lease.settle(9);
  expect(await reported()).toBe(0);
});

test('a fallback grant (Stigg down) settled lower gives the unused units back to the fallback total', async () => {
  const down = createEntitlements({ client, fallback: { [CAMPAIGNS]: { hasAccess: true, usageLimit: 4 } } });
  emu.setFaults({ failureRate: 1 });
  try {
    const acquireDown = (units: number) =>
      Promise.resolve()
        .then(() => down.acquire({ customerId: CUSTOMER, featureId: CAMPAIGNS, requestedUsage: units }))
        .then(
          (lease) => lease,
          (error: unknown) => (error as Error).name,
        );
    const first = await acquireDown(3);
    expect(typeof first === 'object' && first.decision.source).toBe('fallback');
    if (typeof first === 'object') first.settle(1);
    const second = await acquireDown(3); // 1 + 3 = 4: within the fallback's total
    expect(typeof second === 'object' && second.decision.granted).toBe(true);
    expect(await acquireDown(1)).toBe('EntitlementUnavailableError');
  } finally {
    emu.setFaults({ failureRate: 0 });
    await down.close({ timeoutMs: 100 });
  }
});
