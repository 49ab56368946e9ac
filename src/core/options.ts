import { coarseClock, steadyClock } from '../util/clock';
import type { FallbackRule } from './decide';
import { isPlainObject } from '../util/plain-object';
import { silentLogger } from './silent-logger';
import { MemoryStore } from './memory-store';
import type { EnforcementMode, EntitlementsUpstream, Logger, Store } from './types';
import { rejectUnknownOptions } from '../util/unknown-options';

export interface EntitlementsOptions {
  /** The Stigg client (`Stigg.createClient(apiKey)`), or anything with getEntitlement() and reportUsageBulk(). */
  client: EntitlementsUpstream;
  /** Where cache, reservations and pending usage live. Default: a MemoryStore of cache.maxEntries. */
  store?: Store | undefined;
  cache?:
    | {
        /** Fresh for this long (default 30,000 ms). */
        ttlMs?: number | undefined;
        /** Served while refreshed in the background until this age (default 300,000 ms); older is a miss. */
        staleTtlMs?: number | undefined;
        /** Bound of the default MemoryStore (default 10,000). */
        maxEntries?: number | undefined;
      }
    | undefined;
  usage?:
    | {
        /** Reports per reportUsageBulk call; reaching it triggers a flush (default 100). */
        batchSize?: number | undefined;
        /** Flush at least this often (default 1,000 ms). */
        flushIntervalMs?: number | undefined;
        /**
         * A report Stigg has not taken is retried until it is this old (default 86,400,000 ms: 24 h), and
         * never given up while the circuit breaker says Stigg is down; then 'usage:dropped'.
         */
        maxAgeMs?: number | undefined;
        /** First retry delay, doubled each attempt, with jitter, capped at 30 s; while Stigg is down, the breaker's (default 200 ms). */
        retryBaseDelayMs?: number | undefined;
        /** How long claimed reports stay invisible to other flushers (default 30,000 ms). */
        leaseMs?: number | undefined;
      }
    | undefined;
  /**
   * Reserved units come back after this long if the process holding them dies (default 60,000 ms).
   * While the request is at work its reservation is renewed (stores with renewReservation).
   */
  reservationTtlMs?: number | undefined;
  /** A lease neither committed nor released after this long stops being renewed (default 3,600,000 ms). */
  reservationMaxMs?: number | undefined;
  /** Per-feature decision when Stigg cannot be reached and nothing is cached. */
  fallback?: Record<string, { hasAccess: boolean; usageLimit?: number }> | undefined;
  /** Without a fallback: 'closed' (default) throws EntitlementUnavailableError, 'open' grants and logs. */
  failMode?: 'closed' | 'open' | undefined;
  /** Put on EntitlementUnavailableError (Retry-After); default 5. */
  retryAfterSeconds?: number | undefined;
  /**
   * 'enforce' (default) denies; 'shadow' decides, reserves and reports as enforcement would and never
   * denies: each would-be denial is counted (shadowCounts()) and emitted ('shadow:denied').
   */
  mode?: EnforcementMode | undefined;
  /** Per-feature settings over the engine's: `{ [featureId]: { mode } }`. A route's or decorator's mode wins over both. */
  features?: Record<string, { mode: EnforcementMode }> | undefined;
  /**
   * Shadow mode: the units of a request enforcement would have refused past a limit (and of a would-be
   * 503) are reported ('report', default: the work happened) or not ('skip': usage stays as
   * enforcement would have it).
   */
  shadowUsage?: 'report' | 'skip' | undefined;
  circuitBreaker?:
    | {
        /** Consecutive upstream failures that open the circuit (default 5). */
        failureThreshold?: number | undefined;
        /** Open for this long before one trial call (default 10,000 ms). */
        resetTimeoutMs?: number | undefined;
      }
    | undefined;
  /**
   * Tell Stigg about the app's checks (`reportEntitlementCheckRequested`), for its analytics and its
   * `entitlement.denied` / `entitlement.granted` webhooks: 'denied' reports each denial, 'all' each
   * decision. Batched, at most one call a second, never on the request path. Default: off.
   */
  reportChecks?: 'denied' | 'all' | undefined;
  logger?: Logger | undefined;
  /** Clock (ms since epoch); default Date.now, read at most once per millisecond. */
  now?: (() => number) | undefined;
}

/** The options, every default filled in: inner code never handles undefined. */
export interface Configuration {
  readonly client: EntitlementsUpstream;
  readonly store: Store;
  readonly ownsStore: boolean;
  readonly ttlMs: number;
  readonly staleTtlMs: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxAgeMs: number;
  readonly retryBaseDelayMs: number;
  readonly leaseMs: number;
  readonly reservationTtlMs: number;
  readonly reservationMaxMs: number;
  readonly fallback: ReadonlyMap<string, FallbackRule>;
  readonly failMode: 'closed' | 'open';
  readonly retryAfterSeconds: number;
  readonly mode: EnforcementMode;
  /** Features whose mode differs from `mode` (empty: every feature runs in `mode`). */
  readonly featureModes: ReadonlyMap<string, EnforcementMode>;
  readonly shadowUsage: 'report' | 'skip';
  readonly failureThreshold: number;
  readonly resetTimeoutMs: number;
  readonly maxEntries: number;
  /** Off when undefined. */
  readonly reportChecks: 'denied' | 'all' | undefined;
  readonly logger: Logger;
  /** A logger was given (the library is otherwise silent, see UpstreamLog). */
  readonly hasLogger: boolean;
  readonly now: () => number;
  /**
   * For durations held in this process (how long a request has held its reservation): the app's
   * `now` when it gave one, else a monotonic clock a step of the wall clock does not move.
   */
  readonly steadyNow: () => number;
}

const WHERE = 'createEntitlements()';
const TOP_LEVEL = [
  'client',
  'store',
  'cache',
  'usage',
  'reservationTtlMs',
  'reservationMaxMs',
  'fallback',
  'failMode',
  'retryAfterSeconds',
  'mode',
  'features',
  'shadowUsage',
  'circuitBreaker',
  'reportChecks',
  'logger',
  'now',
] as const;
const SECTIONS = {
  cache: ['ttlMs', 'staleTtlMs', 'maxEntries'],
  usage: ['batchSize', 'flushIntervalMs', 'maxAgeMs', 'retryBaseDelayMs', 'leaseMs'],
  circuitBreaker: ['failureThreshold', 'resetTimeoutMs'],
} as const;
const STORE_METHODS = [
  'getEntitlement',
  'setEntitlement',
  'invalidateCustomer',
  'reserve',
  'release',
  'commit',
  'enqueueUsage',
  'claimUsage',
  'ackUsage',
] as const;

export function integerOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- today's message text; any non-number lands here, objects included
    throw new TypeError(`${String(value)} is not a valid value for ${name}. Please choose an integer >= ${min}.`);
  }
  return value;
}

function sectionOf(options: Record<string, unknown>, name: keyof typeof SECTIONS): Record<string, unknown> {
  const section = options[name];
  if (section === undefined) return {};
  if (!isPlainObject(section)) throw new TypeError(`${name} must be an object, e.g. { ${name === 'cache' ? 'ttlMs: 30000' : '…'} }.`);
  rejectUnknownOptions(section, SECTIONS[name], `${WHERE} ${name}`);
  return section;
}

function storeOf(store: Store | undefined, maxEntries: number, now: (() => number) | undefined): Store {
  if (store === undefined) return new MemoryStore({ maxEntries, now });
  for (const method of STORE_METHODS) {
    if (typeof store[method] !== 'function') {
      throw new TypeError(
        `store.${method} is not a function: pass a Store such as new MemoryStore() or the Redis store from stigg-gate/redis.`,
      );
    }
  }
  return store;
}

function fallbackOf(option: unknown): Map<string, FallbackRule> {
  const fallback = new Map<string, FallbackRule>();
  if (option === undefined) return fallback;
  if (!isPlainObject(option)) {
    throw new TypeError("fallback must map feature ids to rules, e.g. { 'feature-04-analytics': { hasAccess: true } }.");
  }
  for (const [featureId, rule] of Object.entries(option)) {
    if (!isPlainObject(rule) || typeof rule['hasAccess'] !== 'boolean') {
      throw new TypeError(`fallback["${featureId}"] must be { hasAccess: boolean, usageLimit?: number }.`);
    }
    rejectUnknownOptions(rule, ['hasAccess', 'usageLimit'], `${WHERE} fallback["${featureId}"]`);
    const usageLimit = rule['usageLimit'];
    if (usageLimit !== undefined && (typeof usageLimit !== 'number' || !(usageLimit >= 0) || usageLimit === Infinity)) {
      throw new TypeError(
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- today's message text; any non-number lands here, objects included
        `${String(usageLimit)} is not a valid value for fallback["${featureId}"].usageLimit. Please choose a finite number >= 0, or omit it.`,
      );
    }
    fallback.set(featureId, Object.freeze({ hasAccess: rule['hasAccess'], usageLimit }));
  }
  return fallback;
}

function reportChecksOf(mode: unknown, client: EntitlementsUpstream): 'denied' | 'all' | undefined {
  if (mode === undefined) return undefined;
  if (mode !== 'denied' && mode !== 'all') {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value lands here, objects included
    throw new TypeError(`${String(mode)} is not a valid value for reportChecks. Please choose 'denied', 'all', or leave it out (off).`);
  }
  if (typeof client.reportEntitlementCheckRequested !== 'function') {
    throw new TypeError(
      'reportChecks needs a client with reportEntitlementCheckRequested(checks[]): pass Stigg.createClient(apiKey), or add that method to your client.',
    );
  }
  return mode;
}

function modeOf(name: string, value: unknown, fallback: EnforcementMode): EnforcementMode {
  if (value === undefined) return fallback;
  if (value === 'enforce' || value === 'shadow') return value;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value lands here, objects included
  throw new TypeError(`${String(value)} is not a valid value for ${name}. Please choose 'enforce' (default) or 'shadow'.`);
}

/** `features`: the modes that differ from the engine's. */
function featureModesOf(option: unknown, mode: EnforcementMode): Map<string, EnforcementMode> {
  const modes = new Map<string, EnforcementMode>();
  if (option === undefined) return modes;
  if (!isPlainObject(option)) {
    throw new TypeError("features must map feature ids to settings, e.g. { 'feature-02-campaigns': { mode: 'shadow' } }.");
  }
  for (const [featureId, settings] of Object.entries(option)) {
    if (!isPlainObject(settings)) throw new TypeError(`features["${featureId}"] must be { mode: 'enforce' | 'shadow' }.`);
    rejectUnknownOptions(settings, ['mode'], `${WHERE} features["${featureId}"]`);
    const featureMode = modeOf(`features["${featureId}"].mode`, settings['mode'], mode);
    if (featureMode !== mode) modes.set(featureId, featureMode);
  }
  return modes;
}

export function configure(options: EntitlementsOptions): Configuration {
  if (!isPlainObject(options)) {
    throw new TypeError('createEntitlements() expects an options object: createEntitlements({ client: Stigg.createClient(apiKey) }).');
  }
  const raw = options as unknown as Record<string, unknown>;
  rejectUnknownOptions(raw, TOP_LEVEL, WHERE);
  const client = options.client as Partial<EntitlementsUpstream> | undefined;
  if (typeof client?.getEntitlement !== 'function' || typeof client.reportUsageBulk !== 'function') {
    throw new TypeError('client is required: pass Stigg.createClient(apiKey), or an object with getEntitlement() and reportUsageBulk().');
  }
  const cache = sectionOf(raw, 'cache');
  const usage = sectionOf(raw, 'usage');
  const breaker = sectionOf(raw, 'circuitBreaker');

  const ttlMs = integerOption('cache.ttlMs', cache['ttlMs'], 30_000, 0);
  const staleTtlMs = integerOption('cache.staleTtlMs', cache['staleTtlMs'], Math.max(5 * 60_000, ttlMs), 1);
  if (staleTtlMs < ttlMs) {
    throw new TypeError(
      `cache.staleTtlMs (${staleTtlMs}) must be >= cache.ttlMs (${ttlMs}): stale values are served after they expire, not before.`,
    );
  }
  const maxEntries = integerOption('cache.maxEntries', cache['maxEntries'], 10_000, 1);

  const now = options.now ?? coarseClock();
  if (typeof now !== 'function') throw new TypeError('now must be a function returning milliseconds since the epoch, like Date.now.');

  const failMode = options.failMode ?? 'closed';
  if (failMode !== 'closed' && failMode !== 'open') {
    throw new TypeError(`${String(failMode)} is not a valid value for failMode. Please choose 'closed' (default) or 'open'.`);
  }

  const logger = options.logger ?? silentLogger;
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError('logger must have warn() and error() methods (debug() and info() are optional), e.g. a pino or winston logger.');
  }
  const fallback = fallbackOf(options.fallback);
  const reportChecks = reportChecksOf(options.reportChecks, client as EntitlementsUpstream);
  const mode = modeOf('mode', raw['mode'], 'enforce');
  const shadowUsage = raw['shadowUsage'] ?? 'report';
  if (shadowUsage !== 'report' && shadowUsage !== 'skip') {
    throw new TypeError(
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value lands here, objects included
      `${String(shadowUsage)} is not a valid value for shadowUsage. Please choose 'report' (default: the work happened) or 'skip'.`,
    );
  }

  return {
    client: client as EntitlementsUpstream,
    // The engine's clock only when the app injected one: the memory store's default times its TTLs on a clock wall-clock steps do not move.
    store: storeOf(options.store, maxEntries, options.now),
    ownsStore: options.store === undefined,
    ttlMs,
    staleTtlMs,
    batchSize: integerOption('usage.batchSize', usage['batchSize'], 100, 1),
    flushIntervalMs: integerOption('usage.flushIntervalMs', usage['flushIntervalMs'], 1_000, 1),
    maxAgeMs: integerOption('usage.maxAgeMs', usage['maxAgeMs'], 24 * 60 * 60_000, 1),
    retryBaseDelayMs: integerOption('usage.retryBaseDelayMs', usage['retryBaseDelayMs'], 200, 0),
    leaseMs: integerOption('usage.leaseMs', usage['leaseMs'], 30_000, 1),
    reservationTtlMs: integerOption('reservationTtlMs', raw['reservationTtlMs'], 60_000, 1),
    reservationMaxMs: integerOption('reservationMaxMs', raw['reservationMaxMs'], 3_600_000, 1),
    fallback,
    failMode,
    retryAfterSeconds: integerOption('retryAfterSeconds', raw['retryAfterSeconds'], 5, 0),
    reportChecks,
    mode,
    featureModes: featureModesOf(raw['features'], mode),
    shadowUsage,
    failureThreshold: integerOption('circuitBreaker.failureThreshold', breaker['failureThreshold'], 5, 1),
    resetTimeoutMs: integerOption('circuitBreaker.resetTimeoutMs', breaker['resetTimeoutMs'], 10_000, 0),
    maxEntries,
    logger,
    hasLogger: options.logger !== undefined,
    now,
    steadyNow: options.now ?? steadyClock(),
  };
}
