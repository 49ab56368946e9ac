import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements, PendingUsage } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';

requireRedis();

const CUSTOMER = 'customer-outage';
const USAGE_KEY = `${CUSTOMER}||feature-02-campaigns`;

let redis: Redis;
let emulator: Emulator;
const prefix = uniquePrefix();
const cleanups: Array<() => unknown> = [];

function engine(): { entitlements: Entitlements; dropped: PendingUsage[] } {
  const store = new RedisStore({ redis, prefix });
  const entitlements = createEntitlements({
    client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 }),
    store,
    usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 50 },
  });
  const dropped: PendingUsage[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  cleanups.push(() => store.close());
  return { entitlements, dropped };
}

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await emulator.stop();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

it("a process closing during a Stigg outage leaves the others' durable reports in the outbox, released (not leased, never acked)", async () => {
  const a = engine();
  const b = engine();
  const input = { customerId: CUSTOMER, featureId: 'feature-02-campaigns', requestedUsage: 1 };
  for (let i = 0; i < 30; i++) (await a.entitlements.acquire(input)).commit();
  for (let waited = 0; (await redis.hlen(`${prefix}outbox`)) < 30 && waited < 3000; waited += 10)
    await new Promise((r) => setTimeout(r, 10));
  expect(await redis.hlen(`${prefix}outbox`)).toBe(30);

  emulator.setFaults({ failureRate: 1 });
  const started = Date.now();
  await b.entitlements.close({ timeoutMs: 1500 });
  expect(Date.now() - started).toBeLessThan(4000);
  expect(b.dropped).toEqual([]);
  expect(emulator.stats().usage[USAGE_KEY]).toBeUndefined();
  // Every report is still there, and claimable at once: not leased to a process that is gone.
  expect(await redis.hlen(`${prefix}outbox`)).toBe(30);
  expect(await redis.zcard(`${prefix}outbox:inflight`)).toBe(0);
  expect(await redis.zcard(`${prefix}outbox:queue`)).toBe(30);

  emulator.setFaults({ failureRate: 0 });
  await a.entitlements.flush();
  expect(emulator.stats().usage[USAGE_KEY]).toBe(30);
  expect(await redis.hlen(`${prefix}outbox`)).toBe(0);
  expect(a.dropped).toEqual([]);
  await a.entitlements.close();
}, 30_000);
