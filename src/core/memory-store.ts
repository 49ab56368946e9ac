import { LRUCache } from 'lru-cache';
import { steadyClock } from '../util/clock';
import { exceeds } from './decide';
import { THREE_DIGITS } from '../util/digits';
import { MemoryOutbox } from './memory-outbox';
import { IdTable } from '../util/id-table';
import type { CachedEntitlement, PendingUsage, ReserveResult, Store, StoreHealth } from './types';

export { OutboxFullError } from './memory-outbox';

export interface MemoryStoreOptions {
  /** Most (customer, resource, feature) entitlements kept; least recently used go first. Default 10,000. */
  maxEntries?: number | undefined;
  /**
   * Clock (ms since epoch) for the TTLs of entries, reservations and claimed reports; inject one in
   * tests. Default: a monotonic clock that steps of the wall clock do not move (./clock steadyClock),
   * read at most once per millisecond.
   */
  now?: (() => number) | undefined;
  /**
   * Most usage reports held for delivery (default 100,000, ~60 MB). At the bound, reports not yet
   * sent are compacted first (DELTAs of one customer, feature and resource add up into one); a
   * report that still does not fit is refused with an OutboxFullError.
   */
  maxPendingUsage?: number | undefined;
}

interface Entry {
  readonly value: CachedEntitlement;
  readonly customerId: string;
  readonly expiresAt: number;
}

interface Reservation {
  readonly id: number;
  /** The id as handed out: only that exact string releases it (Number(' 1') is 1 too). */
  readonly reservationId: string;
  readonly holder: KeyReservations;
  readonly amount: number;
  expiresAt: number;
}

interface KeyReservations {
  readonly key: string;
  total: number;
  count: number;
  nextExpiry: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * The default store: everything in this process, every method synchronous. Entitlements live in a
 * bounded LRU; reservations expire so a crashed request cannot hold units forever; the outbox is
 * lost with the process (use the Redis store when that matters).
 */
export class MemoryStore implements Store {
  readonly name = 'memory';
  private readonly now: () => number;
  private readonly entries: LRUCache<string, Entry>;
  /** Most customers have one cached key: a string until a second one comes. */
  private readonly keysByCustomer = new Map<string, string | Set<string>>();
  /** Units held per key; the reservations themselves are in `byId`, by their numeric id. */
  private readonly reservations = new Map<string, KeyReservations>();
  private readonly byId = new IdTable<Reservation>();
  private readonly maxEntries: number;
  private readonly outbox: MemoryOutbox;
  /** Reservation ids are reservationHigh * 1000 + reservationLow, written as the two strings joined (0 is never one). */
  private reservationHigh = 0;
  private reservationHighText = '0';
  private reservationLow = 1;
  private lastSweep: number;

  constructor(options: MemoryStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`${String(options.maxEntries)} is not a valid value for maxEntries. Please choose a positive integer.`);
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('now must be a function returning milliseconds since the epoch (like Date.now).');
    }
    const maxPendingUsage = options.maxPendingUsage ?? 100_000;
    if (!Number.isSafeInteger(maxPendingUsage) || maxPendingUsage < 1) {
      throw new TypeError(`${String(options.maxPendingUsage)} is not a valid value for maxPendingUsage. Please choose a positive integer.`);
    }
    this.now = options.now ?? steadyClock();
    this.maxEntries = maxEntries;
    this.outbox = new MemoryOutbox(maxPendingUsage);
    this.lastSweep = this.now();
    const keysByCustomer = this.keysByCustomer;
    this.entries = new LRUCache<string, Entry>({
      max: maxEntries,
      dispose: function forgetKey(entry, key, reason) {
        if (reason === 'set') return;
        const keys = keysByCustomer.get(entry.customerId);
        if (keys === undefined) return;
        if (typeof keys === 'string') {
          if (keys === key) keysByCustomer.delete(entry.customerId);
          return;
        }
        keys.delete(key);
        if (keys.size === 0) keysByCustomer.delete(entry.customerId);
      },
    });
  }

  /** Entitlements currently cached. */
  get size(): number {
    return this.entries.size;
  }

  /** Reports in the outbox, claimed or not. */
  get pendingUsageCount(): number {
    return this.outbox.count;
  }

  /** Always reachable; the whole outbox is here. */
  health(): StoreHealth {
    return { reachable: true, error: null, outbox: { depth: this.outbox.count, oldestCreatedAt: this.outbox.oldestCreatedAt } };
  }

  getEntitlement(key: string): CachedEntitlement | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  setEntitlement(key: string, customerId: string, value: CachedEntitlement, ttlMs: number): void {
    this.entries.set(key, { value, customerId, expiresAt: this.now() + ttlMs });
    const keys = this.keysByCustomer.get(customerId);
    if (keys === undefined) this.keysByCustomer.set(customerId, key);
    else if (typeof keys !== 'string') keys.add(key);
    else if (keys !== key) this.keysByCustomer.set(customerId, new Set([keys, key]));
  }

  invalidateCustomer(customerId: string): void {
    const keys = this.keysByCustomer.get(customerId);
    if (keys === undefined) return;
    this.keysByCustomer.delete(customerId);
    if (typeof keys === 'string') this.entries.delete(keys);
    else for (const key of keys) this.entries.delete(key);
  }

  reservedUsage(key: string): number {
    const held = this.reservations.get(key);
    if (held === undefined) return 0;
    if (held.nextExpiry <= this.now()) this.expireReservations();
    return held.total;
  }

  reserve(key: string, amount: number, limit: number, ttlMs: number, cachedUsage?: number): ReserveResult {
    const now = this.now();
    let held = this.reservations.get(key);
    if (held !== undefined && held.nextExpiry <= now) this.expireReservations();
    // An entry evicted since the caller read it (its siblings of one set read were written meanwhile)
    // is not usage 0: the caller's reading stands in for it.
    const used = this.entries.peek(key)?.value.currentUsage ?? cachedUsage ?? 0;
    const current = used + (held === undefined ? 0 : held.total);
    if (exceeds(current, amount, limit)) return { ok: false, currentUsage: current };
    if (held === undefined || this.reservations.get(key) !== held) {
      held = { key, total: 0, count: 0, nextExpiry: Infinity };
      this.reservations.set(key, held);
    }
    if (this.reservationLow === 1_000) {
      this.reservationHigh += 1;
      this.reservationHighText = String(this.reservationHigh);
      this.reservationLow = 0;
    }
    const id = this.reservationHigh * 1_000 + this.reservationLow;
    const reservationId = this.reservationHighText + (THREE_DIGITS[this.reservationLow] as string);
    this.reservationLow += 1;
    const expiresAt = now + ttlMs;
    this.byId.set(id, { id, reservationId, holder: held, amount, expiresAt });
    held.total += amount;
    held.count += 1;
    if (expiresAt < held.nextExpiry) held.nextExpiry = expiresAt;
    return { ok: true, currentUsage: current + amount, reservationId };
  }

  release(key: string, reservationId: string): void {
    this.dropReservation(key, reservationId);
  }

  commit(key: string, reservationId: string, report: PendingUsage): void {
    this.dropReservation(key, reservationId);
    this.enqueueUsage(key, report);
  }

  /** A full outbox (after compaction) refuses reports: no metered request is granted until it drains. */
  usageRefusal(_key: string, unsettled = 0): Error | undefined {
    return this.outbox.refusal(unsettled);
  }

  /** The units count toward the cached usage even when the outbox refuses the report: the work was done. */
  enqueueUsage(key: string, report: PendingUsage, held = 0): void {
    const value = this.entries.peek(key)?.value;
    if (value !== undefined) {
      value.currentUsage = report.updateBehavior === 'SET' ? report.value : value.currentUsage + report.value;
    }
    this.outbox.enqueue(report, held);
  }

  /** Everything in the outbox, claimed or not, removed: what close() hands to the app when Stigg did not take it. */
  takePendingUsage(): PendingUsage[] {
    return this.outbox.take();
  }

  /** Extends an unexpired reservation (a request still at work); false when it is gone. */
  renewReservation(key: string, reservationId: string, ttlMs: number): boolean {
    const held = this.reservations.get(key);
    if (held === undefined) return false;
    if (held.nextExpiry <= this.now()) this.expireReservations();
    const reservation = this.reservation(key, reservationId);
    if (reservation === undefined) return false;
    reservation.expiresAt = Math.max(reservation.expiresAt, this.now() + ttlMs);
    return true;
  }

  claimUsage(max: number, leaseMs: number): PendingUsage[] {
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweepReservations(now);
    return this.outbox.claim(max, leaseMs, now);
  }

  ackUsage(ids: string[]): void {
    this.outbox.ack(ids);
  }

  close(): Promise<void> {
    this.entries.clear();
    this.keysByCustomer.clear();
    this.reservations.clear();
    this.byId.clear();
    return Promise.resolve();
  }

  /** The reservation `reservationId` of `key`, if it is still held. */
  private reservation(key: string, reservationId: string): Reservation | undefined {
    const reservation = this.byId.get(Number(reservationId));
    return reservation !== undefined && reservation.reservationId === reservationId && reservation.holder.key === key
      ? reservation
      : undefined;
  }

  private dropReservation(key: string, reservationId: string): void {
    const reservation = this.reservation(key, reservationId);
    if (reservation === undefined) return;
    this.byId.delete(reservation.id);
    this.released(reservation);
  }

  private released(reservation: Reservation): void {
    const held = reservation.holder;
    held.count -= 1;
    if (held.count > 0) {
      held.total -= reservation.amount;
      return;
    }
    held.total = 0;
    held.nextExpiry = Infinity;
    // An empty holder is kept for the next request on this key (the sweep removes idle ones),
    // unless that would let the map grow past the cache bound.
    if (this.reservations.size > this.maxEntries && this.reservations.get(held.key) === held) this.reservations.delete(held.key);
  }

  /** Drops every expired reservation (of any key) and sets each key's next expiry again. Rare: only crashed or long requests expire. */
  private expireReservations(): void {
    const now = this.now();
    for (const held of this.reservations.values()) held.nextExpiry = Infinity;
    for (const reservation of this.byId.all()) {
      if (reservation.expiresAt <= now) {
        this.byId.delete(reservation.id);
        this.released(reservation);
      } else if (reservation.expiresAt < reservation.holder.nextExpiry) {
        reservation.holder.nextExpiry = reservation.expiresAt;
      }
    }
  }

  private sweepReservations(now: number): void {
    this.lastSweep = now;
    this.expireReservations();
    for (const [key, held] of this.reservations) if (held.count === 0) this.reservations.delete(key);
  }
}
