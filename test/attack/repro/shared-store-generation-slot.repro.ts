// Run: npx jest --testMatch '**/*.repro.ts' -- test/attack/repro/shared-store-generation-slot.repro.ts — it passes while the break
// it shows is there (it asserts the wrong behaviour is observable); not part of npm test. Fixing it makes it fail: flip it then.
//
// Adversarial pass on issue 26 (entitlement invalidations vs reads in flight). The fix keeps ONE generation per reader and
// key in the RedisStore (store.generations, `${reader}\0${key}`), set by every usageMark() and deleted by the next
// setEntitlement(). Two engines sharing one RedisStore (supported: docs/redis.md "each engine using the store") each
// have their own fetcher, so both read marks of the same key into the same 'fetch' slot. Engine A's read goes out (Stigg
// answers the 100-campaign plan; held 400 ms by a proxy); the customer moves to the 4-campaign plan (4 used) and another
// process invalidates; engine B acquires the same key: its fetcher reads its mark (the NEW generation, overwriting A's)
// and then waits for A's fetch lock. A's stale answer is written with B's generation: accepted.
// Measured: 1 Stigg read; A granted (limit 100, expected), B granted campaign 5 of 4 (usageLimit 100, source 'upstream'), the
// Redis entry holds usageLimit 100, and the next acquire grants from it (source 'cache', usageLimit 100) until it expires —
// the very break the generations fixed for one engine. (Delete-on-use has the mirror hole: the second writer of a key finds
// no generation and writes unchecked.)
// Hint: the generation must travel with the caller's own read, not live in a per-store slot: e.g. usageMark() returns an
// opaque mark carrying the generation (or a per-call token the store maps to it) that setEntitlement() gets back; failing
// that, refuse a write when the slot was read more than once since the last write.
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

it('Repro (unfixed): two engines on one RedisStore cache a plan read before another process invalidated the customer', async () => {
  const redis: Redis = await connectRedis();
  const prefix = uniquePrefix();
  const emulator = await startEmulator({
    port: 0,
    catalog: {
      ...defaultCatalog,
      customers: [{ id: 'mover', subscriptions: [{ planId: 'plan-revvenu-growth' }], usage: [{ featureId: CAMPAIGNS, value: 4 }] }],
    },
  });
  let holdReadsMs = 0;
  let held = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const isRead = /entitlementsState|GetEntitlement\b/.test(body);
      const hold = isRead ? holdReadsMs : 0;
      if (isRead && hold > 0) held += 1;
      void fetch(emulator.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key']) },
        body,
      }).then(
        async (upstream) => {
          const text = await upstream.text();
          setTimeout(() => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text), hold);
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const direct = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const shared = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: url, maxRetries: 0 });
  const a = createEntitlements({ client, store: shared, usage: { flushIntervalMs: 60_000 } });
  const b = createEntitlements({ client, store: shared, usage: { flushIntervalMs: 60_000 } });
  const otherStore = new RedisStore({ redis: REDIS_URL, prefix, nearCacheMs: 0 });
  try {
    holdReadsMs = 400;
    const first = a.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    for (let waited = 0; held === 0 && waited < 5000; waited += 5) await sleep(5);
    await direct.provisionSubscription({ customerId: 'mover', planId: 'plan-revvenu-basic' });
    await otherStore.invalidateCustomer('mover');
    // The other engine on the same store asks for the same key now (after the invalidation).
    const second = b.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    const [l1, l2] = await Promise.all([first, second]);
    l1.release();
    l2.release();
    holdReadsMs = 0;
    const cached = JSON.parse((await redis.hget(`${prefix}ent:mover\x1f\x1f${CAMPAIGNS}`, 'data')) ?? 'null') as {
      usageLimit?: number;
    } | null;
    const third = await b.acquire({ customerId: 'mover', featureId: CAMPAIGNS, requestedUsage: 1 });
    third.release();
    console.log({ held, d1: l1.decision, d2: l2.decision, cachedLimit: cached?.usageLimit, d3: third.decision });
    // Stigg now: basic, 4 of 4 used.
    expect(await direct.getEntitlement({ customerId: 'mover', featureId: CAMPAIGNS, options: { requestedUsage: 1 } })).toMatchObject({
      isGranted: false,
      usageLimit: 4,
    });
    // The break: the old plan's answer is cached and decides.
    expect(cached?.usageLimit).toBe(100);
    expect(l2.decision).toMatchObject({ granted: true, usageLimit: 100 });
    expect(third.decision).toMatchObject({ granted: true, usageLimit: 100, source: 'cache' });
  } finally {
    await a.close();
    await b.close();
    await shared.close();
    await otherStore.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await emulator.stop();
    await deleteKeys(redis, prefix);
    await redis.quit();
  }
});
