import type { Decision, DecisionSource, DeniedReason } from '../core';

/** What settle(units) reaches: the request's Settlement (./settle). */
interface Settles {
  settle(actualUnits: number): void;
}

/**
 * The decision a gated route's handler sees for a metered grant: the lease's decision, field for
 * field, with settle(units) on the prototype. A copy rather than a property defined on the lease's
 * decision: Object.defineProperty (non-enumerable, so JSON, spreads, structuredClone and equality
 * ignore it) cost ~350 ns a request, the copy ~7 ns. The compiler keeps the fields complete.
 */
class SettleableDecision implements Decision {
  readonly granted: boolean;
  readonly customerId: string;
  readonly resourceId: string | undefined;
  readonly featureId: string;
  readonly accessDeniedReason: DeniedReason | null;
  readonly requestedUsage: number;
  readonly currentUsage: number | null;
  readonly usageLimit: number | null;
  readonly remaining: number | null;
  readonly hasUnlimitedUsage: boolean;
  readonly hasSoftLimit: boolean;
  readonly softLimitExceeded: boolean;
  readonly requestedValues: readonly string[];
  readonly enumValues: readonly string[] | null;
  readonly usagePeriodEnd: string | null;
  readonly metered: boolean;
  readonly source: DecisionSource;
  readonly enforced: boolean;
  readonly wouldDenyReason: DeniedReason | null;
  readonly #settlement: Settles;

  constructor(decision: Decision, settlement: Settles) {
    this.granted = decision.granted;
    this.customerId = decision.customerId;
    this.resourceId = decision.resourceId;
    this.featureId = decision.featureId;
    this.accessDeniedReason = decision.accessDeniedReason;
    this.requestedUsage = decision.requestedUsage;
    this.currentUsage = decision.currentUsage;
    this.usageLimit = decision.usageLimit;
    this.remaining = decision.remaining;
    this.hasUnlimitedUsage = decision.hasUnlimitedUsage;
    this.hasSoftLimit = decision.hasSoftLimit;
    this.softLimitExceeded = decision.softLimitExceeded;
    this.requestedValues = decision.requestedValues;
    this.enumValues = decision.enumValues;
    this.usagePeriodEnd = decision.usagePeriodEnd;
    this.metered = decision.metered;
    this.source = decision.source;
    this.enforced = decision.enforced;
    this.wouldDenyReason = decision.wouldDenyReason;
    this.#settlement = settlement;
  }

  /** Reports the units the work actually used instead of the reservation (Lease.settle). */
  settle(actualUnits: number): void {
    this.#settlement.settle(actualUnits);
  }
}

/** The decision to hand a route's handler, with settle(units) bound to its request's settlement. */
export function settleableDecision(decision: Decision, settlement: Settles): Decision {
  return new SettleableDecision(decision, settlement);
}
