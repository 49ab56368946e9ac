import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements, EntitlementsUpstream, Lease } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { CAMPAIGNS, customer, startRig, TEMPLATES } from './helpers';
import { forSuite } from '../support/suite';

const opened: Entitlements[] = [];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function make(options: Omit<Parameters<typeof createEntitlements>[0], 'client'> & { client?: EntitlementsUpstream } = {}): Entitlements {
  const entitlements = createEntitlements({ client: rig.client, usage: { flushIntervalMs: 60_000 }, ...options });
  opened.push(entitlements);
  return entitlements;
}

const rig = forSuite(() =>
  startRig(
    [
      customer('at-three', 'plan-revvenu-basic', { usage: [{ featureId: CAMPAIGNS, value: 3 }] }),
      customer('stream', 'plan-revvenu-basic'),
      customer('setter', 'plan-revvenu-basic'),
    ],
    {},
    { maxRetries: 0 },
  ),
);
afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 2_000 })));
});

test('invalidate() during a cold fetch: its waiters ask Stigg again rather than reserve against nothing', async () => {
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding = true;
  const client: EntitlementsUpstream = {
    getEntitlement: async (query) => {
      const answer = await rig.client.getEntitlement(query);
      if (holding) await held;
      return answer;
    },
    reportUsageBulk: (input) => rig.client.reportUsageBulk(input),
  };
  const entitlements = make({ client });
  const waiting = Array.from({ length: 4 }, () =>
    entitlements.acquire({ customerId: 'at-three', featureId: CAMPAIGNS, requestedUsage: 1 }),
  );
  await sleep(30);
  await entitlements.invalidate('at-three');
  holding = false;
  release();
  const leases = await Promise.all(waiting);
  expect(leases.filter((lease) => lease.decision.granted)).toHaveLength(1);
  expect(leases.find((lease) => lease.decision.granted)?.decision).toMatchObject({ currentUsage: 3, usageLimit: 4 });
});

test('a 70 s streaming response keeps its reservation (renewed in fake time); nothing is granted past the limit', async () => {
  const entitlements = make({ now: () => Date.now(), reservationTtlMs: 10_000, cache: { ttlMs: 600_000, staleTtlMs: 600_000 } });
  await entitlements.check({ customerId: 'stream', featureId: CAMPAIGNS });
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const streaming = entitlements.acquire({ customerId: 'stream', featureId: CAMPAIGNS, requestedUsage: 4 }) as Lease;
  expect(streaming.decision.granted).toBe(true);
  let granted = 0;
  for (let second = 0; second < 70; second += 5) {
    jest.advanceTimersByTime(5_000);
    const other = entitlements.acquire({ customerId: 'stream', featureId: CAMPAIGNS, requestedUsage: 1 }) as Lease;
    if (other.decision.granted) {
      granted += 1;
      other.commit();
    }
  }
  streaming.commit();
  expect(granted).toBe(0);
  expect((entitlements.acquire({ customerId: 'stream', featureId: CAMPAIGNS, requestedUsage: 1 }) as Lease).decision.granted).toBe(false);
  jest.useRealTimers();
  await entitlements.flush();
  expect(rig.emulator.state.currentUsage('stream', CAMPAIGNS)).toBe(4);
});

test('a lease never settled stops being renewed after reservationMaxMs', async () => {
  const warnings: string[] = [];
  const entitlements = make({
    now: () => Date.now(),
    reservationTtlMs: 3_000,
    reservationMaxMs: 20_000,
    cache: { ttlMs: 600_000, staleTtlMs: 600_000 },
    logger: { warn: (_meta, message) => warnings.push(message), error: () => undefined },
  });
  await entitlements.check({ customerId: 'stream', featureId: TEMPLATES });
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const leaked = entitlements.acquire({ customerId: 'stream', featureId: TEMPLATES, requestedUsage: 3 }) as Lease;
  expect(leaked.decision.granted).toBe(true);
  jest.advanceTimersByTime(15_000);
  expect((entitlements.acquire({ customerId: 'stream', featureId: TEMPLATES, requestedUsage: 1 }) as Lease).decision.granted).toBe(false);
  jest.advanceTimersByTime(10_000);
  const after = entitlements.acquire({ customerId: 'stream', featureId: TEMPLATES, requestedUsage: 1 }) as Lease;
  expect(after.decision.granted).toBe(true);
  after.release();
  expect(warnings.some((message) => /reservationMaxMs/.test(message))).toBe(true);
});

test('a refresh keeps a SET report Stigg has not acknowledged yet', async () => {
  let now = Date.now();
  const entitlements = make({ now: () => now, cache: { ttlMs: 1_000 } });
  await entitlements.check({ customerId: 'setter', featureId: TEMPLATES });
  // `void`: the memory store queues synchronously, so report() returns nothing to wait for (a refusal throws).
  void entitlements.report({ customerId: 'setter', featureId: TEMPLATES, value: 3, updateBehavior: 'SET' });
  expect(entitlements.check({ customerId: 'setter', featureId: TEMPLATES })).toMatchObject({ currentUsage: 3 });
  now += 2_000;
  void entitlements.check({ customerId: 'setter', featureId: TEMPLATES }); // stale: answered at once, refreshed in the background
  await sleep(50);
  await entitlements.invalidate('setter');
  expect(await entitlements.check({ customerId: 'setter', featureId: TEMPLATES })).toMatchObject({ source: 'upstream', currentUsage: 3 });
  expect((await entitlements.acquire({ customerId: 'setter', featureId: TEMPLATES, requestedUsage: 1 })).decision.granted).toBe(false);
  await entitlements.flush();
  expect(rig.emulator.state.currentUsage('setter', TEMPLATES)).toBe(3);
  await entitlements.invalidate('setter');
  expect(await entitlements.check({ customerId: 'setter', featureId: TEMPLATES })).toMatchObject({ currentUsage: 3 });
});

test("the app's clock ahead of Stigg's at a period end: Stigg's usage stands until Stigg rolls over", async () => {
  let stiggNow = Date.UTC(2030, 0, 15);
  const skewMs = 5_000;
  let appNow = stiggNow + skewMs;
  const emulator = await startEmulator({
    port: 0,
    now: () => stiggNow,
    catalog: { ...defaultCatalog, customers: [customer('skew', 'plan-revvenu-basic', { usage: [{ featureId: CAMPAIGNS, value: 4 }] })] },
  });
  const entitlements = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
    now: () => appNow,
    cache: { ttlMs: 1_000 },
    usage: { flushIntervalMs: 60_000 },
  });
  try {
    const full = await entitlements.check({ customerId: 'skew', featureId: CAMPAIGNS, requestedUsage: 1 });
    expect(full).toMatchObject({ granted: false, currentUsage: 4 });
    const periodEnd = Date.parse(full.usagePeriodEnd as string);
    stiggNow = periodEnd - 3_000;
    appNow = stiggNow + skewMs;
    let granted = 0;
    for (let round = 0; round < 10; round += 1) {
      for (let i = 0; i < 4; i += 1) {
        const lease = await entitlements.acquire({ customerId: 'skew', featureId: CAMPAIGNS, requestedUsage: 1 });
        if (lease.decision.granted) {
          granted += 1;
          lease.commit();
        }
      }
      appNow += 1_100;
      stiggNow += 10;
      await sleep(20);
    }
    // One period's worth at most (granted while this clock alone said the period had ended), never 40.
    expect(granted).toBeLessThanOrEqual(4);
    const stillOld = await entitlements.check({ customerId: 'skew', featureId: CAMPAIGNS });
    expect(Date.parse(stillOld.usagePeriodEnd as string)).toBe(periodEnd);
  } finally {
    await entitlements.close({ timeoutMs: 1_000 });
    await emulator.stop();
  }
});

test("the app's clock ahead at a period end, refreshes failing but deliveries answered: Stigg's old-period usage is not rolled over again after each delivery", async () => {
  let stiggNow = Date.UTC(2030, 0, 15);
  let appNow = stiggNow + 5_000;
  const emulator = await startEmulator({
    port: 0,
    now: () => stiggNow,
    catalog: {
      ...defaultCatalog,
      customers: [customer('skew-delivered', 'plan-revvenu-basic', { usage: [{ featureId: CAMPAIGNS, value: 3 }] })],
    },
  });
  const real = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  let fetches = 0;
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => {
      fetches += 1;
      if (fetches > 1) return Promise.reject(Object.assign(new Error('fetch failed'), { transient: true }));
      return real.getEntitlement(query);
    },
    reportUsageBulk: (input) => real.reportUsageBulk(input),
  };
  const entitlements = createEntitlements({
    client,
    now: () => appNow,
    cache: { ttlMs: 60 * 86_400_000, staleTtlMs: 60 * 86_400_000 },
    usage: { flushIntervalMs: 60_000 },
  });
  try {
    const first = await entitlements.check({ customerId: 'skew-delivered', featureId: CAMPAIGNS });
    const periodEnd = Date.parse(first.usagePeriodEnd as string);
    stiggNow = periodEnd - 3_000;
    appNow = stiggNow + 5_000;
    let granted = 0;
    for (let round = 0; round < 5; round += 1) {
      for (let i = 0; i < 4; i += 1) {
        const lease = await entitlements.acquire({ customerId: 'skew-delivered', featureId: CAMPAIGNS, requestedUsage: 1 });
        if (lease.decision.granted) {
          granted += 1;
          lease.commit();
        }
      }
      await entitlements.flush();
      appNow += 100;
      stiggNow += 100;
    }
    expect(granted).toBeLessThanOrEqual(4);
  } finally {
    await entitlements.close({ timeoutMs: 1_000 });
    await emulator.stop();
  }
});
