import { MemoryStore } from '../../src/core/memory-store';
import type { CachedEntitlement, PendingUsage } from '../../src/core/types';

function value(currentUsage = 0): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 5,
    currentUsage,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: 0,
  };
}

let seq = 0;
function report(amount = 1, updateBehavior: 'DELTA' | 'SET' = 'DELTA'): PendingUsage {
  seq += 1;
  return {
    id: `r${seq}`,
    idempotencyKey: `k${seq}`,
    customerId: 'c',
    featureId: 'f',
    value: amount,
    updateBehavior,
    createdAt: new Date(0).toISOString(),
    attempts: 0,
  };
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('rejects a bad bound with a fix-it message', () => {
  expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/maxEntries\. Please choose a positive integer/);
});

test('entries expire after their ttl', () => {
  const time = clock();
  const store = new MemoryStore({ now: time.now });
  store.setEntitlement('k', 'c', value(), 1000);
  expect(store.getEntitlement('k')).toBeDefined();
  time.advance(1000);
  expect(store.getEntitlement('k')).toBeUndefined();
});

test('stays within maxEntries and forgets the customer index of evicted keys', () => {
  const store = new MemoryStore({ maxEntries: 100 });
  for (let i = 0; i < 10_000; i += 1) store.setEntitlement(`k${i}`, `c${i}`, value(), 60_000);
  expect(store.size).toBe(100);
  expect((store as unknown as { keysByCustomer: Map<string, unknown> }).keysByCustomer.size).toBe(100);
});

test('invalidateCustomer drops every key of that customer only', () => {
  const store = new MemoryStore();
  store.setEntitlement('a1', 'a', value(), 60_000);
  store.setEntitlement('a2', 'a', value(), 60_000);
  store.setEntitlement('b1', 'b', value(), 60_000);
  store.setEntitlement('a1', 'a', value(1), 60_000);
  store.invalidateCustomer('a');
  expect(store.getEntitlement('a1')).toBeUndefined();
  expect(store.getEntitlement('a2')).toBeUndefined();
  expect(store.getEntitlement('b1')).toBeDefined();
});

test('reserve is check-and-reserve against the limit, counting committed usage', () => {
  const store = new MemoryStore();
  store.setEntitlement('k', 'c', value(2), 60_000);
  const results = Array.from({ length: 5 }, () => store.reserve('k', 1, 5, 60_000));
  expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
  expect(results[3]).toEqual({ ok: false, currentUsage: 5 });
  expect(store.reservedUsage('k')).toBe(3);
  const first = results[0]?.reservationId as string;
  store.commit('k', first, report());
  expect(store.getEntitlement('k')?.currentUsage).toBe(3);
  expect(store.reservedUsage('k')).toBe(2);
  store.release('k', results[1]?.reservationId as string);
  expect(store.reservedUsage('k')).toBe(1);
  expect(store.reserve('k', 1, 5, 60_000).ok).toBe(true);
});

test('reservations expire so an abandoned request cannot hold units forever', () => {
  const time = clock();
  const store = new MemoryStore({ now: time.now });
  store.setEntitlement('k', 'c', value(0), 600_000);
  expect(store.reserve('k', 5, 5, 1000).ok).toBe(true);
  expect(store.reserve('k', 1, 5, 1000).ok).toBe(false);
  time.advance(1000);
  expect(store.reservedUsage('k')).toBe(0);
  expect(store.reserve('k', 5, 5, 1000).ok).toBe(true);
});

test('enqueueUsage applies DELTA and SET to the cached usage', () => {
  const store = new MemoryStore();
  store.setEntitlement('k', 'c', value(2), 60_000);
  store.enqueueUsage('k', report(3));
  expect(store.getEntitlement('k')?.currentUsage).toBe(5);
  store.enqueueUsage('k', report(1, 'SET'));
  expect(store.getEntitlement('k')?.currentUsage).toBe(1);
  expect(store.pendingUsageCount).toBe(2);
});

test('claimed reports are invisible until their lease ends, acked ones are gone', () => {
  const time = clock();
  const store = new MemoryStore({ now: time.now });
  const reports = [report(), report(), report()];
  for (const r of reports) store.enqueueUsage('k', r);
  const first = store.claimUsage(2, 1000);
  expect(first.map((r) => r.id)).toEqual([reports[0]?.id, reports[1]?.id]);
  expect(store.claimUsage(10, 1000).map((r) => r.id)).toEqual([reports[2]?.id]);
  expect(store.claimUsage(10, 1000)).toEqual([]);
  store.ackUsage([reports[0]?.id as string]);
  time.advance(1000);
  expect(store.claimUsage(10, 1000).map((r) => r.id)).toEqual([reports[1]?.id, reports[2]?.id]);
  first[1]!.attempts = 99;
  time.advance(1000);
  // Two leases ran out unacknowledged: two attempts; what the claimer did to its copy changes nothing.
  expect(store.claimUsage(10, 1000)[0]).toEqual({ ...reports[1], attempts: 2 });
  expect(reports[1]?.attempts).toBe(0);
});

test('a partial ack keeps the rest leased; an ack that comes after the lease ran out still removes the report', () => {
  const time = clock();
  const store = new MemoryStore({ now: time.now });
  const reports = [report(), report(), report()];
  for (const r of reports) store.enqueueUsage('k', r);
  const claimed = store.claimUsage(10, 1000);
  store.ackUsage([claimed[1]?.id as string]);
  expect(store.pendingUsageCount).toBe(2);
  time.advance(1000);
  expect(store.claimUsage(1, 1000).map((r) => r.id)).toEqual([reports[0]?.id]);
  store.ackUsage([reports[2]?.id as string]);
  expect(store.pendingUsageCount).toBe(1);
  store.ackUsage([reports[0]?.id as string]);
  expect(store.pendingUsageCount).toBe(0);
  time.advance(1000);
  expect(store.claimUsage(10, 1000)).toEqual([]);
});
