import { randomUUID } from 'node:crypto';
import { noop, silentLogger } from '../core/maybe-promise';
import type { CachedEntitlement, Logger, PendingUsage, ReserveResult, Store } from '../core/types';
import { isReplyError, RedisBreaker } from './breaker';
import { RedisStoreError } from './errors';
import {
  ACK,
  ACQUIRE_FETCH_LOCK,
  CLAIM,
  COMMIT,
  ENQUEUE,
  GET_ENTITLEMENT,
  INVALIDATE_CUSTOMER,
  PING,
  USAGE_MARK,
  RELEASE,
  RESERVE,
  RESERVED_USAGE,
  SET_ENTITLEMENT,
  type Script,
} from './scripts';

/**
 * The part of an ioredis client (Redis or Cluster) the store uses: it runs everything as Lua.
 * With Redis Cluster, put a hash tag in the prefix (e.g. '{stigg-gate}:') so all keys share a slot.
 */
export interface RedisClientLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

export interface RedisStoreOptions {
  /** An ioredis client (the caller keeps owning it) or a redis:// / rediss:// URL (the store creates, owns and closes the client). */
  redis: RedisClientLike | string;
  /** Prepended to every key. Default 'stigg-gate:'. */
  prefix?: string;
  /** Every operation rejects with a RedisStoreError when Redis has not answered within this time. Default 1000. */
  commandTimeoutMs?: number;
  /** Receives connection warnings of a client the store created. Default: silent. */
  logger?: Logger;
  /**
   * setEntitlement adds the units still in the shared outbox (from every process) to the usage
   * fetched from Stigg, which the core then passes as is (Store.countsUnreportedUsage). Default true.
   * false leaves the usage as given (the core adds only its own process's units: other processes'
   * unsent units are missed).
   */
  countsUnreportedUsage?: boolean;
}

interface Configuration {
  prefix: string;
  commandTimeoutMs: number;
  logger: Logger;
}

interface OwnedClient extends RedisClientLike {
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** How long an entry outlives its expiry so that requests that read it just before still find its usage. */
const GRACE_MS = 60_000;
const DEFAULT_PREFIX = 'stigg-gate:';
const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
/** How long a key's acknowledged-units counter lives after its last acknowledgement (usage marks are read from it). */
const ACKED_TTL_MS = 24 * 60 * 60 * 1000;

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
  private readonly config: Configuration;
  private readonly outbox: { reports: string; keys: string; queue: string; inFlight: string; attempts: string; sequence: string };
  private closing: Promise<void> | undefined;
  /** setEntitlement calls still on their way, by key: a reserve waits for them (see reserve()). */
  private readonly writes = new Map<string, Promise<unknown>>();
  private readonly breaker: RedisBreaker;

  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError("RedisStore expects an options object, e.g. new RedisStore({ redis: 'redis://127.0.0.1:6379' }).");
    }
    this.config = {
      prefix: validatePrefix(options.prefix),
      commandTimeoutMs: validateTimeout(options.commandTimeoutMs),
      logger: validateLogger(options.logger),
    };
    this.prefix = this.config.prefix;
    if (options.countsUnreportedUsage !== undefined && typeof options.countsUnreportedUsage !== 'boolean') {
      throw new TypeError('RedisStore: countsUnreportedUsage must be true or false.');
    }
    this.countsUnreportedUsage = options.countsUnreportedUsage ?? true;
    const { redis } = options;
    this.breaker = new RedisBreaker({
      probe: () => this.exec('probe', PING, [], []),
      probeIntervalMs: Math.min(Math.max(this.config.commandTimeoutMs, 250), 2000),
      logger: this.config.logger,
    });
    if (typeof redis === 'string') {
      const { breaker } = this;
      this.owned = createClient(redis, this.config, { down: (error) => breaker.failed(error), up: () => breaker.answered() });
      this.client = this.owned;
    } else if (isClient(redis)) {
      this.owned = undefined;
      this.client = redis;
    } else {
      throw new TypeError(
        'RedisStore: the redis option must be an ioredis client or a redis:// URL, ' +
          "e.g. new RedisStore({ redis: new Redis() }) or new RedisStore({ redis: 'redis://127.0.0.1:6379' }).",
      );
    }
    const p = this.config.prefix;
    this.outbox = {
      reports: `${p}outbox`,
      keys: `${p}outbox:key`,
      queue: `${p}outbox:queue`,
      inFlight: `${p}outbox:inflight`,
      attempts: `${p}outbox:attempts`,
      sequence: `${p}outbox:seq`,
    };
  }

  async getEntitlement(key: string): Promise<CachedEntitlement | undefined> {
    assertKey('getEntitlement', key);
    const reply = await this.run('getEntitlement', GET_ENTITLEMENT, [this.entitlementKey(key)], []);
    if (!Array.isArray(reply)) return undefined;
    const [data, usage] = reply as [string, string];
    let value: CachedEntitlement;
    try {
      value = JSON.parse(data) as CachedEntitlement;
    } catch (error) {
      throw new RedisStoreError('getEntitlement', `the cached entry of "${key}" is not valid JSON`, { cause: error });
    }
    return { ...value, currentUsage: Number(usage) };
  }

  async setEntitlement(key: string, customerId: string, value: CachedEntitlement, ttlMs: number, usageMark?: number): Promise<void> {
    assertKey('setEntitlement', key);
    assertKey('setEntitlement', customerId, 'customerId');
    assertFinite('setEntitlement', value?.currentUsage, 'value.currentUsage');
    if (usageMark !== undefined) assertFinite('setEntitlement', usageMark, 'usageMark');
    const ttl = toTtl('setEntitlement', ttlMs);
    const p = this.config.prefix;
    const written = this.run(
      'setEntitlement',
      SET_ENTITLEMENT,
      [this.entitlementKey(key), `${p}cust:${customerId}`, `${p}pend:${key}`, `${p}lock:${key}`, `${p}acked:${key}`],
      [
        JSON.stringify(value),
        String(value.currentUsage),
        ttl,
        GRACE_MS,
        key,
        this.countsUnreportedUsage ? '1' : '0',
        usageMark === undefined ? '' : String(usageMark),
      ],
    );
    const { writes } = this;
    writes.set(key, written);
    try {
      await written;
    } finally {
      if (writes.get(key) === written) writes.delete(key);
    }
  }

  /** Units of `key` acknowledged so far, from every process: see Store.usageMark. */
  async usageMark(key: string): Promise<number> {
    assertKey('usageMark', key);
    return Number(await this.run('usageMark', USAGE_MARK, [`${this.config.prefix}acked:${key}`], []));
  }

  async invalidateCustomer(customerId: string): Promise<void> {
    assertKey('invalidateCustomer', customerId, 'customerId');
    await this.run('invalidateCustomer', INVALIDATE_CUSTOMER, [`${this.config.prefix}cust:${customerId}`], [
      `${this.config.prefix}ent:`,
    ]);
  }

  async acquireFetchLock(key: string, ttlMs: number): Promise<boolean> {
    assertKey('acquireFetchLock', key);
    const ttl = toTtl('acquireFetchLock', ttlMs);
    const reply = await this.run('acquireFetchLock', ACQUIRE_FETCH_LOCK, [`${this.config.prefix}lock:${key}`], [randomUUID(), ttl]);
    return reply === 1;
  }

  async reserve(key: string, amount: number, limit: number, ttlMs: number): Promise<ReserveResult> {
    assertKey('reserve', key);
    assertFinite('reserve', amount, 'amount');
    if (amount < 0) throw new TypeError(`RedisStore.reserve: amount must be >= 0, got ${amount}.`);
    if (typeof limit !== 'number' || Number.isNaN(limit)) {
      throw new TypeError(`RedisStore.reserve: limit must be a number (Infinity for none), got ${String(limit)}.`);
    }
    const ttl = toTtl('reserve', ttlMs);
    // Commands leave in order, but one answered NOSCRIPT (Redis restarted or flushed its scripts) is
    // sent again later: without this wait, a reserve could overtake the write of the entry it needs.
    const writing = this.writes.get(key);
    if (writing !== undefined) await writing.catch(noop);
    const reservationId = randomUUID();
    const reply = await this.run('reserve', RESERVE, this.reservationKeys(key, true), [
      String(amount),
      limit === Infinity ? 'inf' : String(limit),
      ttl,
      reservationId,
    ]);
    const [ok, currentUsage] = reply as [number, string];
    return ok === 1 ? { ok: true, currentUsage: Number(currentUsage), reservationId } : { ok: false, currentUsage: Number(currentUsage) };
  }

  async reservedUsage(key: string): Promise<number> {
    assertKey('reservedUsage', key);
    return Number(await this.run('reservedUsage', RESERVED_USAGE, this.reservationKeys(key, false), []));
  }

  async release(key: string, reservationId: string): Promise<void> {
    assertKey('release', key);
    assertKey('release', reservationId, 'reservationId');
    await this.run('release', RELEASE, this.reservationKeys(key, false), [reservationId]);
  }

  async commit(key: string, reservationId: string, report: PendingUsage): Promise<void> {
    assertKey('commit', key);
    assertKey('commit', reservationId, 'reservationId');
    const [keys, args] = this.queueArguments('commit', key, report);
    await this.run('commit', COMMIT, [...keys, ...this.reservationKeys(key, false)], [...args, reservationId]);
  }

  async enqueueUsage(key: string, report: PendingUsage): Promise<void> {
    assertKey('enqueueUsage', key);
    const [keys, args] = this.queueArguments('enqueueUsage', key, report);
    await this.run('enqueueUsage', ENQUEUE, keys, args);
  }

  async claimUsage(max: number, leaseMs: number): Promise<PendingUsage[]> {
    if (!Number.isInteger(max) || max < 0) throw new TypeError(`RedisStore.claimUsage: max must be an integer >= 0, got ${String(max)}.`);
    const lease = toTtl('claimUsage', leaseMs);
    if (max === 0) return [];
    const { reports, queue, inFlight, attempts } = this.outbox;
    const reply = (await this.run('claimUsage', CLAIM, [reports, queue, inFlight, attempts], [max, lease])) as Array<string | number>;
    const claimed: PendingUsage[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const report = JSON.parse(String(reply[i])) as PendingUsage;
      claimed.push({ ...report, attempts: Math.max(report.attempts ?? 0, Number(reply[i + 1])) });
    }
    return claimed;
  }

  async ackUsage(ids: string[]): Promise<void> {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
      throw new TypeError('RedisStore.ackUsage: ids must be an array of report ids (strings).');
    }
    if (ids.length === 0) return;
    const { reports, keys, queue, inFlight, attempts, sequence } = this.outbox;
    const p = this.config.prefix;
    await this.run('ackUsage', ACK, [reports, keys, queue, inFlight, attempts, sequence], [`${p}pend:`, `${p}acked:`, ACKED_TTL_MS, ...ids]);
  }

  /** Stops the store; quits the client only when the store created it from a URL. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.breaker.stop();
    const client = this.owned;
    if (client === undefined) return;
    const quit = client.quit().then(
      () => true,
      () => false,
    );
    const quitInTime = await raceTimer(quit, this.config.commandTimeoutMs, false);
    if (!quitInTime) client.disconnect();
  }

  private entitlementKey(key: string): string {
    return `${this.config.prefix}ent:${key}`;
  }

  private reservationKeys(key: string, withEntitlement: boolean): string[] {
    const p = this.config.prefix;
    const keys = [`${p}res:${key}`, `${p}resv:${key}`];
    return withEntitlement ? [this.entitlementKey(key), ...keys] : keys;
  }

  private queueArguments(operation: string, key: string, report: PendingUsage): [string[], string[]] {
    assertReport(operation, report);
    const { reports, keys, queue, inFlight, sequence } = this.outbox;
    return [
      [this.entitlementKey(key), `${this.config.prefix}pend:${key}`, reports, keys, queue, inFlight, sequence],
      [report.id, JSON.stringify(report), String(report.value), report.updateBehavior === 'SET' ? 'SET' : 'DELTA', key],
    ];
  }

  private run(operation: string, script: Script, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (this.closing !== undefined) {
      return Promise.reject(new RedisStoreError(operation, 'the store is closed; create a new RedisStore'));
    }
    const down = this.breaker.open;
    if (down !== undefined) {
      return Promise.reject(new RedisStoreError(operation, `Redis is not answering (${down.message}); failing fast until it does`, { cause: down }));
    }
    const { breaker } = this;
    return this.exec(operation, script, keys, args).then(
      function answered(value) {
        return value;
      },
      function failed(error: RedisStoreError) {
        if (error.timedOut || !isReplyError(error.cause)) breaker.failed(error);
        throw error;
      },
    );
  }

  /** One script call, cut at commandTimeoutMs. */
  private exec(operation: string, script: Script, keys: string[], args: Array<string | number>): Promise<unknown> {
    const { client } = this;
    const timeoutMs = this.config.commandTimeoutMs;
    let call: Promise<unknown>;
    try {
      call = client.evalsha(script.sha, keys.length, ...keys, ...args).then(undefined, function loadScript(error: unknown) {
        if (!isNoScript(error)) throw error;
        return client.eval(script.source, keys.length, ...keys, ...args);
      });
    } catch (error) {
      call = Promise.reject(error);
    }
    return new Promise(function settle(resolve, reject) {
      const timer = setTimeout(function timedOut() {
        reject(new RedisStoreError(operation, `Redis did not answer within ${timeoutMs}ms`, { timedOut: true }));
      }, timeoutMs);
      timer.unref();
      call.then(
        function answered(value) {
          clearTimeout(timer);
          resolve(value);
        },
        function failed(error: unknown) {
          clearTimeout(timer);
          reject(new RedisStoreError(operation, error instanceof Error ? error.message : String(error), { cause: error }));
        },
      );
    });
  }
}

function createClient(url: string, config: Configuration, events: { down(error: Error): void; up(): void }): OwnedClient {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new TypeError("RedisStore: the redis URL must start with redis:// or rediss://, e.g. 'redis://127.0.0.1:6379'.");
  }
  let ioredis: typeof import('ioredis');
  try {
    ioredis = require('ioredis') as typeof import('ioredis');
  } catch (error) {
    throw new Error(
      "RedisStore: a redis URL was given, so the 'ioredis' package is needed. Install it (npm install ioredis) or pass a client you created.",
      { cause: error },
    );
  }
  const client = new ioredis.Redis(url, {
    lazyConnect: true,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: Math.max(config.commandTimeoutMs, 1000),
    disconnectTimeout: config.commandTimeoutMs,
    maxRetriesPerRequest: 1,
  });
  client.on('error', function onRedisError(error: Error) {
    events.down(error);
  });
  client.on('ready', function onRedisReady() {
    events.up();
  });
  return client as unknown as OwnedClient;
}

function isClient(value: unknown): value is RedisClientLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RedisClientLike).evalsha === 'function' &&
    typeof (value as RedisClientLike).eval === 'function'
  );
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function raceTimer<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise(function settle(resolve) {
    const timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
    void promise.then(function done(value) {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

function validatePrefix(prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new TypeError(`RedisStore: ${JSON.stringify(prefix)} is not a valid value for prefix. Please choose a non-empty string such as 'myapp:stigg:'.`);
  }
  return prefix;
}

function validateTimeout(ms: unknown): number {
  if (ms === undefined) return DEFAULT_COMMAND_TIMEOUT_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`RedisStore: ${String(ms)} is not a valid value for commandTimeoutMs. Please choose a positive number of milliseconds.`);
  }
  return ms;
}

function validateLogger(logger: unknown): Logger {
  if (logger === undefined) return silentLogger;
  const candidate = logger as Logger | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.warn !== 'function' || typeof candidate.error !== 'function') {
    throw new TypeError('RedisStore: logger must have warn() and error() methods (debug() and info() are optional).');
  }
  return candidate;
}

function assertKey(operation: string, value: unknown, name = 'key'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`RedisStore.${operation}: ${name} must be a non-empty string, got ${JSON.stringify(value)}.`);
  }
}

function assertFinite(operation: string, value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`RedisStore.${operation}: ${name} must be a finite number, got ${String(value)}.`);
  }
}

function toTtl(operation: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`RedisStore.${operation}: the TTL must be a positive number of milliseconds, got ${String(ms)}.`);
  }
  return Math.ceil(ms);
}

function assertReport(operation: string, report: PendingUsage): void {
  if (typeof report !== 'object' || report === null) {
    throw new TypeError(`RedisStore.${operation}: report must be a PendingUsage object.`);
  }
  assertKey(operation, report.id, 'report.id');
  assertKey(operation, report.idempotencyKey, 'report.idempotencyKey');
  assertKey(operation, report.customerId, 'report.customerId');
  assertKey(operation, report.featureId, 'report.featureId');
  assertFinite(operation, report.value, 'report.value');
}
