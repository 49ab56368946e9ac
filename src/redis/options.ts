import type { Logger } from '../core/types';
import type { RedisClientLike } from './connection';

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
}

export const KNOWN_OPTIONS = ['redis', 'prefix', 'commandTimeoutMs', 'logger', 'countsUnreportedUsage', 'nearCacheMs'] as const;
/** How long an entry outlives its expiry so that requests that read it just before still find its usage. */
export const GRACE_MS = 60_000;
/** How long a key's acknowledged-units counter lives after its last acknowledgement (usage marks are read from it). */
export const ACKED_TTL_MS = 24 * 60 * 60 * 1000;
export const NEAR_CACHE_MAX_ENTRIES = 10_000;
export const DEFAULT_NEAR_CACHE_MS = 1000;
