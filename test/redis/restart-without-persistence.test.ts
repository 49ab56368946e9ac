import { Stigg } from '../../src/client';
import { createEntitlements, EntitlementUnavailableError } from '../../src/core';
import type { Entitlements, Lease } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { closedPort, startRedisServer, stopRedisServer } from './helpers';
import { startRedisProxy } from './proxy';
import { forSuite } from '../support/suite';
import { sleep } from '../support/time';

// Issue 26, finding 3: a redis-server of this file's own, without persistence, killed and restarted
// while granted requests hold every unit. The reservations went with it, and the next requests were
// granted the same units again (8 granted at limit 4). Now every process puts back the reservations
// it holds once it finds the loss, and reservations wait (dataLossWaitMs) until it has.

const FEATURE = 'feature-02-campaigns';
const USAGE_KEY = (customer: string) => `${customer}||${FEATURE}`;

const cleanups: Array<() => unknown> = [];

const emulator = forSuite(() =>
  startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: ['restart-one', 'restart-fleet', 'restart-late', 'restart-skew'].map((id) => ({
        id,
        subscriptions: [{ planId: 'plan-revvenu-basic' }],
      })),
    },
  }),
);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function process(port: number, dataLossWaitMs?: number): Entitlements {
  const store = new RedisStore({ redis: `redis://127.0.0.1:${port}`, commandTimeoutMs: 1000, nearCacheMs: 0, dataLossWaitMs });
  const entitlements = createEntitlements({
    client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 }),
    store,
    usage: { flushIntervalMs: 100 },
  });
  cleanups.push(
    () => entitlements.close({ timeoutMs: 3000 }),
    () => store.close(),
  );
  return entitlements;
}

/** acquire() `count` times; each granted lease is committed at once (the work was done). */
async function grantAndCommit(entitlements: Entitlements, customerId: string, count: number): Promise<number> {
  let granted = 0;
  for (let i = 0; i < count; i++) {
    try {
      const lease = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 1 });
      if (!lease.decision.granted) continue;
      granted += 1;
      lease.commit();
    } catch (error) {
      expect(error).toBeInstanceOf(EntitlementUnavailableError); // while the store's breaker is still open
    }
  }
  return granted;
}

async function hold(entitlements: Entitlements, customerId: string, count: number): Promise<Lease[]> {
  const leases: Lease[] = [];
  for (let i = 0; i < count; i++) {
    const lease = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 1 });
    expect(lease.decision.granted).toBe(true);
    leases.push(lease);
  }
  return leases;
}

/** Waits until the store answers again after the restart (its breaker closed, the loss found). */
async function untilAnswering(entitlements: Entitlements, customerId: string): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 100) {
    try {
      await entitlements.check({ customerId, featureId: FEATURE });
      return;
    } catch {
      await sleep(100);
    }
  }
}

async function stiggCounts(customerId: string, atLeast: number): Promise<number> {
  for (let waited = 0; (emulator.stats().usage[USAGE_KEY(customerId)] ?? 0) < atLeast && waited < 8000; waited += 100) await sleep(100);
  await sleep(300);
  return emulator.stats().usage[USAGE_KEY(customerId)] ?? 0;
}

it('one process holds the 4 units of limit 4 when Redis restarts without persistence: 0 more are granted, Stigg counts 4', async () => {
  const port = await closedPort();
  let redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const entitlements = process(port);
  const held = await hold(entitlements, 'restart-one', 4);
  await stopRedisServer(redis);
  redis = await startRedisServer(port);
  await untilAnswering(entitlements, 'restart-one');
  expect(await grantAndCommit(entitlements, 'restart-one', 4)).toBe(0);
  for (const lease of held) lease.commit();
  expect(await stiggCounts('restart-one', 4)).toBe(4);
}, 40_000);

it('two processes hold 2 units each of limit 4 when Redis restarts without persistence: neither is granted more', async () => {
  const port = await closedPort();
  let redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const a = process(port);
  const b = process(port);
  const held = [...(await hold(a, 'restart-fleet', 2)), ...(await hold(b, 'restart-fleet', 2))];
  await stopRedisServer(redis);
  redis = await startRedisServer(port);
  await untilAnswering(a, 'restart-fleet');
  const again = (await grantAndCommit(a, 'restart-fleet', 3)) + (await grantAndCommit(b, 'restart-fleet', 3));
  expect(again).toBe(0);
  for (const lease of held) lease.commit();
  expect(await stiggCounts('restart-fleet', 4)).toBe(4);
}, 40_000);

it('a lease put back after the restart is still released for good: its units come back, once', async () => {
  const port = await closedPort();
  let redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const entitlements = process(port);
  const held = await hold(entitlements, 'restart-late', 4);
  await stopRedisServer(redis);
  redis = await startRedisServer(port);
  await untilAnswering(entitlements, 'restart-late');
  held[0]?.release();
  held[1]?.release();
  await sleep(200);
  // 2 released: 2 grantable again, not 0 (held forever) nor 4 (the put-back ones forgotten).
  expect(await grantAndCommit(entitlements, 'restart-late', 4)).toBe(2);
  for (const lease of held.slice(2)) lease.commit();
  expect(await stiggCounts('restart-late', 4)).toBe(4);
}, 40_000);

it('a process that reconnects seconds after the others: their reservations wait for it (dataLossWaitMs), so its units are not granted meanwhile', async () => {
  const port = await closedPort();
  let redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const proxy = await startRedisProxy(`redis://127.0.0.1:${port}`);
  cleanups.push(() => proxy.close());
  const a = process(port, 10_000);
  const late = process(proxy.port, 10_000);
  const held = [...(await hold(a, 'restart-skew', 2)), ...(await hold(late, 'restart-skew', 2))];
  // The late process cannot reach Redis while it restarts, nor for a while after.
  await proxy.refuse();
  await stopRedisServer(redis);
  redis = await startRedisServer(port);
  await untilAnswering(a, 'restart-skew');
  // Found the loss and put its own 2 back; it asks for more while the late process is still away.
  const asked = grantAndCommit(a, 'restart-skew', 3);
  await sleep(1500);
  await proxy.restore();
  expect(await asked).toBe(0);
  await untilAnswering(late, 'restart-skew');
  expect(await grantAndCommit(late, 'restart-skew', 3)).toBe(0);
  for (const lease of held) lease.commit();
  expect(await stiggCounts('restart-skew', 4)).toBe(4);
}, 60_000);
