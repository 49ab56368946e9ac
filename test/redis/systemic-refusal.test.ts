import type Redis from 'ioredis';
import { createEntitlements } from '../../src/core/entitlements';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { customer, startRig, TEMPLATES, usageKey, type Rig, badUserInput } from '../core/helpers';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { sleep } from '../support/time';

requireRedis();

// Issue 23, on the Redis store: Stigg refusing EVERY usage report with BAD_USER_INPUT for 5 s (what a
// change of an input type would do), then healthy again. Nothing is dropped while it refuses: the
// outbox is parked (one alert), the reports stay in Redis, and every unit is delivered afterwards.

let rig: Rig;
let redis: Redis;
let prefix: string;
let store: RedisStore;
let entitlements: Entitlements;
beforeAll(async () => {
  rig = await startRig([customer('storm-redis', 'plan-revvenu-growth')], {}, { maxRetries: 0 });
  redis = await connectRedis();
  prefix = uniquePrefix();
});
afterAll(async () => {
  await entitlements.close({ timeoutMs: 2_000 });
  await store.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
  await rig.stop();
});

test('BAD_USER_INPUT for every report for 5 s, then a healthy Stigg: 0 of 200 dropped, 200 delivered, one alert', async () => {
  let refusing = true;
  let calls = 0;
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) => {
      calls += 1;
      return refusing ? Promise.reject(badUserInput()) : rig.client.reportUsageBulk(input);
    },
  };
  const dropped: PendingUsage[] = [];
  const parked: Array<{ code: string }> = [];
  let resumed = 0;
  const alerts: string[] = [];
  const logger = { warn: () => undefined, error: (_meta: unknown, message: string) => void alerts.push(message) };
  store = new RedisStore({ redis: REDIS_URL, prefix });
  entitlements = createEntitlements({ client, store, logger, usage: { flushIntervalMs: 200, leaseMs: 500 } });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  entitlements.on('usage:parked', ({ code }) => parked.push({ code }));
  entitlements.on('usage:resumed', () => (resumed += 1));
  for (let i = 0; i < 200; i += 1) await entitlements.report({ customerId: 'storm-redis', featureId: TEMPLATES, value: 1 });

  // Five seconds of refusals: the timer's probes, and a flush() every second.
  const refusedUntil = Date.now() + 5_000;
  while (Date.now() < refusedUntil) {
    await entitlements.flush();
    await sleep(1_000);
  }
  expect(calls).toBeGreaterThan(0);
  expect(dropped).toEqual([]);
  expect(parked.map(({ code }) => code)).toEqual(['BAD_USER_INPUT']);
  expect(alerts.filter((message) => message.includes('Stigg refused every usage report'))).toHaveLength(1);
  expect(await redis.hlen(`${prefix}outbox`)).toBe(200);
  const applied = (): number => rig.emulator.stats().usage[usageKey('storm-redis', TEMPLATES)] ?? 0;
  expect(applied()).toBe(0);

  // Healthy again: reports a refused probe still holds come back once their lease (0.5 s) ends.
  refusing = false;
  const deadline = Date.now() + 20_000;
  while (applied() < 200 && Date.now() < deadline) {
    await entitlements.flush();
    if (applied() < 200) await sleep(250);
  }
  expect(applied()).toBe(200);
  expect(dropped).toEqual([]);
  expect(resumed).toBe(1);
  expect(await redis.hlen(`${prefix}outbox`)).toBe(0);
});
