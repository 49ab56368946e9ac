import type Redis from 'ioredis';
import type { CachedEntitlement } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

requireRedis();

// Adversarial pass on the batched writes (src/redis/script-batch.ts): a setEntitlement is held for
// one turn of the event loop, so that the writes of that turn go as one script. Every other
// operation still leaves at once. Before, commands left in the order they were called; an operation
// called after a write must still find it done in Redis, or the write lands on top of it.

let redis: Redis;
let prefix: string;

function entitlement(currentUsage: number, accessDeniedReason: string | null = null): CachedEntitlement {
  return {
    accessDeniedReason,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 10,
    currentUsage,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: Date.now(),
  };
}

beforeAll(async () => {
  redis = await connectRedis();
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterEach(async () => {
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
});

it('an invalidation called after a write lands after it: the entry written before is expired, not fresh', async () => {
  // A write without a usage mark is not checked against the customer's generation (countsUnreportedUsage
  // false, or a rolled-over period): only the order keeps it from outliving the invalidation.
  const store = new RedisStore({ redis, prefix, nearCacheMs: 0, countsUnreportedUsage: false });
  try {
    const written = store.setEntitlement('a||f', 'a', entitlement(1), 60_000);
    await store.invalidateCustomer('a');
    await written;
    await expect(store.getEntitlement('a||f')).resolves.toBeUndefined();
  } finally {
    await store.close();
  }
});

it('a read called after a write finds it (and the near cache does not keep the entry it replaced)', async () => {
  const store = new RedisStore({ redis, prefix, nearCacheMs: 5_000 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200)); // the near cache's subscription
    await store.setEntitlement('a||f', 'a', entitlement(1), 60_000);
    const revoked = entitlement(1, 'Revoked');
    const written = store.setEntitlement('a||f', 'a', revoked, 60_000);
    const read = await store.getEntitlement('a||f');
    await written;
    // A near-cache hit is synchronous: what this process serves next, for nearCacheMs.
    const next = await store.getEntitlement('a||f');
    expect([read?.accessDeniedReason, next?.accessDeniedReason]).toEqual(['Revoked', 'Revoked']);
  } finally {
    await store.close();
  }
});

it('a commit called after a write adds its units to what was written (countsUnreportedUsage false): none lost under the limit', async () => {
  const store = new RedisStore({ redis, prefix, nearCacheMs: 0, countsUnreportedUsage: false });
  try {
    await store.setEntitlement('a||f', 'a', entitlement(5), 60_000);
    const reserved = await store.reserve('a||f', 1, 10, 30_000);
    if (!reserved.ok || reserved.reservationId === undefined) throw new Error('not reserved');
    // A delivery's reconcile writes 5 (what Stigg and this process know) while the lease commits its unit.
    const written = store.setEntitlement('a||f', 'a', entitlement(5), 60_000);
    const report = {
      id: 'r1',
      idempotencyKey: 'r1',
      customerId: 'a',
      featureId: 'f',
      value: 1,
      updateBehavior: 'DELTA' as const,
      createdAt: new Date().toISOString(),
      attempts: 0,
    };
    await store.commit('a||f', reserved.reservationId, report);
    await written;
    await expect(store.getEntitlement('a||f')).resolves.toMatchObject({ currentUsage: 6 });
  } finally {
    await store.close();
  }
});

it('a write called before close() is sent: it resolves rather than failing as closed', async () => {
  const store = new RedisStore({ redis, prefix, nearCacheMs: 0 });
  const written = store.setEntitlement('a||f', 'a', entitlement(2), 60_000);
  await store.close();
  await expect(written).resolves.toBeUndefined();
  expect(await redis.hget(`${prefix}ent:a||f`, 'usage')).toBe('2');
  // A store that owns its client quits it on close(): the write still goes first.
  const owning = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  const sent = owning.setEntitlement('b||f', 'b', entitlement(3), 60_000);
  await owning.close();
  await expect(sent).resolves.toBeUndefined();
  expect(await redis.hget(`${prefix}ent:b||f`, 'usage')).toBe('3');
});

it('a reserve called right after the write of its entry finds it; of two writes of one key in one turn the last one called stays (holds)', async () => {
  const store = new RedisStore({ redis, prefix, nearCacheMs: 0 });
  try {
    const written = store.setEntitlement('a\u001f\u001ff', 'a', entitlement(9), 60_000);
    const reserved = await store.reserve('a\u001f\u001ff', 2, 10, 30_000);
    await written;
    expect(reserved).toEqual({ ok: false, currentUsage: 9 });
    const both = [
      store.setEntitlement('b\u001f\u001ff', 'b', entitlement(4), 60_000),
      store.setEntitlement('b\u001f\u001ff', 'b', entitlement(2), 60_000),
    ];
    await Promise.all(both);
    await expect(store.getEntitlement('b\u001f\u001ff')).resolves.toMatchObject({ currentUsage: 2 });
  } finally {
    await store.close();
  }
});
