import { StiggGraphQLError } from '../../src/client';
import { createEntitlements } from '../../src/core/entitlements';
import { EntitlementUnavailableError } from '../../src/core/errors';
import { MemoryStore } from '../../src/core/memory-store';
import type { Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { customer, startRig, TEMPLATES, usageKey, reportsThrough } from './helpers';
import { forSuite } from '../support/suite';

/** Usage delivery against hostile conditions: each test is a case that once broke something, or could have. */

const HOUR = 60 * 60_000;
const opened: Entitlements[] = [];

function make(options: Omit<Parameters<typeof createEntitlements>[0], 'client'> & { client?: EntitlementsUpstream }): Entitlements {
  const entitlements = createEntitlements({ client: rig.client, ...options });
  opened.push(entitlements);
  return entitlements;
}

const applied = (customerId: string): number => rig.emulator.stats().usage[usageKey(customerId, TEMPLATES)] ?? 0;
const validationFailure = (): StiggGraphQLError =>
  new StiggGraphQLError('reportUsageBulk', 400, [{ message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);

const rig = forSuite(() =>
  startRig(
    [
      ...['storm', 'mates', 'poison', 'replay', 'rotated', '__proto__', 'constructor'].map((id) => customer(id, 'plan-revvenu-growth')),
      customer('capped', 'plan-revvenu-essentials'),
    ],
    {},
    { maxRetries: 0 },
  ),
);
afterEach(async () => {
  rig.emulator.setFaults({ failureRate: 0, latencyMs: 0 });
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close({ timeoutMs: 1_000 })));
});

test('a failure that hits every report alike (an API change) does not turn each batch into 100 single calls', async () => {
  let failing = true;
  let calls = 0;
  const client = reportsThrough(rig, (_input, send) => {
    calls += 1;
    return failing ? Promise.reject(validationFailure()) : send();
  });
  let now = Date.now();
  const dropped: PendingUsage[] = [];
  const entitlements = make({ client, now: () => now, usage: { flushIntervalMs: 60_000, leaseMs: 1_000 } });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  // `void`: the memory store queues synchronously, so report() returns nothing to wait for (a refusal throws).
  for (let i = 0; i < 250; i += 1) void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 });
  await entitlements.flush();
  expect(calls).toBeLessThanOrEqual(1 + 3);
  expect(dropped).toEqual([]);
  failing = false;
  now += 2_000;
  await entitlements.flush();
  expect(applied('storm')).toBe(250);
});

test('a poison report does not take its batch-mates with it, even when all of them are past maxAgeMs', async () => {
  let now = Date.now();
  const client = reportsThrough(rig, (input, send) =>
    input.usages.some((usage) => usage.customerId === 'poison') ? Promise.reject(validationFailure()) : send(),
  );
  const dropped: PendingUsage[] = [];
  const entitlements = make({ client, now: () => now, usage: { flushIntervalMs: 60_000 } });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  for (let i = 0; i < 9; i += 1) {
    void entitlements.report({ customerId: 'mates', featureId: TEMPLATES, value: 1 });
    if (i === 4) void entitlements.report({ customerId: 'poison', featureId: TEMPLATES, value: 100 });
  }
  now += 25 * HOUR;
  await entitlements.flush();
  expect(applied('mates')).toBe(9);
  expect(dropped.map((report) => [report.customerId, report.value])).toEqual([['poison', 100]]);
});

test('a rotated API key for more than maxAgeMs never gives usage up: it is delivered with the new key', async () => {
  let now = Date.now();
  let rotated = true;
  const client = reportsThrough(rig, (_input, send) =>
    rotated
      ? Promise.reject(
          Object.assign(new Error('Stigg rejected the API key (HTTP 401)'), { name: 'StiggAuthError', status: 401, transient: false }),
        )
      : send(),
  );
  const dropped: PendingUsage[] = [];
  const logger = { warn: () => undefined, error: () => undefined };
  const entitlements = make({ client, logger, now: () => now, usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 1, maxAgeMs: HOUR } });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  void entitlements.report({ customerId: 'rotated', featureId: TEMPLATES, value: 6 });
  const flushing = entitlements.flush();
  for (let i = 0; i < 10; i += 1) {
    now += HOUR;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(dropped).toEqual([]);
  rotated = false;
  await flushing;
  expect(applied('rotated')).toBe(6);
});

test('lost responses during an outage, then close() at its deadline: the handed-over reports, sent again, count once', async () => {
  let mode: 'lose-answer' | 'down' | 'up' = 'lose-answer';
  const client = reportsThrough(rig, async (_input, send) => {
    if (mode === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const answer = await send();
    if (mode === 'lose-answer') {
      mode = 'down';
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    return answer;
  });
  const undelivered: PendingUsage[] = [];
  const entitlements = createEntitlements({ client, usage: { flushIntervalMs: 60_000, retryBaseDelayMs: 5 } });
  entitlements.on('usage:undelivered', (reports) => undelivered.push(...reports));
  for (let i = 0; i < 30; i += 1) void entitlements.report({ customerId: 'replay', featureId: TEMPLATES, value: 1 });
  await entitlements.close({ timeoutMs: 300 });
  expect(applied('replay')).toBe(30); // Stigg took them; the answer was lost
  expect(undelivered).toHaveLength(30);
  // The app persisted them and sends them again later, keys unchanged.
  await rig.client.reportUsageBulk({
    usages: undelivered.map((report) => ({
      customerId: report.customerId,
      featureId: report.featureId,
      value: report.value,
      updateBehavior: report.updateBehavior ?? 'DELTA',
      idempotencyKey: report.idempotencyKey,
      createdAt: report.createdAt,
    })),
  });
  expect(applied('replay')).toBe(30);
});

test('ids that are Object.prototype names are ordinary ids', async () => {
  const entitlements = make({ usage: { flushIntervalMs: 60_000 } });
  for (const id of ['__proto__', 'constructor']) {
    const lease = await entitlements.acquire({ customerId: id, featureId: TEMPLATES, requestedUsage: 2 });
    expect(lease.decision).toMatchObject({ granted: true, customerId: id });
    lease.commit();
  }
  await entitlements.flush();
  expect(applied('__proto__')).toBe(2);
  expect(applied('constructor')).toBe(2);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
});

test('commit() never throws, even when the store refuses the report (a full outbox): the report is surfaced instead', async () => {
  const store = new MemoryStore({ maxPendingUsage: 1 });
  const dropped: PendingUsage[] = [];
  const clock = { now: Date.now() };
  const entitlements = make({ store, reservationMaxMs: 80, usage: { flushIntervalMs: 60_000 }, now: () => clock.now });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  // Granted while the outbox had room, then abandoned past reservationMaxMs (its place no longer
  // held): a report() fills the outbox before the late commit.
  const second = await entitlements.acquire({ customerId: 'mates', featureId: TEMPLATES, requestedUsage: 2 });
  clock.now += 1_000;
  void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 });
  expect(() => second.commit()).not.toThrow();
  expect(dropped.map((report) => [report.customerId, report.value])).toEqual([['mates', 2]]);
});

test('compaction of the memory outbox never makes a value Stigg cannot take (1e308 is refused; capped counts are not merged past the cap)', async () => {
  const store = new MemoryStore({ maxPendingUsage: 2 });
  const entitlements = make({ store, usage: { flushIntervalMs: 60_000 } });
  expect(() => entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1e308 })).toThrow(TypeError);
  void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: Number.MAX_SAFE_INTEGER });
  void entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: Number.MAX_SAFE_INTEGER });
  // Merging the two would pass the unit cap: they stay apart, and a third has no room.
  expect(() => entitlements.report({ customerId: 'storm', featureId: TEMPLATES, value: 1 })).toThrow(/outbox/);
  const values = store.takePendingUsage().map((report) => report.value);
  expect(values).toEqual([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
});

test('the store down, Stigg up: a fallback usageLimit still caps the total (every request refetches, none resets it)', async () => {
  class DownStore extends MemoryStore {
    override getEntitlement(): never {
      throw new Error('store down');
    }
    override reserve(): never {
      throw new Error('store down');
    }
  }
  const logger = { warn: () => undefined, error: () => undefined };
  const entitlements = make({ store: new DownStore(), logger, fallback: { [TEMPLATES]: { hasAccess: true, usageLimit: 2 } } });
  let granted = 0;
  for (let i = 0; i < 6; i += 1) {
    try {
      const lease = await Promise.resolve().then(() =>
        entitlements.acquire({ customerId: 'capped', featureId: TEMPLATES, requestedUsage: 1 }),
      );
      if (lease.decision.granted) granted += 1;
    } catch (error) {
      expect(error).toBeInstanceOf(EntitlementUnavailableError);
    }
  }
  expect(granted).toBe(2);
});
