import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements, type Entitlements } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { entitlementErrorHandler, requireFeature, stigg } from '../../src/middleware/express';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { startRedisProxy, type RedisProxy } from './proxy';
import { sleep } from '../support/time';

requireRedis();

const errors: string[] = [];
const CUSTOMER = 'customer-chaos';
const LIMIT = 20;
const START = 5;

let redis: Redis;
let proxy: RedisProxy;
let prefix: string;
let emulator: Emulator;

beforeAll(async () => {
  redis = await connectRedis();
  prefix = uniquePrefix();
  proxy = await startRedisProxy(REDIS_URL);
  emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: [
        {
          id: CUSTOMER,
          subscriptions: [{ planId: 'plan-revvenu-essentials' }],
          usage: [{ featureId: 'feature-02-campaigns', value: START }],
        },
      ],
    },
  });
});

afterAll(async () => {
  await emulator.stop();
  await proxy.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

interface App {
  entitlements: Entitlements;
  store: RedisStore;
  server: http.Server;
  port: number;
  dropped: unknown[];
}

async function startApp(): Promise<App> {
  const store = new RedisStore({ redis: proxy.url, prefix, commandTimeoutMs: 300 });
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0, timeoutMs: 2000 });
  const entitlements = createEntitlements({
    client,
    store,
    usage: { flushIntervalMs: 100, retryBaseDelayMs: 20, leaseMs: 1500 },
    circuitBreaker: { failureThreshold: 50 },
  });
  const dropped: unknown[] = [];
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  entitlements.on('store:error', (error) => errors.push(error.message));
  entitlements.on('usage:undelivered', (reports) => errors.push(`undelivered ${reports.length}`));
  entitlements.on('usage:flushed', (reports) =>
    errors.push(`flushed ${reports.map((r) => r.idempotencyKey.slice(-4) + ':' + r.value).join(' ')}`),
  );
  const app = express();
  app.use(stigg({ entitlements, customer: () => CUSTOMER }));
  app.post('/campaigns', requireFeature('feature-02-campaigns', 1), async (_req, res) => {
    await sleep(150 + Math.floor(Math.random() * 150));
    res.json({ ok: true });
  });
  app.use(entitlementErrorHandler());
  const server = await new Promise<http.Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { entitlements, store, server, port: (server.address() as AddressInfo).port, dropped };
}

function post(port: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/campaigns', agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', () => resolve(0));
    request.end();
  });
}

it('two Express apps on one Redis, Stigg failing 20% of calls, Redis cut for 400 ms mid-run: Stigg counts exactly the units served, never past the limit', async () => {
  const apps = [await startApp(), await startApp()];
  // Warm both near caches (usage 5 of 20: far from the limit).
  for (const app of apps) await app.entitlements.check({ customerId: CUSTOMER, featureId: 'feature-02-campaigns' });
  emulator.setFaults({ failureRate: 0.2, latencyMs: 15 });

  const statuses: Array<Promise<number>> = [];
  for (let i = 0; i < 60; i++) {
    statuses.push(post((apps[i % 2] as App).port));
    if (i === 6) {
      // Granted requests still at work when Redis stops answering: their commits land in the cut.
      proxy.blackhole();
      setTimeout(() => void proxy.restore(), 400);
    }
    await sleep(12);
  }
  const codes = await Promise.all(statuses);
  const served = codes.filter((code) => code === 200).length;

  emulator.setFaults({ failureRate: 0, latencyMs: 0 });
  await sleep(2500);
  for (const app of apps) await app.entitlements.flush();
  for (let waited = 0; waited < 8000 && (await redis.hlen(`${prefix}outbox`)) > 0; waited += 100) {
    for (const app of apps) await app.entitlements.flush();
    await sleep(100);
  }
  for (const app of apps) {
    await app.entitlements.close({ timeoutMs: 3000 });
    await app.store.close();
    await new Promise((resolve) => app.server.close(resolve));
  }
  const upstream = await Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }).getEntitlement({
    customerId: CUSTOMER,
    featureId: 'feature-02-campaigns',
  });
  const counted = (upstream.currentUsage ?? 0) - START;
  expect({ served, counted, overLimit: served > LIMIT - START }).toEqual({ served, counted: served, overLimit: false });
  expect(apps.flatMap((app) => app.dropped)).toEqual([]);
  expect(served).toBeGreaterThan(0);
}, 30_000);
