import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { CachedEntitlement } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore, RedisStoreError } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { startRedisProxy, type RedisProxy } from './proxy';
import { sleep } from '../support/time';

requireRedis();

const KEY = 'customer-1||feature-02-campaigns';

function entitlement(): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Fluctuating',
    hasUnlimitedUsage: false,
    usageLimit: 10,
    currentUsage: 0,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: Date.now(),
  };
}

let redis: Redis;
let proxy: RedisProxy;
let prefix: string;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  redis = await connectRedis();
});

beforeEach(async () => {
  prefix = uniquePrefix();
  proxy = await startRedisProxy(REDIS_URL);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await proxy.close();
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
});

function storeBehindProxy(commandTimeoutMs = 300): { store: RedisStore; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { warn: (_meta: object, message: string) => warnings.push(message), error: () => {}, info: () => {} };
  const store = new RedisStore({ redis: proxy.url, prefix, commandTimeoutMs, logger });
  cleanups.push(() => store.close());
  return { store, warnings };
}

it('Redis hangs: the first call times out, the next fail at once; once Redis answers again the store works without a restart', async () => {
  const timeoutMs = 2000;
  const { store, warnings } = storeBehindProxy(timeoutMs);
  await store.setEntitlement(KEY, 'customer-1', entitlement(), 60_000);
  proxy.blackhole();
  let started = Date.now();
  await expect(store.getEntitlement(KEY)).rejects.toBeInstanceOf(RedisStoreError);
  expect(Date.now() - started).toBeLessThan(2 * timeoutMs);
  started = Date.now();
  const fast = await Promise.allSettled([store.getEntitlement(KEY), store.reserve(KEY, 1, 10, 1000), store.claimUsage(10, 1000)]);
  // Not one of them waited a command timeout out.
  expect(Date.now() - started).toBeLessThan(timeoutMs);
  for (const outcome of fast) {
    expect(outcome.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(RedisStoreError);
  }
  expect(warnings.filter((w) => /not answering/.test(w))).toHaveLength(1);
  await proxy.restore();
  let back: CachedEntitlement | undefined;
  for (let waited = 0; back === undefined && waited < 5000; waited += 50) {
    await sleep(50);
    back = await Promise.resolve(store.getEntitlement(KEY)).catch(() => undefined);
  }
  expect(back).toMatchObject({ usageLimit: 10 });
  await expect(store.reserve(KEY, 1, 10, 1000)).resolves.toMatchObject({ ok: true });
});

it('a script error (Redis answered) does not make the store fail fast', async () => {
  const { store } = storeBehindProxy(300);
  await expect(store.reserve(KEY, 1, 10, 1000)).rejects.toThrow(/no cached entitlement/);
  await store.setEntitlement(KEY, 'customer-1', entitlement(), 60_000);
  await expect(store.reserve(KEY, 1, 10, 1000)).resolves.toMatchObject({ ok: true });
});

describe('Stigg down, Redis up', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      catalog: { ...defaultCatalog, customers: [{ id: 'customer-lock', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('a failed fetch releases its fetch lock: the next cold request (this process or another) asks Stigg at once', async () => {
    const engines = [0, 1].map(() => {
      const store = new RedisStore({ redis, prefix, nearCacheMs: 0 });
      const entitlements = createEntitlements({
        client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 }),
        store,
        failMode: 'closed',
      });
      cleanups.push(
        () => entitlements.close(),
        () => store.close(),
      );
      return entitlements;
    });
    const input = { customerId: 'customer-lock', featureId: 'feature-02-campaigns', requestedUsage: 1 };
    emulator.setFaults({ failureRate: 1 });
    await expect(Promise.resolve(engines[0]!.acquire(input))).rejects.toThrow();
    emulator.setFaults({ failureRate: 0 });
    for (const entitlements of engines) {
      const started = Date.now();
      const lease = await entitlements.acquire(input);
      expect(lease.decision.granted).toBe(true);
      // A lock left behind made every cold request wait its 5 s TTL out.
      expect(Date.now() - started).toBeLessThan(2500);
      lease.release();
      await entitlements.invalidate('customer-lock');
    }
  });
  it('a process waiting on the fetch lock takes over at once when the holder fails (or its answer was refused by an invalidation)', async () => {
    const real = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
    const failing = {
      getEntitlement: async () => {
        await sleep(300);
        throw Object.assign(new Error('Stigg answered 503'), { status: 503 });
      },
      reportUsageBulk: real.reportUsageBulk.bind(real),
    };
    const engines = [failing, real].map((client) => {
      const store = new RedisStore({ redis, prefix, nearCacheMs: 0 });
      const entitlements = createEntitlements({ client, store, failMode: 'closed' });
      cleanups.push(
        () => entitlements.close(),
        () => store.close(),
      );
      return entitlements;
    });
    const input = { customerId: 'customer-lock', featureId: 'feature-02-campaigns', requestedUsage: 1 };
    const holder = Promise.resolve(engines[0]!.acquire(input)).catch((error: unknown) => error);
    await sleep(50);
    const started = Date.now();
    const lease = await engines[1]!.acquire(input);
    // It waited for the holder (~250 ms more), not for the lock's 5 s TTL.
    expect(Date.now() - started).toBeLessThan(2500);
    expect(lease.decision.granted).toBe(true);
    lease.release();
    expect(await holder).toBeInstanceOf(Error);
  });
});

describe('Redis lost mid-flush', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      catalog: { ...defaultCatalog, customers: [{ id: 'customer-flush', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('Stigg took the batch but Redis died before the ack: the reports come back and Stigg counts every unit once', async () => {
    const real = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
    let cutAfterDelivery = false;
    const client = {
      getEntitlement: real.getEntitlement.bind(real),
      reportUsageBulk: async (input: Parameters<typeof real.reportUsageBulk>[0]) => {
        const results = await real.reportUsageBulk(input);
        if (cutAfterDelivery) {
          cutAfterDelivery = false;
          await proxy.refuse();
        }
        return results;
      },
    };
    const store = new RedisStore({ redis: proxy.url, prefix, commandTimeoutMs: 2000, nearCacheMs: 0 });
    const leaseMs = 400;
    const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 60_000, leaseMs } });
    cleanups.push(
      () => entitlements.close().catch(() => {}),
      () => store.close(),
    );
    const input = { customerId: 'customer-flush', featureId: 'feature-02-campaigns', requestedUsage: 1 };
    for (let i = 0; i < 12; i++) {
      const lease = await entitlements.acquire(input);
      expect(lease.decision.granted).toBe(true);
      lease.commit();
    }
    await sleep(50);
    cutAfterDelivery = true;
    await entitlements.flush();
    expect(emulator.stats().usage['customer-flush||feature-02-campaigns']).toBe(12);
    expect(await redis.hlen(`${prefix}outbox`)).toBe(12);
    await proxy.restore();
    // Once Redis answers again and the lease ran out, the same reports go again, with the same keys.
    for (let waited = 0; (await redis.hlen(`${prefix}outbox`)) > 0 && waited < 8000; waited += 100) {
      await sleep(100);
      await entitlements.flush().catch(() => {});
    }
    expect(await redis.hlen(`${prefix}outbox`)).toBe(0);
    expect(emulator.stats().usage['customer-flush||feature-02-campaigns']).toBe(12);
    const decision = await entitlements.check({ customerId: 'customer-flush', featureId: 'feature-02-campaigns' });
    expect(decision.currentUsage).toBe(12);
  });
});
