import { CircuitBreaker } from './circuit-breaker';
import { TypedEmitter } from './emitter';
import { KeyCache } from './key-cache';
import { LossWarnings } from './loss-warnings';
import { StoreLog } from './store-log';
import { asError, isThenable, noop } from '../util/maybe-promise';
import type { Configuration } from './options';
import { UpstreamLog } from './upstream-log';
import type {
  CachedEntitlement,
  EntitlementsEvents,
  MaybePromise,
  PendingUsage,
  Store,
  UpstreamCall,
  UpstreamOutcome,
  UsageMarkReader,
} from './types';

/** Engines made in this process: each names its own readers of usage marks. */
let engines = 0;

/**
 * What every part of the engine shares: the configuration, the store with its error reporting, the
 * events, the key strings, and the store operations still running (close() waits for them).
 */
export class Runtime {
  readonly store: Store;
  readonly now: () => number;
  readonly keys: KeyCache;
  readonly events: TypedEmitter<EntitlementsEvents>;
  /** Stigg's health as seen by fetches and deliveries alike. */
  readonly breaker: CircuitBreaker;
  readonly upstreamLog: UpstreamLog;
  /** The store adds every process's unreported units itself (Store.countsUnreportedUsage). */
  readonly countsUnreported: boolean;
  private readonly pending = new Set<Promise<void>>();
  /** This engine's readers of usage marks (Store.usageMark): its refreshes, and its deliveries. */
  private readonly readers: Readonly<Record<'fetch' | 'delivery', UsageMarkReader>>;
  private readonly losses: LossWarnings;
  private readonly storeLog: StoreLog;

  constructor(readonly config: Configuration) {
    this.store = config.store;
    engines += 1;
    this.readers = { fetch: `${String(engines)}:fetch`, delivery: `${String(engines)}:delivery` };
    this.now = config.now;
    this.keys = new KeyCache(2 * config.maxEntries);
    this.events = new TypedEmitter(config.logger);
    this.breaker = new CircuitBreaker({
      failureThreshold: config.failureThreshold,
      resetTimeoutMs: config.resetTimeoutMs,
      now: config.now,
    });
    this.countsUnreported = config.store.countsUnreportedUsage === true;
    this.upstreamLog = new UpstreamLog(config.logger, config.hasLogger, config.now);
    this.storeLog = new StoreLog(config.logger, config.store.name, config.now);
    this.losses = new LossWarnings((event) => config.hasLogger || this.events.has(event));
  }

  emit<E extends keyof EntitlementsEvents>(event: E, ...args: EntitlementsEvents[E]): void {
    if (event === 'usage:dropped') this.losses.drop(args[0] as PendingUsage);
    else if (event === 'usage:undelivered') this.losses.undelivered(args[0] as PendingUsage[]);
    else if (event === 'usage:parked') this.losses.parked(args[0] as EntitlementsEvents['usage:parked'][0]);
    this.events.emit(event, ...args);
  }

  /** When a call to Stigg starts: the clock while 'upstream:call' is listened to, else NaN (nothing is measured). */
  callStarted(): number {
    return this.events.has('upstream:call') ? this.now() : Number.NaN;
  }

  /** The call callStarted() timed ended with `outcome`: 'upstream:call', when it was measured. */
  callEnded(operation: UpstreamCall['operation'], startedAt: number, outcome: UpstreamOutcome): void {
    if (Number.isNaN(startedAt)) return;
    this.events.emit('upstream:call', { operation, durationMs: this.now() - startedAt, outcome });
  }

  /** Every failure is emitted; the log is rate-limited per kind (an outage fails every operation). */
  storeError(error: Error): void {
    this.storeLog.failed(error);
    this.emit('store:error', error);
  }

  /** Remember an operation (its errors already handled) until it settles. */
  background(operation: Promise<unknown>): void {
    const settled = operation.then(noop, noop);
    this.pending.add(settled);
    settled.then(() => this.pending.delete(settled), noop);
  }

  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** A store failure is reported and reads as a miss. */
  readCache(key: string): MaybePromise<CachedEntitlement | undefined> {
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

  /**
   * Never throws or rejects (store errors are reported); the promise of an asynchronous store's write,
   * resolving to false when the store failed it (true otherwise, refused or not).
   */
  writeCache(
    key: string,
    customerId: string,
    value: CachedEntitlement,
    usageMark?: number,
    reader: 'fetch' | 'delivery' = 'fetch',
  ): Promise<boolean> | undefined {
    const ttl = Math.max(1, this.config.staleTtlMs - (this.now() - value.fetchedAt));
    try {
      const written =
        usageMark === undefined
          ? this.store.setEntitlement(key, customerId, value, ttl)
          : this.store.setEntitlement(key, customerId, value, ttl, usageMark, this.readers[reader]);
      if (!isThenable(written)) return undefined;
      const handled = written.then(
        () => true,
        (error: unknown) => {
          this.storeError(asError(error));
          return false;
        },
      );
      this.background(handled);
      return handled;
    } catch (error) {
      this.storeError(asError(error));
      return Promise.resolve(false);
    }
  }

  /**
   * The store's usage mark of `key` when it counts unreported usage itself and has marks: a number,
   * or null when the store failed to give one (reported). undefined when no mark is needed.
   */
  usageMark(key: string, reader: 'fetch' | 'delivery'): MaybePromise<number | null | undefined> {
    if (!this.countsUnreported || this.store.usageMark === undefined) return undefined;
    const failed = (error: unknown): null => {
      this.storeError(asError(error));
      return null;
    };
    try {
      const mark = this.store.usageMark(key, this.readers[reader]);
      return isThenable(mark) ? mark.catch(failed) : mark;
    } catch (error) {
      return failed(error);
    }
  }
}
