import type Redis from 'ioredis';
import { StiggClient } from '../../src/client';
import { createEntitlements } from '../../src/core';
import type { Decision, Entitlements, EntitlementsUpstream } from '../../src/core/types';
import { defaultCatalog, startEmulator, type Emulator } from '../../src/emulator';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, requireRedis, uniquePrefix } from './helpers';

requireRedis();

/**
 * Engines with a RedisStore each, on one prefix: stand-ins for processes sharing Redis. The cached
 * usage must count every unit Stigg has not seen once (never miss one: processes would grant past
 * the limit; never count one twice for longer than a delivery takes: they would deny what is left).
 */

const FEATURE = 'feature-02-campaigns';
const CUSTOMERS = ['refresh', 'refresh-window', 'reconcile-window', 'settled'];

let emulator: Emulator;
let redis: Redis;
let prefix: string;
const made: Array<{ entitlements: Entitlements; store: RedisStore }> = [];

/** Holds Stigg's answers (after Stigg counted the request) until opened. */
class Hold {
  private armed: { reached: () => void; opened: Promise<void> } | undefined;
  private open: () => void = () => {};

  arm(): Promise<void> {
    return new Promise((reached) => {
      const opened = new Promise<void>((resolve) => {
        this.open = resolve;
      });
      this.armed = { reached, opened };
    });
  }

  release(): void {
    this.armed = undefined;
    this.open();
  }

  async pass<T>(answer: T): Promise<T> {
    const armed = this.armed;
    if (armed !== undefined) {
      armed.reached();
      await armed.opened;
    }
    return answer;
  }
}

function engine(hold?: { entitlements?: Hold; usage?: Hold }): Entitlements {
  const real = new StiggClient({ apiKey: emulator.apiKey, apiUrl: emulator.url, maxRetries: 0 });
  const client: EntitlementsUpstream = {
    getEntitlement: async (query) => (hold?.entitlements ?? new Hold()).pass(await real.getEntitlement(query)),
    reportUsageBulk: async (input) => (hold?.usage ?? new Hold()).pass(await real.reportUsageBulk(input)),
  };
  const store = new RedisStore({ redis, prefix });
  const entitlements = createEntitlements({ client, store, usage: { flushIntervalMs: 60_000 } });
  made.push({ entitlements, store });
  return entitlements;
}

function usageOf(decision: Decision | Promise<Decision>): Promise<number | null> {
  return Promise.resolve(decision).then((d) => d.currentUsage);
}

beforeAll(async () => {
  redis = await connectRedis();
  emulator = await startEmulator({
    catalog: {
      ...defaultCatalog,
      customers: CUSTOMERS.map((id) => ({
        id,
        subscriptions: [{ planId: 'plan-revvenu-growth' }],
        usage: [{ featureId: FEATURE, value: 50 }],
      })),
    },
  });
});

beforeEach(() => {
  prefix = uniquePrefix();
});

afterEach(async () => {
  for (const { entitlements, store } of made.splice(0)) {
    await entitlements.close();
    await store.close();
  }
  await deleteKeys(redis, prefix);
});

afterAll(async () => {
  await emulator.stop();
  await redis.quit();
});

it("a refresh counts every process's unsent units, once", async () => {
  const customerId = 'refresh';
  const [a, b] = [engine(), engine()];
  expect(await usageOf(a.check({ customerId, featureId: FEATURE }))).toBe(50);
  await b.report({ customerId, featureId: FEATURE, value: 10 });
  await a.report({ customerId, featureId: FEATURE, value: 5 });
  await a.invalidate(customerId);
  // 50 from Stigg + 10 unsent by b (missed if each process added its own) + 5 by a (counted once).
  expect(await a.check({ customerId, featureId: FEATURE })).toMatchObject({ source: 'upstream', currentUsage: 65 });
  const last = await a.acquire({ customerId, featureId: FEATURE, requestedUsage: 35 });
  expect(last.decision.granted).toBe(true);
  last.commit();
  expect((await b.acquire({ customerId, featureId: FEATURE, requestedUsage: 1 })).decision.granted).toBe(false);
  await a.flush();
  await b.flush();
  // stats().usage is what reports applied: 15 + 35.
  expect(emulator.stats().usage[`${customerId}||${FEATURE}`]).toBe(50);
});

it('a refresh whose answer predates units another process got acknowledged meanwhile still counts them', async () => {
  const customerId = 'refresh-window';
  const hold = new Hold();
  const [a, b] = [engine({ entitlements: hold }), engine()];
  await a.check({ customerId, featureId: FEATURE });
  await b.report({ customerId, featureId: FEATURE, value: 10 });
  await a.invalidate(customerId);
  const reached = hold.arm();
  const refreshing = a.check({ customerId, featureId: FEATURE });
  await reached; // Stigg said 50 to a
  await b.flush(); // Stigg now has 60, and b's 10 left the outbox
  hold.release();
  expect(await usageOf(refreshing)).toBe(60);
  expect((await a.acquire({ customerId, featureId: FEATURE, requestedUsage: 41 })).decision.granted).toBe(false);
  expect((await a.acquire({ customerId, featureId: FEATURE, requestedUsage: 40 })).decision.granted).toBe(true);
});

it("reconciling with Stigg's answer to a report counts what other processes got acknowledged before it was written", async () => {
  const customerId = 'reconcile-window';
  const hold = new Hold();
  const [a, b] = [engine({ usage: hold }), engine()];
  await a.check({ customerId, featureId: FEATURE });
  await b.check({ customerId, featureId: FEATURE });
  await a.report({ customerId, featureId: FEATURE, value: 5 });
  const reached = hold.arm();
  const flushing = a.flush();
  await reached; // a claimed its 5 from the shared outbox, Stigg counted them and answered 55
  await b.report({ customerId, featureId: FEATURE, value: 7 });
  await b.flush(); // then b's 7: 62, acknowledged before a writes its 55 back
  hold.release();
  await flushing;
  expect(emulator.stats().usage[`${customerId}||${FEATURE}`]).toBe(12);
  expect(await usageOf(a.check({ customerId, featureId: FEATURE }))).toBe(62);
  expect(await usageOf(b.check({ customerId, featureId: FEATURE }))).toBe(62);
});

it("once everything is delivered, the cached usage is exactly Stigg's: nothing counted twice", async () => {
  const customerId = 'settled';
  const [a, b] = [engine(), engine()];
  await a.check({ customerId, featureId: FEATURE });
  const leases = await Promise.all(
    Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).acquire({ customerId, featureId: FEATURE, requestedUsage: 1 })),
  );
  for (const lease of leases) lease.commit();
  await a.close();
  await b.flush();
  expect(emulator.stats().usage[`${customerId}||${FEATURE}`]).toBe(30);
  expect(await usageOf(b.check({ customerId, featureId: FEATURE }))).toBe(80);
  await b.invalidate(customerId);
  expect(await usageOf(b.check({ customerId, featureId: FEATURE }))).toBe(80);
  const rest = await Promise.all(Array.from({ length: 25 }, () => b.acquire({ customerId, featureId: FEATURE, requestedUsage: 1 })));
  expect(rest.filter((lease) => lease.decision.granted)).toHaveLength(20);
});
