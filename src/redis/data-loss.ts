import type { Logger } from '../core';
import { RedisStoreError } from './errors';

/**
 * Redis no longer holds what the store wrote (restarted without persistence, FLUSHALL/FLUSHDB, a
 * failover to an empty replica, a key evicted under an `allkeys-*` policy): the usage reports in the
 * outbox that Stigg had not taken and the reservations of requests then at work are gone (the
 * processes that put them there put them back: see HandedOver and Store.reassertReservation).
 */
export class RedisDataLostError extends RedisStoreError {
  override readonly name = 'RedisDataLostError';
  override readonly errorCode: string = 'ERR_STIGG_GATE_REDIS_DATA_LOST';
  /** The engine puts back the reservations it holds when it hears of one (Store.onError). */
  readonly dataLost = true;
  constructor(marker: string) {
    super(
      'dataLost',
      `Redis lost the store's data (its marker key "${marker}" is gone or was written anew): the usage reports Stigg had not taken and the reservations of requests at work are put back by the processes holding them (those of a process gone since are lost) (reservations wait dataLossWaitMs meanwhile). Run Redis with persistence (appendonly yes) and maxmemory-policy noeviction or volatile-*; see docs/redis.md`,
    );
  }
}

/**
 * Watches for data loss with one marker key, written once for the whole fleet and never expired: a
 * process that finds it gone (and writes it anew) or holding another value than it last read knows
 * Redis lost its data since. Checked at first use, when the connection is ready again, and when Redis
 * answers NOSCRIPT (its script cache is empty: restarted, or SCRIPT FLUSH). Nothing brings the data
 * back: the point is that the app is told, once per loss, instead of losing usage silently.
 */
export class DataLossWatch {
  private epoch: string | undefined;
  private checking = false;
  private again = false;
  /** Callers of verify() waiting for the checks under way to end. */
  private waiting: Array<() => void> = [];
  private readonly listeners = new Set<(error: Error) => void>();

  constructor(
    readonly marker: string,
    /**
     * Reads the marker, writing `candidate` when it is missing: [1 when it existed else 0, its value].
     * `known`: the value this process last read ('' for none), so Redis can open the recovery window.
     */
    private readonly read: (candidate: string, known: string) => Promise<[number, string]>,
    private readonly logger: Logger,
    /** Called first at each loss found (the store queues again what it had handed over). */
    private readonly found: () => void = () => undefined,
  ) {}

  /** The marker's value last read; undefined before the first check. */
  get known(): string | undefined {
    return this.epoch;
  }

  /** No check made yet: the store asks for one at its first command. */
  get unchecked(): boolean {
    return this.epoch === undefined && !this.checking;
  }

  /** check(), resolved once it (and any asked for meanwhile) is done and a loss it found reported. Never rejects. */
  verify(): Promise<void> {
    const done = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.check();
    return done;
  }

  /** Reports a loss to `listener` (the engines using the store) instead of the store's logger. */
  onLoss(listener: (error: Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Compares the marker with the epoch last read; coalesced, never rejects (a failing Redis is reported elsewhere). */
  check(): void {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    const candidate = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    this.read(candidate, this.epoch ?? '')
      .then(
        ([existed, value]) => this.compare(existed === 1, String(value)),
        () => undefined,
      )
      .finally(() => {
        this.checking = false;
        if (!this.again) {
          for (const resolve of this.waiting.splice(0)) resolve();
          return;
        }
        this.again = false;
        this.check();
      });
  }

  private compare(existed: boolean, value: string): void {
    const known = this.epoch;
    this.epoch = value;
    if (known === undefined || (existed && value === known)) return;
    this.found();
    const error = new RedisDataLostError(this.marker);
    if (this.listeners.size === 0) {
      this.logger.error({ error: error.message, marker: this.marker }, 'RedisStore: Redis lost its data; usage may have been lost');
      return;
    }
    // A listener's bug (a throw, or an async listener's rejection) must not become an unhandled
    // rejection (a crash) nor hide the loss.
    const failed = (thrown: unknown): void =>
      this.logger.error(
        { error: error.message, listenerError: thrown instanceof Error ? thrown.message : String(thrown), marker: this.marker },
        'RedisStore: an onError listener threw; Redis lost its data and usage may have been lost',
      );
    for (const listener of this.listeners) {
      try {
        const returned: unknown = listener(error);
        if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') {
          (returned as PromiseLike<unknown>).then(undefined, failed);
        }
      } catch (thrown) {
        failed(thrown);
      }
    }
  }
}
