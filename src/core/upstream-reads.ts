import { asError } from '../util/maybe-promise';
import type { Runtime } from './runtime';
import { callOutcome, failureKind } from './transient';
import type { UpstreamCall, UpstreamEntitlement, UpstreamEntitlementsState } from './types';
import { StiggGateError } from './stigg-gate-error';

/** One read of a customer's (and resource's) entitlement set, shared by every key of it that misses meanwhile. */
export interface SetRead {
  readonly promise: Promise<UpstreamEntitlementsState>;
  readonly customerId: string;
  /** The read sequence number at which it was sent: fetches whose usage mark is older may join it. */
  readonly sentAt: number;
  invalidated: boolean;
  /** DELTA units per key this process got acknowledged while the read was out (core accounting). */
  readonly delivered: Map<string, number>;
}

/**
 * Stigg answered 429 for this customer (its reads wait until `until`, other customers are untouched),
 * or, `throttled`, the gate's own bound refused one more read for it: Stigg was not asked, so no
 * fallback or fail-open grant stands in for its answer.
 */
export class CustomerRateLimitedError extends StiggGateError {
  override readonly name = 'CustomerRateLimitedError';
  readonly errorCode: string = 'ERR_STIGG_GATE_CUSTOMER_RATE_LIMITED';
  readonly transient = true;
  constructor(
    readonly customerId: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
    readonly throttled = false,
  ) {
    super(
      throttled
        ? `Too many reads for this customer are waiting already; try again in ${retryAfterMs} ms`
        : `Stigg rate-limited reads for this customer; next read in ${retryAfterMs} ms`,
      options,
    );
  }
}

/** The gate's own per-customer bound refused the read (Stigg is up, and was not asked). */
export function isThrottled(error: unknown): boolean {
  return error instanceof CustomerRateLimitedError && error.throttled;
}

/** Reads in flight (and waiting) per customer: one customer's misses cannot crowd out the others'. */
const MAX_READS_PER_CUSTOMER = 4;
const MAX_WAITING_PER_CUSTOMER = 64;
const DEFAULT_RATE_LIMIT_MS = 1_000;
const MAX_RATE_LIMIT_MS = 60_000;
const KEY_SEPARATOR = '\u001f';

interface CustomerReads {
  inFlight: number;
  readonly waiting: Array<() => void>;
}

/** The features a set read answered with, until `until`. */
interface SetSeen {
  readonly features: ReadonlySet<string>;
  readonly until: number;
}

/** Most sets whose features are remembered; at the bound they are forgotten together (as the 429 holds). */
const MAX_SETS_SEEN = 10_000;

/**
 * Every call to Stigg the engine makes to decide: the entitlement set of a customer (and resource)
 * in one read, coalesced; a single feature when the set cannot answer for it. Per customer: a
 * bound on reads in flight, and a 429 holds that customer's reads for its Retry-After without
 * counting toward the shared breaker (only failures that hold for every customer do).
 */
export class UpstreamReads {
  private readonly sets = new Map<string, SetRead>();
  private readonly customers = new Map<string, CustomerReads>();
  private readonly limitedUntil = new Map<string, number>();
  /**
   * Per customer, then customer-and-resource: the features its last set read held (for ttlMs). A
   * feature that read lacked is read on its own at once; a new set read would not hold it either
   * (and would cost a second read each time: an unknown customer, a feature outside the plan).
   */
  private readonly seen = new Map<string, Map<string, SetSeen>>();
  private seenCount = 0;
  private sequence = 0;

  constructor(private readonly runtime: Runtime) {}

  /** True when the client can read whole entitlement sets. */
  get bySet(): boolean {
    return this.runtime.config.client.getEntitlementsState !== undefined;
  }

  /** A sequence number to take before a usage mark is read: a set read sent after it may be joined. */
  mark(): number {
    return (this.sequence += 1);
  }

  /** The set read of `key`'s customer and resource on its way and sent after `markedAt`, or a new one. */
  set(customerId: string, resourceId: string | undefined, key: string, markedAt: number): SetRead {
    const setKey = setKeyOf(key);
    const current = this.sets.get(setKey);
    if (current !== undefined && current.sentAt > markedAt && !current.invalidated) return current;
    const client = this.runtime.config.client;
    const read: SetRead = {
      promise: undefined as unknown as Promise<UpstreamEntitlementsState>,
      customerId,
      sentAt: this.mark(),
      invalidated: false,
      delivered: new Map(),
    };
    const query = resourceId === undefined ? { customerId } : { customerId, resourceId };
    const promise = this.call('getEntitlementsState', customerId, undefined, () =>
      (client.getEntitlementsState as NonNullable<typeof client.getEntitlementsState>)(query),
    )
      .then((state) => {
        if (!read.invalidated) this.remember(customerId, setKey, state);
        return state;
      })
      .finally(() => {
        if (this.sets.get(setKey) === read) this.sets.delete(setKey);
      });
    (read as { promise: Promise<UpstreamEntitlementsState> }).promise = promise;
    this.sets.set(setKey, read);
    return read;
  }

  /** One feature alone, at requestedUsage 0 (its usage-dependent answers are decided locally). */
  feature(customerId: string, featureId: string, resourceId: string | undefined): Promise<UpstreamEntitlement> {
    const client = this.runtime.config.client;
    return this.call('getEntitlement', customerId, featureId, () =>
      client.getEntitlement({ customerId, featureId, resourceId, options: { requestedUsage: 0 } }),
    );
  }

  /**
   * True when the set of `key`'s customer and resource was read within ttlMs and did not hold
   * `featureId`: that feature is read on its own, without reading the set again. (Only the cost
   * depends on it: the feature's own read answers for it whatever the set holds now.)
   */
  lacks(customerId: string, key: string, featureId: string): boolean {
    const forCustomer = this.seen.get(customerId);
    if (forCustomer === undefined) return false;
    const setKey = setKeyOf(key);
    const seen = forCustomer.get(setKey);
    if (seen === undefined) return false;
    if (seen.until > this.runtime.now()) return !seen.features.has(featureId);
    this.forget(customerId, forCustomer, setKey);
    return false;
  }

  private remember(customerId: string, setKey: string, state: UpstreamEntitlementsState): void {
    const ttlMs = this.runtime.config.ttlMs;
    if (ttlMs === 0) return;
    if (this.seenCount >= MAX_SETS_SEEN) {
      this.seen.clear();
      this.seenCount = 0;
    }
    const features = new Set<string>();
    for (const entitlement of state.entitlements) if (entitlement.feature?.refId !== undefined) features.add(entitlement.feature.refId);
    let forCustomer = this.seen.get(customerId);
    if (forCustomer === undefined) this.seen.set(customerId, (forCustomer = new Map<string, SetSeen>()));
    if (!forCustomer.has(setKey)) this.seenCount += 1;
    forCustomer.set(setKey, { features, until: this.runtime.now() + ttlMs });
  }

  private forget(customerId: string, forCustomer: Map<string, SetSeen>, setKey: string): void {
    if (!forCustomer.delete(setKey)) return;
    this.seenCount -= 1;
    if (forCustomer.size === 0) this.seen.delete(customerId);
  }

  /** Answers of this customer's set reads on their way are not cached (a subscription changed). */
  invalidate(customerId: string): void {
    const forCustomer = this.seen.get(customerId);
    if (forCustomer !== undefined) {
      this.seenCount -= forCustomer.size;
      this.seen.delete(customerId);
    }
    for (const [setKey, read] of this.sets) {
      if (read.customerId !== customerId) continue;
      read.invalidated = true;
      this.sets.delete(setKey);
    }
  }

  /** This process got `units` of `key` acknowledged while its set may be on its way. */
  delivered(key: string, units: number): void {
    const read = this.sets.get(setKeyOf(key));
    if (read !== undefined) read.delivered.set(key, (read.delivered.get(key) ?? 0) + units);
  }

  private async call<T>(
    operation: UpstreamCall['operation'],
    customerId: string,
    featureId: string | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    const { runtime } = this;
    const { breaker } = runtime;
    try {
      this.holdOf(customerId);
      const waiting = this.slot(customerId);
      if (waiting !== undefined) {
        await waiting;
        // A 429 may have come back while this read waited: it is held too (the slot passes on).
        try {
          this.holdOf(customerId);
        } catch (error) {
          this.free(customerId);
          throw error;
        }
      }
    } catch (error) {
      // No read went out, yet this call may be the breaker's half-open trial: let the next one be.
      breaker.settled();
      throw error;
    }
    const startedAt = runtime.callStarted();
    try {
      const result = await run();
      runtime.callEnded(operation, startedAt, 'ok');
      breaker.success();
      return result;
    } catch (error) {
      runtime.callEnded(operation, startedAt, callOutcome(error));
      const retryAfterMs = rateLimitOf(error);
      if (retryAfterMs !== undefined) {
        // Stigg's answer for this customer's reads: theirs to wait out, not everyone's outage.
        breaker.settled();
        if (this.limitedUntil.size >= 10_000) this.limitedUntil.clear();
        this.limitedUntil.set(customerId, runtime.now() + retryAfterMs);
      } else {
        // Only a failure that holds for every customer counts (Stigg down, the API key refused): one
        // request's rejected input must not open the breaker for everyone else.
        const kind = failureKind(error);
        if (kind === 'transient' || kind === 'auth') breaker.failure();
        else breaker.settled();
      }
      runtime.upstreamLog.failed(operation, error, featureId === undefined ? {} : { featureId });
      runtime.emit('upstream:error', asError(error));
      throw error;
    } finally {
      this.free(customerId);
    }
  }

  /** Throws CustomerRateLimitedError while Stigg's Retry-After for this customer runs. */
  private holdOf(customerId: string): void {
    const until = this.limitedUntil.get(customerId);
    if (until === undefined) return;
    const wait = until - this.runtime.now();
    if (wait > 0) throw new CustomerRateLimitedError(customerId, wait);
    this.limitedUntil.delete(customerId);
  }

  private slot(customerId: string): Promise<void> | undefined {
    let reads = this.customers.get(customerId);
    if (reads === undefined) {
      reads = { inFlight: 0, waiting: [] };
      this.customers.set(customerId, reads);
    }
    if (reads.inFlight < MAX_READS_PER_CUSTOMER) {
      reads.inFlight += 1;
      return undefined;
    }
    if (reads.waiting.length >= MAX_WAITING_PER_CUSTOMER) {
      return Promise.reject(new CustomerRateLimitedError(customerId, DEFAULT_RATE_LIMIT_MS, undefined, true));
    }
    const queue = reads.waiting;
    return new Promise<void>((resolve) => queue.push(resolve));
  }

  private free(customerId: string): void {
    const reads = this.customers.get(customerId);
    if (reads === undefined) return;
    const next = reads.waiting.shift();
    if (next !== undefined) {
      next(); // the slot passes to the next read of this customer
      return;
    }
    reads.inFlight -= 1;
    if (reads.inFlight === 0) this.customers.delete(customerId);
  }
}

/** The customer-and-resource part of an entitlement key (everything before the feature id). */
export function setKeyOf(key: string): string {
  return key.slice(0, key.lastIndexOf(KEY_SEPARATOR));
}

/** Retry-After of a 429 (ms, bounded), or undefined when `error` is no rate limit. */
function rateLimitOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { status?: unknown; retryAfterMs?: unknown };
  if (record.status !== 429) return undefined;
  const ms = typeof record.retryAfterMs === 'number' && record.retryAfterMs > 0 ? record.retryAfterMs : DEFAULT_RATE_LIMIT_MS;
  return Math.min(ms, MAX_RATE_LIMIT_MS);
}
