import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { CachedEntitlement, PendingUsage } from '../../src/core/types';
import { RedisStore, RedisStoreError } from '../../src/redis';
import { INVALIDATE_CUSTOMER, RESERVE } from '../../src/redis/scripts';
import {
  closedPort,
  connectRedis,
  deleteKeys,
  REDIS_URL,
  requireRedis,
  requireRedisBinaries,
  startRedisServer,
  stopRedisServer,
  uniquePrefix,
} from './helpers';
import { sleep } from '../support/time';

requireRedis();
requireRedisBinaries();

function entitlement(overrides: Partial<CachedEntitlement> = {}): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Fluctuating',
    hasUnlimitedUsage: false,
    usageLimit: 50,
    currentUsage: 0,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: 1_700_000_000_000,
    ...overrides,
  };
}

function pending(value: number, overrides: Partial<PendingUsage> = {}): PendingUsage {
  const id = randomUUID();
  return {
    id,
    idempotencyKey: `idem-${id}`,
    customerId: 'customer-1',
    featureId: 'feature-01-templates',
    value,
    createdAt: new Date().toISOString(),
    attempts: 0,
    ...overrides,
  };
}

const KEY = 'customer-1||feature-01-templates';

let redis: Redis;
let prefix: string;
let store: RedisStore;

beforeAll(async () => {
  redis = await connectRedis();
});

beforeEach(() => {
  prefix = uniquePrefix();
  store = new RedisStore({ redis, prefix, nearCacheMs: 0 });
});

afterEach(async () => {
  await store.close();
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await redis.quit();
});

describe('options', () => {
  it('rejects bad options at construction with fix-it messages', () => {
    expect(() => new RedisStore(undefined as never)).toThrow(/options object/);
    expect(() => new RedisStore({ redis: 42 as never })).toThrow(/ioredis client or a redis:\/\/ URL/);
    expect(() => new RedisStore({ redis: 'http://localhost:6379' })).toThrow(/must start with redis:\/\//);
    expect(() => new RedisStore({ redis, prefix: '' })).toThrow(/prefix.*non-empty string/);
    expect(() => new RedisStore({ redis, commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs.*positive/);
    expect(() => new RedisStore({ redis, commandTimeoutMs: Number.NaN })).toThrow(TypeError);
    expect(() => new RedisStore({ redis, logger: {} as never })).toThrow(/warn\(\) and error\(\)/);
  });

  it('does not mutate the options or the client it is given', async () => {
    const options = Object.freeze({ redis, prefix, commandTimeoutMs: 500 });
    const ownKeys = Object.keys(redis).sort();
    const own = new RedisStore(options);
    await own.setEntitlement(KEY, 'customer-1', entitlement(), 1000);
    expect(options).toEqual({ redis, prefix, commandTimeoutMs: 500 });
    expect(Object.keys(redis).sort()).toEqual(ownKeys);
    expect(own.name).toBe('redis');
    expect(own.prefix).toBe(prefix);
    await own.close();
  });

  it('rejects bad arguments with TypeErrors', async () => {
    await expect(store.getEntitlement('')).rejects.toThrow(TypeError);
    await expect(store.reserve(KEY, -1, 10, 1000)).rejects.toThrow(/amount must be >= 0/);
    await expect(store.reserve(KEY, 1, Number.NaN, 1000)).rejects.toThrow(/limit must be a number/);
    await expect(store.reserve(KEY, 1, 10, 0)).rejects.toThrow(/TTL must be a positive/);
    await expect(store.commit(KEY, 'r', { ...pending(1), value: Number.POSITIVE_INFINITY })).rejects.toThrow(/report.value/);
    await expect(store.claimUsage(1.5, 1000)).rejects.toThrow(/max must be an integer/);
  });
});

describe('entitlement cache', () => {
  it('stores an entitlement and reads it back with its usage', async () => {
    await expect(store.getEntitlement(KEY)).resolves.toBeUndefined();
    const value = entitlement({ currentUsage: 7, usagePeriodEnd: '2030-01-01T00:00:00.000Z', resetPeriod: 'MONTH' });
    await store.setEntitlement(KEY, 'customer-1', value, 10_000);
    await expect(store.getEntitlement(KEY)).resolves.toEqual(value);
    expect(await redis.pttl(`${prefix}ent:${KEY}`)).toBeGreaterThan(10_000);
  });

  it('forgets an entitlement once its TTL passed', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement(), 60);
    await expect(store.getEntitlement(KEY)).resolves.toBeDefined();
    await sleep(90);
    await expect(store.getEntitlement(KEY)).resolves.toBeUndefined();
  });

  it('invalidateCustomer drops every key of that customer and no other', async () => {
    await store.setEntitlement('customer-1||feature-01-templates', 'customer-1', entitlement(), 10_000);
    await store.setEntitlement('customer-1|r1|feature-02-campaigns', 'customer-1', entitlement(), 10_000);
    await store.setEntitlement('customer-2||feature-01-templates', 'customer-2', entitlement(), 10_000);
    await store.invalidateCustomer('customer-1');
    await expect(store.getEntitlement('customer-1||feature-01-templates')).resolves.toBeUndefined();
    await expect(store.getEntitlement('customer-1|r1|feature-02-campaigns')).resolves.toBeUndefined();
    await expect(store.getEntitlement('customer-2||feature-01-templates')).resolves.toBeDefined();
    expect(await redis.exists(`${prefix}cust:customer-1`)).toBe(0);
  });

  it('grants the fetch lock to one caller until the entitlement is stored or the lock expires', async () => {
    const other = new RedisStore({ redis, prefix, nearCacheMs: 0 });
    const attempts = await Promise.all([
      store.acquireFetchLock(KEY, 5000),
      other.acquireFetchLock(KEY, 5000),
      store.acquireFetchLock(KEY, 5000),
    ]);
    expect(attempts.filter(Boolean)).toHaveLength(1);
    await store.setEntitlement(KEY, 'customer-1', entitlement(), 10_000);
    await expect(other.acquireFetchLock(KEY, 50)).resolves.toBe(true);
    await expect(store.acquireFetchLock(KEY, 50)).resolves.toBe(false);
    await sleep(80);
    await expect(store.acquireFetchLock(KEY, 50)).resolves.toBe(true);
  });
});

describe('reservations', () => {
  it('grants exactly the remaining units to concurrent callers on separate connections', async () => {
    const clients = await Promise.all([connectRedis(), connectRedis(), connectRedis()]);
    try {
      const stores = clients.map((client) => new RedisStore({ redis: client, prefix, nearCacheMs: 0 }));
      await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10, usageLimit: 60 }), 10_000);
      const results = await Promise.all(Array.from({ length: 120 }, (_, i) => stores[i % stores.length]!.reserve(KEY, 1, 60, 10_000)));
      const granted = results.filter((r) => r.ok);
      expect(granted).toHaveLength(50);
      expect(new Set(granted.map((r) => r.reservationId)).size).toBe(50);
      expect(granted.map((r) => r.currentUsage).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 11 + i));
      expect(results.filter((r) => !r.ok).every((r) => r.currentUsage === 60 && r.reservationId === undefined)).toBe(true);
    } finally {
      await Promise.all(clients.map((client) => client.quit()));
    }
  });

  it('checks usage + reserved + amount <= limit, with Infinity as no limit', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 4 }), 10_000);
    await expect(store.reserve(KEY, 3, 10, 10_000)).resolves.toMatchObject({ ok: true, currentUsage: 7 });
    await expect(store.reserve(KEY, 4, 10, 10_000)).resolves.toEqual({ ok: false, currentUsage: 7 });
    await expect(store.reserve(KEY, 3, 10, 10_000)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
    await expect(store.reserve(KEY, 0.5, 10, 10_000)).resolves.toEqual({ ok: false, currentUsage: 10 });
    await expect(store.reserve(KEY, 1000, Infinity, 10_000)).resolves.toMatchObject({ ok: true, currentUsage: 1010 });
  });

  it('gives released and expired reservations back', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement(), 10_000);
    const first = await store.reserve(KEY, 5, 10, 10_000);
    const second = await store.reserve(KEY, 5, 50, 60);
    expect(first.ok && second.ok).toBe(true);
    await expect(store.reserve(KEY, 1, 10, 10_000)).resolves.toMatchObject({ ok: false, currentUsage: 10 });
    await store.release(KEY, first.reservationId!);
    await sleep(90);
    await expect(store.reserve(KEY, 10, 10, 10_000)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
    expect(await redis.hlen(`${prefix}resv:${KEY}`)).toBe(1);
  });

  it('reports the units still reserved, without expired reservations', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement(), 10_000);
    await expect(store.reservedUsage(KEY)).resolves.toBe(0);
    await store.reserve(KEY, 2.5, 50, 10_000);
    await store.reserve(KEY, 4, 50, 40);
    await expect(store.reservedUsage(KEY)).resolves.toBe(6.5);
    await sleep(60);
    await expect(store.reservedUsage(KEY)).resolves.toBe(2.5);
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 0 });
  });

  it('rejects a reservation when no entitlement is cached instead of guessing the usage', async () => {
    await expect(store.reserve(KEY, 1, 10, 10_000)).rejects.toThrow(/setEntitlement must come first/);
  });

  it('still finds the usage of an entry that expired a moment ago', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 9 }), 30);
    await sleep(50);
    await expect(store.getEntitlement(KEY)).resolves.toBeUndefined();
    await expect(store.reserve(KEY, 2, 10, 10_000)).resolves.toEqual({ ok: false, currentUsage: 9 });
  });
});

describe('commit and the outbox', () => {
  it('turns the reservation into usage and puts the report in the outbox in one step', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 2 }), 10_000);
    const { reservationId } = await store.reserve(KEY, 3, 10, 10_000);
    const report = pending(3);
    const snapshot = structuredClone(report);
    await store.commit(KEY, reservationId!, report);
    await store.commit(KEY, reservationId!, report);
    expect(report).toEqual(snapshot);
    expect(await redis.hlen(`${prefix}resv:${KEY}`)).toBe(0);
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 5 });
    await expect(store.reserve(KEY, 5, 10, 10_000)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
    await expect(store.claimUsage(10, 10_000)).resolves.toEqual([report]);
  });

  it('records the report even when the reservation had already expired', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement(), 10_000);
    const { reservationId } = await store.reserve(KEY, 4, 10, 20);
    await sleep(40);
    await store.commit(KEY, reservationId!, pending(4));
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 4 });
    await expect(store.claimUsage(10, 10_000)).resolves.toHaveLength(1);
  });

  it('enqueueUsage applies DELTA and SET reports to the cached usage and queues them', async () => {
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 1 }), 10_000);
    const delta = pending(2);
    await store.enqueueUsage(KEY, delta);
    await store.enqueueUsage(KEY, delta);
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 3 });
    await store.enqueueUsage(KEY, pending(20, { updateBehavior: 'SET' }));
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 20 });
    await store.enqueueUsage('customer-9||feature-01-templates', pending(1, { customerId: 'customer-9' }));
    await expect(store.getEntitlement('customer-9||feature-01-templates')).resolves.toBeUndefined();
    const claimed = await store.claimUsage(10, 10_000);
    expect(claimed.map((r) => r.value)).toEqual([2, 20, 1]);
  });

  it('leases claimed reports: not claimable again until the lease runs out, gone once acked', async () => {
    const reports = [pending(1), pending(2), pending(3)];
    for (const report of reports) await store.enqueueUsage(KEY, report);
    const other = new RedisStore({ redis, prefix, nearCacheMs: 0 });
    const first = await store.claimUsage(2, 60);
    expect(first.map((r) => r.id)).toEqual([reports[0]!.id, reports[1]!.id]);
    expect(first.every((r) => r.attempts === 0)).toBe(true);
    const second = await other.claimUsage(10, 10_000);
    expect(second.map((r) => r.id)).toEqual([reports[2]!.id]);
    await expect(other.claimUsage(10, 10_000)).resolves.toEqual([]);
    await other.ackUsage([reports[0]!.id]);
    await sleep(90);
    const redelivered = await other.claimUsage(10, 10_000);
    expect(redelivered).toEqual([{ ...reports[1], attempts: 1 }]);
    await other.ackUsage([reports[1]!.id, reports[2]!.id, 'unknown-id']);
    await sleep(20);
    await expect(store.claimUsage(10, 1)).resolves.toEqual([]);
    const leftovers = await redis.keys(`${prefix}outbox*`);
    expect(leftovers).toEqual([]);
  });

  it('counts unreported usage by default; countsUnreportedUsage: false keeps the usage it is given', async () => {
    expect(store.countsUnreportedUsage).toBe(true);
    const plain = new RedisStore({ redis, prefix, countsUnreportedUsage: false, nearCacheMs: 0 });
    expect(plain.countsUnreportedUsage).toBe(false);
    await plain.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10 }), 10_000);
    await plain.enqueueUsage(KEY, pending(4));
    await plain.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 12 }), 10_000);
    await expect(plain.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 12 });
    await plain.close();
    expect(() => new RedisStore({ redis, prefix, countsUnreportedUsage: 'yes' as never })).toThrow(
      /countsUnreportedUsage must be true or false/,
    );
  });

  it("adds unacknowledged units (every process's) to the usage Stigg reports when an entitlement is refreshed", async () => {
    const other = new RedisStore({ redis, prefix, nearCacheMs: 0 });
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10 }), 10_000);
    const { reservationId } = await store.reserve(KEY, 4, 50, 10_000);
    const report = pending(4);
    await store.commit(KEY, reservationId!, report);
    await other.enqueueUsage(KEY, pending(3));
    await store.enqueueUsage(KEY, pending(100, { updateBehavior: 'SET' }));
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10 }), 10_000);
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 17 });
    await other.close();
    const claimed = await store.claimUsage(10, 10_000);
    await store.ackUsage(claimed.map((r) => r.id));
    expect(await redis.exists(`${prefix}pend:${KEY}`)).toBe(0);
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 17 }), 10_000);
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 17 });
  });

  it('with a usage mark, also counts the units acknowledged since the mark was read (Stigg may not have had them)', async () => {
    await expect(store.usageMark(KEY)).resolves.toBe(0);
    const first = pending(2);
    await store.enqueueUsage(KEY, first);
    await store.claimUsage(10, 10_000);
    await store.ackUsage([first.id]);
    const mark = await store.usageMark(KEY);
    expect(mark).toBe(2);
    // Read Stigg (10), then another process delivers 4 and its acknowledgement removes them from the outbox.
    const late = pending(4);
    await store.enqueueUsage(KEY, late);
    await store.claimUsage(10, 10_000);
    await store.ackUsage([late.id]);
    await store.ackUsage([late.id]);
    await expect(store.usageMark(KEY)).resolves.toBe(6);
    await store.enqueueUsage(KEY, pending(1));
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10 }), 10_000, mark);
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 15 });
    // Without the mark the 4 units would be missing; SET reports do not move the mark.
    await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10 }), 10_000);
    await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 11 });
    expect(await redis.pttl(`${prefix}acked:${KEY}`)).toBeGreaterThan(60_000);
    await expect(store.setEntitlement(KEY, 'customer-1', entitlement(), 10_000, Number.NaN)).rejects.toThrow(/usageMark/);
  });
});

describe('when Redis is unavailable', () => {
  it('rejects quickly with a RedisStoreError when the URL points at a closed port', async () => {
    const port = await closedPort();
    const warnings: string[] = [];
    const down = new RedisStore({
      redis: `redis://127.0.0.1:${port}`,
      prefix,
      commandTimeoutMs: 300,
      logger: { warn: (_meta, message) => warnings.push(message), error: () => {} },
    });
    try {
      const started = Date.now();
      const outcomes = await Promise.allSettled([down.getEntitlement(KEY), down.reserve(KEY, 1, 10, 1000), down.claimUsage(10, 1000)]);
      expect(Date.now() - started).toBeLessThan(5000);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(RedisStoreError);
      }
      expect(warnings).toHaveLength(1);
    } finally {
      const started = Date.now();
      await down.close();
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it('times out on a given client that would queue commands forever', async () => {
    const port = await closedPort();
    const hanging = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => 50,
      disconnectTimeout: 50,
    });
    hanging.on('error', () => {});
    const down = new RedisStore({ redis: hanging, prefix, commandTimeoutMs: 200 });
    try {
      const started = Date.now();
      const error = await down.reserve(KEY, 1, 10, 1000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisStoreError);
      expect(error).toMatchObject({ operation: 'reserve', timedOut: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      // Not cut, the command would queue forever.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await down.close();
      hanging.disconnect();
    }
  });
});

describe('close()', () => {
  it('quits a client it created and leaves a given client open', async () => {
    const owned = new RedisStore({ redis: REDIS_URL, prefix });
    await owned.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 3 }), 10_000);
    await expect(owned.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 3 });
    await Promise.all([owned.close(), owned.close()]);
    await expect(owned.getEntitlement(KEY)).rejects.toThrow(/closed/);

    await store.close();
    await expect(store.getEntitlement(KEY)).rejects.toBeInstanceOf(RedisStoreError);
    expect(redis.status).toBe('ready');
    await expect(new RedisStore({ redis, prefix, nearCacheMs: 0 }).getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 3 });
  });

  // SCRIPT FLUSH empties the script cache of the whole server: on a redis-server of their own, so that
  // no suite running beside these finds its scripts gone (a write sent again after NOSCRIPT lands late).
  async function withOwnServer(run: (own: Redis, store: RedisStore) => Promise<void>): Promise<void> {
    const port = await closedPort();
    const server = await startRedisServer(port);
    const own = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    const ownStore = new RedisStore({ redis: own, prefix, nearCacheMs: 0 });
    try {
      await run(own, ownStore);
    } finally {
      await ownStore.close();
      own.disconnect();
      await stopRedisServer(server);
    }
  }

  it('does not let a reserve overtake the write it depends on when Redis lost its scripts', async () => {
    await withOwnServer(async (own, ownStore) => {
      await own.script('FLUSH');
      await own.script('LOAD', RESERVE.source);
      const written = ownStore.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 8 }), 10_000);
      const reserved = ownStore.reserve(KEY, 2, 10, 10_000);
      await written;
      await expect(reserved).resolves.toMatchObject({ ok: true, currentUsage: 10 });
    });
  });

  it('does not let an invalidation overtake a write of that customer when Redis lost its scripts', async () => {
    await withOwnServer(async (own) => {
      // Without a usage mark the write is not checked against the generation: only the order keeps it from outliving the invalidation.
      const unmarked = new RedisStore({ redis: own, prefix: `${prefix}unmarked:`, nearCacheMs: 0, countsUnreportedUsage: false });
      try {
        await own.script('FLUSH');
        await own.script('LOAD', INVALIDATE_CUSTOMER.source);
        const written = unmarked.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 3 }), 60_000);
        await unmarked.invalidateCustomer('customer-1');
        await written;
        await expect(unmarked.getEntitlement(KEY)).resolves.toBeUndefined();
      } finally {
        await unmarked.close();
      }
    });
  });

  it('loads its scripts again after SCRIPT FLUSH', async () => {
    await withOwnServer(async (own, ownStore) => {
      await ownStore.setEntitlement(KEY, 'customer-1', entitlement(), 10_000);
      await own.script('FLUSH');
      await expect(ownStore.reserve(KEY, 1, 10, 10_000)).resolves.toMatchObject({ ok: true, currentUsage: 1 });
    });
  });
});
