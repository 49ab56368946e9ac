import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements, type EntitlementsUpstream } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { closedPort, requireRedisBinaries } from './helpers';
import { OwnRedis } from './own-redis';

/*
 * Attack (fetcher MAX_REFETCHES): Redis full (maxmemory reached, noeviction) answers reads, so the
 * refresh's usage mark is read, but refuses every write: the refreshed entitlement is never stored,
 * readCache is undefined after a marked write, and the acquire asks Stigg again, twice. Every acquire
 * of a customer then costs Stigg three reads instead of one, for as long as Redis stays full —
 * tripling the load on Stigg exactly when the shared cache cannot absorb it.
 */
requireRedisBinaries();

const FEATURE = 'feature-02-campaigns';
let emulator: Emulator;
let own: OwnRedis;
let admin: Redis;

beforeAll(async () => {
  emulator = await startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: 'full-1', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  });
  own = new OwnRedis(await closedPort(), fs.mkdtempSync(path.join(os.tmpdir(), 'attack-full-')));
  await own.start(false);
  admin = new Redis(own.url);
});

afterAll(async () => {
  admin.disconnect();
  await own.kill();
  await emulator.stop();
});

it('a refresh whose write Redis refuses (OOM) costs one Stigg read per acquire, not three', async () => {
  const real = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  let reads = 0;
  const client: EntitlementsUpstream = {
    getEntitlement: (query) => {
      reads += 1;
      return real.getEntitlement(query);
    },
    reportUsageBulk: (input) => real.reportUsageBulk(input),
  };
  const store = new RedisStore({ redis: own.url, prefix: 'full:' });
  const entitlements = createEntitlements({ client, store, failMode: 'open' });
  try {
    await store.usageMark('warm||up'); // connected, scripts loaded
    await admin.config('SET', 'maxmemory', '1');
    expect(await admin.get('anything')).toBeNull(); // reads still answered
    await expect(admin.set('x', '1')).rejects.toThrow(/OOM/);
    await Promise.resolve(entitlements.acquire({ customerId: 'full-1', featureId: FEATURE, requestedUsage: 1 })).catch(() => undefined);
    console.log(`Stigg reads for one acquire while Redis is full: ${reads}`);
    expect(reads).toBe(1);
  } finally {
    await admin.config('SET', 'maxmemory', '0');
    await entitlements.close();
    await store.close();
  }
});
