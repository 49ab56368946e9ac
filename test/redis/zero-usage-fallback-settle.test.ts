import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

/*
 * Attack (a usage of 0 asked is metered, so settle() reports): decide() meters a 0 asked, but a
 * fallback decision (Stigg down: the configured per-feature fallback, or fail-open) still meters only
 * requestedUsage > 0. A route reserving what the client asks for (max_tokens: 0) while Stigg is down
 * settles what its work used, and nothing is reported: the work is free exactly during the outage.
 */
requireRedis();

const TEMPLATES = 'feature-01-templates'; // basic plan: limit 3
let emulator: Emulator;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: ['zero-fb-1', 'zero-fb-2'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    },
  });
  prefix = uniquePrefix();
});

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await emulator.stop();
  await redis.quit();
});

const counted = (id: string): number => emulator.stats().usage[`${id}||${TEMPLATES}`] ?? 0;

for (const [customerId, options] of [
  ['zero-fb-1', { fallback: { [TEMPLATES]: { hasAccess: true, usageLimit: 10 } } }],
  ['zero-fb-2', { failMode: 'open' as const }],
] as const) {
  it(`Stigg down (${'fallback' in options ? 'fallback rule' : 'fail-open'}): a usage of 0 asked, settled 2, is reported`, async () => {
    const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
    const store = new RedisStore({ redis: REDIS_URL, prefix });
    const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 60_000 }, ...options });
    try {
      emulator.setFaults({ failureRate: 1 });
      const lease = await entitlements.acquire({ customerId, featureId: TEMPLATES, requestedUsage: 0 });
      expect(lease.decision.granted).toBe(true);
      console.log(`${customerId}: source ${lease.decision.source}, metered ${lease.decision.metered}`);
      lease.settle(2);
      emulator.setFaults({ failureRate: 0 });
    } finally {
      await entitlements.close();
      await store.close();
    }
    console.log(`${customerId}: counted by Stigg ${counted(customerId)}`);
    expect(counted(customerId)).toBe(2);
  });
}
