import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { PendingUsage } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { startRedisProxy } from './proxy';

// close() promises that a lease committed after close() finished "gets timeoutMs to be delivered,
// then is handed over". With a Redis store the app shuts down as docs/redis.md shows
// (`await entitlements.close(); await store.close();`), and a streaming response finishing after
// that commits its lease: the store refuses the report (closed), it is held as stranded and queued
// again every second with an unref'd timer, for ever. lateFlush only flushed the outbox (claim fails,
// flush resolves) and handed nothing over: 0 of 1 report in 'usage:undelivered' after 1.5 s
// (timeoutMs 300), so a process exiting after shutdown lost the served unit silently.
requireRedis();

const CUSTOMER = 'late-redis';
const FEATURE = 'feature-02-campaigns';
let redis: Redis;
let emulator: Emulator;
const prefix = uniquePrefix();

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
});

afterAll(async () => {
  await emulator.stop();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

it('a lease committed after close() and store.close() (the documented shutdown) is handed over, not retried for ever', async () => {
  const store = new RedisStore({ redis, prefix, commandTimeoutMs: 300 });
  const entitlements = createEntitlements({
    client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 }),
    store,
    usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 10 },
  });
  const undelivered: PendingUsage[] = [];
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
  entitlements.on('store:error', () => undefined);
  const lease = await entitlements.acquire({ customerId: CUSTOMER, featureId: FEATURE, requestedUsage: 1 });
  expect(lease.decision.granted).toBe(true);
  await entitlements.close({ timeoutMs: 300 });
  await store.close();
  lease.commit();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(undelivered.map((report) => [report.customerId, report.value])).toEqual([[CUSTOMER, 1]]);
  expect(await redis.hlen(`${prefix}outbox`)).toBe(0);
});

// The same after a close() that hit its deadline (Stigg hanging): the late commit was handed over at
// once, before the closed store refused it, so the refused report was again held and retried for
// ever: 0 of 1 in 'usage:undelivered' after 1.5 s.
it('a lease committed after a close() that hit its deadline, store closed, is handed over too', async () => {
  const store = new RedisStore({ redis, prefix, commandTimeoutMs: 300 });
  const entitlements = createEntitlements({
    client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0, timeoutMs: 5_000 }),
    store,
    usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 10 },
  });
  const undelivered: PendingUsage[] = [];
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
  entitlements.on('store:error', () => undefined);
  const input = { customerId: CUSTOMER, featureId: FEATURE, requestedUsage: 1 };
  const early = await entitlements.acquire(input);
  const late = await entitlements.acquire(input);
  expect([early.decision.granted, late.decision.granted]).toEqual([true, true]);
  early.commit();
  emulator.setFaults({ latencyMs: 3_000 });
  try {
    await entitlements.close({ timeoutMs: 300 });
    await store.close();
    late.commit();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(undelivered.map((report) => [report.customerId, report.value])).toEqual([[CUSTOMER, 1]]);
  } finally {
    emulator.setFaults({ latencyMs: 0 });
  }
});

// And when the store takes longer than timeoutMs to refuse it (Redis hanging, commandTimeoutMs 1 s,
// timeoutMs 200): the late commit's deadline handed over what there was, the refusal came after and
// the report was held and retried for ever: 0 of 1 in 'usage:undelivered' after 2.5 s.
it('a lease committed after close(), Redis hanging longer than timeoutMs, is handed over once the store gives up', async () => {
  const proxy = await startRedisProxy(REDIS_URL);
  const store = new RedisStore({ redis: proxy.url, prefix, commandTimeoutMs: 1_000 });
  const entitlements = createEntitlements({
    client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 }),
    store,
    usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 10 },
  });
  const undelivered: PendingUsage[] = [];
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
  entitlements.on('store:error', () => undefined);
  try {
    const lease = await entitlements.acquire({ customerId: CUSTOMER, featureId: FEATURE, requestedUsage: 1 });
    expect(lease.decision.granted).toBe(true);
    await entitlements.close({ timeoutMs: 200 });
    proxy.blackhole();
    lease.commit();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(undelivered.map((report) => [report.customerId, report.value])).toEqual([[CUSTOMER, 1]]);
  } finally {
    await store.close();
    await proxy.close();
  }
});
