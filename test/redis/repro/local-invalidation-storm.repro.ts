// Run: npx jest --testMatch '**/*.repro.ts' -- test/redis/repro/local-invalidation-storm.repro.ts — it passes while the break it
// shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing it makes it fail: flip it then.
//
// Adversarial pass on issue 26 (invalidations vs reads in flight): the webhook storm reaches THIS process (its own
// entitlements.invalidate(), as the webhook handler calls it) every 50 ms for 3 s while Stigg reads take 300 ms. Each
// invalidation marks the fetch on its way invalidated and drops it; its waiters load() again WITHOUT counting it against
// MAX_REFETCHES (src/core/fetcher.ts load(): `if (joined.invalidated) return this.load(input, key, refetched)`), so an
// acquire waits for as long as the storm lasts. Measured: 3 acquires took ~3.5 s for a 3 s storm (unbounded: they end only
// when the storm does), 11 Stigg reads for ~58 invalidations (one read out at a time: Stigg is not hammered, held), the
// decisions right once made. The same storm from ANOTHER process gives up after 2 refetches
// (invalidation-storm.repro.ts): two different answers to one situation.
// Hint: count invalidated restarts against the refetch budget too (or bound the wait by a deadline) and then decide on
// the newest answer, which was read after the invalidations before it.

import type Redis from 'ioredis';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core/entitlements';
import { defaultCatalog, startEmulator } from '../../../src/emulator';
import { RedisStore } from '../../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from '../helpers';
import { startSlowReads } from '../slow-reads';

requireRedis();
const CAMPAIGNS = 'feature-02-campaigns';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('Repro (unfixed): a webhook storm in this process holds every acquire of the customer for as long as it lasts', async () => {
  const redis: Redis = await connectRedis();
  const prefix = uniquePrefix();
  const emulator = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [{ id: 'storm', subscriptions: [{ planId: 'plan-revvenu-basic' }], usage: [{ featureId: CAMPAIGNS, value: 1 }] }],
    },
  });
  const slow = await startSlowReads(emulator.url);
  slow.holdReadsMs = 300;
  const url = slow.url;
  const errors: string[] = [];
  const myStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  const mine = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: url, maxRetries: 0 }),
    store: myStore,
    usage: { flushIntervalMs: 60_000 },
  });
  mine.on('store:error', (e: Error) => errors.push(e.message));
  const otherStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  try {
    // Warm: 1 of 4 used. Another process of the fleet commits 2 units still in the outbox (not delivered).
    const otherEngineStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
    const other = createEntitlements({
      client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
      store: otherEngineStore,
      usage: { flushIntervalMs: 60_000 },
    });
    for (let n = 0; n < (process.env.WARM ? 2 : 0); n++) {
      const l = await other.acquire({ customerId: 'storm', featureId: CAMPAIGNS, requestedUsage: 1 });
      expect(l.decision.granted).toBe(true);
      l.commit();
    }
    if (process.env.WARM) await otherStore.invalidateCustomer('storm');
    const readsBefore = slow.held;
    let storming = true;
    let invalidations = 0;
    const storm = (async () => {
      while (storming) {
        await mine.invalidate('storm');
        invalidations += 1;
        await sleep(50);
      }
    })();
    const started = Date.now();
    setTimeout(() => (storming = false), 3000);
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() => mine.acquire({ customerId: 'storm', featureId: CAMPAIGNS, requestedUsage: 1 })),
    );
    const ms = Date.now() - started;
    storming = false;
    await storm;
    const summary = outcomes.map((o) =>
      o.status === 'fulfilled'
        ? JSON.stringify({
            g: o.value.decision.granted,
            s: o.value.decision.source,
            u: o.value.decision.currentUsage,
            lim: o.value.decision.usageLimit,
            r: (o.value.decision as { reason?: string }).reason,
          })
        : `rejected ${(o.reason as Error).name}: ${(o.reason as Error).message.slice(0, 120)}`,
    );
    console.log({ ms, reads: slow.held - readsBefore, invalidations, summary, errors: errors.slice(0, 3) });
    expect(invalidations).toBeGreaterThan(30);
    // The break: no acquire is decided before the storm ends (3 s), though Stigg answered ~10 times meanwhile.
    expect(ms).toBeGreaterThanOrEqual(3000);
    expect(slow.held - readsBefore).toBeGreaterThan(3);
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
    for (const o of outcomes) if (o.status === 'fulfilled') o.value.release();
    await other.close();
    await otherEngineStore.close();
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
