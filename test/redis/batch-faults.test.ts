import Redis from 'ioredis';
import type { ChildProcess } from 'node:child_process';
import type { CachedEntitlement } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { closedPort, requireRedisBinaries, startRedisServer, stopRedisServer, uniquePrefix } from './helpers';
import { startRedisProxy, type RedisProxy } from './proxy';

requireRedisBinaries();

// Adversarial pass on the batched writes (src/redis/script-batch.ts) when the batch's one script
// fails: every caller in it must get the error (none waits forever), the script is all or nothing,
// and NOSCRIPT (a flushed script cache) reloads the batch's script like any other. A Redis server of
// the suite's own, so that SCRIPT FLUSH and pauses reach no other suite.

let server: ChildProcess;
let url: string;
let admin: Redis;
let prefix: string;

function entitlement(currentUsage: number): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 100,
    currentUsage,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: Date.now(),
  };
}

const keyOf = (i: number): string => `c${i}\u001f\u001ff`;

/** Settles within `ms`, or says it hung. */
function within<T>(promise: Promise<T>, ms: number): Promise<PromiseSettledResult<T> | 'hung'> {
  return Promise.race([
    promise.then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    ),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref()),
  ]);
}

beforeAll(async () => {
  const port = await closedPort();
  server = await startRedisServer(port);
  url = `redis://127.0.0.1:${port}`;
  admin = new Redis(url, { maxRetriesPerRequest: 0 });
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterAll(async () => {
  admin.disconnect();
  await stopRedisServer(server);
});

it('after SCRIPT FLUSH a batch of writes and marks reloads its scripts: every entry answered and exact', async () => {
  const store = new RedisStore({ redis: url, prefix, nearCacheMs: 0 });
  try {
    await store.setEntitlement(keyOf(0), 'c0', entitlement(1), 60_000); // scripts loaded
    await admin.script('FLUSH');
    const marks = await Promise.all([0, 1, 2].map((i) => store.usageMark(keyOf(i), 'delivery')));
    expect(marks).toEqual([0, 0, 0]);
    await admin.script('FLUSH');
    await Promise.all([0, 1, 2].map((i) => store.setEntitlement(keyOf(i), `c${i}`, entitlement(10 + i), 60_000, 0, 'delivery')));
    const usages = await Promise.all([0, 1, 2].map((i) => admin.hget(`${prefix}ent:${keyOf(i)}`, 'usage')));
    expect(usages).toEqual(['10', '11', '12']);
  } finally {
    await store.close();
  }
});

it('Redis paused past the command timeout: every caller of the batch gets the timeout, and the script lands whole or not at all', async () => {
  const store = new RedisStore({ redis: url, prefix, nearCacheMs: 0, commandTimeoutMs: 300 });
  try {
    await store.setEntitlement(keyOf(0), 'c0', entitlement(1), 60_000); // connected, scripts loaded
    await admin.client('PAUSE', 1_000, 'ALL');
    const calls = Array.from({ length: 20 }, (_, i) => store.setEntitlement(keyOf(i), `c${i}`, entitlement(100 + i), 60_000));
    const settled = await Promise.all(calls.map((call) => within(call, 5_000)));
    expect(settled.filter((result) => result === 'hung')).toEqual([]);
    // Timed out (the store's timer, or the owned client's own commandTimeout, whichever fires first).
    const failed = settled.map((result) => result !== 'hung' && result.status === 'rejected' && /time/i.test(String(result.reason)));
    expect(failed).toEqual(calls.map(() => true));
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the pause ends; the script that waited runs
    const usages = await Promise.all(calls.map((_, i) => admin.hget(`${prefix}ent:${keyOf(i)}`, 'usage')));
    const landed = usages.filter((usage, i) => usage === String(100 + i)).length;
    expect([0, calls.length]).toContain(landed);
  } finally {
    await admin.client('UNPAUSE');
    await store.close();
  }
});

it('the connection cut with a batch on its way: every caller of it fails, none waits forever', async () => {
  const proxy: RedisProxy = await startRedisProxy(url);
  const client = new Redis(proxy.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  const store = new RedisStore({ redis: client, prefix, nearCacheMs: 0, commandTimeoutMs: 500 });
  try {
    await store.usageMark(keyOf(0), 'fetch'); // connected
    const marks = Array.from({ length: 10 }, (_, i) => store.usageMark(keyOf(i), 'fetch'));
    const writes = Array.from({ length: 10 }, (_, i) => store.setEntitlement(keyOf(i), `c${i}`, entitlement(i), 60_000));
    proxy.blackhole();
    const settled = await Promise.all([...marks, ...writes].map((call) => within(call as Promise<unknown>, 5_000)));
    expect(settled.map((result) => (result === 'hung' ? 'hung' : result.status))).toEqual(settled.map(() => 'rejected'));
  } finally {
    await store.close();
    client.disconnect();
    await proxy.close();
  }
});

it("two readers of one key marked in one batch: each write is checked against its own reader's generation", async () => {
  const store = new RedisStore({ redis: url, prefix, nearCacheMs: 0 });
  try {
    const key = keyOf(7);
    await store.usageMark(key, 'fetch'); // read before the invalidation
    await store.invalidateCustomer('c7');
    await Promise.all([store.usageMark(key, 'delivery'), store.usageMark(key, 'other')]); // after it, one batch
    const written = await Promise.allSettled([
      store.setEntitlement(key, 'c7', entitlement(3), 60_000, 0, 'delivery'),
      store.setEntitlement(key, 'c7', entitlement(1), 60_000, 0, 'fetch'), // refused: it predates the invalidation
    ]);
    expect(written.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await admin.hget(`${prefix}ent:${key}`, 'usage')).toBe('3');
  } finally {
    await store.close();
  }
});
