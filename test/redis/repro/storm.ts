// The webhook storm both invalidation repros run: a customer invalidated every 50 ms while this process's Stigg
// reads take 300 ms and three acquires of one key arrive. Only where the invalidations come from differs (another
// process through the shared store, or this process's own entitlements.invalidate()), and what each repro asserts.
import type Redis from 'ioredis';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core/entitlements';
import type { Lease } from '../../../src/core/types';
import { defaultCatalog, startEmulator } from '../../../src/emulator';
import { RedisStore } from '../../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, uniquePrefix } from '../helpers';
import { startSlowReads } from '../slow-reads';
import { sleep } from '../../support/time';

const CAMPAIGNS = 'feature-02-campaigns';

export interface StormRun {
  ms: number;
  /** Stigg reads made while the storm lasted. */
  reads: number;
  invalidations: number;
  outcomes: Array<PromiseSettledResult<Lease>>;
  errors: string[];
}

/**
 * Runs the storm from `source`, ended by the acquires or after `stopAfterMs`, and hands `check` what it saw while the
 * engines are still open (then releases and closes everything).
 */
export async function inStorm(
  source: 'other process' | 'this process',
  stopAfterMs: number | undefined,
  check: (run: StormRun) => void,
): Promise<void> {
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
  const invalidate = source === 'this process' ? () => mine.invalidate('storm') : () => otherStore.invalidateCustomer('storm');
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
        await invalidate();
        invalidations += 1;
        await sleep(50);
      }
    })();
    const started = Date.now();
    if (stopAfterMs !== undefined) setTimeout(() => (storming = false), stopAfterMs);
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
    check({ ms, reads: slow.held - readsBefore, invalidations, outcomes, errors });
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
}
