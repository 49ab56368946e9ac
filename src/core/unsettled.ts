import type { Runtime } from './runtime';

/**
 * Granted metered leases not yet committed or released: reports the outbox must still take. A
 * lease never settled stops counting after reservationMaxMs (else a few abandoned leases would
 * refuse every metered request for good): counts are kept per time bucket, dropped whole.
 */
export class UnsettledLeases {
  private total = 0;
  /** Counts of past buckets; the current bucket's count is kept in fields (no Map work per request). */
  private readonly buckets = new Map<number, number>();
  private currentBucket = Number.NEGATIVE_INFINITY;
  private currentCount = 0;
  /**
   * Buckets below this one were expired (their leases no longer count): a clock stepped back must
   * not count new leases into one of them, or a late settle of an expired lease would free a place
   * a new lease holds (room for 2, 3 served, 1 dropped).
   */
  private expiredBelow = Number.NEGATIVE_INFINITY;

  constructor(private readonly runtime: Runtime) {}

  /** Counts a granted metered lease; returns its bucket for uncount(). */
  count(): number {
    const bucket = Math.max(this.bucketOf(this.runtime.now()), this.expiredBelow);
    if (bucket !== this.currentBucket) {
      if (this.currentCount > 0) this.buckets.set(this.currentBucket, this.currentCount);
      // A clock that went back lands in a bucket already in the map: take its count over.
      this.currentCount = this.buckets.get(bucket) ?? 0;
      this.buckets.delete(bucket);
      this.currentBucket = bucket;
    }
    this.currentCount += 1;
    this.total += 1;
    return bucket;
  }

  uncount(bucket: number): void {
    if (bucket < this.expiredBelow) return; // expired: no longer counted
    if (bucket === this.currentBucket) {
      if (this.currentCount === 0) return; // expired: no longer counted
      this.currentCount -= 1;
      this.total -= 1;
      return;
    }
    const count = this.buckets.get(bucket);
    if (count === undefined) return; // expired: no longer counted
    if (count <= 1) this.buckets.delete(bucket);
    else this.buckets.set(bucket, count - 1);
    this.total -= 1;
  }

  /**
   * Granted metered leases at work, those older than reservationMaxMs (and a bucket) dropped: the
   * outbox places their reports will take (the bound, and report(), must leave them).
   */
  held(): number {
    if (this.total === 0) return 0;
    const oldest = this.bucketOf(this.runtime.now() - this.runtime.config.reservationMaxMs);
    if (oldest > this.expiredBelow) this.expiredBelow = oldest;
    for (const [bucket, count] of this.buckets) {
      if (bucket >= oldest) continue;
      this.buckets.delete(bucket);
      this.total -= count;
    }
    if (this.currentBucket < oldest && this.currentCount > 0) {
      this.total -= this.currentCount;
      this.currentCount = 0;
    }
    return this.total;
  }

  private bucketOf(ms: number): number {
    return Math.floor(ms / Math.max(1, Math.ceil(this.runtime.config.reservationMaxMs / 8)));
  }
}
