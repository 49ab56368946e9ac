import fs from 'node:fs';
import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { buildToTemp } from './build';
import { closedPort, connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';
import { CUSTOMER, startWorker, workers, type Worker } from './workers';
import { sleep } from '../support/time';

requireRedis();

/** Well under the 30 s cache TTL: an upgrade seen by then came through the webhook. */
const WEBHOOK_BOUND_MS = 15_000;

let dist: string;
let emulator: Emulator;
let redis: Redis;
let webhookPort: number;
const prefix = uniquePrefix();

async function analytics(worker: Worker): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${worker.port}/analytics`, { headers: { 'x-customer': CUSTOMER } });
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  redis = await connectRedis();
  dist = buildToTemp();
  // The emulator sends Stigg's webhooks to one process of the fleet (it listens on this port).
  webhookPort = await closedPort();
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
    webhooks: { url: `http://127.0.0.1:${webhookPort}/webhooks/stigg`, secret: 'fleet-secret' },
  });
}, 120_000);

afterAll(async () => {
  for (const child of workers) child.kill('SIGKILL');
  await emulator?.stop();
  await deleteKeys(redis, prefix);
  await redis?.quit();
  if (dist !== undefined) fs.rmSync(dist, { recursive: true, force: true });
});

it('4 processes share Redis: a plan change through the emulator reaches one of them by webhook, and every process decides with the new plan long before its cached denial expires', async () => {
  const fleet = await Promise.all(
    Array.from({ length: 4 }, (_, i) => startWorker(dist, emulator, prefix, { flushIntervalMs: 60_000 }, i === 2 ? webhookPort : 0)),
  );
  // Each process has the old plan's denial cached (cache.ttlMs is 30 s; near caches hold it too).
  expect(await Promise.all(fleet.map(analytics))).toEqual([402, 402, 402, 402]);
  expect(await Promise.all(fleet.map(analytics))).toEqual([402, 402, 402, 402]);

  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url });
  const upgraded = await client.provisionSubscription({ customerId: CUSTOMER, planId: 'plan-revvenu-growth', skipTrial: true });
  expect(upgraded.status).toBe('SUCCESS');
  // The emulator POSTs subscription.created then entitlements.updated to process 2; once the latter
  // is answered (process 2 has invalidated the customer), the clock starts.
  const delivered = () =>
    emulator.stats().webhooks.deliveries.some((d) => d.customerId === CUSTOMER && d.type === 'entitlements.updated' && d.delivered);
  for (let waited = 0; !delivered() && waited < WEBHOOK_BOUND_MS; waited += 5) await sleep(5);
  expect(delivered()).toBe(true);
  const started = Date.now();
  const upgradedAt: Array<number | undefined> = [undefined, undefined, undefined, undefined];
  while (upgradedAt.some((at) => at === undefined) && Date.now() - started < WEBHOOK_BOUND_MS) {
    const statuses = await Promise.all(fleet.map(analytics));
    statuses.forEach((status, i) => {
      if (status === 200 && upgradedAt[i] === undefined) upgradedAt[i] = Date.now() - started;
    });
    await sleep(10);
  }
  expect(emulator.stats().webhooks.failed).toBe(0);
  // Pub/sub, then one fetch from Stigg for the fleet: tens of ms on an idle machine. The bound only
  // proves the webhook path (the cached denial lives 30 s) without racing a busy machine's clock.
  for (const at of upgradedAt) {
    expect(at).toBeDefined();
    expect(at).toBeLessThan(WEBHOOK_BOUND_MS);
  }
  // And it stays so: no process writes the old plan back.
  expect(await Promise.all(fleet.map(analytics))).toEqual([200, 200, 200, 200]);
  await Promise.all(fleet.map((worker) => worker.close()));
}, 120_000);
