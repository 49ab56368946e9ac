import type { Logger } from '../core';
import { RedisStoreError } from './errors';
import type { Script } from './scripts';
import type { SubscriberLike } from './subscriber';

/**
 * The part of an ioredis client (Redis or Cluster) the store uses: it runs everything as Lua.
 * `duplicate()` (ioredis has it) gives the connection that listens for invalidations.
 */
export interface RedisClientLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ioredis's overloaded signatures only match an any[] rest parameter
  duplicate?(...args: any[]): unknown;
  /** ioredis's Cluster has it set to true. */
  readonly isCluster?: boolean;
  /** ioredis's connection state ('ready', 'reconnecting', 'end', …), read by health(). */
  readonly status?: string;
}

export interface OwnedClient extends RedisClientLike {
  quit(): Promise<unknown>;
  disconnect(): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ioredis's overloaded signatures only match an any[] rest parameter
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface ConnectionEvents {
  down(error: Error): void;
  up(): void;
}

export function createClient(url: string, config: { commandTimeoutMs: number }, events: ConnectionEvents): OwnedClient {
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
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded only when a URL is given
    ioredis = require('ioredis') as typeof import('ioredis');
  } catch (error) {
    // An ES module bundle (the package's "module" build) has no require() to load an optional peer with.
    const bundled = error instanceof Error && /^Dynamic require of /.test(error.message);
    throw new Error(
      bundled
        ? 'RedisStore: in an ES module bundle a redis URL cannot load ioredis: pass a client you created, e.g. new RedisStore({ redis: new Redis(url) }).'
        : "RedisStore: a redis URL was given, so the 'ioredis' package is needed. Install it (npm install ioredis) or pass a client you created.",
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
  return client;
}

/** The client the store talks to: the app's (kept by the app), or one made from a URL (owned: the store closes it). */
export function clientFrom(
  redis: unknown,
  commandTimeoutMs: number,
  events: ConnectionEvents,
): { client: RedisClientLike; owned: OwnedClient | undefined } {
  if (typeof redis === 'string') {
    const owned = createClient(redis, { commandTimeoutMs }, events);
    return { client: owned, owned };
  }
  if (isClient(redis)) return { client: redis, owned: undefined };
  throw new TypeError(
    'RedisStore: the redis option must be an ioredis client or a redis:// URL, ' +
      "e.g. new RedisStore({ redis: new Redis() }) or new RedisStore({ redis: 'redis://127.0.0.1:6379' }).",
  );
}

export function isClient(value: unknown): value is RedisClientLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RedisClientLike).evalsha === 'function' &&
    typeof (value as RedisClientLike).eval === 'function'
  );
}

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** A second connection for pub/sub, or undefined when the client cannot make one. */
export function subscriberFor(client: RedisClientLike, logger: Logger, connectionName: string): SubscriberLike | undefined {
  if (typeof client.duplicate !== 'function') return undefined;
  try {
    // Named, so it can be told apart in CLIENT LIST; a Cluster's duplicate() takes startup nodes first.
    const subscriber = (
      client.isCluster === true ? client.duplicate([], { redisOptions: { connectionName } }) : client.duplicate({ connectionName })
    ) as SubscriberLike;
    if (typeof subscriber?.subscribe !== 'function' || typeof subscriber.on !== 'function') return undefined;
    return subscriber;
  } catch (error) {
    logger.warn(
      { error: error instanceof Error ? error.message : String(error) },
      'RedisStore: could not open the invalidation connection; the near cache stays off',
    );
    return undefined;
  }
}

/** One script call (loaded again on NOSCRIPT, which onNoScript hears of), cut at timeoutMs; every failure is a RedisStoreError. */
export function runScript(
  client: RedisClientLike,
  timeoutMs: number,
  operation: string,
  script: Script,
  keys: string[],
  args: Array<string | number>,
  onNoScript?: () => void,
): Promise<unknown> {
  let call: Promise<unknown>;
  try {
    call = client.evalsha(script.sha, keys.length, ...keys, ...args).then(undefined, function loadScript(error: unknown) {
      if (!isNoScript(error)) throw error;
      onNoScript?.();
      return client.eval(script.source, keys.length, ...keys, ...args);
    });
  } catch (error) {
    call = Promise.reject(error instanceof Error ? error : new Error(String(error)));
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
