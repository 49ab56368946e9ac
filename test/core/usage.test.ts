import { createEntitlements } from '../../src/core/entitlements';
import { MemoryStore } from '../../src/core/memory-store';
import type { Entitlements, EntitlementsUpstream, Lease, PendingUsage } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig, TEMPLATES, usageKey, type Rig } from './helpers';
import { forSuite } from '../support/suite';

type BulkInput = Parameters<EntitlementsUpstream['reportUsageBulk']>[0];

/** The real client, with a hook around reportUsageBulk to observe calls and inject faults. */
function around(
  rig: Rig,
  hook: (
    input: BulkInput,
    send: () => ReturnType<EntitlementsUpstream['reportUsageBulk']>,
  ) => ReturnType<EntitlementsUpstream['reportUsageBulk']>,
): EntitlementsUpstream {
  return {
    getEntitlement: (query) => rig.client.getEntitlement(query),
    reportUsageBulk: (input) => hook(input, () => rig.client.reportUsageBulk(input)),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const opened: Entitlements[] = [];

function make(options: Omit<Parameters<typeof createEntitlements>[0], 'client'> & { client?: EntitlementsUpstream } = {}): Entitlements {
  const entitlements = createEntitlements({ client: rig.client, ...options });
  opened.push(entitlements);
  return entitlements;
}

async function grant(entitlements: Entitlements, customerId: string, units = 1, featureId = TEMPLATES): Promise<Lease> {
  const lease = await entitlements.acquire({ customerId, featureId, requestedUsage: units });
  expect(lease.decision.granted).toBe(true);
  return lease;
}

const bulkCalls = () => rig.emulator.stats().operations['reportUsageBulk'] ?? 0;
const applied = (customerId: string, featureId = TEMPLATES) => rig.emulator.stats().usage[usageKey(customerId, featureId)];

const rig = forSuite(() =>
  startRig(
    ['batch', 'interval', 'closing', 'lost', 'bad-mix', 'exhaust', 'serial', 'faulty', 'meter'].map((id) =>
      customer(id, 'plan-revvenu-growth'),
    ),
    {},
    { maxRetries: 0, timeoutMs: 2000 },
  ),
);

afterEach(async () => {
  rig.emulator.setFaults({ latencyMs: 0, failureRate: 0 });
  await Promise.all(opened.splice(0).map((entitlements) => entitlements.close()));
});

test('a full batch is sent at once, one reportUsageBulk per batch', async () => {
  const entitlements = make({ usage: { batchSize: 10, flushIntervalMs: 60_000 } });
  const before = bulkCalls();
  const leases = await Promise.all(Array.from({ length: 25 }, () => grant(entitlements, 'batch')));
  for (const lease of leases) lease.commit();
  await until(() => applied('batch') === 20);
  expect(bulkCalls() - before).toBe(2);
  await entitlements.flush();
  expect(applied('batch')).toBe(25);
  expect(bulkCalls() - before).toBe(3);
});

test('the interval flushes what is queued without a flush() call', async () => {
  const entitlements = make({ usage: { flushIntervalMs: 30 } });
  (await grant(entitlements, 'interval', 3)).commit();
  await until(() => applied('interval') === 3);
});

test('flush() and close() wait for a flush already running and everything queued before them', async () => {
  rig.emulator.setFaults({ latencyMs: 150 });
  const flushed: PendingUsage[][] = [];
  const entitlements = make({ usage: { flushIntervalMs: 60_000 } });
  entitlements.on('usage:flushed', (reports) => flushed.push(reports));
  const leases = await Promise.all(Array.from({ length: 5 }, () => grant(entitlements, 'closing')));
  leases.slice(0, 3).forEach((lease) => lease.commit());
  const running = entitlements.flush();
  await sleep(20);
  leases.slice(3).forEach((lease) => lease.commit());
  const second = entitlements.flush();
  expect(entitlements.flush()).toBe(second);
  await second;
  expect(applied('closing')).toBe(5);
  await running;
  const late = await grant(entitlements, 'closing', 2);
  late.commit();
  await entitlements.close();
  expect(applied('closing')).toBe(7);
  expect(flushed.map((reports) => reports.length)).toEqual([3, 2, 1]);
});

test('a lost response is retried with the same idempotency keys and counted once', async () => {
  const sent: string[][] = [];
  let calls = 0;
  const client = around(rig, async (input, send) => {
    sent.push(input.usages.map((u) => u.idempotencyKey as string));
    calls += 1;
    const results = await send();
    if (calls === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    return results;
  });
  const entitlements = make({ client, usage: { retryBaseDelayMs: 1, flushIntervalMs: 60_000 } });
  const leases = await Promise.all(Array.from({ length: 4 }, () => grant(entitlements, 'lost', 2)));
  leases.forEach((lease) => lease.commit());
  await entitlements.flush();
  expect(sent).toHaveLength(2);
  expect(new Set(sent[0]).size).toBe(4);
  expect(sent[1]).toEqual(sent[0]);
  expect(applied('lost')).toBe(8);
  expect((entitlements.check({ customerId: 'lost', featureId: TEMPLATES }) as { currentUsage: number }).currentUsage).toBe(8);
});

test('a report that can never be delivered is surfaced with its full content; the rest of its batch is delivered', async () => {
  const store = new MemoryStore();
  const dropped: Array<[PendingUsage, Error]> = [];
  const entitlements = make({ store, usage: { flushIntervalMs: 60_000 } });
  entitlements.on('usage:dropped', (report, error) => dropped.push([report, error]));
  (await grant(entitlements, 'bad-mix', 2)).commit();
  // `void`: the memory store queues synchronously, so report() returns nothing to wait for (a refusal throws).
  void entitlements.report({ customerId: 'nobody', featureId: TEMPLATES, value: 5 });
  void entitlements.report({ customerId: 'bad-mix', featureId: CAMPAIGNS, value: 3 });
  await entitlements.flush();
  expect(applied('bad-mix')).toBe(2);
  expect(applied('bad-mix', CAMPAIGNS)).toBe(3);
  expect(dropped).toHaveLength(1);
  const [report, error] = dropped[0] as [PendingUsage, Error];
  // Two calls of its own: refused alone, then refused again once Stigg had taken the others (confirmed, not a recovering Stigg).
  expect(report).toMatchObject({ customerId: 'nobody', featureId: TEMPLATES, value: 5, updateBehavior: 'DELTA', attempts: 2 });
  expect(report.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
  expect(report.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(error.message).toMatch(/nobody|not found/i);
  expect(store.pendingUsageCount).toBe(0);
});

test('transient failures are retried with backoff while Stigg is down, and delivered once it is back', async () => {
  const dropped: PendingUsage[] = [];
  const entitlements = make({ usage: { maxAgeMs: 1, retryBaseDelayMs: 20, flushIntervalMs: 60_000 } });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  const lease = await grant(entitlements, 'exhaust', 4);
  rig.emulator.setFaults({ failureRate: 1 });
  const requests = rig.emulator.stats().requests;
  lease.commit();
  const flushing = entitlements.flush();
  await until(() => rig.emulator.stats().requests - requests >= 3);
  // Older than maxAgeMs already, but a transient failure never gives a report up.
  expect(dropped).toEqual([]);
  rig.emulator.setFaults({ failureRate: 0 });
  await flushing;
  expect(applied('exhaust')).toBe(4);
  expect(dropped).toEqual([]);
});

test('never more than one bulk call in flight', async () => {
  let inFlight = 0;
  let most = 0;
  const client = around(rig, async (_input, send) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    try {
      return await send();
    } finally {
      inFlight -= 1;
    }
  });
  rig.emulator.setFaults({ latencyMs: 10 });
  const entitlements = make({ client, usage: { batchSize: 5, flushIntervalMs: 5 } });
  for (let wave = 0; wave < 10; wave += 1) {
    const leases = await Promise.all(Array.from({ length: 20 }, () => grant(entitlements, 'serial')));
    leases.forEach((lease) => lease.commit());
    void entitlements.flush();
  }
  await entitlements.flush();
  expect(applied('serial')).toBe(200);
  expect(most).toBe(1);
});

test('report() meters without a check: DELTA adds and SET replaces the cached usage at once', async () => {
  const entitlements = make({ usage: { flushIntervalMs: 60_000 } });
  await entitlements.check({ customerId: 'meter', featureId: CAMPAIGNS });
  void entitlements.report({ customerId: 'meter', featureId: CAMPAIGNS, value: 5 });
  expect(entitlements.check({ customerId: 'meter', featureId: CAMPAIGNS })).toMatchObject({ currentUsage: 5 });
  void entitlements.report({ customerId: 'meter', featureId: CAMPAIGNS, value: 2, updateBehavior: 'SET' });
  expect(entitlements.check({ customerId: 'meter', featureId: CAMPAIGNS })).toMatchObject({ currentUsage: 2 });
  await entitlements.flush();
  expect(entitlements.check({ customerId: 'meter', featureId: CAMPAIGNS })).toMatchObject({ currentUsage: 2 });
});

test('fault injection (30% failures, added latency): every call answered, no unit lost, none doubled', async () => {
  const dropped: PendingUsage[] = [];
  const entitlements = make({
    fallback: { [TEMPLATES]: { hasAccess: true } },
    cache: { ttlMs: 20 },
    usage: { batchSize: 20, flushIntervalMs: 10, retryBaseDelayMs: 2 },
    circuitBreaker: { failureThreshold: 1000 },
  });
  entitlements.on('usage:dropped', (report) => dropped.push(report));
  rig.emulator.setFaults({ failureRate: 0.3, latencyMs: 3 });
  let committed = 0;
  let answered = 0;
  const requests = Array.from({ length: 300 }, async (_, i) => {
    await sleep(i % 30);
    const units = (i % 3) + 1;
    const lease = await entitlements.acquire({ customerId: 'faulty', featureId: TEMPLATES, requestedUsage: units });
    answered += 1;
    if (!lease.decision.granted) return;
    if (i % 5 === 0) {
      lease.release();
      return;
    }
    lease.commit();
    committed += units;
  });
  await Promise.all(requests);
  await entitlements.flush();
  expect(answered).toBe(300);
  expect(dropped).toEqual([]);
  expect(rig.emulator.stats().faults.http5xx + rig.emulator.stats().faults.dropped).toBeGreaterThan(0);
  rig.emulator.setFaults({ failureRate: 0, latencyMs: 0 });
  expect(applied('faulty')).toBe(committed);
  expect(committed).toBeGreaterThan(300);
});

test('timers never hold the process open, except retry delays someone awaits through flush()', async () => {
  const entitlements = make({ usage: { flushIntervalMs: 5, retryBaseDelayMs: 200 } });
  const buffer = (entitlements as unknown as { ledger: { buffer: { timer: NodeJS.Timeout; sleepers: Map<NodeJS.Timeout, () => void> } } })
    .ledger.buffer;
  const refs = () => [...buffer.sleepers.keys()].map((sleeper) => sleeper.hasRef());
  expect(buffer.timer.hasRef()).toBe(false);
  const lease = await grant(entitlements, 'exhaust', 1);
  rig.emulator.setFaults({ failureRate: 1 });
  lease.commit();
  await until(() => buffer.sleepers.size > 0);
  expect(refs()).toEqual([false]);
  const flushed = entitlements.flush();
  expect(refs()).toEqual([true]);
  rig.emulator.setFaults({ failureRate: 0 });
  await flushed;
  expect(buffer.sleepers.size).toBe(0);
});

test('a steady stream makes one reportUsageBulk per 100 reports: the timer never splits a batch still forming', async () => {
  const entitlements = make({ usage: { flushIntervalMs: 1_000 } });
  const before = bulkCalls();
  const applied0 = applied('batch') ?? 0;
  const burstAt: number[] = [];
  for (let burst = 0; burst < 30; burst += 1) {
    burstAt.push(Date.now());
    for (let i = 0; i < 50; i += 1) void entitlements.report({ customerId: 'batch', featureId: TEMPLATES, value: 1 });
    await sleep(100);
  }
  await entitlements.flush();
  expect((applied('batch') ?? 0) - applied0).toBe(1_500);
  // Two bursts make a batch of 100. Where a machine too busy to keep the pace spread two bursts over
  // more than half a flush interval, the stream was not steady and the timer may rightly send 50
  // alone; a split shifts the pairing, so every gap counts (CI at load: 16 calls with no slow pair).
  let slow = 0;
  for (let burst = 0; burst + 1 < burstAt.length; burst += 1) {
    if ((burstAt[burst + 1] as number) - (burstAt[burst] as number) > 500) slow += 1;
  }
  expect(bulkCalls() - before).toBeGreaterThanOrEqual(15);
  expect(bulkCalls() - before).toBeLessThanOrEqual(15 + slow);
});
