import type { Logger, StoreHealth } from '../core';

/** Redis answered with an error of its own (a script error, NOSCRIPT): it is up. */
export function isReplyError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return false;
  return !/^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|BUSY)\b/.test(error.message);
}

export interface RedisBreakerOptions {
  /** A cheap round trip to Redis (e.g. `return 1` as Lua); resolves when Redis answers. */
  probe: () => Promise<unknown>;
  /** Time between probes while Redis is down. */
  probeIntervalMs: number;
  logger: Logger;
}

/**
 * The store's own fast-fail: after a command times out or its connection fails, every operation
 * rejects at once (no request waits for another timeout) while a background probe asks Redis every
 * probeIntervalMs; the first answer lets operations through again. A Redis outage therefore costs a
 * request at most one command timeout, and only the requests already waiting when it began.
 */
export class RedisBreaker {
  private readonly options: RedisBreakerOptions;
  private cause: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: RedisBreakerOptions) {
    this.options = options;
  }

  /** Why operations fail fast now; undefined while Redis is considered up. */
  get open(): Error | undefined {
    return this.cause;
  }

  failed(error: Error): void {
    if (this.cause !== undefined || this.stopped) return;
    this.cause = error;
    this.options.logger.warn(
      { error: error.message },
      'RedisStore: Redis is not answering; store operations fail fast until it answers again',
    );
    this.schedule();
  }

  /** Redis answered a command: close now, without waiting for the probe. */
  answered(): void {
    if (this.cause === undefined) return;
    this.cause = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.options.logger.info?.({}, 'RedisStore: Redis answers again');
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.options.probe().then(
        () => this.answered(),
        (error: unknown) => {
          if (this.cause === undefined) return;
          if (isReplyError(error)) this.answered();
          else this.schedule();
        },
      );
    }, this.options.probeIntervalMs);
    this.timer.unref();
  }
}

/** ioredis connection states in which no command is answered. */
const DOWN_STATUSES = new Set(['reconnecting', 'close', 'end']);

/**
 * RedisStore.health(), without a round trip: unreachable once closed, while operations fail fast
 * (`open`), or while the client's connection (`status`) is down.
 */
export function storeHealth(closed: boolean, open: Error | undefined, status: string | undefined): StoreHealth {
  if (closed) return { reachable: false, error: 'the store is closed' };
  if (open !== undefined) return { reachable: false, error: open.message };
  if (status !== undefined && DOWN_STATUSES.has(status)) return { reachable: false, error: `the Redis connection is ${status}` };
  return { reachable: true, error: null };
}
