import { EntitlementsClosedError } from './errors';
import { FailurePolicy } from './failure-policy';
import { Fetcher } from './fetcher';
import { isPlainObject, validateId, validateInput } from './input';
import { Reservations } from './leases';
import { isThenable, noop } from './maybe-promise';
import { configure, type Configuration, type EntitlementsOptions } from './options';
import { Runtime } from './runtime';
import type { CheckInput, Decision, Entitlements, EntitlementsEvents, Lease, MaybePromise, UsageReport } from './types';
import { UsageLedger } from './usage-ledger';

export type { EntitlementsOptions } from './options';

/** Orchestrates the parts: validation, the cached-or-load step, reservations, usage, close(). */
class EntitlementsEngine implements Entitlements {
  private readonly runtime: Runtime;
  private readonly fetcher: Fetcher;
  private readonly ledger: UsageLedger;
  private readonly reservations: Reservations;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(config: Configuration) {
    this.runtime = new Runtime(config);
    this.fetcher = new Fetcher(this.runtime);
    this.ledger = new UsageLedger(this.runtime);
    this.reservations = new Reservations(this.runtime, this.ledger, new FailurePolicy(this.runtime));
    this.fetcher.unreportedUnits = (key) => this.ledger.unreportedUnits(key);
    this.ledger.onAcknowledged = (key, units) => this.fetcher.delivered(key, units);
    this.ledger.buffer.start();
  }

  acquire(input: CheckInput): MaybePromise<Lease> {
    if (this.closed) throw new EntitlementsClosedError('acquire()');
    const requested = validateInput(input, 'acquire()');
    const key = this.runtime.keys.get(input.customerId, input.resourceId, input.featureId);
    const cached = this.runtime.readCache(key);
    const outcome = this.reservations.asLease;
    if (isThenable(cached)) return cached.then((value) => this.fetcher.resolve(input, requested, key, value, outcome));
    return this.fetcher.resolve(input, requested, key, cached, outcome);
  }

  check(input: CheckInput): MaybePromise<Decision> {
    if (this.closed) throw new EntitlementsClosedError('check()');
    const requested = validateInput(input, 'check()');
    const key = this.runtime.keys.get(input.customerId, input.resourceId, input.featureId);
    const cached = this.runtime.readCache(key);
    const outcome = this.reservations.asDecision;
    if (isThenable(cached)) return cached.then((value) => this.fetcher.resolve(input, requested, key, value, outcome));
    return this.fetcher.resolve(input, requested, key, cached, outcome);
  }

  report(report: UsageReport): MaybePromise<void> {
    if (this.closed) throw new EntitlementsClosedError('report()');
    if (!isPlainObject(report)) throw new TypeError('report() expects { customerId, featureId, value, resourceId?, updateBehavior? }.');
    validateInput({ customerId: report.customerId, featureId: report.featureId, resourceId: report.resourceId }, 'report()');
    if (typeof report.value !== 'number' || !Number.isFinite(report.value)) {
      throw new TypeError(`report(): ${String(report.value)} is not a valid value. Please pass a finite number.`);
    }
    const behavior = report.updateBehavior ?? 'DELTA';
    if (behavior !== 'DELTA' && behavior !== 'SET') {
      throw new TypeError(`report(): ${String(behavior)} is not a valid updateBehavior. Please choose 'DELTA' (default) or 'SET'.`);
    }
    const key = this.runtime.keys.get(report.customerId, report.resourceId, report.featureId);
    const pending = this.ledger.pending(report.customerId, report.resourceId ?? undefined, report.featureId, report.value, behavior);
    return this.ledger.enqueue(key, pending, undefined);
  }

  invalidate(customerId: string): MaybePromise<void> {
    validateId(customerId, 'customerId', 'invalidate()');
    this.fetcher.invalidate(customerId);
    return this.runtime.store.invalidateCustomer(customerId);
  }

  flush(): Promise<void> {
    return this.ledger.buffer.flush();
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    this.ledger.buffer.stop();
    this.reservations.afterClose = (decision, idempotencyKey) => {
      this.runtime.config.logger.warn({ featureId: decision.featureId, idempotencyKey }, 'A lease was committed after entitlements.close(); delivering its usage now');
      this.ledger.buffer.flush().catch(noop);
    };
    this.closing = this.shutdown();
    return this.closing;
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
   * then a store this instance created is closed.
   */
  private async shutdown(): Promise<void> {
    const { runtime } = this;
    await runtime.settle();
    try {
      await this.ledger.buffer.flush();
    } finally {
      await runtime.settle();
      if (runtime.config.ownsStore) await runtime.store.close?.();
    }
  }
}

/**
 * The gate's engine: a local cache of Stigg entitlements with in-flight coalescing, reservations,
 * a fallback policy behind a circuit breaker, and buffered, exactly-once usage reporting.
 */
export function createEntitlements(options: EntitlementsOptions): Entitlements {
  return new EntitlementsEngine(configure(options));
}
