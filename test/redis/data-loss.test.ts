import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { Stigg } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Logger } from '../../src/core/types';
import { defaultCatalog, startEmulator } from '../../src/emulator';
import { RedisDataLostError, RedisStore } from '../../src/redis';
import { closedPort, requireRedis, startRedisServer as startRedis, stopRedisServer as stopRedis, loseEverythingUnder } from './helpers';
import { forSuite } from '../support/suite';
import { sleep, waitFor } from '../support/time';

// A Redis without persistence that restarts (or is flushed) loses the outbox and the reservations:
// usage Stigg had not taken is gone and limits may be exceeded. Nothing brings it back; the app must
// be told. Each test runs its own redis-server, as it restarts and flushes it.
requireRedis();

const FEATURE = 'feature-02-campaigns';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, warn: () => undefined, error: (meta, message) => errors.push(`${message} ${JSON.stringify(meta)}`) };
}

let port: number;
let server: ChildProcess;

const emulator = forSuite(() =>
  startEmulator({
    catalog: { ...defaultCatalog, customers: [{ id: 'loss', subscriptions: [{ planId: 'plan-revvenu-basic' }] }] },
  }),
);

beforeEach(async () => {
  port = await closedPort();
  server = await startRedis(port);
});

afterEach(async () => {
  await stopRedis(server);
});

function engine(store: RedisStore) {
  const entitlements = createEntitlements({ client: Stigg.createClient(emulator.apiKey, { apiUrl: emulator.url }), store });
  const storeErrors: Error[] = [];
  entitlements.on('store:error', (error) => storeErrors.push(error));
  return { entitlements, storeErrors };
}

const input = { customerId: 'loss', featureId: FEATURE, requestedUsage: 1 };

test("Redis restarted without persistence: the engine reports RedisDataLostError as 'store:error', once", async () => {
  const store = new RedisStore({ redis: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
  const { entitlements, storeErrors } = engine(store);
  try {
    (await entitlements.acquire(input)).release();
    await sleep(100);
    expect(storeErrors).toEqual([]);
    await stopRedis(server);
    server = await startRedis(port);
    expect(await waitFor(() => storeErrors.some((error) => error instanceof RedisDataLostError), 20_000)).toBe(true);
    // Later commands do not report it again: the marker was written anew and is read as known.
    for (let i = 0; i < 3; i++) {
      try {
        (await entitlements.acquire(input)).release();
      } catch {
        // the breaker may still be closing after the restart
      }
    }
    await sleep(200);
    expect(storeErrors.filter((error) => error instanceof RedisDataLostError)).toHaveLength(1);
    expect(storeErrors.find((error) => error instanceof RedisDataLostError)?.message).toMatch(/appendonly yes/);
  } finally {
    await entitlements.close({ timeoutMs: 500 });
    await store.close();
  }
});

test("an app's own ioredis client: FLUSHALL and SCRIPT FLUSH are seen at the next command (NOSCRIPT); without an engine the store's logger says so", async () => {
  const client = new Redis({ port, host: '127.0.0.1' });
  const admin = new Redis({ port, host: '127.0.0.1' });
  const logger = recordingLogger();
  const store = new RedisStore({ redis: client, logger });
  try {
    await store.setEntitlement('k', 'c', { currentUsage: 0 } as never, 60_000);
    await sleep(100);
    expect(logger.errors).toEqual([]);
    await admin.flushall();
    await admin.script('FLUSH');
    await store.reservedUsage('k');
    expect(await waitFor(() => logger.errors.length > 0, 15_000)).toBe(true);
    expect(logger.errors[0]).toMatch(/Redis lost its data/);
  } finally {
    await store.close();
    client.disconnect();
    admin.disconnect();
  }
});

test('no false alarm: scripts flushed but data kept, a second store joining the fleet, a reconnect to the same Redis', async () => {
  const storeA = new RedisStore({ redis: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
  const a = engine(storeA);
  const admin = new Redis({ port, host: '127.0.0.1' });
  try {
    (await a.entitlements.acquire(input)).release();
    const storeB = new RedisStore({ redis: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
    const b = engine(storeB);
    (await b.entitlements.acquire(input)).release();
    await admin.script('FLUSH');
    (await a.entitlements.acquire(input)).release();
    (await b.entitlements.acquire(input)).release();
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await sleep(500);
    (await a.entitlements.acquire(input)).release();
    await sleep(200);
    expect([...a.storeErrors, ...b.storeErrors].filter((error) => error instanceof RedisDataLostError)).toEqual([]);
    await b.entitlements.close({ timeoutMs: 500 });
    await storeB.close();
  } finally {
    admin.disconnect();
    await a.entitlements.close({ timeoutMs: 500 });
    await storeA.close();
  }
});

test('an onError listener that throws is caught and logged: no unhandled rejection, and the loss is still told', async () => {
  const client = new Redis({ port, host: '127.0.0.1' });
  const admin = new Redis({ port, host: '127.0.0.1' });
  const logger = recordingLogger();
  const store = new RedisStore({ redis: client, logger });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const told: Error[] = [];
  store.onError(() => {
    throw new Error('listener bug');
  });
  store.onError((error) => told.push(error));
  try {
    await loseEverythingUnder(store, admin);
    expect(await waitFor(() => logger.errors.length > 0, 15_000)).toBe(true);
    expect(logger.errors[0]).toMatch(/onError listener threw.*listener bug/);
    // The listeners after the throwing one still hear of it.
    expect(told.some((error) => error instanceof RedisDataLostError)).toBe(true);
    await sleep(50);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await store.close();
    client.disconnect();
    admin.disconnect();
  }
});
