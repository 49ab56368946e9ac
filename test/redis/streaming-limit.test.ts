import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Stigg } from '../../src/client';
import { createEntitlements, type Entitlements } from '../../src/core';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { entitlementErrorHandler, requireFeature, stigg } from '../../src/middleware/express';
import { RedisStore } from '../../src/redis';
import { REDIS_URL, requireRedis, redisForSuite } from './helpers';
import { sleep } from '../support/time';
import { forSuite } from '../support/suite';

requireRedis();

const CUSTOMER = 'customer-streaming';

const { prefix } = redisForSuite();
const emulator = forSuite(() =>
  startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);

async function startApp(): Promise<{ entitlements: Entitlements; store: RedisStore; server: http.Server; port: number }> {
  const store = new RedisStore({ redis: REDIS_URL, prefix });
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
  // Reservations live 300 ms; each streaming response takes 2 s.
  const entitlements = createEntitlements({ client, store, reservationTtlMs: 300, usage: { flushIntervalMs: 100 } });
  const app = express();
  app.use(stigg({ entitlements, customer: () => CUSTOMER }));
  app.post('/export', requireFeature('feature-02-campaigns', 1), (_req, res) => {
    let chunks = 0;
    res.write('start\n');
    const timer = setInterval(() => {
      chunks += 1;
      if (chunks < 10) res.write(`chunk ${chunks}\n`);
      else {
        clearInterval(timer);
        res.end('done\n');
      }
    }, 200);
  });
  app.use(entitlementErrorHandler());
  const server = await new Promise<http.Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { entitlements, store, server, port: (server.address() as AddressInfo).port };
}

function post(port: number, started?: () => void): Promise<number> {
  return new Promise((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/export', agent: false }, (response) => {
      started?.();
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', () => resolve(0));
    request.end();
  });
}

it('streaming responses 7x longer than the reservation, on two processes sharing Redis: the limit (4) holds while they stream, and Stigg counts 4', async () => {
  const apps = [await startApp(), await startApp()];
  const started: Array<Promise<void>> = [];
  const streams = [0, 1, 2, 3].map((i) => {
    let begun!: () => void;
    started.push(new Promise<void>((resolve) => (begun = resolve)));
    return post((apps[i % 2] as (typeof apps)[number]).port, begun);
  });
  // Every stream has its grant (its headers are out) before anyone else asks.
  await Promise.all(started);
  const meanwhile: number[] = [];
  for (let i = 0; i < 12; i++) {
    meanwhile.push(await post((apps[i % 2] as (typeof apps)[number]).port));
    await sleep(100);
  }
  expect(await Promise.all(streams)).toEqual([200, 200, 200, 200]);
  expect(meanwhile.filter((status) => status !== 402)).toEqual([]);
  for (const app of apps) {
    await app.entitlements.close({ timeoutMs: 3000 });
    await app.store.close();
    await new Promise((resolve) => app.server.close(resolve));
  }
  const upstream = await Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }).getEntitlement({
    customerId: CUSTOMER,
    featureId: 'feature-02-campaigns',
  });
  expect(upstream.currentUsage).toBe(4);
}, 20_000);
