import type Redis from 'ioredis';
import { StiggGraphQLError } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { MemoryStore, OutboxFullError } from '../../src/core/memory-store';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { RedisStore } from '../../src/redis';
import { connectRedis, deleteKeys, uniquePrefix } from '../redis/helpers';
import { CAMPAIGNS, customer, startRig, TEMPLATES, usageKey, reportsThrough } from './helpers';
import { forSuite } from '../support/suite';

const HOUR = 60 * 60_000;
const opened: Entitlements[] = [];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function make(options: Omit<Parameters<typeof createEntitlements>[0], 'client'> & { client?: EntitlementsUpstream }): Entitlements {
  const entitlements = createEntitlements({ client: rig.client, ...options });
  opened.push(entitlements);
  return entitlements;
}

const applied = (customerId: string, featureId = TEMPLATES): number | undefined =>
  rig.emulator.stats().usage[usageKey(customerId, featureId)];

const rig = forSuite(() =>
  startRig(
    ['outage', 'poison', 'internal', 'close-mem', 'close-hang', 'shared', 'late', 'bound'].map((id) => customer(id, 'plan-revvenu-growth')),
    {},
    { maxRetries: 0, timeoutMs: 2000 },
  ),
);
afterEach(async () => {
  rig.emulator.setFaults({ latencyMs: 0, failureRate: 0 });
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 2000 })));
});

test('an outage of 30 hours (fake clock) loses no unit: reports are retried until Stigg is back', async () => {
  let now = Date.parse('2026-11-26T00:00:00Z');
  const dropped: PendingUsage[] = [];
  const entitlements = make({
    now: () => now,
    usage: { retryBaseDelayMs: 2, flushIntervalMs: 60_000 },
    circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 10 },
  });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  // `void`: the memory store queues synchronously, so report() returns nothing to wait for (a refusal throws).
  for (let i = 0; i < 5; i += 1) void entitlements.report({ customerId: 'outage', featureId: TEMPLATES, value: 2 });
  rig.emulator.setFaults({ failureRate: 1 });
  const flushing = entitlements.flush();
  for (let hour = 0; hour < 30; hour += 1) {
    now += HOUR;
    await sleep(15);
  }
  expect(dropped).toEqual([]);
  rig.emulator.setFaults({ failureRate: 0 });
  await flushing;
  expect(applied('outage')).toBe(10);
  expect(dropped).toEqual([]);
});

test('a report Stigg keeps failing without saying it is transient is retried, not dropped, until usage.maxAgeMs', async () => {
  let now = Date.parse('2026-11-26T00:00:00Z');
  let failing = true;
  const dropped: Array<[PendingUsage, Error]> = [];
  const client = reportsThrough(rig, (input, send) => {
    if (failing && input.usages.some((usage) => usage.customerId === 'poison')) {
      // An HTTP-200 answer with an Apollo INTERNAL_SERVER_ERROR, from a client that calls it permanent.
      return Promise.reject(
        new StiggGraphQLError('reportUsageBulk', 200, [{ message: 'Unexpected error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]),
      );
    }
    return send();
  });
  const entitlements = make({ client, now: () => now, usage: { flushIntervalMs: 60_000, leaseMs: 1_000, maxAgeMs: 24 * HOUR } });
  entitlements.on('usage:dropped', (report, error) => dropped.push([report, error]));
  void entitlements.report({ customerId: 'poison', featureId: TEMPLATES, value: 3 });
  void entitlements.report({ customerId: 'internal', featureId: TEMPLATES, value: 4 });
  await entitlements.flush();
  expect(applied('internal')).toBe(4);
  expect(dropped).toEqual([]);
  now += 23 * HOUR;
  await entitlements.flush();
  expect(dropped).toEqual([]);
  now += 2 * HOUR;
  await entitlements.flush();
  expect(dropped).toHaveLength(1);
  expect(dropped[0]?.[0]).toMatchObject({ customerId: 'poison', featureId: TEMPLATES, value: 3, updateBehavior: 'DELTA' });
  expect(dropped[0]?.[1].message).toMatch(/Unexpected error/);
  failing = false;
  await entitlements.flush();
  expect(applied('poison')).toBeUndefined();
});

test('the same failure recovers before maxAgeMs: the report is delivered once Stigg takes it', async () => {
  let failing = true;
  const client = reportsThrough(rig, (_input, send) =>
    failing
      ? Promise.reject(new StiggGraphQLError('reportUsageBulk', 200, [{ message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]))
      : send(),
  );
  let now = Date.now();
  const entitlements = make({ client, now: () => now, usage: { flushIntervalMs: 60_000, leaseMs: 1_000 } });
  void entitlements.report({ customerId: 'internal', featureId: CAMPAIGNS, value: 5 });
  await entitlements.flush();
  failing = false;
  now += 2_000;
  await entitlements.flush();
  expect(applied('internal', CAMPAIGNS)).toBe(5);
});

describe('close({ timeoutMs })', () => {
  test('memory store, Stigg refusing: resolves at the deadline and hands every undelivered report over', async () => {
    const undelivered: PendingUsage[][] = [];
    const store = new MemoryStore();
    const entitlements = createEntitlements({ client: rig.client, store, usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 5 } });
    entitlements.on('usage:undelivered', (reports) => undelivered.push(reports));
    for (let i = 0; i < 150; i += 1) void entitlements.report({ customerId: 'close-mem', featureId: TEMPLATES, value: 1 });
    rig.emulator.setFaults({ failureRate: 1 });
    const started = performance.now();
    const closed = await entitlements.close({ timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(undelivered).toHaveLength(1);
    const reports = undelivered[0] ?? [];
    expect(reports).toHaveLength(150);
    // close() resolves with the same reports (a job without listeners keeps them from there), and so does a second call.
    expect(closed.undelivered).toEqual(reports);
    await expect(entitlements.close()).resolves.toEqual({ undelivered: reports });
    expect(new Set(reports.map((report) => report.idempotencyKey)).size).toBe(150);
    expect(reports[0]).toMatchObject({ customerId: 'close-mem', featureId: TEMPLATES, value: 1, updateBehavior: 'DELTA' });
    expect(store.pendingUsageCount).toBe(0);
  });

  test('Stigg hanging: close() does not wait for the hung call', async () => {
    const undelivered: PendingUsage[] = [];
    const entitlements = createEntitlements({ client: rig.client, usage: { flushIntervalMs: 60_000 } });
    entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
    void entitlements.report({ customerId: 'close-hang', featureId: TEMPLATES, value: 7 });
    rig.emulator.setFaults({ latencyMs: 1_500 });
    const started = performance.now();
    await entitlements.close({ timeoutMs: 100 });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(undelivered.map((report) => report.value)).toEqual([7]);
  });

  // Mutants: close()'s abort of the call in flight (UsageBuffer.abort, `this.inFlight?.abort()` dropped) and the signal
  // handed to reportUsageBulk (UsageBuffer.send): the hung call stayed out, its socket holding the process up to its timeout.
  test("Stigg hanging: the call in flight is aborted at close()'s deadline, and not retried", async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const calls: Array<Promise<unknown>> = [];
    const client: EntitlementsUpstream = {
      getEntitlement: (query) => rig.client.getEntitlement(query),
      reportUsageBulk: (input, options) => {
        signals.push(options?.signal);
        const call = rig.client.reportUsageBulk(input, options);
        calls.push(call.catch((error: unknown) => error));
        return call;
      },
    };
    const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 1 } });
    entitlements.on('usage:undelivered', () => undefined);
    void entitlements.report({ customerId: 'close-hang', featureId: TEMPLATES, value: 7 });
    rig.emulator.setFaults({ latencyMs: 1_500 });
    await entitlements.close({ timeoutMs: 100 });
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    // The emulator answers after 1.5 s: an aborted call ends well before.
    expect(await Promise.race([calls[0], sleep(1_000).then(() => 'still out')])).not.toBe('still out');
    await sleep(50);
    expect(signals).toHaveLength(1);
  });

  test('bad options are TypeErrors', () => {
    const entitlements = make({});
    expect(() => entitlements.close({ timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => entitlements.close({ timeout: 5 } as never)).toThrow(/Did you mean "timeoutMs"/);
  });

  test('a lease committed after close() gave up is handed over too, never silently kept', async () => {
    const undelivered: PendingUsage[] = [];
    const entitlements = createEntitlements({ client: rig.client, usage: { flushIntervalMs: 60_000 } });
    entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
    const lease = await entitlements.acquire({ customerId: 'late', featureId: CAMPAIGNS, requestedUsage: 2 });
    rig.emulator.setFaults({ failureRate: 1 });
    void entitlements.report({ customerId: 'late', featureId: CAMPAIGNS, value: 1 });
    const closed = await entitlements.close({ timeoutMs: 50 });
    lease.commit();
    expect(undelivered.map((report) => report.value).sort()).toEqual([1, 2]);
    // What close() resolved with is what it had handed over by then: the late commit came after.
    expect(closed.undelivered.map((report) => report.value)).toEqual([1]);
  });
});

describe("shared store (Redis): close() during an outage never takes other processes' reports with it", () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(async () => {
    redis = await connectRedis();
    prefix = uniquePrefix();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  test('150 reports of two processes survive one closing in a 1 s outage, and are delivered exactly once later', async () => {
    // The app's client: the stores are the test's to close (each holds a pub/sub connection).
    const stores = [new RedisStore({ redis, prefix }), new RedisStore({ redis, prefix })] as const;
    const one = createEntitlements({
      client: rig.client,
      store: stores[0],
      usage: { flushIntervalMs: 60_000, leaseMs: 200, retryBaseDelayMs: 5 },
    });
    const two = createEntitlements({
      client: rig.client,
      store: stores[1],
      usage: { flushIntervalMs: 60_000, leaseMs: 200 },
    });
    const dropped: PendingUsage[] = [];
    for (const engine of [one, two]) engine.on('usage:dropped', (report) => dropped.push(report));
    await Promise.all(Array.from({ length: 100 }, () => one.report({ customerId: 'shared', featureId: TEMPLATES, value: 1 })));
    for (let i = 0; i < 50; i += 1) await two.report({ customerId: 'shared', featureId: TEMPLATES, value: 1 });
    await sleep(50);
    rig.emulator.setFaults({ failureRate: 1 });
    await one.close({ timeoutMs: 1_000 });
    rig.emulator.setFaults({ failureRate: 0 });
    // What one held comes back when its lease (200 ms) runs out; a loaded machine may need more than one flush after it.
    const deadline = Date.now() + 10_000;
    do {
      await sleep(250);
      await two.flush();
    } while ((applied('shared') ?? 0) < 150 && Date.now() < deadline);
    await two.close();
    await Promise.all(stores.map((store) => store.close()));
    expect(dropped).toEqual([]);
    expect(applied('shared')).toBe(150);
  });
});

test('the memory outbox is bounded: untried DELTAs of one key are compacted, then a report that does not fit is refused loudly', async () => {
  const store = new MemoryStore({ maxPendingUsage: 3 });
  const dropped: Array<[PendingUsage, Error]> = [];
  const errors: Error[] = [];
  const entitlements = make({ store, usage: { flushIntervalMs: 60_000 } });
  entitlements.on('usage:dropped', (report, error) => dropped.push([report, error]));
  entitlements.on('store:error', (error) => errors.push(error));
  for (let i = 0; i < 50; i += 1) void entitlements.report({ customerId: 'bound', featureId: TEMPLATES, value: 1 });
  void entitlements.report({ customerId: 'bound', featureId: CAMPAIGNS, value: 5 });
  void entitlements.report({ customerId: 'bound', featureId: CAMPAIGNS, value: 2, updateBehavior: 'SET' });
  expect(store.pendingUsageCount).toBe(3);
  expect(dropped).toEqual([]);
  expect(() => entitlements.report({ customerId: 'bound', featureId: CAMPAIGNS, value: 1, updateBehavior: 'SET' })).toThrow(
    OutboxFullError,
  );
  expect(dropped).toHaveLength(1);
  expect(dropped[0]?.[0]).toMatchObject({ customerId: 'bound', featureId: CAMPAIGNS, value: 1, updateBehavior: 'SET' });
  expect(errors[0]).toBeInstanceOf(OutboxFullError);
  await entitlements.flush();
  expect(applied('bound')).toBe(50);
  expect(rig.emulator.state.currentUsage('bound', CAMPAIGNS)).toBe(2);
});

test('a full outbox compacts again once a report was queued since its last compaction (no report refused that merging would fit)', () => {
  const store = new MemoryStore({ maxPendingUsage: 3 });
  let next = 0;
  const report = (customerId: string): PendingUsage => {
    next += 1;
    const id = `r-${next}`;
    return {
      id,
      idempotencyKey: id,
      customerId,
      featureId: TEMPLATES,
      value: 1,
      updateBehavior: 'DELTA',
      createdAt: new Date(0).toISOString(),
      attempts: 0,
    };
  };
  for (const customerId of ['c1', 'c2', 'c3']) store.enqueueUsage(`${customerId}-key`, report(customerId));
  expect(store.usageRefusal('k')).toBeInstanceOf(OutboxFullError); // compacted: nothing to merge
  store.ackUsage(store.claimUsage(1, 60_000).map((claimed) => claimed.id)); // c1 delivered: 2 left
  store.enqueueUsage('c2-key', report('c2')); // full again, and c2 twice: mergeable
  expect(() => store.enqueueUsage('c2-key', report('c2'))).not.toThrow();
  expect(store.takePendingUsage().map((kept) => [kept.customerId, kept.value])).toEqual([
    ['c2', 2],
    ['c3', 1],
    ['c2', 1],
  ]);
});
