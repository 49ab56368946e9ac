import { entitlementKey } from './decide';

interface CustomerKeys {
  /** The last feature asked without a resource, and its key: most calls repeat it. */
  lastFeatureId: string;
  lastKey: string;
  byFeature: Map<string, string> | undefined;
  byResource: Map<string, Map<string, string>> | undefined;
}

/**
 * Hands out the same key string for the same (customer, resource, feature), so the hot path does not
 * build and hash a new string on every call (that costs more than the cache lookup itself). Bounded
 * in total: it starts over once it holds `max` keys (ids are at most 256 characters, so < 2 KB a key).
 */
export class KeyCache {
  private readonly customers = new Map<string, CustomerKeys>();
  private keys = 0;

  constructor(private readonly max: number) {}

  /** Key strings held. */
  get size(): number {
    return this.keys;
  }

  get(customerId: string, resourceId: string | undefined | null, featureId: string): string {
    const keys = this.customers.get(customerId);
    if (resourceId === undefined || resourceId === null) {
      if (keys === undefined) {
        const key = this.made(customerId, undefined, featureId);
        this.remember(customerId, { lastFeatureId: featureId, lastKey: key, byFeature: undefined, byResource: undefined });
        return key;
      }
      if (keys.lastFeatureId === featureId) return keys.lastKey;
      keys.byFeature ??= keys.lastKey === '' ? new Map() : new Map([[keys.lastFeatureId, keys.lastKey]]);
      let key = keys.byFeature.get(featureId);
      if (key === undefined) {
        key = this.made(customerId, undefined, featureId);
        if (this.customers.get(customerId) !== keys) return key;
        keys.byFeature.set(featureId, key);
      }
      keys.lastFeatureId = featureId;
      keys.lastKey = key;
      return key;
    }
    let key = keys?.byResource?.get(resourceId)?.get(featureId);
    if (key !== undefined) return key;
    key = this.made(customerId, resourceId, featureId);
    const owner =
      this.customers.get(customerId) ??
      this.remember(customerId, { lastFeatureId: '', lastKey: '', byFeature: undefined, byResource: undefined });
    owner.byResource ??= new Map();
    let forResource = owner.byResource.get(resourceId);
    if (forResource === undefined) {
      forResource = new Map();
      owner.byResource.set(resourceId, forResource);
    }
    forResource.set(featureId, key);
    return key;
  }

  /** A new key string, counted; at the bound everything known so far is forgotten first. */
  private made(customerId: string, resourceId: string | undefined, featureId: string): string {
    if (this.keys >= this.max) {
      this.customers.clear();
      this.keys = 0;
    }
    this.keys += 1;
    return entitlementKey(customerId, resourceId, featureId);
  }

  private remember(customerId: string, keys: CustomerKeys): CustomerKeys {
    this.customers.set(customerId, keys);
    return keys;
  }
}
