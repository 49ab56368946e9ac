import { LRUCache } from 'lru-cache';
import { coarseClock } from './clock';
import type { CachedEntitlement, PendingUsage, ReserveResult, Store } from './types';

export interface MemoryStoreOptions {
  /** Most (customer, resource, feature) entitlements kept; least recently used go first. Default 10,000. */
  maxEntries?: number;
  /** Clock (ms since epoch); inject one in tests. Default: Date.now, read at most once per millisecond. */
  now?: () => number;
}

interface Entry {
  readonly value: CachedEntitlement;
  readonly customerId: string;
  readonly expiresAt: number;
}

interface Reservation {
  readonly amount: number;
  readonly expiresAt: number;
}

interface KeyReservations {
  total: number;
  nextExpiry: number;
  readonly byId: Map<string, Reservation>;
}

interface OutboxItem {
  readonly report: PendingUsage;
  leasedUntil: number;
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
  private readonly reservations = new Map<string, KeyReservations>();
  private readonly outbox = new Map<string, OutboxItem>();
  private reservationSeq = 0;
  private lastSweep: number;

  constructor(options: MemoryStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`${String(options.maxEntries)} is not a valid value for maxEntries. Please choose a positive integer.`);
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('now must be a function returning milliseconds since the epoch (like Date.now).');
    }
    this.now = options.now ?? coarseClock();
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
    return this.outbox.size;
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
    if (held.nextExpiry <= this.now()) this.expireReservations(key, held);
    return held.total;
  }

  reserve(key: string, amount: number, limit: number, ttlMs: number): ReserveResult {
    const used = this.entries.peek(key)?.value.currentUsage ?? 0;
    const current = used + this.reservedUsage(key);
    if (current + amount > limit) return { ok: false, currentUsage: current };
    const now = this.now();
    let held = this.reservations.get(key);
    if (held === undefined) {
      held = { total: 0, nextExpiry: Infinity, byId: new Map() };
      this.reservations.set(key, held);
    }
    const reservationId = String(++this.reservationSeq);
    const expiresAt = now + ttlMs;
    held.byId.set(reservationId, { amount, expiresAt });
    held.total += amount;
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

  enqueueUsage(key: string, report: PendingUsage): void {
    const value = this.entries.peek(key)?.value;
    if (value !== undefined) {
      value.currentUsage = report.updateBehavior === 'SET' ? report.value : value.currentUsage + report.value;
    }
    this.outbox.set(report.id, { report, leasedUntil: 0 });
  }

  claimUsage(max: number, leaseMs: number): PendingUsage[] {
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweepReservations(now);
    const claimed: PendingUsage[] = [];
    for (const item of this.outbox.values()) {
      if (claimed.length >= max) break;
      if (item.leasedUntil > now) continue;
      item.leasedUntil = now + leaseMs;
      claimed.push({ ...item.report });
    }
    return claimed;
  }

  ackUsage(ids: string[]): void {
    for (const id of ids) this.outbox.delete(id);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.keysByCustomer.clear();
    this.reservations.clear();
  }

  private dropReservation(key: string, reservationId: string): void {
    const held = this.reservations.get(key);
    const reservation = held?.byId.get(reservationId);
    if (held === undefined || reservation === undefined) return;
    held.byId.delete(reservationId);
    held.total -= reservation.amount;
    if (held.byId.size === 0) this.reservations.delete(key);
  }

  private expireReservations(key: string, held: KeyReservations): void {
    const now = this.now();
    let next = Infinity;
    for (const [id, reservation] of held.byId) {
      if (reservation.expiresAt <= now) {
        held.byId.delete(id);
        held.total -= reservation.amount;
      } else if (reservation.expiresAt < next) {
        next = reservation.expiresAt;
      }
    }
    held.nextExpiry = next;
    if (held.byId.size === 0) {
      held.total = 0;
      this.reservations.delete(key);
    }
  }

  private sweepReservations(now: number): void {
    this.lastSweep = now;
    for (const [key, held] of this.reservations) {
      if (held.nextExpiry <= now) this.expireReservations(key, held);
    }
  }
}
