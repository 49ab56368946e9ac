import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Entitlements } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { closedPort, REDIS_URL } from './helpers';
import { forSuite } from '../support/suite';

// health() with the Redis store: reachability from the store's own fail-fast state (no round trip),
// and the outbox as this process's share of the fleet's.
const cleanups: Array<() => unknown> = [];
const quiet = { warn: () => undefined, error: () => undefined };

const emulator = forSuite(() =>
  startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: 'c1', subscriptions: [{ planId: 'plan-revvenu-growth' }] }] },
  }),
);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function engine(store: RedisStore): Entitlements {
  const client = Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 });
  const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 3_600_000 }, logger: quiet });
  cleanups.push(
    () => entitlements.close(),
    () => store.close(),
  );
  return entitlements;
}

test("a reachable Redis: the outbox is this process's share, counted until delivered", async () => {
  const entitlements = engine(new RedisStore({ redis: REDIS_URL, prefix: `health-${process.pid}-${Date.now()}:`, logger: quiet }));
  await entitlements.report({ customerId: 'c1', featureId: 'feature-02-campaigns', value: 3 });
  const health = entitlements.health();
  expect(health).toMatchObject({
    ok: true,
    store: { name: 'redis', reachable: true, error: null },
    outbox: { depth: 1, scope: 'process' },
  });
  expect(health.outbox.oldestAgeMs).toEqual(expect.any(Number));
  await entitlements.flush();
  expect(entitlements.health().outbox).toMatchObject({ depth: 0, oldestAgeMs: null });
});

test('Redis not answering: unreachable, with the reason, once an operation failed', async () => {
  const store = new RedisStore({ redis: `redis://127.0.0.1:${await closedPort()}`, commandTimeoutMs: 300, logger: quiet });
  const entitlements = engine(store);
  await expect(Promise.resolve().then(() => store.getEntitlement('c1\u001f\u001ffeature-02-campaigns'))).rejects.toThrow();
  const health = entitlements.health();
  expect(health.ok).toBe(false);
  expect(health.store.reachable).toBe(false);
  expect(health.store.error).toEqual(expect.any(String));
});
