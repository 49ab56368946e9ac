import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements, EntitlementsUpstream } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';

requireRedis();

// Adversarial pass on the batched writes (src/redis/script-batch.ts), through the engine: Stigg's
// answer to a fetch is written to Redis, and a webhook handled in the same turn of the loop (its
// request read in the same poll) invalidates the customer. With countsUnreportedUsage false the write
// carries no generation to be refused by: only the order of the two commands keeps the answer Stigg
// gave before the change from being cached, fresh, after the invalidation.

const FEATURE = 'feature-02-campaigns';
const CUSTOMER = 'webhook-same-turn';

let emulator: Emulator;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  redis = await connectRedis();
  prefix = uniquePrefix();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await emulator.stop();
  await redis.quit();
});

it("a webhook handled in the turn Stigg's answer arrives leaves nothing fresh in Redis: the next decision asks Stigg again", async () => {
  const real = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const store = new RedisStore({ redis, prefix, nearCacheMs: 0, countsUnreportedUsage: false });
  const engine: { current?: Entitlements } = {};
  let webhook: Promise<void> | undefined;
  let fetches = 0;
  const client: EntitlementsUpstream = {
    getEntitlement: async (query) => {
      fetches += 1;
      const answer = await real.getEntitlement(query);
      // The webhook's request, read in the same poll as Stigg's answer, is handled after it.
      if (webhook === undefined) {
        webhook = new Promise((resolve, reject) =>
          setImmediate(() => void Promise.resolve(engine.current?.invalidate(CUSTOMER)).then(resolve, reject)),
        );
      }
      return answer;
    },
    reportUsageBulk: (input) => real.reportUsageBulk(input),
  };
  const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 60_000 } });
  engine.current = entitlements;
  try {
    const first = await entitlements.check({ customerId: CUSTOMER, featureId: FEATURE });
    expect(first.granted).toBe(true);
    await webhook;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the write, wherever it went
    await expect(store.getEntitlement(`${CUSTOMER}\u001f\u001f${FEATURE}`)).resolves.toBeUndefined();
    await entitlements.check({ customerId: CUSTOMER, featureId: FEATURE });
    expect(fetches).toBe(2);
  } finally {
    await entitlements.close();
    await store.close();
  }
});
