import { randomUUID } from 'node:crypto';
import type { CachedEntitlement, PendingUsage, Store } from '../../src/core/types';

/**
 * The Store contract as the engine relies on it, one table that every store passes: the memory store
 * (test/store/memory-store-contract.test.ts) and the Redis store (test/redis/store-contract.test.ts).
 * A third store (docs/stores.md) runs it the same way. What is left to each store (Redis refuses a
 * reservation for a key it never cached; only the memory store counts its outbox in health()) stays
 * in that store's own suite, and so do the optional members only one store has (releaseUsage,
 * takeFallback, acquireFetchLock, usageMark: Redis's, for a fleet). reservedUsage and renewReservation
 * are optional in the type, and both stores have them: the table requires them.
 */
export interface ContractStore {
  store: Store;
  /** Lets `ms` pass for the store's clock: a fake clock moves, a real one is waited for. */
  advance(ms: number): Promise<void>;
  /** A second handle on the same data, as another process has (the same store when it is per process). */
  peer(): Store;
  close(): Promise<void>;
}

/** A TTL no test outlives, for what must still be there when it is read (no race with a busy machine). */
const LONG = 600_000;
/** A TTL that `advance(EXPIRED)` always runs out. */
const SHORT = 40;
const EXPIRED = 150;
/** A first TTL a renewal surely comes within, and that `advance(RENEWED + EXPIRED)` runs out. */
const RENEWED = 5_000;

export function entitlement(overrides: Partial<CachedEntitlement> = {}): CachedEntitlement {
  return {
    accessDeniedReason: null,
    featureType: 'NUMBER',
    meterType: 'Incremental',
    hasUnlimitedUsage: false,
    usageLimit: 10,
    currentUsage: 0,
    usagePeriodEnd: null,
    resetPeriod: null,
    fetchedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function pending(value: number, overrides: Partial<PendingUsage> = {}): PendingUsage {
  const id = randomUUID();
  return {
    id,
    idempotencyKey: `idem-${id}`,
    customerId: 'customer-1',
    featureId: 'feature-01-templates',
    value,
    createdAt: new Date().toISOString(),
    attempts: 0,
    ...overrides,
  };
}

const KEY = 'customer-1||feature-01-templates';
const OTHER_FEATURE = 'customer-1||feature-02-seats';
const OTHER_CUSTOMER = 'customer-2||feature-01-templates';

async function usageOf(store: Store, key: string): Promise<number | undefined> {
  return (await store.getEntitlement(key))?.currentUsage;
}

/** The contract's optional members every store here has (the engine uses them when present). */
async function heldOf(store: Store, key: string): Promise<number> {
  if (store.reservedUsage === undefined) throw new Error(`${store.name} has no reservedUsage()`);
  return store.reservedUsage(key);
}

async function renew(store: Store, key: string, reservationId: string, ttlMs: number): Promise<boolean> {
  if (store.renewReservation === undefined) throw new Error(`${store.name} has no renewReservation()`);
  return store.renewReservation(key, reservationId, ttlMs);
}

async function reserved(store: Store, key: string, amount: number, limit = 10): Promise<string> {
  const result = await store.reserve(key, amount, limit, LONG);
  if (!result.ok || result.reservationId === undefined) throw new Error(`reserve(${amount}) was refused: ${JSON.stringify(result)}`);
  return result.reservationId;
}

async function claimAll(store: Store, leaseMs = LONG): Promise<PendingUsage[]> {
  return store.claimUsage(1_000, leaseMs);
}

/** Every member a promise: the memory store answers synchronously, Redis with promises (MaybePromise). */
function promising(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => Promise.resolve((value as (...inner: unknown[]) => unknown).apply(target, args));
    },
  });
}

export function describeStoreContract(name: string, make: () => Promise<ContractStore> | ContractStore): void {
  describe(`Store contract: ${name}`, () => {
    let subject: ContractStore;
    let store: Store;

    beforeEach(async () => {
      subject = await make();
      store = promising(subject.store);
      await store.setEntitlement(KEY, 'customer-1', entitlement(), LONG);
    });

    afterEach(async () => {
      await subject.close();
    });

    describe('cache', () => {
      it('reads back what setEntitlement wrote', async () => {
        const value = entitlement({ usageLimit: 7, currentUsage: 3, resetPeriod: 'MONTH', usagePeriodEnd: '2027-01-01T00:00:00.000Z' });
        await store.setEntitlement(OTHER_FEATURE, 'customer-1', value, LONG);
        await expect(store.getEntitlement(OTHER_FEATURE)).resolves.toMatchObject({
          usageLimit: 7,
          currentUsage: 3,
          resetPeriod: 'MONTH',
          usagePeriodEnd: '2027-01-01T00:00:00.000Z',
          featureType: 'NUMBER',
          hasUnlimitedUsage: false,
          accessDeniedReason: null,
        });
      });

      it('forgets an entry once its TTL ran out', async () => {
        await store.setEntitlement(OTHER_FEATURE, 'customer-1', entitlement(), SHORT);
        await subject.advance(EXPIRED);
        await expect(store.getEntitlement(OTHER_FEATURE)).resolves.toBeUndefined();
        await expect(store.getEntitlement(KEY)).resolves.toBeDefined();
      });

      it("invalidateCustomer drops every key of that customer and no other customer's", async () => {
        await store.setEntitlement(OTHER_FEATURE, 'customer-1', entitlement(), LONG);
        await store.setEntitlement(OTHER_CUSTOMER, 'customer-2', entitlement(), LONG);
        await store.invalidateCustomer('customer-1');
        await expect(store.getEntitlement(KEY)).resolves.toBeUndefined();
        await expect(store.getEntitlement(OTHER_FEATURE)).resolves.toBeUndefined();
        await expect(store.getEntitlement(OTHER_CUSTOMER)).resolves.toBeDefined();
      });

      it('a write replaces the entry, usage included', async () => {
        await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 4, usageLimit: 20 }), LONG);
        await expect(store.getEntitlement(KEY)).resolves.toMatchObject({ currentUsage: 4, usageLimit: 20 });
      });
    });

    describe('reservations', () => {
      it('grants while usage + reserved + amount stays within the limit, the limit itself included', async () => {
        await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 4 }), LONG);
        await expect(store.reserve(KEY, 3, 10, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 7 });
        await expect(store.reserve(KEY, 3, 10, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
        await expect(store.reserve(KEY, 1, 10, LONG)).resolves.toEqual({ ok: false, currentUsage: 10 });
        await expect(heldOf(store, KEY)).resolves.toBe(6);
      });

      it('refuses what would pass the limit without holding anything', async () => {
        await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 8 }), LONG);
        await expect(store.reserve(KEY, 3, 10, LONG)).resolves.toEqual({ ok: false, currentUsage: 8 });
        await expect(heldOf(store, KEY)).resolves.toBe(0);
        await expect(store.reserve(KEY, 2, 10, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
      });

      it('never refuses with an Infinity limit (a soft limit), and holds the units', async () => {
        await expect(store.reserve(KEY, 1_000, Infinity, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 1_000 });
        await expect(store.reserve(KEY, 1, 10, LONG)).resolves.toMatchObject({ ok: false });
      });

      it('a 0-unit reservation fits at the limit and is refused past it', async () => {
        await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 10 }), LONG);
        await expect(store.reserve(KEY, 0, 10, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
        await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 11 }), LONG);
        await expect(store.reserve(KEY, 0, 10, LONG)).resolves.toMatchObject({ ok: false, currentUsage: 11 });
      });

      it('keeps keys apart', async () => {
        await store.setEntitlement(OTHER_FEATURE, 'customer-1', entitlement(), LONG);
        await reserved(store, KEY, 10);
        await expect(store.reserve(OTHER_FEATURE, 10, 10, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
      });

      it('release gives the units back, once; an unknown id or another key changes nothing', async () => {
        const first = await reserved(store, KEY, 6);
        const second = await reserved(store, KEY, 4);
        await store.release(KEY, first);
        await store.release(KEY, first);
        await store.release(KEY, 'no-such-reservation');
        await store.release(OTHER_FEATURE, second);
        await expect(heldOf(store, KEY)).resolves.toBe(4);
        await expect(store.reserve(KEY, 7, 10, LONG)).resolves.toMatchObject({ ok: false, currentUsage: 4 });
        await expect(store.reserve(KEY, 6, 10, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
      });

      it('an expired reservation gives its units back by itself', async () => {
        await store.reserve(KEY, 10, 10, SHORT);
        const kept = await reserved(store, KEY, 0);
        await subject.advance(EXPIRED);
        await expect(heldOf(store, KEY)).resolves.toBe(0);
        await expect(store.reserve(KEY, 10, 10, LONG)).resolves.toMatchObject({ ok: true, currentUsage: 10 });
        await store.release(KEY, kept);
      });

      it('renewReservation extends a held reservation and answers false for one that expired', async () => {
        // Renewed well within its first TTL (a busy machine must not let it lapse first), then kept past it.
        const renewed = await store.reserve(KEY, 4, 10, RENEWED);
        const lapsed = await store.reserve(KEY, 3, 10, SHORT);
        await expect(renew(store, KEY, renewed.reservationId as string, LONG)).resolves.toBe(true);
        await subject.advance(RENEWED + EXPIRED);
        await expect(renew(store, KEY, lapsed.reservationId as string, LONG)).resolves.toBe(false);
        await expect(renew(store, KEY, 'no-such-reservation', LONG)).resolves.toBe(false);
        await expect(heldOf(store, KEY)).resolves.toBe(4);
      });

      it('grants exactly the remaining units to concurrent callers (another process included)', async () => {
        await store.setEntitlement(KEY, 'customer-1', entitlement({ currentUsage: 7 }), LONG);
        const peer = subject.peer();
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : promising(peer)).reserve(KEY, 1, 10, LONG)),
        );
        expect(results.filter((result) => result.ok)).toHaveLength(3);
        expect(new Set(results.map((result) => result.reservationId).filter(Boolean)).size).toBe(3);
      });
    });

    describe('commit and the outbox', () => {
      it('commit turns the reservation into usage and queues its report, in one step', async () => {
        const id = await reserved(store, KEY, 5);
        const report = pending(5);
        await store.commit(KEY, id, report);
        await expect(heldOf(store, KEY)).resolves.toBe(0);
        await expect(usageOf(store, KEY)).resolves.toBe(5);
        await expect(store.reserve(KEY, 6, 10, LONG)).resolves.toMatchObject({ ok: false, currentUsage: 5 });
        expect((await claimAll(store)).map((claimed) => claimed.id)).toEqual([report.id]);
      });

      it('commit records the usage even when the reservation expired first (the work was done)', async () => {
        const expired = await store.reserve(KEY, 3, 10, SHORT);
        await subject.advance(EXPIRED);
        await store.commit(KEY, expired.reservationId as string, pending(3));
        await expect(usageOf(store, KEY)).resolves.toBe(3);
        expect(await claimAll(store)).toHaveLength(1);
      });

      it('enqueueUsage applies a DELTA (adds) and a SET (replaces) to the cached usage and queues both', async () => {
        await store.enqueueUsage(KEY, pending(2));
        await expect(usageOf(store, KEY)).resolves.toBe(2);
        await store.enqueueUsage(KEY, pending(6, { updateBehavior: 'SET' }));
        await expect(usageOf(store, KEY)).resolves.toBe(6);
        const claimed = await claimAll(store);
        expect(claimed.map((report) => [report.value, report.updateBehavior ?? 'DELTA'])).toEqual([
          [2, 'DELTA'],
          [6, 'SET'],
        ]);
      });

      it('a report is delivered as it was queued, idempotency key and all', async () => {
        const report = pending(3, { customerId: 'customer-1', featureId: 'feature-01-templates', resourceId: 'site-1' });
        await store.enqueueUsage(KEY, report);
        expect(await claimAll(store)).toEqual([report]);
      });

      it('claims in order, at most `max`; a claimed report is not claimed again while its lease runs', async () => {
        const reports = [pending(1), pending(2), pending(3)];
        for (const report of reports) await store.enqueueUsage(KEY, report);
        const first = await store.claimUsage(2, LONG);
        expect(first.map((report) => report.id)).toEqual([reports[0]?.id, reports[1]?.id]);
        expect((await promising(subject.peer()).claimUsage(10, LONG)).map((report) => report.id)).toEqual([reports[2]?.id]);
        await expect(store.claimUsage(10, LONG)).resolves.toEqual([]);
      });

      it('a report whose lease ran out unacknowledged is claimed again, once more attempted', async () => {
        const report = pending(4);
        await store.enqueueUsage(KEY, report);
        await store.claimUsage(10, SHORT);
        await subject.advance(EXPIRED);
        await expect(promising(subject.peer()).claimUsage(10, LONG)).resolves.toEqual([{ ...report, attempts: 1 }]);
      });

      it('an acknowledged report is gone for good, its lease run out or not; unknown ids are ignored', async () => {
        const reports = [pending(1), pending(2)];
        for (const report of reports) await store.enqueueUsage(KEY, report);
        await store.claimUsage(10, SHORT);
        await store.ackUsage([reports[0]?.id as string, 'unknown-id']);
        await subject.advance(EXPIRED);
        await store.ackUsage([reports[1]?.id as string]);
        await expect(store.claimUsage(10, LONG)).resolves.toEqual([]);
        await expect(usageOf(store, KEY)).resolves.toBe(3);
      });
    });
  });
}
