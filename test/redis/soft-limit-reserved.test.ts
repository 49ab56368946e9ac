/**
 * Attack on soft limits (issue 22: "granted past the limit, the units still reserved and reported, the
 * decision says it is over a soft limit"): requests at work at the same time must each see the units
 * the others hold, so the ones past the limit say so (softLimitExceeded, currentUsage, remaining), with
 * the memory store and with Redis; every unit is still granted, reported once, and a store that cannot
 * reserve does not refuse a soft-limited request.
 */
import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { MemoryStore } from '../../src/core/memory-store';
import type { Entitlements, Lease, Store } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Catalog, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

requireRedis();

const SEATS = 'feature-07-seats';
const catalog: Catalog = {
  ...defaultCatalog,
  features: [...defaultCatalog.features, { id: SEATS, featureType: 'NUMBER', meterType: 'Incremental' }],
  plans: [
    ...defaultCatalog.plans,
    {
      id: 'plan-soft',
      productId: 'product-revvenu',
      pricingType: 'FREE',
      entitlements: [{ featureId: SEATS, usageLimit: 2, hasSoftLimit: true }],
    },
  ],
  customers: ['memory', 'redis', 'broken'].map((id) => ({
    id: `soft-${id}`,
    subscriptions: [{ planId: 'plan-soft' }],
    usage: [{ featureId: SEATS, value: 1 }],
  })),
};

let emu: Emulator;
let redis: Redis;
let prefix: string;
const made: Entitlements[] = [];

beforeAll(async () => {
  emu = await startEmulator({ port: 0, catalog });
  redis = await connectRedis();
  prefix = uniquePrefix();
});
afterAll(async () => {
  await Promise.all(made.map((e) => e.close()));
  await emu.stop();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

function make(store?: Store): Entitlements {
  const client = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, ...(store === undefined ? {} : { store }), usage: { flushIntervalMs: 60_000 } });
  made.push(entitlements);
  return entitlements;
}

async function stiggUsage(customerId: string): Promise<number | null | undefined> {
  const direct = new StiggClient({ apiKey: emu.apiKey, apiUrl: emu.url, maxRetries: 0 });
  return (await direct.getEntitlement({ customerId, featureId: SEATS })).currentUsage;
}

test.each(['memory', 'redis'] as const)(
  'soft limit 2 at usage 1, four requests at work at once (%s store): each sees the others, three say they are past it',
  async (kind) => {
    const customerId = `soft-${kind}`;
    const entitlements = make(kind === 'redis' ? new RedisStore({ redis: REDIS_URL, prefix }) : undefined);
    const leases: Lease[] = [];
    for (let i = 0; i < 4; i += 1) leases.push(await entitlements.acquire({ customerId, featureId: SEATS, requestedUsage: 1 }));
    expect(leases.map((lease) => lease.decision.granted)).toEqual([true, true, true, true]);
    expect(leases.map((lease) => lease.decision.currentUsage)).toEqual([1, 2, 3, 4]);
    expect(leases.map((lease) => lease.decision.softLimitExceeded)).toEqual([false, true, true, true]);
    expect(leases.map((lease) => lease.decision.remaining)).toEqual([0, 0, 0, 0]);
    // A check meanwhile counts the units at work too.
    expect(await entitlements.check({ customerId, featureId: SEATS, requestedUsage: 1 })).toMatchObject({
      granted: true,
      currentUsage: 5,
      softLimitExceeded: true,
    });
    for (const lease of leases) lease.commit();
    await entitlements.flush();
    expect(await stiggUsage(customerId)).toBe(5);
    expect(await entitlements.check({ customerId, featureId: SEATS })).toMatchObject({ granted: true, currentUsage: 5 });
  },
);

test('a store that cannot reserve does not refuse a soft-limited request (nothing to hold it against)', async () => {
  class NoReservations extends MemoryStore {
    override reserve(): never {
      throw new Error('store down');
    }
  }
  const entitlements = make(new NoReservations());
  const errors: string[] = [];
  entitlements.on('store:error', (error) => errors.push(error.message));
  const lease = await entitlements.acquire({ customerId: 'soft-broken', featureId: SEATS, requestedUsage: 3 });
  expect(lease.decision).toMatchObject({ granted: true, source: 'upstream', currentUsage: 1, softLimitExceeded: true });
  lease.commit();
  await entitlements.flush();
  expect(await stiggUsage('soft-broken')).toBe(4);
});
