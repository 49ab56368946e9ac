import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { buildToTemp } from './build';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';
import { CUSTOMER, startWorker, workers, type Worker } from './workers';

requireRedis();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dist: string;
let emulator: Emulator;
let redis: Redis;
const prefix = uniquePrefix();

async function analytics(worker: Worker): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${worker.port}/analytics`, { headers: { 'x-customer': CUSTOMER } });
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  redis = await connectRedis();
  dist = buildToTemp();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  });
}, 30_000);

afterAll(async () => {
  for (const child of workers) child.kill('SIGKILL');
  await emulator?.stop();
  await deleteKeys(redis, prefix);
  await redis?.quit();
  if (dist !== undefined) fs.rmSync(dist, { recursive: true, force: true });
});

it('4 processes share Redis: a plan change reaches one by webhook, and every process decides with the new plan within 1 s', async () => {
  const fleet = await Promise.all(Array.from({ length: 4 }, () => startWorker(dist, emulator, prefix, { flushIntervalMs: 60_000 })));
  // Each process has the old plan's denial cached (cache.ttlMs is 30 s; near caches hold it too).
  expect(await Promise.all(fleet.map(analytics))).toEqual([402, 402, 402, 402]);
  expect(await Promise.all(fleet.map(analytics))).toEqual([402, 402, 402, 402]);

  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url });
  const upgraded = await client.provisionSubscription({ customerId: CUSTOMER, planId: 'plan-revvenu-growth', skipTrial: true });
  expect(upgraded.status).toBe('SUCCESS');
  // Without the webhook nothing changes for the cache's 30 s.
  await sleep(100);
  expect(await Promise.all(fleet.map(analytics))).toEqual([402, 402, 402, 402]);

  // Stigg's entitlements.updated, as it sends it, to one process only.
  const now = new Date().toISOString();
  const response = await fetch(`http://127.0.0.1:${fleet[2]!.port}/webhooks/stigg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Stigg-Webhooks-Secret': 'fleet-secret' },
    body: JSON.stringify({
      messageId: randomUUID(),
      traceId: randomUUID(),
      timestamp: now,
      type: 'entitlements.updated',
      trigger: 'subscription_updated',
      customer: { id: CUSTOMER },
      resource: null,
      entitlements: [
        { feature: { id: 'feature-04-analytics', featureType: 'BOOLEAN', meterType: 'None' }, usageLimit: null, hasUnlimitedUsage: false, hasSoftLimit: false, currentUsage: 0, usagePeriodEnd: null, resetPeriod: null },
      ],
      entitlementsUpdatedAt: now,
      environmentId: null,
      eventId: randomUUID(),
    }),
  });
  expect(response.status).toBe(200);
  // From the moment the process that got the webhook answered it (it has invalidated the customer).
  const started = Date.now();
  const upgradedAt: Array<number | undefined> = [undefined, undefined, undefined, undefined];
  while (upgradedAt.some((at) => at === undefined) && Date.now() - started < 3000) {
    const statuses = await Promise.all(fleet.map(analytics));
    statuses.forEach((status, i) => {
      if (status === 200 && upgradedAt[i] === undefined) upgradedAt[i] = Date.now() - started;
    });
    await sleep(10);
  }
  // Measured from the webhook's POST; typically a few ms (pub/sub, then one fetch from Stigg).
  for (const at of upgradedAt) {
    expect(at).toBeDefined();
    expect(at).toBeLessThan(1000);
  }
  // And it stays so: no process writes the old plan back.
  expect(await Promise.all(fleet.map(analytics))).toEqual([200, 200, 200, 200]);
  await Promise.all(fleet.map((worker) => worker.close()));
}, 30_000);
