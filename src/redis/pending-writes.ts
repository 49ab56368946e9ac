import { noop } from '../util/maybe-promise';

/**
 * Cache writes on their way to Redis, by key and by customer. Commands leave in order, but one answered
 * NOSCRIPT (Redis restarted or flushed its scripts) is sent again later: a reserve waits for the write
 * of the entry it needs, and an invalidation for the customer's writes, so neither overtakes them.
 */
export class PendingWrites {
  private readonly byKey = new Map<string, Promise<unknown>>();
  private readonly byCustomer = new Map<string, Set<Promise<unknown>>>();

  /** Resolves (or rejects) with `written`, which is tracked until then. */
  async track(key: string, customerId: string, written: Promise<unknown>): Promise<void> {
    const { byKey, byCustomer } = this;
    byKey.set(key, written);
    let ofCustomer = byCustomer.get(customerId);
    if (ofCustomer === undefined) byCustomer.set(customerId, (ofCustomer = new Set()));
    ofCustomer.add(written);
    try {
      await written;
    } finally {
      if (byKey.get(key) === written) byKey.delete(key);
      ofCustomer.delete(written);
      if (ofCustomer.size === 0 && byCustomer.get(customerId) === ofCustomer) byCustomer.delete(customerId);
    }
  }

  /** Settles once the last write of `key` called so far has (whether it failed or not). */
  ofKey(key: string): Promise<unknown> | undefined {
    return this.byKey.get(key)?.catch(noop);
  }

  /** Settles once every write of `customerId` on its way has. */
  ofCustomer(customerId: string): Promise<unknown> | undefined {
    const writing = this.byCustomer.get(customerId);
    return writing === undefined ? undefined : Promise.all([...writing].map((written) => written.catch(noop)));
  }
}
