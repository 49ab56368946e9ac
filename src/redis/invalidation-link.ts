import type { Logger } from '../core';
import { subscriberFor, type RedisClientLike } from './connection';
import type { NearCache } from './near-cache';
import { listenForNearCache } from './subscriber';

/**
 * The store's own connection that hears invalidations for the near cache. Opened at construction;
 * on a store built on the app's client it is dropped when that client ended (so the store never keeps
 * the process alive) and opened again when the app connects the client again.
 */
export class InvalidationLink {
  private stop: (() => Promise<void>) | undefined;

  constructor(
    private readonly near: NearCache,
    private readonly client: RedisClientLike,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  /** Listens, unless already listening (a client that cannot make a second connection: the near cache stays off). */
  open(): void {
    if (this.stop !== undefined) return;
    const subscriber = subscriberFor(this.client, this.logger, this.channel);
    if (subscriber !== undefined) this.stop = listenForNearCache(this.near, subscriber, this.channel, this.logger);
  }

  /** The near cache goes off and empty at once; resolves once the connection is gone. */
  close(): Promise<void> {
    const stop = this.stop;
    this.stop = undefined;
    this.near.enabled = false;
    this.near.clear();
    return stop === undefined ? Promise.resolve() : stop();
  }
}

/**
 * Follows the app's own client (a store never closes it): `ended` on each 'end' (quit, or its
 * retryStrategy gave up: the app may connect() it again), `ready` each time it is connected again.
 * Returns the unsubscriber; a no-op for a client without events.
 */
export function followAppClient(client: RedisClientLike, on: { ended(): void; ready(): void }): () => void {
  const emitter = client as Partial<{
    on(event: string, listener: () => void): unknown;
    removeListener(event: string, listener: () => void): unknown;
  }>;
  if (typeof emitter.on !== 'function' || typeof emitter.removeListener !== 'function') return () => undefined;
  const ended = (): void => on.ended();
  const ready = (): void => on.ready();
  emitter.on('end', ended);
  emitter.on('ready', ready);
  return () => {
    emitter.removeListener?.('end', ended);
    emitter.removeListener?.('ready', ready);
  };
}
