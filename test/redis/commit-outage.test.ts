import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { startRedisProxy, type RedisProxy } from './proxy';
import { sleep } from '../support/time';

requireRedis();

const CUSTOMER = 'customer-commit-outage';
const USAGE_KEY = `${CUSTOMER}||feature-02-campaigns`;

let redis: Redis;
let proxy: RedisProxy;
let prefix: string;
let emulator: Emulator;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
});

beforeEach(async () => {
  prefix = uniquePrefix();
  proxy = await startRedisProxy(REDIS_URL);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await proxy.close();
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await emulator.stop();
  await redis.quit();
});

async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  for (let waited = 0; !(await condition()) && waited < ms; waited += 50) await sleep(50);
}

it('Redis gone for a moment when granted requests finish: their units are still delivered once Redis is back, never dropped', async () => {
  const store = new RedisStore({ redis: proxy.url, prefix, commandTimeoutMs: 300, nearCacheMs: 0 });
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 100, leaseMs: 1000 } });
  const dropped: unknown[] = [];
  const undelivered: unknown[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...(reports as unknown[])));
  cleanups.push(
    () => entitlements.close({ timeoutMs: 3000 }).catch(() => {}),
    () => store.close(),
  );
  const before = emulator.stats().usage[USAGE_KEY] ?? 0;

  const leases = [];
  for (let i = 0; i < 5; i++) {
    const lease = await entitlements.acquire({ customerId: CUSTOMER, featureId: 'feature-02-campaigns', requestedUsage: 1 });
    expect(lease.decision.granted).toBe(true);
    leases.push(lease);
  }
  // The handlers ran; Redis goes away just before their responses finish.
  await proxy.refuse();
  for (const lease of leases) lease.commit();
  await sleep(500);
  await proxy.restore();

  await until(() => (emulator.stats().usage[USAGE_KEY] ?? 0) - before >= 5, 8000);
  await sleep(300);
  expect(dropped).toEqual([]);
  expect((emulator.stats().usage[USAGE_KEY] ?? 0) - before).toBe(5);
});

it('Redis still gone when close() runs: the commits it could not take are handed to the app (usage:undelivered), not dropped', async () => {
  const store = new RedisStore({ redis: proxy.url, prefix, commandTimeoutMs: 300, nearCacheMs: 0 });
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 100 } });
  const dropped: unknown[] = [];
  const undelivered: Array<{ idempotencyKey: string; value: number }> = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
  cleanups.push(() => store.close());
  const leases = [];
  for (let i = 0; i < 3; i++) {
    leases.push(await entitlements.acquire({ customerId: CUSTOMER, featureId: 'feature-02-campaigns', requestedUsage: 2 }));
  }
  await proxy.refuse();
  for (const lease of leases) lease.commit();
  await sleep(100);
  const started = Date.now();
  const closed = await entitlements.close({ timeoutMs: 1500 });
  expect(Date.now() - started).toBeLessThan(4000);
  expect(dropped).toEqual([]);
  expect(undelivered.map((report) => report.value)).toEqual([2, 2, 2]);
  expect(closed.undelivered).toEqual(undelivered);
  expect(new Set(undelivered.map((report) => report.idempotencyKey)).size).toBe(3);
});
