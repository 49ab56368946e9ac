import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { CachedEntitlement, Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { startRedisProxy } from './proxy';
import { sleep } from '../support/time';

requireRedis();

const BOOLEAN_KEY = 'customer-1\u001f\u001ffeature-04-analytics';
const LIMITED_KEY = 'customer-1\u001f\u001ffeature-02-campaigns';

function entitlement(overrides: Partial<CachedEntitlement>): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Fluctuating',
    hasUnlimitedUsage: false,
    usageLimit: 10,
    currentUsage: 0,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: Date.now(),
    ...overrides,
  };
}

const isPromise = (value: unknown): boolean => value instanceof Promise;

let redis: Redis;
let prefix: string;
const cleanups: Array<() => unknown> = [];

function open(options: { redis?: string; nearCacheMs?: number } = {}): RedisStore {
  const store = new RedisStore({
    redis: options.redis ?? REDIS_URL,
    prefix,
    ...(options.nearCacheMs === undefined ? {} : { nearCacheMs: options.nearCacheMs }),
  });
  cleanups.push(() => store.close());
  return store;
}

/** Reads until the near cache answers synchronously (its subscription is up), or gives up. */
async function warm(store: RedisStore, key: string): Promise<void> {
  for (let waited = 0; waited < 3000; waited += 20) {
    const value = store.getEntitlement(key);
    if (!isPromise(value)) return;
    await value;
    await sleep(20);
  }
  throw new Error(`the near cache never held ${key}`);
}

beforeAll(async () => {
  redis = await connectRedis();
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
});

describe('what the near cache keeps', () => {
  it('keeps usage-independent entries and limited ones at most half used; never one closer to its limit', async () => {
    const store = open();
    await store.setEntitlement(
      BOOLEAN_KEY,
      'customer-1',
      entitlement({ featureType: 'BOOLEAN', meterType: null, usageLimit: null }),
      60_000,
    );
    await warm(store, BOOLEAN_KEY);
    await store.setEntitlement(LIMITED_KEY, 'customer-1', entitlement({ currentUsage: 4 }), 60_000);
    await warm(store, LIMITED_KEY);
    // Its own commits keep the copy in step, and past half the limit it goes back to Redis every time.
    await store.enqueueUsage(LIMITED_KEY, {
      id: 'r1',
      idempotencyKey: 'r1',
      customerId: 'customer-1',
      featureId: 'feature-02-campaigns',
      value: 2,
      createdAt: new Date().toISOString(),
      attempts: 0,
    });
    const after = store.getEntitlement(LIMITED_KEY);
    expect(isPromise(after)).toBe(true);
    await expect(after).resolves.toMatchObject({ currentUsage: 6 });
    await sleep(50);
    expect(isPromise(store.getEntitlement(LIMITED_KEY))).toBe(true);
  });

  it('nearCacheMs: 0 turns it off; unknown options are refused', async () => {
    const store = new RedisStore({ redis, prefix, nearCacheMs: 0 });
    cleanups.push(() => store.close());
    await store.setEntitlement(BOOLEAN_KEY, 'customer-1', entitlement({ featureType: 'BOOLEAN', meterType: null }), 60_000);
    await store.getEntitlement(BOOLEAN_KEY);
    await sleep(100);
    expect(isPromise(store.getEntitlement(BOOLEAN_KEY))).toBe(true);
    expect(() => new RedisStore({ redis, nearCache: 10 } as never)).toThrow(
      /"nearCache" is not an option of new RedisStore\(\)\. Did you mean "nearCacheMs"\?/,
    );
    expect(() => new RedisStore({ redis, nearCacheMs: -1 })).toThrow(/nearCacheMs/);
  });
});

describe('invalidation reaches every process', () => {
  it("invalidateCustomer on one store empties the others' near caches and the shared entry within milliseconds", async () => {
    // Near caches that would hold for a minute: only the invalidation can empty them within the bound,
    // and the bound is far from anything a busy machine's slowness reaches.
    const [a, b, c] = [open({ nearCacheMs: 60_000 }), open({ nearCacheMs: 60_000 }), open({ nearCacheMs: 60_000 })];
    await a.setEntitlement(BOOLEAN_KEY, 'customer-1', entitlement({ featureType: 'BOOLEAN', meterType: null }), 60_000);
    await a.setEntitlement(
      'customer-2\u001f\u001ffeature-04-analytics',
      'customer-2',
      entitlement({ featureType: 'BOOLEAN', meterType: null }),
      60_000,
    );
    await warm(b, BOOLEAN_KEY);
    await warm(c, BOOLEAN_KEY);
    await warm(c, 'customer-2\u001f\u001ffeature-04-analytics');
    const started = Date.now();
    await a.invalidateCustomer('customer-1');
    let gone = false;
    while (!gone && Date.now() - started < 10_000) {
      gone = (await b.getEntitlement(BOOLEAN_KEY)) === undefined && (await c.getEntitlement(BOOLEAN_KEY)) === undefined;
      if (!gone) await sleep(5);
    }
    expect(gone).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Other customers keep theirs.
    expect(isPromise(c.getEntitlement('customer-2\u001f\u001ffeature-04-analytics'))).toBe(false);
  });

  it('a fetch that started before an invalidation cannot write its (old) answer afterwards', async () => {
    const [a, b] = [open(), open()];
    const mark = await a.usageMark(LIMITED_KEY);
    await b.invalidateCustomer('customer-1');
    await a.setEntitlement(LIMITED_KEY, 'customer-1', entitlement({ usageLimit: 3 }), 60_000, mark);
    await expect(Promise.resolve(a.getEntitlement(LIMITED_KEY))).resolves.toBeUndefined();
    const fresh = await a.usageMark(LIMITED_KEY);
    await a.setEntitlement(LIMITED_KEY, 'customer-1', entitlement({ usageLimit: 30 }), 60_000, fresh);
    await expect(Promise.resolve(b.getEntitlement(LIMITED_KEY))).resolves.toMatchObject({ usageLimit: 30 });
  });

  it('while the subscription is down the near cache is off, and it comes back with the connection', async () => {
    const proxy = await startRedisProxy(REDIS_URL);
    cleanups.push(() => proxy.close());
    const remote = open({ redis: proxy.url });
    const other = open();
    await other.setEntitlement(BOOLEAN_KEY, 'customer-1', entitlement({ featureType: 'BOOLEAN', meterType: null }), 60_000);
    await warm(remote, BOOLEAN_KEY);
    await proxy.refuse();
    await sleep(50);
    // Invalidations published now cannot reach it: it must not answer from its copy.
    await other.invalidateCustomer('customer-1');
    const during = remote.getEntitlement(BOOLEAN_KEY);
    expect(isPromise(during)).toBe(true);
    await Promise.resolve(during).catch(() => undefined);
    await proxy.restore();
    await other.setEntitlement(BOOLEAN_KEY, 'customer-1', entitlement({ featureType: 'BOOLEAN', meterType: null, usageLimit: 7 }), 60_000);
    let value: CachedEntitlement | undefined;
    for (let waited = 0; value === undefined && waited < 5000; waited += 50) {
      await sleep(50);
      value = await Promise.resolve(remote.getEntitlement(BOOLEAN_KEY)).catch(() => undefined);
    }
    expect(value).toMatchObject({ usageLimit: 7 });
    await warm(remote, BOOLEAN_KEY);
    await other.invalidateCustomer('customer-1');
    await sleep(100);
    await expect(Promise.resolve(remote.getEntitlement(BOOLEAN_KEY))).resolves.toBeUndefined();
  });
});

describe('limits stay exact with near caches', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      catalog: {
        ...defaultCatalog,
        customers: [
          {
            id: 'customer-near',
            subscriptions: [{ planId: 'plan-revvenu-growth' }],
            usage: [{ featureId: 'feature-02-campaigns', value: 0 }],
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it("a process whose near cache still says 'far from the limit' is denied once another process took the units", async () => {
    const engines: Entitlements[] = [];
    for (let i = 0; i < 2; i++) {
      const store = open();
      const entitlements = createEntitlements({
        client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }),
        store,
        usage: { flushIntervalMs: 60_000 },
      });
      cleanups.unshift(() => entitlements.close());
      engines.push(entitlements);
    }
    const [a, b] = engines as [Entitlements, Entitlements];
    const input = { customerId: 'customer-near', featureId: 'feature-02-campaigns', requestedUsage: 1 };
    const first = await a.acquire(input);
    first.commit();
    const limit = first.decision.usageLimit as number;
    expect(limit).toBeGreaterThan(4);
    await sleep(50);
    // b takes everything that is left, one unit at a time.
    let taken = 1;
    for (;;) {
      const lease = await b.acquire(input);
      if (!lease.decision.granted) break;
      lease.commit();
      taken += 1;
    }
    expect(taken).toBe(limit);
    const late = await a.acquire(input);
    expect(late.decision.granted).toBe(false);
    expect(late.decision.accessDeniedReason).toBe('RequestedUsageExceedingLimit');
  });
});

it('the invalidation connection alone is killed: the near cache empties at once, and invalidations work again once it is back', async () => {
  const remote = open();
  const other = open();
  const channel = `${prefix}invalidations`;
  await other.setEntitlement(BOOLEAN_KEY, 'customer-1', entitlement({ featureType: 'BOOLEAN', meterType: null }), 60_000);
  await warm(remote, BOOLEAN_KEY);
  const list = String(await redis.client('LIST'));
  const ids = list
    .split('\n')
    .filter((line) => line.includes(`name=${channel} `))
    .map((line) => /id=(\d+)/.exec(line)?.[1]);
  expect(ids).toHaveLength(2);
  // Both stores' listening connections (named after the channel), nothing else.
  for (const id of ids) await redis.client('KILL', 'ID', id!);
  // Invalidated while nobody listens: the message is lost, so no near copy may survive the drop.
  await other.invalidateCustomer('customer-1');
  for (let waited = 0; waited < 3000; waited += 20) {
    const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
    if (count === 2) break;
    await sleep(20);
  }
  await expect(Promise.resolve(remote.getEntitlement(BOOLEAN_KEY))).resolves.toBeUndefined();
  await other.setEntitlement(BOOLEAN_KEY, 'customer-1', entitlement({ featureType: 'BOOLEAN', meterType: null }), 60_000);
  await warm(remote, BOOLEAN_KEY);
  await other.invalidateCustomer('customer-1');
  await sleep(100);
  await expect(Promise.resolve(remote.getEntitlement(BOOLEAN_KEY))).resolves.toBeUndefined();
});
