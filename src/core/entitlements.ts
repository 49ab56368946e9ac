import { startCheckReports, type CheckReporter } from './check-reports';
import { EntitlementsClosedError } from './errors';
import { onBeforeExit } from '../util/exit-hook';
import { FailurePolicy } from './failure-policy';
import { healthOf } from './health';
import { Fetcher, type Outcome } from './fetcher';
import { validateId, validateInput } from './input';
import { isPlainObject } from '../util/plain-object';
import { Reservations } from './leases';
import { asError, isThenable, noop } from '../util/maybe-promise';
import { MemoryStore } from './memory-store';
import { configure, integerOption, type Configuration, type EntitlementsOptions } from './options';
import { rejectUnknownOptions } from '../util/unknown-options';
import { Runtime } from './runtime';
import { Shadow } from './shadow';
import { DEFAULT_READY_TIMEOUT_MS, probeUpstream } from './readiness';
import { raceTimer } from '../util/timers';
import { isSignedUnitCount } from '../util/unit-count';
import type {
  CheckInput,
  CloseOptions,
  CloseResult,
  ReadyOptions,
  Decision,
  Entitlements,
  EntitlementsEvents,
  Health,
  Lease,
  MaybePromise,
  PendingUsage,
  ShadowCounts,
  UsageReport,
} from './types';
import { UsageLedger } from './usage-ledger';

export type { EntitlementsOptions } from './options';

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** A process that ends on its own with usage still here: how long it stays to deliver it. */
const EXIT_TIMEOUT_MS = 5_000;
/** After close()'s deadline, how long the stopped drain may take to hand a claimed batch back. */
const ABORT_GRACE_MS = 500;

/** Orchestrates the parts: validation, the cached-or-load step, reservations, usage, close(). */
class EntitlementsEngine implements Entitlements {
  private readonly runtime: Runtime;
  private readonly fetcher: Fetcher;
  private readonly ledger: UsageLedger;
  private readonly reservations: Reservations;
  private readonly shadow: Shadow;
  private closed = false;
  private closing: Promise<CloseResult> | undefined;
  /** Reports handed to the app ('usage:undelivered'): what close() resolves with. */
  private readonly handedOver: PendingUsage[] = [];
  /** close()'s timeoutMs, for commits that come after it. */
  private closeTimeoutMs = DEFAULT_CLOSE_TIMEOUT_MS;
  private readonly stopStoreErrors: (() => void) | undefined;
  private readonly leaveExit: () => void;
  private readonly checkReports: CheckReporter | undefined;

  constructor(config: Configuration) {
    this.runtime = new Runtime(config);
    // Collaborators by constructor: the fetcher caches Stigg's usage plus what the ledger has not
    // reported; the ledger tells the fetcher what Stigg acknowledged; a commit after close() is delivered at once.
    this.fetcher = new Fetcher(this.runtime, (key, upstream) => this.ledger.usageOf(key, upstream));
    this.ledger = new UsageLedger(this.runtime, (key, units) => this.fetcher.delivered(key, units));
    const policy = new FailurePolicy(this.runtime);
    this.reservations = new Reservations(this.runtime, this.ledger, policy, (decision, idempotencyKey) => {
      if (this.closed) this.committedAfterClose(decision, idempotencyKey);
    });
    this.shadow = new Shadow(this.runtime, this.reservations);
    this.ledger.buffer.start();
    this.checkReports = startCheckReports(this.runtime);
    const { runtime } = this;
    this.stopStoreErrors = runtime.store.onError?.((error) => {
      runtime.storeError(error);
      if ((error as { dataLost?: unknown }).dataLost !== true) return;
      // The store lost what it held: the reservations of requests at work and the held commits go back now.
      this.reservations.reassert();
      this.ledger.stranded.retry().catch((failure: unknown) => runtime.storeError(asError(failure)));
    });
    this.leaveExit = onBeforeExit({ beforeExit: () => this.deliverBeforeExit() });
  }

  /**
   * The process is about to exit on its own (a job or script that never called close()): with
   * usage not yet delivered, close() within EXIT_TIMEOUT_MS keeps it alive until Stigg took it, or
   * hands what is left over (an event, a log line, or a process warning: never silence). Bounded:
   * close() unregisters this instance, so the next 'beforeExit' lets the process go.
   */
  private deliverBeforeExit(): void {
    if (this.closing !== undefined || !this.holdsUsage()) return;
    void this.close({ timeoutMs: EXIT_TIMEOUT_MS });
  }

  /** Usage this process queued and Stigg has not taken (a shared store's outbox outlives the process). */
  private holdsUsage(): boolean {
    const { store } = this.runtime;
    if (this.ledger.stranded.size > 0) return true;
    return store instanceof MemoryStore ? store.pendingUsageCount > 0 : this.ledger.buffer.queued > 0;
  }

  acquire(input: CheckInput): MaybePromise<Lease> {
    if (this.closed) throw this.closedError('acquire()', input);
    const requested = validateInput(input, 'acquire()');
    const key = this.runtime.keys.get(input.customerId, input.resourceId, input.featureId);
    const outcome = this.reservations.asLease;
    const lease = this.shadow.applies(input)
      ? this.shadow.lease(input, requested, key, () => this.resolve(input, requested, key, outcome))
      : this.resolve(input, requested, key, outcome);
    return this.runtime.events.has('decision') ? this.announce(lease, leaseDecision) : lease;
  }

  check(input: CheckInput): MaybePromise<Decision> {
    if (this.closed) throw this.closedError('check()', input);
    const requested = validateInput(input, 'check()');
    const key = this.runtime.keys.get(input.customerId, input.resourceId, input.featureId);
    const outcome = this.reservations.asDecision;
    const decision = this.shadow.applies(input)
      ? this.shadow.decision(input, requested, () => this.resolve(input, requested, key, outcome))
      : this.resolve(input, requested, key, outcome);
    return this.runtime.events.has('decision') ? this.announce(decision, sameDecision) : decision;
  }

  /** The decision (or lease) enforcement makes: from the cache, else from Stigg, else by the failure policy. */
  private resolve<T>(input: CheckInput, requested: number, key: string, outcome: Outcome<T>): MaybePromise<T> {
    const cached = this.runtime.readCache(key);
    return isThenable(cached)
      ? cached.then((value) => this.fetcher.resolve(input, requested, key, value, outcome))
      : this.fetcher.resolve(input, requested, key, cached, outcome);
  }

  shadowCounts(): ShadowCounts {
    return this.shadow.counts();
  }

  /** Emits 'decision' for a result of check()/acquire() once it is known; the result passes through. */
  private announce<T>(result: MaybePromise<T>, decisionOf: (value: T) => Decision): MaybePromise<T> {
    const emit = (value: T): T => {
      this.runtime.events.emit('decision', decisionOf(value));
      return value;
    };
    return isThenable(result) ? result.then(emit) : emit(result);
  }

  report(report: UsageReport): MaybePromise<void> {
    if (this.closed) throw this.closedError('report()', report);
    if (!isPlainObject(report)) throw new TypeError('report() expects { customerId, featureId, value, resourceId?, updateBehavior? }.');
    validateInput({ customerId: report.customerId, featureId: report.featureId, resourceId: report.resourceId }, 'report()');
    if (!isSignedUnitCount(report.value)) {
      throw new TypeError(`report(): ${String(report.value)} is not a valid value. Please pass a number within ±Number.MAX_SAFE_INTEGER.`);
    }
    const behavior = report.updateBehavior ?? 'DELTA';
    if (behavior !== 'DELTA' && behavior !== 'SET') {
      throw new TypeError(`report(): ${String(behavior)} is not a valid updateBehavior. Please choose 'DELTA' (default) or 'SET'.`);
    }
    const key = this.runtime.keys.get(report.customerId, report.resourceId, report.featureId);
    const pending = this.ledger.pending(report.customerId, report.resourceId ?? undefined, report.featureId, report.value, behavior);
    // The places of granted leases still at work are theirs: a report must not fill the outbox under them.
    return this.ledger.enqueue(key, pending, undefined, false, this.reservations.held());
  }

  invalidate(customerId: string): MaybePromise<void> {
    validateId(customerId, 'customerId', 'invalidate()');
    this.fetcher.invalidate(customerId);
    return this.runtime.store.invalidateCustomer(customerId);
  }

  flush(): Promise<void> {
    return this.ledger.buffer.flush();
  }

  async ready(options?: ReadyOptions): Promise<void> {
    if (this.closed) throw new EntitlementsClosedError('ready()');
    await probeUpstream(this.runtime.config.client, timeoutOf(options, 'ready()', DEFAULT_READY_TIMEOUT_MS, 1));
  }

  health(): Health {
    return healthOf(this.runtime, this.ledger.buffer, this.ledger.stranded.size, this.closed);
  }

  close(options?: CloseOptions): Promise<CloseResult> {
    if (this.closing !== undefined) return this.closing;
    const timeoutMs = timeoutOf(options, 'close()', DEFAULT_CLOSE_TIMEOUT_MS, 0);
    this.closeTimeoutMs = timeoutMs;
    this.closed = true;
    this.leaveExit();
    this.ledger.buffer.stop();
    this.reservations.stop();
    this.closing = Promise.all([this.shutdown(timeoutMs), this.checkReports?.close(timeoutMs)]).then(() => ({
      undelivered: this.handedOver.slice(),
    }));
    return this.closing;
  }

  /** A lease committed after close() (its request outlived the shutdown): delivered now, or handed over. */
  private committedAfterClose(decision: Decision, idempotencyKey: string): void {
    const timeoutMs = this.closeTimeoutMs;
    this.runtime.config.logger.warn(
      { featureId: decision.featureId, idempotencyKey },
      'A lease was committed after entitlements.close(); delivering its usage now',
    );
    if (this.ledger.buffer.isAborted) {
      this.handOver(timeoutMs);
      this.handOverRefused(timeoutMs);
    } else this.lateFlush(timeoutMs);
  }

  /** Gated requests during shutdown answer 503 with Retry-After, naming the feature when it is a string. */
  private closedError(what: string, input: unknown): EntitlementsClosedError {
    const featureId = isPlainObject(input) && typeof input['featureId'] === 'string' ? input['featureId'] : null;
    return new EntitlementsClosedError(what, featureId, this.runtime.config.retryAfterSeconds);
  }

  on<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this {
    this.runtime.events.on(event, listener);
    return this;
  }

  off<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this {
    this.runtime.events.off(event, listener);
    return this;
  }

  /**
   * Commits still on their way into the outbox land first (so the last flush sends them), then the
   * flush, then every store write started here (cache updates from that flush included), and only
   * then a store this instance created is closed. At the deadline delivery stops: nothing is acked
   * that Stigg did not take, so a shared store keeps it; a memory store's reports are handed over.
   */
  private async shutdown(timeoutMs: number): Promise<void> {
    const { runtime } = this;
    const buffer = this.ledger.buffer;
    const work = this.drain();
    work.catch(noop);
    try {
      if ((await raceTimer(work, timeoutMs, 'timeout' as const, true)) === 'timeout') {
        buffer.abort();
        this.handOver(timeoutMs);
        // The drain winds down: a shared store gets the batch in hand back (unless a call to Stigg is still out).
        if (runtime.store.releaseUsage !== undefined) await raceTimer(work, ABORT_GRACE_MS, undefined);
      } else if (runtime.store instanceof MemoryStore && runtime.store.pendingUsageCount > 0) {
        // Delivered what Stigg would take; the rest (refused by a parked outbox, failing) is the app's to keep.
        this.handOver(timeoutMs, false);
      } else {
        this.handOverStranded(timeoutMs);
      }
    } finally {
      this.stopStoreErrors?.();
      if (runtime.config.ownsStore) await runtime.store.close?.();
    }
  }

  /** Commits on their way land (or are stranded: the store refused them), the outbox is flushed, store writes settle. */
  private async drain(): Promise<'done'> {
    await this.runtime.settle();
    await this.ledger.stranded.retry();
    await this.ledger.buffer.flush();
    await this.runtime.settle();
    return 'done';
  }

  /**
   * A commit after close(): delivered within timeoutMs, else delivery stops and what is left is
   * handed over as at close()'s deadline (retried without end, it would be lost when the process exits).
   * A commit the store refused (closed by the app, Redis down) is handed over too, once it is known.
   */
  private lateFlush(timeoutMs: number): void {
    const { ledger } = this;
    raceTimer(this.drain(), timeoutMs, 'timeout' as const, true).then((result) => {
      // A commit the store never took (closed by the app, Redis down) is the app's to keep too.
      if (result === 'done' && !ledger.buffer.isAborted) this.handOverStranded(timeoutMs);
      else {
        ledger.buffer.abort();
        this.handOver(timeoutMs);
        this.handOverRefused(timeoutMs);
      }
    }, noop);
  }

  /** A late commit the store refuses after the hand-over (closed by the app, Redis down or slow): that too, once known. */
  private handOverRefused(timeoutMs: number): void {
    void this.runtime.settle().then(() => this.handOverStranded(timeoutMs));
  }

  /** Commits the store never took (Redis down at the end): only the app can keep them now. */
  private handOverStranded(timeoutMs: number): void {
    const stranded = this.ledger.stranded.take();
    if (stranded.length === 0) return;
    this.runtime.config.logger.error(
      { timeoutMs, reports: stranded.length },
      `entitlements.close() ends with ${stranded.length} usage reports the "${this.runtime.store.name}" store could not take; they are in the 'usage:undelivered' event (send them again with the same idempotency keys)`,
    );
    for (const report of stranded) this.handedOver.push(report);
    this.runtime.emit('usage:undelivered', stranded);
  }

  /** close() ran out of time, or Stigg refused what is left: say so, and give a memory store's reports to the app. */
  private handOver(timeoutMs: number, timedOut = true): void {
    const { store, config } = this.runtime;
    this.handOverStranded(timeoutMs);
    if (!(store instanceof MemoryStore)) {
      config.logger.warn(
        { timeoutMs },
        `entitlements.close() stopped delivering usage after ${timeoutMs} ms; what Stigg has not taken stays in the "${store.name}" store's outbox for the next process`,
      );
      return;
    }
    const reports = store.takePendingUsage();
    if (reports.length === 0) return;
    config.logger.error(
      { timeoutMs, reports: reports.length, units: reports.reduce((sum, report) => sum + report.value, 0) },
      `entitlements.close() ${timedOut ? `stopped after ${timeoutMs} ms` : 'ends'} with ${reports.length} usage reports Stigg has not taken; they are in the 'usage:undelivered' event (send them again with the same idempotency keys)`,
    );
    for (const report of reports) this.handedOver.push(report);
    this.runtime.emit('usage:undelivered', reports);
  }
}

/** The `{ timeoutMs? }` of ready() and close(): the default when absent, a fix-it TypeError when wrong. */
function timeoutOf(options: ReadyOptions | CloseOptions | undefined, method: string, fallback: number, min: number): number {
  if (options === undefined) return fallback;
  if (!isPlainObject(options)) throw new TypeError(`${method} takes { timeoutMs? }.`);
  rejectUnknownOptions(options, ['timeoutMs'], method);
  return integerOption('timeoutMs', options.timeoutMs, fallback, min);
}

/**
 * The gate's engine: a local cache of Stigg entitlements with in-flight coalescing, reservations,
 * a fallback policy behind a circuit breaker, and buffered, exactly-once usage reporting.
 */
export function createEntitlements(options: EntitlementsOptions): Entitlements {
  return new EntitlementsEngine(configure(options));
}

const leaseDecision = (lease: Lease): Decision => lease.decision;
const sameDecision = (decision: Decision): Decision => decision;
