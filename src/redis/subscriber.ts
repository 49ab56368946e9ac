import { noop } from '../util/maybe-promise';
import { raceTimer } from '../util/timers';
import type { Logger } from '../core';
import type { NearCache } from './near-cache';

/** The part of an ioredis connection in subscriber mode the store uses. */
export interface SubscriberLike {
  subscribe(channel: string): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ioredis's overloaded signatures only match an any[] rest parameter
  on(event: string, listener: (...args: any[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

export interface InvalidationListener {
  /** Messages may have been missed (the subscription was down): forget everything. */
  lost(): void;
  /** Subscribed: messages from now on arrive. */
  listening(): void;
  message(text: string): void;
}

/**
 * Listens on one channel for the invalidations every process publishes. ioredis reconnects and
 * subscribes again on its own; whatever was published meanwhile is lost, so the listener hears
 * `lost()` when the connection drops and `listening()` only once the channel is subscribed again.
 */
export function listenForInvalidations(
  subscriber: SubscriberLike,
  channel: string,
  listener: InvalidationListener,
  logger: Logger,
): () => Promise<void> {
  let closed = false;
  let down = false;
  const subscribe = (): void => {
    subscriber.subscribe(channel).then(
      () => {
        if (!closed) listener.listening();
      },
      (error: unknown) => {
        if (closed) return;
        listener.lost();
        logger.info?.(
          { error: error instanceof Error ? error.message : String(error) },
          'RedisStore: could not subscribe to invalidations; the near cache stays off until it can',
        );
      },
    );
  };
  subscriber.on('message', function onMessage(received: string, text: string) {
    if (received === channel) listener.message(text);
  });
  subscriber.on('close', function onClose() {
    listener.lost();
    if (closed || down) return;
    down = true;
    logger.info?.({ channel }, 'RedisStore: the invalidation subscription dropped; the near cache is off until it is back');
  });
  subscriber.on('ready', function onReady() {
    if (closed) return;
    if (down) logger.info?.({ channel }, 'RedisStore: the invalidation subscription is back');
    down = false;
    subscribe();
  });
  subscriber.on('error', function onError() {
    listener.lost();
  });
  subscribe();
  return async function stop() {
    closed = true;
    listener.lost();
    await raceTimer(subscriber.quit().catch(noop), 500, undefined);
    subscriber.disconnect();
  };
}

/** The near cache follows the invalidations: off and empty while they may be missed, emptied as told. */
export function listenForNearCache(near: NearCache, subscriber: SubscriberLike, channel: string, logger: Logger): () => Promise<void> {
  return listenForInvalidations(
    subscriber,
    channel,
    {
      lost() {
        near.enabled = false;
        near.clear();
      },
      listening() {
        near.clear();
        near.enabled = true;
      },
      message(text) {
        if (text.startsWith('c:')) near.deleteCustomer(text.slice(2));
        else near.clear();
      },
    },
    logger,
  );
}
