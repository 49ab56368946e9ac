import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { CachedEntitlement } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { SET_ENTITLEMENT, USAGE_MARK } from '../../src/redis/scripts';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';

requireRedis();

// The cache writes and usage-mark reads made in one turn of the event loop go to Redis as one script
// (src/redis/script-batch.ts): a delivery reconciling the keys of its batch costs one setEntitlement
// and one usageMark script, not one per key (bench/metered.js: 5.3 → 3.2 scripts per metered request).
// Each entry keeps its own outcome: a write refused because its customer was invalidated since its
// mark was read leaves the others of the batch written.

const FEATURE = 'feature-02-campaigns';
const CUSTOMERS = Array.from({ length: 30 }, (_, i) => `batched-${i}`);

let emulator: Emulator;
let redis: Redis;
let prefix: string;

/** The app's client, counting the script calls by script. */
function countingClient(): { client: Redis; calls: Map<string, number> } {
  const client = redis.duplicate();
  const calls = new Map<string, number>();
  const evalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = (...args: unknown[]) => {
    const sha = String(args[0]);
    calls.set(sha, (calls.get(sha) ?? 0) + 1);
    return evalsha(...args);
  };
  return { client, calls };
}

function entitlement(currentUsage: number): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 20,
    currentUsage,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: 1_700_000_000_000,
  };
}

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: CUSTOMERS.map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-growth' }] })) },
  });
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await emulator.stop();
  await redis.quit();
});

it('a delivery of 30 keys reconciles them with one or two setEntitlement and usageMark scripts, each key exact', async () => {
  const { client, calls } = countingClient();
  const store = new RedisStore({ redis: client, prefix });
  const upstream = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const entitlements = createEntitlements({ client: upstream, store, usage: { flushIntervalMs: 60_000, batchSize: 100 } });
  try {
    for (const customerId of CUSTOMERS) {
      const lease = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 2 });
      expect(lease.decision.granted).toBe(true);
      lease.commit();
    }
    calls.clear(); // the reads of the acquires are not the delivery's
    await entitlements.flush();
    const writes = calls.get(SET_ENTITLEMENT.sha) ?? 0;
    const marks = calls.get(USAGE_MARK.sha) ?? 0;
    // One or two on a quiet machine; under load Redis's answers arrive in several chunks and the batch
    // splits (2 + 28 seen). One per key (30) is what batching removed: half of that is the bound.
    // (test/redis/batch-size.test.ts pins the exact count for calls made in one turn.)
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(15);
    expect(marks).toBeGreaterThanOrEqual(1);
    expect(marks).toBeLessThanOrEqual(15);
    // Stigg counted 2 per customer, and the cache says so for each of them, once.
    for (const customerId of CUSTOMERS) {
      expect(emulator.stats().usage[`${customerId}||${FEATURE}`]).toBe(2);
      const decision = await entitlements.check({ customerId, featureId: FEATURE });
      expect(decision.currentUsage).toBe(2);
    }
  } finally {
    await entitlements.close();
    await store.close();
    client.disconnect();
  }
});

it('a batch keeps each write apart: one refused (its customer invalidated since its mark) leaves the others written', async () => {
  const { client, calls } = countingClient();
  const store = new RedisStore({ redis: client, prefix, nearCacheMs: 0 });
  const keys = ['a||f', 'b||f', 'c||f'];
  try {
    await Promise.all(keys.map((key) => store.usageMark(key, 'delivery')));
    await store.invalidateCustomer('b');
    calls.clear();
    await Promise.all(keys.map((key, i) => store.setEntitlement(key, key.slice(0, 1), entitlement(i + 1), 60_000, 0, 'delivery')));
    expect(calls.get(SET_ENTITLEMENT.sha)).toBe(1);
    await expect(store.getEntitlement('a||f')).resolves.toMatchObject({ currentUsage: 1 });
    await expect(store.getEntitlement('b||f')).resolves.toBeUndefined();
    await expect(store.getEntitlement('c||f')).resolves.toMatchObject({ currentUsage: 3 });
  } finally {
    await store.close();
    client.disconnect();
  }
});

it('a failed batch fails every call in it, and the next batch goes through', async () => {
  const { client } = countingClient();
  const store = new RedisStore({ redis: client, prefix, nearCacheMs: 0, commandTimeoutMs: 1_000 });
  try {
    const bad = { ...entitlement(1), currentUsage: Number.NaN };
    await expect(store.setEntitlement('a||f', 'a', bad, 60_000)).rejects.toThrow(TypeError);
    await client.client('PAUSE', 1_500, 'WRITE');
    const paused = await Promise.allSettled([
      store.setEntitlement('a||f', 'a', entitlement(1), 60_000),
      store.setEntitlement('b||f', 'b', entitlement(2), 60_000),
    ]);
    expect(paused.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await redis.client('UNPAUSE');
    await new Promise((resolve) => setTimeout(resolve, 1_600)); // the breaker's fail-fast window, if it opened
    await store.setEntitlement('c||f', 'c', entitlement(3), 60_000);
    await expect(store.getEntitlement('c||f')).resolves.toMatchObject({ currentUsage: 3 });
  } finally {
    await redis.client('UNPAUSE');
    await store.close();
    client.disconnect();
  }
});
