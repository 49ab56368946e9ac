import type { EntitlementsUpstream, MaybePromise, PendingUsage, Store, UpstreamUsageResult } from './types';
import { asError, isThenable } from './maybe-promise';
import { ref, soon, unref } from './timers';
import { isTransientError } from './transient';

export { isTransientError } from './transient';

export interface UsageBufferOptions {
  store: Store;
  client: EntitlementsUpstream;
  batchSize: number;
  flushIntervalMs: number;
  maxAttempts: number;
  retryBaseDelayMs: number;
  leaseMs: number;
  /**
   * Stigg acknowledged `reports`; `results` is its answer, in the same order. A promise (cache
   * updates on their way to an asynchronous store) is waited for before the drain goes on.
   */
  onDelivered(reports: PendingUsage[], results: UpstreamUsageResult[], context: DeliveryContext): MaybePromise<void>;
  /**
   * Optional: called before a batch is first sent; what it returns (awaited) comes back in
   * onDelivered's context. The core reads usage marks here, before Stigg counts the batch.
   */
  onDelivering?(reports: PendingUsage[]): MaybePromise<unknown>;
  /** `report` will never be delivered. */
  onDropped(report: PendingUsage, error: Error): void;
  onStoreError(error: Error): void;
  random?: () => number;
}

export interface DeliveryContext {
  /** What onDelivering returned (undefined when it failed or is not set). */
  readonly before: unknown;
  /** The store acknowledged (removed) the reports; false when ackUsage failed and they will come back. */
  readonly acked: boolean;
}

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * Takes reports out of the store's outbox in batches and delivers each batch with ONE
 * reportUsageBulk call, retrying with the same idempotency keys. Drains run one after another, so
 * there is never more than one bulk call in flight.
 */
export class UsageBuffer {
  private readonly options: UsageBufferOptions;
  private readonly random: () => number;
  private tail: Promise<void> = Promise.resolve();
  private flushQueued: Promise<void> | undefined;
  private batchDrainQueued = false;
  private batchKickScheduled = false;
  private queuedLocally = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** flush()/close() callers still waiting: while there are any, retry delays keep the process alive. */
  private waiting = 0;
  private readonly sleepers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: UsageBufferOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.drainAll().catch(this.options.onStoreError);
    }, this.options.flushIntervalMs);
    unref(this.timer);
  }

  /** Stops the interval; a drain already running still finishes. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A report entered the outbox; a full batch is sent without waiting for the interval. */
  notify(): void {
    this.queuedLocally += 1;
    if (this.queuedLocally < this.options.batchSize || this.batchKickScheduled || this.batchDrainQueued) return;
    this.batchKickScheduled = true;
    soon(() => {
      this.batchKickScheduled = false;
      if (this.batchDrainQueued || this.queuedLocally < this.options.batchSize) return;
      this.batchDrainQueued = true;
      this.enqueueDrain(false).catch(this.options.onStoreError);
    });
  }

  /**
   * Delivers everything queued so far, after the drain already running (if any). Until it settles,
   * retry delays hold the process open, so `await close()` in a SIGTERM handler is not cut short.
   */
  flush(): Promise<void> {
    this.waiting += 1;
    for (const sleeper of this.sleepers) ref(sleeper);
    const done = (): void => {
      this.waiting -= 1;
      if (this.waiting === 0) for (const sleeper of this.sleepers) unref(sleeper);
    };
    const flushed = this.drainAll();
    flushed.then(done, done);
    return flushed;
  }

  private drainAll(): Promise<void> {
    if (this.flushQueued !== undefined) return this.flushQueued;
    const queued = this.enqueueDrain(true);
    this.flushQueued = queued;
    return queued;
  }

  private enqueueDrain(everything: boolean): Promise<void> {
    const run = this.tail.then(() => {
      if (everything) this.flushQueued = undefined;
      else this.batchDrainQueued = false;
      return this.drain(everything);
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async drain(everything: boolean): Promise<void> {
    const { store, batchSize, leaseMs } = this.options;
    for (;;) {
      if (!everything && this.queuedLocally < batchSize) return;
      let batch: PendingUsage[];
      try {
        const claimed = store.claimUsage(batchSize, leaseMs);
        batch = isThenable(claimed) ? await claimed : claimed;
      } catch (error) {
        this.options.onStoreError(asError(error));
        return;
      }
      this.queuedLocally = Math.max(0, this.queuedLocally - batch.length);
      if (batch.length === 0) {
        this.queuedLocally = 0;
        return;
      }
      await this.deliver(batch);
      if (batch.length < batchSize && everything) return;
    }
  }

  private async deliver(batch: PendingUsage[]): Promise<void> {
    const { client, maxAttempts } = this.options;
    const usages = batch.map(function toWire(report) {
      return {
        customerId: report.customerId,
        featureId: report.featureId,
        value: report.value,
        resourceId: report.resourceId ?? null,
        updateBehavior: report.updateBehavior ?? 'DELTA',
        idempotencyKey: report.idempotencyKey,
        createdAt: report.createdAt,
      };
    });
    let before: unknown;
    if (this.options.onDelivering !== undefined) {
      try {
        const prepared = this.options.onDelivering(batch);
        before = isThenable(prepared) ? await prepared : prepared;
      } catch (error) {
        this.options.onStoreError(asError(error));
      }
    }
    for (let attempt = 1; ; attempt += 1) {
      let results: UpstreamUsageResult[];
      try {
        results = await client.reportUsageBulk({ usages });
      } catch (caught) {
        const error = asError(caught);
        if (!isTransientError(caught)) {
          if (batch.length > 1) {
            for (const report of batch) await this.deliver([report]);
            return;
          }
          await this.drop(batch, attempt, error);
          return;
        }
        if (attempt >= maxAttempts) {
          await this.drop(batch, attempt, error);
          return;
        }
        await this.sleep(this.backoff(attempt, caught));
        continue;
      }
      const acked = await this.ack(batch);
      const updated = this.options.onDelivered(batch, Array.isArray(results) ? results : [], { before, acked });
      if (isThenable(updated)) await updated;
      return;
    }
  }

  private backoff(attempt: number, error: unknown): number {
    const exponential = Math.min(MAX_RETRY_DELAY_MS, this.options.retryBaseDelayMs * 2 ** (attempt - 1));
    const jittered = exponential / 2 + (this.random() * exponential) / 2;
    const retryAfter = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    return typeof retryAfter === 'number' && retryAfter > jittered ? Math.min(retryAfter, MAX_RETRY_DELAY_MS) : jittered;
  }

  private async ack(batch: PendingUsage[]): Promise<boolean> {
    try {
      const acked = this.options.store.ackUsage(batch.map((report) => report.id));
      if (isThenable(acked)) await acked;
      return true;
    } catch (error) {
      // Not acked: the reports come back after leaseMs and are sent again with the same
      // idempotency keys, which Stigg deduplicates.
      this.options.onStoreError(asError(error));
      return false;
    }
  }

  private async drop(batch: PendingUsage[], attempts: number, error: Error): Promise<void> {
    await this.ack(batch);
    for (const report of batch) this.options.onDropped({ ...report, attempts: report.attempts + attempts }, error);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = setTimeout(() => {
        this.sleepers.delete(sleeper);
        resolve();
      }, ms);
      if (this.waiting === 0) unref(sleeper);
      this.sleepers.add(sleeper);
    });
  }
}
