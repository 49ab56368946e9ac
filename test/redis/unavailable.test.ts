import express from 'express';
import Redis from 'ioredis';
import request from 'supertest';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { EntitlementsOptions } from '../../src/core/entitlements';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { entitlementErrorHandler, requireFeature, stigg } from '../../src/middleware/express';
import { RedisStore, RedisStoreError } from '../../src/redis';
import { closedPort } from './helpers';
import { forSuite } from '../support/suite';

const CUSTOMER = 'customer-down';

const cleanups: Array<() => unknown> = [];

function appWith(entitlements: Entitlements): express.Express {
  const app = express();
  app.use(stigg({ entitlements, customer: (req) => req.get('x-customer') }));
  app.post('/campaigns', requireFeature('feature-02-campaigns', 1), (_req, res) => {
    res.json({ created: true });
  });
  app.use(entitlementErrorHandler());
  return app;
}

function gate(store: RedisStore, options: Partial<EntitlementsOptions> = {}): { app: express.Express; storeErrors: Error[] } {
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0, timeoutMs: 2000 });
  const entitlements = createEntitlements({ client, store, failMode: 'closed', retryAfterSeconds: 7, ...options });
  const storeErrors: Error[] = [];
  entitlements.on('store:error', (error) => storeErrors.push(error));
  cleanups.push(
    () => entitlements.close().catch(() => {}),
    () => store.close(),
  );
  return { app: appWith(entitlements), storeErrors };
}

const emulator = forSuite(() =>
  startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  }),
);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  emulator.setFaults({ latencyMs: 0, failureRate: 0 });
});

it('Redis refusing connections: no reservation can be made, so the failure policy answers (fail-closed 503), fast, with store:error', async () => {
  const { app, storeErrors } = gate(new RedisStore({ redis: `redis://127.0.0.1:${await closedPort()}`, commandTimeoutMs: 300 }));
  const started = Date.now();
  const response = await request(app).post('/campaigns').set('x-customer', CUSTOMER);
  expect(Date.now() - started).toBeLessThan(3000);
  // Stigg answered, but granting on this process's view of the usage could exceed the limit across processes.
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toBe('7');
  expect(storeErrors.length).toBeGreaterThan(0);
  expect(storeErrors.every((error) => error instanceof RedisStoreError)).toBe(true);
  expect(storeErrors.some((error) => (error as RedisStoreError).operation === 'reserve')).toBe(true);
  expect(emulator.stats().usage[`${CUSTOMER}||feature-02-campaigns`]).toBeUndefined();
});

it("Redis refusing connections: a feature's fallback decides, and fail-open grants", async () => {
  const down = async () => new RedisStore({ redis: `redis://127.0.0.1:${await closedPort()}`, commandTimeoutMs: 300 });
  const withFallback = gate(await down(), { fallback: { 'feature-02-campaigns': { hasAccess: true, usageLimit: 0 } } });
  const denied = await request(withFallback.app).post('/campaigns').set('x-customer', CUSTOMER);
  // A used-up fallback answers "try again" (503), never "upgrade" (core policy, issue 12 item 16).
  expect(denied.status).toBe(503);
  const open = gate(await down(), { failMode: 'open' });
  expect((await request(open.app).post('/campaigns').set('x-customer', CUSTOMER)).status).toBe(200);
  expect(open.storeErrors.some((error) => (error as RedisStoreError).operation === 'reserve')).toBe(true);
});

it('Redis refusing connections and Stigg failing: fail-closed 503 with Retry-After, no hang', async () => {
  emulator.setFaults({ failureRate: 1 });
  const { app } = gate(new RedisStore({ redis: `redis://127.0.0.1:${await closedPort()}`, commandTimeoutMs: 300 }));
  const started = Date.now();
  const responses = await Promise.all(Array.from({ length: 5 }, () => request(app).post('/campaigns').set('x-customer', CUSTOMER)));
  expect(Date.now() - started).toBeLessThan(3000);
  expect(responses.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
  expect(responses[0]!.headers['retry-after']).toBe('7');
  expect(responses[0]!.headers['content-type']).toMatch(/application\/problem\+json/);
});

it('a Redis that never answers: every store call is cut at commandTimeoutMs and the request still ends', async () => {
  const silent = new Redis({
    port: await closedPort(),
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: () => 50,
    disconnectTimeout: 50,
  });
  silent.on('error', () => {});
  cleanups.push(() => silent.disconnect());
  const { app, storeErrors } = gate(new RedisStore({ redis: silent, commandTimeoutMs: 200 }));
  const started = Date.now();
  const response = await request(app).post('/campaigns').set('x-customer', CUSTOMER);
  const elapsed = Date.now() - started;
  expect(elapsed).toBeGreaterThanOrEqual(200);
  expect(elapsed).toBeLessThan(3000);
  expect(response.status).toBe(503);
  expect(storeErrors.some((error) => (error as RedisStoreError).timedOut)).toBe(true);
});

it('a Redis that hangs: one request pays one command timeout, not one per store call, and the next ones fail fast', async () => {
  const silent = new Redis({
    port: await closedPort(),
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: () => 50,
    disconnectTimeout: 50,
  });
  silent.on('error', () => {});
  cleanups.push(() => silent.disconnect());
  // A cold request makes ~5 store calls (read, fetch lock, usage mark, write, reserve); in sequence
  // they took 5 timeouts before the 503. The bounds below are whole timeouts apart, so a busy
  // machine's slowness cannot pass or fail them.
  const timeoutMs = 2000;
  const { app } = gate(new RedisStore({ redis: silent, commandTimeoutMs: timeoutMs }));
  let started = Date.now();
  const first = await request(app).post('/campaigns').set('x-customer', CUSTOMER);
  const firstMs = Date.now() - started;
  expect(first.status).toBe(503);
  expect(firstMs).toBeGreaterThanOrEqual(timeoutMs);
  expect(firstMs).toBeLessThan(2 * timeoutMs);
  started = Date.now();
  const next = await Promise.all(Array.from({ length: 5 }, () => request(app).post('/campaigns').set('x-customer', CUSTOMER)));
  expect(next.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
  expect(Date.now() - started).toBeLessThan(timeoutMs);
});
