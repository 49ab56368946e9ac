import type { CachedEntitlement } from '../core';

interface Near {
  readonly value: CachedEntitlement;
  readonly customerId: string;
  readonly until: number;
}

/**
 * Entries read from Redis, kept in the process for a moment so that warm decisions are a Map lookup
 * (no round trip), only where a local copy cannot decide wrongly: features whose decision does not
 * depend on usage (boolean, unlimited, denied for a reason) and limited ones far from their limit
 * (their reservations still go to Redis, which holds the fleet's count). Every invalidation from
 * any process reaches it over pub/sub; while that subscription is down it is empty and unused.
 */
export class NearCache {
  private readonly entries = new Map<string, Near>();
  private readonly byCustomer = new Map<string, Set<string>>();
  /** Bumped by every invalidation: a read that started before one must not fill the cache after it. */
  epoch = 0;
  enabled = false;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string, now: number): CachedEntitlement | undefined {
    const near = this.entries.get(key);
    if (near === undefined) return undefined;
    if (near.until > now) return near.value;
    this.delete(key);
    return undefined;
  }

  /** Keeps `value` (read at `epoch`, valid in Redis for `remainingMs` more) when it is safe to. */
  offer(key: string, customerId: string, value: CachedEntitlement, remainingMs: number, epoch: number, now: number): void {
    if (!this.enabled || this.ttlMs === 0 || epoch !== this.epoch || !decidesLocally(value)) return;
    if (this.entries.size >= this.maxEntries) this.clear();
    this.entries.set(key, { value, customerId, until: now + Math.min(this.ttlMs, remainingMs) });
    let keys = this.byCustomer.get(customerId);
    if (keys === undefined) this.byCustomer.set(customerId, (keys = new Set()));
    keys.add(key);
  }

  /** This process changed the usage of `key`: keep the copy in step (DELTA adds, SET replaces). */
  applyUsage(key: string, value: number, behavior: 'DELTA' | 'SET'): void {
    const near = this.entries.get(key);
    if (near === undefined) return;
    const currentUsage = behavior === 'SET' ? value : near.value.currentUsage + value;
    const next = { ...near.value, currentUsage };
    if (decidesLocally(next)) this.entries.set(key, { ...near, value: next });
    else this.delete(key);
  }

  deleteKey(key: string): void {
    this.epoch += 1;
    this.delete(key);
  }

  deleteCustomer(customerId: string): void {
    this.epoch += 1;
    const keys = this.byCustomer.get(customerId);
    if (keys === undefined) return;
    this.byCustomer.delete(customerId);
    for (const key of keys) this.entries.delete(key);
  }

  clear(): void {
    this.epoch += 1;
    this.entries.clear();
    this.byCustomer.clear();
  }

  private delete(key: string): void {
    const near = this.entries.get(key);
    if (near === undefined) return;
    this.entries.delete(key);
    const keys = this.byCustomer.get(near.customerId);
    keys?.delete(key);
    if (keys?.size === 0) this.byCustomer.delete(near.customerId);
  }
}

/**
 * The decision does not depend on usage, or the usage is at most half the limit: what other
 * processes consume within the near cache's short life cannot move a check across the limit, and
 * reservations are made in Redis anyway.
 */
function decidesLocally(value: CachedEntitlement): boolean {
  if (value.accessDeniedReason !== null || value.hasUnlimitedUsage || value.usageLimit === null) return true;
  if (value.featureType !== 'NUMBER' || value.meterType === 'None') return true;
  return value.currentUsage <= value.usageLimit / 2;
}
