import { randomUUID } from 'node:crypto';
import { asError, isThenable, noop, silentLogger } from './maybe-promise';
import { EventEmitter } from 'node:events';
import { CircuitBreaker } from './circuit-breaker';
import { coarseClock } from './clock';
import {
  decide,
  fallbackDecision,
  isLimited,
  needsReservation,
  nextPeriodEnd,
  parseDate,
  periodEndOf,
  reservedDecision,
  toCachedEntitlement,
  type FallbackRule,
} from './decide';
import { EntitlementsClosedError, EntitlementUnavailableError } from './errors';
import { KeyCache } from './keys';
import { MemoryStore } from './memory-store';
import type {
  CachedEntitlement,
  CheckInput,
  Decision,
  DecisionSource,
  Entitlements,
  EntitlementsEvents,
  EntitlementsUpstream,
  Lease,
  Logger,
  MaybePromise,
  PendingUsage,
  ReserveResult,
  Store,
  UpstreamUsageResult,
  UsageReport,
} from './types';
import { UsageBuffer, type DeliveryContext } from './usage-buffer';

export interface EntitlementsOptions {
  /** The Stigg client (`Stigg.createClient(apiKey)`), or anything with getEntitlement() and reportUsageBulk(). */
  client: EntitlementsUpstream;
  /** Where cache, reservations and pending usage live. Default: a MemoryStore of cache.maxEntries. */
  store?: Store;
  cache?: {
    /** Fresh for this long (default 30,000 ms). */
    ttlMs?: number;
    /** Served while refreshed in the background until this age (default 300,000 ms); older is a miss. */
    staleTtlMs?: number;
    /** Bound of the default MemoryStore (default 10,000). */
    maxEntries?: number;
  };
  usage?: {
    /** Reports per reportUsageBulk call; reaching it triggers a flush (default 100). */
    batchSize?: number;
    /** Flush at least this often (default 1,000 ms). */
    flushIntervalMs?: number;
    /** Delivery attempts before a report is dropped with a 'usage:dropped' event (default 8). */
    maxAttempts?: number;
    /** First retry delay, doubled each attempt, with jitter (default 200 ms). */
    retryBaseDelayMs?: number;
    /** How long claimed reports stay invisible to other flushers (default 30,000 ms). */
    leaseMs?: number;
  };
  /** Reserved units come back after this long if a request never commits or releases (default 60,000 ms). */
  reservationTtlMs?: number;
  /** Per-feature decision when Stigg cannot be reached and nothing is cached. */
  fallback?: Record<string, { hasAccess: boolean; usageLimit?: number }>;
  /** Without a fallback: 'closed' (default) throws EntitlementUnavailableError, 'open' grants and logs. */
  failMode?: 'closed' | 'open';
  /** Put on EntitlementUnavailableError (Retry-After); default 5. */
  retryAfterSeconds?: number;
  circuitBreaker?: {
    /** Consecutive upstream failures that open the circuit (default 5). */
    failureThreshold?: number;
    /** Open for this long before one trial call (default 10,000 ms). */
    resetTimeoutMs?: number;
  };
  logger?: Logger;
  /** Clock (ms since epoch); default Date.now, read at most once per millisecond. */
  now?: () => number;
}

interface Configuration {
  readonly client: EntitlementsUpstream;
  readonly store: Store;
  readonly ownsStore: boolean;
  readonly ttlMs: number;
  readonly staleTtlMs: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly leaseMs: number;
  readonly reservationTtlMs: number;
  readonly fallback: ReadonlyMap<string, FallbackRule>;
  readonly failMode: 'closed' | 'open';
  readonly retryAfterSeconds: number;
  readonly failureThreshold: number;
  readonly resetTimeoutMs: number;
  readonly maxEntries: number;
  readonly logger: Logger;
  readonly now: () => number;
}

interface Fetch {
  readonly promise: Promise<CachedEntitlement>;
  readonly customerId: string;
  invalidated: boolean;
  /**
   * DELTA units of the key this process got acknowledged while the fetch was on its way: Stigg's
   * answer may predate them, so the cached usage keeps counting them (core accounting only).
   */
  deliveredMeanwhile: number;
}

const FETCH_LOCK_TTL_MS = 5_000;
const PEER_POLL_MS = 25;
const FAIL_OPEN_WARNING_INTERVAL_MS = 60_000;




function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(
      `${String(value)} is not a valid value for ${name}. Please choose ${min === 0 ? 'an integer >= 0' : `an integer >= ${min}`}.`,
    );
  }
  return value;
}

function sectionOf(options: Record<string, unknown>, name: string): Record<string, unknown> {
  const section = options[name];
  if (section === undefined) return {};
  if (!isPlainObject(section)) throw new TypeError(`${name} must be an object, e.g. { ${name === 'cache' ? 'ttlMs: 30000' : '…'} }.`);
  return section;
}

function configure(options: EntitlementsOptions): Configuration {
  if (!isPlainObject(options)) {
    throw new TypeError('createEntitlements() expects an options object: createEntitlements({ client: Stigg.createClient(apiKey) }).');
  }
  const raw = options as unknown as Record<string, unknown>;
  const client = options.client as Partial<EntitlementsUpstream> | undefined;
  if (typeof client?.getEntitlement !== 'function' || typeof client.reportUsageBulk !== 'function') {
    throw new TypeError(
      'client is required: pass Stigg.createClient(apiKey), or an object with getEntitlement() and reportUsageBulk().',
    );
  }
  const cache = sectionOf(raw, 'cache');
  const usage = sectionOf(raw, 'usage');
  const breaker = sectionOf(raw, 'circuitBreaker');

  const ttlMs = integerOption('cache.ttlMs', cache['ttlMs'], 30_000, 0);
  const staleTtlMs = integerOption('cache.staleTtlMs', cache['staleTtlMs'], Math.max(5 * 60_000, ttlMs), 1);
  if (staleTtlMs < ttlMs) {
    throw new TypeError(`cache.staleTtlMs (${staleTtlMs}) must be >= cache.ttlMs (${ttlMs}): stale values are served after they expire, not before.`);
  }
  const maxEntries = integerOption('cache.maxEntries', cache['maxEntries'], 10_000, 1);

  const now = options.now ?? coarseClock();
  if (typeof now !== 'function') throw new TypeError('now must be a function returning milliseconds since the epoch, like Date.now.');

  let store = options.store;
  const ownsStore = store === undefined;
  if (store === undefined) {
    store = new MemoryStore({ maxEntries, now });
  } else {
    for (const method of ['getEntitlement', 'setEntitlement', 'invalidateCustomer', 'reserve', 'release', 'commit', 'enqueueUsage', 'claimUsage', 'ackUsage'] as const) {
      if (typeof store[method] !== 'function') {
        throw new TypeError(`store.${method} is not a function: pass a Store such as new MemoryStore() or the Redis store from stigg-gate/redis.`);
      }
    }
  }

  const fallback = new Map<string, FallbackRule>();
  if (options.fallback !== undefined) {
    if (!isPlainObject(options.fallback)) {
      throw new TypeError("fallback must map feature ids to rules, e.g. { 'feature-04-analytics': { hasAccess: true } }.");
    }
    for (const [featureId, rule] of Object.entries(options.fallback)) {
      if (!isPlainObject(rule) || typeof rule['hasAccess'] !== 'boolean') {
        throw new TypeError(`fallback["${featureId}"] must be { hasAccess: boolean, usageLimit?: number }.`);
      }
      const usageLimit = rule['usageLimit'];
      if (usageLimit !== undefined && (typeof usageLimit !== 'number' || !(usageLimit >= 0) || usageLimit === Infinity)) {
        throw new TypeError(`${String(usageLimit)} is not a valid value for fallback["${featureId}"].usageLimit. Please choose a finite number >= 0, or omit it.`);
      }
      fallback.set(featureId, Object.freeze({ hasAccess: rule['hasAccess'], usageLimit: usageLimit as number | undefined }));
    }
  }

  const failMode = options.failMode ?? 'closed';
  if (failMode !== 'closed' && failMode !== 'open') {
    throw new TypeError(`${String(failMode)} is not a valid value for failMode. Please choose 'closed' (default) or 'open'.`);
  }

  const logger = options.logger ?? silentLogger;
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError('logger must have warn() and error() methods (debug() and info() are optional), e.g. a pino or winston logger.');
  }

  return {
    client: client as EntitlementsUpstream,
    store,
    ownsStore,
    ttlMs,
    staleTtlMs,
    batchSize: integerOption('usage.batchSize', usage['batchSize'], 100, 1),
    flushIntervalMs: integerOption('usage.flushIntervalMs', usage['flushIntervalMs'], 1_000, 1),
    maxAttempts: integerOption('usage.maxAttempts', usage['maxAttempts'], 8, 1),
    retryBaseDelayMs: integerOption('usage.retryBaseDelayMs', usage['retryBaseDelayMs'], 200, 0),
    leaseMs: integerOption('usage.leaseMs', usage['leaseMs'], 30_000, 1),
    reservationTtlMs: integerOption('reservationTtlMs', raw['reservationTtlMs'], 60_000, 1),
    fallback,
    failMode,
    retryAfterSeconds: integerOption('retryAfterSeconds', raw['retryAfterSeconds'], 5, 0),
    failureThreshold: integerOption('circuitBreaker.failureThreshold', breaker['failureThreshold'], 5, 1),
    resetTimeoutMs: integerOption('circuitBreaker.resetTimeoutMs', breaker['resetTimeoutMs'], 10_000, 0),
    maxEntries,
    logger,
    now,
  };
}

function validateInput(input: CheckInput, what: string): number {
  if (!isPlainObject(input)) {
    throw new TypeError(`${what} expects { customerId, featureId, resourceId?, requestedUsage? }.`);
  }
  if (typeof input.customerId !== 'string' || input.customerId === '') {
    throw new TypeError(`${what}: customerId must be a non-empty string (the Stigg customer id).`);
  }
  if (typeof input.featureId !== 'string' || input.featureId === '') {
    throw new TypeError(`${what}: featureId must be a non-empty string (a Stigg feature id).`);
  }
  const resourceId = input.resourceId;
  if (resourceId !== undefined && resourceId !== null && (typeof resourceId !== 'string' || resourceId === '')) {
    throw new TypeError(`${what}: resourceId must be a non-empty string or undefined.`);
  }
  const requested = input.requestedUsage ?? 0;
  if (typeof requested !== 'number' || !(requested >= 0) || requested === Infinity) {
    throw new TypeError(`${what}: ${String(requested)} is not a valid requestedUsage. Please pass a finite number >= 0.`);
  }
  return requested;
}

/** Exactly one of commit/release takes effect; a denied lease does nothing. */
class EntitlementLease implements Lease {
  private settled: boolean;

  constructor(
    private readonly owner: EntitlementsEngine,
    private readonly key: string,
    readonly decision: Decision,
    private readonly reservationId: string | undefined,
  ) {
    this.settled = !decision.granted;
  }

  commit(): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.commitLease(this.key, this.decision, this.reservationId);
  }

  release(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.reservationId !== undefined) this.owner.releaseLease(this.key, this.reservationId);
  }
}

class EntitlementsEngine implements Entitlements {
  private readonly config: Configuration;
  private readonly store: Store;
  private readonly now: () => number;
  private readonly events = new EventEmitter();
  private readonly inflight = new Map<string, Fetch>();
  private readonly keys: KeyCache;
  /** DELTA units queued by this process and not yet acknowledged by Stigg, per key. */
  private readonly unreported = new Map<string, number>();
  private readonly breaker: CircuitBreaker;
  private readonly buffer: UsageBuffer;
  private readonly failOpenWarnedAt = new Map<string, number>();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Store operations (and upstream fetches that end in one) started here and not settled yet; close() waits for them. */
  private readonly storeWrites = new Set<Promise<void>>();
  /** The store adds every process's unreported units itself (Store.countsUnreportedUsage): no accounting here. */
  private readonly countsUnreported: boolean;
  private observeHits = false;
  private observeMisses = false;
  private isoMs = Number.NaN;
  private iso = '';

  constructor(config: Configuration) {
    this.config = config;
    this.store = config.store;
    this.countsUnreported = config.store.countsUnreportedUsage === true;
    this.now = config.now;
    this.keys = new KeyCache(config.maxEntries);
    this.breaker = new CircuitBreaker({
      failureThreshold: config.failureThreshold,
      resetTimeoutMs: config.resetTimeoutMs,
      now: config.now,
    });
    this.buffer = new UsageBuffer({
      store: config.store,
      client: config.client,
      batchSize: config.batchSize,
      flushIntervalMs: config.flushIntervalMs,
      maxAttempts: config.maxAttempts,
      retryBaseDelayMs: config.retryBaseDelayMs,
      leaseMs: config.leaseMs,
      onDelivered: (reports, results, context) => this.delivered(reports, results, context),
      onDelivering: (reports) => this.usageMarks(reports),
      onDropped: (report, error) => this.dropped(report, error),
      onStoreError: (error) => this.storeError(error),
    });
    this.buffer.start();
  }

  acquire(input: CheckInput): MaybePromise<Lease> {
    if (this.closed) throw new EntitlementsClosedError('acquire()');
    const requested = validateInput(input, 'acquire()');
    const key = this.keys.get(input.customerId, input.resourceId, input.featureId);
    const cached = this.readCache(key);
    if (isThenable(cached)) return cached.then((value) => this.acquireWith(input, requested, key, value));
    return this.acquireWith(input, requested, key, cached);
  }

  check(input: CheckInput): MaybePromise<Decision> {
    if (this.closed) throw new EntitlementsClosedError('check()');
    const requested = validateInput(input, 'check()');
    const key = this.keys.get(input.customerId, input.resourceId, input.featureId);
    const cached = this.readCache(key);
    if (isThenable(cached)) return cached.then((value) => this.checkWith(input, requested, key, value));
    return this.checkWith(input, requested, key, cached);
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
    const key = this.keys.get(report.customerId, report.resourceId, report.featureId);
    const pending = this.pendingUsage(report.customerId, report.resourceId ?? undefined, report.featureId, report.value, behavior);
    return this.enqueue(key, pending, undefined);
  }

  invalidate(customerId: string): MaybePromise<void> {
    if (typeof customerId !== 'string' || customerId === '') {
      throw new TypeError('invalidate() expects the Stigg customer id (a non-empty string).');
    }
    for (const [key, fetch] of this.inflight) {
      if (fetch.customerId !== customerId) continue;
      fetch.invalidated = true;
      this.inflight.delete(key);
    }
    return this.store.invalidateCustomer(customerId);
  }

  flush(): Promise<void> {
    return this.buffer.flush();
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    this.buffer.stop();
    this.closing = this.shutdown();
    return this.closing;
  }

  /**
   * Commits still on their way into the outbox land first (so the last flush sends them), then the
   * flush, then every store write started here (cache updates from that flush included), and only
   * then a store this instance created is closed.
   */
  private async shutdown(): Promise<void> {
    await this.settleStoreWrites();
    try {
      await this.buffer.flush();
    } finally {
      await this.settleStoreWrites();
      if (this.config.ownsStore) await this.store.close?.();
    }
  }

  private async settleStoreWrites(): Promise<void> {
    while (this.storeWrites.size > 0) await Promise.all(this.storeWrites);
  }

  /** Remember a store operation (its errors already handled) until it settles. */
  private background(operation: Promise<unknown>): void {
    const settled = operation.then(noop, noop);
    this.storeWrites.add(settled);
    settled.then(() => this.storeWrites.delete(settled), noop);
  }

  on<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    this.observeListeners();
    return this;
  }

  off<E extends keyof EntitlementsEvents>(event: E, listener: (...args: EntitlementsEvents[E]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    this.observeListeners();
    return this;
  }

  /** Called by a lease; never blocks on Stigg. */
  commitLease(key: string, decision: Decision, reservationId: string | undefined): void {
    if (!decision.metered) {
      if (reservationId !== undefined) this.releaseLease(key, reservationId);
      return;
    }
    const report = this.pendingUsage(decision.customerId, decision.resourceId, decision.featureId, decision.requestedUsage, 'DELTA');
    const queued = this.enqueue(key, report, reservationId);
    if (isThenable(queued)) this.background(queued);
    if (this.closed) {
      this.config.logger.warn({
        featureId: decision.featureId,
        idempotencyKey: report.idempotencyKey,
      }, 'A lease was committed after entitlements.close(); delivering its usage now');
      this.buffer.flush().catch(noop);
    }
  }

  releaseLease(key: string, reservationId: string): void {
    try {
      const released = this.store.release(key, reservationId);
      if (isThenable(released)) this.background(released.catch((error: unknown) => this.storeError(asError(error))));
    } catch (error) {
      this.storeError(asError(error));
    }
  }

  private acquireWith(input: CheckInput, requested: number, key: string, cached: CachedEntitlement | undefined): MaybePromise<Lease> {
    if (cached !== undefined) {
      const usable = this.usable(input, key, cached);
      if (usable !== undefined) {
        if (this.observeHits) this.emit('cache:hit', key);
        return this.leaseFrom(input, requested, key, usable, 'cache');
      }
    }
    if (this.observeMisses) this.emit('cache:miss', key);
    return this.load(input, key).then(
      (fresh) => this.leaseFrom(input, requested, key, fresh, 'upstream'),
      (error: unknown) =>
        cached !== undefined
          ? this.leaseFrom(input, requested, key, cached, 'cache')
          : this.leaseOf(key, this.fallback(input, requested, error), undefined),
    );
  }

  private checkWith(input: CheckInput, requested: number, key: string, cached: CachedEntitlement | undefined): MaybePromise<Decision> {
    if (cached !== undefined) {
      const usable = this.usable(input, key, cached);
      if (usable !== undefined) {
        if (this.observeHits) this.emit('cache:hit', key);
        return this.decisionFrom(input, requested, key, usable, 'cache');
      }
    }
    if (this.observeMisses) this.emit('cache:miss', key);
    return this.load(input, key).then(
      (fresh) => this.decisionFrom(input, requested, key, fresh, 'upstream'),
      (error: unknown) =>
        cached !== undefined ? this.decisionFrom(input, requested, key, cached, 'cache') : this.fallback(input, requested, error),
    );
  }

  /**
   * The cached value to decide with now (rolled over when its usage period ended), refreshing it in
   * the background when stale; undefined when too old to serve without asking Stigg first.
   */
  private usable(input: CheckInput, key: string, cached: CachedEntitlement): CachedEntitlement | undefined {
    const now = this.now();
    const age = now - cached.fetchedAt;
    let value = cached;
    let refresh = age >= this.config.ttlMs;
    if (cached.usagePeriodEnd !== null) {
      const periodEnd = periodEndOf(cached);
      if (periodEnd !== null && periodEnd <= now) {
        value = this.rollOver(input, key, cached, periodEnd, now);
        refresh = true;
      }
    }
    if (!refresh) return value;
    if (age >= this.config.staleTtlMs) return undefined;
    if (!this.inflight.has(key) && this.breaker.allow()) this.startFetch(input, key).catch(noop);
    return value;
  }

  private rollOver(input: CheckInput, key: string, cached: CachedEntitlement, periodEnd: number, now: number): CachedEntitlement {
    const next = nextPeriodEnd(periodEnd, cached.resetPeriod, now);
    const rolled: CachedEntitlement = {
      ...cached,
      currentUsage: 0,
      usagePeriodEnd: next === null ? null : new Date(next).toISOString(),
      usagePeriodEndMs: next,
    };
    this.writeCache(key, input.customerId, rolled);
    return rolled;
  }

  private leaseFrom(
    input: CheckInput,
    requested: number,
    key: string,
    cached: CachedEntitlement,
    source: DecisionSource,
  ): MaybePromise<Lease> {
    if (!needsReservation(cached, requested)) {
      const decision = this.decisionFrom(input, requested, key, cached, source);
      if (isThenable(decision)) return decision.then((value) => new EntitlementLease(this, key, value, undefined));
      return new EntitlementLease(this, key, decision, undefined);
    }
    let reserved: MaybePromise<ReserveResult>;
    try {
      reserved = this.store.reserve(key, requested, cached.usageLimit as number, this.config.reservationTtlMs);
    } catch (error) {
      return this.unreservedLease(input, requested, key, error);
    }
    if (isThenable(reserved)) {
      this.background(reserved);
      return reserved.then(
        (result) => this.reservedLease(input, requested, key, cached, source, result),
        (error: unknown) => this.unreservedLease(input, requested, key, error),
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
  private unreservedLease(input: CheckInput, requested: number, key: string, error: unknown): Lease {
    this.storeError(asError(error));
    return this.leaseOf(key, this.fallback(input, requested, error), undefined);
  }

  private leaseOf(key: string, decision: Decision, reservationId: string | undefined): Lease {
    return new EntitlementLease(this, key, decision, reservationId);
  }

  private decisionFrom(
    input: CheckInput,
    requested: number,
    key: string,
    cached: CachedEntitlement,
    source: DecisionSource,
  ): MaybePromise<Decision> {
    if (this.store.reservedUsage === undefined || !isLimited(cached)) {
      return decide(input, requested, cached, cached.currentUsage, source);
    }
    let reserved: MaybePromise<number>;
    try {
      reserved = this.store.reservedUsage(key);
    } catch (error) {
      this.storeError(asError(error));
      reserved = 0;
    }
    if (isThenable(reserved)) {
      return reserved.then(
        (units) => decide(input, requested, cached, cached.currentUsage + units, source),
        (error: unknown) => {
          this.storeError(asError(error));
          return decide(input, requested, cached, cached.currentUsage, source);
        },
      );
    }
    return decide(input, requested, cached, cached.currentUsage + reserved, source);
  }

  /** No decision from Stigg or the cache: the feature's fallback, else fail open or closed. */
  private fallback(input: CheckInput, requested: number, error: unknown): Decision {
    const rule = this.config.fallback.get(input.featureId);
    if (rule === undefined && this.config.failMode === 'closed') {
      throw new EntitlementUnavailableError(input.featureId, this.config.retryAfterSeconds, { cause: error });
    }
    const decision = fallbackDecision(input, requested, rule);
    if (rule === undefined) this.warnFailOpen(input.featureId, error);
    this.emit('fallback:used', decision);
    return decision;
  }

  private warnFailOpen(featureId: string, error: unknown): void {
    const now = this.now();
    const last = this.failOpenWarnedAt.get(featureId);
    if (last !== undefined && now - last < FAIL_OPEN_WARNING_INTERVAL_MS) return;
    this.failOpenWarnedAt.set(featureId, now);
    this.config.logger.warn({
      featureId,
      error: asError(error).message,
    }, 'Stigg unreachable and nothing cached: granting access (failMode: open)');
  }

  private readCache(key: string): MaybePromise<CachedEntitlement | undefined> {
    let cached: MaybePromise<CachedEntitlement | undefined>;
    try {
      cached = this.store.getEntitlement(key);
    } catch (error) {
      this.storeError(asError(error));
      return undefined;
    }
    if (isThenable(cached)) {
      return cached.catch((error: unknown) => {
        this.storeError(asError(error));
        return undefined;
      });
    }
    return cached;
  }

  /** Never throws or rejects (store errors are reported); the promise of an asynchronous store's write. */
  private writeCache(key: string, customerId: string, value: CachedEntitlement, usageMark?: number): Promise<void> | undefined {
    const ttl = Math.max(1, this.config.staleTtlMs - (this.now() - value.fetchedAt));
    try {
      const written =
        usageMark === undefined
          ? this.store.setEntitlement(key, customerId, value, ttl)
          : this.store.setEntitlement(key, customerId, value, ttl, usageMark);
      if (!isThenable(written)) return undefined;
      const handled = written.catch((error: unknown) => this.storeError(asError(error)));
      this.background(handled);
      return handled;
    } catch (error) {
      this.storeError(asError(error));
      return undefined;
    }
  }

  /** One upstream call per key at a time (and per cluster with a store that has acquireFetchLock). */
  private load(input: CheckInput, key: string): Promise<CachedEntitlement> {
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending.promise;
    if (!this.breaker.allow()) return Promise.reject(this.breaker.rejection());
    return this.startFetch(input, key);
  }

  /** The circuit breaker has let this call through. */
  private startFetch(input: CheckInput, key: string): Promise<CachedEntitlement> {
    const fetch: Fetch = {
      promise: undefined as unknown as Promise<CachedEntitlement>,
      customerId: input.customerId,
      invalidated: false,
      deliveredMeanwhile: 0,
    };
    const promise = this.fetchEntitlement(input, key, fetch).finally(() => {
      if (this.inflight.get(key) === fetch) this.inflight.delete(key);
    });
    (fetch as { promise: Promise<CachedEntitlement> }).promise = promise;
    this.inflight.set(key, fetch);
    // It writes the cache when Stigg answers: close() waits for that too.
    this.background(promise);
    return promise;
  }

  private async fetchEntitlement(input: CheckInput, key: string, fetch: Fetch): Promise<CachedEntitlement> {
    // Read before Stigg's usage is, alongside the fetch lock (no extra round trip on the way).
    const mark = this.usageMark(key);
    if (this.store.acquireFetchLock !== undefined) {
      let mine = true;
      try {
        mine = await this.store.acquireFetchLock(key, FETCH_LOCK_TTL_MS);
      } catch (error) {
        this.storeError(asError(error));
      }
      if (!mine) {
        const fetchedByPeer = await this.waitForPeer(key);
        if (fetchedByPeer !== undefined) {
          this.breaker.success();
          return fetchedByPeer;
        }
      }
    }
    const usageMark = (isThenable(mark) ? await mark : mark) ?? undefined;
    let result;
    try {
      result = await this.config.client.getEntitlement({
        customerId: input.customerId,
        featureId: input.featureId,
        resourceId: input.resourceId ?? undefined,
        options: { requestedUsage: 0 },
      });
    } catch (error) {
      this.breaker.failure();
      this.emit('upstream:error', asError(error));
      throw error;
    }
    this.breaker.success();
    if (!this.countsUnreported) {
      const value = toCachedEntitlement(result, this.now(), this.unreportedUnits(key) + fetch.deliveredMeanwhile);
      if (!fetch.invalidated) this.writeCache(key, input.customerId, value);
      return value;
    }
    // The store adds the outbox's units (every process's) to Stigg's usage: decide with what it keeps.
    const value = toCachedEntitlement(result, this.now(), 0);
    if (fetch.invalidated) return value;
    const written = this.writeCache(key, input.customerId, value, usageMark);
    if (written !== undefined) await written;
    const stored = this.readCache(key);
    return (isThenable(stored) ? await stored : stored) ?? value;
  }

  /**
   * The store's usage mark of `key` when it counts unreported usage itself and has marks: a number,
   * or null when the store failed to give one (reported). undefined when no mark is needed.
   */
  private usageMark(key: string): MaybePromise<number | null | undefined> {
    if (!this.countsUnreported || this.store.usageMark === undefined) return undefined;
    const failed = (error: unknown): null => {
      this.storeError(asError(error));
      return null;
    };
    try {
      const mark = this.store.usageMark(key);
      return isThenable(mark) ? mark.catch(failed) : mark;
    } catch (error) {
      return failed(error);
    }
  }

  /** Before a batch is sent: the usage mark of each key it reports on (see reconcile). */
  private usageMarks(reports: PendingUsage[]): MaybePromise<Map<string, number | null> | undefined> {
    if (!this.countsUnreported || this.store.usageMark === undefined) return undefined;
    const keys = new Set<string>();
    for (const report of reports) keys.add(this.keys.get(report.customerId, report.resourceId, report.featureId));
    const marks = new Map<string, number | null>();
    const waiting: Array<Promise<void>> = [];
    for (const key of keys) {
      const mark = this.usageMark(key) as MaybePromise<number | null>;
      if (isThenable(mark)) waiting.push(mark.then((value) => void marks.set(key, value)));
      else marks.set(key, mark);
    }
    return waiting.length === 0 ? marks : Promise.all(waiting).then(() => marks);
  }

  private async waitForPeer(key: string): Promise<CachedEntitlement | undefined> {
    for (let waited = 0; waited < FETCH_LOCK_TTL_MS; waited += PEER_POLL_MS) {
      await new Promise(function pause(resolve) {
        setTimeout(resolve, PEER_POLL_MS).unref();
      });
      const cached = await this.readCache(key);
      if (cached !== undefined && this.now() - cached.fetchedAt < this.config.ttlMs) return cached;
    }
    return undefined;
  }

  private pendingUsage(
    customerId: string,
    resourceId: string | undefined,
    featureId: string,
    value: number,
    updateBehavior: 'DELTA' | 'SET',
  ): PendingUsage {
    const idempotencyKey = randomUUID();
    return {
      id: idempotencyKey,
      idempotencyKey,
      customerId,
      featureId,
      resourceId,
      value,
      updateBehavior,
      createdAt: this.isoNow(),
      attempts: 0,
    };
  }

  private isoNow(): string {
    const now = this.now();
    if (now !== this.isoMs) {
      this.isoMs = now;
      this.iso = new Date(now).toISOString();
    }
    return this.iso;
  }

  private enqueue(key: string, report: PendingUsage, reservationId: string | undefined): MaybePromise<void> {
    if (report.updateBehavior !== 'SET' && !this.countsUnreported) this.track(key, report.value);
    let queued: MaybePromise<void>;
    try {
      queued =
        reservationId === undefined ? this.store.enqueueUsage(key, report) : this.store.commit(key, reservationId, report);
    } catch (error) {
      this.lost(report, error);
      throw error;
    }
    if (isThenable(queued)) {
      return queued.then(
        () => this.buffer.notify(),
        (error: unknown) => {
          this.lost(report, error);
          throw error;
        },
      );
    }
    this.buffer.notify();
    return undefined;
  }

  /** The store refused a report: it will never be delivered, so say so with its full content. */
  private lost(report: PendingUsage, error: unknown): void {
    this.storeError(asError(error));
    this.dropped(report, asError(error));
  }

  /** Units Stigg has not seen yet that the cached usage must include (a shared store adds its own). */
  private unreportedUnits(key: string): number {
    return this.countsUnreported ? 0 : (this.unreported.get(key) ?? 0);
  }

  private track(key: string, units: number): void {
    const total = (this.unreported.get(key) ?? 0) + units;
    if (Math.abs(total) < 1e-9) this.unreported.delete(key);
    else this.unreported.set(key, total);
  }

  private delivered(reports: PendingUsage[], results: UpstreamUsageResult[], context: DeliveryContext): MaybePromise<void> {
    /** Counting store: DELTA units of this batch per key, acknowledged by this process after its marks were read. */
    let acknowledged: Map<string, number> | undefined;
    for (const report of reports) {
      if (report.updateBehavior === 'SET') continue;
      const key = this.keys.get(report.customerId, report.resourceId, report.featureId);
      if (this.countsUnreported) {
        (acknowledged ??= new Map()).set(key, (acknowledged.get(key) ?? 0) + report.value);
        continue;
      }
      if (this.unreported.has(key)) this.track(key, -report.value);
      const fetch = this.inflight.get(key);
      if (fetch !== undefined) fetch.deliveredMeanwhile += report.value;
    }
    const latest = new Map<string, UpstreamUsageResult>();
    for (const result of results) {
      if (typeof result?.currentUsage !== 'number') continue;
      latest.set(this.keys.get(result.customerId, result.resourceId, result.featureId), result);
    }
    let writes: Array<Promise<void>> | undefined;
    const marks = context.before as Map<string, number | null> | undefined;
    for (const [key, result] of latest) {
      let usageMark: number | undefined;
      if (this.countsUnreported && this.store.usageMark !== undefined) {
        // Stigg's answer counts this batch, and whatever other processes delivered before it, some
        // of it perhaps acknowledged since. Without a mark read before the batch was sent (or when
        // the batch is still in the outbox) that cannot be told apart: the store's running count,
        // kept by every commit, stays as it is until the next refresh.
        const before = marks?.get(key);
        if (typeof before !== 'number' || !context.acked) continue;
        usageMark = before + (acknowledged?.get(key) ?? 0);
      }
      const written = this.reconcile(key, result, usageMark);
      if (written !== undefined) (writes ??= []).push(written);
    }
    this.emit('usage:flushed', reports);
    // The flush that delivered them ends once the cache says so.
    return writes === undefined ? undefined : Promise.all(writes).then(noop);
  }

  /**
   * Stigg's usage after a delivered report becomes the cached usage, plus the units Stigg has not
   * seen: what this process queued since (core accounting), or what the store adds itself (every
   * process's outbox, and with `usageMark` what other processes got acknowledged meanwhile).
   */
  private reconcile(key: string, result: UpstreamUsageResult, usageMark?: number): Promise<void> | undefined {
    const apply = (cached: CachedEntitlement | undefined): Promise<void> | undefined => {
      if (cached === undefined) return undefined;
      const periodEndMs = parseDate(result.usagePeriodEnd) ?? periodEndOf(cached);
      return this.writeCache(key, result.customerId, {
        ...cached,
        currentUsage: (result.currentUsage as number) + this.unreportedUnits(key),
        usagePeriodEnd: result.usagePeriodEnd ?? cached.usagePeriodEnd,
        usagePeriodEndMs: periodEndMs,
      }, usageMark);
    };
    const cached = this.readCache(key);
    if (!isThenable(cached)) return apply(cached);
    const written = cached.then(apply).then(noop, noop);
    this.background(written);
    return written;
  }

  private dropped(report: PendingUsage, error: Error): void {
    const key = this.keys.get(report.customerId, report.resourceId, report.featureId);
    if (report.updateBehavior !== 'SET' && this.unreported.has(key)) this.track(key, -report.value);
    this.config.logger.error({
      customerId: report.customerId,
      featureId: report.featureId,
      resourceId: report.resourceId,
      value: report.value,
      updateBehavior: report.updateBehavior,
      idempotencyKey: report.idempotencyKey,
      createdAt: report.createdAt,
      attempts: report.attempts,
      error: error.message,
    }, 'A usage report could not be delivered to Stigg');
    this.emit('usage:dropped', report, error);
  }

  private storeError(error: Error): void {
    this.config.logger.error({ error: error.message }, `Entitlements store "${this.store.name}" failed`);
    this.emit('store:error', error);
  }

  private observeListeners(): void {
    this.observeHits = this.events.listenerCount('cache:hit') > 0;
    this.observeMisses = this.events.listenerCount('cache:miss') > 0;
  }

  private emit<E extends keyof EntitlementsEvents>(event: E, ...args: EntitlementsEvents[E]): void {
    if (this.events.listenerCount(event) === 0) return;
    try {
      this.events.emit(event, ...args);
    } catch (error) {
      this.config.logger.error({
        error: asError(error).message,
      }, `An entitlements "${event}" listener threw; listeners must not throw`);
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
