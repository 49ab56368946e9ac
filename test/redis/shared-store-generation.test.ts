// Adversarial pass on issue 26 (entitlement invalidations vs reads in flight). The generations fix
// (test/redis/invalidation-generation-race.test.ts) kept one generation per reader KIND and key in the
// RedisStore: two engines sharing one RedisStore (supported: docs/redis.md) each have their own fetcher,
// and both read marks of one key into the same 'fetch' slot. Engine A's read goes out (the 100-campaign
// plan; held 400 ms by a proxy); the customer moves to the 4-campaign plan (4 used) and another process
// invalidates; engine B asks for the same key: its mark (the new generation) overwrote A's, and A's stale
// answer was written with it. Measured: the Redis entry held usageLimit 100, B granted campaign 5 of 4,
// the next acquire granted from the cache. Readers are now per engine (Runtime's readers).
import type Redis from 'ioredis';
import { createEntitlements } from '../../src/core/entitlements';
import { RedisStore } from '../../src/redis';
import { MOVER_FEATURE as CAMPAIGNS, startMoverStage } from './slow-reads';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { sleep } from '../support/time';

requireRedis();

it('two engines on one RedisStore: a plan read before another process invalidated the customer is not cached', async () => {
  const redis: Redis = await connectRedis();
  const prefix = uniquePrefix();
  // Stigg's answers to entitlement reads of this process arrive late (computed when they come in).
  const stage = await startMoverStage();
  const { slow, direct } = stage;
  const shared = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  const { client } = stage;
  const a = createEntitlements({ client, store: shared, usage: { flushIntervalMs: 60_000 } });
  const b = createEntitlements({ client, store: shared, usage: { flushIntervalMs: 60_000 } });
  const otherStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  try {
    slow.holdReadsMs = 400;
    const first = a.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    for (let waited = 0; slow.held === 0 && waited < 5000; waited += 5) await sleep(5);
    await direct.provisionSubscription({ customerId: 'mover', planId: 'plan-revvenu-basic' });
    await otherStore.invalidateCustomer('mover');
    // The other engine on the same store asks for the same key now (after the invalidation).
    const second = b.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    const [l1, l2] = await Promise.all([first, second]);
    l1.release();
    l2.release();
    slow.holdReadsMs = 0;
    const cached = JSON.parse((await redis.hget(`${prefix}ent:mover\x1f\x1f${CAMPAIGNS}`, 'data')) ?? 'null') as {
      usageLimit?: number;
    } | null;
    const third = await b.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    third.release();
    // Stigg now: basic, 4 of 4 used.
    expect(await direct.getEntitlement({ customerId: 'mover', featureId: CAMPAIGNS, options: { requestedUsage: 1 } })).toMatchObject({
      isGranted: false,
      usageLimit: 4,
    });
    // The new plan is what is cached and decides.
    expect(cached?.usageLimit).toBe(4);
    expect(l2.decision).toMatchObject({ granted: false, usageLimit: 4 });
    expect(third.decision).toMatchObject({ granted: false, usageLimit: 4 });
  } finally {
    await a.close();
    await b.close();
    await shared.close();
    await otherStore.close();
    await stage.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
});
