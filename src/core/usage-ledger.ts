import { noop, isThenable, asError } from './maybe-promise';
import { parseDate, periodEndOf } from './decide';
import type { Runtime } from './runtime';
import type { CachedEntitlement, MaybePromise, PendingUsage, UpstreamUsageResult } from './types';
import { UsageBuffer, type DeliveryContext } from './usage-buffer';

/** globalThis.crypto (Node >= 19, browsers, workers): no node:crypto, so edge runtimes load the core. */
const newId: () => string = () => globalThis.crypto.randomUUID();

/**
 * Usage accounting: turns commits and reports into outbox entries, keeps the units this process has
 * queued and Stigg not yet acknowledged (the cached usage counts them), and folds Stigg's answers
 * back into the cache. Delivery itself is the UsageBuffer's.
 */
export class UsageLedger {
  readonly buffer: UsageBuffer;
  /** DELTA units queued by this process and not yet acknowledged by Stigg, per key. */
  private readonly unreported = new Map<string, number>();
  /** This process got `units` of `key` acknowledged (a fetch on its way must still count them). */
  onAcknowledged: (key: string, units: number) => void = noop;
  private isoMs = Number.NaN;
  private iso = '';

  constructor(private readonly runtime: Runtime) {
    const { config } = runtime;
    this.buffer = new UsageBuffer({
      store: config.store,
      client: config.client,
      batchSize: config.batchSize,
      flushIntervalMs: config.flushIntervalMs,
      maxAttempts: config.maxAttempts,
      retryBaseDelayMs: config.retryBaseDelayMs,
      leaseMs: config.leaseMs,
      onDelivered: (reports, results, context) => this.delivered(reports, results, context),
      onDelivering: (reports) => this.usageMarks(reports),
      onDropped: (report, error) => this.dropped(report, error),
      onStoreError: (error) => runtime.storeError(error),
    });
  }

  pending(customerId: string, resourceId: string | undefined, featureId: string, value: number, updateBehavior: 'DELTA' | 'SET'): PendingUsage {
    const idempotencyKey = newId();
    return { id: idempotencyKey, idempotencyKey, customerId, featureId, resourceId, value, updateBehavior, createdAt: this.isoNow(), attempts: 0 };
  }

  /** Into the outbox: with a reservation (commit) or without (enqueueUsage). A refused report is dropped loudly. */
  enqueue(key: string, report: PendingUsage, reservationId: string | undefined): MaybePromise<void> {
    const { store } = this.runtime;
    if (report.updateBehavior !== 'SET' && !this.runtime.countsUnreported) this.track(key, report.value);
    let queued: MaybePromise<void>;
    try {
      queued = reservationId === undefined ? store.enqueueUsage(key, report) : store.commit(key, reservationId, report);
    } catch (error) {
      this.lost(report, error);
      throw error;
    }
    if (isThenable(queued)) {
      return queued.then(
        () => this.buffer.notify(),
        (error: unknown) => {
          this.lost(report, error);
          throw error;
        },
      );
    }
    this.buffer.notify();
    return undefined;
  }

  /** Units Stigg has not seen yet that the cached usage must include (a shared store adds its own). */
  unreportedUnits(key: string): number {
    return this.runtime.countsUnreported ? 0 : (this.unreported.get(key) ?? 0);
  }

  private isoNow(): string {
    const now = this.runtime.now();
    if (now !== this.isoMs) {
      this.isoMs = now;
      this.iso = new Date(now).toISOString();
    }
    return this.iso;
  }

  /** The store refused a report: it will never be delivered, so say so with its full content. */
  private lost(report: PendingUsage, error: unknown): void {
    this.runtime.storeError(asError(error));
    this.dropped(report, asError(error));
  }

  private track(key: string, units: number): void {
    const total = (this.unreported.get(key) ?? 0) + units;
    if (Math.abs(total) < 1e-9) this.unreported.delete(key);
    else this.unreported.set(key, total);
  }

  /** Before a batch is sent: the usage mark of each key it reports on (see reconcile). */
  private usageMarks(reports: PendingUsage[]): MaybePromise<Map<string, number | null> | undefined> {
    const { runtime } = this;
    if (!runtime.countsUnreported || runtime.store.usageMark === undefined) return undefined;
    const keys = new Set<string>();
    for (const report of reports) keys.add(runtime.keys.get(report.customerId, report.resourceId, report.featureId));
    const marks = new Map<string, number | null>();
    const waiting: Array<Promise<void>> = [];
    for (const key of keys) {
      const mark = runtime.usageMark(key) as MaybePromise<number | null>;
      if (isThenable(mark)) waiting.push(mark.then((value) => void marks.set(key, value)));
      else marks.set(key, mark);
    }
    return waiting.length === 0 ? marks : Promise.all(waiting).then(() => marks);
  }

  private delivered(reports: PendingUsage[], results: UpstreamUsageResult[], context: DeliveryContext): MaybePromise<void> {
    const { runtime } = this;
    /** Counting store: DELTA units of this batch per key, acknowledged by this process after its marks were read. */
    let acknowledged: Map<string, number> | undefined;
    for (const report of reports) {
      if (report.updateBehavior === 'SET') continue;
      const key = runtime.keys.get(report.customerId, report.resourceId, report.featureId);
      if (runtime.countsUnreported) {
        (acknowledged ??= new Map()).set(key, (acknowledged.get(key) ?? 0) + report.value);
        continue;
      }
      if (this.unreported.has(key)) this.track(key, -report.value);
      this.onAcknowledged(key, report.value);
    }
    const latest = new Map<string, UpstreamUsageResult>();
    for (const result of results) {
      if (typeof result?.currentUsage !== 'number') continue;
      latest.set(runtime.keys.get(result.customerId, result.resourceId, result.featureId), result);
    }
    let writes: Array<Promise<void>> | undefined;
    const marks = context.before as Map<string, number | null> | undefined;
    for (const [key, result] of latest) {
      let usageMark: number | undefined;
      if (runtime.countsUnreported && runtime.store.usageMark !== undefined) {
        // Stigg's answer counts this batch, and whatever other processes delivered before it, some
        // of it perhaps acknowledged since. Without a mark read before the batch was sent (or when
        // the batch is still in the outbox) that cannot be told apart: the store's running count,
        // kept by every commit, stays as it is until the next refresh.
        const before = marks?.get(key);
        if (typeof before !== 'number' || !context.acked) continue;
        usageMark = before + (acknowledged?.get(key) ?? 0);
      }
      const written = this.reconcile(key, result, usageMark);
      if (written !== undefined) (writes ??= []).push(written);
    }
    runtime.emit('usage:flushed', reports);
    // The flush that delivered them ends once the cache says so.
    return writes === undefined ? undefined : Promise.all(writes).then(noop);
  }

  /**
   * Stigg's usage after a delivered report becomes the cached usage, plus the units Stigg has not
   * seen: what this process queued since (core accounting), or what the store adds itself (every
   * process's outbox, and with `usageMark` what other processes got acknowledged meanwhile).
   */
  private reconcile(key: string, result: UpstreamUsageResult, usageMark?: number): Promise<void> | undefined {
    const { runtime } = this;
    const apply = (cached: CachedEntitlement | undefined): Promise<void> | undefined => {
      if (cached === undefined) return undefined;
      const periodEndMs = parseDate(result.usagePeriodEnd) ?? periodEndOf(cached);
      return runtime.writeCache(key, result.customerId, {
        ...cached,
        currentUsage: (result.currentUsage as number) + this.unreportedUnits(key),
        usagePeriodEnd: result.usagePeriodEnd ?? cached.usagePeriodEnd,
        usagePeriodEndMs: periodEndMs,
      }, usageMark);
    };
    const cached = runtime.readCache(key);
    if (!isThenable(cached)) return apply(cached);
    const written = cached.then(apply).then(noop, noop);
    runtime.background(written);
    return written;
  }

  private dropped(report: PendingUsage, error: Error): void {
    const { runtime } = this;
    const key = runtime.keys.get(report.customerId, report.resourceId, report.featureId);
    if (report.updateBehavior !== 'SET' && this.unreported.has(key)) this.track(key, -report.value);
    runtime.config.logger.error({
      customerId: report.customerId,
      featureId: report.featureId,
      resourceId: report.resourceId,
      value: report.value,
      updateBehavior: report.updateBehavior,
      idempotencyKey: report.idempotencyKey,
      createdAt: report.createdAt,
      attempts: report.attempts,
      error: error.message,
    }, 'A usage report could not be delivered to Stigg');
    runtime.emit('usage:dropped', report, error);
  }
}
