import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { CachedEntitlement, PendingUsage } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';

requireRedis();

const KEY = 'customer-1||feature-02-campaigns';

function entitlement(currentUsage: number): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Fluctuating',
    hasUnlimitedUsage: false,
    usageLimit: 10,
    currentUsage,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: Date.now(),
  };
}

function delta(value: number): PendingUsage {
  const id = randomUUID();
  return {
    id,
    idempotencyKey: id,
    customerId: 'customer-1',
    featureId: 'feature-02-campaigns',
    value,
    createdAt: new Date().toISOString(),
    attempts: 0,
  };
}

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

it('a negative DELTA acknowledged after a positive one leaves no phantom pending units (Fluctuating features give units back)', async () => {
  await store.setEntitlement(KEY, 'customer-1', entitlement(0), 60_000);
  const up = delta(5);
  const down = delta(-3);
  await store.enqueueUsage(KEY, up);
  await store.enqueueUsage(KEY, down);
  await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 2 });
  await store.claimUsage(10, 10_000);
  // Stigg acknowledges the +5 first: the pending counter passes through -3 on its way to 0.
  await store.ackUsage([up.id]);
  await store.ackUsage([down.id]);
  expect(await redis.exists(`${prefix}pend:${KEY}`)).toBe(0);
  // Stigg now says 2: a refresh must decide with 2, not with 2 + a phantom 3 that never expires.
  await store.setEntitlement(KEY, 'customer-1', entitlement(2), 60_000);
  await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 2 });
  await expect(store.reserve(KEY, 8, 10, 10_000)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
});

it('a negative DELTA still in the outbox lowers the usage a refresh decides with, until Stigg has it', async () => {
  await store.setEntitlement(KEY, 'customer-1', entitlement(8), 60_000);
  const down = delta(-6);
  await store.enqueueUsage(KEY, down);
  await store.setEntitlement(KEY, 'customer-1', entitlement(8), 60_000);
  await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 2 });
  await store.claimUsage(10, 10_000);
  await store.ackUsage([down.id]);
  expect(await redis.exists(`${prefix}pend:${KEY}`)).toBe(0);
  await store.setEntitlement(KEY, 'customer-1', entitlement(2), 60_000);
  await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 2 });
});

it('a negative usage mark difference is never added (it could only lower the usage below what Stigg counts)', async () => {
  const mark = await store.usageMark(KEY);
  const down = delta(-4);
  await store.enqueueUsage(KEY, down);
  await store.claimUsage(10, 10_000);
  await store.ackUsage([down.id]);
  await expect(store.usageMark(KEY)).resolves.toBe(-4);
  await store.setEntitlement(KEY, 'customer-1', entitlement(6), 60_000, mark);
  await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 6 });
});

it('renewReservation keeps a reservation held past its first TTL; an expired one is not brought back', async () => {
  await store.setEntitlement(KEY, 'customer-1', entitlement(0), 60_000);
  const kept = await store.reserve(KEY, 6, 10, 1000);
  const lost = await store.reserve(KEY, 4, 10, 1000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await expect(store.renewReservation(KEY, kept.reservationId!, 10_000)).resolves.toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await expect(store.renewReservation(KEY, lost.reservationId!, 10_000)).resolves.toBe(false);
  await expect(store.reservedUsage(KEY)).resolves.toBe(6);
  await expect(store.reserve(KEY, 5, 10, 10_000)).resolves.toMatchObject({ ok: false, currentUsage: 6 });
});
