import type { Logger } from '../core';
import { rejectUnknownOptions } from '../util/unknown-options';
import type { RedisClientLike } from './connection';
import { validateLogger, validateTimeout } from './validate';

export interface RedisStoreOptions {
  /** An ioredis client or Cluster (the caller keeps owning it) or a redis:// / rediss:// URL (the store creates, owns and closes the client). */
  redis: RedisClientLike | string;
  /** Prepended to every key. Default 'stigg-gate:' ('{stigg-gate}:' on a Cluster, whose prefix must hold a hash tag). */
  prefix?: string;
  /** Every operation rejects with a RedisStoreError when Redis has not answered within this time. Default 1000. */
  commandTimeoutMs?: number;
  /** Receives connection warnings. Default: silent. */
  logger?: Logger;
  /**
   * setEntitlement adds the units still in the shared outbox (from every process) to the usage
   * fetched from Stigg, which the core then passes as is (Store.countsUnreportedUsage). Default true.
   * false leaves the usage as given (the core adds only its own process's units: other processes'
   * unsent units are missed).
   */
  countsUnreportedUsage?: boolean;
  /**
   * How long an entry read from Redis is kept in the process when a local copy cannot decide wrongly
   * (see NearCache), so that warm decisions make no round trip. Needs a pub/sub connection (made
   * with the client's duplicate()): every invalidation reaches every process at once. 0 turns it
   * off. Default 1000.
   */
  nearCacheMs?: number;
  /**
   * After Redis lost its data (restarted without persistence, flushed), how long reservations wait,
   * fleet-wide, while every process puts back the reservations of its requests still at work; it
   * must cover the time each process takes to reconnect. 0: no wait (their units may be granted
   * again meanwhile). Default 5000.
   */
  dataLossWaitMs?: number;
  /**
   * A file path: every usage report handed to Redis is written there first and marked done once
   * Redis took it, so the commits a process holds while Redis is down survive its SIGKILL; a process
   * started with the same file queues them again (same idempotency keys: counted once). One process
   * per file. Default: none (held commits live in the process's memory only).
   */
  journal?: string;
}

export const KNOWN_OPTIONS = [
  'redis',
  'prefix',
  'commandTimeoutMs',
  'logger',
  'countsUnreportedUsage',
  'nearCacheMs',
  'dataLossWaitMs',
  'journal',
] as const;
export const DEFAULT_DATA_LOSS_WAIT_MS = 5000;
/** How long an entry outlives its expiry so that requests that read it just before still find its usage. */
export const GRACE_MS = 60_000;
/** How long a key's acknowledged-units counter lives after its last acknowledgement (usage marks are read from it). */
export const ACKED_TTL_MS = 24 * 60 * 60 * 1000;
export const NEAR_CACHE_MAX_ENTRIES = 10_000;
export const DEFAULT_NEAR_CACHE_MS = 1000;

/** The store's options checked (unknown keys and bad values throw with the fix); `redis` and `prefix` are checked where used. */
export function resolveStoreOptions(options: RedisStoreOptions): {
  commandTimeoutMs: number;
  logger: Logger;
  countsUnreportedUsage: boolean;
  nearCacheMs: number;
  dataLossWaitMs: number;
  journal: string | undefined;
} {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError("RedisStore expects an options object, e.g. new RedisStore({ redis: 'redis://127.0.0.1:6379' }).");
  }
  rejectUnknownOptions(options, KNOWN_OPTIONS, 'new RedisStore()');
  const commandTimeoutMs = validateTimeout(options.commandTimeoutMs);
  const logger = validateLogger(options.logger);
  if (options.countsUnreportedUsage !== undefined && typeof options.countsUnreportedUsage !== 'boolean') {
    throw new TypeError('RedisStore: countsUnreportedUsage must be true or false.');
  }
  const nearCacheMs = options.nearCacheMs ?? DEFAULT_NEAR_CACHE_MS;
  if (typeof nearCacheMs !== 'number' || !Number.isFinite(nearCacheMs) || nearCacheMs < 0) {
    throw new TypeError(
      `RedisStore: ${String(nearCacheMs)} is not a valid value for nearCacheMs. Please choose a number of milliseconds >= 0 (0 turns the near cache off).`,
    );
  }
  const dataLossWaitMs = options.dataLossWaitMs ?? DEFAULT_DATA_LOSS_WAIT_MS;
  if (typeof dataLossWaitMs !== 'number' || !Number.isSafeInteger(dataLossWaitMs) || dataLossWaitMs < 0) {
    throw new TypeError(
      `RedisStore: ${String(dataLossWaitMs)} is not a valid value for dataLossWaitMs. Please choose a whole number of milliseconds >= 0 (0: no wait after a data loss).`,
    );
  }
  if (options.journal !== undefined && (typeof options.journal !== 'string' || options.journal.trim() === '')) {
    throw new TypeError("RedisStore: journal must be a file path, e.g. '/var/lib/myapp/stigg-usage.journal' (one per process).");
  }
  const { journal } = options;
  return { commandTimeoutMs, logger, countsUnreportedUsage: options.countsUnreportedUsage ?? true, nearCacheMs, dataLossWaitMs, journal };
}
