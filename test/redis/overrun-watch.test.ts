import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements, type Entitlements } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { sleep } from '../support/time';

/*
 * Attack (Overruns' watch): a settle within the limit while others hold units is watched and judged
 * again on a 2 s timer "until the units held can no longer take it past the limit". But the timer
 * only tests whether the usage is past the limit now — not whether the units held when A settled were
 * what took it there. Limit 4: A and B reserve 2, A settles 3 (usage 3, B holds 2: watched), B
 * releases, C (another process on the same Redis) reserves 1 (3 + 1 = 4) and settles 2: usage 5.
 * C's process signalled its overrun — and A's process's watch signalled it again, blaming A (actualUnits
 * 3), whose settle never took the usage past the limit. A release of a watched key now judges it again
 * (usage 3 + 0 held: unwatched). Left: a release in ANOTHER process is seen only by the 2 s timer, so
 * an overrun landing before it can still be blamed on A too (a duplicate event, no unit lost).
 */
requireRedis();

const FEATURE = 'feature-02-campaigns';
let emulator: Emulator;
let redis: Redis;
let prefix: string;
const made: Array<{ entitlements: Entitlements; store: RedisStore }> = [];

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: ['watch-1', 'watch-2'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-basic' }] })),
    },
  });
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterEach(async () => {
  for (const { entitlements, store } of made.splice(0)) {
    await entitlements.close();
    await store.close();
  }
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await emulator.stop();
  await redis.quit();
});

function engine(warnings: string[] = []): { entitlements: Entitlements; store: RedisStore } {
  const client = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const logger = {
    warn: (_meta: object, message: string) => warnings.push(message),
    error: (_m: object, message: string) => warnings.push(message),
    info: () => {},
  };
  const store = new RedisStore({ redis: REDIS_URL, prefix });
  const entitlements = createEntitlements({ client, store, logger, usage: { flushIntervalMs: 60_000 } });
  made.push({ entitlements, store });
  return { entitlements, store };
}

it("one overrun (C's) is signalled once, not also blamed on a watched settle whose held units were released", async () => {
  const { entitlements } = engine();
  const other = engine().entitlements; // another process on the same Redis
  const overruns: Array<{ engine: string; actualUnits: number; usage: number }> = [];
  entitlements.on('usage:overrun', (event) => overruns.push({ engine: 'A', actualUnits: event.actualUnits, usage: event.usage }));
  other.on('usage:overrun', (event) => overruns.push({ engine: 'other', actualUnits: event.actualUnits, usage: event.usage }));
  const customerId = 'watch-1';
  const a = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 2 });
  const b = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 2 });
  expect([a.decision.granted, b.decision.granted]).toEqual([true, true]);
  a.settle(3);
  await sleep(50);
  b.release();
  await sleep(50);
  const c = await other.acquire({ customerId, featureId: FEATURE, requestedUsage: 1 });
  expect(c.decision.granted).toBe(true);
  c.settle(2);
  await sleep(2_500); // the watch's timer runs
  expect(overruns).toEqual([{ engine: 'other', actualUnits: 2, usage: 5 }]);
});

it('a settle after close() starts no watch: no timer polling the closed store', async () => {
  const warnings: string[] = [];
  const { entitlements, store } = engine(warnings);
  const customerId = 'watch-2';
  const a = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 2 });
  const b = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 2 });
  expect([a.decision.granted, b.decision.granted]).toEqual([true, true]);
  await entitlements.close();
  a.settle(3); // a commit after close() is delivered (documented): the settle is judged, B holds 2
  await sleep(300);
  await store.close();
  warnings.length = 0;
  await sleep(4_500);
  expect(warnings).toEqual([]);
});
