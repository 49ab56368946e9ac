import { createEntitlements } from '../../src/core/entitlements';
import { MemoryStore } from '../../src/core/memory-store';
import { Arrivals } from '../../src/core/arrivals';
import { IdTable } from '../../src/util/id-table';
import type { CachedEntitlement, Entitlements, EntitlementsUpstream, PendingUsage } from '../../src/core/types';
import { CAMPAIGNS, customer, startRig, usageKey, type Rig } from './helpers';

function entitlement(currentUsage = 0, usageLimit = 1_000): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit,
    currentUsage,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: 0,
  };
}

let seq = 0;
function report(value = 1): PendingUsage {
  seq += 1;
  return {
    id: `r${seq}`,
    idempotencyKey: `k${seq}`,
    customerId: 'c',
    featureId: 'f',
    value,
    updateBehavior: 'DELTA',
    createdAt: new Date(0).toISOString(),
    attempts: 0,
  };
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

// IdTable.delete's backward shift where a cluster wraps past the end of the table (64 slots): an entry may
// move into the hole only if the hole lies on its probe path. Mutants of `stays` (line 49: either branch's
// bounds, `home > hole`, `home <= next`) lost an entry (a later get() missed it) or left a gap before it.
test('the id table finds every entry after deletions in a cluster that wraps past its last slot', () => {
  const next = random(11);
  // Homes 61, 62, 63, 0 and 1 (id & 63), three ids each: clusters that run over the end into slot 0.
  const pool = [61, 62, 63, 64, 65].flatMap((home) => [home, home + 64 * 3, home + 64 * 7]);
  const wrong: string[] = [];
  for (let round = 0; round < 400; round += 1) {
    const table = new IdTable<number>();
    const model = new Map<number, number>();
    const order = [...pool].sort(() => next() - 0.5).slice(0, 4 + Math.floor(next() * (pool.length - 4)));
    for (const id of order) {
      table.set(id, id * 10);
      model.set(id, id * 10);
    }
    for (const id of [...order].sort(() => next() - 0.5)) {
      if (table.delete(id) !== id * 10) wrong.push(`round ${round}: delete ${id}`);
      model.delete(id);
      for (const [kept, value] of model) if (table.get(kept) !== value) wrong.push(`round ${round}: ${kept} lost after deleting ${id}`);
      if (table.get(id) !== undefined) wrong.push(`round ${round}: ${id} still found`);
    }
    if (table.size !== 0) wrong.push(`round ${round}: size ${table.size}`);
  }
  expect(wrong.slice(0, 5)).toEqual([]);
});

test('the id table answers like a Map through growth, collisions, deletions and ids past 2^32', () => {
  const next = random(7);
  const table = new IdTable<number>();
  const model = new Map<number, number>();
  const live: number[] = [];
  const wrong: string[] = [];
  // Ids clustered (collisions), sequential, and huge (ToInt32 wraps them).
  const pick = (): number => {
    const r = next();
    if (r < 0.4) return 1 + Math.floor(next() * 300);
    if (r < 0.7) return 2 ** 32 + 64 * Math.floor(next() * 300);
    return 2 ** 40 + Math.floor(next() * 5_000);
  };
  for (let step = 0; step < 60_000; step += 1) {
    const r = next();
    if (r < 0.5) {
      const id = pick();
      if (model.has(id)) continue;
      table.set(id, step);
      model.set(id, step);
      live.push(id);
    } else if (r < 0.8 && live.length > 0) {
      const at = Math.floor(next() * live.length);
      const id = live[at] as number;
      live[at] = live[live.length - 1] as number;
      live.pop();
      if (table.delete(id) !== model.get(id)) wrong.push(`delete ${id} at step ${step}`);
      model.delete(id);
    } else {
      const id = pick();
      if (table.get(id) !== model.get(id)) wrong.push(`get ${id} at step ${step}`);
      if (!model.has(id) && table.delete(id) !== undefined) wrong.push(`delete of absent ${id} at step ${step}`);
    }
    if (step % 5_000 === 0) {
      for (const [id, value] of model) if (table.get(id) !== value) wrong.push(`lost ${id} by step ${step}`);
      expect(wrong).toEqual([]);
      expect(table.size).toBe(model.size);
      expect(table.all().sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
    }
  }
  for (const bogus of [0, -1, Number.NaN, 1.5]) {
    expect(table.get(bogus)).toBeUndefined();
    expect(table.delete(bogus)).toBeUndefined();
  }
  expect(table.size).toBe(model.size);
  for (const [id, value] of model) expect(table.get(id)).toBe(value);
  for (const id of live) table.delete(id);
  expect(table.size).toBe(0);
  expect(table.all()).toEqual([]);
});

test('reservations of many keys, expiring, renewed, released and committed in any order, hold exactly what a model holds', () => {
  const time = clock();
  const store = new MemoryStore({ now: time.now, maxEntries: 50 });
  const next = random(11);
  const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
  for (const key of keys) store.setEntitlement(key, `customer-${key}`, entitlement(0, 1e9), 3_600_000);
  const held = new Map<string, { key: string; amount: number; expiresAt: number }>();
  const wrong: string[] = [];
  const heldBy = (key: string) =>
    [...held.values()].filter((r) => r.key === key && r.expiresAt > time.now()).reduce((sum, r) => sum + r.amount, 0);
  for (let step = 0; step < 5_000; step += 1) {
    const r = next();
    const key = keys[Math.floor(next() * keys.length)] as string;
    if (r < 0.4) {
      const amount = 1 + Math.floor(next() * 3);
      const ttl = 10 + Math.floor(next() * 200);
      const result = store.reserve(key, amount, 1e9, ttl);
      if (!result.ok) wrong.push(`refused at step ${step}`);
      held.set(result.reservationId as string, { key, amount, expiresAt: time.now() + ttl });
    } else if (r < 0.6 && held.size > 0) {
      const [id, reservation] = [...held.entries()][Math.floor(next() * held.size)] as [
        string,
        { key: string; amount: number; expiresAt: number },
      ];
      const alive = reservation.expiresAt > time.now();
      if (store.renewReservation(reservation.key, id, 100) !== alive) wrong.push(`renew of ${id} at step ${step}`);
      if (alive) reservation.expiresAt = Math.max(reservation.expiresAt, time.now() + 100);
      else held.delete(id);
    } else if (r < 0.8 && held.size > 0) {
      const [id, reservation] = [...held.entries()][Math.floor(next() * held.size)] as [
        string,
        { key: string; amount: number; expiresAt: number },
      ];
      // The wrong key never releases someone else's reservation.
      store.release(`${reservation.key}-other`, id);
      if (next() < 0.5) store.release(reservation.key, id);
      else store.commit(reservation.key, id, report(0));
      held.delete(id);
    } else {
      time.advance(Math.floor(next() * 40));
    }
    if (store.reservedUsage(key) !== heldBy(key))
      wrong.push(`${key} at step ${step}: ${store.reservedUsage(key)} held, ${heldBy(key)} expected`);
  }
  expect(wrong).toEqual([]);
  for (const key of keys) expect(store.reservedUsage(key)).toBe(heldBy(key));
  // Ids the store never handed out release nothing.
  for (const bogus of ['0', '', 'abc', '-1']) for (const key of keys) store.release(key, bogus);
  for (const key of keys) expect(store.reservedUsage(key)).toBe(heldBy(key));
  const kept = store.reserve('key-0', 5, 1e9, 60_000).reservationId as string;
  const before = store.reservedUsage('key-0');
  for (const alias of [` ${kept}`, `${kept}.0`, `0${kept}`, `${Number(kept).toExponential()}`]) {
    store.release('key-0', alias);
    expect(store.renewReservation('key-0', alias, 1_000)).toBe(false);
  }
  expect(store.reservedUsage('key-0')).toBe(before);
  store.release('key-0', kept);
  expect(store.reservedUsage('key-0')).toBe(before - 5);
});

test('a report Stigg may already have (its lease ran out) is never merged, also after a late ack of its neighbour', () => {
  const time = clock();
  const store = new MemoryStore({ now: time.now, maxPendingUsage: 5 });
  const [a, b, c] = [report(1), report(2), report(4)];
  for (const r of [a, b, c]) store.enqueueUsage('k', r);
  expect(store.claimUsage(3, 1_000).map((r) => r.id)).toEqual([a.id, b.id, c.id]);
  time.advance(1_000);
  // Its answer was lost: a, b and c go back to the queue ahead of the new one, and a is sent again.
  store.enqueueUsage('k', report(8));
  expect(store.claimUsage(1, 1_000).map((r) => r.id)).toEqual([a.id]);
  store.ackUsage([b.id]); // b's first answer arrives after all
  store.enqueueUsage('k', report(16));
  store.enqueueUsage('k', report(32));
  store.enqueueUsage('k', report(64)); // at the bound: the untried 8, 16 and 32 are merged; c is not
  const claimed = store.claimUsage(10, 1_000);
  expect(claimed.map((r) => r.value)).toEqual([4, 56, 64]);
  expect(claimed[0]?.idempotencyKey).toBe(c.idempotencyKey);
  store.ackUsage([a.id, ...claimed.map((r) => r.id)]);
  expect(store.pendingUsageCount).toBe(0);
});

describe('over HTTP against the emulator', () => {
  const CUSTOMERS = Array.from({ length: 50 }, (_, i) => `metered-${i}`);
  let rig: Rig;
  const applied = (customerId: string) => rig.emulator.stats().usage[usageKey(customerId, CAMPAIGNS)] ?? 0;
  const total = () => CUSTOMERS.reduce((sum, id) => sum + applied(id), 0);

  const made: Entitlements[] = [];
  const make = (client: EntitlementsUpstream, usage: { flushIntervalMs?: number; retryBaseDelayMs?: number } = {}): Entitlements => {
    const entitlements = createEntitlements({ client, usage });
    made.push(entitlements);
    return entitlements;
  };

  beforeAll(async () => {
    rig = await startRig(
      CUSTOMERS.map((id) => customer(id, 'plan-revvenu-growth')),
      {},
      { maxRetries: 0, timeoutMs: 2_000 },
    );
  });
  afterAll(async () => {
    await Promise.all(made.map((entitlements) => entitlements.close()));
    await rig.stop();
  });

  async function commits(entitlements: Entitlements, count: number, first = 0): Promise<void> {
    for (let i = first; i < first + count; i += 1) {
      const lease = await entitlements.acquire({
        customerId: CUSTOMERS[i % CUSTOMERS.length] as string,
        featureId: CAMPAIGNS,
        requestedUsage: 1,
      });
      expect(lease.decision.granted).toBe(true);
      lease.commit();
    }
  }

  test('close() right after commits delivers every one of them exactly once', async () => {
    const before = total();
    const entitlements = rig.make({ usage: { flushIntervalMs: 60_000 } });
    await commits(entitlements, 250);
    await entitlements.close();
    expect(total() - before).toBe(250);
  });

  test('responses lost in the middle of a stream: retried with the same keys while batches keep forming, every unit counted once', async () => {
    const before = total();
    const bulk = rig.client.reportUsageBulk.bind(rig.client);
    const keys: string[][] = [];
    let calls = 0;
    const entitlements = make(
      {
        getEntitlement: (query) => rig.client.getEntitlement(query),
        async reportUsageBulk(input) {
          keys.push(input.usages.map((usage) => usage.idempotencyKey as string));
          calls += 1;
          const results = await bulk(input);
          if (calls % 2 === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          return results;
        },
      },
      { flushIntervalMs: 200, retryBaseDelayMs: 5 },
    );
    for (let step = 0; step < 10; step += 1) {
      await commits(entitlements, 37, step * 37);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await entitlements.close();
    expect(total() - before).toBe(370);
    const sent = new Set(keys.flat());
    expect(sent.size).toBe(370);
    for (const key of sent) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Every lost call was sent again with exactly the same keys.
    for (let i = 0; i + 1 < keys.length; i += 2) expect(keys[i + 1]).toEqual(keys[i]);
  });

  test('two engines in one process never share an idempotency key', async () => {
    const seen: string[] = [];
    const record: EntitlementsUpstream = {
      getEntitlement: (query) => rig.client.getEntitlement(query),
      reportUsageBulk: async (input) => {
        for (const usage of input.usages) seen.push(usage.idempotencyKey as string);
        return rig.client.reportUsageBulk(input);
      },
    };
    const one = make(record);
    const two = make(record);
    await Promise.all([commits(one, 100), commits(two, 100)]);
    await Promise.all([one.close(), two.close()]);
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
  });
});

test('the arrival times of unclaimed reports stay bounded through an outage, and a claim takes the oldest first', () => {
  const arrivals = new Arrivals();
  for (let ms = 0; ms < 100_000; ms += 1) arrivals.add(1_000 + ms);
  expect(arrivals.entries).toBeLessThanOrEqual(4_096);
  expect(arrivals.oldest).toBe(1_000);
  arrivals.take(4_095);
  // Everything past the bound counts as arrived with the newest entry: older than it is, so sent sooner.
  expect(arrivals.oldest).toBe(1_000 + 4_095);
  arrivals.take(100_000 - 4_096);
  expect(arrivals.oldest).toBe(1_000 + 4_095);
  arrivals.take(1);
  expect(arrivals.oldest).toBeUndefined();
  for (let i = 0; i < 3; i += 1) arrivals.add(5);
  arrivals.add(6);
  arrivals.take(2);
  expect(arrivals.oldest).toBe(5);
  arrivals.take(1);
  expect(arrivals.oldest).toBe(6);
});
