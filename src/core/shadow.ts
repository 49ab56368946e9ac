import { fallbackDecision } from './decide';
import { EntitlementUnavailableError } from './errors';
import type { Reservations } from './leases';
import { LogThrottle } from '../util/log-throttle';
import { asError, isThenable } from '../util/maybe-promise';
import type { Runtime } from './runtime';
import type { CheckInput, Decision, Lease, MaybePromise, ShadowCounts } from './types';

/**
 * Would-be denials of a customer entitled to the feature but past its limit (or budget, or balance):
 * the units they served are reported. Any other reason (no subscription, not in the plan, a customer
 * or feature Stigg does not know, ENUM values) has nothing to meter: Stigg would refuse or ignore it.
 */
const OVER_LIMIT: ReadonlySet<string> = new Set(['RequestedUsageExceedingLimit', 'BudgetExceeded', 'InsufficientCredits']);

/**
 * Shadow mode: the request is decided, reserved and settled exactly as enforcement would, and then
 * served whatever the decision. A would-be denial becomes a grant that holds nothing (`enforced:
 * false`, `wouldDenyReason` set); a would-be 503 (no decision could be made) a grant of source
 * 'shadow'. Both are counted and emitted; their units are reported (see OVER_LIMIT) unless shadowUsage is 'skip'.
 * Enforcement code never runs through here: an enforced decision is the one the engine made.
 */
export class Shadow {
  private decisions = 0;
  private wouldDeny = 0;
  private unavailable = 0;
  private readonly byReason = new Map<string, number>();
  private readonly warnings: LogThrottle<string>;

  constructor(
    private readonly runtime: Runtime,
    private readonly reservations: Reservations,
  ) {
    this.warnings = new LogThrottle(runtime.now);
  }

  /** Whether `input` is decided in shadow mode: its own mode, else its feature's, else the engine's. */
  applies(input: CheckInput): boolean {
    if (input.mode !== undefined) return input.mode === 'shadow';
    const { config } = this.runtime;
    if (config.featureModes.size === 0) return config.mode === 'shadow';
    return (config.featureModes.get(input.featureId) ?? config.mode) === 'shadow';
  }

  /** acquire() in shadow mode: `enforce` is what acquire() does under enforcement. */
  lease(input: CheckInput, requested: number, key: string, enforce: () => MaybePromise<Lease>): MaybePromise<Lease> {
    let lease: MaybePromise<Lease>;
    try {
      lease = enforce();
    } catch (error) {
      return this.unavailableLease(input, requested, key, error);
    }
    if (!isThenable(lease)) return this.reservations.shadowed(key, lease, this.served(lease.decision));
    return lease.then(
      (value) => this.reservations.shadowed(key, value, this.served(value.decision)),
      (error: unknown) => this.unavailableLease(input, requested, key, error),
    );
  }

  /**
   * Enforcement answered 503 for a lease. Served in shadow mode, unless its report could not be queued
   * (a full outbox, or the commits held for a shared store at their bound): then it would be dropped,
   * a unit lost, so the 503 stands, as under enforcement and fail open.
   */
  private unavailableLease(input: CheckInput, requested: number, key: string, error: unknown): Lease {
    const reported = requested > 0 && this.runtime.config.shadowUsage === 'report';
    if (reported && error instanceof EntitlementUnavailableError && this.reservations.outboxRefusal(key) !== undefined) throw error;
    return this.reservations.shadowed(key, undefined, this.unavailableDecision(input, requested, error));
  }

  /** check() in shadow mode. */
  decision(input: CheckInput, requested: number, enforce: () => MaybePromise<Decision>): MaybePromise<Decision> {
    let decision: MaybePromise<Decision>;
    try {
      decision = enforce();
    } catch (error) {
      return this.unavailableDecision(input, requested, error);
    }
    if (!isThenable(decision)) return this.served(decision);
    return decision.then(
      (value) => this.served(value),
      (error: unknown) => this.unavailableDecision(input, requested, error),
    );
  }

  counts(): ShadowCounts {
    return Object.freeze({
      decisions: this.decisions,
      wouldDeny: this.wouldDeny,
      byReason: Object.freeze(Object.fromEntries(this.byReason)),
      unavailable: this.unavailable,
    });
  }

  /** The decision enforcement made, as shadow mode serves it. */
  private served(decision: Decision): Decision {
    this.decisions += 1;
    if (decision.granted) return { ...decision, enforced: false };
    const reason = decision.accessDeniedReason ?? 'Unknown';
    this.wouldDeny += 1;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    const served: Decision = {
      ...decision,
      granted: true,
      accessDeniedReason: null,
      wouldDenyReason: reason,
      enforced: false,
      // The work happens: its units are reported unless the app asked shadow mode not to.
      metered: decision.metered && this.runtime.config.shadowUsage === 'report' && OVER_LIMIT.has(reason),
    };
    this.runtime.emit('shadow:denied', served);
    return served;
  }

  /**
   * Enforcement answers 503 (EntitlementUnavailableError): shadow mode must not take the route down,
   * so the request is served (source 'shadow') and the failure logged, once a minute per feature —
   * unless the 503 is a full outbox's, whose report would be dropped. Any other error (closed engine,
   * bad input) is thrown as under enforcement.
   */
  private unavailableDecision(input: CheckInput, requested: number, error: unknown): Decision {
    if (!(error instanceof EntitlementUnavailableError)) throw error;
    this.decisions += 1;
    this.unavailable += 1;
    const granted = fallbackDecision(input, requested, undefined, null);
    const decision: Decision = {
      ...granted,
      source: 'shadow',
      enforced: false,
      metered: granted.metered && this.runtime.config.shadowUsage === 'report',
    };
    const admitted = this.warnings.admit(input.featureId);
    if (admitted !== undefined) {
      const cause = asError(error.cause ?? error).message;
      this.runtime.config.logger.warn(
        { featureId: input.featureId, cause, suppressed: admitted.suppressed },
        `stigg-gate: no entitlement decision could be made for "${input.featureId}" (${cause}); shadow mode serves the request (enforcement would answer 503)`,
      );
    }
    this.runtime.emit('shadow:unavailable', decision, error);
    return decision;
  }
}
