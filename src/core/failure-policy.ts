import { exceeds, fallbackDecision } from './decide';
import { EntitlementUnavailableError } from './errors';
import { asError, isThenable } from '../util/maybe-promise';
import type { Runtime } from './runtime';
import { classifyFailure } from './upstream-log';
import type { FallbackRule } from './decide';
import type { CheckInput, Decision, FallbackTake, MaybePromise } from './types';
import { isThrottled } from './upstream-reads';

const FAIL_OPEN_WARNING_INTERVAL_MS = 60_000;

/** The units a fallback granted for one key in one outage. */
export interface FallbackTotal {
  used: number;
  /** How many answers from Stigg had been seen when the total started (see makeRoom). */
  readonly since: number;
  /** The id of the fleet's total in a shared store (Store.takeFallback), which counts it instead. */
  readonly shared?: string;
}

/** A fallback decision and the total its units were taken from. */
export interface FallbackGrant {
  readonly decision: Decision;
  readonly total: FallbackTotal | undefined;
}

/**
 * No decision from Stigg or the cache: the feature's fallback, else fail open or closed. A fallback
 * never denies with a reason that asks for an upgrade: Stigg did not decide, so a feature whose
 * fallback denies, or whose fallback usageLimit is used up, answers EntitlementUnavailableError (503).
 */
export class FailurePolicy {
  private readonly failOpenWarnedAt = new Map<string, number>();
  /**
   * Units granted by a fallback with a usageLimit per key, since Stigg last answered for it. An
   * object per total, so a lease gives its units back only to the total it took them from.
   */
  private readonly totals = new Map<string, FallbackTotal>();
  /** Answers from Stigg seen (recovered()); `pruned`: the count at the last makeRoom() that found nothing to forget. */
  private answers = 0;
  private pruned = -1;

  constructor(private readonly runtime: Runtime) {}

  /** `consume`: acquire() takes the units from the fallback's total; check() only looks. */
  decide(
    input: CheckInput,
    requested: number,
    key: string,
    error: unknown,
    origin: 'upstream' | 'store' = 'upstream',
    consume = true,
  ): MaybePromise<Decision> {
    const granted = this.grant(input, requested, key, error, origin, consume);
    return isThenable(granted) ? granted.then((result) => result.decision) : granted.decision;
  }

  /**
   * decide(), with the total the units were taken from (a lease gives them back there). A fallback
   * usageLimit is counted by a shared store for the whole fleet while it answers (takeFallback), and
   * per process when it does not (or has no such count).
   */
  grant(
    input: CheckInput,
    requested: number,
    key: string,
    error: unknown,
    origin: 'upstream' | 'store',
    consume = true,
  ): MaybePromise<FallbackGrant> {
    const { config, store } = this.runtime;
    // A read the gate's own bound refused is one customer's flood, not Stigg being down: never granted blind.
    if (isThrottled(error) || !this.mayGrant(input.featureId)) throw this.unavailable(input, error);
    const rule = config.fallback.get(input.featureId);
    if (rule?.usageLimit === undefined || requested <= 0 || store.takeFallback === undefined) {
      return this.local(input, requested, key, error, origin, consume);
    }
    const limit = rule.usageLimit;
    let taken: MaybePromise<FallbackTake>;
    try {
      taken = store.takeFallback(key, requested, limit, consume);
    } catch (failure) {
      return this.unshared(failure, input, requested, key, error, origin, consume);
    }
    const shared = (result: FallbackTake): FallbackGrant => {
      if (!result.ok) throw this.unavailable(input, error);
      return this.granted(input, requested, rule, result.used, error, origin, { used: 0, since: this.answers, shared: result.total });
    };
    if (!isThenable(taken)) return shared(taken);
    return taken.then(shared, (failure: unknown) => this.unshared(failure, input, requested, key, error, origin, consume));
  }

  /** The shared store could not count: this process counts on its own (documented: per process then). */
  private unshared(
    failure: unknown,
    input: CheckInput,
    requested: number,
    key: string,
    error: unknown,
    origin: 'upstream' | 'store',
    consume: boolean,
  ): FallbackGrant {
    this.runtime.storeError(asError(failure));
    return this.local(input, requested, key, error, origin, consume);
  }

  /** The total of this process alone. */
  private local(
    input: CheckInput,
    requested: number,
    key: string,
    error: unknown,
    origin: 'upstream' | 'store',
    consume: boolean,
  ): FallbackGrant {
    const { config } = this.runtime;
    const rule = config.fallback.get(input.featureId);
    let total = rule?.usageLimit === undefined ? undefined : this.totals.get(key);
    const usedBefore = rule?.usageLimit === undefined ? null : (total?.used ?? 0);
    if (rule?.usageLimit !== undefined && usedBefore !== null && requested > 0) {
      if (exceeds(usedBefore, requested, rule.usageLimit)) throw this.unavailable(input, error);
      // Totals are bounded by maxEntries: forgetting one still counting would reopen its key's cap.
      if (total === undefined && this.totals.size >= config.maxEntries && !this.makeRoom()) throw this.unavailable(input, error);
      if (consume) {
        if (total !== undefined) total.used = usedBefore + requested;
        else {
          total = { used: usedBefore + requested, since: this.answers };
          this.totals.set(key, total);
        }
      }
    }
    return this.granted(input, requested, rule, usedBefore, error, origin, total);
  }

  private granted(
    input: CheckInput,
    requested: number,
    rule: FallbackRule | undefined,
    usedBefore: number | null,
    error: unknown,
    origin: 'upstream' | 'store',
    total: FallbackTotal | undefined,
  ): FallbackGrant {
    const decision = fallbackDecision(input, requested, rule, usedBefore);
    if (rule === undefined) this.warnFailOpen(input.featureId, error, origin);
    this.runtime.emit('fallback:used', decision);
    return { decision, total };
  }

  /**
   * A fallback lease released its units: the total they were taken from has them back (a later
   * outage's does not). Negative `units`: a lease settled more than it reserved takes the extra.
   */
  giveBack(key: string, units: number, total: FallbackTotal | undefined): void {
    if (total?.shared !== undefined) {
      this.giveBackShared(key, units, total.shared);
      return;
    }
    if (total === undefined || this.totals.get(key) !== total) return;
    total.used -= units;
    if (total.used <= 0) this.totals.delete(key);
  }

  /** To the fleet's total (not counted again if the store fails: the units are then held until Stigg answers). */
  private giveBackShared(key: string, units: number, total: string): void {
    const { runtime } = this;
    try {
      const given = runtime.store.giveBackFallback?.(key, units, total);
      if (isThenable(given)) runtime.background(given.catch((error: unknown) => runtime.storeError(asError(error))));
    } catch (error) {
      runtime.storeError(asError(error));
    }
  }

  /** Stigg answered for `key`: a later outage starts a new fallback total. */
  recovered(key: string): void {
    this.answers += 1;
    if (this.totals.size > 0) this.totals.delete(key);
  }

  /**
   * The totals are full: forgets those started before Stigg last answered (for any key: that outage
   * is over, and their key's next answer would end them). A total of the outage still going on is
   * never forgotten: a new key then gets no fallback grant (503), or 10,000 other keys would reopen
   * every cap (before: the totals were cleared whole, usageLimit 2 granted 4).
   */
  private makeRoom(): boolean {
    if (this.pruned === this.answers) return false;
    for (const [key, total] of this.totals) if (total.since < this.answers) this.totals.delete(key);
    if (this.totals.size < this.runtime.config.maxEntries) return true;
    this.pruned = this.answers;
    return false;
  }

  /** Whether decide() can grant this feature at all (a fallback with access, or fail open). */
  mayGrant(featureId: string): boolean {
    const rule = this.runtime.config.fallback.get(featureId);
    return rule === undefined ? this.runtime.config.failMode === 'open' : rule.hasAccess;
  }

  unavailable(input: CheckInput, error: unknown): EntitlementUnavailableError {
    return new EntitlementUnavailableError(input.featureId, this.runtime.config.retryAfterSeconds, { cause: error });
  }

  private warnFailOpen(featureId: string, error: unknown, origin: 'upstream' | 'store'): void {
    const now = this.runtime.now();
    const last = this.failOpenWarnedAt.get(featureId);
    if (last !== undefined && now - last < FAIL_OPEN_WARNING_INTERVAL_MS) return;
    this.failOpenWarnedAt.set(featureId, now);
    let { cause } = classifyFailure(error);
    if (origin === 'store') cause = `the entitlements store "${this.runtime.store.name}" failed (${asError(error).message})`;
    else if (asError(error).name === 'CircuitOpenError' && this.runtime.upstreamLog.lastCause !== undefined) {
      cause = `${cause}; last: ${this.runtime.upstreamLog.lastCause}`;
    }
    this.runtime.config.logger.warn(
      { featureId, cause, error: asError(error).message },
      `${cause} and nothing cached: granting access (failMode: open)`,
    );
  }
}
