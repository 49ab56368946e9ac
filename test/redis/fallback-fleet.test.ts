import type Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements, EntitlementUnavailableError } from '../../src/core';
import type { Entitlements, Lease } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { closedPort, connectRedis, deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from './helpers';

// Issue 26, finding 6: a feature's fallback `usageLimit` is a total for the fleet while the shared
// store answers (two processes on one Redis granted 10 at usageLimit 5), per process only when it does not.
requireRedis();

const FEATURE = 'feature-02-campaigns';
const input = { customerId: 'customer-fallback-fleet', featureId: FEATURE, requestedUsage: 1 };

let redis: Redis;
let prefix: string;
let stiggUrl: string;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  redis = await connectRedis();
  // Stigg is down for the whole file: nothing is cached, every decision is the fallback's.
  stiggUrl = `http://127.0.0.1:${await closedPort()}/graphql`;
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

/** One process of the fleet: its own engine and its own connection to the shared Redis. */
function process(redisUrl = REDIS_URL, commandTimeoutMs = 1000): { entitlements: Entitlements; store: RedisStore } {
  const store = new RedisStore({ redis: redisUrl, prefix, commandTimeoutMs, nearCacheMs: 0 });
  const entitlements = createEntitlements({
    client: Stigg.createClient('server-test-key', { apiUrl: stiggUrl, maxRetries: 0, timeoutMs: 1000 }),
    store,
    fallback: { [FEATURE]: { hasAccess: true, usageLimit: 5 } },
  });
  cleanups.push(
    () => entitlements.close({ timeoutMs: 500 }).catch(() => {}),
    () => store.close(),
  );
  return { entitlements, store };
}

/** acquire() until the fallback answers 503; the leases granted. */
async function drain(entitlements: Entitlements, max: number): Promise<Lease[]> {
  const granted: Lease[] = [];
  for (let i = 0; i < max; i++) {
    try {
      const lease = await entitlements.acquire(input);
      if (lease.decision.granted) granted.push(lease);
    } catch (error) {
      expect(error).toBeInstanceOf(EntitlementUnavailableError);
    }
  }
  return granted;
}

it('two processes on one Redis, Stigg down: the fallback grants 5 in all at usageLimit 5, not 5 each', async () => {
  const a = process();
  const b = process();
  const fromA = await drain(a.entitlements, 4);
  const fromB = await drain(b.entitlements, 8);
  const again = await drain(a.entitlements, 4);
  expect(fromA.length + fromB.length + again.length).toBe(5);
  expect(fromA.length).toBe(4);
  expect(fromB.length).toBe(1);
  expect(fromB[0]?.decision.source).toBe('fallback');
  expect(fromB[0]?.decision.currentUsage).toBe(4);
});

it('units a fallback lease releases come back to the fleet total; committed ones stay taken', async () => {
  const a = process();
  const b = process();
  const leases = await drain(a.entitlements, 5);
  expect(leases.length).toBe(5);
  expect((await drain(b.entitlements, 1)).length).toBe(0);
  leases[0]?.release();
  leases[1]?.commit();
  leases[2]?.settle(0);
  // Released (1) and settled at 0 (1): two places for the other process; the commit keeps its unit.
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect((await drain(b.entitlements, 4)).length).toBe(2);
});

it('Stigg answering again for the key ends the fleet total (a later outage starts from 0)', async () => {
  const a = process();
  expect((await drain(a.entitlements, 6)).length).toBe(5);
  const key = `${input.customerId}\u001f\u001f${FEATURE}`;
  // What the engine does when Stigg answers for the key: setEntitlement, which ends the key's total.
  await a.store.setEntitlement(
    key,
    input.customerId,
    {
      accessDeniedReason: null,
      featureType: 'NUMBER',
      meterType: 'Incremental',
      hasUnlimitedUsage: false,
      usageLimit: 100,
      currentUsage: 0,
      usagePeriodEnd: null,
      resetPeriod: null,
      fetchedAt: Date.now(),
    },
    1,
  );
  // The next outage: the entry is gone again, the fallback decides from a total of 0, fleet-wide.
  await redis.del(`${prefix}ent:${key}`);
  const b = process();
  expect((await drain(a.entitlements, 3)).length).toBe(3);
  expect((await drain(b.entitlements, 3)).length).toBe(2);
});

it('the shared store not answering: each process counts its own total (documented), and still never more than usageLimit', async () => {
  const down = `redis://127.0.0.1:${await closedPort()}`;
  const a = process(down, 300);
  const b = process(down, 300);
  expect((await drain(a.entitlements, 7)).length).toBe(5);
  expect((await drain(b.entitlements, 7)).length).toBe(5);
});
