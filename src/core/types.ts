/**
 * The framework-free contract between the core (createEntitlements), its stores (memory, Redis),
 * and the adapters (Express, Koa, decorators). Adapters only ever talk to `Entitlements`.
 */

import type { Health, StoreHealth, UpstreamCall } from './health-types';

export type { Health, StoreHealth, UpstreamCall, UpstreamOutcome } from './health-types';

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
  /**
   * Overrides the engine's mode (and the feature's) for this check: 'shadow' decides and reserves as
   * enforcement would and never denies; 'enforce' denies. Absent: the feature's mode, else the engine's.
   */
  mode?: EnforcementMode | undefined;
}

/** 'enforce' denies; 'shadow' decides, reserves and reports as enforcement would, and serves every request. */
export type EnforcementMode = 'enforce' | 'shadow';

/**
 * Where a decision came from. 'shadow': no decision could be made (enforcement would answer 503)
 * and shadow mode served the request anyway.
 */
export type DecisionSource = 'cache' | 'upstream' | 'fallback' | 'fail-open' | 'shadow';

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
  /**
   * True when the grant's usage is reported: a NUMBER feature and a usage asked (requestedUsage given,
   * 0 included: a route whose usage function answered 0 may still settle() what its work used; a
   * commit of 0 reports nothing).
   */
  readonly metered: boolean;
  readonly source: DecisionSource;
  /** False in shadow mode: nothing was denied, whatever the decision (see wouldDenyReason). */
  readonly enforced: boolean;
  /**
   * Shadow mode: the reason enforcement would have denied this request with (402/403); the request
   * was granted instead. Null when enforcement would grant too, and always when enforced.
   */
  readonly wouldDenyReason: DeniedReason | null;
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
  /**
   * Optional (the engine's leases have it): the client left while the work was under way, and the
   * work may stop without settling this lease (a handler that gives up when its client leaves and
   * answers nobody). Its reservation is no longer renewed, so it lapses after reservationTtlMs
   * instead of being held until reservationMaxMs; commit, release and settle still take effect.
   */
  abandoned?(): void;
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
 * Who read a usage mark, an opaque id: one engine's refreshes of entitlements, or its usage deliveries
 * (whose answers reconcile the cache). Each reader has at most one read of a key on its way.
 */
export type UsageMarkReader = string;

/**
 * A store's cache role: Stigg's answers per key (customer, resource, feature), with the usage
 * committed since. Optional members are for a store shared by processes.
 */
export interface StoreCache {
  getEntitlement(key: string): MaybePromise<CachedEntitlement | undefined>;
  /**
   * With countsUnreportedUsage, `usageMark` (from usageMark(), read before Stigg's usage was) makes
   * the store also add the units acknowledged since: Stigg's answer may predate them, and while
   * counting a unit twice for a moment is safe, missing one lets processes grant past the limit.
   */
  setEntitlement(
    key: string,
    customerId: string,
    value: CachedEntitlement,
    ttlMs: number,
    usageMark?: number,
    reader?: UsageMarkReader,
  ): MaybePromise<void>;
  invalidateCustomer(customerId: string): MaybePromise<void>;
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
   * `reader` says who: a store that refuses writes of data read before an invalidation (Redis)
   * pairs each setEntitlement with the mark of the same reader, never with another's read since
   * (another engine on the same store, or the same engine's deliveries).
   */
  usageMark?(key: string, reader?: UsageMarkReader): MaybePromise<number>;
  /** Optional cross-process coalescing: true when this caller should fetch `key` from Stigg. */
  acquireFetchLock?(key: string, ttlMs: number): MaybePromise<boolean>;
  /** Optional, with acquireFetchLock: the fetch this process made failed; the next caller fetches at once. */
  releaseFetchLock?(key: string): MaybePromise<void>;
}

/**
 * A store's reservation role: units held for requests at work, checked against the limit atomically
 * (across processes for a shared store), given back by release or expiry.
 */
export interface StoreReservations {
  /**
   * Atomically reserve `amount` when currentUsage + reserved + amount <= limit. `limit` is Infinity
   * for a soft limit: never refused, the units are held so concurrent requests count them.
   * `cachedUsage`: the usage of the entry the caller decided with, for a store that no longer holds
   * it (an in-process cache may have evicted it meanwhile); a shared store reads its own.
   */
  reserve(key: string, amount: number, limit: number, ttlMs: number, cachedUsage?: number): MaybePromise<ReserveResult>;
  release(key: string, reservationId: string): MaybePromise<void>;
  /** Optional: units of `key` currently reserved by unfinished requests (check() adds them to currentUsage). */
  reservedUsage?(key: string): MaybePromise<number>;
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
  /**
   * Optional, for a store shared by processes: a feature's fallback `usageLimit` counted for the whole
   * fleet. Takes `amount` units from `key`'s fallback total when used + amount stays within `limit`
   * (`consume` false: only looks). A total lasts until setEntitlement writes the key (Stigg answered).
   */
  takeFallback?(key: string, amount: number, limit: number, consume: boolean): MaybePromise<FallbackTake>;
  /** Optional, with takeFallback: `amount` units back to the total `total` (negative: taken), if it is still the key's. */
  giveBackFallback?(key: string, amount: number, total: string): MaybePromise<void>;
}

/**
 * A store's outbox role: usage reports on their way to Stigg, leased to one deliverer at a time and
 * removed once Stigg acknowledged them.
 */
export interface StoreOutbox {
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
   * Optional: claimed reports this process could not deliver go back to the outbox for any process
   * to claim now (not after their lease). Never removes a report.
   */
  releaseUsage?(ids: string[]): MaybePromise<void>;
  /**
   * Optional: why a usage report for `key` would be refused now (a bounded outbox that is full), or
   * undefined. A metered request is then not granted on the store's account: the failure policy decides.
   * `unsettled`: granted metered requests of this process still at work, whose reports will come too.
   */
  usageRefusal?(key: string, unsettled?: number): Error | undefined;
}

/**
 * Where the cache, the reservations and the outbox of pending usage live. The memory store answers
 * synchronously (the hot path stays a Map lookup); the Redis store answers with promises. Every
 * method may return either. Three roles (docs/stores.md); `commit` is the one step across them (a
 * reservation dropped, its units added to the cache's usage, the report queued), and must be atomic.
 */
export interface Store extends StoreCache, StoreReservations, StoreOutbox {
  readonly name: string;
  /** Atomically: drop the reservation, add its units to currentUsage, and put the report in the outbox. */
  commit(key: string, reservationId: string, report: PendingUsage): MaybePromise<void>;
  /**
   * Optional, cheap and synchronous (for health()): whether the store answers now and, for a store
   * that can tell without a round trip, the depth of its outbox and when its oldest report was made.
   */
  health?(): StoreHealth;
  /**
   * Optional: errors the store finds on its own, outside any call (e.g. Redis lost its data). An
   * engine listens until it is closed and reports them as 'store:error'; returns the unsubscribe. An
   * error with `dataLost: true` makes the engine put back the reservations it holds (reassertReservation)
   * and queue again at once the commits the store refused.
   */
  onError?(listener: (error: Error) => void): () => void;
  close?(): Promise<void>;
}

/** Events emitted by `Entitlements` (an EventEmitter). Listeners must not throw. */
export interface EntitlementsEvents {
  /**
   * Every decision check() and acquire() return, granted or denied, from any source (cache,
   * upstream, fallback, fail-open): for metrics and logs without OpenTelemetry. Emitted only when
   * a listener is registered (no cost otherwise); errors thrown instead of a decision are not decisions.
   */
  decision: [decision: Decision];
  /**
   * Shadow mode: a decision enforcement would have denied, served instead. It carries the would-be
   * reason (`decision.wouldDenyReason`); counted in shadowCounts().
   */
  'shadow:denied': [decision: Decision];
  /**
   * Shadow mode: no decision could be made (Stigg unreachable and nothing cached, no fallback: a 503
   * under enforcement); the request was served (`decision.source` 'shadow'). Counted in shadowCounts().
   */
  'shadow:unavailable': [decision: Decision, error: Error];
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
   * Every call to Stigg the engine makes (entitlement reads, usage deliveries), when it ended: for
   * latency histograms and error counts. Emitted only while a listener is registered.
   */
  'upstream:call': [call: UpstreamCall];
  /**
   * A lease settled with more units than it reserved took the usage past the limit: the units were
   * reported (the work happened) and later requests are decided against them.
   */
  'usage:overrun': [overrun: UsageOverrun];
}

/** What shadowCounts() returns. */
export interface ShadowCounts {
  /** Decisions check() and acquire() returned in shadow mode. */
  readonly decisions: number;
  /** Of those, the ones enforcement would have denied (402/403): the sum of byReason. */
  readonly wouldDeny: number;
  /** Would-be denials per reason, e.g. { RequestedUsageExceedingLimit: 12 }. */
  readonly byReason: Readonly<Record<string, number>>;
  /** Of those, the ones enforcement would have answered 503 (no decision could be made). */
  readonly unavailable: number;
}

/** What 'usage:overrun' carries. */
export interface UsageOverrun {
  readonly decision: Decision;
  /** The units reported for the request (its reservation was `decision.requestedUsage`). */
  readonly actualUnits: number;
  /**
   * The usage known when the request was granted, plus `actualUnits`; for a request whose client left
   * and whose reservation lapsed before it committed, the usage in the store once it committed.
   */
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

/** What close() resolves with. */
export interface CloseResult {
  /**
   * The usage reports this process could not deliver and no longer holds, by the time close()
   * resolved: a memory store's reports Stigg had not taken at the deadline, and commits the store
   * never took (Redis down at the end). The same reports are emitted as 'usage:undelivered'. Send
   * them again with their idempotency keys (`reportUsageBulk`), or keep them somewhere durable.
   * Empty when everything was delivered, or is in a shared store's outbox for the next process.
   */
  undelivered: PendingUsage[];
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
  /**
   * What shadow mode saw since the engine started: decisions made in shadow mode, would-be
   * denials by reason, and would-be 503s. A fresh snapshot; all zero when nothing runs in shadow.
   */
  shadowCounts(): ShadowCounts;
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
   * A synchronous snapshot for a readiness probe (`/readyz`): the breaker, the store, the outbox's
   * depth and the age of its oldest report, parked delivery, closed. Costs no call to Stigg or Redis.
   */
  health(): Health;
  /**
   * Stop taking work, deliver what it can within `timeoutMs` (default 10,000), then resolve. What
   * Stigg did not take stays in a shared store's outbox for the next process; a memory store's is
   * emitted as 'usage:undelivered' and is in the result's `undelivered`. Afterwards
   * acquire/check/report throw. Called again, it answers as the first call.
   */
  close(options?: CloseOptions): Promise<CloseResult>;
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
  /**
   * `options.signal` aborts the call when close() reaches its deadline (StiggClient honours it): an
   * upstream of your own that ignores it keeps the process alive until its call ends.
   */
  reportUsageBulk(
    input: {
      usages: Array<{
        customerId: string;
        featureId: string;
        value: number;
        resourceId?: string | null;
        updateBehavior?: 'DELTA' | 'SET' | null;
        idempotencyKey?: string | null;
        createdAt?: string | null;
      }>;
    },
    options?: { signal?: AbortSignal },
  ): Promise<UpstreamUsageResult[]>;
  /**
   * Optional (StiggClient has it; needed by the `reportChecks` option): given an array, up to 200
   * checks in ONE call; resolves when Stigg took them all, rejects when it refused any.
   */
  reportEntitlementCheckRequested?(checks: UpstreamCheckReport[]): Promise<boolean>;
}

/** One check as Stigg's `reportEntitlementCheckRequested` takes it (EntitlementCheckRequested). */
export interface UpstreamCheckReport {
  customerId: string;
  featureId: string;
  resourceId?: string | null;
  requestedUsage?: number | null;
  requestedValues?: string[] | null;
  entitlementCheckResult: {
    hasAccess: boolean;
    accessDeniedReason?: AccessDeniedReason | null;
    currentUsage?: number | null;
    usageLimit?: number | null;
    hasUnlimitedUsage?: boolean | null;
    hasSoftLimit?: boolean | null;
    requestedUsage?: number | null;
    requestedValues?: string[] | null;
    enumValues?: string[] | null;
    nextResetDate?: string | null;
  };
}
