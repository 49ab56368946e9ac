import { Redis } from 'ioredis';
import type { CachedEntitlement } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';
import { sleep } from '../support/time';

// A RedisStore on the app's own ioredis client whose retryStrategy gave up after a blip ('end'), and
// which the app then connect()s again. The store closed itself for good on 'end' (finding 8's fix):
// every operation then threw "the store is closed; create a new RedisStore" (503 fail-closed) until the
// process restarted. Now 'end' only drops the store's own connection (invalidations), so the process
// can still exit, and 'ready' brings it back.
requireRedis();

const quiet = { warn: () => undefined, error: () => undefined };
const BOOLEAN: CachedEntitlement = {
  accessDeniedReason: null,
  featureType: 'BOOLEAN',
  meterType: null,
  hasUnlimitedUsage: false,
  usageLimit: null,
  currentUsage: 0,
  usagePeriodEnd: null,
  resetPeriod: null,
  fetchedAt: Date.now(),
};

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (const started = Date.now(); !(await condition()); await sleep(20)) {
    if (Date.now() - started > 20_000) throw new Error(`timed out waiting for ${what}`);
  }
}

it("the app's client ended and was connected again: the store answers, and its invalidation connection comes and goes with the client", async () => {
  const prefix = uniquePrefix();
  const admin = await connectRedis();
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  await client.connect();
  const store = new RedisStore({ redis: client, prefix, logger: quiet, nearCacheMs: 60_000 });
  const other = new RedisStore({ redis: admin, prefix, logger: quiet, nearCacheMs: 0 });
  const subscribers = async () =>
    String(await admin.client('LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${prefix}invalidations `)).length;
  const key = 'c\u001f\u001ffeature-04-analytics';
  try {
    await until(async () => (await subscribers()) === 1, 'the invalidation connection');
    await store.setEntitlement(key, 'c', BOOLEAN, 60_000);
    expect(await store.getEntitlement(key)).toBeDefined();

    const ended = new Promise((resolve) => client.once('end', resolve));
    await admin.client('KILL', 'ID', String(await client.client('ID')));
    await ended;
    // Nothing of the store's own is left to keep the process alive.
    await until(async () => (await subscribers()) === 0, 'the invalidation connection to go');

    await client.connect();
    await store.setEntitlement(key, 'c', BOOLEAN, 60_000);
    await expect(Promise.resolve(store.getEntitlement(key))).resolves.toMatchObject({ featureType: 'BOOLEAN' });
    expect(store.health()).toEqual({ reachable: true, error: null });
    // Listening again: the near cache serves the entry without a round trip, and forgets it when another
    // process invalidates the customer.
    await until(async () => (await subscribers()) === 1, 'the invalidation connection to come back');
    await until(async () => {
      const value = store.getEntitlement(key);
      await value;
      return !(value instanceof Promise);
    }, 'the near cache to serve');
    await other.invalidateCustomer('c');
    await until(async () => (await store.getEntitlement(key)) === undefined, 'the invalidation to be heard');
  } finally {
    await store.close();
    await other.close();
    await deleteKeys(admin, prefix);
    client.disconnect();
    admin.disconnect();
  }
}, 60_000);
