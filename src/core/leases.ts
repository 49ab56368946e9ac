import { decide, isLimited, needsReservation, reservedDecision } from './decide';
import type { FailurePolicy } from './failure-policy';
import type { Outcome } from './fetcher';
import { asError, isThenable } from './maybe-promise';
import type { Runtime } from './runtime';
import type { CachedEntitlement, CheckInput, Decision, DecisionSource, Lease, MaybePromise, ReserveResult } from './types';
import type { UsageLedger } from './usage-ledger';

/** Exactly one of commit/release takes effect; a denied lease does nothing. */
class EntitlementLease implements Lease {
  private settled: boolean;

  constructor(
    private readonly owner: Reservations,
    private readonly key: string,
    readonly decision: Decision,
    private readonly reservationId: string | undefined,
  ) {
    this.settled = !decision.granted;
  }

  commit(): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.commit(this.key, this.decision, this.reservationId);
  }

  release(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.reservationId !== undefined) this.owner.release(this.key, this.reservationId);
  }
}

/**
 * Decisions against a cached entitlement, with the units other requests hold counted in, and for
 * acquire() the reservation that holds the granted units until commit or release.
 */
export class Reservations {
  readonly asLease: Outcome<Lease>;
  readonly asDecision: Outcome<Decision>;
  /** Called after a lease was committed once the engine is closed. */
  afterClose: ((decision: Decision, idempotencyKey: string) => void) | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly ledger: UsageLedger,
    private readonly policy: FailurePolicy,
  ) {
    this.asLease = {
      from: (input, requested, key, value, source) => this.lease(input, requested, key, value, source),
      failed: (input, requested, key, error) => new EntitlementLease(this, key, policy.decide(input, requested, error), undefined),
    };
    this.asDecision = {
      from: (input, requested, key, value, source) => this.decision(input, requested, key, value, source),
      failed: (input, requested, _key, error) => policy.decide(input, requested, error),
    };
  }

  /** Never blocks on Stigg. */
  commit(key: string, decision: Decision, reservationId: string | undefined): void {
    if (!decision.metered) {
      if (reservationId !== undefined) this.release(key, reservationId);
      return;
    }
    const report = this.ledger.pending(decision.customerId, decision.resourceId, decision.featureId, decision.requestedUsage, 'DELTA');
    const queued = this.ledger.enqueue(key, report, reservationId);
    if (isThenable(queued)) this.runtime.background(queued);
    this.afterClose?.(decision, report.idempotencyKey);
  }

  release(key: string, reservationId: string): void {
    try {
      const released = this.runtime.store.release(key, reservationId);
      if (isThenable(released)) this.runtime.background(released.catch((error: unknown) => this.runtime.storeError(asError(error))));
    } catch (error) {
      this.runtime.storeError(asError(error));
    }
  }

  private lease(input: CheckInput, requested: number, key: string, cached: CachedEntitlement, source: DecisionSource): MaybePromise<Lease> {
    if (!needsReservation(cached, requested)) {
      const decision = this.decision(input, requested, key, cached, source);
      if (isThenable(decision)) return decision.then((value) => new EntitlementLease(this, key, value, undefined));
      return new EntitlementLease(this, key, decision, undefined);
    }
    let reserved: MaybePromise<ReserveResult>;
    try {
      reserved = this.runtime.store.reserve(key, requested, cached.usageLimit as number, this.runtime.config.reservationTtlMs);
    } catch (error) {
      return this.unreserved(input, requested, key, error);
    }
    if (isThenable(reserved)) {
      this.runtime.background(reserved);
      return reserved.then(
        (result) => this.reservedLease(input, requested, key, cached, source, result),
        (error: unknown) => this.unreserved(input, requested, key, error),
      );
    }
    return this.reservedLease(input, requested, key, cached, source, reserved);
  }

  private reservedLease(input: CheckInput, requested: number, key: string, cached: CachedEntitlement, source: DecisionSource, result: ReserveResult): Lease {
    const granted = result.ok && result.reservationId !== undefined;
    const currentUsage = granted ? result.currentUsage - requested : result.currentUsage;
    const decision = reservedDecision(input, requested, cached, granted, currentUsage, source);
    return new EntitlementLease(this, key, decision, granted ? result.reservationId : undefined);
  }

  /**
   * The store could not reserve (e.g. Redis down or timed out). The cached usage alone cannot hold
   * the limit across processes, so this is no decision: the store error is reported and the failure
   * policy applies (the feature's fallback, else fail closed or open), as when Stigg is unreachable.
   */
  private unreserved(input: CheckInput, requested: number, key: string, error: unknown): Lease {
    this.runtime.storeError(asError(error));
    return new EntitlementLease(this, key, this.policy.decide(input, requested, error), undefined);
  }

  private decision(input: CheckInput, requested: number, key: string, cached: CachedEntitlement, source: DecisionSource): MaybePromise<Decision> {
    const { store } = this.runtime;
    if (store.reservedUsage === undefined || !isLimited(cached)) {
      return decide(input, requested, cached, cached.currentUsage, source);
    }
    let reserved: MaybePromise<number>;
    try {
      reserved = store.reservedUsage(key);
    } catch (error) {
      this.runtime.storeError(asError(error));
      reserved = 0;
    }
    if (isThenable(reserved)) {
      return reserved.then(
        (units) => decide(input, requested, cached, cached.currentUsage + units, source),
        (error: unknown) => {
          this.runtime.storeError(asError(error));
          return decide(input, requested, cached, cached.currentUsage, source);
        },
      );
    }
    return decide(input, requested, cached, cached.currentUsage + reserved, source);
  }
}
