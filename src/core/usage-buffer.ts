import { Arrivals } from './arrivals';
import type { CircuitBreaker } from './circuit-breaker';
import { asError, isThenable } from '../util/maybe-promise';
import { raceTimer, ref, requestScopedTimers, soon, unref } from '../util/timers';
import { Refusals, type ParkedInfo, type Refusal } from './refusals';
import { retryDelay } from './retry-delay';
import { callOutcome, failureKind, refusalCode } from './transient';
import { DELIVERED, isAged, STOPPED, toWire, type Failed, type Sent } from './usage-wire';
import type { EntitlementsUpstream, MaybePromise, PendingUsage, Store, UpstreamOutcome, UpstreamUsageResult } from './types';

export { isTransientError } from './transient';

export interface UsageBufferOptions {
  store: Store;
  client: EntitlementsUpstream;
  batchSize: number;
  flushIntervalMs: number;
  /** A report is given up only once this old, and never while the breaker says Stigg is down. */
  maxAgeMs: number;
  retryBaseDelayMs: number;
  leaseMs: number;
  /** Shared with the entitlement fetches: delivery failures open it, and retries wait for it. */
  breaker: CircuitBreaker;
  now: () => number;
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
  /** `report` will never be delivered: Stigg rejected it for good, or it outlived maxAgeMs. */
  onDropped(report: PendingUsage, error: Error): void;
  /** Stigg refused every report it was shown, taking none: nothing is dropped, delivery waits (see Refusals). */
  onParked: (info: ParkedInfo) => void;
  /** Stigg took a report again after the outbox was parked. */
  onResumed: (parkedMs: number) => void;
  /** A delivery failed and will be retried (for logging). */
  onRetry?(error: unknown, reports: PendingUsage[]): void;
  onStoreError(error: Error): void;
  /** Optional timing of each reportUsageBulk call ('upstream:call'): started() before it, ended() after. */
  calls?: { started(): number; ended(startedAt: number, outcome: UpstreamOutcome): void };
  random?: () => number;
}

export interface DeliveryContext {
  /** What onDelivering returned (undefined when it failed or is not set). */
  readonly before: unknown;
  /** The store acknowledged (removed) the reports; false when ackUsage failed and they will come back. */
  readonly acked: boolean;
}

/**
 * Workers (requestScopedTimers): how long a drain may hold up the next one. A drain started in a
 * request that ended without waiting for it (a flush not handed to waitUntil, or one cut off by the
 * waitUntil limit) never settles there; the next drain waits this long, then runs all the same (its
 * reports are claimed apart from the stuck one's, which come back after leaseMs).
 */
const STALE_DRAIN_MS = 10_000;

/** Singles of a split batch that may fail alike before the failure is taken for everyone's. */
const SPLIT_PROBES = 3;

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
  /** When flushQueued was queued (a stale one, on Workers, is not handed out again). */
  private flushQueuedAt = 0;
  private batchDrainQueued = false;
  private batchKickScheduled = false;
  private queuedLocally = 0;
  /** When each report counted in queuedLocally arrived (as many, oldest first). */
  private readonly arrivals = new Arrivals();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** flush()/close() callers still waiting: while there are any, retry delays keep the process alive. */
  private waiting = 0;
  private readonly sleepers = new Map<ReturnType<typeof setTimeout>, () => void>();
  private aborted = false;
  /** The call to Stigg in flight, aborted at close()'s deadline (its socket must not hold the process). One per call: workerd binds it to a request. */
  private inFlight: AbortController | undefined;
  private readonly refusals: Refusals;
  /** The batch claimed and not yet through deliver() (health() counts it as this process's). */
  private delivering: readonly PendingUsage[] = [];

  constructor(options: UsageBufferOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
    this.refusals = new Refusals(options.now, Math.max(1, options.retryBaseDelayMs), SPLIT_PROBES, options.onParked, options.onResumed);
  }

  /** Stigg refuses every report: the interval waits for the next probe (flush() still tries). */
  get isParked(): boolean {
    return this.refusals.isParked;
  }

  /**
   * Starts the periodic drain; not on Workers (usage is delivered per invocation there, in waitUntil):
   * a tick fired inside a long request chained its drain to that request, and once the request ended
   * the drain never settled, and every later flush waited behind it (measured in workerd: nothing
   * delivered again for the isolate's life).
   */
  start(): void {
    if (this.timer !== undefined || requestScopedTimers) return;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(this.options.flushIntervalMs / 2)));
    unref(this.timer);
  }

  /**
   * A batch still forming is not split by the timer: a partial batch goes once its oldest report has
   * waited flushIntervalMs (so a steady stream makes one call per batchSize reports, and a report
   * waits at most 1.5 × flushIntervalMs for its call). The wait is the oldest unclaimed report's,
   * not the stream's: what is left after a full batch went starts its own. With nothing queued
   * here the tick still drains, picking up what other processes left in a shared outbox.
   */
  private tick(): void {
    if (!this.refusals.mayDrain()) return;
    const queued = this.queuedLocally;
    const oldest = this.arrivals.oldest;
    if (queued > 0 && queued < this.options.batchSize && oldest !== undefined && this.options.now() - oldest < this.options.flushIntervalMs)
      return;
    this.drainAll().catch((error: unknown) => this.options.onStoreError(asError(error)));
  }

  /** Reports this process put in the outbox that no drain has claimed yet. */
  get queued(): number {
    return this.queuedLocally;
  }

  /** This process's share of the outbox for health(): queued here, plus the batch in delivery, and the oldest's time. */
  local(): { depth: number; oldestMs: number | undefined } {
    let oldestMs = this.arrivals.oldest;
    for (const report of this.delivering) oldestMs = Math.min(oldestMs ?? Infinity, Date.parse(report.createdAt));
    return { depth: this.queuedLocally + this.delivering.length, oldestMs };
  }

  /** Stops the interval; a drain already running still finishes. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A report entered the outbox; a full batch is sent without waiting for the interval. */
  notify(): void {
    this.arrivals.add(this.options.now());
    this.queuedLocally += 1;
    if (this.queuedLocally < this.options.batchSize || this.batchKickScheduled || this.batchDrainQueued || !this.refusals.mayDrain())
      return;
    this.batchKickScheduled = true;
    soon(() => {
      this.batchKickScheduled = false;
      if (this.batchDrainQueued || this.queuedLocally < this.options.batchSize) return;
      this.batchDrainQueued = true;
      this.enqueueDrain(false).catch((error: unknown) => this.options.onStoreError(asError(error)));
    });
  }

  /**
   * Delivers everything queued so far, after the drain already running (if any). Until it settles,
   * retry delays hold the process open, so `await close()` in a SIGTERM handler is not cut short.
   */
  flush(): Promise<void> {
    this.waiting += 1;
    for (const sleeper of this.sleepers.keys()) ref(sleeper);
    const done = (): void => {
      this.waiting -= 1;
      if (this.waiting === 0) for (const sleeper of this.sleepers.keys()) unref(sleeper);
    };
    const flushed = this.drainAll();
    flushed.then(done, done);
    return flushed;
  }

  private drainAll(): Promise<void> {
    const stale = requestScopedTimers && this.options.now() - this.flushQueuedAt > STALE_DRAIN_MS;
    if (this.flushQueued !== undefined && !stale) return this.flushQueued;
    const queued = this.enqueueDrain(true);
    this.flushQueued = queued;
    this.flushQueuedAt = this.options.now();
    return queued;
  }

  private enqueueDrain(everything: boolean): Promise<void> {
    const before = requestScopedTimers ? raceTimer(this.tail, STALE_DRAIN_MS, undefined) : this.tail;
    const run = before.then(() => {
      if (everything) this.flushQueued = undefined;
      else this.batchDrainQueued = false;
      return this.drain(everything);
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Stop retrying and sending: what is not delivered stays in the outbox (claimed reports come
   * back to a shared store's other processes when their lease ends). Used by close() at its deadline.
   */
  get isAborted(): boolean {
    return this.aborted;
  }

  abort(): void {
    this.aborted = true;
    this.inFlight?.abort();
    for (const [sleeper, wake] of this.sleepers) {
      clearTimeout(sleeper);
      wake();
    }
    this.sleepers.clear();
  }

  private async drain(everything: boolean): Promise<void> {
    const { store, batchSize, leaseMs } = this.options;
    for (;;) {
      if (this.aborted || (!everything && this.queuedLocally < batchSize)) return;
      let batch: PendingUsage[];
      try {
        const claimed = store.claimUsage(batchSize, leaseMs);
        batch = isThenable(claimed) ? await claimed : claimed;
      } catch (error) {
        this.options.onStoreError(asError(error));
        return;
      }
      this.queuedLocally = Math.max(0, this.queuedLocally - batch.length);
      this.arrivals.take(batch.length);
      if (batch.length === 0) {
        this.queuedLocally = 0;
        this.arrivals.clear();
        return;
      }
      this.delivering = batch;
      const delivered = await this.deliver(batch).finally(() => (this.delivering = []));
      if (!delivered) {
        if (this.aborted) await this.giveBack(batch);
        return;
      }
      if (batch.length < batchSize && everything) return;
    }
  }

  /**
   * Sends `batch` until Stigg takes it; transient failures and a rejected API key are retried and
   * never give a report up. A batch that fails otherwise is split so the others get through: a report
   * refused for good is dropped, loudly, only when Stigg took others (else the outbox is parked, see
   * Refusals); one failing in a way not known to be permanent stays in the outbox (back after its
   * lease), given up only once older than maxAgeMs while Stigg answers. False when draining should
   * stop for now (the failure is everyone's: splitting every batch would only multiply the calls).
   */
  private async deliver(batch: PendingUsage[]): Promise<boolean> {
    const sent = await this.send(batch);
    if (sent.kind === 'delivered') return true;
    if (sent.kind === 'stopped') return false;
    if (batch.length > 1) return this.split(batch, sent.kind === 'refused');
    if (sent.kind === 'refused') {
      // Alone, a report refused cannot be told from a refusal of every report: kept, and the outbox parked.
      this.refusals.park([{ report: batch[0] as PendingUsage, ...sent }]);
      return false;
    }
    return this.failedAlone(batch, sent);
  }

  /** One call until Stigg answers for good: taken (acked), refused, failed otherwise, or stopped (close()'s deadline). */
  private async send(batch: PendingUsage[]): Promise<Sent> {
    const { client, breaker, calls } = this.options;
    const usages = batch.map(toWire);
    const before = await this.prepare(batch);
    for (let attempt = 1; !this.aborted; attempt += 1) {
      let results: UpstreamUsageResult[];
      // A runtime without AbortController sends without a signal (close() then waits for the call).
      const inFlight = (this.inFlight = typeof AbortController === 'function' ? new AbortController() : undefined);
      const startedAt = calls === undefined ? 0 : calls.started();
      try {
        results = await client.reportUsageBulk({ usages }, inFlight && { signal: inFlight.signal });
        calls?.ended(startedAt, 'ok');
      } catch (caught) {
        calls?.ended(startedAt, callOutcome(caught));
        if (this.aborted) break;
        const kind = failureKind(caught);
        if (kind === 'transient' || kind === 'auth') {
          if (kind === 'transient') breaker.failure();
          this.options.onRetry?.(caught, batch);
          await this.sleep(retryDelay(attempt, caught, breaker, this.options.retryBaseDelayMs, this.random));
          continue;
        }
        const error = asError(caught);
        if (kind === 'rejected') return { kind: 'refused', error, code: refusalCode(caught), attempts: attempt };
        return { kind: 'failed', error, caught, attempts: attempt };
      }
      breaker.success();
      this.refusals.accepted();
      const acked = await this.ack(batch);
      const updated = this.options.onDelivered(batch, Array.isArray(results) ? results : [], { before, acked });
      if (isThenable(updated)) await updated;
      return DELIVERED;
    }
    return STOPPED;
  }

  /** A report that failed on its own, not known to be for good: given up once aged while Stigg answers, else left for later. */
  private async failedAlone(batch: PendingUsage[], sent: Failed): Promise<boolean> {
    if (isAged(batch, this.options.now() - this.options.maxAgeMs) && this.options.breaker.state === 'closed') {
      await this.drop(batch, sent.attempts, sent.error);
      return true;
    }
    this.options.onRetry?.(sent.caught, batch);
    return false;
  }

  /**
   * Stopped (close() at its deadline) with claimed reports Stigg has not taken: a shared store puts
   * them back at once for the other processes, rather than leaving them leased to a process that is going.
   */
  private async giveBack(batch: PendingUsage[]): Promise<void> {
    const { store } = this.options;
    if (store.releaseUsage === undefined) return;
    try {
      const released = store.releaseUsage(batch.map((report) => report.id));
      if (isThenable(released)) await released;
    } catch (error) {
      this.options.onStoreError(asError(error));
    }
  }

  /**
   * One report at a time; after SPLIT_PROBES failures in a row, the rest stays in the outbox. After
   * SPLIT_PROBES refusals with nothing taken, the rest goes at once: taken, the refused reports were
   * bad ones and are dropped; refused too, Stigg refuses everything and the outbox is parked. A
   * refused batch whose reports are all taken one by one was a refusal Stigg contradicted.
   */
  private async split(batch: PendingUsage[], batchRefused: boolean): Promise<boolean> {
    const order = this.refusals.order(batch);
    const refused: Refusal[] = [];
    let shown = 0;
    let accepted = 0;
    let failedInARow = 0;
    for (let i = 0; i < order.length && failedInARow < SPLIT_PROBES; i += 1) {
      if (this.aborted) return false;
      if (accepted === 0 && refused.length >= SPLIT_PROBES) {
        const rest = order.slice(i);
        const sent = await this.send(rest);
        if (sent.kind === 'stopped') return false;
        if (sent.kind === 'delivered') accepted += rest.length;
        else if (sent.kind === 'refused') shown = rest.length;
        break;
      }
      const report = order[i] as PendingUsage;
      const sent = await this.send([report]);
      if (sent.kind === 'stopped') return false;
      if (sent.kind === 'delivered') accepted += 1;
      else if (sent.kind === 'refused') refused.push({ report, ...sent });
      if (sent.kind !== 'failed' || (await this.failedAlone([report], sent))) failedInARow = 0;
      else failedInARow += 1;
    }
    if (refused.length > 0 && accepted === 0) {
      this.refusals.park(refused, refused.length + shown);
      return false;
    }
    if (batchRefused && refused.length === 0 && accepted > 0) this.refusals.contradicted();
    if (!(await this.confirmRefusals(refused))) return false;
    if (failedInARow >= SPLIT_PROBES) return false;
    return failedInARow === 0 || failedInARow < batch.length;
  }

  /**
   * Reports refused before Stigg took others are asked once more, now that it takes reports. Refused
   * again, each is dropped (with the full report), unless Stigg took one of them on this second try
   * or lately contradicted itself (see Refusals.contradicted): then it flaps, and what it refused
   * stays in the outbox (claimed: back after leaseMs) for a later drain. False when stopped.
   */
  private async confirmRefusals(refused: readonly Refusal[]): Promise<boolean> {
    const again: Array<Refusal & { readonly more: number }> = [];
    for (const refusal of refused) {
      const sent = await this.send([refusal.report]);
      if (sent.kind === 'stopped') return false;
      if (sent.kind === 'refused') again.push({ ...refusal, error: sent.error, more: sent.attempts });
      else if (sent.kind === 'delivered') this.refusals.contradicted();
      else await this.failedAlone([refusal.report], sent);
    }
    const kept = !this.refusals.trusted;
    if (kept && again.length > 0)
      this.options.onRetry?.(
        (again[0] as Refusal).error,
        again.map(({ report }) => report),
      );
    if (!kept) for (const { report, attempts, more, error } of again) await this.drop([report], attempts + more, error);
    return true;
  }

  private async prepare(batch: PendingUsage[]): Promise<unknown> {
    if (this.options.onDelivering === undefined) return undefined;
    try {
      const prepared = this.options.onDelivering(batch);
      return isThenable(prepared) ? await prepared : prepared;
    } catch (error) {
      this.options.onStoreError(asError(error));
      return undefined;
    }
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
      this.sleepers.set(sleeper, resolve);
    });
  }
}
