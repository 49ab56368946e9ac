import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { sleep } from '../support/time';

requireRedis();

const CAMPAIGNS = 'feature-02-campaigns';

let redis: Redis;
let prefix: string;
let emulator: Emulator;
let stiggNow = Date.UTC(2030, 0, 15);
const stores: RedisStore[] = [];
const engines: Entitlements[] = [];

beforeAll(async () => {
  redis = await connectRedis();
  prefix = uniquePrefix();
  emulator = await startEmulator({
    now: () => stiggNow,
    catalog: {
      ...defaultCatalog,
      customers: [{ id: 'skew-fleet', subscriptions: [{ planId: 'plan-revvenu-basic' }], usage: [{ featureId: CAMPAIGNS, value: 4 }] }],
    },
  });
});

afterAll(async () => {
  for (const engine of engines) await engine.close({ timeoutMs: 1000 });
  for (const store of stores) await store.close();
  await emulator.stop();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

function engine(now: () => number): Entitlements {
  const store = new RedisStore({ redis: REDIS_URL, prefix });
  const entitlements = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 }),
    store,
    now,
    cache: { ttlMs: 1_000 },
    usage: { flushIntervalMs: 60_000 },
  });
  stores.push(store);
  engines.push(entitlements);
  return entitlements;
}

it("two processes on one Redis, one clock 20 s ahead of Stigg's at a period end: at most one period's worth is granted early, not one per refresh of the other", async () => {
  const skewMs = 20_000;
  let bNow = stiggNow;
  const ahead = engine(() => bNow + skewMs);
  const inStep = engine(() => bNow);
  const full = await inStep.check({ customerId: 'skew-fleet', featureId: CAMPAIGNS, requestedUsage: 1 });
  expect(full).toMatchObject({ granted: false, currentUsage: 4 });
  const periodEnd = Date.parse(full.usagePeriodEnd as string);
  stiggNow = periodEnd - 19_000;
  bNow = stiggNow;
  let granted = 0;
  for (let round = 0; round < 30; round += 1) {
    // The process in step with Stigg refetches (a webhook reached it): Stigg still counts the old period.
    await inStep.invalidate('skew-fleet');
    await inStep.check({ customerId: 'skew-fleet', featureId: CAMPAIGNS });
    for (let i = 0; i < 4; i += 1) {
      const lease = await ahead.acquire({ customerId: 'skew-fleet', featureId: CAMPAIGNS, requestedUsage: 1 });
      if (lease.decision.granted) {
        granted += 1;
        lease.commit();
      }
    }
    await ahead.flush();
    bNow += 1_100;
    stiggNow += 1_100;
    await sleep(50);
    if (stiggNow >= periodEnd) break;
  }
  expect(granted).toBeLessThanOrEqual(4);
}, 20_000);
