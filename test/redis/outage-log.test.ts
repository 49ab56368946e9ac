import express from 'express';
import type Redis from 'ioredis';
import request from 'supertest';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { entitlementErrorHandler, requireFeature, stigg } from '../../src/middleware/express';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { startRedisProxy, type RedisProxy } from './proxy';

// Redis down for 10 s while two requests come in: a handful of log lines, not one per store call
// and per usage-buffer tick (31 were measured before store errors were rate-limited per kind).

requireRedis();

const CUSTOMER = 'customer-outage-log';
const OUTAGE_MS = 10_000;

let emulator: Emulator;
let redis: Redis;
let proxy: RedisProxy;
let prefix: string;
let entitlements: Entitlements;
let store: RedisStore;

beforeAll(async () => {
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
  redis = await connectRedis();
  proxy = await startRedisProxy(REDIS_URL);
  prefix = uniquePrefix();
});

afterAll(async () => {
  await entitlements?.close({ timeoutMs: 1_000 }).catch(() => undefined);
  await store?.close();
  await proxy.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await emulator.stop();
});

it('Redis unreachable for 10 s with two requests: at most 5 log lines', async () => {
  const lines: Array<{ level: string; message: string }> = [];
  const logger = {
    warn: (_meta: unknown, message: string) => void lines.push({ level: 'warn', message }),
    error: (_meta: unknown, message: string) => void lines.push({ level: 'error', message }),
    info: (_meta: unknown, message: string) => void lines.push({ level: 'info', message }),
  };
  // A generous command timeout: a busy CI machine must not make the healthy warm-up look like an outage
  // (Redis refusing connections fails at once whatever the timeout).
  store = new RedisStore({ redis: proxy.url, prefix, logger, commandTimeoutMs: 5_000 });
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
  entitlements = createEntitlements({ client, store, logger, failMode: 'closed' });
  const app = express();
  app.use(stigg({ entitlements, customer: (req) => req.get('x-customer') }));
  app.post('/campaigns', requireFeature('feature-02-campaigns', 1), (_req, res) => void res.json({ created: true }));
  app.use(entitlementErrorHandler());

  await request(app).post('/campaigns').set('x-customer', CUSTOMER).expect(200);
  await entitlements.flush();
  expect(lines).toEqual([]);

  await proxy.refuse();
  const began = Date.now();
  const statuses: number[] = [];
  for (const at of [OUTAGE_MS / 4, (OUTAGE_MS * 3) / 4]) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, began + at - Date.now())));
    statuses.push((await request(app).post('/campaigns').set('x-customer', CUSTOMER)).status);
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, began + OUTAGE_MS - Date.now())));
  const during = lines.splice(0);
  expect(statuses).toEqual([503, 503]);
  expect(during.length).toBeLessThanOrEqual(5);
  // Not silent either: the outage itself is logged.
  expect(during.length).toBeGreaterThan(0);
  await proxy.restore();
}, 30_000);
