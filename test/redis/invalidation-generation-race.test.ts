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
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { startSlowReads } from './slow-reads';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

requireRedis();
const CAMPAIGNS = 'feature-02-campaigns';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a read sent before a downgrade, answered after another process invalidated the customer, is not cached', async () => {
  const redis: Redis = await connectRedis();
  const prefix = uniquePrefix();
  const emulator = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [{ id: 'mover', subscriptions: [{ planId: 'plan-revvenu-growth' }], usage: [{ featureId: CAMPAIGNS, value: 4 }] }],
    },
  });
  // Stigg's answers to entitlement reads of this process arrive late (computed when they come in).
  const slow = await startSlowReads(emulator.url);
  const url = slow.url;
  const direct = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const myStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  const mine = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: url, maxRetries: 0 }),
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
    await slow.close();
    await emulator.stop();
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
});
