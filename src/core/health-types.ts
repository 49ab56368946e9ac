/** What health() and 'upstream:call' tell about the engine (see Entitlements.health, EntitlementsEvents). */

/** How a call to Stigg ended: 'ok', or the category of its failure. */
export type UpstreamOutcome = 'ok' | 'rate-limited' | 'transient' | 'auth' | 'rejected' | 'unknown';

/** What 'upstream:call' carries. */
export interface UpstreamCall {
  readonly operation: 'getEntitlementsState' | 'getEntitlement' | 'reportUsageBulk';
  /** From the call's start to its answer, by the engine's clock (the `now` option). */
  readonly durationMs: number;
  readonly outcome: UpstreamOutcome;
}

/** What a Store says about itself for health() (see Store.health). */
export interface StoreHealth {
  /** False while the store fails fast (e.g. Redis is not answering). */
  readonly reachable: boolean;
  /** Why it is not reachable; null when it is. */
  readonly error: string | null;
  /** Present when the store knows its whole outbox without a round trip (the memory store). */
  readonly outbox?: { readonly depth: number; readonly oldestCreatedAt: string | null };
}

/** A cheap, synchronous snapshot for a readiness probe (`entitlements.health()`). */
export interface Health {
  /** True when nothing below is wrong: not closed, the breaker closed, the store reachable, delivery not parked. */
  readonly ok: boolean;
  /** close() was called: the engine takes no more work (a readiness probe should fail). */
  readonly closed: boolean;
  /** Stigg as the circuit breaker sees it: 'open' while calls fail fast (decisions come from the cache or the failure policy). */
  readonly breaker: 'closed' | 'open' | 'half-open';
  readonly store: {
    readonly name: string;
    readonly reachable: boolean;
    /** Why it is not reachable (a message); null when it is. */
    readonly error: string | null;
  };
  readonly outbox: {
    /** Usage reports Stigg has not taken yet. */
    readonly depth: number;
    /** Age of the oldest of them (ms by the engine's clock); null when there are none. */
    readonly oldestAgeMs: number | null;
    /**
     * 'store': the store's whole outbox (memory store). 'process': the reports this process queued
     * and has not delivered (a shared store: the fleet's outbox lives in Redis).
     */
    readonly scope: 'store' | 'process';
    /** Stigg refuses every report (see 'usage:parked'): delivery waits, nothing is dropped. */
    readonly parked: boolean;
  };
}
