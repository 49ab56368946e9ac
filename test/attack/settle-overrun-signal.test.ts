import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements, type Entitlements, type Store, type UsageOverrun } from '../../src/core';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from '../redis/helpers';

requireRedis();

// Adversarial pass on issue 23 (settle: "more is reported, counted against later requests, and
// signalled when it crosses the limit"). The overrun was judged from the lease's own decision: the
// usage it was decided with, plus the settled units. That usage is stale by the time the lease
// settles, both ways:
//   - missed: limit 4, A and B reserve 2 each, B commits 2, A settles 3: Stigg counts 5 at a limit of
//     4, and no 'usage:overrun' (A's decision saw usage 0: 0 + 3 <= 4);
//   - false alarm: B reserves 2, A reserves 2 (decided at 2, B's reservation), B releases, A settles 3:
//     the usage is 3 of 4, and an overrun "usage 5" was signalled.
// The usage after the commit (the store's, which counts every commit) decides.

const CAMPAIGNS = 'feature-02-campaigns'; // 4 a month on plan-revvenu-basic
const CUSTOMER = 'c-overrun';

let emu: Emulator;
let redis: Redis;
const prefixes: string[] = [];
beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    catalog: { ...defaultCatalog, customers: [{ id: CUSTOMER, subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  });
  redis = await connectRedis();
});
afterAll(async () => {
  await emu.stop();
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  await redis.quit();
});

const stores: Record<string, () => Store | undefined> = {
  memory: () => undefined,
  redis: () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return new RedisStore({ redis: REDIS_URL, prefix });
  },
};

async function engine(kind: string): Promise<{ entitlements: Entitlements; overruns: UsageOverrun[]; done: () => Promise<void> }> {
  emu.reset();
  const store = stores[kind]?.();
  const client = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000 }, ...(store === undefined ? {} : { store }) });
  const overruns: UsageOverrun[] = [];
  entitlements.on('usage:overrun', (overrun) => overruns.push(overrun));
  return {
    entitlements,
    overruns,
    done: async () => {
      await entitlements.close();
      await store?.close?.();
    },
  };
}

const acquire = (entitlements: Entitlements, units: number) =>
  entitlements.acquire({ customerId: CUSTOMER, featureId: CAMPAIGNS, requestedUsage: units });

async function reported(entitlements: Entitlements): Promise<number> {
  await entitlements.flush();
  return emu.stats().usage[`${CUSTOMER}||${CAMPAIGNS}`] ?? 0;
}

describe.each(Object.keys(stores))('%s store', (kind) => {
  test('another request committed since this one was decided: its overrun past the limit is signalled', async () => {
    const { entitlements, overruns, done } = await engine(kind);
    try {
      const a = await acquire(entitlements, 2);
      const b = await acquire(entitlements, 2);
      expect([a.decision.granted, b.decision.granted]).toEqual([true, true]);
      b.commit();
      await entitlements.flush();
      a.settle(3);
      expect(await reported(entitlements)).toBe(5);
    } finally {
      await done(); // close() waits for the store calls the commit started
    }
    expect(overruns).toEqual([expect.objectContaining({ actualUnits: 3, usage: 5, usageLimit: 4 })]);
  });

  test('a reservation released since this one was decided: settling within the limit signals nothing', async () => {
    const { entitlements, overruns, done } = await engine(kind);
    try {
      const b = await acquire(entitlements, 2);
      const a = await acquire(entitlements, 2);
      expect([a.decision.granted, b.decision.granted]).toEqual([true, true]);
      b.release();
      a.settle(3);
      expect(await reported(entitlements)).toBe(3);
    } finally {
      await done();
    }
    expect(overruns).toEqual([]);
  });
});
