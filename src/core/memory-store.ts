import { LRUCache } from 'lru-cache';
import { coarseClock } from './clock';
import { exceeds } from './decide';
import { THREE_DIGITS } from './digits';
import { IdTable } from './reservation-table';
import type { CachedEntitlement, PendingUsage, ReserveResult, Store } from './types';

export interface MemoryStoreOptions {
  /** Most (customer, resource, feature) entitlements kept; least recently used go first. Default 10,000. */
  maxEntries?: number;
  /** Clock (ms since epoch); inject one in tests. Default: Date.now, read at most once per millisecond. */
  now?: () => number;
  /**
   * Most usage reports held for delivery (default 100,000, ~60 MB). At the bound, reports not yet
   * sent are compacted first (DELTAs of one customer, feature and resource add up into one); a
   * report that still does not fit is refused with an OutboxFullError.
   */
  maxPendingUsage?: number;
}

/** The memory store's outbox is at its bound even after compaction: the report was not queued. */
export class OutboxFullError extends Error {
  override readonly name = 'OutboxFullError';
  readonly transient = false;
  constructor(readonly maxPendingUsage: number) {
    super(
      `The memory store's usage outbox holds ${maxPendingUsage} reports (maxPendingUsage) and Stigg has not taken them: report refused`,
    );
  }
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

interface LeasedBatch {
  reports: PendingUsage[];
  readonly leasedUntil: number;
}

const SWEEP_INTERVAL_MS = 60_000;

function sameKey(report: PendingUsage): string {
  return `${report.customerId}\u001f${report.resourceId ?? ''}\u001f${report.featureId}`;
}

function copy(report: PendingUsage): PendingUsage {
  return {
    id: report.id,
    idempotencyKey: report.idempotencyKey,
    customerId: report.customerId,
    featureId: report.featureId,
    resourceId: report.resourceId,
    value: report.value,
    updateBehavior: report.updateBehavior,
    createdAt: report.createdAt,
    attempts: report.attempts,
  };
}

/** The usual ack: exactly the batch that was claimed (same id strings, so comparisons are cheap). */
function sameIds(reports: PendingUsage[], ids: string[]): boolean {
  if (reports.length !== ids.length) return false;
  for (let i = 0; i < ids.length; i += 1) if (reports[i]?.id !== ids[i]) return false;
  return true;
}

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
  /** Unclaimed reports, oldest first, from `head` on (an array: a Map keyed by UUIDs costs ~0.5 µs a report). */
  private queue: PendingUsage[] = [];
  private head = 0;
  /** Claimed batches; few at a time, since one flusher sends one batch after another. */
  private leased: LeasedBatch[] = [];
  private readonly maxEntries: number;
  private readonly maxPendingUsage: number;
  private compactedAt = -1;
  /**
   * How many reports from `head` on were handed out for delivery before (their lease ran out): Stigg
   * may have them, so they are never merged. They are always the first ones of the queue.
   */
  private sentAhead = 0;
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
    this.now = options.now ?? coarseClock();
    this.maxEntries = maxEntries;
    this.maxPendingUsage = maxPendingUsage;
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
    let count = this.queue.length - this.head;
    for (const batch of this.leased) count += batch.reports.length;
    return count;
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

  reserve(key: string, amount: number, limit: number, ttlMs: number): ReserveResult {
    const now = this.now();
    let held = this.reservations.get(key);
    if (held !== undefined && held.nextExpiry <= now) this.expireReservations();
    const used = this.entries.peek(key)?.value.currentUsage ?? 0;
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
    if (this.pendingUsageCount + unsettled < this.maxPendingUsage) return undefined;
    if (this.compactedAt !== this.pendingUsageCount) {
      this.compact();
      this.compactedAt = this.pendingUsageCount;
    }
    return this.pendingUsageCount + unsettled < this.maxPendingUsage ? undefined : new OutboxFullError(this.maxPendingUsage);
  }

  /** The units count toward the cached usage even when the outbox refuses the report: the work was done. */
  enqueueUsage(key: string, report: PendingUsage, held = 0): void {
    const value = this.entries.peek(key)?.value;
    if (value !== undefined) {
      value.currentUsage = report.updateBehavior === 'SET' ? report.value : value.currentUsage + report.value;
    }
    if (this.pendingUsageCount + held >= this.maxPendingUsage) {
      this.compact();
      if (this.pendingUsageCount + held >= this.maxPendingUsage) throw new OutboxFullError(this.maxPendingUsage);
    }
    this.queue.push(report);
  }

  /** Everything in the outbox, claimed or not, removed: what close() hands to the app when Stigg did not take it. */
  takePendingUsage(): PendingUsage[] {
    const reports: PendingUsage[] = [];
    for (const batch of this.leased) for (const report of batch.reports) reports.push(copy(report));
    for (let i = this.head; i < this.queue.length; i += 1) reports.push(copy(this.queue[i] as PendingUsage));
    this.leased = [];
    this.queue = [];
    this.head = 0;
    this.sentAhead = 0;
    return reports;
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

  /** DELTAs never sent for one (customer, resource, feature) add up into the first of them. */
  private compact(): void {
    const first = new Map<string, PendingUsage>();
    const kept: PendingUsage[] = [];
    const sentEnd = this.head + this.sentAhead;
    for (let i = this.head; i < this.queue.length; i += 1) {
      const report = this.queue[i] as PendingUsage;
      if (report.updateBehavior === 'SET' || i < sentEnd) {
        kept.push(report);
        if (report.updateBehavior === 'SET') first.delete(sameKey(report));
        continue;
      }
      const key = sameKey(report);
      const into = first.get(key);
      if (into === undefined || !Number.isFinite(into.value + report.value)) {
        first.set(key, report);
        kept.push(report);
      } else {
        into.value += report.value;
      }
    }
    this.queue = kept;
    this.head = 0;
  }

  claimUsage(max: number, leaseMs: number): PendingUsage[] {
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweepReservations(now);
    if (this.leased.length > 0) this.requeueExpired(now);
    const available = this.queue.length - this.head;
    if (available <= 0 || max <= 0) return [];
    const end = this.head + Math.min(max, available);
    const reports = this.queue.slice(this.head, end);
    this.sentAhead = Math.max(0, this.sentAhead - reports.length);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.leased.push({ reports, leasedUntil: now + leaseMs });
    return reports.map(copy);
  }

  ackUsage(ids: string[]): void {
    if (ids.length === 0) return;
    const exact = this.leased.findIndex((batch) => sameIds(batch.reports, ids));
    if (exact !== -1) {
      this.leased.splice(exact, 1);
      return;
    }
    const acked = new Set(ids);
    let removed = 0;
    for (const batch of this.leased) {
      const kept = batch.reports.filter((report) => !acked.has(report.id));
      removed += batch.reports.length - kept.length;
      batch.reports = kept;
    }
    this.leased = this.leased.filter((batch) => batch.reports.length > 0);
    if (removed < acked.size) {
      // Acked after its lease ran out and it went back to the queue.
      const sentEnd = this.head + this.sentAhead;
      let sentKept = 0;
      const kept: PendingUsage[] = [];
      for (let i = this.head; i < this.queue.length; i += 1) {
        const report = this.queue[i] as PendingUsage;
        if (acked.has(report.id)) continue;
        kept.push(report);
        if (i < sentEnd) sentKept += 1;
      }
      this.queue = kept;
      this.head = 0;
      this.sentAhead = sentKept;
    }
  }

  close(): Promise<void> {
    this.entries.clear();
    this.keysByCustomer.clear();
    this.reservations.clear();
    this.byId.clear();
    return Promise.resolve();
  }

  private requeueExpired(now: number): void {
    const expired: PendingUsage[] = [];
    this.leased = this.leased.filter((batch) => {
      if (batch.leasedUntil > now) return true;
      for (const report of batch.reports) expired.push(report);
      return false;
    });
    if (expired.length === 0) return;
    this.queue = expired.concat(this.queue.slice(this.head));
    this.head = 0;
    this.sentAhead += expired.length;
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
