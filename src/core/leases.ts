import { decide, isLimited, isMetered, needsReservation, reservationLimitOf, reservedDecision } from './decide';
import type { FailurePolicy, FallbackGrant, FallbackTotal } from './failure-policy';
import type { Outcome } from './fetcher';
import { asError, isThenable, noop } from '../util/maybe-promise';
import type { Runtime } from './runtime';
import type { CachedEntitlement, CheckInput, Decision, DecisionSource, Lease, MaybePromise, ReserveResult } from './types';
import { Overruns } from './overrun';
import { isUnitCount } from '../util/unit-count';
import { unref } from '../util/timers';
import { UnsettledLeases } from './unsettled';
import type { UsageLedger } from './usage-ledger';

/** settle()'s argument: a count of units the work used. */
export function checkActualUnits(actualUnits: unknown): asserts actualUnits is number {
  if (!isUnitCount(actualUnits)) {
    throw new TypeError(
      `settle() takes the units the work used, a number >= 0 and at most Number.MAX_SAFE_INTEGER; got ${String(actualUnits)}`,
    );
  }
}

/** Exactly one of commit/release/settle takes effect; a denied lease does nothing. */
class EntitlementLease implements Lease {
  private settled: boolean;
  /** The time bucket this granted metered lease is counted in (Reservations.unsettled), or undefined. */
  private counted: number | undefined;
  /** When the reservation was made (renewals stop after reservationMaxMs). */
  reservedAt = 0;
  /** Its client left mid-work: no longer renewed, its reservation may have lapsed by the commit. */
  wasAbandoned = false;
  /** Links of Reservations' list of live leases. */
  live = false;
  prevLive: EntitlementLease | undefined = undefined;
  nextLive: EntitlementLease | undefined = undefined;

  constructor(
    private readonly owner: Reservations,
    readonly key: string,
    /** Replaced only by Reservations.shadowed() (the same grant, marked not enforced). */
    public decision: Decision,
    readonly reservationId: string | undefined,
    /** The fallback total a fallback grant took its units from (released units go back there only). */
    private readonly fallbackTotal?: FallbackTotal,
  ) {
    this.settled = !decision.granted;
    // A granted metered request will commit a report: the outbox must have room for it (usageRefusal).
    if (decision.granted && decision.metered && decision.requestedUsage > 0) this.counted = owner.count();
  }

  commit(): void {
    if (this.settled) return;
    this.markSettled();
    this.owner.commit(this, this.key, this.decision, this.reservationId, this.decision.requestedUsage);
  }

  release(): void {
    if (this.settled) return;
    this.markSettled();
    if (this.reservationId !== undefined) this.owner.release(this.key, this.reservationId, this);
    else if (this.decision.source === 'fallback') this.owner.policy.giveBack(this.key, this.decision.requestedUsage, this.fallbackTotal);
  }

  settle(actualUnits: number): void {
    checkActualUnits(actualUnits);
    if (this.settled) return;
    if (actualUnits === 0 || !this.decision.metered) {
      if (actualUnits === 0) this.release();
      else this.commit();
      return;
    }
    this.markSettled();
    // Units a fallback grant took from its total and did not use go back to it; units used past the
    // reservation are taken from it (negative unused), so an overrun counts against the fallback's limit too.
    const unused = this.decision.requestedUsage - actualUnits;
    if (unused !== 0 && this.reservationId === undefined && this.decision.source === 'fallback') {
      this.owner.policy.giveBack(this.key, unused, this.fallbackTotal);
    }
    this.owner.commit(this, this.key, this.decision, this.reservationId, actualUnits);
  }

  abandoned(): void {
    if (this.settled) return;
    this.wasAbandoned = true;
    this.owner.unhold(this);
  }

  private markSettled(): void {
    this.settled = true;
    if (this.counted !== undefined) this.owner.uncount(this.counted);
    this.counted = undefined;
  }
}

/**
 * Decisions against a cached entitlement, with the units other requests hold counted in, and for
 * acquire() the reservation that holds the granted units until commit or release.
 */
export class Reservations {
  readonly asLease: Outcome<Lease>;
  readonly asDecision: Outcome<Decision>;
  /** `committed`: a lease's usage went to the ledger (the engine delivers it at once once closed). */
  constructor(
    private readonly runtime: Runtime,
    private readonly ledger: UsageLedger,
    readonly policy: FailurePolicy,
    private readonly committed: (decision: Decision, idempotencyKey: string) => void = noop,
  ) {
    this.unsettled = new UnsettledLeases(runtime);
    this.overruns = new Overruns(runtime);
    this.asLease = {
      from: (input, requested, key, value, source) => this.lease(input, requested, key, value, source),
      failed: (input, requested, key, error) => this.byPolicy(input, requested, key, error, 'upstream'),
    };
    this.asDecision = {
      from: (input, requested, key, value, source) => this.decision(input, requested, key, value, source),
      failed: (input, requested, key, error) => policy.decide(input, requested, key, error, 'upstream', false),
    };
  }

  /**
   * Leases holding a reservation, renewed while their request is at work (stores with
   * renewReservation): a list linked through the leases, as a Set churned by one add and one delete
   * per request spends ~150 ns rehashing.
   */
  private liveHead: EntitlementLease | undefined;
  /** Granted metered leases not yet committed or released (the outbox bound counts them). */
  private readonly unsettled: UnsettledLeases;
  private readonly overruns: Overruns;
  private renewTimer: ReturnType<typeof setInterval> | undefined;

  /** Counts a granted metered lease; returns its bucket for uncount(). */
  count(): number {
    return this.unsettled.count();
  }

  uncount(bucket: number): void {
    this.unsettled.uncount(bucket);
  }

  /** Granted metered leases at work (see UnsettledLeases.held). */
  held(): number {
    return this.unsettled.held();
  }

  /** Reports `units` for a granted lease, its reservation dropped in the same store call. Never blocks on Stigg. */
  commit(lease: EntitlementLease, key: string, decision: Decision, reservationId: string | undefined, units: number): void {
    this.unhold(lease);
    if (!decision.metered || units === 0) {
      if (reservationId !== undefined) this.release(key, reservationId, lease);
      return;
    }
    const report = this.ledger.pending(decision.customerId, decision.resourceId, decision.featureId, units, 'DELTA');
    let queued: MaybePromise<void>;
    try {
      queued = this.ledger.enqueue(key, report, reservationId, true);
    } catch {
      // The store refused it (e.g. the memory outbox is full): already reported as 'usage:dropped'
      // with the whole report. commit() runs after the response: it must not throw there.
      return;
    }
    // Past the limit, by the usage once the commit is in (./overrun): an abandoned lease's reservation
    // may have lapsed; a settle may report more than was reserved.
    if (lease.wasAbandoned && reservationId !== undefined) this.overruns.judge(key, decision, units, queued, 'lapsed');
    else if (units > decision.requestedUsage) this.overruns.judge(key, decision, units, queued, 'settled');
    else if (this.overruns.watching(key)) this.overruns.committed(key, queued);
    else if (isThenable(queued)) this.runtime.background(queued);
    this.committed(decision, report.idempotencyKey);
  }

  release(key: string, reservationId: string, lease: EntitlementLease): void {
    this.unhold(lease);
    try {
      let released = this.runtime.store.release(key, reservationId);
      if (isThenable(released)) released = released.catch((error: unknown) => this.runtime.storeError(asError(error)));
      // A watched settle (./overrun) whose held units go back can no longer be passed by them.
      if (this.overruns.watching(key)) this.overruns.committed(key, released);
      else if (isThenable(released)) this.runtime.background(released);
    } catch (error) {
      this.runtime.storeError(asError(error));
    }
  }

  private lease(input: CheckInput, requested: number, key: string, cached: CachedEntitlement, source: DecisionSource): MaybePromise<Lease> {
    if (requested > 0 && cached.accessDeniedReason === null && isMetered(cached)) {
      this.refuseIfOutboxFull(input, key);
    }
    if (!needsReservation(cached, requested)) {
      if (source === 'upstream') this.policy.recovered(key);
      const decision = this.decision(input, requested, key, cached, source);
      if (isThenable(decision)) return decision.then((value) => new EntitlementLease(this, key, value, undefined));
      return new EntitlementLease(this, key, decision, undefined);
    }
    let reserved: MaybePromise<ReserveResult>;
    try {
      reserved = this.runtime.store.reserve(
        key,
        requested,
        reservationLimitOf(cached),
        this.runtime.config.reservationTtlMs,
        cached.currentUsage,
      );
    } catch (error) {
      return this.unreserved(input, requested, key, cached, source, error);
    }
    if (isThenable(reserved)) {
      this.runtime.background(reserved);
      return reserved.then(
        (result) => this.reservedLease(input, requested, key, cached, source, result),
        (error: unknown) => this.unreserved(input, requested, key, cached, source, error),
      );
    }
    return this.reservedLease(input, requested, key, cached, source, reserved);
  }

  private reservedLease(
    input: CheckInput,
    requested: number,
    key: string,
    cached: CachedEntitlement,
    source: DecisionSource,
    result: ReserveResult,
  ): Lease {
    // Stigg answered and the store could reserve: a later outage starts a new fallback total.
    if (source === 'upstream') this.policy.recovered(key);
    const granted = result.ok && result.reservationId !== undefined;
    const currentUsage = granted ? result.currentUsage - requested : result.currentUsage;
    const decision = reservedDecision(input, requested, cached, granted, currentUsage, source);
    const lease = new EntitlementLease(this, key, decision, granted ? result.reservationId : undefined);
    if (granted && this.runtime.store.renewReservation !== undefined) this.hold(lease);
    return lease;
  }

  /**
   * Shadow mode (./shadow): a grant keeps its lease, marked with `decision`; a would-be denial or 503
   * (no lease) gets one holding nothing, whose commit reports the units when `decision.metered`.
   */
  shadowed(key: string, lease: Lease | undefined, decision: Decision): Lease {
    if (lease === undefined || !lease.decision.granted) return new EntitlementLease(this, key, decision, undefined);
    (lease as EntitlementLease).decision = decision;
    return lease;
  }

  /** Stops the renewals (close()). */
  stop(): void {
    this.stopRenewing();
    this.overruns.stop();
  }

  private stopRenewing(): void {
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private hold(lease: EntitlementLease): void {
    lease.reservedAt = this.runtime.config.steadyNow();
    lease.live = true;
    lease.nextLive = this.liveHead;
    if (this.liveHead !== undefined) this.liveHead.prevLive = lease;
    this.liveHead = lease;
    if (this.renewTimer !== undefined) return;
    const every = Math.max(1, Math.floor(this.runtime.config.reservationTtlMs / 3));
    this.renewTimer = unref(setInterval(() => this.renew(), every));
  }

  /** Stops renewing `lease` (settled, or abandoned: its reservation then lapses after reservationTtlMs). */
  unhold(lease: EntitlementLease): void {
    if (!lease.live) return;
    lease.live = false;
    const { prevLive, nextLive } = lease;
    if (prevLive === undefined) this.liveHead = nextLive;
    else prevLive.nextLive = nextLive;
    if (nextLive !== undefined) nextLive.prevLive = prevLive;
    lease.prevLive = undefined;
    lease.nextLive = undefined;
  }

  /**
   * A request still at work keeps its units: each reservation is extended before it would expire,
   * up to reservationMaxMs (a request that never settles must not hold units forever).
   */
  private renew(): void {
    const { store, config } = this.runtime;
    if (this.liveHead === undefined) {
      this.stopRenewing();
      return;
    }
    const now = config.steadyNow(); // a step of the wall clock must not age every request at work
    let next: EntitlementLease | undefined;
    for (let lease: EntitlementLease | undefined = this.liveHead; lease !== undefined; lease = next) {
      next = lease.nextLive;
      const reservationId = lease.reservationId as string;
      if (now - lease.reservedAt >= config.reservationMaxMs) {
        this.unhold(lease);
        config.logger.warn(
          { featureId: lease.decision.featureId, requestedUsage: lease.decision.requestedUsage, heldMs: now - lease.reservedAt },
          'A lease was neither committed nor released within reservationMaxMs: its units are no longer held (a commit still reports them)',
        );
        continue;
      }
      const lost = (): void => {
        // Gone while its request is at work (a store that lost its data, a stalled process): put it back.
        if (store.reassertReservation !== undefined) {
          this.reassertOne(lease);
          return;
        }
        this.unhold(lease);
        config.logger.warn(
          { featureId: lease.decision.featureId, requestedUsage: lease.decision.requestedUsage },
          'A reservation expired while its request was at work: its units may be granted again (a commit still reports them)',
        );
      };
      try {
        const renewed = store.renewReservation?.(lease.key, reservationId, config.reservationTtlMs);
        if (isThenable(renewed)) {
          this.runtime.background(
            renewed.then(
              (ok) => (ok ? undefined : lost()),
              (error: unknown) => this.runtime.storeError(asError(error)),
            ),
          );
        } else if (renewed === false) lost();
      } catch (error) {
        this.runtime.storeError(asError(error));
      }
    }
  }

  /** The store lost its data: every reservation of a request still at work is put back (Store.reassertReservation). */
  reassert(): void {
    for (let lease = this.liveHead; lease !== undefined; lease = lease.nextLive) this.reassertOne(lease);
  }

  private reassertOne(lease: EntitlementLease): void {
    const { store, config } = this.runtime;
    try {
      const put = store.reassertReservation?.(
        lease.key,
        lease.reservationId as string,
        lease.decision.requestedUsage,
        config.reservationTtlMs,
      );
      if (isThenable(put)) this.runtime.background(put.catch((error: unknown) => this.runtime.storeError(asError(error))));
    } catch (error) {
      this.runtime.storeError(asError(error));
    }
  }

  /**
   * The store could not reserve (e.g. Redis down or timed out). The cached usage alone cannot hold
   * the limit across processes, so this is no decision: the store error is reported and the failure
   * policy applies (the feature's fallback, else fail closed or open), as when Stigg is unreachable.
   * A soft limit refuses nothing: it is decided from the cached usage, as Stigg would (only the
   * count of units other requests hold is missing from it).
   */
  private unreserved(
    input: CheckInput,
    requested: number,
    key: string,
    cached: CachedEntitlement,
    source: DecisionSource,
    error: unknown,
  ): MaybePromise<Lease> {
    this.runtime.storeError(asError(error));
    if (cached.hasSoftLimit === true) {
      if (source === 'upstream') this.policy.recovered(key);
      return new EntitlementLease(this, key, decide(input, requested, cached, cached.currentUsage, source), undefined);
    }
    return this.byPolicy(input, requested, key, error, 'store');
  }

  /** No decision from Stigg or the store: the failure policy, with the outbox bound for what it would serve. */
  private byPolicy(input: CheckInput, requested: number, key: string, error: unknown, origin: 'upstream' | 'store'): MaybePromise<Lease> {
    if (requested > 0 && this.policy.mayGrant(input.featureId)) this.refuseIfOutboxFull(input, key);
    const granted = this.policy.grant(input, requested, key, error, origin);
    const lease = ({ decision, total }: FallbackGrant): Lease => new EntitlementLease(this, key, decision, undefined, total);
    return isThenable(granted) ? granted.then(lease) : lease(granted);
  }

  /**
   * A metered request served and then its report refused (a full memory outbox, or the commits a
   * shared store refused filling what the process holds) is a unit lost. So a full outbox answers 503 (EntitlementUnavailableError): not the fallback, not fail open, which
   * would serve exactly that unit.
   */
  private refuseIfOutboxFull(input: CheckInput, key: string): void {
    const refusal = this.outboxRefusal(key);
    if (refusal === undefined) return;
    this.runtime.storeError(refusal);
    throw this.policy.unavailable(input, refusal);
  }

  /** Why a report for `key` could not be queued now (a full outbox, or held commits at their bound), or undefined. */
  outboxRefusal(key: string): Error | undefined {
    const held = this.held();
    // A shared store down keeps commits in the process, bounded too: the same 503 past its bound.
    return this.runtime.store.usageRefusal?.(key, held) ?? this.ledger.stranded.refusal(held);
  }

  private decision(
    input: CheckInput,
    requested: number,
    key: string,
    cached: CachedEntitlement,
    source: DecisionSource,
  ): MaybePromise<Decision> {
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
