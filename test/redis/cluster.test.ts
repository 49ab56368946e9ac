import { randomBytes, randomUUID } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { CachedEntitlement, Entitlements, PendingUsage } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { startCluster, type LocalCluster } from './cluster';
import { requireRedisBinaries } from './helpers';
import { sleep } from '../support/time';

requireRedisBinaries();

const KEY = 'customer-1\u001f\u001ffeature-02-campaigns';

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
    fetchedAt: Date.now(),
    ...overrides,
  };
}

function report(value: number, customerId = 'customer-1'): PendingUsage {
  const id = randomUUID();
  return { id, idempotencyKey: id, customerId, featureId: 'feature-02-campaigns', value, createdAt: new Date().toISOString(), attempts: 0 };
}

let cluster: LocalCluster;
let client: Cluster;
let prefix: string;
const cleanups: Array<() => unknown> = [];

function open(options: { nearCacheMs?: number; redis?: Cluster } = {}): RedisStore {
  const store = new RedisStore({
    redis: options.redis ?? client,
    prefix,
    ...(options.nearCacheMs === undefined ? {} : { nearCacheMs: options.nearCacheMs }),
  });
  cleanups.push(() => store.close());
  return store;
}

beforeAll(async () => {
  cluster = await startCluster();
  client = await cluster.connect();
}, 60_000);

beforeEach(() => {
  prefix = `{stigg-gate-cluster:${randomBytes(4).toString('hex')}}:`;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

afterAll(async () => {
  await client?.quit();
  await cluster?.stop();
});

it('on a Cluster the prefix must hold a hash tag (all keys of the store in one slot); the default has one', () => {
  expect(() => new RedisStore({ redis: client, prefix: 'myapp:stigg:' })).toThrow(/hash tag.*'\{myapp:stigg\}:'/);
  const store = new RedisStore({ redis: client, nearCacheMs: 0 });
  cleanups.push(() => store.close());
  expect(store.prefix).toBe('{stigg-gate}:');
});

it("a prefix whose first hash tag is empty ('{}{myapp}:') is refused: the cluster hashes such keys whole, each script would fail with CROSSSLOT", async () => {
  expect(() => new RedisStore({ redis: client, prefix: '{}{myapp}:' })).toThrow(/hash tag.*'\{myapp\}:'/);
  const accepted = new RedisStore({ redis: client, prefix: 'a}{myapp}:', nearCacheMs: 0 });
  cleanups.push(() => accepted.close());
  expect(accepted.prefix).toBe('a}{myapp}:');
  // The rule is the server's: keys under the prefixes accepted share a slot, under the refused one they do not.
  const slot = (key: string) => client.cluster('KEYSLOT', key);
  expect(await slot('a}{myapp}:ent:x')).toBe(await slot('a}{myapp}:outbox'));
  expect(await slot('{}{myapp}:ent:x')).not.toBe(await slot('{}{myapp}:outbox'));
});

it('a prefix without exactly one non-empty hash tag is a TypeError at construction naming a prefix that works', () => {
  const refused: Array<[string, string]> = [
    ['myapp:', "'{myapp}:'"],
    ['{}{myapp}:', "'{myapp}:'"],
    ['{myapp}{x}:', "'{myapp}:'"],
    ['{a}{b}:', "'{a}:'"],
    ['{my{app}:', "'{my{app}:'"],
  ];
  for (const [prefix, fix] of refused) {
    let thrown: unknown;
    try {
      new RedisStore({ redis: client, prefix, nearCacheMs: 0 }).close().catch(() => undefined);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toContain(`exactly one non-empty hash tag`);
    expect((thrown as Error).message).toContain(`"${prefix}"`);
    expect((thrown as Error).message).toContain(`Please choose e.g. ${fix}`);
  }
});

it("prefix '{myapp}:': three customers through two engines on separate connections, each granted exactly what it had left and counted by Stigg once, every key on one node", async () => {
  const emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: [95, 92, 97].map((value, i) => ({
        id: `customer-tag-${i}`,
        subscriptions: [{ planId: 'plan-revvenu-growth' }],
        usage: [{ featureId: 'feature-02-campaigns', value }],
      })),
    },
  });
  const other = await cluster.connect();
  cleanups.push(
    () => other.quit(),
    () => emulator.stop(),
  );
  const engines = [client, other].map((redis) => {
    const store = new RedisStore({ redis, prefix: '{myapp}:' });
    cleanups.push(() => store.close());
    const entitlements = createEntitlements({
      client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }),
      store,
      usage: { flushIntervalMs: 60_000 },
    });
    cleanups.unshift(() => entitlements.close());
    return entitlements;
  });
  const leases = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      engines[i % 2]!.acquire({ customerId: `customer-tag-${i % 3}`, featureId: 'feature-02-campaigns', requestedUsage: 1 }),
    ),
  );
  const granted = [0, 1, 2].map((c) => leases.filter((lease, i) => i % 3 === c && lease.decision.granted).length);
  expect(granted).toEqual([5, 8, 3]);
  for (const lease of leases) lease.commit();
  await sleep(50);
  await Promise.all(engines.map((engine) => engine.flush()));
  const counted = emulator.stats().usage;
  expect([0, 1, 2].map((c) => counted[`customer-tag-${c}||feature-02-campaigns`])).toEqual([5, 8, 3]);
  // One slot, so one node holds every key of the store.
  const holding: number[] = [];
  for (const port of cluster.ports) {
    const node = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    await node.connect();
    const [, keys] = await node.scan('0', 'MATCH', '{myapp}:*', 'COUNT', 10_000);
    if (keys.length > 0) holding.push(port);
    node.disconnect();
  }
  expect(holding).toHaveLength(1);
});

it('cache, fetch lock, invalidation and its generation', async () => {
  const store = open({ nearCacheMs: 0 });
  expect(await store.acquireFetchLock(KEY, 5000)).toBe(true);
  expect(await store.acquireFetchLock(KEY, 5000)).toBe(false);
  await store.releaseFetchLock(KEY);
  expect(await store.acquireFetchLock(KEY, 5000)).toBe(true);
  const mark = await store.usageMark(KEY);
  await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 5 }), 60_000, mark);
  await expect(Promise.resolve(store.getEntitlement(KEY))).resolves.toMatchObject({ currentUsage: 5, usageLimit: 50 });
  const stale = await store.usageMark(KEY);
  await store.invalidateCustomer('customer-1');
  await expect(Promise.resolve(store.getEntitlement(KEY))).resolves.toBeUndefined();
  await store.setEntitlement(KEY, 'customer-1', entitlement(), 60_000, stale);
  await expect(Promise.resolve(store.getEntitlement(KEY))).resolves.toBeUndefined();
});

it('reservations grant exactly the remaining units to concurrent stores on separate connections', async () => {
  const clients = await Promise.all([cluster.connect(), cluster.connect()]);
  cleanups.push(() => Promise.all(clients.map((c) => c.quit())));
  const stores = [open({ nearCacheMs: 0 }), ...clients.map((redis) => open({ nearCacheMs: 0, redis }))];
  await stores[0]!.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10, usageLimit: 40 }), 60_000);
  const results = await Promise.all(Array.from({ length: 90 }, (_, i) => stores[i % 3]!.reserve(KEY, 1, 40, 10_000)));
  expect(results.filter((r) => r.ok)).toHaveLength(30);
  await expect(stores[1]!.reservedUsage(KEY)).resolves.toBe(30);
  const granted = results.find((r) => r.ok)!;
  await stores[2]!.release(KEY, granted.reservationId!);
  await expect(stores[0]!.reservedUsage(KEY)).resolves.toBe(29);
});

it('the outbox: commit, enqueue, claim, release back, ack (negative values included)', async () => {
  const [a, b] = [open({ nearCacheMs: 0 }), open({ nearCacheMs: 0 })];
  await a.setEntitlement(KEY, 'customer-1', entitlement(), 60_000);
  const { reservationId } = await a.reserve(KEY, 5, 50, 10_000);
  const up = report(5);
  const down = report(-3);
  await a.commit(KEY, reservationId!, up);
  await b.enqueueUsage(KEY, down);
  await b.enqueueUsage('customer-2\u001f\u001ffeature-02-campaigns', report(1, 'customer-2'));
  await expect(Promise.resolve(a.getEntitlement(KEY))).resolves.toMatchObject({ currentUsage: 2 });
  const claimed = await a.claimUsage(10, 60_000);
  expect(claimed.map((r) => r.value)).toEqual([5, -3, 1]);
  await expect(b.claimUsage(10, 60_000)).resolves.toEqual([]);
  await a.releaseUsage(claimed.map((r) => r.id));
  const again = await b.claimUsage(10, 60_000);
  expect(again.map((r) => r.id).sort()).toEqual(claimed.map((r) => r.id).sort());
  await b.ackUsage([up.id]);
  await b.ackUsage(again.map((r) => r.id));
  await expect(a.claimUsage(10, 1)).resolves.toEqual([]);
  await expect(a.usageMark(KEY)).resolves.toBe(2);
  await a.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 2 }), 60_000);
  await expect(Promise.resolve(a.getEntitlement(KEY))).resolves.toMatchObject({ currentUsage: 2 });
});

it('invalidation reaches the near cache of a store on another connection (pub/sub across the cluster)', async () => {
  const other = await cluster.connect();
  cleanups.push(() => other.quit());
  const [a, b] = [open(), open({ redis: other })];
  const BOOLEAN = 'customer-1\u001f\u001ffeature-04-analytics';
  await a.setEntitlement(BOOLEAN, 'customer-1', entitlement({ featureType: 'BOOLEAN', meterType: null, usageLimit: null }), 60_000);
  let near = false;
  for (let waited = 0; !near && waited < 5000; waited += 20) {
    const value = b.getEntitlement(BOOLEAN);
    near = !(value instanceof Promise);
    await value;
    await sleep(20);
  }
  expect(near).toBe(true);
  await a.invalidateCustomer('customer-1');
  let gone = false;
  const started = Date.now();
  while (!gone && Date.now() - started < 1000) {
    gone = (await b.getEntitlement(BOOLEAN)) === undefined;
    if (!gone) await sleep(5);
  }
  expect(gone).toBe(true);
});

describe('the gate on a cluster', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({
      catalog: {
        ...defaultCatalog,
        customers: [
          {
            id: 'customer-cluster',
            subscriptions: [{ planId: 'plan-revvenu-growth' }],
            usage: [{ featureId: 'feature-02-campaigns', value: 90 }],
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('two processes, 60 concurrent requests, 10 units left: exactly 10 granted and delivered once', async () => {
    const engines: Entitlements[] = [];
    for (let i = 0; i < 2; i++) {
      const entitlements = createEntitlements({
        client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }),
        store: open(),
        usage: { flushIntervalMs: 60_000 },
      });
      cleanups.unshift(() => entitlements.close());
      engines.push(entitlements);
    }
    const input = { customerId: 'customer-cluster', featureId: 'feature-02-campaigns', requestedUsage: 1 };
    const leases = await Promise.all(Array.from({ length: 60 }, (_, i) => engines[i % 2]!.acquire(input)));
    const granted = leases.filter((lease) => lease.decision.granted);
    expect(granted).toHaveLength(10);
    for (const lease of leases) lease.commit();
    await sleep(50);
    await engines[0]!.flush();
    expect(emulator.stats().usage['customer-cluster||feature-02-campaigns']).toBe(10);
  });
});
