import type { CircuitBreaker } from './circuit-breaker';
import { nextPeriodEnd, periodEndOf, toCachedEntitlement } from './decide';
import { asError, isThenable, noop } from '../util/maybe-promise';
import type { Runtime } from './runtime';
import { unref } from '../util/timers';
import type { CachedEntitlement, CheckInput, DecisionSource, MaybePromise, UpstreamEntitlement } from './types';
import { UpstreamReads, type SetRead } from './upstream-reads';

interface Answer {
  readonly result: UpstreamEntitlement;
  /** The set read it came from, if any. */
  readonly set: SetRead | undefined;
}

/** How many times a fetch whose answer the store refused (see Fetch.unwritten) is asked again. */
const MAX_REFETCHES = 2;

interface Fetch {
  readonly promise: Promise<CachedEntitlement>;
  readonly customerId: string;
  invalidated: boolean;
  /**
   * The store refused to keep the answer (a shared store: another process invalidated the customer
   * while it was out, so it predates a change): its waiters ask again, a bounded number of times.
   */
  unwritten: boolean;
  /**
   * DELTA units of the key this process got acknowledged while the fetch was on its way: Stigg's
   * answer may predate them, so the cached usage keeps counting them (core accounting only).
   */
  deliveredMeanwhile: number;
}

/** What a caller of Fetcher.resolve() makes of an entitlement, or of having none. */
export interface Outcome<T> {
  from(input: CheckInput, requested: number, key: string, value: CachedEntitlement, source: DecisionSource): MaybePromise<T>;
  /** Neither Stigg nor the cache could answer. */
  failed(input: CheckInput, requested: number, key: string, error: unknown): MaybePromise<T>;
}

const FETCH_LOCK_TTL_MS = 5_000;
const PEER_POLL_MS = 25;
const SKEWED_REFRESH_MS = 1_000;
const ROLLED_OVER_MAX = 10_000;

/**
 * The entitlement to decide with: the cached one while fresh (stale ones are served while one
 * background refresh runs), else one upstream call per key at a time (per cluster with a store
 * that has acquireFetchLock), behind the circuit breaker.
 */
export class Fetcher {
  readonly breaker: CircuitBreaker;
  private readonly inflight = new Map<string, Fetch>();
  /** The period end this process last rolled each key over at (see usable()). */
  private readonly rolledOver = new Map<string, number>();

  private readonly reads: UpstreamReads;
  /** Set reads whose other features were cached already. */
  private readonly siblingsStored = new WeakSet<SetRead>();

  /**
   * `usageOf`: the usage to cache when Stigg says `upstream`, with what only this process knows (core
   * accounting: the usage ledger's units not yet reported).
   */
  constructor(
    private readonly runtime: Runtime,
    private readonly usageOf: (key: string, upstream: number) => number = (_key, upstream) => upstream,
  ) {
    this.breaker = runtime.breaker;
    this.reads = new UpstreamReads(runtime);
  }

  /** The one cached-or-load step of check() and acquire(). */
  resolve<T>(
    input: CheckInput,
    requested: number,
    key: string,
    cached: CachedEntitlement | undefined,
    outcome: Outcome<T>,
  ): MaybePromise<T> {
    const { events } = this.runtime;
    if (cached !== undefined) {
      const usable = this.usable(input, key, cached);
      if (usable !== undefined) {
        if (events.has('cache:hit')) events.emit('cache:hit', key);
        return outcome.from(input, requested, key, usable, 'cache');
      }
    }
    if (events.has('cache:miss')) events.emit('cache:miss', key);
    return this.load(input, key).then(
      (fresh) => outcome.from(input, requested, key, fresh, 'upstream'),
      (error: unknown) =>
        cached !== undefined ? outcome.from(input, requested, key, cached, 'cache') : outcome.failed(input, requested, key, error),
    );
  }

  /** Later answers to fetches of this customer's keys already on their way are not cached. */
  invalidate(customerId: string): void {
    this.reads.invalidate(customerId);
    for (const [key, fetch] of this.inflight) {
      if (fetch.customerId !== customerId) continue;
      fetch.invalidated = true;
      this.inflight.delete(key);
    }
  }

  /** This process got `units` of `key` acknowledged (core accounting). */
  delivered(key: string, units: number): void {
    const fetch = this.inflight.get(key);
    if (fetch !== undefined) fetch.deliveredMeanwhile += units;
    this.reads.delivered(key, units);
  }

  /**
   * The cached value to decide with now (rolled over when its usage period ended), refreshing it in
   * the background when stale; undefined when too old to serve without asking Stigg first.
   */
  private usable(input: CheckInput, key: string, cached: CachedEntitlement): CachedEntitlement | undefined {
    const now = this.runtime.now();
    const age = now - cached.fetchedAt;
    let value = cached;
    let refresh = age >= this.runtime.config.ttlMs;
    if (cached.usagePeriodEnd !== null) {
      const periodEnd = periodEndOf(cached);
      if (periodEnd !== null && periodEnd <= now) {
        if (cached.fetchedAt < periodEnd && this.rolledOver.get(key) !== periodEnd) {
          value = this.rollOver(input, key, cached, periodEnd, now);
          refresh = true;
        } else {
          // Stigg answered after this clock's period end and still counts the old period: its clock
          // is behind, and its usage stands until it rolls over. Ask again, at most once a second.
          // So does an answer for a period this process already rolled over, fetched before its end
          // by a process whose clock is behind this one's (a shared store): rolling over again on
          // each such answer would grant the limit again each time.
          refresh = age >= Math.min(this.runtime.config.ttlMs, SKEWED_REFRESH_MS);
        }
      }
    }
    if (!refresh) return value;
    if (age >= this.runtime.config.staleTtlMs) return undefined;
    if (!this.inflight.has(key) && this.breaker.allow()) this.startFetch(input, key).promise.catch(noop);
    return value;
  }

  private rollOver(input: CheckInput, key: string, cached: CachedEntitlement, periodEnd: number, now: number): CachedEntitlement {
    if (this.rolledOver.size >= ROLLED_OVER_MAX) this.rolledOver.clear();
    this.rolledOver.set(key, periodEnd);
    const next = nextPeriodEnd(periodEnd, cached.resetPeriod, now);
    const rolled: CachedEntitlement = {
      ...cached,
      currentUsage: 0,
      usagePeriodEnd: next === null ? null : new Date(next).toISOString(),
      usagePeriodEndMs: next,
    };
    void this.runtime.writeCache(key, input.customerId, rolled); // its rejection is caught and logged inside
    return rolled;
  }

  /**
   * Joins the fetch on its way or starts one. A fetch invalidated meanwhile (a subscription changed)
   * is not an answer: its waiters ask again rather than decide on what Stigg said before the change.
   */
  private load(input: CheckInput, key: string, refetched = 0): Promise<CachedEntitlement> {
    let fetch = this.inflight.get(key);
    if (fetch === undefined) {
      if (!this.breaker.allow()) return Promise.reject(this.breaker.rejection());
      fetch = this.startFetch(input, key);
    }
    const joined = fetch;
    return joined.promise.then((value) => {
      if (joined.invalidated) return this.load(input, key, refetched);
      return joined.unwritten && refetched < MAX_REFETCHES ? this.load(input, key, refetched + 1) : value;
    });
  }

  /** The circuit breaker has let this call through. */
  private startFetch(input: CheckInput, key: string): Fetch {
    const fetch: Fetch = {
      promise: undefined as unknown as Promise<CachedEntitlement>,
      customerId: input.customerId,
      invalidated: false,
      unwritten: false,
      deliveredMeanwhile: 0,
    };
    const promise = this.fetchEntitlement(input, key, fetch).finally(() => {
      if (this.inflight.get(key) === fetch) this.inflight.delete(key);
    });
    (fetch as { promise: Promise<CachedEntitlement> }).promise = promise;
    this.inflight.set(key, fetch);
    // It writes the cache when Stigg answers: close() waits for that too.
    this.runtime.background(promise);
    return fetch;
  }

  private async fetchEntitlement(input: CheckInput, key: string, fetch: Fetch): Promise<CachedEntitlement> {
    const { runtime } = this;
    const { store } = runtime;
    // Read before Stigg's usage is, alongside the fetch lock (no extra round trip on the way).
    const mark = runtime.usageMark(key, 'fetch');
    if (store.acquireFetchLock !== undefined) {
      let mine = true;
      try {
        mine = await store.acquireFetchLock(key, FETCH_LOCK_TTL_MS);
      } catch (error) {
        runtime.storeError(asError(error));
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
    // Taken once the usage mark is read: only a set read sent after it may answer for this key (Stigg's
    // usage must not predate the mark). Without marks (core accounting) any set read on its way will
    // do: it counts the acks that arrive while it is out.
    const markedAt = runtime.countsUnreported ? this.reads.mark() : 0;
    let answer: Answer;
    try {
      answer = await this.upstream(input, key, markedAt);
    } catch (error) {
      this.releaseLock(key);
      throw error;
    }
    const { result, set } = answer;
    if (!runtime.countsUnreported) {
      const upstream = result.currentUsage ?? 0;
      const meanwhile = set === undefined ? fetch.deliveredMeanwhile : (set.delivered.get(key) ?? 0);
      const value = toCachedEntitlement(result, runtime.now(), this.usageOf(key, upstream) - upstream + meanwhile);
      if (fetch.invalidated || set?.invalidated === true) this.releaseLock(key);
      else void runtime.writeCache(key, input.customerId, value); // its rejection is caught and logged inside
      return value;
    }
    // The store adds the outbox's units (every process's) to Stigg's usage: decide with what it keeps.
    const value = toCachedEntitlement(result, runtime.now(), 0);
    if (fetch.invalidated || set?.invalidated === true) {
      this.releaseLock(key);
      return value;
    }
    const written = runtime.writeCache(key, input.customerId, value, usageMark);
    // The store failed the write (reported; Redis full, say): asking Stigg again would fail it again,
    // and triple Stigg's reads for as long as it lasts. Decide on Stigg's answer.
    if (written !== undefined && !(await written)) return value;
    const read = runtime.readCache(key);
    const stored = isThenable(read) ? await read : read;
    // Not kept: the customer was invalidated by another process while Stigg's answer was out.
    // Deciding on it would reserve against nothing: ask again.
    if (stored === undefined && usageMark !== undefined) fetch.unwritten = true;
    return stored ?? value;
  }

  /**
   * Stigg's answer for `key`: from the customer's entitlement set (one read per customer and
   * resource, shared by every feature that misses meanwhile), else, for a feature the set does not
   * hold, that feature's own answer (which tells FeatureNotFound from NoFeatureEntitlementInSubscription,
   * CustomerIsArchived from CustomerNotFound, and names Revoked and CustomerResourceNotFound).
   */
  private async upstream(input: CheckInput, key: string, markedAt: number): Promise<Answer> {
    const { reads } = this;
    const resourceId = input.resourceId ?? undefined;
    if (reads.bySet && !reads.lacks(input.customerId, key, input.featureId)) {
      const set = reads.set(input.customerId, resourceId, key, markedAt);
      const state = await set.promise;
      // Every feature it holds is cached, the one asked or not (a memory store).
      this.storeSiblings(input, set, state.entitlements);
      const result = state.entitlements.find((entitlement) => entitlement.feature?.refId === input.featureId);
      if (result !== undefined) return { result, set };
      // Not in the set: the set's own reason (CustomerNotFound, NoActiveSubscription) cannot tell an
      // archived customer, a revoked promotion or an unknown feature apart; the feature's answer can.
      // (Nor is it read again for this feature while it is fresh: reads.lacks().)
    }
    return { result: await reads.feature(input.customerId, input.featureId, resourceId), set: undefined };
  }

  /**
   * The set's other features are cached too (a memory store: the next feature asked is a hit), once
   * per set. A shared store adds other processes' usage to what it is given only with a usage mark
   * read before the set was, so there each feature writes its own, from its own fetch.
   */
  private storeSiblings(input: CheckInput, set: SetRead, entitlements: readonly UpstreamEntitlement[]): void {
    const { runtime } = this;
    if (runtime.countsUnreported || set.invalidated || this.siblingsStored.has(set)) return;
    this.siblingsStored.add(set);
    const now = runtime.now();
    for (const entitlement of entitlements) {
      const featureId = entitlement.feature?.refId;
      if (featureId === undefined || featureId === input.featureId) continue;
      const sibling = runtime.keys.get(input.customerId, input.resourceId, featureId);
      if (this.inflight.has(sibling)) continue; // its own fetch writes it
      const upstream = entitlement.currentUsage ?? 0;
      const meanwhile = set.delivered.get(sibling) ?? 0;
      void runtime.writeCache(
        sibling,
        input.customerId,
        toCachedEntitlement(entitlement, now, this.usageOf(sibling, upstream) - upstream + meanwhile),
      );
    }
  }

  /** Peers wait on the fetch lock for a fetch that will not write (failed or invalidated): let the next one fetch at once. */
  private releaseLock(key: string): void {
    const { runtime } = this;
    if (runtime.store.releaseFetchLock === undefined) return;
    try {
      const released = runtime.store.releaseFetchLock(key);
      if (isThenable(released)) runtime.background(released.then(undefined, (error: unknown) => runtime.storeError(asError(error))));
    } catch (error) {
      runtime.storeError(asError(error));
    }
  }

  private async waitForPeer(key: string): Promise<CachedEntitlement | undefined> {
    for (let waited = 0; waited < FETCH_LOCK_TTL_MS; waited += PEER_POLL_MS) {
      await new Promise(function pause(resolve) {
        unref(setTimeout(resolve, PEER_POLL_MS));
      });
      const cached = await this.fresh(key);
      if (cached !== undefined) return cached;
      // The holder gave up without writing (its fetch failed, or an invalidation refused its answer): take over,
      // unless it wrote just before letting go.
      if (await this.takeOver(key)) {
        const written = await this.fresh(key);
        if (written !== undefined) this.releaseLock(key);
        return written;
      }
    }
    return undefined;
  }

  private async fresh(key: string): Promise<CachedEntitlement | undefined> {
    const cached = await this.runtime.readCache(key);
    return cached !== undefined && this.runtime.now() - cached.fetchedAt < this.runtime.config.ttlMs ? cached : undefined;
  }

  private async takeOver(key: string): Promise<boolean> {
    const { store } = this.runtime;
    try {
      return (await store.acquireFetchLock?.(key, FETCH_LOCK_TTL_MS)) === true;
    } catch (error) {
      this.runtime.storeError(asError(error));
      return false;
    }
  }
}
