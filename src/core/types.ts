/**
 * The framework-free contract between the core (createEntitlements), its stores (memory, Redis),
 * and the adapters (Express, Koa, decorators). Adapters only ever talk to `Entitlements`.
 */

/** Stigg's AccessDeniedReason enum, exactly as on the wire. */
export type AccessDeniedReason =
  | 'BudgetExceeded'
  | 'CustomerIsArchived'
  | 'CustomerNotFound'
  | 'CustomerResourceNotFound'
  | 'FeatureNotFound'
  | 'FeatureTypeMismatch'
  | 'InsufficientCredits'
  | 'NoActiveSubscription'
  | 'NoFeatureEntitlementInSubscription'
  | 'RequestedUsageExceedingLimit'
  | 'RequestedValuesMismatch'
  | 'Revoked'
  | 'Unknown';

/**
 * A reason as Stigg sends it: one this version knows, or one Stigg added later (e.g.
 * 'EntitlementNotFound'), passed through verbatim and answered like any other denial.
 */
export type DeniedReason = AccessDeniedReason | (string & {});

export type MaybePromise<T> = T | Promise<T>;

export interface CheckInput {
  customerId: string;
  featureId: string;
  resourceId?: string | undefined;
  /** Units this request will consume. Omitted (or 0) for a plain access check: nothing is reserved or reported. */
  requestedUsage?: number | undefined;
  /**
   * Values of an ENUM feature this request needs (e.g. `['gpt-4o']`): each must be entitled, else
   * RequestedValuesMismatch. Only for ENUM features (anything else answers FeatureTypeMismatch).
   */
  requestedValues?: readonly string[] | undefined;
}

/** Where a decision came from. */
export type DecisionSource = 'cache' | 'upstream' | 'fallback' | 'fail-open';

export interface Decision {
  readonly granted: boolean;
  readonly customerId: string;
  readonly resourceId: string | undefined;
  readonly featureId: string;
  /** Stigg's reason when denied (verbatim, also one this version does not know); null when granted. */
  readonly accessDeniedReason: DeniedReason | null;
  readonly requestedUsage: number;
  /**
   * The usage this request was decided against: Stigg's usage of the period, plus what this process
   * (or, with a shared store, the fleet) committed since, plus units reserved by requests still at
   * work — never this request's own units (those are `requestedUsage`). Null for features without usage.
   */
  readonly currentUsage: number | null;
  readonly usageLimit: number | null;
  /**
   * Units left after this request: usageLimit − currentUsage − requestedUsage when granted
   * (usageLimit − currentUsage when denied), never below 0. Null when there is no limit to count
   * against (unlimited, boolean, enum and configuration features).
   */
  readonly remaining: number | null;
  readonly hasUnlimitedUsage: boolean;
  /** The limit is soft (Stigg grants past it; the usage is still reserved and reported). */
  readonly hasSoftLimit: boolean;
  /** Granted past a soft limit: the request is served and billed as overage. */
  readonly softLimitExceeded: boolean;
  /** The values this request asked for (ENUM features); empty when none were asked. */
  readonly requestedValues: readonly string[];
  /** The values the customer is entitled to (ENUM features); null for other features or when unknown. */
  readonly enumValues: readonly string[] | null;
  /** End of the current usage period (ISO 8601) when the feature resets. */
  readonly usagePeriodEnd: string | null;
  /** True when granting this decision means usage must be reported (a NUMBER feature and requestedUsage > 0). */
  readonly metered: boolean;
  readonly source: DecisionSource;
  /**
   * On the decision a gated route or a decorated method is handed for a metered grant: report the
   * units the work actually used instead of the reservation (Lease.settle). Absent elsewhere.
   */
  readonly settle?: (actualUnits: number) => void;
}

/**
 * A granted (or denied) check that may hold reserved units. Exactly one of commit/release takes
 * effect; later calls are no-ops. For a denied decision both are no-ops.
 */
export interface Lease {
  readonly decision: Decision;
  /** The work succeeded: turn the reservation into usage and queue its report (never blocks on Stigg). */
  commit(): void;
  /** The work failed or was abandoned: give the reserved units back, report nothing. */
  release(): void;
  /**
   * The work succeeded and used `actualUnits` (a finite number >= 0), not the reservation: that many
   * units are reported. Fewer than reserved gives the rest back; more is reported too (the work
   * happened), counted against later requests, and signalled with 'usage:overrun' (and a warning)
   * when it takes the usage past the limit. 0 reports nothing. Like commit/release, only the first of
   * the three takes effect. Nothing is reported for a grant that is not metered.
   */
  settle(actualUnits: number): void;
}

export interface UsageReport {
  customerId: string;
  featureId: string;
  resourceId?: string | undefined;
  value: number;
  updateBehavior?: 'DELTA' | 'SET' | undefined;
}

/** A usage report waiting in the outbox; the idempotency key is fixed when it is created. */
export interface PendingUsage extends UsageReport {
  id: string;
  idempotencyKey: string;
  createdAt: string;
  attempts: number;
}

/** The cached, upstream-derived state of one (customer, resource, feature). */
export interface CachedEntitlement {
  /** Reason Stigg gave that does not depend on usage (e.g. NoActiveSubscription); null when access is granted. */
  accessDeniedReason: DeniedReason | null;
  featureType: 'BOOLEAN' | 'NUMBER' | 'ENUM' | null;
  meterType: 'None' | 'Fluctuating' | 'Incremental' | null;
  hasUnlimitedUsage: boolean;
  /** Stigg grants past the limit (overage): usage is counted and reported, nothing is denied for it. Absent: false. */
  hasSoftLimit?: boolean | undefined;
  /** The entitled values of an ENUM feature. Absent: none. */
  enumValues?: readonly string[] | null | undefined;
  usageLimit: number | null;
  /** Usage as Stigg last reported it, plus usage committed locally since. */
  currentUsage: number;
  usagePeriodEnd: string | null;
  resetPeriod: 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR' | null;
  /** When it was fetched from Stigg (ms since epoch). */
  fetchedAt: number;
  /** usagePeriodEnd parsed once (ms since epoch), so the hot path never parses dates. Stores keep it as is. */
  usagePeriodEndMs?: number | null;
}

export interface ReserveResult {
  ok: boolean;
  /** Committed usage plus everything reserved, after this call. */
  currentUsage: number;
  /** Handle to pass to commit/release when ok. */
  reservationId?: string;
}

/** Store.takeFallback's answer: taken or not, the total's units before this call, and the total's id. */
export interface FallbackTake {
  ok: boolean;
  used: number;
  total: string;
}

/**
 * Where the cache, the reservations and the outbox of pending usage live. The memory store answers
 * synchronously (the hot path stays a Map lookup); the Redis store answers with promises. Every
 * method may return either.
 */
export interface Store {
  readonly name: string;
  /**
   * True for a store shared by processes (Redis) whose setEntitlement itself adds the units still in
   * its outbox, from every process, to value.currentUsage. The core then passes Stigg's usage as is,
   * without adding the units only this process knows it has not reported yet.
   */
  readonly countsUnreportedUsage?: boolean;
  /**
   * Optional, with countsUnreportedUsage: a mark of `key`'s acknowledged units (all processes; it
   * only grows by what ackUsage removes from the outbox). The core reads one before it asks Stigg
   * (a refresh, or a report whose answer reconciles the cache) and passes it to setEntitlement.
   */
  usageMark?(key: string): MaybePromise<number>;
  getEntitlement(key: string): MaybePromise<CachedEntitlement | undefined>;
  /**
   * With countsUnreportedUsage, `usageMark` (from usageMark(), read before Stigg's usage was) makes
   * the store also add the units acknowledged since: Stigg's answer may predate them, and while
   * counting a unit twice for a moment is safe, missing one lets processes grant past the limit.
   */
  setEntitlement(key: string, customerId: string, value: CachedEntitlement, ttlMs: number, usageMark?: number): MaybePromise<void>;
  invalidateCustomer(customerId: string): MaybePromise<void>;
  /**
   * Atomically reserve `amount` when currentUsage + reserved + amount <= limit. `limit` is Infinity
   * for a soft limit: never refused, the units are held so concurrent requests count them.
   * `cachedUsage`: the usage of the entry the caller decided with, for a store that no longer holds
   * it (an in-process cache may have evicted it meanwhile); a shared store reads its own.
   */
  reserve(key: string, amount: number, limit: number, ttlMs: number, cachedUsage?: number): MaybePromise<ReserveResult>;
  release(key: string, reservationId: string): MaybePromise<void>;
  /** Atomically: drop the reservation, add its units to currentUsage, and put the report in the outbox. */
  commit(key: string, reservationId: string, report: PendingUsage): MaybePromise<void>;
  /**
   * Put a report in the outbox without a reservation (metering, unlimited features, fallback grants),
   * and apply it to the cached currentUsage of `key` when cached (DELTA adds, SET replaces).
   * `held`: places of a bounded outbox promised to granted leases still at work (report() passes
   * them, so it never takes a place a served request's commit will need).
   */
  enqueueUsage(key: string, report: PendingUsage, held?: number): MaybePromise<void>;
  /** Take up to `max` pending reports for delivery; they come back after `leaseMs` unless acked. */
  claimUsage(max: number, leaseMs: number): MaybePromise<PendingUsage[]>;
  /** Stigg acknowledged these: remove them for good. */
  ackUsage(ids: string[]): MaybePromise<void>;
  /**
   * Optional: why a usage report for `key` would be refused now (a bounded outbox that is full), or
   * undefined. A metered request is then not granted on the store's account: the failure policy decides.
   * `unsettled`: granted metered requests of this process still at work, whose reports will come too.
   */
  usageRefusal?(key: string, unsettled?: number): Error | undefined;
  /**
   * Optional, for a store shared by processes: a feature's fallback `usageLimit` counted for the whole
   * fleet. Takes `amount` units from `key`'s fallback total when used + amount stays within `limit`
   * (`consume` false: only looks). A total lasts until setEntitlement writes the key (Stigg answered).
   */
  takeFallback?(key: string, amount: number, limit: number, consume: boolean): MaybePromise<FallbackTake>;
  /** Optional, with takeFallback: `amount` units back to the total `total` (negative: taken), if it is still the key's. */
  giveBackFallback?(key: string, amount: number, total: string): MaybePromise<void>;
  /** Optional: units of `key` currently reserved by unfinished requests (check() adds them to currentUsage). */
  reservedUsage?(key: string): MaybePromise<number>;
  /** Optional cross-process coalescing: true when this caller should fetch `key` from Stigg. */
  acquireFetchLock?(key: string, ttlMs: number): MaybePromise<boolean>;
  close?(): Promise<void>;
  /**
   * Optional: extend a reservation still held by a request at work to `ttlMs` from now; false
   * when it already expired. Without it a request longer than reservationTtlMs loses its hold.
   */
  renewReservation?(key: string, reservationId: string, ttlMs: number): MaybePromise<boolean>;
  /**
   * Optional: puts back a reservation a request at work still holds (an error with `dataLost: true`
   * from onError said the store lost it, or a renewal found it gone), or extends it when it is there.
   */
  reassertReservation?(key: string, reservationId: string, amount: number, ttlMs: number): MaybePromise<boolean>;
  /** Optional, with acquireFetchLock: the fetch this process made failed; the next caller fetches at once. */
  releaseFetchLock?(key: string): MaybePromise<void>;
  /**
   * Optional: claimed reports this process could not deliver go back to the outbox for any process
   * to claim now (not after their lease). Never removes a report.
   */
  releaseUsage?(ids: string[]): MaybePromise<void>;
  /**
   * Optional: errors the store finds on its own, outside any call (e.g. Redis lost its data). An
   * engine listens until it is closed and reports them as 'store:error'; returns the unsubscribe. An
   * error with `dataLost: true` makes the engine put back the reservations it holds (reassertReservation)
   * and queue again at once the commits the store refused.
   */
  onError?(listener: (error: Error) => void): () => void;
}

/** Events emitted by `Entitlements` (an EventEmitter). Listeners must not throw. */
export interface EntitlementsEvents {
  'cache:hit': [key: string];
  'cache:miss': [key: string];
  'upstream:error': [error: Error];
  'fallback:used': [decision: Decision];
  'usage:flushed': [reports: PendingUsage[]];
  /**
   * A report given up for good: Stigg rejected it (an unknown customer, feature or resource, a bad
   * value), it outlived usage.maxAgeMs, or the store refused it. It carries the full content.
   */
  'usage:dropped': [report: PendingUsage, error: Error];
  /**
   * close() reached its deadline with reports Stigg has not taken, held in this process's memory
   * store: the full reports, for the app to persist and send again (same idempotency keys).
   */
  'usage:undelivered': [reports: PendingUsage[]];
  /**
   * Stigg refused every usage report it was shown, taking none (`code`, e.g. BAD_USER_INPUT, for
   * all): nothing is dropped, delivery is parked and probed until Stigg takes reports again.
   */
  'usage:parked': [info: { code: string; reports: number; error: Error }];
  /** Stigg took usage reports again after 'usage:parked'; the outbox is delivered. */
  'usage:resumed': [info: { parkedMs: number }];
  'store:error': [error: Error];
  /**
   * A lease settled with more units than it reserved took the usage past the limit: the units were
   * reported (the work happened) and later requests are decided against them.
   */
  'usage:overrun': [overrun: UsageOverrun];
}

/** What 'usage:overrun' carries. */
export interface UsageOverrun {
  readonly decision: Decision;
  /** The units reported for the request (its reservation was `decision.requestedUsage`). */
  readonly actualUnits: number;
  /** The usage known when the request was granted, plus `actualUnits`. */
  readonly usage: number;
  readonly usageLimit: number;
}

/**
 * A structured logger, called in the order pino, bunyan and winston-compatible loggers take:
 * `logger.warn(meta, message)`. Never global: every factory takes one.
 */
export interface Logger {
  debug?(meta: Record<string, unknown>, message: string): void;
  info?(meta: Record<string, unknown>, message: string): void;
  warn(meta: Record<string, unknown>, message: string): void;
  error(meta: Record<string, unknown>, message: string): void;
}

export interface CloseOptions {
  /** Stop delivering after this long (default 10,000 ms: it fits a 30 s SIGTERM grace). */
  timeoutMs?: number;
}

export interface ReadyOptions {
  /** Give up after this long (default 5,000 ms). */
  timeoutMs?: number;
}

/** What the adapters (Express, Koa, decorators) need from createEntitlements(). */
export interface Entitlements {
  /**
   * Check `input` and, when granted with requestedUsage > 0 on a metered feature, reserve the units.
   * Returns synchronously when the answer is cached in a synchronous store (the hot path).
   * Throws/rejects `EntitlementUnavailableError` when no decision can be made (fail-closed).
   */
  acquire(input: CheckInput): MaybePromise<Lease>;
  /** A check that reserves nothing. */
  check(input: CheckInput): MaybePromise<Decision>;
  /** Queue a usage report without a check (metering only). Never blocks on Stigg. */
  report(report: UsageReport): MaybePromise<void>;
  /** Forget cached entitlements of a customer (read-after-write after a subscription change). */
  invalidate(customerId: string): MaybePromise<void>;
  /** Deliver everything queued so far, waiting for a flush already running. */
  flush(): Promise<void>;
  /**
   * One cheap read from Stigg: resolves when Stigg answered with this key at this URL; rejects with a
   * NotReadyError whose `reason` is 'auth' | 'not-found' | 'unreachable' | 'timeout' | 'unexpected' and
   * whose message says the fix. For startup (fail the deployment fast) and readiness probes.
   */
  ready(options?: ReadyOptions): Promise<void>;
  /**
   * Stop taking work, deliver what it can within `timeoutMs` (default 10,000), then resolve. What
   * Stigg did not take stays in a shared store's outbox for the next process; a memory store's is
   * emitted as 'usage:undelivered'. Afterwards acquire/check/report throw.
   */
  close(options?: CloseOptions): Promise<void>;
  on<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this;
  off<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this;
}

/**
 * The part of the Stigg client the core uses (StiggClient satisfies it structurally). Results are
 * the root fields of `entitlement(query:)` and `reportUsageBulk(input:)`.
 */
export interface UpstreamEntitlement {
  isGranted: boolean;
  accessDeniedReason?: AccessDeniedReason | null;
  usageLimit?: number | null;
  hasUnlimitedUsage: boolean;
  hasSoftLimit?: boolean | null;
  enumValues?: readonly string[] | null;
  currentUsage?: number | null;
  requestedUsage?: number | null;
  usagePeriodEnd?: string | null;
  resetPeriod?: 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'YEAR' | null;
  feature?: { refId: string; featureType: 'BOOLEAN' | 'NUMBER' | 'ENUM'; meterType?: 'None' | 'Fluctuating' | 'Incremental' | null } | null;
}

/** The root field of `entitlementsState(query:)`: the granted entitlements, and why there are none. */
export interface UpstreamEntitlementsState {
  accessDeniedReason?: 'CustomerNotFound' | 'NoActiveSubscription' | (string & {}) | null;
  entitlements: UpstreamEntitlement[];
}

export interface UpstreamUsageResult {
  id: string;
  customerId: string;
  featureId: string;
  resourceId?: string | null;
  currentUsage?: number | null;
  usagePeriodEnd?: string | null;
}

export interface EntitlementsUpstream {
  getEntitlement(query: {
    customerId: string;
    featureId: string;
    resourceId?: string | null;
    options?: { requestedUsage?: number | null; requestedValues?: string[] | null } | null;
  }): Promise<UpstreamEntitlement>;
  /**
   * Optional (StiggClient has it): every entitlement of a customer (and resource) in one read, as
   * Stigg's own SDKs read them. Without it the engine reads one feature at a time.
   */
  getEntitlementsState?(query: { customerId: string; resourceId?: string | null }): Promise<UpstreamEntitlementsState>;
  reportUsageBulk(input: {
    usages: Array<{
      customerId: string;
      featureId: string;
      value: number;
      resourceId?: string | null;
      updateBehavior?: 'DELTA' | 'SET' | null;
      idempotencyKey?: string | null;
      createdAt?: string | null;
    }>;
  }): Promise<UpstreamUsageResult[]>;
}
