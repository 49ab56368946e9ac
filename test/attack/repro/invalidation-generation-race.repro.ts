// Run: npx jest --testMatch '**/*.repro.ts' test/attack/repro/invalidation-generation-race.repro.ts
// Unfixed, older than issue 22 (RedisStore's per-key `generations` map), found attacking "an
// invalidation arriving while a set read is in flight": a read sent before a plan change must not be
// cached after the change. RedisStore keeps ONE generation per key, set by usageMark(): a usage
// delivery of the same key that reads its mark while the read is out overwrites the fetch's
// generation with the new one, so the stale answer passes the check. Here: the customer is moved from
// a 100-campaign plan to a 4-campaign plan and another process invalidates it while this process's
// read is out; this process then grants campaign 5, 6, … of 4 until the entry expires (cache.ttlMs).
// Without the delivery the write is refused as it should be, but then the acquire that waited for the
// read cannot reserve ("no cached entitlement … setEntitlement must come first") and gets the failure
// policy: 503, or a fail-open grant (a remote invalidation is not retried as a local one is).
// Observed: the acquire after the downgrade is granted with usageLimit 100 (source 'cache').
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import { StiggClient } from '../../../src/client';
import { createEntitlements } from '../../../src/core/entitlements';
import { defaultCatalog, startEmulator } from '../../../src/emulator';
import { RedisStore } from '../../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from '../../redis/helpers';

requireRedis();
const CAMPAIGNS = 'feature-02-campaigns';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a read sent before a downgrade, answered after another process invalidated the customer, is not cached', async () => {
  const redis: Redis = await connectRedis();
  const prefix = uniquePrefix();
  const emulator = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [{ id: 'mover', subscriptions: [{ planId: 'plan-revvenu-growth' }], usage: [{ featureId: CAMPAIGNS, value: 4 }] }],
    },
  });
  // Stigg's answers to entitlement reads of this process take 400 ms (computed when they arrive).
  let holdReadsMs = 0;
  let held = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const forward = (): void =>
        void fetch(emulator.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key']) },
          body,
        }).then(
          async (upstream) => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()),
          () => res.destroy(),
        );
      if (/entitlementsState|GetEntitlement\b/.test(body) && holdReadsMs > 0) {
        // Stigg computes the answer now (before the plan change), and it arrives later.
        held += 1;
        void fetch(emulator.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key']) },
          body,
        }).then(
          async (upstream) => {
            const text = await upstream.text();
            setTimeout(() => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text), holdReadsMs);
          },
          () => res.destroy(),
        );
      } else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const direct = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const myStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  const mine = createEntitlements({
    client: new StiggClient({ apiKey: emulator.apiKey, apiUrl: url, maxRetries: 0 }),
    store: myStore,
    usage: { flushIntervalMs: 60_000 },
  });
  const otherStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  try {
    holdReadsMs = 400;
    // A cold read goes out (Stigg answers: growth, 100 campaigns).
    const first = mine.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    for (let waited = 0; held === 0 && waited < 5000; waited += 5) await sleep(5);
    // The customer moves to basic (4 campaigns); the webhook reaches another process, which invalidates.
    await direct.provisionSubscription({ customerId: 'mover', planId: 'plan-revvenu-basic' });
    await otherStore.invalidateCustomer('mover');
    // Meanwhile this process delivers usage of the same key (its mark is read now, after the invalidation).
    await mine.report({ customerId: 'mover', featureId: CAMPAIGNS, value: 0 });
    await mine.flush();
    (await first).release();
    holdReadsMs = 0;
    // Stigg: 4 of 4 used on basic. The gate must not grant a 5th.
    expect(await direct.getEntitlement({ customerId: 'mover', featureId: CAMPAIGNS, options: { requestedUsage: 1 } })).toMatchObject({
      isGranted: false,
      usageLimit: 4,
    });
    const next = await mine.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    next.release();
    expect(next.decision).toMatchObject({ granted: false, usageLimit: 4 });
  } finally {
    await mine.close();
    await myStore.close();
    await otherStore.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await emulator.stop();
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
});
