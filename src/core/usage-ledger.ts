import { noop, isThenable, asError } from '../util/maybe-promise';
import { parseDate, periodEndOf } from './decide';
import { THREE_DIGITS } from '../util/digits';
import type { Runtime } from './runtime';
import type { CachedEntitlement, MaybePromise, PendingUsage, UpstreamUsageResult } from './types';
import { StrandedReports } from './stranded';
import { UsageBuffer, type DeliveryContext } from './usage-buffer';

/**
 * Idempotency keys shaped like UUIDs: 29 characters of a random UUID (globalThis.crypto, so edge
 * runtimes load the core), then a 7-digit counter, the prefix drawn again every 9,000,000 keys. As
 * unique as randomUUID() (~94 random bits a prefix) for a string concatenation instead of ~180 ns.
 */
let idPrefix = '';
let idHigh = 9_999;
let idBlock = '';
let idLow = 1_000;
function newId(): string {
  if (idLow === 1_000) {
    if (idHigh === 9_999) {
      idPrefix = globalThis.crypto.randomUUID().slice(0, 29);
      idHigh = 999;
    }
    idHigh += 1;
    idBlock = idPrefix + idHigh;
    idLow = 0;
  }
  const id = idBlock + (THREE_DIGITS[idLow] as string);
  idLow += 1;
  return id;
}

/**
 * Usage accounting: turns commits and reports into outbox entries, keeps the units this process has
 * queued and Stigg not yet acknowledged (the cached usage counts them), and folds Stigg's answers
 * back into the cache. Delivery itself is the UsageBuffer's.
 */
export class UsageLedger {
  readonly buffer: UsageBuffer;
  /** Commits an asynchronous store refused (Redis down): queued again until it takes them. */
  readonly stranded: StrandedReports;
  /** DELTA units queued by this process and not yet acknowledged by Stigg, per key. */
  private readonly unreported = new Map<string, number>();
  /**
   * Keys with a SET report Stigg has not acknowledged: what their usage will be once it has (the
   * SET's value plus DELTAs queued after it). Stigg's answers meanwhile predate the SET.
   */
  private readonly pendingSets = new Map<string, { count: number; usage: number }>();
  private isoMs = Number.NaN;
  private iso = '';

  /** `onAcknowledged`: this process got `units` of `key` acknowledged (a fetch on its way must still count them). */
  constructor(
    private readonly runtime: Runtime,
    private readonly onAcknowledged: (key: string, units: number) => void = noop,
  ) {
    const { config } = runtime;
    this.buffer = new UsageBuffer({
      store: config.store,
      client: config.client,
      batchSize: config.batchSize,
      flushIntervalMs: config.flushIntervalMs,
      maxAgeMs: config.maxAgeMs,
      breaker: runtime.breaker,
      now: runtime.now,
      retryBaseDelayMs: config.retryBaseDelayMs,
      leaseMs: config.leaseMs,
      onDelivered: (reports, results, context) => this.delivered(reports, results, context),
      onDelivering: (reports) => this.usageMarks(reports),
      onDropped: (report, error) => this.dropped(report, error),
      onParked: (info) => {
        runtime.config.logger.error(
          { code: info.code, reports: info.reports, error: info.error.message },
          `Stigg refused every usage report it was shown (${info.code}) and took none: delivery is parked, nothing is dropped; it resumes as soon as Stigg takes reports again`,
        );
        runtime.emit('usage:parked', info);
      },
      onResumed: (parkedMs) => {
        runtime.config.logger.warn({ parkedMs }, `Stigg takes usage reports again after ${parkedMs} ms; delivering the parked outbox`);
        runtime.emit('usage:resumed', { parkedMs });
      },
      onRetry: (error, reports) => runtime.upstreamLog.failed('reportUsageBulk', error, { reports: reports.length, retrying: true }),
      onStoreError: (error) => runtime.storeError(error),
      calls: {
        started: () => runtime.callStarted(),
        ended: (startedAt, outcome) => runtime.callEnded('reportUsageBulk', startedAt, outcome),
      },
    });
    this.stranded = new StrandedReports(
      runtime.store,
      () => this.buffer.notify(),
      (error) => runtime.storeError(error),
      (report, error) => this.dropped(report, error),
    );
  }

  pending(
    customerId: string,
    resourceId: string | undefined,
    featureId: string,
    value: number,
    updateBehavior: 'DELTA' | 'SET',
  ): PendingUsage {
    const idempotencyKey = newId();
    return {
      id: idempotencyKey,
      idempotencyKey,
      customerId,
      featureId,
      resourceId,
      value,
      updateBehavior,
      createdAt: this.isoNow(),
      attempts: 0,
    };
  }

  /**
   * Into the outbox: with a reservation (commit) or without (enqueueUsage). A refused report is
   * dropped loudly, except a served request's (`served`) that an asynchronous store failed to take:
   * that one is held and queued again (see StrandedReports).
   */
  enqueue(key: string, report: PendingUsage, reservationId: string | undefined, served = false, held = 0): MaybePromise<void> {
    const { store } = this.runtime;
    if (!this.runtime.countsUnreported) this.account(key, report);
    let queued: MaybePromise<void>;
    try {
      queued = reservationId === undefined ? store.enqueueUsage(key, report, held) : store.commit(key, reservationId, report);
    } catch (error) {
      this.lost(report, error);
      throw error;
    }
    if (isThenable(queued)) {
      if (served) queued = this.stranded.sending(queued);
      return queued.then(
        () => this.buffer.notify(),
        (error: unknown) => {
          if (served && !(error instanceof TypeError)) {
            this.runtime.storeError(asError(error));
            this.stranded.add(key, report, asError(error));
            return;
          }
          this.lost(report, error);
          throw error;
        },
      );
    }
    this.buffer.notify();
    return undefined;
  }

  /** The usage to cache for `key` when Stigg says `upstream` (core accounting: a shared store adds its own). */
  usageOf(key: string, upstream: number): number {
    const set = this.pendingSets.size === 0 ? undefined : this.pendingSets.get(key);
    return set !== undefined ? set.usage : upstream + this.unreportedUnits(key);
  }

  private account(key: string, report: PendingUsage): void {
    const set = this.pendingSets.size === 0 ? undefined : this.pendingSets.get(key);
    if (report.updateBehavior === 'SET') {
      if (set === undefined) this.pendingSets.set(key, { count: 1, usage: report.value });
      else {
        set.count += 1;
        set.usage = report.value;
      }
      return;
    }
    this.track(key, report.value);
    if (set !== undefined) set.usage += report.value;
  }

  private settledSet(key: string): void {
    const set = this.pendingSets.get(key);
    if (set === undefined) return;
    set.count -= 1;
    if (set.count <= 0) this.pendingSets.delete(key);
  }

  /** Units Stigg has not seen yet that the cached usage must include (a shared store adds its own). */
  private unreportedUnits(key: string): number {
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
      const mark = runtime.usageMark(key, 'delivery') as MaybePromise<number | null>;
      if (isThenable(mark)) waiting.push(mark.then((value) => void marks.set(key, value)));
      else marks.set(key, mark);
    }
    return waiting.length === 0 ? marks : Promise.all(waiting).then(() => marks);
  }

  private delivered(reports: PendingUsage[], results: UpstreamUsageResult[], context: DeliveryContext): MaybePromise<void> {
    const { runtime } = this;
    /** Counting store: DELTA units of this batch per key, acknowledged by this process after its marks were read. */
    let acknowledged: Map<string, number> | undefined;
    // Consecutive DELTAs of one key (the usual batch) are acknowledged together.
    let runKey: string | undefined;
    let runUnits = 0;
    let last: PendingUsage | undefined;
    const acknowledge = (key: string, units: number): void => {
      if (runtime.countsUnreported) {
        (acknowledged ??= new Map()).set(key, (acknowledged.get(key) ?? 0) + units);
        return;
      }
      if (this.unreported.has(key)) this.track(key, -units);
      this.onAcknowledged(key, units);
    };
    // Without SETs or negative DELTAs Stigg's usage only grows within a period, so the newest answer
    // per key is the highest (a replayed report answers with the usage of its first application).
    let monotonic = true;
    for (const report of reports) {
      if (report.updateBehavior === 'SET' || report.value < 0) monotonic = false;
      if (report.updateBehavior !== 'SET' && runKey !== undefined && last !== undefined && sameTarget(report, last)) {
        runUnits += report.value;
        continue;
      }
      if (runKey !== undefined) acknowledge(runKey, runUnits);
      runKey = undefined;
      last = report;
      const key = runtime.keys.get(report.customerId, report.resourceId, report.featureId);
      if (report.updateBehavior === 'SET') {
        if (!runtime.countsUnreported) this.settledSet(key);
        continue;
      }
      runKey = key;
      runUnits = report.value;
    }
    if (runKey !== undefined) acknowledge(runKey, runUnits);
    const latest = new Map<string, UpstreamUsageResult>();
    for (const result of results) {
      if (typeof result?.currentUsage !== 'number') continue;
      const key = runtime.keys.get(result.customerId, result.resourceId, result.featureId);
      const previous = latest.get(key);
      if (monotonic && previous !== undefined && isOlder(result, previous)) continue;
      latest.set(key, result);
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
      // Stigg's period already ended by this clock: Stigg is behind, and its usage stands (as after a
      // fetch) rather than being rolled over to 0 again by the next decision.
      const behind = periodEndMs !== null && periodEndMs <= runtime.now() && cached.fetchedAt < periodEndMs;
      return runtime
        .writeCache(
          key,
          result.customerId,
          {
            ...cached,
            currentUsage: this.usageOf(key, result.currentUsage as number),
            usagePeriodEnd: result.usagePeriodEnd ?? cached.usagePeriodEnd,
            usagePeriodEndMs: periodEndMs,
            fetchedAt: behind ? periodEndMs : cached.fetchedAt,
          },
          usageMark,
          'delivery',
        )
        ?.then(noop);
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
    if (report.updateBehavior === 'SET') this.settledSet(key);
    else if (this.unreported.has(key)) this.track(key, -report.value);
    runtime.config.logger.error(
      {
        customerId: report.customerId,
        featureId: report.featureId,
        resourceId: report.resourceId,
        value: report.value,
        updateBehavior: report.updateBehavior,
        idempotencyKey: report.idempotencyKey,
        createdAt: report.createdAt,
        attempts: report.attempts,
        error: error.message,
      },
      'A usage report could not be delivered to Stigg',
    );
    runtime.emit('usage:dropped', report, error);
  }
}

function sameTarget(a: PendingUsage, b: PendingUsage): boolean {
  return a.customerId === b.customerId && a.featureId === b.featureId && (a.resourceId ?? undefined) === (b.resourceId ?? undefined);
}

/** `a` is an older state of the same key than `b`: an earlier period, or less usage in the same one. */
function isOlder(a: UpstreamUsageResult, b: UpstreamUsageResult): boolean {
  const periodA = parseDate(a.usagePeriodEnd);
  const periodB = parseDate(b.usagePeriodEnd);
  if (periodA !== null && periodB !== null && periodA !== periodB) return periodA < periodB;
  return (a.currentUsage ?? 0) < (b.currentUsage ?? 0);
}
