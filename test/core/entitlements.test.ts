import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementsClosedError, EntitlementUnavailableError } from '../../src/core/errors';
import { MemoryStore } from '../../src/core/memory-store';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import type { Decision, Entitlements, Lease, Logger } from '../../src/core/types';
import { ANALYTICS, CAMPAIGNS, CUSTOM_DOMAIN, customer, entitlementReads, startRig, TEMPLATES, usageKey } from './helpers';
import { forSuite } from '../support/suite';

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function recordingLogger(): Logger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, warn: (_meta, message) => warnings.push(message), error: (_meta, message) => errors.push(message) };
}

const rig = forSuite(() =>
  startRig(
    [
      customer('basic', 'plan-revvenu-basic'),
      customer('growth', 'plan-revvenu-growth'),
      customer('storm', 'plan-revvenu-basic'),
      customer('swr', 'plan-revvenu-basic'),
      customer('upgrade', 'plan-revvenu-basic'),
      customer('five-left', 'plan-revvenu-essentials', { usage: [{ featureId: TEMPLATES, value: 5 }] }),
      customer('five-left-warm', 'plan-revvenu-essentials', { usage: [{ featureId: TEMPLATES, value: 5 }] }),
      customer('once', 'plan-revvenu-essentials'),
      customer('shared', 'plan-revvenu-essentials', { usage: [{ featureId: TEMPLATES, value: 5 }] }),
      customer('down', 'plan-revvenu-basic'),
      customer('cluster', 'plan-revvenu-basic'),
      customer('abandoned', 'plan-revvenu-basic'),
      customer('lapsed-held', 'plan-revvenu-basic'),
      customer('broken-store', 'plan-revvenu-basic'),
      customer('counted', 'plan-revvenu-basic'),
      customer('slow-store', 'plan-revvenu-basic'),
      customer('refresh-window', 'plan-revvenu-basic'),
      {
        id: 'sites',
        subscriptions: [
          { planId: 'plan-revvenu-basic', resourceId: 'site-1' },
          { planId: 'plan-revvenu-growth', resourceId: 'site-2' },
        ],
      },
    ],
    {},
    { maxRetries: 0, timeoutMs: 2000 },
  ),
);

beforeEach(() => {
  rig.emulator.setFaults({ latencyMs: 0, failureRate: 0 });
});

describe('options', () => {
  test('bad options fail at construction with a fix-it message', () => {
    const client = rig.client;
    expect(() => createEntitlements(undefined as never)).toThrow(/createEntitlements\(\{ client: Stigg\.createClient\(apiKey\) \}\)/);
    expect(() => createEntitlements({} as never)).toThrow(/client is required/);
    expect(() => createEntitlements({ client, cache: { ttlMs: -1 } })).toThrow(TypeError);
    expect(() => createEntitlements({ client, cache: { ttlMs: -1 } })).toThrow(
      /-1 is not a valid value for cache\.ttlMs\. Please choose an integer >= 0/,
    );
    expect(() => createEntitlements({ client, cache: { ttlMs: 10_000, staleTtlMs: 5_000 } })).toThrow(
      /staleTtlMs .* must be >= cache\.ttlMs/,
    );
    expect(() => createEntitlements({ client, usage: { batchSize: 0 } })).toThrow(/usage\.batchSize/);
    expect(() => createEntitlements({ client, failMode: 'maybe' as never })).toThrow(/'closed' \(default\) or 'open'/);
    expect(() => createEntitlements({ client, fallback: { f: { hasAccess: 'yes' } as never } })).toThrow(/fallback\["f"\]/);
    expect(() => createEntitlements({ client, fallback: { f: { hasAccess: true, usageLimit: -1 } } })).toThrow(/usageLimit/);
    expect(() => createEntitlements({ client, logger: {} as never })).toThrow(/logger must have warn\(\) and error\(\)/);
    expect(() => createEntitlements({ client, store: { name: 'x' } as never })).toThrow(/store\.getEntitlement is not a function/);
  });

  test("the caller's options are never mutated", async () => {
    const options = Object.freeze({
      client: rig.client,
      cache: Object.freeze({ ttlMs: 1000 }),
      usage: Object.freeze({ batchSize: 10 }),
      fallback: Object.freeze({ [ANALYTICS]: Object.freeze({ hasAccess: true }) }),
    });
    const before = JSON.stringify({ ...options, client: undefined });
    const entitlements = createEntitlements(options);
    await entitlements.check({ customerId: 'basic', featureId: TEMPLATES });
    await entitlements.close();
    expect(JSON.stringify({ ...options, client: undefined })).toBe(before);
  });

  test('bad inputs are TypeErrors', () => {
    const entitlements = rig.make();
    expect(() => entitlements.acquire({ customerId: '', featureId: TEMPLATES })).toThrow(/customerId must be a non-empty string/);
    expect(() => entitlements.check({ customerId: 'c', featureId: TEMPLATES, requestedUsage: -1 })).toThrow(
      /-1 is not a valid requestedUsage/,
    );
    expect(() => entitlements.check({ customerId: 'c', featureId: TEMPLATES, requestedUsage: Number.NaN })).toThrow(TypeError);
    expect(() => entitlements.report({ customerId: 'c', featureId: TEMPLATES, value: Infinity })).toThrow(/MAX_SAFE_INTEGER/);
  });
});

describe('cache', () => {
  test('1,000 concurrent cold checks for one key make exactly one upstream call', async () => {
    rig.emulator.setFaults({ latencyMs: 20 });
    const before = entitlementReads(rig.emulator);
    const entitlements = rig.make();
    const decisions = await Promise.all(
      Array.from({ length: 1000 }, () => entitlements.check({ customerId: 'storm', featureId: TEMPLATES, requestedUsage: 1 })),
    );
    expect(entitlementReads(rig.emulator) - before).toBe(1);
    expect(decisions.every((d) => d.granted && d.source === 'upstream')).toBe(true);
  });

  test('a warm granted acquire() and check() answer synchronously from the cache', async () => {
    const entitlements = rig.make();
    const hits: string[] = [];
    entitlements.on('cache:hit', (key) => hits.push(key));
    const cold = entitlements.acquire({ customerId: 'growth', featureId: ANALYTICS });
    expect(isThenable(cold)).toBe(true);
    expect((await cold).decision).toMatchObject({ granted: true, source: 'upstream', metered: false });
    const warm = entitlements.acquire({ customerId: 'growth', featureId: ANALYTICS }) as Lease;
    expect(isThenable(warm)).toBe(false);
    expect(warm.decision).toMatchObject({ granted: true, source: 'cache' });
    const check = entitlements.check({ customerId: 'growth', featureId: ANALYTICS }) as Decision;
    expect(isThenable(check)).toBe(false);
    expect(check.granted).toBe(true);
    expect(hits).toHaveLength(2);
    // The reserving path too: a warm metered acquire reserves and answers without a promise.
    (await entitlements.acquire({ customerId: 'growth', featureId: CAMPAIGNS, requestedUsage: 1 })).release();
    const metered = entitlements.acquire({ customerId: 'growth', featureId: CAMPAIGNS, requestedUsage: 1 }) as Lease;
    expect(isThenable(metered)).toBe(false);
    expect(metered.decision).toMatchObject({ granted: true, source: 'cache', metered: true, usageLimit: 100 });
    const held = entitlements.check({ customerId: 'growth', featureId: CAMPAIGNS }) as Decision;
    expect(held.currentUsage).toBe(1); // the reservation is counted
    metered.release();
  });

  test('stale-while-revalidate: a stale key answers at once and is refreshed once in the background', async () => {
    let now = Date.now();
    const entitlements = rig.make({ now: () => now, cache: { ttlMs: 1000, staleTtlMs: 10_000 } });
    await entitlements.check({ customerId: 'swr', featureId: CUSTOM_DOMAIN });
    const before = entitlementReads(rig.emulator);
    rig.emulator.setFaults({ latencyMs: 150 });
    now += 1500;
    const stale = Array.from({ length: 100 }, () => entitlements.check({ customerId: 'swr', featureId: CUSTOM_DOMAIN }) as Decision);
    // Answered synchronously, while the one refresh is still on its way (150 ms of emulator latency).
    expect(entitlementReads(rig.emulator)).toBe(before);
    expect(
      stale.every((d) => !isThenable(d) && d.source === 'cache' && d.accessDeniedReason === 'NoFeatureEntitlementInSubscription'),
    ).toBe(true);
    for (let waited = 0; entitlementReads(rig.emulator) === before && waited < 3000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(entitlementReads(rig.emulator) - before).toBe(1);
    // Refreshed: fresh again, no further upstream call.
    expect(isThenable(entitlements.check({ customerId: 'swr', featureId: CUSTOM_DOMAIN }))).toBe(false);
    expect(entitlementReads(rig.emulator) - before).toBe(1);
    // Past staleTtlMs the value is a miss and waits for Stigg.
    now += 20_000;
    const miss = entitlements.check({ customerId: 'swr', featureId: CUSTOM_DOMAIN });
    expect(isThenable(miss)).toBe(true);
    expect((await miss).source).toBe('upstream');
  });

  test('invalidate(customerId) makes the next check see a subscription change', async () => {
    const entitlements = rig.make();
    expect((await entitlements.check({ customerId: 'upgrade', featureId: ANALYTICS })).granted).toBe(false);
    await rig.client.provisionSubscription({ customerId: 'upgrade', planId: 'plan-revvenu-growth' });
    expect((entitlements.check({ customerId: 'upgrade', featureId: ANALYTICS }) as Decision).granted).toBe(false);
    await entitlements.invalidate('upgrade');
    const after = await entitlements.check({ customerId: 'upgrade', featureId: ANALYTICS });
    expect(after).toMatchObject({ granted: true, source: 'upstream' });
  });
});

describe('reservations', () => {
  async function storm(entitlements: Entitlements, customerId: string): Promise<Lease[]> {
    return Promise.all(Array.from({ length: 50 }, () => entitlements.acquire({ customerId, featureId: TEMPLATES, requestedUsage: 1 })));
  }

  test('50 concurrent cold acquires against 5 remaining units grant exactly 5', async () => {
    const entitlements = rig.make();
    const leases = await storm(entitlements, 'five-left');
    expect(leases.filter((l) => l.decision.granted)).toHaveLength(5);
    const denied = leases.find((l) => !l.decision.granted);
    expect(denied?.decision).toMatchObject({
      accessDeniedReason: 'RequestedUsageExceedingLimit',
      requestedUsage: 1,
      currentUsage: 10,
      usageLimit: 10,
    });
    for (const lease of leases) lease.release();
  });

  test('warm: the (R+1)-th of 50 is denied, released units become available again, committed ones are reported', async () => {
    const entitlements = rig.make();
    await entitlements.check({ customerId: 'five-left-warm', featureId: TEMPLATES });
    const leases = await storm(entitlements, 'five-left-warm');
    const granted = leases.filter((l) => l.decision.granted);
    expect(granted).toHaveLength(5);
    expect(granted.map((l) => l.decision.currentUsage).sort()).toEqual([5, 6, 7, 8, 9]);
    granted[0]?.release();
    granted[1]?.commit();
    const again = entitlements.acquire({ customerId: 'five-left-warm', featureId: TEMPLATES, requestedUsage: 1 }) as Lease;
    expect(again.decision.granted).toBe(true);
    expect(
      (entitlements.acquire({ customerId: 'five-left-warm', featureId: TEMPLATES, requestedUsage: 1 }) as Lease).decision.granted,
    ).toBe(false);
    for (const lease of [...granted.slice(2), again]) lease.release();
    await entitlements.flush();
    expect(rig.emulator.stats().usage[usageKey('five-left-warm', TEMPLATES)]).toBe(1);
  });

  test('commit and release take effect exactly once', async () => {
    const entitlements = rig.make();
    const lease = await entitlements.acquire({ customerId: 'once', featureId: TEMPLATES, requestedUsage: 2 });
    lease.commit();
    lease.commit();
    lease.release();
    const released = entitlements.acquire({ customerId: 'once', featureId: TEMPLATES, requestedUsage: 3 }) as Lease;
    released.release();
    released.commit();
    const denied = entitlements.acquire({ customerId: 'once', featureId: TEMPLATES, requestedUsage: 100 }) as Lease;
    denied.commit();
    const unlimited = await entitlements.acquire({ customerId: 'growth', featureId: TEMPLATES, requestedUsage: 7 });
    expect(unlimited.decision).toMatchObject({ granted: true, hasUnlimitedUsage: true, metered: true });
    unlimited.commit();
    unlimited.commit();
    const boolean = await entitlements.acquire({ customerId: 'growth', featureId: CUSTOM_DOMAIN, requestedUsage: 1 });
    boolean.commit();
    await entitlements.flush();
    const usage = rig.emulator.stats().usage;
    expect(usage[usageKey('once', TEMPLATES)]).toBe(2);
    expect(usage[usageKey('growth', TEMPLATES)]).toBe(7);
    expect(usage[usageKey('growth', CUSTOM_DOMAIN)]).toBeUndefined();
    expect((entitlements.check({ customerId: 'once', featureId: TEMPLATES }) as Decision).currentUsage).toBe(2);
  });

  test("reconciliation: Stigg's usage after a delivered report replaces the cached usage, units still queued kept", async () => {
    const a = rig.make({ usage: { flushIntervalMs: 60_000 } });
    const b = rig.make({ usage: { flushIntervalMs: 60_000 } });
    await a.check({ customerId: 'shared', featureId: TEMPLATES });
    await b.check({ customerId: 'shared', featureId: TEMPLATES });
    (a.acquire({ customerId: 'shared', featureId: TEMPLATES, requestedUsage: 2 }) as Lease).commit();
    await a.flush();
    (b.acquire({ customerId: 'shared', featureId: TEMPLATES, requestedUsage: 1 }) as Lease).commit();
    expect((b.check({ customerId: 'shared', featureId: TEMPLATES }) as Decision).currentUsage).toBe(6);
    const flushing = b.flush();
    (b.acquire({ customerId: 'shared', featureId: TEMPLATES, requestedUsage: 1 }) as Lease).commit();
    await flushing;
    // 5 initial + 2 from a + 1 delivered from b + 1 queued in b.
    expect((b.check({ customerId: 'shared', featureId: TEMPLATES }) as Decision).currentUsage).toBe(9);
    // A refetch adds what this process has queued and Stigg has not seen yet.
    await b.invalidate('shared');
    expect(await b.check({ customerId: 'shared', featureId: TEMPLATES })).toMatchObject({ source: 'upstream', currentUsage: 9 });
    await b.flush();
    expect((b.check({ customerId: 'shared', featureId: TEMPLATES }) as Decision).currentUsage).toBe(9);
    expect(rig.emulator.stats().usage[usageKey('shared', TEMPLATES)]).toBe(4);
  });
});

test('resources are decided, reserved and reported separately', async () => {
  const entitlements = rig.make();
  expect((await entitlements.check({ customerId: 'sites', resourceId: 'site-1', featureId: ANALYTICS })).granted).toBe(false);
  expect((await entitlements.check({ customerId: 'sites', resourceId: 'site-2', featureId: ANALYTICS })).granted).toBe(true);
  const site1 = await Promise.all(
    Array.from({ length: 5 }, () =>
      entitlements.acquire({ customerId: 'sites', resourceId: 'site-1', featureId: CAMPAIGNS, requestedUsage: 1 }),
    ),
  );
  expect(site1.map((lease) => lease.decision.granted)).toEqual([true, true, true, true, false]);
  const site2 = await entitlements.acquire({ customerId: 'sites', resourceId: 'site-2', featureId: CAMPAIGNS, requestedUsage: 50 });
  expect(site2.decision).toMatchObject({ granted: true, resourceId: 'site-2', usageLimit: 100 });
  site1.forEach((lease) => lease.commit());
  site2.commit();
  await entitlements.flush();
  expect(rig.emulator.stats().usage[usageKey('sites', CAMPAIGNS, 'site-1')]).toBe(4);
  expect(rig.emulator.stats().usage[usageKey('sites', CAMPAIGNS, 'site-2')]).toBe(50);
  await entitlements.invalidate('sites');
  expect(await entitlements.check({ customerId: 'sites', resourceId: 'site-1', featureId: CAMPAIGNS })).toMatchObject({
    source: 'upstream',
    currentUsage: 4,
  });
});

/** Two instances sharing one store stand in for two processes sharing Redis. */
class LockingStore extends MemoryStore {
  private readonly locks = new Map<string, number>();
  acquireFetchLock(key: string, ttlMs: number): boolean {
    const until = this.locks.get(key);
    if (until !== undefined && until > Date.now()) return false;
    this.locks.set(key, Date.now() + ttlMs);
    return true;
  }
}

test('with a store that has acquireFetchLock, coalescing holds across instances', async () => {
  rig.emulator.setFaults({ latencyMs: 50 });
  const store = new LockingStore();
  const instances = [rig.make({ store }), rig.make({ store })];
  const before = entitlementReads(rig.emulator);
  const decisions = await Promise.all(
    instances.flatMap((entitlements) =>
      Array.from({ length: 200 }, () => entitlements.check({ customerId: 'cluster', featureId: TEMPLATES })),
    ),
  );
  expect(entitlementReads(rig.emulator) - before).toBe(1);
  expect(decisions.every((d) => d.granted && d.usageLimit === 3)).toBe(true);
});

test('a reservation nobody commits or releases comes back after reservationTtlMs', async () => {
  let now = Date.now();
  const entitlements = rig.make({ now: () => now, reservationTtlMs: 1000 });
  const held = await entitlements.acquire({ customerId: 'abandoned', featureId: TEMPLATES, requestedUsage: 3 });
  expect(held.decision.granted).toBe(true);
  expect((entitlements.acquire({ customerId: 'abandoned', featureId: TEMPLATES, requestedUsage: 1 }) as Lease).decision.granted).toBe(
    false,
  );
  now += 1000;
  const later = entitlements.acquire({ customerId: 'abandoned', featureId: TEMPLATES, requestedUsage: 3 }) as Lease;
  expect(later.decision).toMatchObject({ granted: true, currentUsage: 0 });
  later.release();
});

test("an abandoned lease's commit after its reservation lapsed counts the units its room was granted to: usage:overrun", async () => {
  let now = Date.now();
  const entitlements = rig.make({ now: () => now, reservationTtlMs: 1000 });
  const overruns: Array<{ usage: number; usageLimit: number }> = [];
  entitlements.on('usage:overrun', (overrun) => overruns.push(overrun));
  const slow = await entitlements.acquire({ customerId: 'lapsed-held', featureId: TEMPLATES, requestedUsage: 1 });
  slow.abandoned?.();
  now += 1000;
  // The lapsed room and the rest: three more requests hold all 3 templates of the plan.
  const others = [1, 2, 3].map(() => entitlements.acquire({ customerId: 'lapsed-held', featureId: TEMPLATES, requestedUsage: 1 }) as Lease);
  expect(others.map((lease) => lease.decision.granted)).toEqual([true, true, true]);
  slow.commit();
  await entitlements.flush();
  // 1 used + 3 held = 4 of 3: signalled now, not only once the others commit (their commits are no overrun).
  expect(overruns.map(({ usage, usageLimit }) => ({ usage, usageLimit }))).toEqual([{ usage: 4, usageLimit: 3 }]);
  for (const lease of others) lease.release();
});

describe('a store that cannot reserve (Redis down, a timeout): store:error, then the failure policy', () => {
  class BrokenReserveStore extends MemoryStore {
    override reserve(): never {
      throw new Error('store down');
    }
  }
  class RejectingReserveStore extends MemoryStore {
    override reserve(): never {
      return Promise.reject(new Error('store timed out')) as never;
    }
  }

  test('fail-closed by default: no grant on the locally cached usage, EntitlementUnavailableError (503)', async () => {
    for (const store of [new BrokenReserveStore(), new RejectingReserveStore()]) {
      const errors: Error[] = [];
      const entitlements = rig.make({ store, retryAfterSeconds: 3 });
      entitlements.on('store:error', (error) => errors.push(error));
      entitlements.on('store:error', () => {
        throw new Error('listeners must not throw, but one that does changes nothing');
      });
      const acquired = Promise.resolve().then(() =>
        entitlements.acquire({ customerId: 'broken-store', featureId: TEMPLATES, requestedUsage: 2 }),
      );
      await expect(acquired).rejects.toMatchObject({ name: 'EntitlementUnavailableError', status: 503, retryAfterSeconds: 3 });
      await expect(acquired).rejects.toBeInstanceOf(EntitlementUnavailableError);
      expect(errors).toHaveLength(1);
      // The value is cached (the store answers reads), still no grant without a reservation.
      await expect(
        Promise.resolve().then(() => entitlements.acquire({ customerId: 'broken-store', featureId: TEMPLATES, requestedUsage: 1 })),
      ).rejects.toBeInstanceOf(EntitlementUnavailableError);
      // A request that reserves nothing does not need the store's reservations.
      await expect(Promise.resolve(entitlements.acquire({ customerId: 'broken-store', featureId: TEMPLATES }))).resolves.toMatchObject({
        decision: { granted: true },
      });
    }
    expect(rig.emulator.stats().usage[usageKey('broken-store', TEMPLATES)]).toBeUndefined();
  });

  test("a feature's fallback decides, and fail-open grants with source 'fail-open' and reports what it granted", async () => {
    const fallbacks: Decision[] = [];
    const withFallback = rig.make({ store: new RejectingReserveStore(), fallback: { [TEMPLATES]: { hasAccess: true, usageLimit: 3 } } });
    withFallback.on('fallback:used', (decision) => fallbacks.push(decision));
    expect((await withFallback.acquire({ customerId: 'broken-store', featureId: TEMPLATES, requestedUsage: 2 })).decision).toMatchObject({
      granted: true,
      source: 'fallback',
    });
    // The fallback's usageLimit caps what it grants in total, and past it says "try again" (503), never "upgrade".
    await expect(
      Promise.resolve().then(() => withFallback.acquire({ customerId: 'broken-store', featureId: TEMPLATES, requestedUsage: 2 })),
    ).rejects.toBeInstanceOf(EntitlementUnavailableError);
    expect(fallbacks).toHaveLength(1);

    const logger = recordingLogger();
    const open = rig.make({ store: new BrokenReserveStore(), failMode: 'open', logger });
    const lease = await open.acquire({ customerId: 'broken-store', featureId: TEMPLATES, requestedUsage: 2 });
    expect(lease.decision).toMatchObject({ granted: true, source: 'fail-open', metered: true });
    expect(logger.errors).toEqual(['Entitlements store "memory" failed']);
    expect(logger.warnings[0]).toMatch(/failMode: open/);
    lease.commit();
    await open.flush();
    expect(rig.emulator.stats().usage[usageKey('broken-store', TEMPLATES)]).toBe(2);
  });
});

test("a store that counts unreported usage itself (countsUnreportedUsage) gets Stigg's usage as is", async () => {
  class CountingStore extends MemoryStore {
    readonly countsUnreportedUsage = true;
  }
  const entitlements = rig.make({ store: new CountingStore(), usage: { flushIntervalMs: 60_000 } });
  (await entitlements.acquire({ customerId: 'counted', featureId: TEMPLATES, requestedUsage: 2 })).commit();
  expect((entitlements.check({ customerId: 'counted', featureId: TEMPLATES }) as Decision).currentUsage).toBe(2);
  await entitlements.invalidate('counted');
  expect(await entitlements.check({ customerId: 'counted', featureId: TEMPLATES })).toMatchObject({ source: 'upstream', currentUsage: 0 });
});

test("a refresh keeps counting this process's units delivered while Stigg's answer was on its way", async () => {
  let hold: { reached: () => void; opened: Promise<void> } | undefined;
  let open = (): void => {};
  const client = {
    getEntitlement: async (query: Parameters<typeof rig.client.getEntitlement>[0]) => {
      const answer = await rig.client.getEntitlement(query);
      if (hold !== undefined) {
        hold.reached();
        await hold.opened;
      }
      return answer;
    },
    reportUsageBulk: (input: Parameters<typeof rig.client.reportUsageBulk>[0]) => rig.client.reportUsageBulk(input),
  };
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 } });
  try {
    (await entitlements.acquire({ customerId: 'refresh-window', featureId: TEMPLATES, requestedUsage: 2 })).commit();
    await entitlements.invalidate('refresh-window');
    const reached = new Promise<void>((resolve) => {
      hold = { reached: resolve, opened: new Promise<void>((release) => (open = release)) };
    });
    const refreshing = entitlements.check({ customerId: 'refresh-window', featureId: TEMPLATES });
    await reached; // Stigg said 0
    await entitlements.flush(); // Stigg has the 2 now, and they left this process's accounting
    hold = undefined;
    open();
    expect(await refreshing).toMatchObject({ source: 'upstream', currentUsage: 2 });
    expect(
      (entitlements.acquire({ customerId: 'refresh-window', featureId: TEMPLATES, requestedUsage: 2 }) as Lease).decision.granted,
    ).toBe(false);
  } finally {
    await entitlements.close();
  }
});

describe('failure policy', () => {
  test('a cached value outlives an outage; fallback rules, then fail-closed, decide when nothing is cached', async () => {
    let now = Date.now();
    const events: Decision[] = [];
    const entitlements = rig.make({
      now: () => now,
      cache: { ttlMs: 1000, staleTtlMs: 60_000 },
      fallback: { [ANALYTICS]: { hasAccess: true }, [TEMPLATES]: { hasAccess: true, usageLimit: 2 } },
      retryAfterSeconds: 7,
    });
    entitlements.on('fallback:used', (decision) => events.push(decision));
    await entitlements.check({ customerId: 'down', featureId: CAMPAIGNS });
    rig.emulator.setFaults({ failureRate: 1 });
    now += 5000;
    const stale = await entitlements.check({ customerId: 'down', featureId: CAMPAIGNS, requestedUsage: 1 });
    expect(stale).toMatchObject({ granted: true, source: 'cache', usageLimit: 4 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await entitlements.check({ customerId: 'down', featureId: CAMPAIGNS })).toMatchObject({ granted: true, source: 'cache' });
    now += 60_000;
    await expect(Promise.resolve().then(() => entitlements.check({ customerId: 'down', featureId: CAMPAIGNS }))).rejects.toBeInstanceOf(
      EntitlementUnavailableError,
    );
    expect(await entitlements.check({ customerId: 'down', featureId: ANALYTICS })).toMatchObject({ granted: true, source: 'fallback' });
    await expect(
      Promise.resolve().then(() => entitlements.acquire({ customerId: 'down', featureId: TEMPLATES, requestedUsage: 3 })),
    ).rejects.toBeInstanceOf(EntitlementUnavailableError);
    const withinFallback = await entitlements.acquire({ customerId: 'down', featureId: TEMPLATES, requestedUsage: 1 });
    expect(withinFallback.decision).toMatchObject({ granted: true, source: 'fallback', usageLimit: 2 });
    const error = await Promise.resolve()
      .then(() => entitlements.check({ customerId: 'down', featureId: CUSTOM_DOMAIN }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EntitlementUnavailableError);
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 7, featureId: CUSTOM_DOMAIN });
    expect(events.map((d) => d.featureId)).toEqual([ANALYTICS, TEMPLATES]);
    withinFallback.release();
  });

  test('fail-open grants, logs a rate-limited warning, and still reports the usage it granted', async () => {
    const logger = recordingLogger();
    const entitlements = rig.make({ failMode: 'open', logger, usage: { flushIntervalMs: 60_000 } });
    rig.emulator.setFaults({ failureRate: 1 });
    const leases = await Promise.all(
      Array.from({ length: 10 }, (_, i) => entitlements.acquire({ customerId: `open-${i}`, featureId: CUSTOM_DOMAIN })),
    );
    expect(leases.every((l) => l.decision.granted && l.decision.source === 'fail-open')).toBe(true);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/failMode: open/);
    const metered = await entitlements.acquire({ customerId: 'basic', featureId: CAMPAIGNS, requestedUsage: 2 });
    expect(metered.decision).toMatchObject({ granted: true, source: 'fail-open', metered: true });
    metered.commit();
    expect(logger.warnings).toHaveLength(2);
    rig.emulator.setFaults({ failureRate: 0 });
    await entitlements.flush();
    expect(rig.emulator.stats().usage[usageKey('basic', CAMPAIGNS)]).toBe(2);
  });

  test('the circuit breaker answers within milliseconds while Stigg is down, and recovers', async () => {
    let now = Date.now();
    const entitlements = rig.make({
      now: () => now,
      fallback: { [ANALYTICS]: { hasAccess: true } },
      circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 5000 },
    });
    const upstreamErrors: Error[] = [];
    entitlements.on('upstream:error', (error) => upstreamErrors.push(error));
    rig.emulator.setFaults({ failureRate: 1, latencyMs: 150 });
    const check = (i: number) => entitlements.check({ customerId: `cb-${i}`, featureId: ANALYTICS });
    for (const i of [1, 2]) {
      const started = performance.now();
      expect((await check(i)).source).toBe('fallback');
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    }
    const requests = rig.emulator.stats().requests;
    const started = performance.now();
    for (let i = 3; i < 53; i += 1) expect((await check(i)).source).toBe('fallback');
    // Waiting on Stigg would have cost 50 x 150 ms.
    expect(performance.now() - started).toBeLessThan(3000);
    expect(rig.emulator.stats().requests).toBe(requests);
    expect(upstreamErrors).toHaveLength(2);

    rig.emulator.setFaults({ failureRate: 0, latencyMs: 0 });
    now += 5000;
    expect(await check(100)).toMatchObject({ source: 'upstream', accessDeniedReason: 'CustomerNotFound' });
    // The half-open probe went through: the customer's set (empty), then the feature's own answer, which names the reason.
    expect(rig.emulator.stats().requests).toBe(requests + 2);
    expect((await check(101)).source).toBe('upstream');
  });
});

test('reset periods roll over locally at usagePeriodEnd', async () => {
  let now = Date.UTC(2030, 0, 15);
  const emulator = await startEmulator({
    port: 0,
    now: () => now,
    catalog: {
      ...defaultCatalog,
      customers: [customer('monthly', 'plan-revvenu-basic', { usage: [{ featureId: CAMPAIGNS, value: 4 }] })],
    },
  });
  const entitlements = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
    now: () => now,
    cache: { ttlMs: 40 * 86_400_000, staleTtlMs: 40 * 86_400_000 },
  });
  try {
    const full = await entitlements.check({ customerId: 'monthly', featureId: CAMPAIGNS, requestedUsage: 1 });
    expect(full).toMatchObject({ granted: false, currentUsage: 4, usageLimit: 4 });
    const periodEnd = Date.parse(full.usagePeriodEnd as string);
    expect(periodEnd).toBeGreaterThan(now);
    emulator.setFaults({ latencyMs: 200 });
    now = periodEnd + 1;
    const rolled = entitlements.check({ customerId: 'monthly', featureId: CAMPAIGNS, requestedUsage: 1 }) as Decision;
    expect(isThenable(rolled)).toBe(false);
    expect(rolled).toMatchObject({ granted: true, currentUsage: 0, source: 'cache' });
    expect(Date.parse(rolled.usagePeriodEnd as string)).toBeGreaterThan(now);
    expect(new Date(rolled.usagePeriodEnd as string).getUTCDate()).toBe(new Date(periodEnd).getUTCDate());
  } finally {
    emulator.setFaults({ latencyMs: 0 });
    await entitlements.close();
    await emulator.stop();
  }
});

describe('lifecycle', () => {
  test('nothing is accepted after close()', async () => {
    const entitlements = rig.make();
    await entitlements.close();
    expect(() => entitlements.acquire({ customerId: 'basic', featureId: TEMPLATES })).toThrow(EntitlementsClosedError);
    expect(() => entitlements.check({ customerId: 'basic', featureId: TEMPLATES })).toThrow(EntitlementsClosedError);
    expect(() => entitlements.report({ customerId: 'basic', featureId: TEMPLATES, value: 1 })).toThrow(EntitlementsClosedError);
    await expect(entitlements.close()).resolves.toEqual({ undelivered: [] });
  });

  test('close() resolves after every store write it started: commits on their way, the flush, its cache updates', async () => {
    /** A store that answers like Redis: every operation a promise, 20 ms later. */
    class SlowStore extends MemoryStore {
      inFlight = 0;
      readonly log: string[] = [];
      private later<T>(name: string, op: () => T): never {
        this.inFlight += 1;
        return new Promise((resolve) => setTimeout(resolve, 20)).then(() => {
          this.inFlight -= 1;
          this.log.push(name);
          return op();
        }) as never;
      }
      override getEntitlement(...args: Parameters<MemoryStore['getEntitlement']>): never {
        return this.later('get', () => super.getEntitlement(...args));
      }
      override setEntitlement(...args: Parameters<MemoryStore['setEntitlement']>): never {
        return this.later(`set ${args[2].currentUsage}`, () => super.setEntitlement(...args));
      }
      override reserve(...args: Parameters<MemoryStore['reserve']>): never {
        return this.later('reserve', () => super.reserve(...args));
      }
      override commit(...args: Parameters<MemoryStore['commit']>): never {
        return this.later('commit', () => super.commit(...args));
      }
      override claimUsage(...args: Parameters<MemoryStore['claimUsage']>): never {
        return this.later('claim', () => super.claimUsage(...args));
      }
      override ackUsage(...args: Parameters<MemoryStore['ackUsage']>): never {
        return this.later('ack', () => super.ackUsage(...args));
      }
    }
    const store = new SlowStore();
    const entitlements = rig.make({ store, usage: { flushIntervalMs: 60_000 } });
    const lease = await entitlements.acquire({ customerId: 'slow-store', featureId: TEMPLATES, requestedUsage: 2 });
    expect(lease.decision.granted).toBe(true);
    lease.commit();
    await entitlements.close();
    expect(store.inFlight).toBe(0);
    // The commit reached the outbox before the last flush claimed it, and Stigg's answer was written back.
    expect(rig.emulator.stats().usage[usageKey('slow-store', TEMPLATES)]).toBe(2);
    expect(store.log.slice(store.log.indexOf('commit'))).toEqual(['commit', 'claim', 'ack', 'get', 'set 2']);
    expect(store.pendingUsageCount).toBe(0);
  });

  test('a custom store is used and not closed by close()', async () => {
    const store = new MemoryStore();
    const close = jest.spyOn(store, 'close');
    const entitlements = createEntitlements({ client: rig.client, store });
    await entitlements.check({ customerId: 'basic', featureId: TEMPLATES });
    // Both features of the basic plan, from its one read.
    expect(store.size).toBe(2);
    await entitlements.close();
    expect(close).not.toHaveBeenCalled();
  });
});
