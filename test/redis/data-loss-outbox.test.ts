import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements, EntitlementUnavailableError } from '../../src/core';
import type { Entitlements, Lease } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { closedPort, requireRedisBinaries, startRedisServer, stopRedisServer } from './helpers';
import { forSuite } from '../support/suite';
import { sleep } from '../support/time';

// Found by the chaos run (test/redis/chaos.test.ts): Redis restarted without persistence while its
// outbox held usage Stigg had not taken yet (Stigg down, or simply not flushed yet) lost those
// units for good — 16 units served and never counted in a run (the outbox held 12 a moment before
// the kill). Each process now remembers the reports it put in the outbox until they left it (Stigg
// took them), and queues them again once it finds the loss; their idempotency keys keep a report
// Stigg already took from being counted twice.
requireRedisBinaries();

const FEATURE = 'feature-02-campaigns';

const cleanups: Array<() => unknown> = [];

const emulator = forSuite(() =>
  startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: ['outbox-lost', 'outbox-taken'].map((id) => ({ id, subscriptions: [{ planId: 'plan-revvenu-growth' }] })),
    },
  }),
);

afterEach(async () => {
  emulator.setFaults({ failureRate: 0 });
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Nothing is delivered but by flush(): what a commit puts in the outbox stays there, unclaimed, until then. */
function engine(port: number): Entitlements {
  const store = new RedisStore({ redis: `redis://127.0.0.1:${port}`, commandTimeoutMs: 1000, nearCacheMs: 0 });
  const entitlements = createEntitlements({
    client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url, maxRetries: 0 }),
    store,
    usage: { flushIntervalMs: 60_000 },
  });
  cleanups.unshift(
    () => entitlements.close({ timeoutMs: 3000 }),
    () => store.close(),
  );
  return entitlements;
}

/** Granted and committed `units` times; a 503 while the store still fails fast after a restart is asked again. */
async function commit(entitlements: Entitlements, customerId: string, units: number): Promise<void> {
  for (let i = 0; i < units; i++) {
    let lease: Lease | undefined;
    for (const started = Date.now(); lease === undefined; await sleep(100)) {
      try {
        lease = await entitlements.acquire({ customerId, featureId: FEATURE, requestedUsage: 1 });
      } catch (error) {
        if (!(error instanceof EntitlementUnavailableError) || Date.now() - started > 20_000) throw error;
      }
    }
    expect(lease.decision.granted).toBe(true);
    lease.commit();
  }
}

const counted = (customerId: string) => emulator.stats().usage[`${customerId}||${FEATURE}`] ?? 0;

/** Flushes every engine until Stigg counted `expected` (30 s at most), then once more after a pause: a replay counted twice would show. */
async function settled(engines: Entitlements[], customerId: string, expected: number): Promise<number> {
  for (const started = Date.now(); counted(customerId) < expected && Date.now() - started < 30_000; await sleep(100)) {
    for (const entitlements of engines) await entitlements.flush().catch(() => undefined);
  }
  await sleep(1500);
  for (const entitlements of engines) await entitlements.flush().catch(() => undefined);
  return counted(customerId);
}

it('2 processes with 3 units each in the outbox, not claimed yet, Redis restarted empty: Stigg counts all 6', async () => {
  const port = await closedPort();
  let redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const engines = [engine(port), engine(port)];
  for (const entitlements of engines) await commit(entitlements, 'outbox-lost', 3);
  await sleep(300); // the commits are in Redis's outbox
  expect(counted('outbox-lost')).toBe(0);

  await stopRedisServer(redis);
  redis = await startRedisServer(port);
  expect(await settled(engines, 'outbox-lost', 6)).toBe(6);
}, 60_000);

it('reports Stigg already took, Redis restarted empty before the processes saw them leave the outbox: counted once', async () => {
  const port = await closedPort();
  let redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const engines = [engine(port), engine(port)];
  for (const entitlements of engines) await commit(entitlements, 'outbox-taken', 4);
  // The first process delivers all 8; the second has not looked yet whether its 4 left the outbox.
  await (engines[0] as Entitlements).flush();
  expect(counted('outbox-taken')).toBe(8);
  await stopRedisServer(redis);
  redis = await startRedisServer(port);
  await commit(engines[0] as Entitlements, 'outbox-taken', 1);
  expect(await settled(engines, 'outbox-taken', 9)).toBe(9);
}, 60_000);

it('a Redis emptied under a live connection (FLUSHALL) is never read as "Stigg took them": the reports are put back once the loss is found', async () => {
  const port = await closedPort();
  const redis = await startRedisServer(port);
  cleanups.push(() => stopRedisServer(redis));
  const store = new RedisStore({
    redis: `redis://127.0.0.1:${port}`,
    nearCacheMs: 0,
    logger: { warn: () => undefined, error: () => undefined },
  });
  cleanups.push(() => store.close());
  const admin = new Redis({ port, host: '127.0.0.1' });
  cleanups.push(() => admin.disconnect());
  const id = randomUUID();
  const report = {
    id,
    idempotencyKey: id,
    customerId: 'c',
    featureId: FEATURE,
    value: 2,
    createdAt: new Date().toISOString(),
    attempts: 0,
  };
  await store.enqueueUsage(`c\u001f\u001f${FEATURE}`, report);
  await sleep(1500); // a sweep has looked for it once (its script is loaded)
  // Emptied without a reconnect or a NOSCRIPT: the store has no reason to check its marker yet, while
  // its sweeps (every second) find the report gone from the outbox.
  await admin.flushall();
  await sleep(2500);
  // Now it finds the loss (NOSCRIPT at its next command) and puts back what it still remembers.
  await admin.script('FLUSH');
  let claimed: string[] = [];
  for (const started = Date.now(); claimed.length === 0 && Date.now() - started < 10_000; await sleep(100)) {
    claimed = (await store.claimUsage(10, 60_000).catch(() => [])).map((r) => r.id);
  }
  expect(claimed).toEqual([id]);
}, 60_000);
