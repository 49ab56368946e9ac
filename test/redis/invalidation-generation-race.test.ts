// A read sent before a plan change must not be cached after the change (issue 26: webhooks keep a fleet
// fresh; found attacking "an invalidation arriving while a set read is in flight"). RedisStore kept ONE
// invalidation generation per key, set by usageMark(): a usage delivery of the same key reading its mark
// while the refresh was out overwrote the refresh's generation with the newer one, so the refresh's stale
// answer passed the check. Measured before the fix: the customer moved from a 100-campaign plan to a
// 4-campaign plan, another process invalidated it while this process's read was out, and this process
// granted campaign 5, 6, ... of 4 (usageLimit 100, source 'cache') until the entry expired. Now each
// reader (refresh, delivery) has its own generation (Store.usageMark's `reader`), and the refresh whose
// answer the store refused asks Stigg again instead of failing the acquire that waited (503 before).
import type Redis from 'ioredis';
import { createEntitlements } from '../../src/core/entitlements';
import { RedisStore } from '../../src/redis';
import { MOVER_FEATURE as CAMPAIGNS, startMoverStage } from './slow-reads';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { sleep } from '../support/time';

requireRedis();

it('a read sent before a downgrade, answered after another process invalidated the customer, is not cached', async () => {
  const redis: Redis = await connectRedis();
  const prefix = uniquePrefix();
  // Stigg's answers to entitlement reads of this process arrive late (computed when they come in).
  const stage = await startMoverStage();
  const { slow, direct } = stage;
  const myStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  const mine = createEntitlements({
    client: stage.client,
    store: myStore,
    usage: { flushIntervalMs: 60_000 },
  });
  const otherStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  try {
    slow.holdReadsMs = 400;
    // A cold read goes out (Stigg answers: growth, 100 campaigns).
    const first = mine.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    for (let waited = 0; slow.held === 0 && waited < 5000; waited += 5) await sleep(5);
    // The customer moves to basic (4 campaigns); the webhook reaches another process, which invalidates.
    await direct.provisionSubscription({ customerId: 'mover', planId: 'plan-revvenu-basic' });
    await otherStore.invalidateCustomer('mover');
    // Meanwhile this process delivers usage of the same key (its mark is read now, after the invalidation).
    await mine.report({ customerId: 'mover', featureId: CAMPAIGNS, value: 0 });
    await mine.flush();
    const firstLease = await first;
    firstLease.release();
    // The acquire that waited for the stale read is decided on the new plan, not failed.
    expect(firstLease.decision).toMatchObject({ granted: false, usageLimit: 4 });
    slow.holdReadsMs = 0;
    // Stigg: 4 of 4 used on basic. The gate must not grant a 5th.
    expect(await direct.getEntitlement({ customerId: 'mover', featureId: CAMPAIGNS, options: { requestedUsage: 1 } })).toMatchObject({
      isGranted: false,
      usageLimit: 4,
    });
    const next = await mine.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    next.release();
    expect(next.decision).toMatchObject({ granted: false, usageLimit: 4 });
  } finally {
    await mine.close();
    await myStore.close();
    await otherStore.close();
    await stage.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
});
