import { randomUUID } from 'node:crypto';
import { coarseClock } from '../util/clock';
import { raceTimer } from '../util/timers';
import { noop } from '../util/maybe-promise';
import type {
  CachedEntitlement,
  FallbackTake,
  Logger,
  MaybePromise,
  PendingUsage,
  ReserveResult,
  Store,
  StoreHealth,
  UsageMarkReader,
} from '../core';
import { isReplyError, RedisBreaker, storeHealth } from './breaker';
import { clientFrom, runScript, type OwnedClient, type RedisClientLike } from './connection';
import { DataLossWatch } from './data-loss';
import { giveBackFallback, reassertReservation, takeFallback } from './extra-scripts';
import { RedisStoreError } from './errors';
import { NearCache } from './near-cache';
import {
  ACQUIRE_FETCH_LOCK,
  COMMIT,
  DATA_EPOCH,
  ENQUEUE,
  GET_ENTITLEMENT,
  INVALIDATE_CUSTOMER,
  PING,
  RELEASE,
  RELEASE_FETCH_LOCK,
  RENEW_RESERVATION,
  RESERVE,
  RESERVED_USAGE,
  SET_ENTITLEMENT,
  USAGE_MARK,
  type Script,
} from './scripts';
import { ackUsage, claimUsage, queueArguments, releaseUsage, type RunScript } from './outbox-calls';
import { followAppClient, InvalidationLink } from './invalidation-link';
import { openJournal, type UsageJournal } from './journal';
import { HandedOver } from './handed-over';
import { assertFinite, assertKey, toTtl } from './validate';
import { customerOf, entitlementWriteKeys, outboxKeys, resolvePrefix, type OutboxKeys } from './prefix';
import { GRACE_MS, NEAR_CACHE_MAX_ENTRIES, resolveStoreOptions, type RedisStoreOptions } from './options';
import { ReadGenerations } from './read-generations';
import { ScriptBatch } from './script-batch';
import { PendingWrites } from './pending-writes';

export type { RedisClientLike } from './connection';
export type { RedisStoreOptions } from './options';

/**
 * A Store that keeps the entitlement cache, the reservations and the outbox of pending usage in
 * Redis, so limits hold across processes and any process delivers the usage of one that died.
 */
export class RedisStore implements Store {
  readonly name = 'redis';
  readonly countsUnreportedUsage: boolean;
  readonly prefix: string;
  private readonly client: RedisClientLike;
  private readonly owned: OwnedClient | undefined;
  private readonly commandTimeoutMs: number;
  private readonly logger: Logger;
  private readonly outbox: OutboxKeys;
  private readonly channel: string;
  private closing: Promise<void> | undefined;
  private readonly writes = new PendingWrites();
  private readonly breaker: RedisBreaker;
  private readonly near: NearCache;
  /** Hears invalidations for the near cache (nearCacheMs > 0). */
  private readonly invalidations: InvalidationLink | undefined;
  /** Fetch locks this process holds, by key: the token that releases them. */
  private readonly locks = new Map<string, string>();
  private readonly generations = new ReadGenerations();
  private readonly now = coarseClock();
  private readonly dataLoss: DataLossWatch;
  /** The reports this process put in the outbox, until Stigg took them: queued again if Redis loses them. */
  private readonly handed: HandedOver;
  /** The reports on their way to Redis, on disk (the `journal` option). */
  private readonly journal: UsageJournal | undefined;
  /** Stops following the app's client ('end', 'ready': see followAppClient). */
  private readonly stopFollowing: () => void;

  constructor(options: RedisStoreOptions) {
    const config = resolveStoreOptions(options);
    this.commandTimeoutMs = config.commandTimeoutMs;
    this.logger = config.logger;
    this.countsUnreportedUsage = config.countsUnreportedUsage;
    this.breaker = new RedisBreaker({
      probe: () => this.exec('probe', PING, [], []),
      probeIntervalMs: Math.min(Math.max(this.commandTimeoutMs, 250), 2000),
      logger: this.logger,
    });
    const { breaker } = this;
    const connection = clientFrom(options.redis, this.commandTimeoutMs, {
      down: (error) => breaker.failed(error),
      up: () => {
        breaker.answered();
        this.dataLoss.check();
      },
    });
    this.client = connection.client;
    this.owned = connection.owned;
    const p = resolvePrefix(options.prefix, this.client.isCluster === true);
    this.prefix = p;
    this.outbox = outboxKeys(p);
    this.channel = `${p}invalidations`;
    this.dataLoss = new DataLossWatch(
      `${p}epoch`,
      (candidate, known) =>
        this.run('dataEpoch', DATA_EPOCH, [`${p}epoch`, this.recoveryKey], [candidate, known, config.dataLossWaitMs]) as Promise<
          [number, string]
        >,
      this.logger,
      () => this.handed.lost(),
    );
    this.handed = new HandedOver(
      this.run,
      { reports: this.outbox.reports, marker: `${p}epoch` },
      () => this.dataLoss.known,
      (key, report) => this.enqueueUsage(key, report),
      this.logger,
      () => this.dataLoss.check(),
    );
    this.near = new NearCache(config.nearCacheMs, NEAR_CACHE_MAX_ENTRIES);
    const link = config.nearCacheMs > 0 ? new InvalidationLink(this.near, this.client, this.channel, this.logger) : undefined;
    this.invalidations = link;
    link?.open();
    // The app's client ended (quit, or its retryStrategy gave up): the store's own connection goes, or it
    // keeps the process alive; the store stays usable and listens again once the app connects the client.
    this.stopFollowing =
      this.owned === undefined
        ? followAppClient(this.client, {
            ended: () => void link?.close(),
            ready: () => {
              breaker.answered();
              link?.open();
              this.dataLoss.check();
            },
          })
        : noop;
    // What the previous process with this journal held for a Redis that refused it is queued again.
    if (config.journal !== undefined) this.journal = openJournal(config.journal, this.logger, this, () => this.closing !== undefined);
  }

  getEntitlement(key: string): MaybePromise<CachedEntitlement | undefined> {
    if (typeof key !== 'string' || key === '')
      return Promise.reject(new TypeError(`RedisStore.getEntitlement: key must be a non-empty string, got ${JSON.stringify(key)}.`));
    const now = this.now();
    const local = this.near.get(key, now);
    if (local !== undefined) return local;
    const epoch = this.near.epoch;
    return this.run('getEntitlement', GET_ENTITLEMENT, [this.entitlementKey(key)], []).then((reply) => {
      if (!Array.isArray(reply)) return undefined;
      const [data, usage, remaining, customerId] = reply as [string, string, string, string];
      let value: CachedEntitlement;
      try {
        value = JSON.parse(data) as CachedEntitlement;
      } catch (error) {
        throw new RedisStoreError('getEntitlement', `the cached entry of "${key}" is not valid JSON`, { cause: error });
      }
      const entry = { ...value, currentUsage: Number(usage) };
      if (customerId !== '') this.near.offer(key, customerId, entry, Number(remaining), epoch, now);
      return entry;
    });
  }

  async setEntitlement(
    key: string,
    customerId: string,
    value: CachedEntitlement,
    ttlMs: number,
    usageMark?: number,
    reader: UsageMarkReader = 'fetch',
  ): Promise<void> {
    assertKey('setEntitlement', key);
    assertKey('setEntitlement', customerId, 'customerId');
    assertFinite('setEntitlement', value?.currentUsage, 'value.currentUsage');
    if (usageMark !== undefined) assertFinite('setEntitlement', usageMark, 'usageMark');
    const ttl = toTtl('setEntitlement', ttlMs);
    const p = this.prefix;
    const generation = usageMark === undefined ? undefined : this.generations.take(reader, key);
    this.near.deleteKey(key);
    this.locks.delete(key);
    const written = this.entitlementWrites.call(entitlementWriteKeys(p, key, customerId), [
      JSON.stringify(value),
      String(value.currentUsage),
      ttl,
      GRACE_MS,
      key,
      this.countsUnreportedUsage ? '1' : '0',
      usageMark === undefined ? '' : String(usageMark),
      generation ?? '',
      customerId,
    ]);
    await this.writes.track(key, customerId, written);
  }

  /** Units of `key` acknowledged so far, from every process: see Store.usageMark. */
  async usageMark(key: string, reader: UsageMarkReader = 'fetch'): Promise<number> {
    assertKey('usageMark', key);
    const p = this.prefix;
    const reply = (await this.usageMarks.call([`${p}acked:${key}`, `${p}gen:${customerOf(key)}`], [])) as [string, string];
    this.generations.read(reader, key, String(reply[1]));
    return Number(reply[0]);
  }

  /** Expires the customer's entries in Redis and, over pub/sub, in every process's near cache. */
  async invalidateCustomer(customerId: string): Promise<void> {
    assertKey('invalidateCustomer', customerId, 'customerId');
    this.near.deleteCustomer(customerId);
    // After this customer's writes on their way (see PendingWrites).
    this.entitlementWrites.flush();
    const writing = this.writes.ofCustomer(customerId);
    if (writing !== undefined) await writing;
    const p = this.prefix;
    await this.run(
      'invalidateCustomer',
      INVALIDATE_CUSTOMER,
      [`${p}cust:${customerId}`, `${p}gen:${customerId}`],
      [`${p}ent:`, this.channel, customerId],
    );
  }

  async acquireFetchLock(key: string, ttlMs: number): Promise<boolean> {
    assertKey('acquireFetchLock', key);
    const ttl = toTtl('acquireFetchLock', ttlMs);
    const token = randomUUID();
    const reply = await this.run('acquireFetchLock', ACQUIRE_FETCH_LOCK, [`${this.prefix}lock:${key}`], [token, ttl]);
    if (reply !== 1) return false;
    this.locks.set(key, token);
    return true;
  }

  /** The fetch this process was making failed: let the next caller (any process) fetch at once. */
  async releaseFetchLock(key: string): Promise<void> {
    assertKey('releaseFetchLock', key);
    const token = this.locks.get(key);
    if (token === undefined) return;
    this.locks.delete(key);
    await this.run('releaseFetchLock', RELEASE_FETCH_LOCK, [`${this.prefix}lock:${key}`], [token]);
  }

  async reserve(key: string, amount: number, limit: number, ttlMs: number): Promise<ReserveResult> {
    assertKey('reserve', key);
    assertFinite('reserve', amount, 'amount');
    if (amount < 0) throw new TypeError(`RedisStore.reserve: amount must be >= 0, got ${amount}.`);
    if (typeof limit !== 'number' || Number.isNaN(limit)) {
      throw new TypeError(`RedisStore.reserve: limit must be a number (Infinity for none), got ${String(limit)}.`);
    }
    const ttl = toTtl('reserve', ttlMs);
    // After the write of the entry it needs (see PendingWrites).
    const writing = this.writes.ofKey(key);
    if (writing !== undefined) await writing;
    const reservationId = randomUUID();
    const args = [String(amount), limit === Infinity ? 'inf' : String(limit), ttl, reservationId];
    const keys = [...this.reservationKeys(key, true), this.recoveryKey, this.dataLoss.marker];
    const reserve = async (): Promise<[number, string]> => {
      const reply = (await this.run('reserve', RESERVE, keys, [...args, this.dataLoss.known ?? ''])) as [number, string];
      if (reply[0] !== 3) return reply;
      // The marker changed since this process read it: a loss nothing else told of (FLUSHALL without a
      // reconnect). Checked first: reported, and the recovery window opened, before anything is reserved.
      await this.dataLoss.verify();
      return (await this.run('reserve', RESERVE, keys, [...args, ''])) as [number, string];
    };
    let reply = await reserve();
    // After a data loss, reservations wait while every process puts back those it holds (see DATA_EPOCH).
    while (reply[0] === 2) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(Number(reply[1]), 1000) + 5));
      reply = await reserve();
    }
    const [ok, currentUsage] = reply;
    return ok === 1 ? { ok: true, currentUsage: Number(currentUsage), reservationId } : { ok: false, currentUsage: Number(currentUsage) };
  }

  /** A request still at work keeps its units: extends the reservation, or false when it already expired. */
  async renewReservation(key: string, reservationId: string, ttlMs: number): Promise<boolean> {
    assertKey('renewReservation', key);
    assertKey('renewReservation', reservationId, 'reservationId');
    const ttl = toTtl('renewReservation', ttlMs);
    return (await this.run('renewReservation', RENEW_RESERVATION, this.reservationKeys(key, false), [reservationId, ttl])) === 1;
  }

  /**
   * After Redis lost its data: puts back a reservation this process still holds (or extends it when it
   * is there), so the units of requests at work are not granted again. True when it had to be put back.
   */
  reassertReservation(key: string, reservationId: string, amount: number, ttlMs: number): Promise<boolean> {
    assertKey('reassertReservation', key);
    return reassertReservation(this.run, this.reservationKeys(key, false), reservationId, amount, ttlMs);
  }

  async reservedUsage(key: string): Promise<number> {
    assertKey('reservedUsage', key);
    return Number(await this.run('reservedUsage', RESERVED_USAGE, this.reservationKeys(key, false), []));
  }

  /** A feature's fallback usageLimit counted for the fleet (see Store.takeFallback); setEntitlement ends the total. */
  takeFallback(key: string, amount: number, limit: number, consume: boolean): Promise<FallbackTake> {
    return takeFallback(this.run, this.prefix, key, amount, limit, consume);
  }

  giveBackFallback(key: string, amount: number, total: string): Promise<void> {
    return giveBackFallback(this.run, this.prefix, key, amount, total);
  }

  async release(key: string, reservationId: string): Promise<void> {
    assertKey('release', key);
    assertKey('release', reservationId, 'reservationId');
    await this.run('release', RELEASE, this.reservationKeys(key, false), [reservationId]);
  }

  async commit(key: string, reservationId: string, report: PendingUsage): Promise<void> {
    assertKey('commit', key);
    assertKey('commit', reservationId, 'reservationId');
    const [keys, args] = queueArguments(this.prefix, this.outbox, 'commit', key, report);
    this.journal?.written(key, report);
    const applied = await this.run('commit', COMMIT, [...keys, ...this.reservationKeys(key, false)], [...args, reservationId]);
    this.journal?.done(report.id);
    this.handed.taken(key, report);
    if (applied === 1) this.near.applyUsage(key, report.value, 'DELTA');
  }

  async enqueueUsage(key: string, report: PendingUsage): Promise<void> {
    assertKey('enqueueUsage', key);
    const [keys, args] = queueArguments(this.prefix, this.outbox, 'enqueueUsage', key, report);
    this.journal?.written(key, report);
    const applied = await this.run('enqueueUsage', ENQUEUE, keys, args);
    this.journal?.done(report.id);
    this.handed.taken(key, report);
    if (applied === 1) this.near.applyUsage(key, report.value, report.updateBehavior === 'SET' ? 'SET' : 'DELTA');
  }

  claimUsage(max: number, leaseMs: number): Promise<PendingUsage[]> {
    return claimUsage(this.run, this.outbox, max, leaseMs);
  }

  /**
   * Claimed reports this process could not deliver (Stigg down, closing): back at the head of the
   * queue for any process to claim now, rather than after their lease. Never removes a report.
   */
  releaseUsage(ids: string[]): Promise<void> {
    return releaseUsage(this.run, this.outbox, ids);
  }

  async ackUsage(ids: string[]): Promise<void> {
    await ackUsage(this.run, this.outbox, this.prefix, ids);
    this.handed.delivered(ids);
  }

  /**
   * Without a round trip: unreachable while operations fail fast (a command timed out or the
   * connection failed, until Redis answers again), while the client's connection is down, or once
   * closed. The fleet's outbox is in Redis: its depth takes a round trip, so it is not given here.
   */
  health(): StoreHealth {
    return storeHealth(this.closing !== undefined, this.breaker.open, this.client.status);
  }

  /** Errors found outside any call: Redis lost its data (RedisDataLostError). Without a listener they go to the logger. */
  onError(listener: (error: Error) => void): () => void {
    return this.dataLoss.onLoss(listener);
  }

  /** Stops the store; quits the client only when the store created it from a URL. */
  close(): Promise<void> {
    // Writes and marks called before close() are sent, not failed as closed.
    this.entitlementWrites.flush();
    this.usageMarks.flush();
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.journal?.close();
    this.breaker.stop();
    this.handed.stop();
    this.stopFollowing();
    this.near.enabled = false;
    this.near.clear();
    await this.invalidations?.close();
    const client = this.owned;
    if (client === undefined) return;
    const quit = client.quit().then(
      () => true,
      () => false,
    );
    const quitInTime = await raceTimer(quit, this.commandTimeoutMs, false);
    if (!quitInTime) client.disconnect();
  }

  /** Open while the fleet puts back its reservations after a data loss (see DATA_EPOCH). */
  private get recoveryKey(): string {
    return `${this.prefix}recovering`;
  }

  private entitlementKey(key: string): string {
    return `${this.prefix}ent:${key}`;
  }

  private reservationKeys(key: string, withEntitlement: boolean): string[] {
    const p = this.prefix;
    const keys = [`${p}res:${key}`, `${p}resv:${key}`];
    return withEntitlement ? [this.entitlementKey(key), ...keys] : keys;
  }

  /** Writes and mark reads made in one turn of the loop (a delivery's reconciles) go as one script. */
  private readonly entitlementWrites = new ScriptBatch((...call) => this.run(...call), 'setEntitlement', SET_ENTITLEMENT, 1);
  private readonly usageMarks = new ScriptBatch((...call) => this.run(...call), 'usageMark', USAGE_MARK, 2);

  private readonly run: RunScript = (operation, script, keys, args) => {
    // Commands leave in the order they were called: a write held for its batch goes before this one
    // (an invalidation, a read or a commit called after it would otherwise reach Redis first).
    this.entitlementWrites.flush();
    if (this.closing !== undefined) {
      return Promise.reject(new RedisStoreError(operation, 'the store is closed; create a new RedisStore'));
    }
    const down = this.breaker.open;
    if (down !== undefined) {
      return Promise.reject(
        new RedisStoreError(operation, `Redis is not answering (${down.message}); failing fast until it does`, { cause: down }),
      );
    }
    if (this.dataLoss.unchecked) this.dataLoss.check();
    const { breaker } = this;
    return this.exec(operation, script, keys, args).then(undefined, function failed(error: RedisStoreError) {
      if (error.timedOut || !isReplyError(error.cause)) breaker.failed(error);
      throw error;
    });
  };

  private exec(operation: string, script: Script, keys: string[], args: Array<string | number>): Promise<unknown> {
    return runScript(this.client, this.commandTimeoutMs, operation, script, keys, args, this.scriptsLost);
  }

  /** Redis answered NOSCRIPT: its script cache is empty (restarted, or SCRIPT FLUSH); did its data go too? */
  private readonly scriptsLost = (): void => this.dataLoss.check();
}
