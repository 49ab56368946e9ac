import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements, type Entitlements } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

/*
 * Attack (a usage of 0 asked is metered): at the limit on one Redis, a 0 asked fits; settled past
 * the limit on engine B, the usage is past it for engine A too: A's next 0 asked is denied, and the
 * overrun is signalled once, by B.
 */
requireRedis();

const FEATURE = 'feature-02-campaigns'; // basic plan: limit 4
let emulator: Emulator;
let redis: Redis;
const prefix = uniquePrefix();
const made: Array<{ entitlements: Entitlements; store: RedisStore }> = [];

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: 'zero-2e', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  });
});
afterAll(async () => {
  for (const { entitlements, store } of made) {
    await entitlements.close();
    await store.close();
  }
  await deleteKeys(redis, prefix);
  await emulator.stop();
  await redis.quit();
});

function engine(): Entitlements {
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const store = new RedisStore({ redis: REDIS_URL, prefix });
  const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 60_000 } });
  made.push({ entitlements, store });
  return entitlements;
}

it('0 asked at the limit, settled past it on B: A denies the next 0, one overrun signalled', async () => {
  const [a, b] = [engine(), engine()];
  const overruns: string[] = [];
  a.on('usage:overrun', () => overruns.push('a'));
  b.on('usage:overrun', () => overruns.push('b'));
  const customerId = 'zero-2e';
  const full = await a.acquire({ customerId, featureId: FEATURE, requestedUsage: 4 });
  expect(full.decision.granted).toBe(true);
  full.commit();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const zero = await b.acquire({ customerId, featureId: FEATURE, requestedUsage: 0 });
  expect(zero.decision.granted).toBe(true);
  expect(zero.decision.metered).toBe(true);
  zero.settle(3);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const next = await a.acquire({ customerId, featureId: FEATURE, requestedUsage: 0 });
  console.log(`A's next 0: granted ${next.decision.granted}, usage ${next.decision.currentUsage}; overruns ${JSON.stringify(overruns)}`);
  expect(next.decision.granted).toBe(false);
  expect(next.decision.currentUsage).toBe(7);
  expect(overruns).toEqual(['b']);
});
